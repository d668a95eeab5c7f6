/* Unit tests: the shared in-flight table -- leaders, joiners, bounds, and
 * many threads joining and taking at once (run under TSan by tools/test). */
#include "rootwalk/err.h"
#include "rootwalk/flight.h"
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

struct waiter {
	struct rw_flight_waiter link;
	int id;
};

static struct rw_question question(const char *name, uint16_t type, unsigned group)
{
	struct rw_question q = {
	    .route = RW_ROUTE_FORWARD, .group = group, .qtype = type, .qclass = 1};
	q.qname_len = tu_name(name, q.qname);
	return q;
}

START_TEST(leader_and_joiners)
{
	struct rw_flight *f = rw_flight_new(100, 10);
	struct rw_question a = question("a.test.", 1, 0), a6 = question("a.test.", 28, 0),
	                   ag = question("a.test.", 1, 1);
	struct waiter w[5] = {{.id = 0}, {.id = 1}, {.id = 2}, {.id = 3}, {.id = 4}};
	enum rw_flight_role leader;
	ck_assert_int_eq(rw_flight_join(f, &a, &w[0].link, &leader), 0);
	ck_assert(leader == RW_FLIGHT_LEAD);
	ck_assert_int_eq(rw_flight_join(f, &a, &w[1].link, &leader), 0);
	ck_assert(leader == RW_FLIGHT_WAIT);
	ck_assert_int_eq(rw_flight_join(f, &a, &w[2].link, &leader), 0);
	ck_assert(leader == RW_FLIGHT_WAIT);
	/* another type or another upstream group is another question */
	ck_assert_int_eq(rw_flight_join(f, &a6, &w[3].link, &leader), 0);
	ck_assert(leader == RW_FLIGHT_LEAD);
	ck_assert_int_eq(rw_flight_join(f, &ag, &w[4].link, &leader), 0);
	ck_assert(leader == RW_FLIGHT_LEAD);
	ck_assert_uint_eq(rw_flight_count(f), 3);
	/* take returns the waiters in arrival order and ends the entry */
	struct rw_flight_waiter *l = rw_flight_take(f, &a);
	int ids[3], n = 0;
	for (; l != NULL; l = l->next)
		ids[n++] = ((struct waiter *)l)->id;
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(ids[0], 0);
	ck_assert_int_eq(ids[2], 2);
	ck_assert_ptr_null(rw_flight_take(f, &a));
	/* the next asker leads a new query */
	ck_assert_int_eq(rw_flight_join(f, &a, &w[0].link, &leader), 0);
	ck_assert(leader == RW_FLIGHT_LEAD);
	ck_assert_ptr_nonnull(rw_flight_take(f, &a));
	ck_assert_ptr_nonnull(rw_flight_take(f, &a6));
	ck_assert_ptr_nonnull(rw_flight_take(f, &ag));
	ck_assert_uint_eq(rw_flight_count(f), 0);
	rw_flight_free(f);
}
END_TEST

/* RFC 8767's client-response timer: the waiters so far are handed back
 * (to be answered from stale data), the entry stays, marked late, so that
 * later askers are answered at once and nobody starts a second refresh;
 * take ends it as usual. */
START_TEST(late_entry)
{
	struct rw_flight *f = rw_flight_new(100, 10);
	struct rw_question a = question("a.test.", 1, 0);
	struct waiter w[4] = {{.id = 0}, {.id = 1}, {.id = 2}, {.id = 3}};
	enum rw_flight_role role;
	ck_assert_int_eq(rw_flight_join(f, &a, &w[0].link, &role), 0);
	ck_assert_int_eq(role, RW_FLIGHT_LEAD);
	ck_assert_int_eq(rw_flight_join(f, &a, &w[1].link, &role), 0);
	ck_assert_int_eq(role, RW_FLIGHT_WAIT);
	struct rw_flight_waiter *l = rw_flight_late(f, &a);
	ck_assert_ptr_eq(l, &w[0].link);
	ck_assert_ptr_eq(l->next, &w[1].link);
	ck_assert_ptr_null(l->next->next);
	ck_assert(rw_flight_busy(f, &a)); /* a refresh on its way */
	ck_assert_int_eq(rw_flight_join(f, &a, &w[2].link, &role), 0);
	ck_assert_int_eq(role, RW_FLIGHT_LATE); /* not linked */
	ck_assert_uint_eq(rw_flight_count(f), 1);
	ck_assert_ptr_null(rw_flight_take(f, &a)); /* nobody waits any more */
	ck_assert_uint_eq(rw_flight_count(f), 0);
	ck_assert_int_eq(rw_flight_join(f, &a, &w[3].link, &role), 0);
	ck_assert_int_eq(role, RW_FLIGHT_LEAD); /* a new entry */
	struct rw_question b = question("b.test.", 1, 0);
	ck_assert_ptr_null(rw_flight_late(f, &b));
	ck_assert(!rw_flight_busy(f, &b));
	ck_assert_ptr_nonnull(rw_flight_take(f, &a));
	rw_flight_free(f);
}
END_TEST

