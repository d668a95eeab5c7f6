/* The immutable zone store: building a zone from collected records, lookups
 * with wildcards and empty non-terminals, and zone sets. Parsing master
 * files is zonefile.c's job. See include/zone/rootwalk/zone.h. */
#include "rootwalk/zone.h"
#include "rootwalk/err.h"
#include "rootwalk/rr.h"
#include "zone_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rw_znode {
	struct rw_znode *next; /* hash chain */
	uint32_t hash;
	uint16_t nrrsets;
	const struct rw_rrset **rrsets;
	uint8_t name[]; /* lower-cased wire name */
};

struct rw_zone {
	struct rw_arena mem; /* nodes and RRsets */
	struct rw_znode **buckets;
	size_t nbuckets; /* power of two */
	size_t nnodes;
	size_t nrecords;
	const struct rw_znode *apex;
	const struct rw_rrset *soa;
	size_t origin_len;
	bool builtin; /* a compiled-in locally served zone: a default, not a wall */
	uint8_t origin[RW_NAME_MAX];
};

void rw_zone_set_builtin(struct rw_zone *z)
{
	z->builtin = true;
}

bool rw_zone_is_builtin(const struct rw_zone *z)
{
	return z->builtin;
}

bool rw_rrset_next(const struct rw_rrset *s, size_t *pos, const uint8_t **rd, uint16_t *rdlen)
{
	if (*pos + 2 > s->data_len)
		return false;
	*rdlen = rw_get16(s->data + *pos);
	*rd = s->data + *pos + 2;
	*pos += 2 + (size_t)*rdlen;
	return true;
}

/* --- collecting ---------------------------------------------------------- */

void rw__zcollect_init(struct rw__zcollect *c, const uint8_t *origin)
{
	rw_arena_init(&c->mem, 64 * 1024, SIZE_MAX);
	c->recs = NULL;
	c->n = c->cap = 0;
	rw_name_lower(c->origin, origin, rw_name_len(origin));
}

void rw__zcollect_fini(struct rw__zcollect *c)
{
	rw_arena_fini(&c->mem);
	free(c->recs);
	c->recs = NULL;
}

int rw__zcollect_add(struct rw__zcollect *c, const uint8_t *owner, uint16_t type, uint32_t ttl,
                     const uint8_t *rdata, size_t rdlen, const char *file, unsigned line)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct rw__zrec *r = realloc(c->recs, cap * sizeof *r);
		if (r == NULL)
			return RW_ENOMEM;
		c->recs = r;
		c->cap = cap;
	}
	size_t ol = rw_name_len(owner);
	uint8_t *o = rw_arena_alloc(&c->mem, ol);
	const uint8_t *rd = rw_arena_dup(&c->mem, rdata, rdlen);
	if (o == NULL || (rd == NULL && rdlen > 0))
		return RW_ENOMEM;
	rw_name_lower(o, owner, ol);
	c->recs[c->n++] = (struct rw__zrec){o, rd, file, line, ttl, type, (uint16_t)rdlen};
	return 0;
}

/* --- building ------------------------------------------------------------ */

static int name_cmp(const uint8_t *a, const uint8_t *b)
{
	size_t al = rw_name_len(a), bl = rw_name_len(b);
	int c = memcmp(a, b, al < bl ? al : bl);
	return c != 0 ? c : (al > bl) - (al < bl);
}

static int rec_cmp(const void *pa, const void *pb)
{
	const struct rw__zrec *a = pa, *b = pb;
	int c = name_cmp(a->owner, b->owner);
	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->rdlen != b->rdlen)
		return a->rdlen < b->rdlen ? -1 : 1;
	c = memcmp(a->rdata, b->rdata, a->rdlen);
	if (c != 0)
		return c;
	return (a->line > b->line) - (a->line < b->line); /* stable by line */
}

static struct rw_znode *table_get(const struct rw_zone *z, const uint8_t *lname, uint32_t h)
{
	for (struct rw_znode *n = z->buckets[h & (z->nbuckets - 1)]; n != NULL; n = n->next)
		if (n->hash == h && name_cmp(n->name, lname) == 0)
			return n;
	return NULL;
}

