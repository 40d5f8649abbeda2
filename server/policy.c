/*
 * The authorization policy: "allow" rules parsed once into an immutable, reference-counted
 * table, then only read (policy.h). Default deny: a query succeeds only when one rule matches
 * the identity, the token, the classes and, for objects, the label/id narrowing.
 */
#include <errno.h>
#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/conf.h"
#include "policy.h"

/* Labels and hex ids up to this long are matched from the stack; longer ones are copied to the
 * heap (CKA_LABEL and CKA_ID have no upper bound of their own). */
#define POL_STACK_STR 256
/* getpwnam_r/getgrnam_r scratch space: start here, double on ERANGE, give up past the max. */
#define POL_PW_BUF_MIN 1024
#define POL_PW_BUF_MAX (1024 * 1024)

enum pol_kind { PK_CN, PK_DNS, PK_URI, PK_UID, PK_GID };

struct pol_rule {
	enum pol_kind kind;
	char *pattern;	   /* cn/dns/uri glob; NULL for uid/gid */
	unsigned long num; /* uid/gid */
	unsigned classes;  /* enum pol_class bits */
	char *token;	   /* glob on the token label; never NULL ("*" by default) */
	char *label;	   /* glob on CKA_LABEL, NULL = every object */
	char *id;	   /* glob on lowercase-hex CKA_ID, NULL = every object */
};

struct policy {
	unsigned long refs; /* (atomic) */
	struct pol_rule *rules;
	size_t n;
};

static const struct {
	const char *name;
	enum pol_kind kind;
} pol_kinds[] = {
	{ "cn", PK_CN }, { "dns", PK_DNS }, { "uri", PK_URI }, { "uid", PK_UID }, { "gid", PK_GID },
};

static const struct {
	const char *name;
	unsigned bits;
} pol_classes[] = {
	{ "read", POL_READ },	{ "use", POL_USE }, { "manage", POL_MANAGE },
	{ "admin", POL_ADMIN }, { "all", POL_ALL },
};

/* --- loading ----------------------------------------------------------------------------- */

static void rule_clear(struct pol_rule *r)
{
	free(r->pattern);
	free(r->token);
	free(r->label);
	free(r->id);
	memset(r, 0, sizeof(*r));
}

static void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		rule_clear(&p->rules[i]);
	free(p->rules);
	free(p);
}

