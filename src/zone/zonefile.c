/* RFC 1035 §5 master-file parser: tokenising (parentheses, comments, quoted
 * strings, escapes), directives ($ORIGIN, $TTL, $INCLUDE) and entries with
 * omitted owner, TTL and class. It produces records for zone.c, which
 * checks zone-wide rules and builds the store. Every error names the file,
 * the line and the problem. */
#include "rootwalk/err.h"
#include "rootwalk/rr.h"
#include "rootwalk/zone.h"
#include "zone_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_TOKENS 4096
#define MAX_INCLUDE_DEPTH 8
#define MAX_FILE_BYTES ((size_t)1 << 31)

struct zshared {
	struct rw__zcollect *c;
	struct rw_zone_error *err;
	struct rw_tok *toks; /* MAX_TOKENS */
	uint8_t *rdata;      /* 65535 + slack */
	bool allow_include;
	size_t generated; /* records $GENERATE made in this load */
};

struct zparser {
	struct zshared *sh;
	const char *file; /* label for errors; in the collector arena */
	const char *buf;
	size_t len, pos;
	unsigned line;
	int depth; /* $INCLUDE nesting */
	uint8_t origin[RW_NAME_MAX];
	uint8_t owner[RW_NAME_MAX];
	bool have_owner;
	uint32_t default_ttl, last_ttl;
	bool have_default_ttl, have_last_ttl;
};

static int perr(struct zparser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct zparser *p, unsigned line, const char *fmt, ...)
{
	struct rw_zone_error *e = p->sh->err;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (e->count++ == 0) { /* the first */
		snprintf(e->file, sizeof e->file, "%s", p->file);
		e->line = line;
		snprintf(e->msg, sizeof e->msg, "%s", msg);
	} else if (e->count <= RW_ZONE_ERRORS_MAX) {
		size_t ml = strlen(e->more);
		snprintf(e->more + ml, sizeof e->more - ml, "%s:%u: %s\n", p->file, line, msg);
	}
	return RW_EMALFORMED;
}

/* Reads one entry (a logical line: parentheses join physical lines).
 * Returns 1 with tokens, 0 at end of input, or an error. */
static int read_entry(struct zparser *p, size_t *ntoks, bool *blank_owner, unsigned *line)
{
	struct rw_tok *toks = p->sh->toks;
	size_t n = 0;
	int paren = 0;
	unsigned paren_line = 0;
	bool at_line_start = true;
	*blank_owner = false;
	/* Bound: every iteration consumes at least one byte of the file. */
	while (p->pos < p->len) {
		char ch = p->buf[p->pos];
		if (at_line_start && n == 0) {
			*blank_owner = ch == ' ' || ch == '\t';
			*line = p->line;
		}
		at_line_start = false;
		if (ch == '\n') {
			p->pos++;
			p->line++;
			at_line_start = true;
			if (paren == 0 && n > 0)
				break;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\r') {
			p->pos++;
			continue;
		}
		if (ch == ';') {
			while (p->pos < p->len && p->buf[p->pos] != '\n')
				p->pos++;
			continue;
		}
		if (ch == '(') {
			if (paren++ == 0)
				paren_line = p->line;
			p->pos++;
			continue;
		}
		if (ch == ')') {
			if (--paren < 0)
				return perr(p, p->line, "')' without a matching '('");
			p->pos++;
			continue;
		}
		if (n == MAX_TOKENS)
			return perr(p, *line, "too many fields in one record (over %d)",
			            MAX_TOKENS);
		struct rw_tok *t = &toks[n++];
		if (ch == '"') {
			size_t start = ++p->pos;
			while (p->pos < p->len && p->buf[p->pos] != '"') {
				if (p->buf[p->pos] == '\n')
					return perr(p, p->line, "unterminated quoted string");
				if (p->buf[p->pos] == '\\' && p->pos + 1 < p->len &&
				    p->buf[p->pos + 1] != '\n')
					p->pos++;
				p->pos++;
			}
			if (p->pos >= p->len)
				return perr(p, p->line, "unterminated quoted string");
			*t = (struct rw_tok){p->buf + start, p->pos - start, true};
			p->pos++;
			continue;
		}
		size_t start = p->pos;
		while (p->pos < p->len) {
			char d = p->buf[p->pos];
			if (d == ' ' || d == '\t' || d == '\r' || d == '\n' || d == ';' ||
			    d == '(' || d == ')' || d == '"')
				break;
			if (d == '\\' && p->pos + 1 < p->len && p->buf[p->pos + 1] != '\n')
				p->pos++;
			p->pos++;
		}
		*t = (struct rw_tok){p->buf + start, p->pos - start, false};
	}
	if (paren > 0)
		return perr(p, paren_line, "'(' not closed before the end of the file");
	*ntoks = n;
	return n > 0 ? 1 : 0;
}

