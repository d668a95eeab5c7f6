/* Signed queries (RFC 8945 TSIG, RFC 2931 SIG(0)): we hold no keys, so
 * none can be authenticated; what the reply says instead. */
#include "query_int.h"
#include "rootwalk/msg.h"
#include "rootwalk/wire.h"

#include <string.h>

#define TYPE_SIG 24
#define TSIG_BADKEY 17

uint16_t rw__signed_query(const struct rw_msg *q, struct rw__tsig_error *t)
{
	uint16_t n = q->nrr[RW_SEC_AR];
	for (uint16_t i = 0; i < n; i++) {
		const struct rw_rr *rr = &q->rr[RW_SEC_AR][i];
		if (rr->type == TYPE_SIG)
			return RW_RCODE_NOTAUTH;
		if (rr->type != RW__TYPE_TSIG)
			continue;
		/* algorithm name, time (6), fudge (2), MAC size (2), MAC,
		 * original ID (2), error (2), other length (2), other */
		size_t al = 0;
		while (al < rr->rdlen && rr->rdata[al] != 0)
			al += (size_t)rr->rdata[al] + 1;
		al++;
		if (i != n - 1 || rr->rclass != 255 || al > RW_NAME_MAX || al + 10 > rr->rdlen)
			return RW_RCODE_FORMERR;
		size_t mac = rw_get16(rr->rdata + al + 8);
		if (al + 10 + mac + 6 > rr->rdlen)
			return RW_RCODE_FORMERR;
		memcpy(t->rd, rr->rdata, al + 8);                      /* algorithm, time, fudge */
		rw_put16(t->rd + al + 8, 0);                           /* no MAC */
		memcpy(t->rd + al + 10, rr->rdata + al + 10 + mac, 2); /* original ID */
		rw_put16(t->rd + al + 12, TSIG_BADKEY);
		rw_put16(t->rd + al + 14, 0); /* no other data */
		t->len = (uint16_t)(al + 16);
		t->owner = rr->owner;
		return RW_RCODE_NOTAUTH;
	}
	return RW_RCODE_NOERROR;
}
