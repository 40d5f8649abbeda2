/* The teehsm command's X.509 side without a token (certs/tool_x509.c): subjects, SANs,
 * loading certificates, and chain verification worded for people, with certificates made
 * here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "tool.h"

#define DAY (24L * 3600)

/* ---- subjects ---- */

static void test_subject_parses_and_prints(void **state)
{
	X509_NAME *n = NULL;
	char err[TOOL_ERR_LEN], buf[256];

	(void)state;
	assert_int_equal(
		tool_subject_parse("/CN=build\\/signer/O=Fleet Inc/C=DE", &n, err, sizeof(err)), 0);
	assert_int_equal(X509_NAME_entry_count(n), 3);
	/* The slash form comes back with the escape. */
	assert_string_equal(tool_name_str(n, buf, sizeof(buf)),
			    "/CN=build\\/signer/O=Fleet Inc/C=DE");
	assert_string_equal(tool_name_short(n, buf, sizeof(buf)), "CN=build\\/signer");
	X509_NAME_free(n);

	/* A backslash escapes any character; a trailing slash ends the last component. */
	assert_int_equal(tool_subject_parse("/CN=a\\\\b\\=c/", &n, err, sizeof(err)), 0);
	assert_string_equal(tool_name_str(n, buf, sizeof(buf)), "/CN=a\\\\b=c");
	X509_NAME_free(n);

	/* Long names and dotted OIDs, UTF-8 values. */
	assert_int_equal(tool_subject_parse("/commonName=x/1.2.3.4.5=y/O=Gr\xc3\xbc\xc3\x9f", &n,
					    err, sizeof(err)),
			 0);
	assert_string_equal(tool_name_str(n, buf, sizeof(buf)),
			    "/CN=x/1.2.3.4.5=y/O=Gr\xc3\xbc\xc3\x9f");
	X509_NAME_free(n);

	/* No CN: the short form is the whole name. */
	assert_int_equal(tool_subject_parse("/O=Org/OU=Unit", &n, err, sizeof(err)), 0);
	assert_string_equal(tool_name_short(n, buf, sizeof(buf)), "/O=Org/OU=Unit");
	X509_NAME_free(n);
}

static void test_subject_refuses_bad_input(void **state)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "", "must start with '/'" },
		{ "CN=x/O=y", "must start with '/'" },
		{ "/", "the subject is empty" },
		{ "/CN", "missing '='" },
		{ "/CN/O=x", "component 1 ('CN'): missing '='" },
		{ "/CN=x/O", "component 2 ('O'): missing '='" },
		{ "/=x", "missing attribute type" },
		{ "/CN=", "empty value for CN" },
		{ "/CN=x/O=", "empty value for O" },
		{ "/XYZ=x", "unknown attribute type 'XYZ'" },
		{ "/C=Germany", "bad value for C" },
		{ "/CN=x\\", "backslash at the end" },
		{ "/CN=a\tb", "control character in the value of CN" },
		{ "/CN=\xff\xfe", "bad value for CN" },
	};
	X509_NAME *n = NULL;
	char err[TOOL_ERR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(tool_subject_parse(bad[i].in, &n, err, sizeof(err)), -1);
		assert_null(n);
		if (!strstr(err, bad[i].why))
			fail_msg("'%s': got '%s', want '%s'", bad[i].in, err, bad[i].why);
	}
	assert_int_equal(ERR_peek_error(), 0);
}

/* ---- SANs ---- */

