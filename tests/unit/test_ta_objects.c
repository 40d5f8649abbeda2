/*
 * Objects, attributes, sessions and login of the token core through ta.h only (STYLE §12):
 * C_CreateObject for every class, C_CopyObject, C_SetAttributeValue, C_GetObjectSize, C_SetPIN,
 * C_SeedRandom and the login rules. Each test is named after the PKCS#11 v2.40 section it
 * checks; key material and certificates are made, and derived values recomputed, with OpenSSL.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "fixture_ta.h"
#include "ta.h"

#define MAX_FAILS   3
#define MAX_SESSION 8

static const CK_BYTE p256_params[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const CK_BYTE p384_params[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const CK_BYTE ed25519_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const CK_BYTE ed25519_name[] = { 0x13, 0x0c, 'e', 'd', 'w', 'a', 'r',
					'd',  's',  '2', '5', '5', '1', '9' };
/* secp256k1: a well-formed curve OID this token does not implement. */
static const CK_BYTE k256_params[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a };
static CK_BBOOL yes = CK_TRUE;
static CK_BBOOL no = CK_FALSE;
static CK_OBJECT_CLASS cls_data = CKO_DATA;
static CK_OBJECT_CLASS cls_cert = CKO_CERTIFICATE;
static CK_OBJECT_CLASS cls_pub = CKO_PUBLIC_KEY;
static CK_OBJECT_CLASS cls_priv = CKO_PRIVATE_KEY;
static CK_OBJECT_CLASS cls_secret = CKO_SECRET_KEY;
static CK_CERTIFICATE_TYPE x509 = CKC_X_509;
static CK_KEY_TYPE kt_rsa = CKK_RSA;
static CK_KEY_TYPE kt_ec = CKK_EC;
static CK_KEY_TYPE kt_ed = CKK_EC_EDWARDS;
static CK_KEY_TYPE kt_aes = CKK_AES;
static CK_KEY_TYPE kt_generic = CKK_GENERIC_SECRET;

static int setup(void **state)
{
	static const struct fx_ta_params p = {
		.name = "test_ta_objects",
		.label = "objects",
		.max_pin_failures = MAX_FAILS,
		.max_sessions = MAX_SESSION,
	};

	return fx_ta_setup(state, &p);
}

static int teardown(void **state)
{
	return fx_ta_teardown(state);
}

/* --- helpers --- */

static CK_FLAGS token_flags(struct fx *f)
{
	CK_TOKEN_INFO ti;

	assert_int_equal(ta_C_GetTokenInfo(f->c, TA_SLOT_ID, &ti), CKR_OK);
	return ti.flags;
}

/* Read attribute t of o into buf (cap bytes); returns the length, asserting CKR_OK. */
static CK_ULONG get_attr(struct fx *f, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
			 void *buf, CK_ULONG cap)
{
	CK_ATTRIBUTE a = { t, buf, cap };

	assert_int_equal(ta_C_GetAttributeValue(f->c, h, o, &a, 1), CKR_OK);
	return a.ulValueLen;
}

static CK_BBOOL get_bool(struct fx *f, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t)
{
	CK_BBOOL b = 0xee;

	assert_int_equal(get_attr(f, h, o, t, &b, 1), 1);
	return b;
}

static CK_ULONG get_ulong(struct fx *f, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o,
			  CK_ATTRIBUTE_TYPE t)
{
	CK_ULONG v = 0x5a5a;

	assert_int_equal(get_attr(f, h, o, t, &v, sizeof(v)), sizeof(v));
	return v;
}