/* "FILE:LINE: allow: <what>, not '<bad>'". Always returns -1. */
static int pol_err(char *err, size_t errlen, const struct conf *c, const struct conf_entry *e,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int pol_err(char *err, size_t errlen, const struct conf *c, const struct conf_entry *e,
		   const char *fmt, ...)
{
	char what[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%u: allow: %s", c->path ? c->path : "(config)", e->line, what);
	return -1;
}

/* Cut the next blank-separated field off *s (in place); NULL at the end. A backslash keeps the
 * next character, blank or not, in the field, and stays in it for fnmatch to read as an escape.
 * The caller has checked that the string does not end in an unpaired backslash. */
static char *next_field(char **s)
{
	char *p = *s, *start;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		*s = p;
		return NULL;
	}
	start = p;
	while (*p && *p != ' ' && *p != '\t') {
		if (*p == '\\' && p[1] != '\0')
			p++;
		p++;
	}
	if (*p)
		*p++ = '\0';
	*s = p;
	return start;
}

/* Does s end in an odd number of backslashes (one that escapes nothing)? */
static bool dangling_backslash(const char *s)
{
	size_t n = strlen(s), k = 0;

	while (k < n && s[n - 1 - k] == '\\')
		k++;
	return k % 2 == 1;
}

/* A decimal id that fits uid_t/gid_t and is not the reserved (uid_t)-1. */
static int parse_numeric_id(const char *s, unsigned long *out)
{
	unsigned long n = 0;

	if (conf_parse_decimal(s, &n) || n >= 0xffffffffUL)
		return -1;
	*out = n;
	return 0;
}

/* Resolve a user or group name. 0, or -1 when unknown or the lookup failed. */
static int resolve_name(enum pol_kind kind, const char *name, unsigned long *out)
{
	size_t size = POL_PW_BUF_MIN;
	int ret = -1;

	for (;;) {
		char *buf = malloc(size);
		int rc;

		if (!buf)
			return -1;
		if (kind == PK_UID) {
			struct passwd pw, *res = NULL;

			rc = getpwnam_r(name, &pw, buf, size, &res);
			if (rc == 0 && res) {
				*out = (unsigned long)res->pw_uid;
				ret = 0;
			}
		} else {
			struct group gr, *res = NULL;

			rc = getgrnam_r(name, &gr, buf, size, &res);
			if (rc == 0 && res) {
				*out = (unsigned long)res->gr_gid;
				ret = 0;
			}
		}
		free(buf);
		if (rc != ERANGE || size >= POL_PW_BUF_MAX)
			return ret;
		size *= 2;
	}
}

static int parse_identity(struct pol_rule *r, const char *f, const struct conf *c,
			  const struct conf_entry *e, char *err, size_t errlen)
{
	const char *colon = strchr(f, ':');
	const char *pat;
	size_t i;

	for (i = 0; colon && i < sizeof(pol_kinds) / sizeof(pol_kinds[0]); i++)
		if (strlen(pol_kinds[i].name) == (size_t)(colon - f) &&
		    strncmp(f, pol_kinds[i].name, (size_t)(colon - f)) == 0)
			break;
	if (!colon || i == sizeof(pol_kinds) / sizeof(pol_kinds[0]))
		return pol_err(err, errlen, c, e,
			       "expected an identity cn:, dns:, uri:, uid: or gid:, not '%.64s'",
			       f);
	r->kind = pol_kinds[i].kind;
	pat = colon + 1;
	if (*pat == '\0')
		return pol_err(err, errlen, c, e, "empty identity pattern, not '%.64s'", f);
	if (r->kind == PK_UID || r->kind == PK_GID) {
		const char *what = r->kind == PK_UID ? "user" : "group";

		if (*pat >= '0' && *pat <= '9') {
			if (parse_numeric_id(pat, &r->num))
				return pol_err(err, errlen, c, e, "invalid %s id, not '%.64s'",
					       what, f);
		} else if (resolve_name(r->kind, pat, &r->num)) {
			return pol_err(err, errlen, c, e, "unknown %s, not '%.64s'", what, f);
		}
		return 0;
	}
	r->pattern = strdup(pat);
	if (!r->pattern)
		return pol_err(err, errlen, c, e, "out of memory, not '%.64s'", f);
	return 0;
}

static int parse_classes(struct pol_rule *r, const char *f, const struct conf *c,
			 const struct conf_entry *e, char *err, size_t errlen)
{
	const char *p = f;

	r->classes = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof(pol_classes) / sizeof(pol_classes[0]); i++)
			if (strlen(pol_classes[i].name) == len &&
			    strncmp(p, pol_classes[i].name, len) == 0)
				break;
		if (i == sizeof(pol_classes) / sizeof(pol_classes[0]))
			return pol_err(err, errlen, c, e,
				       "expected classes read, use, manage, admin or all "
				       "(comma-separated), not '%.64s'",
				       f);
		r->classes |= pol_classes[i].bits;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* id=: hex digits and glob characters only, lowercased so it compares with our hex. */
static int id_glob_valid(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == '*' ||
		      *p == '?' || *p == '[' || *p == ']' || *p == '-'))
			return -1;
	}
	return 0;
}

static int parse_option(struct pol_rule *r, const char *f, const struct conf *c,
			const struct conf_entry *e, char *err, size_t errlen)
{
	const char *eq = strchr(f, '=');
	const char *v;
	char **slot;

	if (!eq)
		return pol_err(err, errlen, c, e,
			       "expected token=GLOB, label=GLOB or id=HEXGLOB, not '%.64s'", f);
	v = eq + 1;
	if (eq - f == 5 && strncmp(f, "token", 5) == 0)
		slot = &r->token;
	else if (eq - f == 5 && strncmp(f, "label", 5) == 0)
		slot = &r->label;
	else if (eq - f == 2 && strncmp(f, "id", 2) == 0)
		slot = &r->id;
	else
		return pol_err(err, errlen, c, e,
			       "expected token=GLOB, label=GLOB or id=HEXGLOB, not '%.64s'", f);
	if (*slot)
		return pol_err(err, errlen, c, e, "%.*s= given twice, not '%.64s'", (int)(eq - f),
			       f, f);
	if (*v == '\0')
		return pol_err(err, errlen, c, e, "empty pattern, not '%.64s'", f);
	*slot = strdup(v);
	if (!*slot)
		return pol_err(err, errlen, c, e, "out of memory, not '%.64s'", f);
	if (slot == &r->id && id_glob_valid(*slot))
		return pol_err(err, errlen, c, e,
			       "id= takes hex digits and glob characters (*?[]-), not '%.64s'", f);
	return 0;
}

