/*
 * The X.509 side of the teehsm command that needs no token: subjects and SANs from the command
 * line, certificates from PEM or DER, names and dates for people, and chain verification with
 * the failure in words (tool.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "tool.h"

/* The reason of the last OpenSSL error, or fallback; the queue is cleared. */
static const char *ossl_reason(const char *fallback)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r ? r : fallback;
}

/* ---- subjects ---- */

/* Add one TYPE=VALUE to name. */
static int add_entry(X509_NAME *name, const char *type, const char *value, char *err, size_t errsz)
{
	ASN1_OBJECT *obj = NULL;
	int nid = OBJ_txt2nid(type);
	int ok = 0;

	for (const char *p = value; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errsz, "control character in the value of %s", type);
			return -1;
		}
	}
	if (nid != NID_undef) {
		ok = X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
						(const unsigned char *)value, -1, -1, 0);
	} else {
		/* A dotted OID OpenSSL has no name for. */
		obj = isdigit((unsigned char)type[0]) ? OBJ_txt2obj(type, 1) : NULL;
		if (!obj) {
			ERR_clear_error();
			snprintf(err, errsz,
				 "unknown attribute type '%s' (use CN, O, OU, C, ST, L, "
				 "emailAddress, ... or a dotted OID)",
				 type);
			return -1;
		}
		ok = X509_NAME_add_entry_by_OBJ(name, obj, MBSTRING_UTF8,
						(const unsigned char *)value, -1, -1, 0);
		ASN1_OBJECT_free(obj);
	}
	if (!ok) {
		snprintf(err, errsz, "bad value for %s: %s", type,
			 ossl_reason("refused by OpenSSL"));
		return -1;
	}
	return 0;
}

int tool_subject_parse(const char *s, X509_NAME **out, char *err, size_t errsz)
{
	X509_NAME *name = NULL;
	char *value = NULL;
	char type[64];
	size_t tn = 0, vn = 0;
	int idx = 0, rc = -1;

	*out = NULL;
	if (s[0] != '/') {
		snprintf(err, errsz, "the subject must start with '/' (like /CN=name/O=org)");
		return -1;
	}
	name = X509_NAME_new();
	value = malloc(strlen(s) + 1);
	if (!name || !value) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	s++;
	while (*s) {
		idx++;
		for (tn = 0; *s && *s != '=' && *s != '/'; s++) {
			if (tn + 1 >= sizeof(type)) {
				snprintf(err, errsz, "component %d: attribute type too long", idx);
				goto out;
			}
			type[tn++] = *s;
		}
		type[tn] = '\0';
		if (*s != '=') {
			snprintf(err, errsz, "component %d ('%s'): missing '=' (like /CN=name)",
				 idx, type);
			goto out;
		}
		if (tn == 0) {
			snprintf(err, errsz, "component %d: missing attribute type before '='",
				 idx);
			goto out;
		}
		for (s++, vn = 0; *s && *s != '/'; s++) {
			if (*s == '\\') {
				if (!s[1]) {
					snprintf(err, errsz,
						 "a backslash at the end of the subject "
						 "escapes nothing");
					goto out;
				}
				s++;
			}
			value[vn++] = *s;
		}
		value[vn] = '\0';
		if (vn == 0) {
			snprintf(err, errsz, "empty value for %s", type);
			goto out;
		}
		if (add_entry(name, type, value, err, errsz) != 0)
			goto out;
		if (*s == '/')
			s++;
	}
	if (X509_NAME_entry_count(name) == 0) {
		snprintf(err, errsz, "the subject is empty (like /CN=name/O=org)");
		goto out;
	}
	*out = name;
	name = NULL; /* the caller owns it */
	rc = 0;
out:
	X509_NAME_free(name);
	free(value);
	return rc;
}

/* Append s to buf at *o, escaping what the slash form needs and control characters. */
static void append_escaped(char *buf, size_t size, size_t *o, const unsigned char *s, int len)
{
	for (int i = 0; i < len && *o + 5 < size; i++) {
		if (s[i] == '/' || s[i] == '\\') {
			buf[(*o)++] = '\\';
			buf[(*o)++] = (char)s[i];
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			*o += (size_t)snprintf(buf + *o, size - *o, "\\x%02x", s[i]);
		} else {
			buf[(*o)++] = (char)s[i];
		}
	}
	buf[*o] = '\0';
}