static int table_grow(struct rw_zone *z)
{
	size_t nb = z->nbuckets ? z->nbuckets * 2 : 64;
	struct rw_znode **b = calloc(nb, sizeof *b);
	if (b == NULL)
		return RW_ENOMEM;
	for (size_t i = 0; i < z->nbuckets; i++) {
		struct rw_znode *n = z->buckets[i];
		while (n != NULL) {
			struct rw_znode *next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
			n = next;
		}
	}
	free(z->buckets);
	z->buckets = b;
	z->nbuckets = nb;
	return 0;
}

static struct rw_znode *node_add(struct rw_zone *z, const uint8_t *lname)
{
	if (z->nnodes + 1 > z->nbuckets / 2 && table_grow(z) != 0)
		return NULL;
	size_t nl = rw_name_len(lname);
	struct rw_znode *n = rw_arena_alloc(&z->mem, sizeof *n + nl);
	if (n == NULL)
		return NULL;
	memcpy(n->name, lname, nl);
	n->hash = rw_name_hash(lname);
	n->nrrsets = 0;
	n->rrsets = NULL;
	n->next = z->buckets[n->hash & (z->nbuckets - 1)];
	z->buckets[n->hash & (z->nbuckets - 1)] = n;
	z->nnodes++;
	return n;
}

static int fail(struct rw_zone_error *err, const struct rw__zrec *r, const char *msg)
{
	snprintf(err->file, sizeof err->file, "%s", r ? r->file : "");
	err->line = r ? r->line : 0;
	snprintf(err->msg, sizeof err->msg, "%s", msg);
	return RW_EMALFORMED;
}

void rw_zone_free(struct rw_zone *z)
{
	if (z == NULL)
		return;
	rw_arena_fini(&z->mem);
	free(z->buckets);
	free(z);
}

/* Adds the node for records [i, j) (one owner, sorted by type) and its
 * RRsets to z. Returns 0, RW_ENOMEM, or RW_EMALFORMED with err set. */
static int build_node(struct rw_zone *z, struct rw__zcollect *c, size_t i, size_t j,
                      struct rw_zone_error *err)
{
	unsigned ntypes = 0, dnssec = 0;
	for (size_t k = i; k < j; k++)
		if (k == i || c->recs[k].type != c->recs[k - 1].type) {
			ntypes++;
			/* RRSIG and NSEC may sit beside a CNAME (RFC 4035 §2.5) */
			dnssec +=
			    c->recs[k].type == RW_TYPE_RRSIG || c->recs[k].type == RW_TYPE_NSEC;
		}
	struct rw_znode *node = node_add(z, c->recs[i].owner);
	const struct rw_rrset **sets = node ? rw_arena_alloc(&z->mem, ntypes * sizeof *sets) : NULL;
	if (sets == NULL)
		return RW_ENOMEM;
	node->rrsets = sets;
	size_t cname_rec = 0;
	bool has_cname = false;
	for (size_t k = i; k < j;) {
		/* One RRset: records [k, l) share a type. Duplicates are
		 * dropped (RFC 2181 §5); differing TTLs take the lowest
		 * (RFC 2181 §5.2). */
		size_t l = k, bytes = 0, count = 0;
		uint32_t ttl = c->recs[k].ttl;
		while (l < j && c->recs[l].type == c->recs[k].type) {
			bool dup =
			    l > k && c->recs[l].rdlen == c->recs[l - 1].rdlen &&
			    memcmp(c->recs[l].rdata, c->recs[l - 1].rdata, c->recs[l].rdlen) == 0;
			if (!dup) {
				bytes += 2 + (size_t)c->recs[l].rdlen;
				count++;
			}
			if (c->recs[l].ttl < ttl)
				ttl = c->recs[l].ttl;
			l++;
		}
		uint16_t type = c->recs[k].type;
		if (count > 65535)
			return fail(err, &c->recs[k], "more than 65535 records in one RRset");
		if (type == RW_TYPE_CNAME && count > 1)
			return fail(err, &c->recs[k + 1], "more than one CNAME at a name");
		if (type == RW_TYPE_SOA && (count > 1 || !rw_name_eq(node->name, z->origin)))
			return fail(err, &c->recs[k],
			            count > 1 ? "more than one SOA record"
			                      : "SOA record not at the zone apex");
		if (type == RW_TYPE_CNAME) {
			has_cname = true;
			cname_rec = k;
		}
		struct rw_rrset *s = rw_arena_alloc(&z->mem, sizeof *s + bytes);
		if (s == NULL)
			return RW_ENOMEM;
		s->type = type;
		s->ttl = ttl;
		s->count = (uint16_t)count;
		s->data_len = (uint32_t)bytes;
		size_t pos = 0;
		for (size_t m = k; m < l; m++) {
			if (m > k && c->recs[m].rdlen == c->recs[m - 1].rdlen &&
			    memcmp(c->recs[m].rdata, c->recs[m - 1].rdata, c->recs[m].rdlen) == 0)
				continue;
			rw_put16(s->data + pos, c->recs[m].rdlen);
			memcpy(s->data + pos + 2, c->recs[m].rdata, c->recs[m].rdlen);
			pos += 2 + (size_t)c->recs[m].rdlen;
		}
		sets[node->nrrsets++] = s;
		z->nrecords += count;
		if (type == RW_TYPE_SOA)
			z->soa = s;
		k = l;
	}
	if (has_cname && ntypes - dnssec > 1) /* RFC 1034 §3.6.2; RFC 2181 §10.1 */
		return fail(err, &c->recs[cname_rec], "CNAME and other data at the same name");
	return 0;
}

