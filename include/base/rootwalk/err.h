/* Error codes shared by every module.
 *
 * Functions return int: 0 on success or one of these negative codes. DNS
 * outcomes (NXDOMAIN, SERVFAIL, ...) are results carried in messages, never
 * C errors. The set is deliberately small and closed. */
#ifndef ROOTWALK_ERR_H
#define ROOTWALK_ERR_H

enum rw_err {
	RW_OK = 0,
	RW_ENOMEM = -1,     /* allocation failed or an arena limit was hit */
	RW_EINVAL = -2,     /* bad argument or bad configuration value */
	RW_EMALFORMED = -3, /* input bytes or text violate the format */
	RW_ETRUNC = -4,     /* output does not fit the space given */
	RW_ENOTFOUND = -5,  /* lookup found nothing */
	RW_ETIMEOUT = -6,
	RW_EIO = -7,    /* operating system I/O error */
	RW_ELIMIT = -8, /* a configured bound was reached */
	RW_ENOTIMPL = -9,
	RW_ECANCELED = -10, /* the operation was abandoned (shutting down) */
	RW_EUPSTREAM = -11, /* every upstream answered with a failure rcode */
	RW_EEXIST = -12,    /* kept: better data is there already (cache rank) */
};

/* Short fixed English text for an error code; never NULL. */
const char *rw_strerror(int err);

#endif
