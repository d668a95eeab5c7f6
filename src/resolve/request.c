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