static bool tok_is(const struct rw_tok *t, const char *s)
{
	size_t l = strlen(s);
	return !t->quoted && t->len == l && strncasecmp(t->p, s, l) == 0;
}

static int parse_buffer(struct zparser *p);

static int read_file(const char *path, char **out, size_t *len, char *why, size_t why_len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(why, why_len, "cannot open: %s", strerror(errno));
		return RW_EIO;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > MAX_FILE_BYTES) {
		snprintf(why, why_len, "not a regular file of at most 2 GiB");
		fclose(f);
		return RW_EIO;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		fclose(f);
		snprintf(why, why_len, "out of memory");
		return RW_ENOMEM;
	}
	size_t n = fread(buf, 1, (size_t)st.st_size, f);
	bool bad = ferror(f) != 0;
	fclose(f);
	if (bad) {
		free(buf);
		snprintf(why, why_len, "read error");
		return RW_EIO;
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

static int do_include(struct zparser *p, const struct rw_tok *toks, size_t n, unsigned line)
{
	if (!p->sh->allow_include)
		return perr(p, line, "$INCLUDE is not allowed here");
	if (n < 2 || n > 3)
		return perr(p, line, "$INCLUDE needs a file name and an optional origin");
	if (p->depth + 1 > MAX_INCLUDE_DEPTH)
		return perr(p, line, "$INCLUDE nested deeper than %d (a loop?)", MAX_INCLUDE_DEPTH);
	/* Relative paths are relative to the including file's folder. */
	char path[1024];
	const char *slash = strrchr(p->file, '/');
	int dirlen = slash ? (int)(slash - p->file) : 0;
	int m;
	if (toks[1].len > 0 && toks[1].p[0] == '/')
		m = snprintf(path, sizeof path, "%.*s", (int)toks[1].len, toks[1].p);
	else if (slash)
		m = snprintf(path, sizeof path, "%.*s/%.*s", dirlen, p->file, (int)toks[1].len,
		             toks[1].p);
	else
		m = snprintf(path, sizeof path, "%.*s", (int)toks[1].len, toks[1].p);
	if (m < 0 || (size_t)m >= sizeof path)
		return perr(p, line, "$INCLUDE path too long");
	struct zparser child = *p;
	child.depth = p->depth + 1;
	child.line = 1;
	child.pos = 0;
	child.file = rw_arena_dup(&p->sh->c->mem, path, strlen(path) + 1);
	if (child.file == NULL)
		return RW_ENOMEM;
	if (n == 3) {
		size_t ol;
		if (rw_name_from_text(toks[2].p, toks[2].len, p->origin, child.origin, &ol) != 0)
			return perr(p, line, "bad origin in $INCLUDE");
	}
	char why[256];
	char *buf;
	int e = read_file(path, &buf, &child.len, why, sizeof why);
	if (e != 0)
		return perr(p, line, "$INCLUDE %s: %s", path, why);
	child.buf = buf;
	e = parse_buffer(&child);
	free(buf);
	return e;
}

static int do_record(struct zparser *p, const struct rw_tok *toks, size_t n, bool blank,
                     unsigned line);
static int do_generate(struct zparser *p, const struct rw_tok *toks, size_t n, unsigned line);

static int do_entry(struct zparser *p, size_t n, bool blank, unsigned line)
{
	const struct rw_tok *toks = p->sh->toks;
	if (!blank && !toks[0].quoted && toks[0].len > 0 && toks[0].p[0] == '$') {
		if (tok_is(&toks[0], "$ORIGIN")) {
			size_t ol;
			uint8_t o[RW_NAME_MAX];
			if (n != 2 ||
			    rw_name_from_text(toks[1].p, toks[1].len, p->origin, o, &ol) != 0)
				return perr(p, line, "$ORIGIN needs one valid domain name");
			memcpy(p->origin, o, ol);
			return 0;
		}
		if (tok_is(&toks[0], "$TTL")) {
			if (n != 2 ||
			    rw_ttl_from_text(toks[1].p, toks[1].len, &p->default_ttl) != 0)
				return perr(p, line,
				            "$TTL needs one TTL value (e.g. 3600 or 1h30m)");
			p->have_default_ttl = true;
			return 0;
		}
		if (tok_is(&toks[0], "$INCLUDE"))
			return do_include(p, toks, n, line);
		if (tok_is(&toks[0], "$GENERATE"))
			return do_generate(p, toks, n, line);
		return perr(p, line, "unknown directive '%.*s'", (int)toks[0].len, toks[0].p);
	}
	return do_record(p, toks, n, blank, line);
}

/* One record's tokens: [owner] [TTL] [class] type rdata. */
static int do_record(struct zparser *p, const struct rw_tok *toks, size_t n, bool blank,
                     unsigned line)
{
	size_t i = 0;
	if (blank) {
		if (!p->have_owner)
			return perr(p, line, "record without an owner name and no earlier owner");
	} else {
		size_t ol;
		if (toks[0].quoted ||
		    rw_name_from_text(toks[0].p, toks[0].len, p->origin, p->owner, &ol) != 0)
			return perr(p, line, "bad owner name '%.*s'", (int)toks[0].len, toks[0].p);
		p->have_owner = true;
		i = 1;
	}
	uint32_t ttl = 0;
	bool have_ttl = false, have_class = false;
	/* [TTL] [class] or [class] [TTL], in either order (RFC 1035 §5.1). */
	for (int k = 0; k < 2 && i < n; k++) {
		uint16_t rclass;
		if (!have_class && !toks[i].quoted &&
		    rw_class_from_text(toks[i].p, toks[i].len, &rclass) == 0) {
			if (rclass != RW_CLASS_IN)
				return perr(p, line, "class '%.*s' is not supported (only IN)",
				            (int)toks[i].len, toks[i].p);
			have_class = true;
			i++;
		} else if (!have_ttl && !toks[i].quoted && toks[i].p[0] >= '0' &&
		           toks[i].p[0] <= '9') {
			if (rw_ttl_from_text(toks[i].p, toks[i].len, &ttl) != 0)
				return perr(p, line, "bad TTL '%.*s'", (int)toks[i].len, toks[i].p);
			have_ttl = true;
			i++;
		}
	}
	if (i >= n)
		return perr(p, line, "record has no type");
	uint16_t type;
	if (toks[i].quoted || rw_type_from_text(toks[i].p, toks[i].len, &type) != 0)
		return perr(p, line, "unknown record type '%.*s'", (int)toks[i].len, toks[i].p);
	if (type == RW_TYPE_OPT || (type >= 128 && type <= 255))
		return perr(p, line, "type '%.*s' cannot appear in a zone file", (int)toks[i].len,
		            toks[i].p);
	i++;
	if (have_ttl) {
		p->last_ttl = ttl;
		p->have_last_ttl = true;
	} else if (p->have_default_ttl) {
		ttl = p->default_ttl;
	} else if (p->have_last_ttl) {
		ttl = p->last_ttl;
	} else {
		return perr(p, line, "no TTL given and no $TTL before this record");
	}
	struct rw_wbuf w;
	rw_wbuf_init(&w, p->sh->rdata, 65535);
	const char *why;
	if (rw_rdata_from_text(type, toks + i, n - i, p->origin, &w, &why) != 0) {
		char ts[16];
		return perr(p, line, "%s record: %s", rw_type_to_text(type, ts, sizeof ts), why);
	}
	int e = rw__zcollect_add(p->sh->c, p->owner, type, ttl, w.base, w.len, p->file, line);
	if (e != 0)
		return perr(p, line, "out of memory");
	return 0;
}

/* $GENERATE's text with the iterator put in: "$" is the value, "${o,w,b}"
 * the value plus offset o, at least w digits wide, in base d, o, x, X, n
 * or N (n, N: nibbles, reversed and dotted, for reverse zones); "\$" a
 * dollar sign. false when it does not fit or a ${...} is malformed. */
static bool gen_expand(const struct rw_tok *t, long v, char *out, size_t cap, size_t *len)
{
	size_t n = 0;
	/* Bound: the token's bytes; each step writes at most one value. */
	for (size_t i = 0; i < t->len;) {
		char c = t->p[i];
		if (c == '\\' && i + 1 < t->len && t->p[i + 1] == '$') {
			if (n + 2 >= cap)
				return false;
			out[n++] = '\\';
			out[n++] = '$';
			i += 2;
			continue;
		}
		if (c != '$') {
			if (n + 1 >= cap)
				return false;
			out[n++] = c;
			i++;
			continue;
		}
		long off = 0, width = 0;
		char base = 'd';
		i++;
		if (i < t->len && t->p[i] == '{') {
			const char *close = memchr(t->p + i, '}', t->len - i);
			char spec[64];
			size_t sl = close != NULL ? (size_t)(close - t->p - i - 1) : 0;
			if (close == NULL || sl == 0 || sl >= sizeof spec)
				return false;
			memcpy(spec, t->p + i + 1, sl);
			spec[sl] = 0;
			char b[2] = "d";
			int k = sscanf(spec, "%ld,%ld,%1[doxXnN]", &off, &width, b);
			if (k < 1 || width < 0 || width > 64)
				return false;
			base = b[0];
			i += sl + 2;
		}
		long x = v + off;
		char num[160];
		if (x < 0)
			return false;
		if (base == 'n' || base == 'N') {
			/* nibbles, least significant first, dot-separated */
			size_t nl = 0;
			long digits = 0;
			do {
				nl += (size_t)snprintf(num + nl, sizeof num - nl, "%s%c",
				                       nl ? "." : "",
				                       (base == 'n' ? "0123456789abcdef"
				                                    : "0123456789ABCDEF")[x & 15]);
				x >>= 4;
				digits++;
			} while ((x > 0 || digits < width) && nl + 3 < sizeof num);
		} else {
			const char *fmt = base == 'o'   ? "%0*lo"
			                  : base == 'x' ? "%0*lx"
			                  : base == 'X' ? "%0*lX"
			                                : "%0*ld";
			snprintf(num, sizeof num, fmt, (int)width, x);
		}
		size_t nl = strlen(num);
		if (n + nl >= cap)
			return false;
		memcpy(out + n, num, nl);
		n += nl;
	}
	*len = n;
	return true;
}

/* $GENERATE start-stop[/step] lhs [TTL] [class] type rhs (BIND): one
 * record per value, at most GENERATE_MAX per directive. */
#define GENERATE_MAX 65536
#define GENERATE_TOTAL_MAX (1u << 20) /* per load: a few bytes of text must not cost more */
static int do_generate(struct zparser *p, const struct rw_tok *toks, size_t n, unsigned line)
{
	long start, stop, step = 1;
	char range[64];
	if (n < 5 || toks[1].len >= sizeof range || n - 2 > MAX_TOKENS)
		return perr(p, line, "$GENERATE needs a range, an owner, a type and rdata");
	memcpy(range, toks[1].p, toks[1].len);
	range[toks[1].len] = 0;
	int k = sscanf(range, "%ld-%ld/%ld", &start, &stop, &step);
	if (k < 2 || start < 0 || stop < start || step < 1 || (stop - start) / step >= GENERATE_MAX)
		return perr(p, line,
		            "$GENERATE range '%s': START-STOP[/STEP], 0 <= START <= STOP, "
		            "at most %d records",
		            range, GENERATE_MAX);
	size_t count = (size_t)((stop - start) / step + 1);
	if (p->sh->generated + count > GENERATE_TOTAL_MAX)
		return perr(p, line, "$GENERATE: over %u records in one zone", GENERATE_TOTAL_MAX);
	p->sh->generated += count;
	size_t m = n - 2; /* lhs and the rest */
	struct rw_tok *out = malloc(m * sizeof *out);
	char *text = malloc(m * 512);
	int e = out != NULL && text != NULL ? 0 : RW_ENOMEM;
	/* Bound: at most GENERATE_MAX values. */
	for (long v = start; e == 0 && v <= stop; v += step) {
		for (size_t i = 0; i < m; i++) {
			size_t len;
			if (!gen_expand(&toks[i + 2], v, text + i * 512, 512, &len)) {
				e = perr(p, line,
				         "$GENERATE: bad ${offset,width,base} or a field too long");
				break;
			}
			out[i] = (struct rw_tok){text + i * 512, len, toks[i + 2].quoted};
		}
		if (e == 0)
			e = do_record(p, out, m, false, line);
	}
	free(out);
	free(text);
	return e == RW_ENOMEM ? perr(p, line, "out of memory") : e;
}

static int parse_buffer(struct zparser *p)
{
	if (memchr(p->buf, 0, p->len) != NULL)
		return perr(p, (unsigned)1, "file contains a NUL byte (not a text zone file)");
	for (;;) {
		size_t n = 0;
		bool blank = false;
		unsigned line = p->line;
		int r = read_entry(p, &n, &blank, &line);
		if (r < 0)
			return r;
		if (r == 0)
			return p->sh->err->count > 0 ? RW_EMALFORMED : 0;
		/* A bad record is reported and skipped: the file's other errors
		 * are found in the same load (the zone is not built). */
		int e = do_entry(p, n, blank, line);
		if (e != 0 && e != RW_EMALFORMED)
			return e;
		if (p->sh->err->count > 100 * RW_ZONE_ERRORS_MAX)
			return RW_EMALFORMED; /* enough: a file that is not a zone */
	}
}

static int load(const char *label, const char *text, size_t len, const uint8_t *origin,
                bool allow_include, struct rw_zone **out, struct rw_zone_error *err)
{
	struct rw__zcollect c;
	rw__zcollect_init(&c, origin);
	struct zshared sh = {&c, err, malloc(MAX_TOKENS * sizeof(struct rw_tok)),
	                     malloc(65536 + 1024), allow_include};
	int e = RW_ENOMEM;
	memset(err, 0, sizeof *err);
	if (sh.toks == NULL || sh.rdata == NULL) {
		snprintf(err->msg, sizeof err->msg, "out of memory");
		goto done;
	}
	struct zparser p = {0};
	p.sh = &sh;
	p.file = rw_arena_dup(&c.mem, label, strlen(label) + 1);
	p.buf = text;
	p.len = len;
	p.line = 1;
	memcpy(p.origin, origin, rw_name_len(origin));
	if (p.file == NULL)
		goto done;
	e = parse_buffer(&p);
	if (e == 0)
		e = rw__zone_build(&c, out, err);
done:
	free(sh.toks);
	free(sh.rdata);
	rw__zcollect_fini(&c);
	return e;
}

int rw_zone_load_text(const char *label, const char *text, size_t len, const uint8_t *origin,
                      struct rw_zone **out, struct rw_zone_error *err)
{
	return load(label, text, len, origin, false, out, err);
}

int rw_zone_load_file(const char *path, const uint8_t *origin, struct rw_zone **out,
                      struct rw_zone_error *err)
{
	char *buf;
	size_t len;
	memset(err, 0, sizeof *err);
	int e = read_file(path, &buf, &len, err->msg, sizeof err->msg);
	if (e != 0) {
		snprintf(err->file, sizeof err->file, "%s", path);
		return e;
	}
	e = load(path, buf, len, origin, true, out, err);
	free(buf);
	return e;
}
