/* dnstap (src/daemon/dnstap.c): the protobuf encoding, decoded here field
 * by field against dnstap.proto's numbers, and the Frame Streams file
 * writer, read back with libfstrm's reader. */
#include "../../src/daemon/dnstap.h"

#include <arpa/inet.h>
#include <check.h>
#include <fstrm.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A protobuf field as read: number, wire type, value or bytes. */
struct field {
	unsigned num, wire;
	uint64_t v;
	const uint8_t *p;
	size_t len;
};

static size_t varint(const uint8_t *p, size_t n, uint64_t *v)
{
	*v = 0;
	for (size_t i = 0; i < n && i < 10; i++) {
		*v |= (uint64_t)(p[i] & 0x7F) << (7 * i);
		if (!(p[i] & 0x80))
			return i + 1;
	}
	return 0;
}

/* Reads every field of a message; returns how many (at most max), or -1
 * on a malformed one. */
static int fields(const uint8_t *p, size_t n, struct field *f, int max)
{
	int k = 0;
	size_t pos = 0;
	while (pos < n && k < max) {
		uint64_t key;
		size_t l = varint(p + pos, n - pos, &key);
		if (l == 0)
			return -1;
		pos += l;
		f[k] = (struct field){(unsigned)(key >> 3), (unsigned)(key & 7), 0, NULL, 0};
		if (f[k].wire == 0) {
			l = varint(p + pos, n - pos, &f[k].v);
			if (l == 0)
				return -1;
			pos += l;
		} else if (f[k].wire == 2) {
			uint64_t len;
			l = varint(p + pos, n - pos, &len);
			if (l == 0 || len > n - pos - l)
				return -1;
			f[k].p = p + pos + l;
			f[k].len = (size_t)len;
			pos += l + (size_t)len;
		} else if (f[k].wire == 5) {
			if (n - pos < 4)
				return -1;
			f[k].v = (uint64_t)p[pos] | (uint64_t)p[pos + 1] << 8 |
			         (uint64_t)p[pos + 2] << 16 | (uint64_t)p[pos + 3] << 24;
			pos += 4;
		} else {
			return -1;
		}
		k++;
	}
	return pos == n ? k : -1;
}

static const struct field *get(const struct field *f, int n, unsigned num)
{
	for (int i = 0; i < n; i++)
		if (f[i].num == num)
			return &f[i];
	return NULL;
}

static const uint8_t query[] = {0x12, 0x34, 1,   0,   0,   1, 0, 0, 0, 0, 0,
                                0,    3,    'w', 'w', 'w', 0, 0, 1, 0, 1};

