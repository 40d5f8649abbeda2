/* The teehsm command's tables and signature formats (certs/tool_sign.c, tool_key.c,
 * tool_util.c): mechanism and key type names, the ECDSA r||s <-> DER conversion, and the
 * signature checks against signatures OpenSSL makes. No token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "tool.h"

static void test_mech_table(void **state)
{
	static const char *const names[] = { "ecdsa-sha256",	"ecdsa-sha384",	  "ecdsa-sha512",
					     "rsa-pkcs-sha256", "rsa-pss-sha256", "eddsa" };
	const struct tool_mech *m = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		m = tool_mech_by_name(names[i]);
		assert_non_null(m);
		assert_string_equal(m->name, names[i]);
		assert_non_null(strstr(tool_mech_names(), names[i]));
	}
	assert_null(tool_mech_by_name("ECDSA-SHA256"));
	assert_null(tool_mech_by_name("rsa-pss"));
	assert_null(tool_mech_by_name(""));

	m = tool_mech_by_name("rsa-pss-sha256");
	assert_int_equal(m->ckm, CKM_RSA_PKCS_PSS);
	assert_int_equal(m->hash, CKM_SHA256);
	assert_int_equal(m->mgf, CKG_MGF1_SHA256);
	assert_int_equal(m->salt, 32);
	m = tool_mech_by_name("eddsa");
	assert_int_equal(m->ckm, CKM_EDDSA);
	assert_null(m->md);
	assert_int_equal(tool_mech_by_name("ecdsa-sha384")->ckm, CKM_ECDSA);
	assert_int_equal(tool_mech_by_name("rsa-pkcs-sha256")->ckm, CKM_RSA_PKCS);
	assert_int_equal(tool_mech_by_name("ecdsa-sha256")->sig_nid, NID_ecdsa_with_SHA256);
	assert_int_equal(tool_mech_by_name("rsa-pkcs-sha256")->sig_nid,
			 NID_sha256WithRSAEncryption);
}

static void test_keytype_table(void **state)
{
	static const char *const names[] = { "ec-p256",	 "ec-p384",  "ec-p521", "rsa-2048",
					     "rsa-3072", "rsa-4096", "ed25519" };
	const struct tool_keytype *kt = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		kt = tool_keytype_by_name(names[i]);
		assert_non_null(kt);
		assert_non_null(strstr(tool_keytype_names(), names[i]));
		assert_non_null(tool_mech_by_name(kt->mech));
	}
	assert_null(tool_keytype_by_name("rsa-1024"));
	assert_null(tool_keytype_by_name("p256"));
	kt = tool_keytype_by_name("rsa-3072");
	assert_int_equal(kt->kt, CKK_RSA);
	assert_int_equal(kt->gen, CKM_RSA_PKCS_KEY_PAIR_GEN);
	assert_int_equal(kt->bits, 3072);
	kt = tool_keytype_by_name("ec-p384");
	assert_int_equal(kt->kt, CKK_EC);
	assert_int_equal(kt->params_len, 7);
	assert_memory_equal(kt->params, "\x06\x05\x2b\x81\x04\x00\x22", 7);
	kt = tool_keytype_by_name("ed25519");
	assert_int_equal(kt->kt, CKK_EC_EDWARDS);
	assert_int_equal(kt->gen, CKM_EC_EDWARDS_KEY_PAIR_GEN);
	assert_memory_equal(kt->params, "\x06\x03\x2b\x65\x70", 5); /* 1.3.101.112 */
}

/* Keys of every type, their names and default mechanisms. */
static void test_key_names_and_defaults(void **state)
{
	static const struct {
		const char *alg, *param, *name, *mech;
	} keys[] = {
		{ "EC", "P-256", "ec-p256", "ecdsa-sha256" },
		{ "EC", "P-384", "ec-p384", "ecdsa-sha384" },
		{ "EC", "P-521", "ec-p521", "ecdsa-sha512" },
		{ "ED25519", NULL, "ed25519", "eddsa" },
	};
	char buf[32], err[TOOL_ERR_LEN];
	EVP_PKEY *k = NULL, *rsa = NULL, *x25519 = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		k = keys[i].param ? EVP_PKEY_Q_keygen(NULL, NULL, keys[i].alg, keys[i].param)
				  : EVP_PKEY_Q_keygen(NULL, NULL, keys[i].alg);
		assert_non_null(k);
		assert_string_equal(tool_pkey_type_name(k, buf, sizeof(buf)), keys[i].name);
		assert_string_equal(tool_mech_default(k)->name, keys[i].mech);
		assert_int_equal(tool_mech_check(tool_mech_default(k), k, err, sizeof(err)), 0);
		assert_int_equal(
			tool_mech_check(tool_mech_by_name("rsa-pkcs-sha256"), k, err, sizeof(err)),
			-1);
		assert_non_null(strstr(err, "mechanism rsa-pkcs-sha256 does not work with a key "
					    "of type "));
		EVP_PKEY_free(k);
	}
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(rsa);
	assert_string_equal(tool_pkey_type_name(rsa, buf, sizeof(buf)), "rsa-2048");
	assert_string_equal(tool_mech_default(rsa)->name, "rsa-pkcs-sha256");
	assert_int_equal(
		tool_mech_check(tool_mech_by_name("rsa-pss-sha256"), rsa, err, sizeof(err)), 0);
	assert_int_equal(tool_mech_check(tool_mech_by_name("eddsa"), rsa, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "key of type rsa-2048"));
	x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	assert_non_null(x25519);
	assert_string_equal(tool_pkey_type_name(x25519, buf, sizeof(buf)), "?");
	assert_null(tool_mech_default(x25519));
	assert_string_equal(tool_pkey_type_name(NULL, buf, sizeof(buf)), "?");
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(x25519);
}