/* The attribute t of o must be unreadable: CKR_ATTRIBUTE_SENSITIVE, length unavailable. */
static void assert_sensitive(struct fx *f, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o,
			     CK_ATTRIBUTE_TYPE t)
{
	CK_BYTE buf[1024];
	CK_ATTRIBUTE a = { t, buf, sizeof(buf) };
	CK_ATTRIBUTE q = { t, NULL, 0 };

	assert_int_equal(ta_C_GetAttributeValue(f->c, h, o, &a, 1), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(ta_C_GetAttributeValue(f->c, h, o, &q, 1), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(q.ulValueLen, CK_UNAVAILABLE_INFORMATION);
}

/* The attribute t of o must equal len bytes at want. */
static void assert_attr(struct fx *f, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
			const void *want, size_t len)
{
	CK_BYTE buf[4096];

	assert_int_equal(get_attr(f, h, o, t, buf, sizeof(buf)), len);
	assert_memory_equal(buf, want, len);
}

/* DER of an OpenSSL object through an i2d function, in a heap buffer. */
#define I2D(fn, obj, outp, lenp)                                                                   \
	do {                                                                                       \
		unsigned char *p_ = NULL;                                                          \
		int n_ = fn((obj), &p_);                                                           \
		assert_true(n_ > 0);                                                               \
		*(outp) = p_;                                                                      \
		*(lenp) = (size_t)n_;                                                              \
	} while (0)

static EVP_PKEY *keygen(const char *alg, const char *param)
{
	EVP_PKEY *k = NULL;

	if (strcmp(alg, "EC") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
	else if (strcmp(alg, "RSA") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, alg);
	assert_non_null(k);
	return k;
}

/* A big-endian BN parameter of k into buf; returns its length. */
static size_t bn_param(EVP_PKEY *k, const char *name, CK_BYTE *buf, size_t cap)
{
	BIGNUM *bn = NULL;
	int n = 0;

	assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
	n = BN_num_bytes(bn);
	assert_true(n > 0 && (size_t)n <= cap);
	BN_bn2bin(bn, buf);
	BN_clear_free(bn);
	return (size_t)n;
}

/* A self-signed certificate for key k with the given CN and serial, valid from 2020-01-02 to
 * 2040-03-04. */
static X509 *make_cert(EVP_PKEY *k, const char *cn, long serial)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	assert_non_null(x);
	assert_non_null(n);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
						    (const unsigned char *)cn, -1, -1, 0),
			 1);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	assert_non_null(ASN1_TIME_set_string(X509_getm_notBefore(x), "20200102030405Z"));
	assert_non_null(ASN1_TIME_set_string(X509_getm_notAfter(x), "20400304050607Z"));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

/* --- §4.1.1 creating objects: template errors --- */

static void test_4_1_1_create_template_errors(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h = user_session(f);
	CK_OBJECT_HANDLE o = 99;
	CK_OBJECT_CLASS bogus = 0x7777;
	CK_KEY_TYPE bogus_kt = 0x7777;
	CK_ULONG four = 4, sixteen = 16;
	CK_BYTE key16[16] = { 1, 2, 3 }, key15[15] = { 0 };
	CK_BYTE scalar[32] = { 1 };

	CK_ATTRIBUTE no_class[] = { { CKA_LABEL, "x", 1 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, no_class, 1, &o), CKR_TEMPLATE_INCOMPLETE);
	assert_int_equal(o, CK_INVALID_HANDLE);
	CK_ATTRIBUTE bad_class[] = { { CKA_CLASS, &bogus, sizeof(bogus) } };
	assert_int_equal(ta_C_CreateObject(f->c, h, bad_class, 1, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE short_class[] = { { CKA_CLASS, &yes, 1 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, short_class, 1, &o),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE no_kt[] = { { CKA_CLASS, &cls_secret, sizeof(cls_secret) },
				 { CKA_VALUE, key16, sizeof(key16) } };
	assert_int_equal(ta_C_CreateObject(f->c, h, no_kt, 2, &o), CKR_TEMPLATE_INCOMPLETE);
	CK_ATTRIBUTE bad_kt[] = { { CKA_CLASS, &cls_secret, sizeof(cls_secret) },
				  { CKA_KEY_TYPE, &bogus_kt, sizeof(bogus_kt) },
				  { CKA_VALUE, key16, sizeof(key16) } };
	assert_int_equal(ta_C_CreateObject(f->c, h, bad_kt, 3, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE aes_ok[] = { { CKA_CLASS, &cls_secret, sizeof(cls_secret) },
				  { CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
				  { CKA_VALUE, key16, sizeof(key16) },
				  { CKA_LABEL, "k", 1 } };
	/* Footnote 1: CKA_VALUE must be given. */
	assert_int_equal(ta_C_CreateObject(f->c, h, aes_ok, 2, &o), CKR_TEMPLATE_INCOMPLETE);
	/* Footnotes 2, 4, 6 together: never from a template. */
	CK_ATTRIBUTE local[] = { aes_ok[0], aes_ok[1], aes_ok[2], { CKA_LOCAL, &no, 1 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, local, 4, &o), CKR_ATTRIBUTE_READ_ONLY);
	CK_ATTRIBUTE asens[] = {
		aes_ok[0], aes_ok[1], aes_ok[2], { CKA_ALWAYS_SENSITIVE, &yes, 1 }
	};
	assert_int_equal(ta_C_CreateObject(f->c, h, asens, 4, &o), CKR_ATTRIBUTE_READ_ONLY);
	/* Footnote 2 alone: the token contributes CKA_VALUE_LEN at creation. */
	CK_ATTRIBUTE vlen[] = {
		aes_ok[0], aes_ok[1], aes_ok[2], { CKA_VALUE_LEN, &sixteen, sizeof(sixteen) }
	};
	assert_int_equal(ta_C_CreateObject(f->c, h, vlen, 4, &o), CKR_TEMPLATE_INCONSISTENT);
	/* Not an attribute of the class. */
	CK_ATTRIBUTE foreign[] = {
		aes_ok[0], aes_ok[1], aes_ok[2], { CKA_MODULUS, key16, sizeof(key16) }
	};
	assert_int_equal(ta_C_CreateObject(f->c, h, foreign, 4, &o), CKR_ATTRIBUTE_TYPE_INVALID);
	CK_ATTRIBUTE unknown[] = { aes_ok[0], aes_ok[1], aes_ok[2], { 0x7fff1234UL, key16, 1 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, unknown, 4, &o), CKR_ATTRIBUTE_TYPE_INVALID);
	CK_ATTRIBUTE bad_bool[] = {
		aes_ok[0], aes_ok[1], aes_ok[2], { CKA_ENCRYPT, &four, sizeof(four) }
	};
	assert_int_equal(ta_C_CreateObject(f->c, h, bad_bool, 4, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE bad_date[] = {
		aes_ok[0], aes_ok[1], aes_ok[2], { CKA_START_DATE, "2020", 4 }
	};
	assert_int_equal(ta_C_CreateObject(f->c, h, bad_date, 4, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE dup[] = { aes_ok[0], aes_ok[1], aes_ok[2], aes_ok[3], aes_ok[3] };
	assert_int_equal(ta_C_CreateObject(f->c, h, dup, 5, &o), CKR_TEMPLATE_INCONSISTENT);
	CK_ATTRIBUTE two_classes[] = {
		aes_ok[0], aes_ok[1], aes_ok[2], { CKA_CLASS, &cls_data, sizeof(cls_data) }
	};
	assert_int_equal(ta_C_CreateObject(f->c, h, two_classes, 4, &o), CKR_TEMPLATE_INCONSISTENT);
	CK_ATTRIBUTE aes15[] = { aes_ok[0], aes_ok[1], { CKA_VALUE, key15, sizeof(key15) } };
	assert_int_equal(ta_C_CreateObject(f->c, h, aes15, 3, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE ec_no_params[] = { { CKA_CLASS, &cls_priv, sizeof(cls_priv) },
					{ CKA_KEY_TYPE, &kt_ec, sizeof(kt_ec) },
					{ CKA_VALUE, scalar, sizeof(scalar) } };
	assert_int_equal(ta_C_CreateObject(f->c, h, ec_no_params, 3, &o), CKR_TEMPLATE_INCOMPLETE);
	assert_int_equal(ta_C_CreateObject(f->c, h, aes_ok, 4, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(ta_C_CreateObject(f->c, h, NULL, 4, &o), CKR_ARGUMENTS_BAD);
	assert_int_equal(ta_C_CreateObject(f->c, 0x1234, aes_ok, 4, &o),
			 CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(o, CK_INVALID_HANDLE);

	/* Nothing failed half-way: no object exists yet. */
	CK_OBJECT_HANDLE found[4];
	CK_ULONG got = 9;
	assert_int_equal(ta_C_FindObjectsInit(f->c, h, NULL, 0), CKR_OK);
	assert_int_equal(ta_C_FindObjects(f->c, h, found, 4, &got), CKR_OK);
	assert_int_equal(got, 0);
	assert_int_equal(ta_C_FindObjectsFinal(f->c, h), CKR_OK);

	assert_int_equal(ta_C_CreateObject(f->c, h, aes_ok, 4, &o), CKR_OK);
	assert_int_not_equal(o, CK_INVALID_HANDLE);
}

/* --- §4.5 data objects; §5.7 access rules of C_CreateObject --- */

static void test_4_5_data_objects(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE rw, ro;
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
	CK_BYTE oid[] = { 0x06, 0x03, 0x2a, 0x03, 0x04 };
	CK_BYTE bad_oid[] = { 0x04, 0x03, 0x2a, 0x03, 0x04 };
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_data, sizeof(cls_data) },
		{ CKA_APPLICATION, "app", 3 },
		{ CKA_VALUE, "payload", 7 },
		{ CKA_OBJECT_ID, oid, sizeof(oid) },
		{ CKA_TOKEN, &yes, 1 },
	};

	init_token(f);
	rw = open_session(f, true);
	ro = open_session(f, false);
	/* Token objects need a R/W session, private ones the user. */
	assert_int_equal(ta_C_CreateObject(f->c, ro, t, 5, &o), CKR_SESSION_READ_ONLY);
	CK_ATTRIBUTE priv[] = { t[0], { CKA_PRIVATE, &yes, 1 } };
	assert_int_equal(ta_C_CreateObject(f->c, rw, priv, 2, &o), CKR_USER_NOT_LOGGED_IN);
	CK_ATTRIBUTE bad[] = { t[0], { CKA_OBJECT_ID, bad_oid, sizeof(bad_oid) } };
	assert_int_equal(ta_C_CreateObject(f->c, rw, bad, 2, &o), CKR_ATTRIBUTE_VALUE_INVALID);

	assert_int_equal(ta_C_CreateObject(f->c, rw, t, 5, &o), CKR_OK);
	assert_attr(f, ro, o, CKA_APPLICATION, "app", 3);
	assert_attr(f, ro, o, CKA_VALUE, "payload", 7);
	assert_attr(f, ro, o, CKA_OBJECT_ID, oid, sizeof(oid));
	assert_int_equal(get_bool(f, ro, o, CKA_PRIVATE), CK_FALSE);
	assert_int_equal(get_bool(f, ro, o, CKA_MODIFIABLE), CK_TRUE);
	assert_int_equal(get_ulong(f, ro, o, CKA_CLASS), CKO_DATA);
	CK_ATTRIBUTE kt = { CKA_KEY_TYPE, NULL, 0 };
	assert_int_equal(ta_C_GetAttributeValue(f->c, ro, o, &kt, 1), CKR_ATTRIBUTE_TYPE_INVALID);

	/* §4.5: no data-object attribute is modifiable; the label is (§4.4). */
	CK_ATTRIBUTE setv = { CKA_VALUE, "other", 5 };
	assert_int_equal(ta_C_SetAttributeValue(f->c, rw, o, &setv, 1), CKR_ATTRIBUTE_READ_ONLY);
	CK_ATTRIBUTE setl = { CKA_LABEL, "data label", 10 };
	assert_int_equal(ta_C_SetAttributeValue(f->c, ro, o, &setl, 1), CKR_SESSION_READ_ONLY);
	assert_int_equal(ta_C_SetAttributeValue(f->c, rw, o, &setl, 1), CKR_OK);

	/* A token object: persisted with its new label. */
	fx_close(f);
	fx_open(f);
	ro = open_session(f, false);
	CK_ATTRIBUTE find = { CKA_APPLICATION, "app", 3 };
	CK_ULONG got = 0;
	assert_int_equal(ta_C_FindObjectsInit(f->c, ro, &find, 1), CKR_OK);
	assert_int_equal(ta_C_FindObjects(f->c, ro, &o, 1, &got), CKR_OK);
	assert_int_equal(got, 1);
	assert_int_equal(ta_C_FindObjectsFinal(f->c, ro), CKR_OK);
	assert_attr(f, ro, o, CKA_LABEL, "data label", 10);
	assert_attr(f, ro, o, CKA_VALUE, "payload", 7);
}

/* --- §4.6.3 X.509 public key certificate objects --- */

static void test_4_6_3_x509_certificate(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h, so;
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE, cert = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE trusted = CK_INVALID_HANDLE;
	EVP_PKEY *k = keygen("EC", "P-256");
	X509 *x = make_cert(k, "teehsm test cert", 0x1234567);
	unsigned char *der = NULL, *subj = NULL, *serial = NULL, *spki = NULL;
	size_t der_len = 0, subj_len = 0, serial_len = 0, spki_len = 0;
	CK_BYTE sha[SHA_DIGEST_LENGTH];
	CK_BYTE *trailing = NULL;
	CK_ULONG cat = 2, bad_cat = 9;

	I2D(i2d_X509, x, &der, &der_len);
	I2D(i2d_X509_NAME, X509_get_subject_name(x), &subj, &subj_len);
	I2D(i2d_ASN1_INTEGER, X509_get0_serialNumber(x), &serial, &serial_len);
	I2D(i2d_PUBKEY, k, &spki, &spki_len);
	SHA1(der, der_len, sha);

	h = user_session(f);
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_cert, sizeof(cls_cert) },
		{ CKA_CERTIFICATE_TYPE, &x509, sizeof(x509) },
		{ CKA_VALUE, der, der_len },
		{ CKA_ID, "id1", 3 },
		{ CKA_CERTIFICATE_CATEGORY, &cat, sizeof(cat) },
	};
	assert_int_equal(ta_C_CreateObject(f->c, h, t, 5, &cert), CKR_OK);
	o = cert;
	assert_attr(f, h, o, CKA_SUBJECT, subj, subj_len);
	assert_attr(f, h, o, CKA_ISSUER, subj, subj_len);
	assert_attr(f, h, o, CKA_SERIAL_NUMBER, serial, serial_len);
	assert_attr(f, h, o, CKA_PUBLIC_KEY_INFO, spki, spki_len);
	assert_attr(f, h, o, CKA_CHECK_VALUE, sha, 3);
	assert_attr(f, h, o, CKA_START_DATE, "20200102", 8);
	assert_attr(f, h, o, CKA_END_DATE, "20400304", 8);
	assert_attr(f, h, o, CKA_VALUE, der, der_len);
	assert_int_equal(get_bool(f, h, o, CKA_TRUSTED), CK_FALSE);
	assert_int_equal(get_bool(f, h, o, CKA_PRIVATE), CK_FALSE);
	assert_int_equal(get_ulong(f, h, o, CKA_CERTIFICATE_CATEGORY), 2);
	assert_int_equal(get_ulong(f, h, o, CKA_NAME_HASH_ALGORITHM), CKM_SHA_1);

	/* The caller may repeat a derived value, never change it. */
	CK_ATTRIBUTE same[] = { t[0],
				t[1],
				t[2],
				{ CKA_SUBJECT, subj, subj_len },
				{ CKA_SERIAL_NUMBER, serial, serial_len } };
	assert_int_equal(ta_C_CreateObject(f->c, h, same, 5, &o), CKR_OK);
	CK_ATTRIBUTE other_subj[] = { t[0], t[1], t[2], { CKA_SUBJECT, serial, serial_len } };
	assert_int_equal(ta_C_CreateObject(f->c, h, other_subj, 4, &o),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE other_date[] = { t[0], t[1], t[2], { CKA_START_DATE, "20200103", 8 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, other_date, 4, &o),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE other_cv[] = { t[0], t[1], t[2], { CKA_CHECK_VALUE, "abc", 3 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, other_cv, 4, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE bad_category[] = {
		t[0], t[1], t[2], { CKA_CERTIFICATE_CATEGORY, &bad_cat, sizeof(bad_cat) }
	};
	assert_int_equal(ta_C_CreateObject(f->c, h, bad_category, 4, &o),
			 CKR_ATTRIBUTE_VALUE_INVALID);

	/* Invalid DER: truncated, trailing bytes, garbage, empty, missing. */
	CK_ATTRIBUTE trunc[] = { t[0], t[1], { CKA_VALUE, der, der_len - 1 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, trunc, 3, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	trailing = malloc(der_len + 1);
	assert_non_null(trailing);
	memcpy(trailing, der, der_len);
	trailing[der_len] = 0;
	CK_ATTRIBUTE trail[] = { t[0], t[1], { CKA_VALUE, trailing, der_len + 1 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, trail, 3, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE garbage[] = { t[0], t[1], { CKA_VALUE, "\x30\x03\x02\x01\x01", 5 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, garbage, 3, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE empty[] = { t[0], t[1], { CKA_VALUE, NULL, 0 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, empty, 3, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(ta_C_CreateObject(f->c, h, t, 2, &o), CKR_TEMPLATE_INCOMPLETE);
	CK_ATTRIBUTE no_type[] = { t[0], t[2] };
	assert_int_equal(ta_C_CreateObject(f->c, h, no_type, 2, &o), CKR_TEMPLATE_INCOMPLETE);

	/* §4.6.2 CKA_TRUSTED: only the SO sets it, and trusted certificates cannot change. */
	CK_ATTRIBUTE trust[] = { t[0], t[1], t[2], { CKA_TRUSTED, &yes, 1 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, trust, 4, &o), CKR_ATTRIBUTE_READ_ONLY);
	CK_ATTRIBUTE set_trust = { CKA_TRUSTED, &yes, 1 };
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, cert, &set_trust, 1),
			 CKR_ATTRIBUTE_READ_ONLY);
	/* Modifiable: CKA_ID (and the label); CKA_SUBJECT is not; CKA_ISSUER only keeps its value.
	 */
	CK_ATTRIBUTE set_id = { CKA_ID, "id2", 3 };
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, cert, &set_id, 1), CKR_OK);
	assert_attr(f, h, cert, CKA_ID, "id2", 3);
	CK_ATTRIBUTE set_subj = { CKA_SUBJECT, subj, subj_len };
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, cert, &set_subj, 1),
			 CKR_ATTRIBUTE_READ_ONLY);
	CK_ATTRIBUTE set_issuer = { CKA_ISSUER, serial, serial_len };
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, cert, &set_issuer, 1),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE set_value = { CKA_VALUE, der, der_len };
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, cert, &set_value, 1),
			 CKR_ATTRIBUTE_READ_ONLY);

	assert_int_equal(ta_C_Logout(f->c, h), CKR_OK);
	so = h;
	assert_int_equal(login(f, so, CKU_SO, SO_PIN), CKR_OK);
	assert_int_equal(ta_C_CreateObject(f->c, so, trust, 4, &trusted), CKR_OK);
	assert_int_equal(get_bool(f, so, trusted, CKA_TRUSTED), CK_TRUE);
	assert_int_equal(ta_C_SetAttributeValue(f->c, so, trusted, &set_id, 1),
			 CKR_ATTRIBUTE_READ_ONLY);
	/* The SO may mark an existing certificate trusted. */
	assert_int_equal(ta_C_SetAttributeValue(f->c, so, cert, &set_trust, 1), CKR_OK);
	assert_int_equal(get_bool(f, so, cert, CKA_TRUSTED), CK_TRUE);

	free(trailing);
	OPENSSL_free(der);
	OPENSSL_free(subj);
	OPENSSL_free(serial);
	OPENSSL_free(spki);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* --- §4.9 private key import (Current Mechanisms §2.3.4 EC, §2.1.3 RSA) --- */

/* Imported keys are not local, never "always sensitive" or "never extractable". */
static void assert_imported(struct fx *f, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o)
{
	assert_int_equal(get_bool(f, h, o, CKA_LOCAL), CK_FALSE);
	assert_int_equal(get_bool(f, h, o, CKA_ALWAYS_SENSITIVE), CK_FALSE);
	assert_int_equal(get_bool(f, h, o, CKA_NEVER_EXTRACTABLE), CK_FALSE);
	assert_int_equal(get_ulong(f, h, o, CKA_KEY_GEN_MECHANISM), CK_UNAVAILABLE_INFORMATION);
}

static void test_4_9_import_ec_keys(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h = user_session(f);
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE;
	EVP_PKEY *k = keygen("EC", "P-256");
	EVP_PKEY *k384 = keygen("EC", "P-384");
	CK_BYTE d[48], d384[48], q[65], point[67], order[32];
	size_t d_len = bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, d, sizeof(d));
	size_t d384_len = bn_param(k384, OSSL_PKEY_PARAM_PRIV_KEY, d384, sizeof(d384));
	unsigned char *spki = NULL, *spki384 = NULL;
	size_t spki_len = 0, spki384_len = 0, q_len = 0;
	CK_BYTE zero[32] = { 0 };

	I2D(i2d_PUBKEY, k, &spki, &spki_len);
	I2D(i2d_PUBKEY, k384, &spki384, &spki384_len);
	assert_int_equal(
		EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, q, sizeof(q), &q_len),
		1);
	assert_int_equal(q_len, 65);
	point[0] = 0x04;
	point[1] = 65;
	memcpy(point + 2, q, 65);

	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_priv, sizeof(cls_priv) },
		{ CKA_KEY_TYPE, &kt_ec, sizeof(kt_ec) },
		{ CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) },
		{ CKA_VALUE, d, d_len },
		{ CKA_SIGN, &yes, 1 },
	};
	assert_int_equal(ta_C_CreateObject(f->c, h, t, 5, &o), CKR_OK);
	/* The token derived the public key from the scalar: it matches OpenSSL's. */
	assert_attr(f, h, o, CKA_PUBLIC_KEY_INFO, spki, spki_len);
	assert_imported(f, h, o);
	assert_int_equal(get_bool(f, h, o, CKA_SENSITIVE), CK_TRUE);
	assert_int_equal(get_bool(f, h, o, CKA_PRIVATE), CK_TRUE);
	assert_sensitive(f, h, o, CKA_VALUE);

	/* P-384. */
	CK_ATTRIBUTE t384[] = { t[0],
				t[1],
				{ CKA_EC_PARAMS, (void *)p384_params, sizeof(p384_params) },
				{ CKA_VALUE, d384, d384_len } };
	assert_int_equal(ta_C_CreateObject(f->c, h, t384, 4, &o), CKR_OK);
	assert_attr(f, h, o, CKA_PUBLIC_KEY_INFO, spki384, spki384_len);

	/* Bad scalars: zero, the group order, too long; unknown and malformed curves. */
	CK_ATTRIBUTE tz[] = { t[0], t[1], t[2], { CKA_VALUE, zero, sizeof(zero) } };
	assert_int_equal(ta_C_CreateObject(f->c, h, tz, 4, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	BIGNUM *n = NULL;
	assert_non_null(
		BN_hex2bn(&n, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"));
	assert_int_equal(BN_bn2binpad(n, order, sizeof(order)), 32);
	BN_free(n);
	CK_ATTRIBUTE tn[] = { t[0], t[1], t[2], { CKA_VALUE, order, sizeof(order) } };
	assert_int_equal(ta_C_CreateObject(f->c, h, tn, 4, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE tl[] = { t[0], t[1], t[2], { CKA_VALUE, d384, 48 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, tl, 4, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE tk[] = {
		t[0], t[1], { CKA_EC_PARAMS, (void *)k256_params, sizeof(k256_params) }, t[3]
	};
	assert_int_equal(ta_C_CreateObject(f->c, h, tk, 4, &o), CKR_CURVE_NOT_SUPPORTED);
	CK_ATTRIBUTE tg[] = { t[0], t[1], { CKA_EC_PARAMS, "\x06\x09garbage", 9 }, t[3] };
	assert_int_equal(ta_C_CreateObject(f->c, h, tg, 4, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	/* CKA_EC_POINT is not an attribute of a private key; CKA_PUBLIC_KEY_INFO is the
	 * token's. */
	CK_ATTRIBUTE tp[] = { t[0], t[1], t[2], t[3], { CKA_EC_POINT, point, sizeof(point) } };
	assert_int_equal(ta_C_CreateObject(f->c, h, tp, 5, &o), CKR_ATTRIBUTE_TYPE_INVALID);

	/* The public key: the DER point, checked on the curve. */
	CK_ATTRIBUTE pt[] = {
		{ CKA_CLASS, &cls_pub, sizeof(cls_pub) },
		{ CKA_KEY_TYPE, &kt_ec, sizeof(kt_ec) },
		{ CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) },
		{ CKA_EC_POINT, point, sizeof(point) },
	};
	assert_int_equal(ta_C_CreateObject(f->c, h, pt, 4, &pub), CKR_OK);
	assert_attr(f, h, pub, CKA_PUBLIC_KEY_INFO, spki, spki_len);
	assert_attr(f, h, pub, CKA_EC_POINT, point, sizeof(point));
	assert_int_equal(get_bool(f, h, pub, CKA_PRIVATE), CK_FALSE);
	point[66] ^= 1; /* off the curve */
	assert_int_equal(ta_C_CreateObject(f->c, h, pt, 4, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	point[66] ^= 1;
	CK_ATTRIBUTE raw[] = { pt[0], pt[1], pt[2], { CKA_EC_POINT, q, sizeof(q) } };
	assert_int_equal(ta_C_CreateObject(f->c, h, raw, 4, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE no_point[] = { pt[0], pt[1], pt[2] };
	assert_int_equal(ta_C_CreateObject(f->c, h, no_point, 3, &o), CKR_TEMPLATE_INCOMPLETE);

	OPENSSL_free(spki);
	OPENSSL_free(spki384);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k384);
}

static void test_4_9_import_rsa_keys(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h = user_session(f);
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
	EVP_PKEY *k = keygen("RSA", NULL);
	static const char *names[8] = {
		OSSL_PKEY_PARAM_RSA_N,	       OSSL_PKEY_PARAM_RSA_E,
		OSSL_PKEY_PARAM_RSA_D,	       OSSL_PKEY_PARAM_RSA_FACTOR1,
		OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	static const CK_ATTRIBUTE_TYPE types[8] = {
		CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
		CKA_PRIME_2, CKA_EXPONENT_1,	  CKA_EXPONENT_2,	CKA_COEFFICIENT,
	};
	CK_BYTE v[8][256];
	CK_ATTRIBUTE t[11];
	unsigned char *spki = NULL;
	size_t spki_len = 0;
	CK_ULONG bits = 2048;

	I2D(i2d_PUBKEY, k, &spki, &spki_len);
	t[0] = (CK_ATTRIBUTE){ CKA_CLASS, &cls_priv, sizeof(cls_priv) };
	t[1] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, &kt_rsa, sizeof(kt_rsa) };
	t[2] = (CK_ATTRIBUTE){ CKA_DECRYPT, &yes, 1 };
	for (size_t i = 0; i < 8; i++)
		t[3 + i] = (CK_ATTRIBUTE){ types[i], v[i], bn_param(k, names[i], v[i], 256) };

	assert_int_equal(ta_C_CreateObject(f->c, h, t, 11, &o), CKR_OK);
	assert_attr(f, h, o, CKA_PUBLIC_KEY_INFO, spki, spki_len);
	assert_attr(f, h, o, CKA_MODULUS, v[0], t[3].ulValueLen);
	assert_attr(f, h, o, CKA_PUBLIC_EXPONENT, v[1], t[4].ulValueLen);
	assert_imported(f, h, o);
	assert_int_equal(get_bool(f, h, o, CKA_DECRYPT), CK_TRUE);
	/* Every secret component is unreadable. */
	for (size_t i = 2; i < 8; i++)
		assert_sensitive(f, h, o, types[i]);

	/* A missing CRT component, an inconsistent one. */
	assert_int_equal(ta_C_CreateObject(f->c, h, t, 10, &o), CKR_TEMPLATE_INCOMPLETE);
	v[3][t[6].ulValueLen - 1] ^= 2; /* p */
	assert_int_equal(ta_C_CreateObject(f->c, h, t, 11, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	v[3][t[6].ulValueLen - 1] ^= 2;
	v[2][5] ^= 1; /* d */
	assert_int_equal(ta_C_CreateObject(f->c, h, t, 11, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	v[2][5] ^= 1;

	/* The public key: CKA_MODULUS_BITS is the token's at creation. */
	CK_ATTRIBUTE pt[] = { { CKA_CLASS, &cls_pub, sizeof(cls_pub) },
			      t[1],
			      t[3],
			      t[4],
			      { CKA_MODULUS_BITS, &bits, sizeof(bits) } };
	assert_int_equal(ta_C_CreateObject(f->c, h, pt, 5, &o), CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(ta_C_CreateObject(f->c, h, pt, 4, &o), CKR_OK);
	assert_int_equal(get_ulong(f, h, o, CKA_MODULUS_BITS), 2048);
	assert_attr(f, h, o, CKA_PUBLIC_KEY_INFO, spki, spki_len);
	CK_ATTRIBUTE small[] = { pt[0], pt[1], { CKA_MODULUS, v[0], 128 }, pt[3] };
	v[0][127] |= 1;
	assert_int_equal(ta_C_CreateObject(f->c, h, small, 4, &o), CKR_ATTRIBUTE_VALUE_INVALID);

	OPENSSL_free(spki);
	EVP_PKEY_free(k);
}

/* PKCS#11 3.0 §2.3.5-2.3.6 (CKK_EC_EDWARDS), as this token offers it. */
static void test_4_9_import_ed25519_keys(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h = user_session(f);
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
	EVP_PKEY *k = keygen("ED25519", NULL);
	CK_BYTE seed[32], pubk[32], point[34];
	size_t len = sizeof(seed);
	unsigned char *spki = NULL;
	size_t spki_len = 0;

	I2D(i2d_PUBKEY, k, &spki, &spki_len);
	assert_int_equal(EVP_PKEY_get_raw_private_key(k, seed, &len), 1);
	len = sizeof(pubk);
	assert_int_equal(EVP_PKEY_get_raw_public_key(k, pubk, &len), 1);
	point[0] = 0x04;
	point[1] = 32;
	memcpy(point + 2, pubk, 32);

	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls_priv, sizeof(cls_priv) },
			     { CKA_KEY_TYPE, &kt_ed, sizeof(kt_ed) },
			     { CKA_EC_PARAMS, (void *)ed25519_oid, sizeof(ed25519_oid) },
			     { CKA_VALUE, seed, sizeof(seed) } };
	assert_int_equal(ta_C_CreateObject(f->c, h, t, 4, &o), CKR_OK);
	assert_attr(f, h, o, CKA_PUBLIC_KEY_INFO, spki, spki_len);
	assert_sensitive(f, h, o, CKA_VALUE);
	CK_ATTRIBUTE tn[] = {
		t[0], t[1], { CKA_EC_PARAMS, (void *)ed25519_name, sizeof(ed25519_name) }, t[3]
	};
	assert_int_equal(ta_C_CreateObject(f->c, h, tn, 4, &o), CKR_OK);
	assert_attr(f, h, o, CKA_PUBLIC_KEY_INFO, spki, spki_len);
	CK_ATTRIBUTE tshort[] = { t[0], t[1], t[2], { CKA_VALUE, seed, 31 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, tshort, 4, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	/* A P-256 OID is no Ed25519 curve. */
	CK_ATTRIBUTE tp[] = {
		t[0], t[1], { CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) }, t[3]
	};
	assert_int_equal(ta_C_CreateObject(f->c, h, tp, 4, &o), CKR_CURVE_NOT_SUPPORTED);

	CK_ATTRIBUTE pt[] = { { CKA_CLASS, &cls_pub, sizeof(cls_pub) },
			      t[1],
			      t[2],
			      { CKA_EC_POINT, point, sizeof(point) } };
	assert_int_equal(ta_C_CreateObject(f->c, h, pt, 4, &o), CKR_OK);
	assert_attr(f, h, o, CKA_PUBLIC_KEY_INFO, spki, spki_len);
	CK_ATTRIBUTE praw[] = { pt[0], pt[1], pt[2], { CKA_EC_POINT, pubk, sizeof(pubk) } };
	assert_int_equal(ta_C_CreateObject(f->c, h, praw, 4, &o), CKR_ATTRIBUTE_VALUE_INVALID);

	OPENSSL_free(spki);
	EVP_PKEY_free(k);
}

/* --- §4.10 secret keys (Current Mechanisms §2.8.2 AES, §2.6.2 generic) --- */

static void aes_check_value(const CK_BYTE *key, size_t len, CK_BYTE out[3])
{
	const EVP_CIPHER *c = len == 16	  ? EVP_aes_128_ecb()
			      : len == 24 ? EVP_aes_192_ecb()
					  : EVP_aes_256_ecb();
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	CK_BYTE zero[16] = { 0 }, ct[32];
	int n = 0;

	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, c, NULL, key, NULL), 1);
	assert_int_equal(EVP_CIPHER_CTX_set_padding(ctx, 0), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, ct, &n, zero, 16), 1);
	assert_int_equal(n, 16);
	memcpy(out, ct, 3);
	EVP_CIPHER_CTX_free(ctx);
}

static void test_4_10_import_secret_keys(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h = user_session(f);
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
	CK_BYTE key[32], cv[3], sha[SHA_DIGEST_LENGTH];
	static const size_t lens[3] = { 16, 24, 32 };

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (CK_BYTE)(0xa0 + i);
	for (size_t i = 0; i < 3; i++) {
		CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls_secret, sizeof(cls_secret) },
				     { CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
				     { CKA_VALUE, key, lens[i] } };

		assert_int_equal(ta_C_CreateObject(f->c, h, t, 3, &o), CKR_OK);
		assert_int_equal(get_ulong(f, h, o, CKA_VALUE_LEN), lens[i]);
		aes_check_value(key, lens[i], cv);
		assert_attr(f, h, o, CKA_CHECK_VALUE, cv, 3);
		assert_imported(f, h, o);
		assert_int_equal(get_bool(f, h, o, CKA_SENSITIVE), CK_TRUE);
		assert_int_equal(get_bool(f, h, o, CKA_EXTRACTABLE), CK_FALSE);
		assert_int_equal(get_bool(f, h, o, CKA_ENCRYPT), CK_TRUE);
		assert_sensitive(f, h, o, CKA_VALUE);
	}
	/* A check value given must be the right one. */
	aes_check_value(key, 16, cv);
	CK_ATTRIBUTE good_cv[] = { { CKA_CLASS, &cls_secret, sizeof(cls_secret) },
				   { CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
				   { CKA_VALUE, key, 16 },
				   { CKA_CHECK_VALUE, cv, 3 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, good_cv, 4, &o), CKR_OK);
	cv[0] ^= 1;
	assert_int_equal(ta_C_CreateObject(f->c, h, good_cv, 4, &o), CKR_ATTRIBUTE_VALUE_INVALID);

	/* Generic secret: any non-empty length; SHA-1 check value; extractable on request. */
	SHA1(key, 20, sha);
	CK_ATTRIBUTE g[] = { { CKA_CLASS, &cls_secret, sizeof(cls_secret) },
			     { CKA_KEY_TYPE, &kt_generic, sizeof(kt_generic) },
			     { CKA_VALUE, key, 20 },
			     { CKA_SENSITIVE, &no, 1 },
			     { CKA_EXTRACTABLE, &yes, 1 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, g, 5, &o), CKR_OK);
	assert_int_equal(get_ulong(f, h, o, CKA_VALUE_LEN), 20);
	assert_attr(f, h, o, CKA_CHECK_VALUE, sha, 3);
	assert_attr(f, h, o, CKA_VALUE, key, 20);
	assert_int_equal(get_bool(f, h, o, CKA_SIGN), CK_TRUE);
	assert_int_equal(get_bool(f, h, o, CKA_ENCRYPT), CK_FALSE);
	CK_ATTRIBUTE g0[] = { g[0], g[1], { CKA_VALUE, NULL, 0 } };
	assert_int_equal(ta_C_CreateObject(f->c, h, g0, 3, &o), CKR_ATTRIBUTE_VALUE_INVALID);

	/* Secret keys are private by default: not without the user. */
	assert_int_equal(ta_C_Logout(f->c, h), CKR_OK);
	assert_int_equal(ta_C_CreateObject(f->c, h, good_cv, 3, &o), CKR_USER_NOT_LOGGED_IN);
}

/* An AES-128 session key with the given sensitivity and extractability. */
static CK_OBJECT_HANDLE make_aes(struct fx *f, CK_SESSION_HANDLE h, CK_BBOOL *token, CK_BBOOL *sens,
				 CK_BBOOL *extr, const CK_BYTE *key)
{
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls_secret, sizeof(cls_secret) },
			     { CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
			     { CKA_VALUE, (void *)key, 16 },
			     { CKA_TOKEN, token, 1 },
			     { CKA_SENSITIVE, sens, 1 },
			     { CKA_EXTRACTABLE, extr, 1 },
			     { CKA_LABEL, "aes", 3 } };

	assert_int_equal(ta_C_CreateObject(f->c, h, t, 7, &o), CKR_OK);
	return o;
}

/* --- §5.7 C_CopyObject --- */

static void test_5_7_copy_object(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h = user_session(f);
	CK_SESSION_HANDLE ro = open_session(f, false);
	CK_BYTE key[16] = { 9, 8, 7 };
	CK_OBJECT_HANDLE sens = make_aes(f, h, &no, &yes, &no, key);
	CK_OBJECT_HANDLE open = make_aes(f, h, &no, &no, &yes, key);
	CK_OBJECT_HANDLE cp = 77;

	/* A sensitive or unextractable key cannot be copied into a readable one. */
	CK_ATTRIBUTE unsens = { CKA_SENSITIVE, &no, 1 };
	assert_int_equal(ta_C_CopyObject(f->c, h, sens, &unsens, 1, &cp), CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(cp, CK_INVALID_HANDLE);
	CK_ATTRIBUTE extr = { CKA_EXTRACTABLE, &yes, 1 };
	assert_int_equal(ta_C_CopyObject(f->c, h, sens, &extr, 1, &cp), CKR_ATTRIBUTE_READ_ONLY);
	CK_ATTRIBUTE both[] = { { CKA_LABEL, "x", 1 }, unsens, extr };
	assert_int_equal(ta_C_CopyObject(f->c, h, sens, both, 3, &cp), CKR_ATTRIBUTE_READ_ONLY);
	/* Key material, class, derived and token-set attributes are not the caller's. */
	CK_ATTRIBUTE val = { CKA_VALUE, key, 16 };
	assert_int_equal(ta_C_CopyObject(f->c, h, open, &val, 1, &cp), CKR_ATTRIBUTE_READ_ONLY);
	CK_ATTRIBUTE kt = { CKA_KEY_TYPE, &kt_generic, sizeof(kt_generic) };
	assert_int_equal(ta_C_CopyObject(f->c, h, open, &kt, 1, &cp), CKR_ATTRIBUTE_READ_ONLY);
	CK_ATTRIBUTE asens = { CKA_ALWAYS_SENSITIVE, &yes, 1 };
	assert_int_equal(ta_C_CopyObject(f->c, h, open, &asens, 1, &cp), CKR_ATTRIBUTE_READ_ONLY);
	CK_ATTRIBUTE mod = { CKA_MODULUS, key, 16 };
	assert_int_equal(ta_C_CopyObject(f->c, h, open, &mod, 1, &cp), CKR_ATTRIBUTE_TYPE_INVALID);
	CK_ATTRIBUTE dup[] = { { CKA_LABEL, "a", 1 }, { CKA_LABEL, "b", 1 } };
	assert_int_equal(ta_C_CopyObject(f->c, h, open, dup, 2, &cp), CKR_TEMPLATE_INCONSISTENT);
	/* A token copy needs a R/W session. */
	CK_ATTRIBUTE tok = { CKA_TOKEN, &yes, 1 };
	assert_int_equal(ta_C_CopyObject(f->c, ro, open, &tok, 1, &cp), CKR_SESSION_READ_ONLY);
	assert_int_equal(ta_C_CopyObject(f->c, h, 0x4242, &tok, 1, &cp), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(ta_C_CopyObject(f->c, h, open, &tok, 1, NULL), CKR_ARGUMENTS_BAD);

	/* The allowed changes: label, token, modifiable, and sensitive only false->true. */
	CK_ATTRIBUTE ok[] = { { CKA_LABEL, "copy", 4 },
			      tok,
			      { CKA_SENSITIVE, &yes, 1 },
			      { CKA_EXTRACTABLE, &no, 1 },
			      { CKA_MODIFIABLE, &no, 1 } };
	assert_int_equal(ta_C_CopyObject(f->c, h, open, ok, 5, &cp), CKR_OK);
	assert_int_not_equal(cp, open);
	assert_attr(f, h, cp, CKA_LABEL, "copy", 4);
	assert_int_equal(get_bool(f, h, cp, CKA_TOKEN), CK_TRUE);
	assert_sensitive(f, h, cp, CKA_VALUE);
	/* Sensitive now, but it was not always: the token-set flags stay as they were. */
	assert_int_equal(get_bool(f, h, cp, CKA_ALWAYS_SENSITIVE), CK_FALSE);
	assert_int_equal(get_bool(f, h, cp, CKA_NEVER_EXTRACTABLE), CK_FALSE);
	assert_attr(f, h, open, CKA_LABEL, "aes", 3);
	assert_attr(f, h, open, CKA_VALUE, key, 16);
	CK_ATTRIBUTE label = { CKA_LABEL, "z", 1 };
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, cp, &label, 1), CKR_ACTION_PROHIBITED);

	/* CKA_COPYABLE false: no copy; it can be cleared but never set again. */
	CK_ATTRIBUTE nocopy = { CKA_COPYABLE, &no, 1 };
	CK_ATTRIBUTE recopy = { CKA_COPYABLE, &yes, 1 };
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, sens, &nocopy, 1), CKR_OK);
	assert_int_equal(ta_C_CopyObject(f->c, h, sens, NULL, 0, &cp), CKR_ACTION_PROHIBITED);
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, sens, &recopy, 1),
			 CKR_ATTRIBUTE_READ_ONLY);

	/* A private object cannot be copied without the user. */
	assert_int_equal(ta_C_Logout(f->c, h), CKR_OK);
	assert_int_equal(ta_C_CopyObject(f->c, h, open, NULL, 0, &cp), CKR_OBJECT_HANDLE_INVALID);
}

/* --- §5.7 C_SetAttributeValue --- */

static void test_5_7_set_attribute_value(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h = user_session(f);
	CK_SESSION_HANDLE ro = open_session(f, false);
	CK_BYTE key[16] = { 1, 1, 2, 3, 5, 8 };
	CK_OBJECT_HANDLE sens = make_aes(f, h, &yes, &yes, &no, key);
	CK_OBJECT_HANDLE open = make_aes(f, h, &no, &no, &yes, key);
	CK_ULONG got = 0;

	/* Footnotes 11 and 12: no way back. */
	CK_ATTRIBUTE unsens = { CKA_SENSITIVE, &no, 1 };
	CK_ATTRIBUTE extr = { CKA_EXTRACTABLE, &yes, 1 };
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, sens, &unsens, 1),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, sens, &extr, 1), CKR_ATTRIBUTE_READ_ONLY);
	assert_sensitive(f, h, sens, CKA_VALUE);

	/* false -> true for SENSITIVE, true -> false for EXTRACTABLE, then locked. */
	CK_ATTRIBUTE mk_sens = { CKA_SENSITIVE, &yes, 1 };
	CK_ATTRIBUTE no_extr = { CKA_EXTRACTABLE, &no, 1 };
	assert_attr(f, h, open, CKA_VALUE, key, 16);
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, open, &mk_sens, 1), CKR_OK);
	assert_sensitive(f, h, open, CKA_VALUE);
	assert_int_equal(get_bool(f, h, open, CKA_ALWAYS_SENSITIVE), CK_FALSE);
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, open, &unsens, 1),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, open, &no_extr, 1), CKR_OK);
	assert_int_equal(get_bool(f, h, open, CKA_NEVER_EXTRACTABLE), CK_FALSE);
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, open, &extr, 1), CKR_ATTRIBUTE_READ_ONLY);

	/* Not modifiable: class attributes, key material, token-set flags, CKA_PRIVATE. */
	CK_ATTRIBUTE ro_attrs[] = {
		{ CKA_VALUE, key, 16 },	     { CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
		{ CKA_LOCAL, &yes, 1 },	     { CKA_ALWAYS_SENSITIVE, &yes, 1 },
		{ CKA_PRIVATE, &no, 1 },     { CKA_TOKEN, &no, 1 },
		{ CKA_CHECK_VALUE, key, 3 }, { CKA_VALUE_LEN, &got, sizeof(got) },
	};
	for (size_t i = 0; i < sizeof(ro_attrs) / sizeof(ro_attrs[0]); i++)
		assert_int_equal(ta_C_SetAttributeValue(f->c, h, sens, &ro_attrs[i], 1),
				 CKR_ATTRIBUTE_READ_ONLY);
	CK_ATTRIBUTE foreign = { CKA_MODULUS, key, 16 };
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, sens, &foreign, 1),
			 CKR_ATTRIBUTE_TYPE_INVALID);
	CK_ATTRIBUTE bad_bool = { CKA_ENCRYPT, key, 2 };
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, sens, &bad_bool, 1),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	/* §4.10: CKA_TRUSTED true only by the SO. */
	CK_ATTRIBUTE trust = { CKA_TRUSTED, &yes, 1 };
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, sens, &trust, 1), CKR_ATTRIBUTE_READ_ONLY);

	/* All or nothing: a good label with a bad attribute changes nothing. */
	CK_ATTRIBUTE mixed[] = { { CKA_LABEL, "new label", 9 },
				 { CKA_ENCRYPT, &no, 1 },
				 { CKA_VALUE, key, 16 } };
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, sens, mixed, 3), CKR_ATTRIBUTE_READ_ONLY);
	assert_attr(f, h, sens, CKA_LABEL, "aes", 3);
	assert_int_equal(get_bool(f, h, sens, CKA_ENCRYPT), CK_TRUE);

	/* A token object needs a R/W session; changes persist. */
	assert_int_equal(ta_C_SetAttributeValue(f->c, ro, sens, mixed, 2), CKR_SESSION_READ_ONLY);
	CK_BYTE id[] = { 0xca, 0xfe };
	CK_ATTRIBUTE good[] = {
		mixed[0], mixed[1], { CKA_ID, id, sizeof(id) }, { CKA_START_DATE, "20250101", 8 }
	};
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, sens, good, 4), CKR_OK);
	fx_close(f);
	fx_open(f);
	h = open_session(f, true);
	assert_int_equal(login(f, h, CKU_USER, USER_PIN), CKR_OK);
	assert_int_equal(ta_C_FindObjectsInit(f->c, h, &good[2], 1), CKR_OK);
	assert_int_equal(ta_C_FindObjects(f->c, h, &sens, 1, &got), CKR_OK);
	assert_int_equal(got, 1);
	assert_int_equal(ta_C_FindObjectsFinal(f->c, h), CKR_OK);
	assert_attr(f, h, sens, CKA_LABEL, "new label", 9);
	assert_attr(f, h, sens, CKA_START_DATE, "20250101", 8);
	assert_int_equal(get_bool(f, h, sens, CKA_ENCRYPT), CK_FALSE);
	assert_sensitive(f, h, sens, CKA_VALUE);

	/* CKA_MODIFIABLE false: nothing may change. */
	CK_ATTRIBUTE frozen = { CKA_MODIFIABLE, &no, 1 };
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, sens, &frozen, 1),
			 CKR_ATTRIBUTE_READ_ONLY);
	CK_OBJECT_HANDLE cp = CK_INVALID_HANDLE;
	assert_int_equal(ta_C_CopyObject(f->c, h, sens, &frozen, 1, &cp), CKR_OK);
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, cp, &good[0], 1), CKR_ACTION_PROHIBITED);
	assert_int_equal(ta_C_SetAttributeValue(f->c, h, 0x4242, &good[0], 1),
			 CKR_OBJECT_HANDLE_INVALID);
}