/* Append "TYPE=VALUE" of entry e. */
static void append_entry(char *buf, size_t size, size_t *o, const X509_NAME_ENTRY *e)
{
	const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
	int nid = OBJ_obj2nid(obj);
	unsigned char *u = NULL;
	char oid[80];
	int n = 0;

	if (nid != NID_undef && OBJ_nid2sn(nid))
		snprintf(oid, sizeof(oid), "%s", OBJ_nid2sn(nid));
	else if (OBJ_obj2txt(oid, sizeof(oid), obj, 1) <= 0)
		snprintf(oid, sizeof(oid), "?");
	if (*o + 1 < size)
		*o += (size_t)snprintf(buf + *o, size - *o, "%s=", oid);
	if (*o >= size) {
		*o = size - 1;
		return;
	}
	n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e));
	if (n >= 0)
		append_escaped(buf, size, o, u, n);
	OPENSSL_free(u);
	ERR_clear_error();
}

const char *tool_name_str(const X509_NAME *n, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < X509_NAME_entry_count(n) && o + 1 < size; i++) {
		buf[o++] = '/';
		buf[o] = '\0';
		append_entry(buf, size, &o, X509_NAME_get_entry(n, i));
	}
	if (!buf[0])
		snprintf(buf, size, "(empty name)");
	return buf;
}

const char *tool_name_short(const X509_NAME *n, char *buf, size_t size)
{
	int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
	size_t o = 0;

	if (i < 0)
		return tool_name_str(n, buf, size);
	buf[0] = '\0';
	append_entry(buf, size, &o, X509_NAME_get_entry(n, i));
	return buf;
}

/* ---- subjectAltName ---- */

static int dns_ok(const char *s)
{
	size_t len = strlen(s), lab = 0;

	if (len == 0 || len > 253)
		return 0;
	/* A wildcard is a whole leftmost label. */
	if (s[0] == '*') {
		if (s[1] != '.' || !s[2])
			return 0;
		s += 2;
	}
	for (const char *p = s;; p++) {
		if (*p == '.' || !*p) {
			if (lab == 0 || lab > 63 || p[-1] == '-')
				return 0;
			if (!*p)
				return 1;
			lab = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
		if (lab == 0 && *p == '-')
			return 0;
		lab++;
	}
}

static int uri_ok(const char *s)
{
	const char *p = s;

	if (!isalpha((unsigned char)*p))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':' || !p[1])
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

static int set_string(GENERAL_NAME *gn, int type, const void *data, size_t len)
{
	ASN1_STRING *str = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();

	if (!str || !ASN1_STRING_set(str, data, (int)len)) {
		ASN1_STRING_free(str);
		return -1;
	}
	GENERAL_NAME_set0_value(gn, type, str); /* gn owns str now */
	return 0;
}

int tool_san_parse(const char *s, GENERAL_NAME **out, char *err, size_t errsz)
{
	const char *colon = strchr(s, ':');
	const char *v = colon ? colon + 1 : NULL;
	size_t plen = colon ? (size_t)(colon - s) : 0;
	GENERAL_NAME *gn = NULL;
	unsigned char ip[16];
	char addr[64];
	size_t n = 0;
	int rc = -1;

	*out = NULL;
	gn = GENERAL_NAME_new();
	if (!gn) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (plen == 3 && strncasecmp(s, "dns", 3) == 0) {
		if (!dns_ok(v)) {
			snprintf(err, errsz,
				 "bad SAN '%s': not a DNS name (letters, digits, '-', "
				 "dots; '*.' only first)",
				 s);
			goto out;
		}
		rc = set_string(gn, GEN_DNS, v, strlen(v));
	} else if (plen == 3 && strncasecmp(s, "uri", 3) == 0) {
		if (!uri_ok(v)) {
			snprintf(err, errsz, "bad SAN '%s': not a URI (scheme:rest, no spaces)", s);
			goto out;
		}
		rc = set_string(gn, GEN_URI, v, strlen(v));
	} else if (plen == 2 && strncasecmp(s, "ip", 2) == 0) {
		n = strlen(v);
		/* "[::1]" as in URLs. */
		if (n >= 2 && v[0] == '[' && v[n - 1] == ']' && n - 2 < sizeof(addr)) {
			memcpy(addr, v + 1, n - 2);
			addr[n - 2] = '\0';
		} else {
			snprintf(addr, sizeof(addr), "%s", n < sizeof(addr) ? v : "");
		}
		if (inet_pton(AF_INET, addr, ip) == 1) {
			rc = set_string(gn, GEN_IPADD, ip, 4);
		} else if (inet_pton(AF_INET6, addr, ip) == 1) {
			rc = set_string(gn, GEN_IPADD, ip, 16);
		} else {
			snprintf(err, errsz, "bad SAN '%s': not an IPv4 or IPv6 address", s);
			goto out;
		}
	} else {
		snprintf(err, errsz, "bad SAN '%s': use dns:NAME, uri:URI or ip:ADDR", s);
		goto out;
	}
	if (rc != 0) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	*out = gn;
	gn = NULL; /* the caller owns it */
out:
	GENERAL_NAME_free(gn);
	return rc;
}

/* ---- loading certificates ---- */

int tool_certs_from_mem(const uint8_t *buf, size_t len, const char *what, STACK_OF(X509) * *out,
			char *err, size_t errsz)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	const unsigned char *p = buf;
	BIO *bio = NULL;
	X509 *x = NULL;
	unsigned long e = 0;
	int rc = -1;

	*out = NULL;
	ERR_clear_error();
	if (!sk || len > INT32_MAX) {
		snprintf(err, errsz, "%s: %s", what, sk ? "too large" : "out of memory");
		goto out;
	}
	if (memmem(buf, len, "-----BEGIN ", 11)) {
		bio = BIO_new_mem_buf(buf, (int)len);
		while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			if (!sk_X509_push(sk, x)) {
				X509_free(x);
				snprintf(err, errsz, "out of memory");
				goto out;
			}
			/* the stack owns x now */
		}
		e = ERR_peek_last_error();
		if (!bio || (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
				    ERR_GET_REASON(e) == PEM_R_NO_START_LINE))) {
			snprintf(err, errsz, "%s: certificate %d is not valid PEM: %s", what,
				 sk_X509_num(sk) + 1, ossl_reason("unreadable"));
			goto out;
		}
		if (sk_X509_num(sk) == 0) {
			snprintf(err, errsz, "%s holds no certificate (no PEM CERTIFICATE block)",
				 what);
			goto out;
		}
	} else {
		x = d2i_X509(NULL, &p, (long)len);
		if (!x) {
			snprintf(err, errsz, "%s is neither PEM nor a DER certificate (%s)", what,
				 ossl_reason("unreadable"));
			goto out;
		}
		if (p != buf + len) {
			X509_free(x);
			snprintf(err, errsz,
				 "%s: %zu bytes of garbage after the DER certificate "
				 "(several certificates must be PEM)",
				 what, len - (size_t)(p - buf));
			goto out;
		}
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			snprintf(err, errsz, "out of memory");
			goto out;
		}
	}
	*out = sk;
	sk = NULL; /* the caller owns it */
	rc = 0;