/* Empty non-terminals: every ancestor between a name and the apex is a
 * node (RFC 4592 §2.2.2), so lookups never mistake them for NXDOMAIN.
 * Nodes live in the arena, so rehashing in node_add does not move them.
 * Bound: 127 labels per name. */
static int add_empty_nonterminals(struct rw_zone *z)
{
	struct rw_znode **data_nodes = malloc((z->nnodes ? z->nnodes : 1) * sizeof *data_nodes);
	if (data_nodes == NULL)
		return RW_ENOMEM;
	size_t ndata = 0;
	for (size_t b = 0; b < z->nbuckets; b++)
		for (struct rw_znode *n = z->buckets[b]; n != NULL; n = n->next)
			data_nodes[ndata++] = n;
	int e = 0;
	for (size_t k = 0; k < ndata && e == 0; k++) {
		const uint8_t *p = data_nodes[k]->name;
		while (name_cmp(p, z->origin) != 0 && (p = rw_name_parent(p)) != NULL) {
			if (table_get(z, p, rw_name_hash(p)) != NULL)
				break; /* that node's own ancestors are covered */
			if (node_add(z, p) == NULL) {
				e = RW_ENOMEM;
				break;
			}
		}
	}
	free(data_nodes);
	return e;
}

int rw__zone_build(struct rw__zcollect *c, struct rw_zone **out, struct rw_zone_error *err)
{
	*out = NULL;
	for (size_t i = 0; i < c->n; i++) {
		if (!rw_name_is_under(c->recs[i].owner, c->origin))
			return fail(err, &c->recs[i], "owner name is outside the zone's origin");
	}
	/* An empty file has no records (and recs may be NULL): qsort must not
	 * see it (C17 7.22.5: the pointer must be valid even for 0). */
	if (c->n > 1)
		qsort(c->recs, c->n, sizeof *c->recs, rec_cmp);

	struct rw_zone *z = calloc(1, sizeof *z);
	if (z == NULL)
		return RW_ENOMEM;
	rw_arena_init(&z->mem, 64 * 1024, SIZE_MAX);
	z->origin_len = rw_name_len(c->origin);
	memcpy(z->origin, c->origin, z->origin_len);
	int e = 0;
	/* One node per run of records with one owner. */
	for (size_t i = 0, j; i < c->n && e == 0; i = j) {
		for (j = i; j < c->n && name_cmp(c->recs[j].owner, c->recs[i].owner) == 0;)
			j++;
		e = build_node(z, c, i, j, err);
	}
	if (e == 0 && z->soa == NULL) {
		e = fail(err, NULL, "zone has no SOA record at its apex");
		if (c->n > 0)
			snprintf(err->file, sizeof err->file, "%s", c->recs[0].file);
	}
	if (e == 0)
		e = add_empty_nonterminals(z);
	if (e != 0) {
		rw_zone_free(z);
		return e;
	}
	z->apex = table_get(z, z->origin, rw_name_hash(z->origin));
	*out = z;
	return 0;
}