static int parse_rule(struct pol_rule *r, const struct conf *c, const struct conf_entry *e,
		      char *err, size_t errlen)
{
	char *copy = NULL;
	char *s, *f;
	int ret = -1;

	if (dangling_backslash(e->value)) {
		pol_err(err, errlen, c, e, "a '\\' must be followed by a character, not '%.64s'",
			e->value);
		goto out;
	}
	s = copy = strdup(e->value);
	if (!copy) {
		pol_err(err, errlen, c, e, "out of memory, not '%.64s'", e->value);
		goto out;
	}
	f = next_field(&s);
	if (!f) {
		pol_err(err, errlen, c, e,
			"expected IDENTITY CLASSES [token=GLOB] [label=GLOB] [id=HEXGLOB], "
			"not '%.64s'",
			e->value);
		goto out;
	}
	if (parse_identity(r, f, c, e, err, errlen))
		goto out;
	f = next_field(&s);
	if (!f || strchr(f, '=')) {
		pol_err(err, errlen, c, e,
			"missing classes (read, use, manage, admin or all), not '%.64s'", e->value);
		goto out;
	}
	if (parse_classes(r, f, c, e, err, errlen))
		goto out;
	while ((f = next_field(&s)))
		if (parse_option(r, f, c, e, err, errlen))
			goto out;
	if (!r->token && !(r->token = strdup("*"))) {
		pol_err(err, errlen, c, e, "out of memory, not '%.64s'", e->value);
		goto out;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

int policy_load(const struct conf *c, struct policy **out, char *err, size_t errlen)
{
	struct policy *p = NULL;
	size_t n = 0;
	int ret = -1;

	*out = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->entries[i].key, "allow") == 0)
			n++;
	p = calloc(1, sizeof(*p));
	if (!p || (n && !(p->rules = calloc(n, sizeof(*p->rules))))) {
		snprintf(err, errlen, "%s: out of memory", c->path ? c->path : "(config)");
		goto out;
	}
	p->refs = 1;
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->entries[i].key, "allow") != 0)
			continue;
		/* Count the rule before parsing it, so policy_free frees a half-parsed one. */
		p->n++;
		if (parse_rule(&p->rules[p->n - 1], c, &c->entries[i], err, errlen))
			goto out;
	}
	*out = p;
	p = NULL; /* the caller owns it now */
	ret = 0;
out:
	policy_free(p);
	return ret;
}