START_TEST(encode_client_and_forwarder)
{
	struct sockaddr_in c = {.sin_family = AF_INET, .sin_port = htons(5353)};
	inet_pton(AF_INET, "192.0.2.7", &c.sin_addr);
	struct rw_dnstap_event ev = {.type = RW_DNSTAP_CLIENT_QUERY,
	                             .tcp = true,
	                             .peer = (const struct sockaddr *)&c,
	                             .msg = query,
	                             .len = sizeof query,
	                             .now = {1796083200, 123456789}};
	uint8_t out[1024];
	size_t n = rw_dnstap_encode(&ev, "dns-7", "rootwalk 1", out, sizeof out);
	ck_assert_uint_gt(n, 0);
	struct field top[8], m[20];
	int nt = fields(out, n, top, 8);
	ck_assert_int_eq(nt, 4);
	ck_assert_mem_eq(get(top, nt, 1)->p, "dns-7", 5);       /* identity */
	ck_assert_mem_eq(get(top, nt, 2)->p, "rootwalk 1", 10); /* version */
	ck_assert_uint_eq(get(top, nt, 15)->v, 1);              /* type MESSAGE */
	const struct field *msg = get(top, nt, 14);
	int nm = fields(msg->p, msg->len, m, 20);
	ck_assert_int_gt(nm, 0);
	ck_assert_uint_eq(get(m, nm, 1)->v, 5); /* CLIENT_QUERY */
	ck_assert_uint_eq(get(m, nm, 2)->v, 1); /* INET */
	ck_assert_uint_eq(get(m, nm, 3)->v, 2); /* TCP */
	ck_assert_uint_eq(get(m, nm, 4)->len, 4);
	ck_assert_mem_eq(get(m, nm, 4)->p, &c.sin_addr, 4); /* query_address: the client */
	ck_assert_uint_eq(get(m, nm, 6)->v, 5353);
	ck_assert_uint_eq(get(m, nm, 8)->v, 1796083200);
	ck_assert_uint_eq(get(m, nm, 9)->v, 123456789);
	ck_assert_uint_eq(get(m, nm, 10)->len, sizeof query);
	ck_assert_mem_eq(get(m, nm, 10)->p, query, sizeof query);
	ck_assert_ptr_null(get(m, nm, 14)); /* no response message */

	/* A forwarder's reply: the server is the responder; the query time
	 * given; the message is the response. */
	struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(53)};
	inet_pton(AF_INET6, "2001:db8::53", &s.sin6_addr);
	struct timespec qt = {1796083199, 5};
	static const uint8_t zone[] = {3, 'c', 'o', 'm', 0};
	ev = (struct rw_dnstap_event){.type = RW_DNSTAP_FORWARDER_RESPONSE,
	                              .peer = (const struct sockaddr *)&s,
	                              .msg = query,
	                              .len = sizeof query,
	                              .zone = zone,
	                              .query_time = &qt,
	                              .now = {1796083200, 7}};
	n = rw_dnstap_encode(&ev, NULL, NULL, out, sizeof out);
	nt = fields(out, n, top, 8);
	ck_assert_int_eq(nt, 2); /* message and type: no identity, no version */
	msg = get(top, nt, 14);
	nm = fields(msg->p, msg->len, m, 20);
	ck_assert_uint_eq(get(m, nm, 1)->v, 8);               /* FORWARDER_RESPONSE */
	ck_assert_uint_eq(get(m, nm, 2)->v, 2);               /* INET6 */
	ck_assert_uint_eq(get(m, nm, 3)->v, 1);               /* UDP */
	ck_assert_mem_eq(get(m, nm, 5)->p, &s.sin6_addr, 16); /* response_address */
	ck_assert_uint_eq(get(m, nm, 7)->v, 53);
	ck_assert_uint_eq(get(m, nm, 8)->v, 1796083199);
	ck_assert_uint_eq(get(m, nm, 9)->v, 5);
	ck_assert_mem_eq(get(m, nm, 11)->p, zone, sizeof zone);
	ck_assert_uint_eq(get(m, nm, 12)->v, 1796083200);
	ck_assert_uint_eq(get(m, nm, 13)->v, 7);
	ck_assert_mem_eq(get(m, nm, 14)->p, query, sizeof query);
	ck_assert_ptr_null(get(m, nm, 10));
	/* Too small a buffer: 0, never an overrun. */
	for (size_t cap = 0; cap < n; cap++)
		ck_assert_uint_eq(rw_dnstap_encode(&ev, NULL, NULL, out, cap), 0);
	/* A 64 KiB message fits in len + 768 (a 3-byte length). */
	uint8_t *big = calloc(1, 65535 + 768), *bigmsg = calloc(1, 65535);
	ev.msg = bigmsg;
	ev.len = 65535;
	ck_assert_uint_gt(rw_dnstap_encode(&ev, "x", "y", big, 65535 + 768), 65535);
	free(big);
	free(bigmsg);
}
END_TEST

START_TEST(file_writer_round_trip)
{
	char path[] = "/tmp/rw-dnstap-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	struct rw_dnstap *d = NULL;
	char err[256];
	ck_assert_int_eq(rw_dnstap_open(NULL, path, 2, "id", "v", &d, err, sizeof err), 0);
	struct sockaddr_in c = {.sin_family = AF_INET, .sin_port = htons(1)};
	for (unsigned i = 0; i < 6; i++) {
		struct rw_dnstap_event ev = {.type = RW_DNSTAP_CLIENT_QUERY,
		                             .peer = (const struct sockaddr *)&c,
		                             .msg = query,
		                             .len = sizeof query};
		rw_dnstap_log(rw_dnstap_queue(d, i % 2), &ev);
	}
	ck_assert_ptr_null(rw_dnstap_queue(d, 2));
	uint64_t sent, dropped;
	rw_dnstap_counts(d, &sent, &dropped);
	ck_assert_uint_eq(sent, 6);
	ck_assert_uint_eq(dropped, 0);
	rw_dnstap_close(d); /* flushes */
	struct fstrm_file_options *fo = fstrm_file_options_init();
	fstrm_file_options_set_file_path(fo, path);
	struct fstrm_reader *r = fstrm_file_reader_init(fo, NULL);
	fstrm_file_options_destroy(&fo);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(fstrm_reader_open(r), fstrm_res_success);
	const uint8_t *data;
	size_t len;
	unsigned frames = 0;
	while (fstrm_reader_read(r, &data, &len) == fstrm_res_success) {
		struct field top[8];
		int nt = fields(data, len, top, 8);
		ck_assert_int_eq(nt, 4);
		ck_assert_mem_eq(get(top, nt, 1)->p, "id", 2);
		frames++;
	}
	ck_assert_uint_eq(frames, 6);
	fstrm_reader_destroy(&r);
	unlink(path);
	/* Nowhere to write: an error naming it, at once. */
	d = NULL;
	ck_assert_int_ne(
	    rw_dnstap_open(NULL, "/nonexistent/dir/x", 1, NULL, NULL, &d, err, sizeof err), 0);
	ck_assert_ptr_null(d);
	ck_assert_msg(strstr(err, "/nonexistent/dir/x") != NULL &&
	                  strstr(err, "No such file") != NULL,
	              "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dnstap");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, encode_client_and_forwarder);
	tcase_add_test(tc, file_writer_round_trip);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