/* --- lookups -------------------------------------------------------------- */

const uint8_t *rw_zone_origin(const struct rw_zone *z)
{
	return z->origin;
}
const struct rw_rrset *rw_zone_soa(const struct rw_zone *z)
{
	return z->soa;
}
size_t rw_zone_record_count(const struct rw_zone *z)
{
	return z->nrecords;
}

enum rw_zone_match rw_zone_lookup(const struct rw_zone *z, const uint8_t *lname,
                                  const struct rw_znode **node)
{
	const struct rw_znode *n = table_get(z, lname, rw_name_hash(lname));
	if (n != NULL) {
		*node = n;
		return RW_ZONE_FOUND;
	}
	/* Closest encloser: the longest existing ancestor (the apex at worst).
	 * Bound: the name's label count. */
	const uint8_t *p = lname;
	const struct rw_znode *ce = NULL;
	while ((p = rw_name_parent(p)) != NULL) {
		ce = table_get(z, p, rw_name_hash(p));
		if (ce != NULL)
			break;
	}
	if (ce == NULL)
		return RW_ZONE_NXDOMAIN;
	/* Source of synthesis: "*." + closest encloser (RFC 4592 §3.3.1). */
	uint8_t wc[RW_NAME_MAX];
	size_t cl = rw_name_len(ce->name);
	if (cl + 2 > RW_NAME_MAX)
		return RW_ZONE_NXDOMAIN;
	wc[0] = 1;
	wc[1] = '*';
	memcpy(wc + 2, ce->name, cl);
	n = table_get(z, wc, rw_name_hash(wc));
	if (n == NULL)
		return RW_ZONE_NXDOMAIN;
	*node = n;
	return RW_ZONE_WILDCARD;
}

const struct rw_rrset *rw_znode_rrset(const struct rw_znode *n, uint16_t type)
{
	for (unsigned i = 0; i < n->nrrsets; i++)
		if (n->rrsets[i]->type == type)
			return n->rrsets[i];
	return NULL;
}

unsigned rw_znode_rrset_count(const struct rw_znode *n)
{
	return n->nrrsets;
}

const struct rw_rrset *rw_znode_rrset_at(const struct rw_znode *n, unsigned i)
{
	return i < n->nrrsets ? n->rrsets[i] : NULL;
}

/* --- zone sets ------------------------------------------------------------ */

#define ZONESET_TLDS 16

struct rw_zoneset {
	_Atomic unsigned refs;
	struct rw_zone **zones;
	size_t n, cap;
	/* A filter for rw_zoneset_find: the distinct last labels of the
	 * origins (most names asked are under none of them), and the root
	 * zone if one is loaded. Rebuilt on every add. */
	uint8_t tld[ZONESET_TLDS][64];
	size_t ntld;
	bool tld_all; /* too many distinct TLDs: no filtering */
	const struct rw_zone *root;
	/* Names a built-in zone does not answer for (forward zones at or
	 * below it): lower-case wire names, usually none. */
	uint8_t (*yield)[RW_NAME_MAX];
	size_t nyield;
	uint64_t source_hash; /* of the files it was built from (zoneload) */
};

static const uint8_t *last_label(const uint8_t *name)
{
	const uint8_t *last = name;
	while (*name != 0) {
		last = name;
		name += *name + 1;
	}
	return last;
}

static void zoneset_index(struct rw_zoneset *zs)
{
	zs->ntld = 0;
	zs->tld_all = false;
	zs->root = NULL;
	for (size_t i = 0; i < zs->n; i++) {
		const uint8_t *o = zs->zones[i]->origin;
		if (o[0] == 0) {
			zs->root = zs->zones[i];
			continue;
		}
		const uint8_t *t = last_label(o);
		size_t k = 0;
		while (k < zs->ntld && memcmp(zs->tld[k], t, (size_t)t[0] + 1) != 0)
			k++;
		if (k < zs->ntld)
			continue;
		if (zs->ntld == ZONESET_TLDS) {
			zs->tld_all = true;
			continue;
		}
		memcpy(zs->tld[zs->ntld++], t, (size_t)t[0] + 1);
	}
}

struct rw_zoneset *rw_zoneset_new(void)
{
	struct rw_zoneset *zs = calloc(1, sizeof *zs);
	if (zs != NULL)
		atomic_init(&zs->refs, 1);
	return zs;
}

