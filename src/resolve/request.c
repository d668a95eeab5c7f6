/* The waiting request's own helpers (include/resolve/rootwalk/query.h):
 * background refresh requests, the question a request waits for, its
 * failure-cache tag, and the TC=1 slip of a reply. */
#include "query_int.h"
#include "rootwalk/msg.h"
#include "rootwalk/rr.h"
#include "rootwalk/wire.h"

#include <string.h>

bool rw_query_refresh_request(const struct rw_query_env *env, const uint8_t *qname, uint16_t qtype,
                              struct rw_request *req)
{
	uint8_t lname[RW_NAME_MAX];
	size_t nl = rw_name_len(qname);
	rw_name_lower(lname, qname, nl);
	memset(req, 0, sizeof *req);
	rw__route(env, lname, req);
	if (req->route == RW_ROUTE_NONE)
		return false;
	req->flags = RW_FLAG_RD;
	req->qtype = qtype;
	req->qclass = RW_CLASS_IN;
	req->udp_limit = 512;
	req->qname_len = (uint8_t)nl;
	memcpy(req->qname, lname, nl);
	return true;
}

unsigned rw_question_tag(const struct rw_question *q)
{
	if (q->route != RW_ROUTE_FORWARD)
		return 0;
	return (q->group + 1) | (q->cd ? RW_QUESTION_TAG_CD : 0);
}

void rw_request_question(const struct rw_request *r, struct rw_question *q)
{
	q->route = r->route;
	q->group = r->group;
	if (r->target_len > 0) { /* a local alias's target (lower-case already) */
		q->qname_len = r->target_len;
		memcpy(q->qname, r->target, r->target_len);
	} else {
		q->qname_len = r->qname_len;
		rw_name_lower(q->qname, r->qname, r->qname_len);
	}
	q->qtype = r->qtype;
	q->qclass = r->qclass;
	q->cd = r->route == RW_ROUTE_FORWARD && (r->flags & RW_FLAG_CD);
}

size_t rw_query_slip(uint8_t *reply, size_t len)
{
	if (len < RW_HEADER_LEN)
		return 0;
	/* Our own reply: the header, then at most one question, read with
	 * the bounds-checked reader all the same. */
	struct rw_rbuf r;
	rw_rbuf_init(&r, reply + RW_HEADER_LEN, len - RW_HEADER_LEN);
	uint8_t name[RW_NAME_MAX];
	size_t nl;
	uint16_t type, klass;
	bool question = rw_get16(reply + 4) == 1 && rw_name_read(&r, name, &nl) == 0 &&
	                rw_rbuf_u16(&r, &type) == 0 && rw_rbuf_u16(&r, &klass) == 0;
	reply[2] |= RW_FLAG_TC >> 8;
	rw_put16(reply + 4, question ? 1 : 0);
	memset(reply + 6, 0, 6); /* no answer, authority or additional */
	return question ? RW_HEADER_LEN + (len - RW_HEADER_LEN - rw_rbuf_left(&r)) : RW_HEADER_LEN;
}

/* Counting queries by type (the daemon's metrics, CoreDNS's type list). */
const uint16_t rw_qstat_types[RW_QSTAT_TYPES - 1] = {
    RW_TYPE_A,    RW_TYPE_AAAA,  RW_TYPE_CNAME, RW_TYPE_MX,   RW_TYPE_TXT,  RW_TYPE_SRV,
    RW_TYPE_PTR,  RW_TYPE_NS,    RW_TYPE_SOA,   RW_TYPE_ANY,  RW_TYPE_DS,   RW_TYPE_DNSKEY,
    RW_TYPE_NSEC, RW_TYPE_NSEC3, RW_TYPE_RRSIG, RW_TYPE_IXFR, RW_TYPE_AXFR, 65 /* HTTPS */,
};

const char *const rw_source_names[RW_SOURCES] = {"local", "cache", "stale", "upstream"};

unsigned rw_qstat_index(uint16_t qtype)
{
	switch (qtype) {
	case RW_TYPE_A: return 0;
	case RW_TYPE_AAAA: return 1;
	case RW_TYPE_CNAME: return 2;
	case RW_TYPE_MX: return 3;
	case RW_TYPE_TXT: return 4;
	case RW_TYPE_SRV: return 5;
	case RW_TYPE_PTR: return 6;
	case RW_TYPE_NS: return 7;
	case RW_TYPE_SOA: return 8;
	case RW_TYPE_ANY: return 9;
	case RW_TYPE_DS: return 10;
	case RW_TYPE_DNSKEY: return 11;
	case RW_TYPE_NSEC: return 12;
	case RW_TYPE_NSEC3: return 13;
	case RW_TYPE_RRSIG: return 14;
	case RW_TYPE_IXFR: return 15;
	case RW_TYPE_AXFR: return 16;
	case 65: return 17;
	default: return RW_QSTAT_TYPES - 1;
	}
}
