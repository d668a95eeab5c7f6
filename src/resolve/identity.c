/* Which instance answered: the CHAOS TXT identity names (issue 14; NSID
 * is added where the reply's OPT is written, in query.c). */
#include "query_int.h"
#include "rootwalk/msg.h"
#include "rootwalk/rr.h"

#include <string.h>

/* CHAOS TXT identity (what BIND, Unbound and Knot answer): id.server. and
 * hostname.bind. give env->identity, version.bind. and version.server.
 * env->version; false (REFUSED) for anything else, or when hidden. */
bool rw__answer_chaos(struct rw_builder *b, const struct rw_query_env *env, const struct rw_msg *q,
                      const uint8_t *lname)
{
	const char *text = NULL;
	if (rw_name_eq(lname, (const uint8_t *)"\2id\6server") ||
	    rw_name_eq(lname, (const uint8_t *)"\10hostname\4bind"))
		text = env->identity;
	else if (rw_name_eq(lname, (const uint8_t *)"\7version\4bind") ||
	         rw_name_eq(lname, (const uint8_t *)"\7version\6server"))
		text = env->version;
	if (text == NULL || (q->qtype != RW_TYPE_TXT && q->qtype != RW_TYPE_ANY))
		return false;
	uint8_t rd[256];
	size_t tl = strnlen(text, 255);
	rd[0] = (uint8_t)tl;
	memcpy(rd + 1, text, tl);
	rw_builder_set_flags(b, rw_builder_flags(b) | RW_FLAG_AA);
	/* Bound: one record of at most 256 bytes after the question: it
	 * fits any reply. */
	rw_builder_rr(b, RW_SEC_AN, q->qname, RW_TYPE_TXT, RW_CLASS_CH, 0, rd, 1 + tl);
	return true;
}