static void san_ok(const char *s, int type, const void *want, int want_len)
{
	GENERAL_NAME *gn = NULL;
	char err[TOOL_ERR_LEN];
	int t = -1;
	ASN1_STRING *v = NULL;

	if (tool_san_parse(s, &gn, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", s, err);
	v = GENERAL_NAME_get0_value(gn, &t);
	assert_int_equal(t, type);
	assert_int_equal(ASN1_STRING_length(v), want_len);
	assert_memory_equal(ASN1_STRING_get0_data(v), want, (size_t)want_len);
	GENERAL_NAME_free(gn);
}

static void test_san_parses(void **state)
{
	static const uint8_t v4[] = { 10, 0, 0, 1 };
	static const uint8_t v6[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t lo6[16] = { [15] = 1 };

	(void)state;
	san_ok("dns:build-01.example.com", GEN_DNS, "build-01.example.com", 20);
	san_ok("DNS:*.fleet.example", GEN_DNS, "*.fleet.example", 15);
	san_ok("dns:_srv.example", GEN_DNS, "_srv.example", 12);
	san_ok("uri:spiffe://fleet/device/17", GEN_URI, "spiffe://fleet/device/17", 24);
	san_ok("uri:urn:uuid:1234", GEN_URI, "urn:uuid:1234", 13);
	san_ok("ip:10.0.0.1", GEN_IPADD, v4, 4);
	san_ok("ip:2001:db8::1", GEN_IPADD, v6, 16);
	san_ok("IP:[::1]", GEN_IPADD, lo6, 16);
}

static void test_san_refuses_bad_input(void **state)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "build.example", "use dns:NAME, uri:URI or ip:ADDR" },
		{ "email:a@b.c", "use dns:NAME, uri:URI or ip:ADDR" },
		{ "dns:", "not a DNS name" },
		{ "dns:a..b", "not a DNS name" },
		{ "dns:-a.example", "not a DNS name" },
		{ "dns:a-.example", "not a DNS name" },
		{ "dns:a b", "not a DNS name" },
		{ "dns:a.*.example", "not a DNS name" },
		{ "dns:*", "not a DNS name" },
		{ "dns:b\xc3\xbc.example", "not a DNS name" },
		{ "uri:", "not a URI" },
		{ "uri:no-scheme", "not a URI" },
		{ "uri:http:", "not a URI" },
		{ "uri:http://a b", "not a URI" },
		{ "ip:300.1.1.1", "not an IPv4 or IPv6 address" },
		{ "ip:1.2.3", "not an IPv4 or IPv6 address" },
		{ "ip:", "not an IPv4 or IPv6 address" },
		{ "ip:[1.2.3.4", "not an IPv4 or IPv6 address" },
		{ "ip:fe80::1%eth0", "not an IPv4 or IPv6 address" },
	};
	GENERAL_NAME *gn = NULL;
	char err[TOOL_ERR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(tool_san_parse(bad[i].in, &gn, err, sizeof(err)), -1);
		assert_null(gn);
		if (!strstr(err, bad[i].why))
			fail_msg("'%s': got '%s', want '%s'", bad[i].in, err, bad[i].why);
	}
}

/* ---- certificates made here ---- */

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	assert_non_null(k);
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e = NULL;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

/* A certificate for key with CN cn, issued by issuer (NULL: self-signed) with issuer_key,
 * valid from now + from to now + to seconds. akid adds the key identifiers. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
		       long from, long to, bool akid)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	assert_non_null(x);
	assert_true(X509_set_version(x, X509_VERSION_3));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++));
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
					       -1, -1, 0));
	assert_true(X509_set_subject_name(x, n));
	assert_true(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n));
	X509_NAME_free(n);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), from));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), to));
	assert_true(X509_set_pubkey(x, key));
	add_ext(x, issuer ? issuer : x, NID_basic_constraints,
		ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (akid) {
		add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
		add_ext(x, issuer ? issuer : x, NID_authority_key_identifier, "keyid:always");
	}
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

/* A root, an intermediate and a leaf, all valid now. */
struct pki {
	EVP_PKEY *root_key, *int_key, *leaf_key;
	X509 *root, *inter, *leaf;
};

static void pki_make(struct pki *p)
{
	p->root_key = new_key();
	p->int_key = new_key();
	p->leaf_key = new_key();
	p->root = make_cert("root", p->root_key, NULL, NULL, true, -DAY, 3650 * DAY, true);
	p->inter = make_cert("int", p->int_key, p->root, p->root_key, true, -DAY, 365 * DAY, true);
	p->leaf = make_cert("leaf", p->leaf_key, p->inter, p->int_key, false, -DAY, 30 * DAY, true);
}