/* --- §5.7 C_GetObjectSize; CKA_ALLOWED_MECHANISMS (§4.7.2) stored and read back --- */

static void test_5_7_get_object_size_and_allowed_mechanisms(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h = user_session(f);
	CK_OBJECT_HANDLE a = CK_INVALID_HANDLE, b = CK_INVALID_HANDLE;
	CK_MECHANISM_TYPE mechs[] = { CKM_AES_GCM, CKM_AES_CBC_PAD }, back[4];
	CK_BYTE key[16] = { 0 };
	CK_ULONG sa = 0, sb = 0, got = 0;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls_secret, sizeof(cls_secret) },
			     { CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
			     { CKA_VALUE, key, 16 },
			     { CKA_TOKEN, &yes, 1 },
			     { CKA_ALLOWED_MECHANISMS, mechs, sizeof(mechs) },
			     { CKA_LABEL, "a somewhat longer label", 23 } };

	assert_int_equal(ta_C_CreateObject(f->c, h, t, 5, &a), CKR_OK);
	assert_int_equal(ta_C_CreateObject(f->c, h, t, 6, &b), CKR_OK);
	assert_int_equal(ta_C_GetObjectSize(f->c, h, a, &sa), CKR_OK);
	assert_int_equal(ta_C_GetObjectSize(f->c, h, b, &sb), CKR_OK);
	assert_true(sa > 16 && sa != CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(sb, sa + 23);
	assert_int_equal(ta_C_GetObjectSize(f->c, h, 0x4242, &sa), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(ta_C_GetObjectSize(f->c, h, a, NULL), CKR_ARGUMENTS_BAD);
	CK_ATTRIBUTE bad = { CKA_ALLOWED_MECHANISMS, mechs, 3 };
	CK_ATTRIBUTE tb[] = { t[0], t[1], t[2], bad };
	assert_int_equal(ta_C_CreateObject(f->c, h, tb, 4, &b), CKR_ATTRIBUTE_VALUE_INVALID);

	fx_close(f);
	fx_open(f);
	h = open_session(f, true);
	assert_int_equal(login(f, h, CKU_USER, USER_PIN), CKR_OK);
	assert_int_equal(ta_C_FindObjectsInit(f->c, h, &t[4], 1), CKR_OK);
	assert_int_equal(ta_C_FindObjects(f->c, h, &a, 1, &got), CKR_OK);
	assert_int_equal(got, 1);
	assert_int_equal(ta_C_FindObjectsFinal(f->c, h), CKR_OK);
	assert_int_equal(get_attr(f, h, a, CKA_ALLOWED_MECHANISMS, back, sizeof(back)),
			 sizeof(mechs));
	assert_memory_equal(back, mechs, sizeof(mechs));
}

/* --- §5.6 C_SetPIN --- */

static CK_RV set_pin(struct fx *f, CK_SESSION_HANDLE h, const char *old, const char *new)
{
	return ta_C_SetPIN(f->c, h, (CK_UTF8CHAR_PTR)old, strlen(old), (CK_UTF8CHAR_PTR) new,
			   strlen(new));
}

static void test_5_6_set_pin(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE rw, ro;

	init_token(f);
	rw = open_session(f, true);
	ro = open_session(f, false);
	assert_int_equal(set_pin(f, ro, USER_PIN, "new-user-pin"), CKR_SESSION_READ_ONLY);
	assert_int_equal(set_pin(f, 0x4242, USER_PIN, "new-user-pin"), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(ta_C_SetPIN(f->c, rw, NULL, 4, (CK_UTF8CHAR_PTR) "abcd", 4),
			 CKR_ARGUMENTS_BAD);
	/* A new PIN of a length never accepted costs no attempt. */
	assert_int_equal(set_pin(f, rw, "wrong-pin", "abc"), CKR_PIN_LEN_RANGE);
	assert_int_equal(token_flags(f) & CKF_USER_PIN_COUNT_LOW, 0);
	/* A wrong old PIN is counted like a failed login. */
	assert_int_equal(set_pin(f, rw, "wrong-pin", "new-user-pin"), CKR_PIN_INCORRECT);
	assert_int_not_equal(token_flags(f) & CKF_USER_PIN_COUNT_LOW, 0);
	/* In a public session: the user's PIN. */
	assert_int_equal(set_pin(f, rw, USER_PIN, "new-user-pin"), CKR_OK);
	assert_int_equal(token_flags(f) & CKF_USER_PIN_COUNT_LOW, 0);
	assert_int_equal(login(f, rw, CKU_USER, USER_PIN), CKR_PIN_INCORRECT);
	assert_int_equal(login(f, rw, CKU_USER, "new-user-pin"), CKR_OK);
	/* Logged in as the user: the user's PIN again. */
	assert_int_equal(set_pin(f, rw, "new-user-pin", USER_PIN), CKR_OK);
	assert_int_equal(ta_C_Logout(f->c, rw), CKR_OK);
	/* As the SO (no R/O session may be open): the SO's PIN. */
	assert_int_equal(ta_C_CloseSession(f->c, ro), CKR_OK);
	assert_int_equal(login(f, rw, CKU_SO, SO_PIN), CKR_OK);
	assert_int_equal(set_pin(f, rw, USER_PIN, "new-so-pin"), CKR_PIN_INCORRECT);
	assert_int_equal(set_pin(f, rw, SO_PIN, "new-so-pin"), CKR_OK);
	assert_int_equal(ta_C_Logout(f->c, rw), CKR_OK);
	/* Persisted. */
	fx_close(f);
	fx_open(f);
	rw = open_session(f, true);
	assert_int_equal(login(f, rw, CKU_SO, SO_PIN), CKR_PIN_INCORRECT);
	assert_int_equal(login(f, rw, CKU_SO, "new-so-pin"), CKR_OK);
	assert_int_equal(ta_C_Logout(f->c, rw), CKR_OK);
	assert_int_equal(login(f, rw, CKU_USER, USER_PIN), CKR_OK);
}

/* --- §5.15 C_SeedRandom --- */

static void test_5_15_seed_random(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h;
	CK_BYTE seed[16] = { 0 };

	init_token(f);
	h = open_session(f, false);
	assert_int_equal(ta_C_SeedRandom(f->c, h, seed, sizeof(seed)),
			 CKR_RANDOM_SEED_NOT_SUPPORTED);
	assert_int_equal(ta_C_SeedRandom(f->c, h, NULL, 4), CKR_ARGUMENTS_BAD);
	assert_int_equal(ta_C_SeedRandom(f->c, 0x4242, seed, sizeof(seed)),
			 CKR_SESSION_HANDLE_INVALID);
}

/* --- §5.6 login across applications, SO sessions, PIN flags --- */

static void test_5_6_login_rules_and_pin_flags(void **state)
{
	struct fx *f = *state;
	struct ta_client *c2 = NULL;
	CK_SESSION_HANDLE a, b, ro = CK_INVALID_HANDLE;
	CK_SESSION_INFO si;

	init_token(f);
	assert_int_equal(ta_client_new(f->ta, &c2), CKR_OK);
	a = open_session(f, true);
	assert_int_equal(ta_C_OpenSession(c2, TA_SLOT_ID, CKF_SERIAL_SESSION | CKF_RW_SESSION, &b),
			 CKR_OK);
	/* Each application has its own login state: the SO in one, the user in the other. */
	assert_int_equal(login(f, a, CKU_SO, SO_PIN), CKR_OK);
	assert_int_equal(ta_C_Login(c2, b, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)),
			 CKR_OK);
	assert_int_equal(login(f, a, CKU_USER, USER_PIN), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
	assert_int_equal(login(f, a, CKU_SO, SO_PIN), CKR_USER_ALREADY_LOGGED_IN);
	/* No R/O session beside an SO login. */
	assert_int_equal(ta_C_OpenSession(f->c, TA_SLOT_ID, CKF_SERIAL_SESSION, &ro),
			 CKR_SESSION_READ_WRITE_SO_EXISTS);
	assert_int_equal(ta_C_GetSessionInfo(f->c, a, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RW_SO_FUNCTIONS);
	assert_int_equal(ta_C_GetSessionInfo(c2, b, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RW_USER_FUNCTIONS);
	/* C_CloseAllSessions ends that application's login only. */
	assert_int_equal(ta_C_CloseAllSessions(f->c, TA_SLOT_ID), CKR_OK);
	assert_int_equal(ta_C_GetSessionInfo(f->c, a, &si), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(ta_C_GetSessionInfo(c2, b, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RW_USER_FUNCTIONS);
	a = open_session(f, true);
	assert_int_equal(ta_C_GetSessionInfo(f->c, a, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RW_PUBLIC_SESSION);
	/* An R/O session forbids the SO login. */
	ro = open_session(f, false);
	assert_int_equal(login(f, a, CKU_SO, SO_PIN), CKR_SESSION_READ_ONLY_EXISTS);
	assert_int_equal(ta_C_CloseSession(f->c, ro), CKR_OK);

	/* SO PIN failures: count low, final try, locked; persisted before the answer. */
	assert_int_equal(login(f, a, CKU_SO, "bad-so-pin"), CKR_PIN_INCORRECT);
	assert_int_not_equal(token_flags(f) & CKF_SO_PIN_COUNT_LOW, 0);
	assert_int_equal(token_flags(f) & CKF_SO_PIN_FINAL_TRY, 0);
	assert_int_equal(login(f, a, CKU_SO, "bad-so-pin"), CKR_PIN_INCORRECT);
	assert_int_not_equal(token_flags(f) & CKF_SO_PIN_FINAL_TRY, 0);
	ta_client_free(c2);
	fx_close(f);
	fx_open(f);
	a = open_session(f, true);
	assert_int_not_equal(token_flags(f) & CKF_SO_PIN_FINAL_TRY, 0);
	assert_int_equal(login(f, a, CKU_SO, "bad-so-pin"), CKR_PIN_INCORRECT);
	assert_int_not_equal(token_flags(f) & CKF_SO_PIN_LOCKED, 0);
	assert_int_equal(login(f, a, CKU_SO, SO_PIN), CKR_PIN_LOCKED);
	/* The user's PIN is another matter: a public session still changes it. */
	assert_int_equal(set_pin(f, a, USER_PIN, "whatever-pin"), CKR_OK);
	assert_int_equal(login(f, a, CKU_USER, "whatever-pin"), CKR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_4_1_1_create_template_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4_5_data_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4_6_3_x509_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4_9_import_ec_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4_9_import_rsa_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4_9_import_ed25519_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4_10_import_secret_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_7_copy_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_7_set_attribute_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_7_get_object_size_and_allowed_mechanisms,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_6_set_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_15_seed_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_6_login_rules_and_pin_flags, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
