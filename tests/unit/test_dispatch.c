/*
 * The whole stack without a network: the real client module (C_GetFunctionList and friends)
 * on an in-process transport into server/dispatch, into the token core. Also the protocol rules
 * dispatch enforces on raw bytes: Hello first, malformed frames close the connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include "common/buf.h"
#include "proto/codec.h"
#include "dispatch.h"
#include "transport.h"
#include "fixture_module.h"

#define LABEL "dispatch-test"

static const CK_BYTE p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

/* ---- fixture: a fresh store and token, the module initialised on the loop transport ---- */

static int fx_setup(void **state)
{
	static const struct fx_module_params p = {
		.dir_template = "/tmp/teehsm-dispatch-XXXXXX",
		.label = LABEL,
		.max_pin_failures = 5,
	};

	return fx_module_setup(state, &p);
}

static int fx_teardown(void **state)
{
	return fx_module_teardown(state);
}

static void gen_p256(struct fx *fx, CK_SESSION_HANDLE s, CK_BBOOL token, const char *label,
		     CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE pubt[] = {
		{ CKA_EC_PARAMS, (void *)p256_oid, sizeof(p256_oid) },
		{ CKA_TOKEN, &token, sizeof(token) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_VERIFY, &yes, sizeof(yes) },
	};
	CK_ATTRIBUTE privt[] = {
		{ CKA_TOKEN, &token, sizeof(token) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_SIGN, &yes, sizeof(yes) },
	};

	assert_int_equal(fx->f->C_GenerateKeyPair(s, &m, pubt, 4, privt, 3, pub, priv), CKR_OK);
}

/* Verify a raw r||s P-256 signature over digest with the public key from CKA_EC_POINT. */
static int verify_p256(const CK_BYTE *ec_point_der, size_t der_len, const CK_BYTE *dgst,
		       size_t dgst_len, const CK_BYTE *sig, size_t sig_len)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pkey = NULL;
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL;
	int der_sig_len, ok = 0;

	/* CKA_EC_POINT is DER: 04 41 04||X||Y */
	if (der_len != 67 || ec_point_der[0] != 0x04 || ec_point_der[1] != 65 || sig_len != 64)
		goto out;
	OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
	OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, ec_point_der + 2, 65);
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!params || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
	der_sig_len = i2d_ECDSA_SIG(es, &der);
	EVP_PKEY_CTX_free(ctx);
	ctx = EVP_PKEY_CTX_new(pkey, NULL);
	ok = ctx && EVP_PKEY_verify_init(ctx) > 0 &&
	     EVP_PKEY_verify(ctx, der, (size_t)der_sig_len, dgst, dgst_len) == 1;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return ok;
}

/* ---- through the module ---- */