START_TEST(bounds)
{
	struct rw_flight *f = rw_flight_new(2, 2);
	struct rw_question a = question("a.test.", 1, 0), b = question("b.test.", 1, 0),
	                   c = question("c.test.", 1, 0);
	struct waiter w[5];
	enum rw_flight_role leader;
	ck_assert_int_eq(rw_flight_join(f, &a, &w[0].link, &leader), 0);
	ck_assert_int_eq(rw_flight_join(f, &a, &w[1].link, &leader), 0);
	ck_assert_int_eq(rw_flight_join(f, &a, &w[2].link, &leader), RW_ELIMIT);
	ck_assert_int_eq(rw_flight_join(f, &b, &w[3].link, &leader), 0);
	ck_assert_int_eq(rw_flight_join(f, &c, &w[4].link, &leader), RW_ELIMIT);
	ck_assert_uint_eq(rw_flight_count(f), 2);
	/* a refused waiter was not linked */
	int n = 0;
	for (struct rw_flight_waiter *l = rw_flight_take(f, &a); l != NULL; l = l->next)
		n++;
	ck_assert_int_eq(n, 2);
	rw_flight_take(f, &b);
	rw_flight_free(f);
}
END_TEST

/* Threads join a few questions at random; one leader per entry takes it.
 * Every waiter must come back exactly once. */
#define THREADS 4
#define ROUNDS 20000
static struct rw_flight *shared;
static struct waiter pool[THREADS][ROUNDS];
static int seen[THREADS][ROUNDS];

static void *racer(void *arg)
{
	int t = (int)(intptr_t)arg;
	char name[32];
	for (int i = 0; i < ROUNDS; i++) {
		snprintf(name, sizeof name, "n%d.test.", (i * 7 + t) % 5);
		struct rw_question q = question(name, 1, 0);
		pool[t][i].id = t * ROUNDS + i;
		enum rw_flight_role leader;
		if (rw_flight_join(shared, &q, &pool[t][i].link, &leader) != 0)
			abort(); /* Check's asserts are for the main thread */
		if (leader == RW_FLIGHT_LEAD && (i % 3) != 0) {
			for (struct rw_flight_waiter *l = rw_flight_take(shared, &q); l != NULL;) {
				struct rw_flight_waiter *next = l->next;
				int id = ((struct waiter *)l)->id;
				__atomic_add_fetch(&seen[id / ROUNDS][id % ROUNDS], 1,
				                   __ATOMIC_RELAXED);
				l = next;
			}
		}
	}
	return NULL;
}

START_TEST(threads)
{
	shared = rw_flight_new(1000, 1000000);
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, racer, (void *)(intptr_t)t);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (int k = 0; k < 5; k++) {
		char name[32];
		snprintf(name, sizeof name, "n%d.test.", k);
		struct rw_question q = question(name, 1, 0);
		for (struct rw_flight_waiter *l = rw_flight_take(shared, &q); l != NULL;
		     l = l->next) {
			int id = ((struct waiter *)l)->id;
			seen[id / ROUNDS][id % ROUNDS]++;
		}
	}
	for (int t = 0; t < THREADS; t++)
		for (int i = 0; i < ROUNDS; i++)
			ck_assert_int_eq(seen[t][i], 1);
	ck_assert_uint_eq(rw_flight_count(shared), 0);
	rw_flight_free(shared);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("flight");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, leader_and_joiners);
	tcase_add_test(tc, bounds);
	tcase_add_test(tc, late_entry);
	tcase_add_test(tc, threads);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
