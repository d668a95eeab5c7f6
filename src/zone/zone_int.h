/* Private interface between the zone-file parser (zonefile.c) and the zone
 * store (zone.c): the parser collects records, the store checks them as a
 * whole and builds the immutable zone. */
#ifndef ROOTWALK_ZONE_INT_H
#define ROOTWALK_ZONE_INT_H

#include "rootwalk/arena.h"
#include "rootwalk/zone.h"

struct rw__zrec {
	const uint8_t *owner; /* lower-cased, in the collector's arena */
	const uint8_t *rdata; /* canonical, in the collector's arena */
	const char *file;     /* for errors; lives as long as the collector */
	unsigned line;
	uint32_t ttl;
	uint16_t type;
	uint16_t rdlen;
};

struct rw__zcollect {
	struct rw_arena mem; /* owners, rdata, file names */
	struct rw__zrec *recs;
	size_t n, cap;
	uint8_t origin[RW_NAME_MAX]; /* lower-cased */
};

void rw__zcollect_init(struct rw__zcollect *c, const uint8_t *origin);
void rw__zcollect_fini(struct rw__zcollect *c);
/* Appends a record (copies owner and rdata). 0 or RW_ENOMEM. */
int rw__zcollect_add(struct rw__zcollect *c, const uint8_t *owner, uint16_t type, uint32_t ttl,
                     const uint8_t *rdata, size_t rdlen, const char *file, unsigned line);
/* Checks zone-wide rules (SOA at apex, CNAME exclusivity, names in zone)
 * and builds the zone. Errors name the file and line of the offending
 * record. */
int rw__zone_build(struct rw__zcollect *c, struct rw_zone **out, struct rw_zone_error *err);

#endif