static void test_module_slots_and_token_info(void **state)
{
	struct fx *fx = *state;
	CK_SLOT_ID slots[4];
	CK_ULONG n = 0;
	CK_TOKEN_INFO ti;
	CK_SLOT_INFO si;
	CK_MECHANISM_TYPE mechs[64];
	CK_MECHANISM_INFO mi;
	int have_ecdsa = 0;

	assert_int_equal(fx->f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	assert_int_equal(n, 1);
	n = 0;
	/* A buffer too small: the token says so and reports the size, over the wire. */
	assert_int_equal(fx->f->C_GetSlotList(CK_TRUE, slots, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 1);
	n = 4;
	assert_int_equal(fx->f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(fx->f->C_GetSlotInfo(slots[0], &si), CKR_OK);
	assert_true(si.flags & CKF_TOKEN_PRESENT);
	assert_int_equal(fx->f->C_GetTokenInfo(slots[0], &ti), CKR_OK);
	assert_memory_equal(ti.label, LABEL, strlen(LABEL));
	assert_true(ti.flags & CKF_TOKEN_INITIALIZED);
	assert_true(ti.flags & CKF_USER_PIN_INITIALIZED);
	assert_true(ti.flags & CKF_LOGIN_REQUIRED);
	assert_int_equal(fx->f->C_GetTokenInfo(99, &ti), CKR_SLOT_ID_INVALID);

	n = 64;
	assert_int_equal(fx->f->C_GetMechanismList(0, mechs, &n), CKR_OK);
	for (CK_ULONG i = 0; i < n; i++)
		have_ecdsa |= mechs[i] == CKM_ECDSA_SHA256;
	assert_true(have_ecdsa);
	assert_int_equal(fx->f->C_GetMechanismInfo(0, CKM_ECDSA_SHA256, &mi), CKR_OK);
	assert_true(mi.flags & CKF_SIGN);
	assert_int_equal(mi.ulMinKeySize, 256);
	assert_int_equal(fx->f->C_GetMechanismInfo(0, 0x7fffffffUL, &mi), CKR_MECHANISM_INVALID);
}

static void test_module_login_rules(void **state)
{
	struct fx *fx = *state;
	CK_SESSION_HANDLE s;
	CK_SESSION_INFO info;
	CK_TOKEN_INFO ti;

	assert_int_equal(fx->f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	assert_int_equal(fx->f->C_GetSessionInfo(s, &info), CKR_OK);
	assert_int_equal(info.state, CKS_RO_PUBLIC_SESSION);
	assert_int_equal(fx->f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "wrong-pin", 9),
			 CKR_PIN_INCORRECT);
	assert_int_equal(fx->f->C_GetTokenInfo(0, &ti), CKR_OK);
	assert_true(ti.flags & CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(fx->f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)),
			 CKR_OK);
	assert_int_equal(fx->f->C_GetTokenInfo(0, &ti), CKR_OK);
	assert_false(ti.flags & CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(fx->f->C_GetSessionInfo(s, &info), CKR_OK);
	assert_int_equal(info.state, CKS_RO_USER_FUNCTIONS);
	assert_int_equal(fx->f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)),
			 CKR_USER_ALREADY_LOGGED_IN);
	assert_int_equal(fx->f->C_Logout(s), CKR_OK);
	assert_int_equal(fx->f->C_Logout(s), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(fx->f->C_CloseSession(s), CKR_OK);
	assert_int_equal(fx->f->C_CloseSession(s), CKR_SESSION_HANDLE_INVALID);
}

static void test_module_keygen_sign_verify(void **state)
{
	struct fx *fx = *state;
	CK_SESSION_HANDLE s = open_user_session(fx);
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM ecdsa_sha256 = { CKM_ECDSA_SHA256, NULL, 0 };
	CK_MECHANISM ecdsa = { CKM_ECDSA, NULL, 0 };
	CK_BYTE point[128], sig[64], small[8], dgst[SHA256_DIGEST_LENGTH];
	const char *msg = "release-artifact-v1.2.3";
	CK_ATTRIBUTE a = { CKA_EC_POINT, point, sizeof(point) };
	CK_ULONG sig_len = 0;

	gen_p256(fx, s, CK_TRUE, "sign-key", &pub, &priv);
	assert_int_equal(fx->f->C_GetAttributeValue(s, pub, &a, 1), CKR_OK);
	assert_int_equal(a.ulValueLen, 67);
	SHA256((const unsigned char *)msg, strlen(msg), dgst);

	/* C_Sign with a size query first, then a too-small buffer: the operation stays active. */
	assert_int_equal(fx->f->C_SignInit(s, &ecdsa_sha256, priv), CKR_OK);
	assert_int_equal(fx->f->C_Sign(s, (CK_BYTE_PTR)msg, strlen(msg), NULL, &sig_len), CKR_OK);
	assert_int_equal(sig_len, 64);
	sig_len = sizeof(small);
	assert_int_equal(fx->f->C_Sign(s, (CK_BYTE_PTR)msg, strlen(msg), small, &sig_len),
			 CKR_BUFFER_TOO_SMALL);
	assert_int_equal(sig_len, 64);
	sig_len = sizeof(sig);
	assert_int_equal(fx->f->C_Sign(s, (CK_BYTE_PTR)msg, strlen(msg), sig, &sig_len), CKR_OK);
	assert_true(verify_p256(point, a.ulValueLen, dgst, sizeof(dgst), sig, sig_len));
	/* The operation ended with the signature. */
	assert_int_equal(fx->f->C_Sign(s, (CK_BYTE_PTR)msg, strlen(msg), sig, &sig_len),
			 CKR_OPERATION_NOT_INITIALIZED);

	/* Multi-part gives a signature over the same message. */
	assert_int_equal(fx->f->C_SignInit(s, &ecdsa_sha256, priv), CKR_OK);
	assert_int_equal(fx->f->C_SignUpdate(s, (CK_BYTE_PTR)msg, 7), CKR_OK);
	assert_int_equal(fx->f->C_SignUpdate(s, (CK_BYTE_PTR)msg + 7, strlen(msg) - 7), CKR_OK);
	sig_len = sizeof(sig);
	assert_int_equal(fx->f->C_SignFinal(s, sig, &sig_len), CKR_OK);
	assert_true(verify_p256(point, a.ulValueLen, dgst, sizeof(dgst), sig, sig_len));

	/* Raw ECDSA over a digest we made. */
	assert_int_equal(fx->f->C_SignInit(s, &ecdsa, priv), CKR_OK);
	sig_len = sizeof(sig);
	assert_int_equal(fx->f->C_Sign(s, dgst, sizeof(dgst), sig, &sig_len), CKR_OK);
	assert_true(verify_p256(point, a.ulValueLen, dgst, sizeof(dgst), sig, sig_len));
	/* A flipped bit does not verify: the check above is real. */
	sig[10] ^= 1;
	assert_false(verify_p256(point, a.ulValueLen, dgst, sizeof(dgst), sig, sig_len));

	/* A public key cannot sign; a bad handle is a bad *key* handle. */
	assert_int_equal(fx->f->C_SignInit(s, &ecdsa, pub), CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(fx->f->C_SignInit(s, &ecdsa, 0x5eed), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(fx->f->C_CloseSession(s), CKR_OK);
}

static void test_module_attributes_and_find(void **state)
{
	struct fx *fx = *state;
	CK_SESSION_HANDLE s = open_user_session(fx);
	CK_OBJECT_HANDLE pub, priv, found[8];
	CK_OBJECT_CLASS cls = 0, want = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = 0;
	CK_BYTE value[64], params[32];
	CK_BBOOL sensitive = CK_FALSE, local = CK_FALSE;
	CK_ATTRIBUTE get[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },    { CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_VALUE, value, sizeof(value) }, { CKA_EC_PARAMS, params, sizeof(params) },
		{ CKA_SENSITIVE, &sensitive, 1 },    { CKA_LOCAL, &local, 1 },
	};
	const char *label = "find-me";
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &want, sizeof(want) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_ULONG n = 0;

	gen_p256(fx, s, CK_FALSE, label, &pub, &priv);
	/* §5.7: the sensitive value is refused, everything else in the same call is filled. */
	assert_int_equal(fx->f->C_GetAttributeValue(s, priv, get, 6), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(cls, CKO_PRIVATE_KEY);
	assert_int_equal(kt, CKK_EC);
	assert_int_equal(get[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(get[3].ulValueLen, sizeof(p256_oid));
	assert_memory_equal(params, p256_oid, sizeof(p256_oid));
	assert_true(sensitive);
	assert_true(local);

	assert_int_equal(fx->f->C_FindObjectsInit(s, tmpl, 2), CKR_OK);
	assert_int_equal(fx->f->C_FindObjectsInit(s, tmpl, 2), CKR_OPERATION_ACTIVE);
	assert_int_equal(fx->f->C_FindObjects(s, found, 8, &n), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(found[0], priv);
	assert_int_equal(fx->f->C_FindObjectsFinal(s), CKR_OK);

	/* Logged out, the private key is invisible. */
	assert_int_equal(fx->f->C_Logout(s), CKR_OK);
	assert_int_equal(fx->f->C_FindObjectsInit(s, tmpl, 2), CKR_OK);
	assert_int_equal(fx->f->C_FindObjects(s, found, 8, &n), CKR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(fx->f->C_FindObjectsFinal(s), CKR_OK);
	assert_int_equal(fx->f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)),
			 CKR_OK);
	/* §5.6: logging out destroyed the private session key; the public one stays. */
	assert_int_equal(fx->f->C_DestroyObject(s, priv), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(fx->f->C_DestroyObject(s, pub), CKR_OK);
	assert_int_equal(fx->f->C_DestroyObject(s, pub), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(fx->f->C_CloseSession(s), CKR_OK);
}

static void test_module_random(void **state)
{
	struct fx *fx = *state;
	CK_SESSION_HANDLE s;
	CK_BYTE a[32], b[32];

	assert_int_equal(fx->f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	assert_int_equal(fx->f->C_GenerateRandom(s, a, sizeof(a)), CKR_OK);
	assert_int_equal(fx->f->C_GenerateRandom(s, b, sizeof(b)), CKR_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(fx->f->C_GenerateRandom(s + 1, a, sizeof(a)), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(fx->f->C_CloseSession(s), CKR_OK);
}

/* §5.7 for array attributes over the wire: size, per-entry sizes, a too-small entry, a
 * too-small array, then the values, through the real module. */
static void test_module_wrap_template_5_7(void **state)
{
	struct fx *fx = *state;
	CK_SESSION_HANDLE s = open_user_session(fx);
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BYTE v[16] = { 1 };
	CK_ATTRIBUTE inner[] = { { CKA_EXTRACTABLE, &yes, 1 },
				 { CKA_KEY_TYPE, &kt, sizeof(kt) },
				 { CKA_LABEL, "wrappable", 9 } };
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) },
			     { CKA_KEY_TYPE, &kt, sizeof(kt) },
			     { CKA_VALUE, v, 16 },
			     { CKA_SENSITIVE, &no, 1 },
			     { CKA_WRAP, &yes, 1 },
			     { CKA_WRAP_TEMPLATE, inner, sizeof(inner) } };
	CK_OBJECT_HANDLE k;
	CK_ATTRIBUTE e[3];
	CK_ATTRIBUTE a = { CKA_WRAP_TEMPLATE, NULL, 0 };
	CK_BYTE lbl[4], b = 7;
	CK_ULONG ul = 0;

	assert_int_equal(fx->f->C_CreateObject(s, t, 6, &k), CKR_OK);
	assert_int_equal(fx->f->C_GetAttributeValue(s, k, &a, 1), CKR_OK);
	assert_int_equal(a.ulValueLen, 3 * sizeof(CK_ATTRIBUTE));
	memset(e, 0, sizeof(e));
	a.pValue = e;
	assert_int_equal(fx->f->C_GetAttributeValue(s, k, &a, 1), CKR_OK);
	assert_int_equal(e[0].type, CKA_LABEL);
	assert_int_equal(e[0].ulValueLen, 9);
	assert_int_equal(e[1].type, CKA_KEY_TYPE);
	assert_int_equal(e[1].ulValueLen, sizeof(CK_ULONG));
	assert_int_equal(e[2].type, CKA_EXTRACTABLE);
	e[0].pValue = lbl;
	e[0].ulValueLen = 4;
	e[1].pValue = &ul;
	e[1].ulValueLen = sizeof(ul);
	e[2].pValue = &b;
	e[2].ulValueLen = 1;
	assert_int_equal(fx->f->C_GetAttributeValue(s, k, &a, 1), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(a.ulValueLen, 3 * sizeof(CK_ATTRIBUTE));
	assert_int_equal(e[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(ul, CKK_AES);
	assert_int_equal(b, CK_TRUE);
	a.ulValueLen = 2 * sizeof(CK_ATTRIBUTE);
	assert_int_equal(fx->f->C_GetAttributeValue(s, k, &a, 1), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
	{
		char big[16];
		e[0].pValue = big;
		e[0].ulValueLen = sizeof(big);
		a.ulValueLen = 3 * sizeof(CK_ATTRIBUTE);
		assert_int_equal(fx->f->C_GetAttributeValue(s, k, &a, 1), CKR_OK);
		assert_int_equal(e[0].ulValueLen, 9);
		assert_memory_equal(big, "wrappable", 9);
	}
	assert_int_equal(fx->f->C_CloseSession(s), CKR_OK);
}

/* ---- dispatch on raw bytes ---- */

struct raw {
	char dir[64];
	struct ta *ta;
	struct srv_peer *p;
};

static int raw_setup(void **state)
{
	struct raw *r = calloc(1, sizeof(*r));
	struct ta_config cfg = { 0 };

	strcpy(r->dir, "/tmp/teehsm-raw-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	cfg.store_dir = r->dir;
	cfg.pin_kdf_iterations = 1000;
	assert_int_equal(ta_open(&cfg, &r->ta), CKR_OK);
	r->p = srv_peer_new(r->ta, CODEC_DEFAULT_MAX_FRAME, "raw");
	assert_non_null(r->p);
	*state = r;
	return 0;
}

static int raw_teardown(void **state)
{
	struct raw *r = *state;
	char cmd[128];

	srv_peer_free(r->p);
	ta_close(r->ta);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
	assert_int_equal(system(cmd), 0);
	free(r);
	return 0;
}

/* Pack q, hand its payload to dispatch, return the verdict and the unpacked response. */
static enum srv_verdict raw_call(struct raw *r, Teehsm__Request *q, Teehsm__Response **resp)
{
	uint8_t *in = NULL, *out = NULL;
	size_t in_len = 0, out_len = 0;
	enum srv_verdict v;

	assert_int_equal(codec_pack_request(q, CODEC_DEFAULT_MAX_FRAME, &in, &in_len), 0);
	v = srv_dispatch(r->p, in + 4, in_len - 4, &out, &out_len);
	*resp = out ? codec_unpack_response(out + 4, out_len - 4) : NULL;
	free(in);
	free(out);
	return v;
}

static void hello(Teehsm__Request *q, Teehsm__Hello *h, uint32_t version)
{
	teehsm__hello__init(h);
	h->protocol_version = version;
	h->software_version = "test";
	h->max_frame = CODEC_DEFAULT_MAX_FRAME;
	teehsm__request__init(q);
	q->id = 1;
	q->call_case = TEEHSM__REQUEST__CALL_HELLO;
	q->hello = h;
}

static void test_dispatch_requires_hello_first(void **state)
{
	struct raw *r = *state;
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GetSlotInfoRequest a = TEEHSM__GET_SLOT_INFO_REQUEST__INIT;
	Teehsm__Response *resp = NULL;

	q.id = 5;
	q.call_case = TEEHSM__REQUEST__CALL_GET_SLOT_INFO;
	q.get_slot_info = &a;
	assert_int_equal(raw_call(r, &q, &resp), SRV_CLOSE);
	assert_null(resp);
}

static void test_dispatch_hello_then_calls(void **state)
{
	struct raw *r = *state;
	Teehsm__Request q;
	Teehsm__Hello h;
	Teehsm__GetSlotInfoRequest a = TEEHSM__GET_SLOT_INFO_REQUEST__INIT;
	Teehsm__Response *resp = NULL;

	hello(&q, &h, CODEC_PROTOCOL_VERSION);
	assert_int_equal(raw_call(r, &q, &resp), SRV_REPLY);
	assert_non_null(resp);
	assert_int_equal(resp->rv, CKR_OK);
	assert_int_equal(resp->result_case, TEEHSM__RESPONSE__RESULT_HELLO);
	assert_int_equal(resp->hello->protocol_version, CODEC_PROTOCOL_VERSION);
	codec_response_free(resp);

	/* The id is echoed; the answer carries the call's own result. */
	teehsm__request__init(&q);
	q.id = 0xabcdef;
	q.call_case = TEEHSM__REQUEST__CALL_GET_SLOT_INFO;
	q.get_slot_info = &a;
	assert_int_equal(raw_call(r, &q, &resp), SRV_REPLY);
	assert_int_equal(resp->id, 0xabcdef);
	assert_int_equal(resp->rv, CKR_OK);
	assert_int_equal(resp->result_case, TEEHSM__RESPONSE__RESULT_GET_SLOT_INFO);
	assert_int_equal(resp->get_slot_info->info->slot_description.len, 64);
	codec_response_free(resp);

	/* A failing call carries rv only. */
	a.slot_id = 42;
	assert_int_equal(raw_call(r, &q, &resp), SRV_REPLY);
	assert_int_equal(resp->rv, CKR_SLOT_ID_INVALID);
	assert_int_equal(resp->result_case, TEEHSM__RESPONSE__RESULT__NOT_SET);
	codec_response_free(resp);

	/* A request without a call is answered, not fatal. */
	teehsm__request__init(&q);
	q.id = 9;
	assert_int_equal(raw_call(r, &q, &resp), SRV_REPLY);
	assert_int_equal(resp->rv, CKR_FUNCTION_NOT_SUPPORTED);
	codec_response_free(resp);

	/* A second Hello is a protocol violation. */
	hello(&q, &h, CODEC_PROTOCOL_VERSION);
	assert_int_equal(raw_call(r, &q, &resp), SRV_CLOSE);
	assert_null(resp);
}

static void test_dispatch_unknown_version(void **state)
{
	struct raw *r = *state;
	Teehsm__Request q;
	Teehsm__Hello h;
	Teehsm__Response *resp = NULL;

	hello(&q, &h, 77);
	assert_int_equal(raw_call(r, &q, &resp), SRV_REPLY_CLOSE);
	assert_non_null(resp);
	assert_int_equal(resp->rv, CKR_DEVICE_ERROR);
	assert_int_equal(resp->hello->protocol_version, CODEC_PROTOCOL_VERSION);
	codec_response_free(resp);
}

static void test_dispatch_malformed_closes(void **state)
{
	struct raw *r = *state;
	const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
	uint8_t *out = (uint8_t *)1;
	size_t out_len = 1;

	assert_int_equal(srv_dispatch(r->p, junk, sizeof(junk), &out, &out_len), SRV_CLOSE);
	assert_null(out);
	assert_int_equal(out_len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_module_slots_and_token_info, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_module_login_rules, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_module_keygen_sign_verify, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_module_attributes_and_find, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_module_random, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_module_wrap_template_5_7, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_requires_hello_first, raw_setup,
						raw_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_hello_then_calls, raw_setup,
						raw_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_unknown_version, raw_setup,
						raw_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_malformed_closes, raw_setup,
						raw_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