static void test_ecdsa_formats(void **state)
{
	uint8_t raw[64], back[64], raw66[132];
	uint8_t *der = NULL;
	size_t der_len = 0;
	static const uint8_t trailing[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00 };
	static const uint8_t one_two[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02 };

	(void)state;
	/* Leading zero bytes in r and s come back as they were. */
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 7 + 1);
	raw[0] = 0;
	raw[1] = 0;
	raw[32] = 0x80; /* s needs a leading zero in DER */
	assert_int_equal(tool_ecdsa_raw_to_der(raw, sizeof(raw), &der, &der_len), 0);
	assert_int_equal(der[0], 0x30);
	assert_int_equal(tool_ecdsa_der_to_raw(der, der_len, 32, back), 0);
	assert_memory_equal(raw, back, sizeof(raw));
	/* Too small a field for the values, trailing bytes, odd raw lengths: refused. */
	assert_int_equal(tool_ecdsa_der_to_raw(der, der_len, 16, back), -1);
	assert_int_equal(tool_ecdsa_der_to_raw(trailing, sizeof(trailing), 32, back), -1);
	assert_int_equal(tool_ecdsa_der_to_raw(der, der_len - 1, 32, back), -1);
	free(der);
	assert_int_equal(tool_ecdsa_raw_to_der(raw, 63, &der, &der_len), -1);
	assert_null(der);
	assert_int_equal(tool_ecdsa_raw_to_der(raw, 0, &der, &der_len), -1);
	/* Small values are padded to the field. */
	assert_int_equal(tool_ecdsa_der_to_raw(one_two, sizeof(one_two), 32, back), 0);
	assert_int_equal(back[31], 1);
	assert_int_equal(back[63], 2);
	assert_int_equal(back[0] | back[32], 0);
	/* P-521: 66-byte halves. */
	memset(raw66, 0xab, sizeof(raw66));
	raw66[0] = 0x01;
	raw66[66] = 0x01;
	assert_int_equal(tool_ecdsa_raw_to_der(raw66, sizeof(raw66), &der, &der_len), 0);
	memset(raw66, 0, sizeof(raw66));
	assert_int_equal(tool_ecdsa_der_to_raw(der, der_len, 66, raw66), 0);
	assert_int_equal(raw66[0], 0x01);
	assert_int_equal(raw66[65], 0xab);
	free(der);
	assert_int_equal(ERR_peek_error(), 0);
}

/* Sign msg with OpenSSL the way mechanism m would. */
static size_t ossl_sign(EVP_PKEY *k, const struct tool_mech *m, const uint8_t *msg, size_t len,
			uint8_t *sig, size_t size)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t n = size;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit_ex(ctx, &pctx, m->md, NULL, NULL, k, NULL), 1);
	if (m->family == TOOL_RSA_PSS) {
		assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) > 0);
	}
	assert_int_equal(EVP_DigestSign(ctx, sig, &n, msg, len), 1);
	EVP_MD_CTX_free(ctx);
	return n;
}

static void check_mech(EVP_PKEY *k, const char *name)
{
	const struct tool_mech *m = tool_mech_by_name(name);
	static const uint8_t msg[] = "release-1.2.3.tar.gz contents";
	uint8_t sig[1024], raw[132];
	char err[TOOL_ERR_LEN];
	size_t n = 0;

	assert_non_null(m);
	n = ossl_sign(k, m, msg, sizeof(msg), sig, sizeof(sig));
	if (tool_verify_buffer(k, m, msg, sizeof(msg), sig, n, err, sizeof(err)) != 1)
		fail_msg("%s: a good signature did not verify (%s)", name, err);
	/* Another message, or another hash for the same signature: no. */
	assert_int_equal(tool_verify_buffer(k, m, msg, sizeof(msg) - 1, sig, n, err, sizeof(err)),
			 0);
	sig[n / 2] ^= 1;
	assert_int_equal(tool_verify_buffer(k, m, msg, sizeof(msg), sig, n, err, sizeof(err)), 0);
	sig[n / 2] ^= 1;
	if (m->family == TOOL_ECDSA) {
		/* r||s, as PKCS#11 tools write it, is accepted too. */
		size_t half = (size_t)(EVP_PKEY_get_bits(k) + 7) / 8;

		assert_int_equal(tool_ecdsa_der_to_raw(sig, n, half, raw), 0);
		assert_int_equal(
			tool_verify_buffer(k, m, msg, sizeof(msg), raw, 2 * half, err, sizeof(err)),
			1);
	}
}