int rw_zoneset_add(struct rw_zoneset *zs, struct rw_zone *z)
{
	for (size_t i = 0; i < zs->n; i++) {
		if (name_cmp(zs->zones[i]->origin, z->origin) == 0) {
			rw_zone_free(zs->zones[i]);
			zs->zones[i] = z;
			zoneset_index(zs);
			return 0;
		}
	}
	if (zs->n == zs->cap) {
		size_t cap = zs->cap ? zs->cap * 2 : 8;
		struct rw_zone **p = realloc(zs->zones, cap * sizeof *p);
		if (p == NULL) {
			rw_zone_free(z);
			return RW_ENOMEM;
		}
		zs->zones = p;
		zs->cap = cap;
	}
	zs->zones[zs->n++] = z;
	zoneset_index(zs);
	return 0;
}

const struct rw_zone *rw_zoneset_find(const struct rw_zoneset *zs, const uint8_t *lname)
{
	/* Longest origin wins. Zone sets hold tens of zones, so one pass
	 * over them, each a length check and a memcmp against the suffix at
	 * a label boundary, beats hashing every suffix of the name. */
	if (!zs->tld_all && lname[0] != 0) {
		const uint8_t *t = last_label(lname);
		size_t k = 0;
		while (k < zs->ntld && memcmp(zs->tld[k], t, (size_t)t[0] + 1) != 0)
			k++;
		if (k == zs->ntld)
			return zs->root; /* under no origin but perhaps the root */
	}
	size_t suffix_at[RW_NAME_MAX + 1]; /* by suffix length: its offset */
	bool boundary[RW_NAME_MAX + 1] = {false};
	size_t nl = rw_name_len(lname);
	for (size_t off = 0;; off += (size_t)lname[off] + 1) {
		boundary[nl - off] = true;
		suffix_at[nl - off] = off;
		if (lname[off] == 0)
			break;
	}
	const struct rw_zone *best = NULL;
	for (size_t i = 0; i < zs->n; i++) {
		const struct rw_zone *z = zs->zones[i];
		size_t ol = z->origin_len;
		if (ol > nl || !boundary[ol] || (best != NULL && ol <= best->origin_len))
			continue;
		if (memcmp(lname + suffix_at[ol], z->origin, ol) == 0)
			best = z;
	}
	/* A built-in zone yields to a forward zone at or below its origin. */
	for (size_t i = 0; best != NULL && best->builtin && i < zs->nyield; i++) {
		size_t yl = rw_name_len(zs->yield[i]);
		if (yl >= best->origin_len && yl <= nl && boundary[yl] &&
		    memcmp(lname + suffix_at[yl], zs->yield[i], yl) == 0)
			return NULL;
	}
	return best;
}

void rw_zoneset_set_source_hash(struct rw_zoneset *zs, uint64_t h)
{
	zs->source_hash = h;
}

uint64_t rw_zoneset_source_hash(const struct rw_zoneset *zs)
{
	return zs->source_hash;
}

int rw_zoneset_yield(struct rw_zoneset *zs, const uint8_t *lname)
{
	uint8_t(*grown)[RW_NAME_MAX] = realloc(zs->yield, (zs->nyield + 1) * sizeof *zs->yield);
	if (grown == NULL)
		return RW_ENOMEM;
	zs->yield = grown;
	memcpy(zs->yield[zs->nyield++], lname, rw_name_len(lname));
	return 0;
}

size_t rw_zoneset_count(const struct rw_zoneset *zs)
{
	return zs->n;
}

const struct rw_zone *rw_zoneset_at(const struct rw_zoneset *zs, size_t i)
{
	return i < zs->n ? zs->zones[i] : NULL;
}

struct rw_zoneset *rw_zoneset_ref(struct rw_zoneset *zs)
{
	atomic_fetch_add(&zs->refs, 1);
	return zs;
}

void rw_zoneset_unref(struct rw_zoneset *zs)
{
	if (zs == NULL || atomic_fetch_sub(&zs->refs, 1) != 1)
		return;
	for (size_t i = 0; i < zs->n; i++)
		rw_zone_free(zs->zones[i]);
	free(zs->zones);
	free(zs->yield);
	free(zs);
}