static void pki_free(struct pki *p)
{
	X509_free(p->root);
	X509_free(p->inter);
	X509_free(p->leaf);
	EVP_PKEY_free(p->root_key);
	EVP_PKEY_free(p->int_key);
	EVP_PKEY_free(p->leaf_key);
}

static STACK_OF(X509) * stack_of(X509 *a, X509 *b)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	assert_non_null(sk);
	if (a)
		assert_true(sk_X509_push(sk, a));
	if (b)
		assert_true(sk_X509_push(sk, b));
	return sk;
}

/* Append the PEM of x to the BIO. */
static void pem(BIO *b, X509 *x)
{
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
}

static void test_certs_load_pem_der_and_garbage(void **state)
{
	struct pki p;
	BIO *b = BIO_new(BIO_s_mem());
	STACK_OF(X509) *sk = NULL;
	unsigned char *der = NULL;
	char *data = NULL, err[TOOL_ERR_LEN], path[] = "/tmp/teehsm-test-cli-XXXXXX";
	long len = 0;
	int dlen = 0, fd = -1;

	(void)state;
	pki_make(&p);
	/* One PEM certificate, with text around it as CAs print. */
	BIO_puts(b, "subject=CN=leaf\n");
	pem(b, p.leaf);
	len = BIO_get_mem_data(b, &data);
	assert_int_equal(
		tool_certs_from_mem((uint8_t *)data, (size_t)len, "x", &sk, err, sizeof(err)), 0);
	assert_int_equal(sk_X509_num(sk), 1);
	assert_true(tool_cert_same(sk_X509_value(sk, 0), p.leaf));
	sk_X509_pop_free(sk, X509_free);

	/* Several, in order, other PEM blocks skipped. */
	BIO_puts(b, "-----BEGIN PUBLIC "
		    "KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
		    "-----END PUBLIC KEY-----\n");
	pem(b, p.inter);
	pem(b, p.root);
	len = BIO_get_mem_data(b, &data);
	assert_int_equal(
		tool_certs_from_mem((uint8_t *)data, (size_t)len, "x", &sk, err, sizeof(err)), 0);
	assert_int_equal(sk_X509_num(sk), 3);
	assert_true(tool_cert_same(sk_X509_value(sk, 1), p.inter));
	assert_true(tool_cert_same(sk_X509_value(sk, 2), p.root));
	sk_X509_pop_free(sk, X509_free);

	/* A broken PEM block after good ones. */
	BIO_puts(b, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END "
		    "CERTIFICATE-----\n");
	len = BIO_get_mem_data(b, &data);
	assert_int_equal(tool_certs_from_mem((uint8_t *)data, (size_t)len, "bundle.pem", &sk, err,
					     sizeof(err)),
			 -1);
	assert_null(sk);
	assert_non_null(strstr(err, "bundle.pem: certificate 4 is not valid PEM"));

	/* PEM without a certificate. */
	assert_int_equal(tool_certs_from_mem((const uint8_t *)"-----BEGIN FOO-----\nAAAA\n-----END "
							      "FOO-----\n",
					     44, "f.pem", &sk, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "f.pem holds no certificate"));

	/* DER: one certificate, exactly. */
	dlen = i2d_X509(p.leaf, &der);
	assert_true(dlen > 0);
	assert_int_equal(tool_certs_from_mem(der, (size_t)dlen, "x", &sk, err, sizeof(err)), 0);
	assert_int_equal(sk_X509_num(sk), 1);
	sk_X509_pop_free(sk, X509_free);
	assert_int_equal(
		tool_certs_from_mem(der, (size_t)dlen - 1, "leaf.der", &sk, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "leaf.der is neither PEM nor a DER certificate"));

	/* Garbage and nothing. */
	assert_int_equal(
		tool_certs_from_mem((const uint8_t *)"hello", 5, "g", &sk, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "g is neither PEM nor a DER certificate"));
	assert_int_equal(
		tool_certs_from_mem((const uint8_t *)"", 0, "empty", &sk, err, sizeof(err)), -1);

	/* From a file: DER followed by junk. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, der, (size_t)dlen), dlen);
	assert_int_equal(write(fd, "xx", 2), 2);
	close(fd);
	assert_int_equal(tool_certs_load(path, &sk, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "2 bytes of garbage after the DER certificate"));
	unlink(path);
	assert_int_equal(tool_certs_load(path, &sk, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));

	assert_int_equal(ERR_peek_error(), 0);
	OPENSSL_free(der);
	BIO_free(b);
	pki_free(&p);
}

/* ---- chains ---- */

static int verify(X509 *leaf, X509 *u1, X509 *u2, X509 *trusted, time_t at, char *why, size_t size,
		  STACK_OF(X509) * *chain)
{
	STACK_OF(X509) *u = stack_of(u1, u2), *tr = stack_of(trusted, NULL);
	int r = tool_chain_verify(leaf, u, tr, at, chain, why, size);

	sk_X509_free(u);
	sk_X509_free(tr);
	return r;
}

static void test_chain_good(void **state)
{
	struct pki p;
	STACK_OF(X509) *chain = NULL, *pool = NULL, *built = NULL;
	char why[TOOL_ERR_LEN], buf[512];

	(void)state;
	pki_make(&p);
	assert_int_equal(verify(p.leaf, p.inter, NULL, p.root, 0, why, sizeof(why), &chain), 0);
	assert_string_equal(tool_chain_str(chain, true, buf, sizeof(buf)),
			    "CN=leaf <- CN=int <- CN=root (trusted)");
	sk_X509_pop_free(chain, X509_free);
	/* A trusted intermediate is an anchor too. */
	assert_int_equal(verify(p.leaf, NULL, NULL, p.inter, 0, why, sizeof(why), &chain), 0);
	assert_string_equal(tool_chain_str(chain, true, buf, sizeof(buf)),
			    "CN=leaf <- CN=int (trusted)");
	sk_X509_pop_free(chain, X509_free);

	/* Building without verifying: leaf first, up to the root. */
	pool = stack_of(p.root, p.inter);
	built = tool_chain_build(p.leaf, pool);
	assert_non_null(built);
	assert_string_equal(tool_chain_str(built, false, buf, sizeof(buf)),
			    "CN=leaf <- CN=int <- CN=root");
	sk_X509_pop_free(built, X509_free);
	sk_X509_free(pool);
	pool = stack_of(p.root, NULL);
	built = tool_chain_build(p.leaf, pool);
	assert_int_equal(sk_X509_num(built), 1);
	sk_X509_pop_free(built, X509_free);
	sk_X509_free(pool);
	pki_free(&p);
}

static void test_chain_failures_in_words(void **state)
{
	struct pki p;
	EVP_PKEY *other = new_key();
	X509 *expired = NULL, *early = NULL, *forged = NULL, *forged_noakid = NULL;
	X509 *int_noakid = NULL, *fake_int = NULL;
	char why[TOOL_ERR_LEN], tm[40];

	(void)state;
	pki_make(&p);

	/* No trust anchor at all. */
	assert_int_equal(tool_chain_verify(p.leaf, NULL, NULL, 0, NULL, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "no trusted root on the token"));

	/* Expired leaf, with its notAfter. */
	expired =
		make_cert("old", p.leaf_key, p.inter, p.int_key, false, -30 * DAY, -DAY / 2, true);
	assert_int_equal(verify(expired, p.inter, NULL, p.root, 0, why, sizeof(why), NULL), 1);
	tool_time_str(X509_get0_notAfter(expired), tm, sizeof(tm));
	assert_non_null(strstr(why, "CN=old: expired (notAfter "));
	assert_non_null(strstr(why, tm));

	/* The same chain checked at a time when it was valid. */
	assert_int_equal(verify(expired, p.inter, NULL, p.root, time(NULL) - 3 * DAY / 4, why,
				sizeof(why), NULL),
			 0);

	/* Not yet valid. */
	early = make_cert("early", p.leaf_key, p.inter, p.int_key, false, DAY, 2 * DAY, true);
	assert_int_equal(verify(early, p.inter, NULL, p.root, 0, why, sizeof(why), NULL), 1);
	assert_non_null(strstr(why, "CN=early: not yet valid (notBefore "));

	/* The intermediate is missing: the chain does not lead to the trusted root. */
	assert_int_equal(verify(p.leaf, NULL, NULL, p.root, 0, why, sizeof(why), NULL), 1);
	assert_non_null(strstr(why, "CN=leaf: unable to get issuer certificate CN=int"));
	assert_non_null(strstr(why, "does not lead to a trusted root on the token"));

	/* Issued in int's name by another key: with key identifiers OpenSSL finds no issuer,
	 * without them it finds int and the signature fails. Both name the certificate. */
	fake_int = make_cert("int", other, p.root, p.root_key, true, -DAY, DAY, true);
	forged = make_cert("forged", p.leaf_key, fake_int, other, false, -DAY, DAY, true);
	assert_int_equal(verify(forged, p.inter, NULL, p.root, 0, why, sizeof(why), NULL), 1);
	assert_non_null(strstr(why, "CN=forged: wrong issuer: the CN=int on the token did not "
				    "issue it"));
	int_noakid = make_cert("int", p.int_key, p.root, p.root_key, true, -DAY, DAY, false);
	forged_noakid = make_cert("forged", p.leaf_key, int_noakid, other, false, -DAY, DAY, false);
	assert_int_equal(verify(forged_noakid, int_noakid, NULL, p.root, 0, why, sizeof(why), NULL),
			 1);
	assert_non_null(strstr(why, "CN=forged: signature failure: not signed by the key of "
				    "CN=int"));

	/* A self-signed leaf that is not trusted. */
	assert_int_equal(verify(p.root, NULL, NULL, p.inter, 0, why, sizeof(why), NULL), 1);
	assert_non_null(strstr(why, "CN=root: self-signed and not a trusted root on the token"));

	/* Another root with the same name is trusted, not the real one. */
	X509_free(int_noakid);
	int_noakid = make_cert("root", other, NULL, NULL, true, -DAY, DAY, true);
	assert_int_equal(verify(p.leaf, p.inter, NULL, int_noakid, 0, why, sizeof(why), NULL), 1);
	assert_non_null(strstr(why, "CN=int: wrong issuer: the CN=root on the token did not "
				    "issue it"));

	assert_int_equal(ERR_peek_error(), 0);
	X509_free(expired);
	X509_free(early);
	X509_free(forged);
	X509_free(fake_int);
	X509_free(forged_noakid);
	X509_free(int_noakid);
	EVP_PKEY_free(other);
	pki_free(&p);
}

static void test_words_for_people(void **state)
{
	X509 *x = X509_new();
	ASN1_TIME *t = ASN1_TIME_set(NULL, 1767225600); /* 2026-01-01T00:00:00Z */
	char buf[64];

	(void)state;
	assert_non_null(x);
	assert_string_equal(tool_time_str(t, buf, sizeof(buf)), "2026-01-01T00:00:00Z");
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1a2b3c));
	assert_string_equal(tool_serial_str(x, buf, sizeof(buf)), "1A2B3C");
	ASN1_TIME_free(t);
	X509_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subject_parses_and_prints),
		cmocka_unit_test(test_subject_refuses_bad_input),
		cmocka_unit_test(test_san_parses),
		cmocka_unit_test(test_san_refuses_bad_input),
		cmocka_unit_test(test_certs_load_pem_der_and_garbage),
		cmocka_unit_test(test_chain_good),
		cmocka_unit_test(test_chain_failures_in_words),
		cmocka_unit_test(test_words_for_people),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