static void test_signatures_check_against_openssl(void **state)
{
	EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	(void)state;
	assert_non_null(p256);
	assert_non_null(p384);
	assert_non_null(rsa);
	assert_non_null(ed);
	check_mech(p256, "ecdsa-sha256");
	check_mech(p384, "ecdsa-sha384");
	check_mech(p256, "ecdsa-sha384");
	check_mech(rsa, "rsa-pkcs-sha256");
	check_mech(rsa, "rsa-pss-sha256");
	check_mech(ed, "eddsa");
	assert_int_equal(ERR_peek_error(), 0);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
}

/* A raw r||s signature whose r starts with 0x30 (one in 256) is still read as raw, and a
 * DER signature as DER: the format is decided by a strict DER parse, not by the first byte. */
static void test_ecdsa_raw_starting_0x30(void **state)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	const struct tool_mech *m = tool_mech_by_name("ecdsa-sha256");
	uint8_t dg[32], der[80], raw[64];
	size_t der_len = 0;
	char err[TOOL_ERR_LEN];
	int tries = 0;

	(void)state;
	assert_non_null(pk);
	memset(dg, 0x5a, sizeof(dg));
	do {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);

		assert_non_null(c);
		der_len = sizeof(der);
		assert_int_equal(EVP_PKEY_sign_init(c), 1);
		assert_int_equal(EVP_PKEY_sign(c, der, &der_len, dg, sizeof(dg)), 1);
		EVP_PKEY_CTX_free(c);
		assert_int_equal(tool_ecdsa_der_to_raw(der, der_len, 32, raw), 0);
	} while (raw[0] != 0x30 && ++tries < 20000);
	assert_int_equal(raw[0], 0x30);
	assert_int_equal(
		tool_verify_digest(pk, m, dg, sizeof(dg), raw, sizeof(raw), err, sizeof(err)), 1);
	assert_int_equal(tool_verify_digest(pk, m, dg, sizeof(dg), der, der_len, err, sizeof(err)),
			 1);
	raw[63] ^= 1;
	assert_int_equal(
		tool_verify_digest(pk, m, dg, sizeof(dg), raw, sizeof(raw), err, sizeof(err)), 0);
	EVP_PKEY_free(pk);
}

static void test_hex_and_uri(void **state)
{
	uint8_t b[8];
	char hex[17];
	char *uri = NULL;

	(void)state;
	assert_int_equal(tool_unhex("0a0B0c", b, sizeof(b)), 3);
	assert_string_equal(tool_hex(b, 3, hex, sizeof(hex)), "0a0b0c");
	assert_int_equal(tool_unhex("0a:0b:0c", b, sizeof(b)), 3);
	assert_int_equal(tool_unhex("", b, sizeof(b)), -1);
	assert_int_equal(tool_unhex("abc", b, sizeof(b)), -1);
	assert_int_equal(tool_unhex("zz", b, sizeof(b)), -1);
	assert_int_equal(tool_unhex("0a:", b, sizeof(b)), -1);
	assert_int_equal(tool_unhex("0a::0b", b, sizeof(b)), -1);
	assert_int_equal(tool_unhex("000102030405060708", b, sizeof(b)), -1);
	/* The output is cut to fit, never overrun. */
	assert_int_equal(tool_unhex("0a0b0c", b, sizeof(b)), 3);
	assert_string_equal(tool_hex(b, 3, hex, 5), "0a0b");

	uri = tool_uri("integ token", "release/signer;1", (const uint8_t *)"\x01\xab", 2,
		       "private");
	assert_string_equal(uri, "pkcs11:token=integ%20token;object=release%2Fsigner%3B1;"
				 "id=%01%AB;type=private");
	free(uri);
	uri = tool_uri("t", "a-b_c.d~e", NULL, 0, "cert");
	assert_string_equal(uri, "pkcs11:token=t;object=a-b_c.d~e;type=cert");
	free(uri);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mech_table),
		cmocka_unit_test(test_keytype_table),
		cmocka_unit_test(test_key_names_and_defaults),
		cmocka_unit_test(test_ecdsa_formats),
		cmocka_unit_test(test_signatures_check_against_openssl),
		cmocka_unit_test(test_ecdsa_raw_starting_0x30),
		cmocka_unit_test(test_hex_and_uri),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