struct policy *policy_ref(struct policy *p)
{
	if (p)
		__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

void policy_unref(struct policy *p)
{
	/* Release our writes, and acquire everyone else's before freeing. */
	if (p && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
		policy_free(p);
}

size_t policy_rule_count(const struct policy *p)
{
	return p ? p->n : 0;
}

/* --- queries ------------------------------------------------------------------------------ */

static bool identity_matches(const struct pol_rule *r, const struct pol_identity *id)
{
	switch (r->kind) {
	case PK_CN:
		return !id->is_unix && id->cn && fnmatch(r->pattern, id->cn, 0) == 0;
	case PK_DNS:
		if (id->is_unix || !id->dns)
			return false;
		for (size_t i = 0; i < id->n_dns; i++)
			if (id->dns[i] && fnmatch(r->pattern, id->dns[i], FNM_CASEFOLD) == 0)
				return true;
		return false;
	case PK_URI:
		if (id->is_unix || !id->uri)
			return false;
		for (size_t i = 0; i < id->n_uri; i++)
			if (id->uri[i] && fnmatch(r->pattern, id->uri[i], 0) == 0)
				return true;
		return false;
	case PK_UID:
		return id->is_unix && id->uid == r->num;
	case PK_GID:
		return id->is_unix && id->gid == r->num;
	}
	return false;
}

/* Does r grant all of cls (0: any class) to id on the token labelled tl? */
static bool rule_grants(const struct pol_rule *r, const struct pol_identity *id, const char *tl,
			unsigned cls)
{
	return (r->classes & cls) == cls && identity_matches(r, id) &&
	       fnmatch(r->token, tl, 0) == 0;
}

/* The token label without its trailing blanks (CK_TOKEN_INFO pads with them): s itself, or a
 * copy in buf; NULL (deny) if it does not fit. */
static const char *token_trim(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);

	if (n == 0 || s[n - 1] != ' ')
		return s;
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n >= len)
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

static bool class_query(const struct policy *p, const struct pol_identity *id,
			const char *token_label, unsigned cls)
{
	char tbuf[128];
	const char *tl;

	if (!p || !id || !token_label)
		return false;
	tl = token_trim(token_label, tbuf, sizeof(tbuf));
	if (!tl)
		return false;
	for (size_t i = 0; i < p->n; i++)
		if (rule_grants(&p->rules[i], id, tl, cls))
			return true;
	return false;
}

static bool cls_valid(unsigned cls)
{
	return cls != 0 && (cls & ~(unsigned)POL_ALL) == 0;
}

bool policy_allows_class(const struct policy *p, const struct pol_identity *id,
			 const char *token_label, unsigned cls)
{
	return cls_valid(cls) && class_query(p, id, token_label, cls);
}

bool policy_token_visible(const struct policy *p, const struct pol_identity *id,
			  const char *token_label)
{
	return class_query(p, id, token_label, 0);
}

/* A C string for attribute bytes: in stack (len bytes) when it fits, else on the heap (*heap
 * set, the caller frees). NULL when absent or out of memory. */
static char *attr_string(const uint8_t *v, size_t n, char *stack, size_t len, char **heap)
{
	char *s = stack;

	if (n >= len) {
		if (n == SIZE_MAX)
			return NULL;
		s = malloc(n + 1);
		if (!s)
			return NULL;
		*heap = s;
	}
	memcpy(s, v, n);
	s[n] = '\0';
	return s;
}

static char *hex_string(const uint8_t *v, size_t n, char *stack, size_t len, char **heap)
{
	static const char digits[] = "0123456789abcdef";
	size_t need = 0;
	char *s = stack;

	if (size_mul(n, 2, &need) || size_add(need, 1, &need))
		return NULL;
	if (need > len) {
		s = malloc(need);
		if (!s)
			return NULL;
		*heap = s;
	}
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[v[i] >> 4];
		s[2 * i + 1] = digits[v[i] & 0xf];
	}
	s[2 * n] = '\0';
	return s;
}

bool policy_allows_object(const struct policy *p, const struct pol_identity *id,
			  const char *token_label, unsigned cls, const uint8_t *label,
			  size_t label_len, const uint8_t *obj_id, size_t obj_id_len)
{
	char lbuf[POL_STACK_STR], hbuf[2 * POL_STACK_STR + 1], tbuf[128];
	char *lheap = NULL, *hheap = NULL;
	const char *lab = NULL, *hex = NULL, *tl;
	bool ok = false;

	if (!p || !id || !token_label || !cls_valid(cls))
		goto out;
	tl = token_trim(token_label, tbuf, sizeof(tbuf));
	if (!tl)
		goto out;
	/* A label with a NUL byte has no string form: it matches no label= pattern (but still
	 * falls under rules without one). */
	if (label && !memchr(label, '\0', label_len))
		lab = attr_string(label, label_len, lbuf, sizeof(lbuf), &lheap);
	if (obj_id)
		hex = hex_string(obj_id, obj_id_len, hbuf, sizeof(hbuf), &hheap);
	for (size_t i = 0; i < p->n && !ok; i++) {
		const struct pol_rule *r = &p->rules[i];

		if (!rule_grants(r, id, tl, cls))
			continue;
		if (r->label && (!lab || fnmatch(r->label, lab, 0) != 0))
			continue;
		if (r->id && (!hex || fnmatch(r->id, hex, 0) != 0))
			continue;
		ok = true;
	}
out:
	free(lheap);
	free(hheap);
	return ok;
}

/* --- describing ----------------------------------------------------------------------------- */

const char *pol_identity_describe(const struct pol_identity *id, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	if (!id)
		snprintf(buf, len, "(none)");
	else if (id->is_unix)
		snprintf(buf, len, "uid=%lu gid=%lu", id->uid, id->gid);
	else if (id->cn)
		snprintf(buf, len, "cn=%s", id->cn);
	else if (id->dns && id->n_dns && id->dns[0])
		snprintf(buf, len, "dns=%s", id->dns[0]);
	else if (id->uri && id->n_uri && id->uri[0])
		snprintf(buf, len, "uri=%s", id->uri[0]);
	else
		snprintf(buf, len, "tls (no name)");
	/* The names come from a client's certificate: keep them from forging log lines. */
	for (char *q = buf; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = '?';
	return buf;
}