out:
	ERR_clear_error();
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

int tool_certs_load(const char *path, STACK_OF(X509) * *out, char *err, size_t errsz)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = -1;

	*out = NULL;
	if (tool_read_file(path, 16u << 20, &buf, &len, err, errsz) != 0)
		return -1;
	rc = tool_certs_from_mem(buf, len, strcmp(path, "-") ? path : "standard input", out, err,
				 errsz);
	free(buf);
	return rc;
}

/* ---- words for people ---- */

const char *tool_time_str(const ASN1_TIME *tm, char *buf, size_t size)
{
	struct tm t;

	memset(&t, 0, sizeof(t));
	if (!tm || ASN1_TIME_to_tm(tm, &t) != 1 ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &t) == 0)
		snprintf(buf, size, "(bad time)");
	return buf;
}

const char *tool_serial_str(const X509 *x, char *buf, size_t size)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(buf, size, "%s", hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
	return buf;
}

int tool_cert_same(const X509 *a, const X509 *b)
{
	return X509_cmp(a, b) == 0;
}

/* ---- chains ---- */

static bool self_issued(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

/* A certificate in sk whose subject is name (an issuer that exists but did not sign). */
static X509 *by_subject(STACK_OF(X509) * sk, const X509_NAME *name)
{
	for (int i = 0; i < sk_X509_num(sk); i++)
		if (X509_NAME_cmp(X509_get_subject_name(sk_X509_value(sk, i)), name) == 0)
			return sk_X509_value(sk, i);
	return NULL;
}

/* Word a verification failure: the certificate and why, in terms of the token. */
static void explain(X509_STORE_CTX *ctx, X509 *leaf, STACK_OF(X509) * untrusted,
		    STACK_OF(X509) * trusted, char *why, size_t size)
{
	int e = X509_STORE_CTX_get_error(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	char who[256], iss[256], tm[40];

	if (!cur)
		cur = leaf;
	tool_name_short(X509_get_subject_name(cur), who, sizeof(who));
	tool_name_short(X509_get_issuer_name(cur), iss, sizeof(iss));
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		snprintf(why, size, "%s: expired (notAfter %s)", who,
			 tool_time_str(X509_get0_notAfter(cur), tm, sizeof(tm)));
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		snprintf(why, size, "%s: not yet valid (notBefore %s)", who,
			 tool_time_str(X509_get0_notBefore(cur), tm, sizeof(tm)));
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		if (by_subject(untrusted, X509_get_issuer_name(cur)) ||
		    by_subject(trusted, X509_get_issuer_name(cur)))
			snprintf(why, size,
				 "%s: wrong issuer: the %s on the token did not issue it "
				 "(another key or key identifier)",
				 who, iss);
		else
			snprintf(why, size,
				 "%s: unable to get issuer certificate %s: the chain "
				 "does not lead to a trusted root on the token",
				 who, iss);
		break;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		snprintf(why, size,
			 "%s: self-signed and not a trusted root on the token: the chain "
			 "does not lead to a trusted root on the token",
			 who);
		break;
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		snprintf(why, size,
			 "%s: signature failure: not signed by the key of %s (wrong "
			 "issuer?)",
			 who, iss);
		break;
	case X509_V_ERR_INVALID_CA:
		snprintf(why, size, "%s: not a CA certificate, yet it issued %s", who,
			 X509_STORE_CTX_get_error_depth(ctx) > 0 ? "the one below it" : "others");
		break;
	default:
		snprintf(why, size, "%s: %s", who, X509_verify_cert_error_string(e));
		break;
	}
}

int tool_chain_verify(X509 *leaf, STACK_OF(X509) * untrusted, STACK_OF(X509) * trusted, time_t at,
		      STACK_OF(X509) * *chain, char *why, size_t whysize)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int rc = -1;

	if (chain)
		*chain = NULL;
	if (sk_X509_num(trusted) <= 0) {
		snprintf(why, whysize,
			 "no trusted root on the token (store one with teehsm cert "
			 "trust, or enroll --root)");
		return 1;
	}
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (!store || !ctx) {
		snprintf(why, whysize, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(trusted); i++) {
		if (!X509_STORE_add_cert(store, sk_X509_value(trusted, i))) {
			snprintf(why, whysize, "cannot use a trusted certificate: %s",
				 ossl_reason("refused"));
			goto out;
		}
	}
	if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
		snprintf(why, whysize, "cannot set up the verification: %s", ossl_reason("?"));
		goto out;
	}
	/* A trusted intermediate on the token is an anchor as well as a root. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	if (at)
		X509_STORE_CTX_set_time(ctx, 0, at);
	if (X509_verify_cert(ctx) == 1) {
		if (chain) {
			*chain = X509_STORE_CTX_get1_chain(ctx);
			if (!*chain) {
				snprintf(why, whysize, "out of memory");
				goto out;
			}
		}
		rc = 0;
	} else {
		explain(ctx, leaf, untrusted, trusted, why, whysize);
		rc = 1;
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

const char *tool_chain_str(STACK_OF(X509) * chain, bool trusted, char *buf, size_t size)
{
	char name[256];
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < sk_X509_num(chain) && o < size; i++)
		o += (size_t)snprintf(
			buf + o, size - o, "%s%s", i ? " <- " : "",
			tool_name_short(X509_get_subject_name(sk_X509_value(chain, i)), name,
					sizeof(name)));
	if (trusted && o < size)
		snprintf(buf + o, size - o, " (trusted)");
	return buf;
}

STACK_OF(X509) * tool_chain_build(X509 *leaf, STACK_OF(X509) * pool)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *cur = leaf, *next = NULL;

	if (!chain || !X509_up_ref(leaf))
		goto fail;
	if (!sk_X509_push(chain, leaf)) {
		X509_free(leaf);
		goto fail;
	}
	while (sk_X509_num(chain) < TOOL_MAX_CHAIN && !self_issued(cur)) {
		next = NULL;
		for (int i = 0; i < sk_X509_num(pool) && !next; i++) {
			X509 *c = sk_X509_value(pool, i);
			bool seen = false;

			for (int j = 0; j < sk_X509_num(chain); j++)
				seen = seen || tool_cert_same(c, sk_X509_value(chain, j));
			if (!seen && X509_check_issued(c, cur) == X509_V_OK)
				next = c;
		}
		if (!next)
			break;
		if (!X509_up_ref(next))
			goto fail;
		if (!sk_X509_push(chain, next)) {
			X509_free(next);
			goto fail;
		}
		cur = next;
	}
	ERR_clear_error();
	return chain;
fail:
	sk_X509_pop_free(chain, X509_free);
	return NULL;
}
