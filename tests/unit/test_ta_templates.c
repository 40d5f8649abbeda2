/*
 * Attribute arrays of keys through ta.h only: CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE and
 * CKA_DERIVE_TEMPLATE (PKCS#11 v2.40 §4.1.3 array attributes; §4.8–§4.10 key tables), read
 * back by C_GetAttributeValue (§5.7), kept across a restart of the token, and enforced by
 * C_WrapKey, C_UnwrapKey and C_DeriveKey (§5.14). Key bytes are checked against OpenSSL.
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

#include "fixture_ta.h"
#include "ta.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const CK_BYTE p256_params[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static CK_BBOOL yes = CK_TRUE;
static CK_BBOOL no = CK_FALSE;
static CK_OBJECT_CLASS cls_secret = CKO_SECRET_KEY;
static CK_OBJECT_CLASS cls_private = CKO_PRIVATE_KEY;
static CK_OBJECT_CLASS cls_public = CKO_PUBLIC_KEY;
static CK_KEY_TYPE kt_aes = CKK_AES;
static CK_KEY_TYPE kt_generic = CKK_GENERIC_SECRET;
static CK_KEY_TYPE kt_ec = CKK_EC;

/* A new client with f->h a R/W session, the user logged in (after a restart of the core). */
static void open_user_session(struct fx *f)
{
	assert_int_equal(ta_client_new(f->ta, &f->c), CKR_OK);
	assert_int_equal(
		ta_C_OpenSession(f->c, TA_SLOT_ID, CKF_SERIAL_SESSION | CKF_RW_SESSION, &f->h),
		CKR_OK);
	assert_int_equal(
		ta_C_Login(f->c, f->h, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)),
		CKR_OK);
}

static int setup(void **state)
{
	static const struct fx_ta_params p = {
		.name = "test_ta_templates",
		.user_session = true,
	};

	return fx_ta_setup(state, &p);
}

static int teardown(void **state)
{
	return fx_ta_teardown(state);
}

/* --- helpers --- */

/* An AES key (session object unless token) with value v, extractable and readable, usable for
 * wrapping, with the extra attributes ex. */
static CK_RV aes_key_rv(struct fx *f, const CK_BYTE *v, CK_ULONG len, const CK_ATTRIBUTE *ex,
			size_t nex, CK_OBJECT_HANDLE *o)
{
	CK_ATTRIBUTE t[16] = {
		{ CKA_CLASS, &cls_secret, sizeof(cls_secret) },
		{ CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
		{ CKA_VALUE, (void *)v, len },
		{ CKA_SENSITIVE, &no, 1 },
		{ CKA_EXTRACTABLE, &yes, 1 },
		{ CKA_WRAP, &yes, 1 },
		{ CKA_UNWRAP, &yes, 1 },
	};
	size_t n = 7;

	assert_true(n + nex <= N(t));
	for (size_t i = 0; i < nex; i++)
		t[n++] = ex[i];
	return ta_C_CreateObject(f->c, f->h, t, (CK_ULONG)n, o);
}

static CK_OBJECT_HANDLE aes_key(struct fx *f, const CK_BYTE *v, CK_ULONG len,
				const CK_ATTRIBUTE *ex, size_t nex)
{
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;

	assert_int_equal(aes_key_rv(f, v, len, ex, nex, &o), CKR_OK);
	return o;
}

static CK_RV get_attr_rv(struct fx *f, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type, void *buf,
			 CK_ULONG *len)
{
	CK_ATTRIBUTE a = { type, buf, *len };
	CK_RV rv = ta_C_GetAttributeValue(f->c, f->h, o, &a, 1);

	*len = a.ulValueLen;
	return rv;
}

static bool get_bool(struct fx *f, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL b = 2;
	CK_ULONG len = 1;

	assert_int_equal(get_attr_rv(f, o, type, &b, &len), CKR_OK);
	assert_int_equal(len, 1);
	return b == CK_TRUE;
}

static void assert_label(struct fx *f, CK_OBJECT_HANDLE o, const char *want)
{
	char buf[64];
	CK_ULONG len = sizeof(buf);

	assert_int_equal(get_attr_rv(f, o, CKA_LABEL, buf, &len), CKR_OK);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(buf, want, len);
}

/* RFC 3394 wrap by OpenSSL. */
static int ossl_wrap(const CK_BYTE *kek, const CK_BYTE *in, int in_len, CK_BYTE *out)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n = 0, m = 0;

	assert_non_null(x);
	EVP_CIPHER_CTX_set_flags(x, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	assert_true(EVP_EncryptInit_ex(x, EVP_aes_128_wrap(), NULL, kek, NULL) == 1);
	assert_true(EVP_EncryptUpdate(x, out, &n, in, in_len) == 1);
	assert_true(EVP_EncryptFinal_ex(x, out + n, &m) == 1);
	EVP_CIPHER_CTX_free(x);
	return n + m;
}

/* The template read back through the §5.7 steps: size, types and lengths, then values. The
 * caller gives the buffers in bufs[i] of room[i] bytes. Returns the count. */
static CK_ULONG read_template(struct fx *f, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
			      CK_ATTRIBUTE *e, size_t max)
{
	CK_ULONG len = 0;
	CK_ULONG n = 0;

	assert_int_equal(get_attr_rv(f, o, type, NULL, &len), CKR_OK);
	assert_int_equal(len % sizeof(CK_ATTRIBUTE), 0);
	n = len / sizeof(CK_ATTRIBUTE);
	assert_true(n <= max);
	for (CK_ULONG i = 0; i < n; i++) {
		e[i].type = 0;
		e[i].pValue = NULL;
		e[i].ulValueLen = 0;
	}
	assert_int_equal(get_attr_rv(f, o, type, e, &len), CKR_OK);
	assert_int_equal(len, n * sizeof(CK_ATTRIBUTE));
	for (CK_ULONG i = 0; i < n; i++) {
		e[i].pValue = malloc(e[i].ulValueLen ? e[i].ulValueLen : 1);
		assert_non_null(e[i].pValue);
	}
	assert_int_equal(get_attr_rv(f, o, type, e, &len), CKR_OK);
	return n;
}

static void free_template(CK_ATTRIBUTE *e, CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++)
		free(e[i].pValue);
}

/* --- §4.1.3 / §5.7: storing and reading attribute arrays --- */

/* A wrap template given in any order reads back sorted by type, with the exact values; the
 * size query, the per-entry size query, an entry's buffer too small and the array too small
 * follow §5.7. */
static void test_5_7_wrap_template_get(void **state)
{
	struct fx *f = *state;
	CK_BYTE v[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	CK_ATTRIBUTE inner[] = {
		{ CKA_EXTRACTABLE, &yes, 1 },
		{ CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
		{ CKA_LABEL, "wrappable", 9 },
	};
	CK_ATTRIBUTE ex[] = { { CKA_WRAP_TEMPLATE, inner, sizeof(inner) } };
	CK_OBJECT_HANDLE k = aes_key(f, v, 16, ex, 1);
	CK_ATTRIBUTE e[4];
	CK_BYTE lbl[4], kt[sizeof(CK_ULONG)], b[1];
	CK_ULONG len = 0, ul = 0;

	assert_int_equal(get_attr_rv(f, k, CKA_WRAP_TEMPLATE, NULL, &len), CKR_OK);
	assert_int_equal(len, 3 * sizeof(CK_ATTRIBUTE));
	/* each entry a size query: the token names the types, in type order */
	memset(e, 0, sizeof(e));
	len = 3 * sizeof(CK_ATTRIBUTE);
	assert_int_equal(get_attr_rv(f, k, CKA_WRAP_TEMPLATE, e, &len), CKR_OK);
	assert_int_equal(len, 3 * sizeof(CK_ATTRIBUTE));
	assert_int_equal(e[0].type, CKA_LABEL);
	assert_int_equal(e[0].ulValueLen, 9);
	assert_int_equal(e[1].type, CKA_KEY_TYPE);
	assert_int_equal(e[1].ulValueLen, sizeof(CK_ULONG));
	assert_int_equal(e[2].type, CKA_EXTRACTABLE);
	assert_int_equal(e[2].ulValueLen, 1);
	/* values; the label's buffer too small: that entry alone is unavailable */
	e[0].pValue = lbl;
	e[0].ulValueLen = sizeof(lbl);
	e[1].pValue = kt;
	e[1].ulValueLen = sizeof(kt);
	e[2].pValue = b;
	e[2].ulValueLen = 1;
	b[0] = 7;
	assert_int_equal(get_attr_rv(f, k, CKA_WRAP_TEMPLATE, e, &len), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, 3 * sizeof(CK_ATTRIBUTE));
	assert_int_equal(e[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(e[1].ulValueLen, sizeof(CK_ULONG));
	memcpy(&ul, kt, sizeof(ul));
	assert_int_equal(ul, CKK_AES);
	assert_int_equal(e[2].ulValueLen, 1);
	assert_int_equal(b[0], CK_TRUE);
	/* the array itself too small: BUFFER_TOO_SMALL, the length unavailable */
	len = 2 * sizeof(CK_ATTRIBUTE);
	assert_int_equal(get_attr_rv(f, k, CKA_WRAP_TEMPLATE, e, &len), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, CK_UNAVAILABLE_INFORMATION);
	/* the full read */
	len = read_template(f, k, CKA_WRAP_TEMPLATE, e, N(e));
	assert_int_equal(len, 3);
	assert_int_equal(e[0].ulValueLen, 9);
	assert_memory_equal(e[0].pValue, "wrappable", 9);
	free_template(e, len);
	/* a key without one: the attribute is absent */
	k = aes_key(f, v, 16, NULL, 0);
	len = 0;
	assert_int_equal(get_attr_rv(f, k, CKA_WRAP_TEMPLATE, NULL, &len),
			 CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(len, CK_UNAVAILABLE_INFORMATION);
	/* an empty template is a value: zero entries */
	ex[0].pValue = NULL;
	ex[0].ulValueLen = 0;
	k = aes_key(f, v, 16, ex, 1);
	len = 99;
	assert_int_equal(get_attr_rv(f, k, CKA_WRAP_TEMPLATE, NULL, &len), CKR_OK);
	assert_int_equal(len, 0);
}

/* §4.1.3: an array entry must be a valid attribute; the arrays exist only where the key tables
 * put them (§4.8 public: wrap; §4.9 private: unwrap, derive; §4.10 secret: all three) and are
 * not modifiable (no footnote 8). */
static void test_4_1_3_template_values_checked(void **state)
{
	struct fx *f = *state;
	CK_BYTE v[16] = { 0 };
	CK_BBOOL two[2] = { CK_TRUE, CK_TRUE };
	CK_BYTE bad_bool = 5;
	CK_ULONG short_ul = 1;
	CK_ATTRIBUTE unknown[] = { { CKA_VENDOR_DEFINED | 0x4242, &yes, 1 } };
	CK_ATTRIBUTE long_bool[] = { { CKA_SENSITIVE, two, 2 } };
	CK_ATTRIBUTE odd_bool[] = { { CKA_SENSITIVE, &bad_bool, 1 } };
	CK_ATTRIBUTE short_class[] = { { CKA_CLASS, &short_ul, 4 } };
	CK_ATTRIBUTE dup[] = { { CKA_SENSITIVE, &yes, 1 }, { CKA_SENSITIVE, &yes, 1 } };
	CK_ATTRIBUTE null_val[] = { { CKA_LABEL, NULL, 3 } };
	CK_ATTRIBUTE nested_in[] = { { CKA_SENSITIVE, &yes, 1 } };
	CK_ATTRIBUTE nested[] = { { CKA_WRAP_TEMPLATE, nested_in, sizeof(nested_in) } };
	CK_ATTRIBUTE ok[] = { { CKA_SENSITIVE, &yes, 1 } };
	struct {
		CK_ATTRIBUTE *v;
		CK_ULONG len;
	} bad[] = {
		{ unknown, sizeof(unknown) },
		{ long_bool, sizeof(long_bool) },
		{ odd_bool, sizeof(odd_bool) },
		{ short_class, sizeof(short_class) },
		{ dup, sizeof(dup) },
		{ null_val, sizeof(null_val) },
		{ nested, sizeof(nested) },
		{ ok, sizeof(ok) - 1 }, /* not a whole number of CK_ATTRIBUTEs */
	};
	CK_ATTRIBUTE ex[1];
	CK_ATTRIBUTE pub[] = {
		{ CKA_CLASS, &cls_public, sizeof(cls_public) },
		{ CKA_KEY_TYPE, &kt_ec, sizeof(kt_ec) },
		{ CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) },
		{ CKA_EC_POINT, NULL, 0 },
		{ CKA_DERIVE_TEMPLATE, ok, sizeof(ok) },
	};
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
	CK_ULONG i = 0;

	for (i = 0; i < N(bad); i++) {
		ex[0].type = CKA_WRAP_TEMPLATE;
		ex[0].pValue = bad[i].v;
		ex[0].ulValueLen = bad[i].len;
		assert_int_equal(aes_key_rv(f, v, 16, ex, 1, &o), CKR_ATTRIBUTE_VALUE_INVALID);
		ex[0].type = CKA_DERIVE_TEMPLATE;
		assert_int_equal(aes_key_rv(f, v, 16, ex, 1, &o), CKR_ATTRIBUTE_VALUE_INVALID);
	}
	/* a public key has no derive template */
	assert_int_equal(ta_C_CreateObject(f->c, f->h, pub, N(pub), &o),
			 CKR_ATTRIBUTE_TYPE_INVALID);
	pub[4].type = CKA_UNWRAP_TEMPLATE;
	assert_int_equal(ta_C_CreateObject(f->c, f->h, pub, N(pub), &o),
			 CKR_ATTRIBUTE_TYPE_INVALID);
	/* not modifiable once the key exists */
	ex[0].type = CKA_UNWRAP_TEMPLATE;
	ex[0].pValue = ok;
	ex[0].ulValueLen = sizeof(ok);
	o = aes_key(f, v, 16, ex, 1);
	assert_int_equal(ta_C_SetAttributeValue(f->c, f->h, o, ex, 1), CKR_ATTRIBUTE_READ_ONLY);
	ex[0].type = CKA_WRAP_TEMPLATE;
	assert_int_equal(ta_C_SetAttributeValue(f->c, f->h, o, ex, 1), CKR_ATTRIBUTE_READ_ONLY);
}

/* The sealed store keeps the arrays: a token key's unwrap template reads back the same after
 * ta_close / ta_open, and a search on the template finds the key whatever the entry order. */
static void test_4_1_3_template_persists(void **state)
{
	struct fx *f = *state;
	CK_BYTE v[16] = { 0x42 };
	CK_ULONG vl = 16;
	CK_ATTRIBUTE inner[] = {
		{ CKA_LABEL, "kept", 4 },
		{ CKA_VALUE_LEN, &vl, sizeof(vl) },
		{ CKA_SENSITIVE, &no, 1 },
	};
	CK_ATTRIBUTE reordered[] = { inner[2], inner[0], inner[1] };
	CK_ATTRIBUTE ex[] = {
		{ CKA_TOKEN, &yes, 1 },
		{ CKA_LABEL, "persist", 7 },
		{ CKA_UNWRAP_TEMPLATE, inner, sizeof(inner) },
	};
	CK_ATTRIBUTE find[] = { { CKA_UNWRAP_TEMPLATE, reordered, sizeof(reordered) } };
	CK_ATTRIBUTE e[4];
	CK_OBJECT_HANDLE k = CK_INVALID_HANDLE, found[2];
	CK_ULONG n = 0, ul = 0;

	(void)aes_key(f, v, 16, ex, N(ex));
	ta_client_free(f->c);
	ta_close(f->ta);
	f->ta = NULL;
	assert_int_equal(ta_open(&f->cfg, &f->ta), CKR_OK);
	open_user_session(f);
	assert_int_equal(ta_C_FindObjectsInit(f->c, f->h, find, 1), CKR_OK);
	assert_int_equal(ta_C_FindObjects(f->c, f->h, found, 2, &n), CKR_OK);
	assert_int_equal(ta_C_FindObjectsFinal(f->c, f->h), CKR_OK);
	assert_int_equal(n, 1);
	k = found[0];
	assert_label(f, k, "persist");
	n = read_template(f, k, CKA_UNWRAP_TEMPLATE, e, N(e));
	assert_int_equal(n, 3);
	assert_int_equal(e[0].type, CKA_LABEL);
	assert_int_equal(e[0].ulValueLen, 4);
	assert_memory_equal(e[0].pValue, "kept", 4);
	assert_int_equal(e[1].type, CKA_SENSITIVE);
	assert_int_equal(e[1].ulValueLen, 1);
	assert_int_equal(((CK_BYTE *)e[1].pValue)[0], CK_FALSE);
	assert_int_equal(e[2].type, CKA_VALUE_LEN);
	assert_int_equal(e[2].ulValueLen, sizeof(CK_ULONG));
	memcpy(&ul, e[2].pValue, sizeof(ul));
	assert_int_equal(ul, 16);
	free_template(e, n);
}

/* --- §5.14 enforcement --- */

/* C_WrapKey: a wrapping key with CKA_WRAP_TEMPLATE wraps only keys matching all of it; the
 * wrapped bytes of an admitted key are RFC 3394 as OpenSSL computes them. */
static void test_5_14_wrap_template_enforced(void **state)
{
	struct fx *f = *state;
	CK_BYTE kek_v[16], a_v[16], b_v[16], out[64], want[64];
	CK_ATTRIBUTE inner[] = {
		{ CKA_LABEL, "ok", 2 },
		{ CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
	};
	CK_ATTRIBUTE kex[] = { { CKA_WRAP_TEMPLATE, inner, sizeof(inner) } };
	CK_ATTRIBUTE lbl_ok[] = { { CKA_LABEL, "ok", 2 } };
	CK_ATTRIBUTE lbl_no[] = { { CKA_LABEL, "no", 2 } };
	CK_ATTRIBUTE secret_in[] = { { CKA_VALUE, a_v, 16 } };
	CK_ATTRIBUTE kex2[] = { { CKA_WRAP_TEMPLATE, secret_in, sizeof(secret_in) } };
	CK_ATTRIBUTE sens[] = { { CKA_SENSITIVE, &yes, 1 } };
	CK_MECHANISM m = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_OBJECT_HANDLE kek, ka, kb, kek2;
	CK_ULONG len = 0;
	int wl = 0;

	for (int i = 0; i < 16; i++) {
		kek_v[i] = (CK_BYTE)(i * 3 + 1);
		a_v[i] = (CK_BYTE)(0xa0 + i);
		b_v[i] = (CK_BYTE)(0x50 + i);
	}
	kek = aes_key(f, kek_v, 16, kex, 1);
	ka = aes_key(f, a_v, 16, lbl_ok, 1);
	kb = aes_key(f, b_v, 16, lbl_no, 1);
	len = sizeof(out);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &m, kek, kb, out, &len), CKR_KEY_NOT_WRAPPABLE);
	len = sizeof(out);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &m, kek, ka, out, &len), CKR_OK);
	wl = ossl_wrap(kek_v, a_v, 16, want);
	assert_int_equal(len, (CK_ULONG)wl);
	assert_memory_equal(out, want, len);
	/* once relabelled, the same key no longer matches */
	assert_int_equal(ta_C_SetAttributeValue(f->c, f->h, ka, lbl_no, 1), CKR_OK);
	len = sizeof(out);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &m, kek, ka, out, &len), CKR_KEY_NOT_WRAPPABLE);
	/* a template may name a readable value; once the key is sensitive it never matches, so
	 * the template cannot probe a secret */
	kek2 = aes_key(f, kek_v, 16, kex2, 1);
	len = sizeof(out);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &m, kek2, ka, out, &len), CKR_OK);
	assert_int_equal(ta_C_SetAttributeValue(f->c, f->h, ka, sens, 1), CKR_OK);
	len = sizeof(out);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &m, kek2, ka, out, &len), CKR_KEY_NOT_WRAPPABLE);
	/* without a template any extractable key wraps */
	kek2 = aes_key(f, kek_v, 16, NULL, 0);
	len = sizeof(out);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &m, kek2, kb, out, &len), CKR_OK);
	wl = ossl_wrap(kek_v, b_v, 16, want);
	assert_memory_equal(out, want, (size_t)wl);
}

/* C_UnwrapKey: the unwrapping key's CKA_UNWRAP_TEMPLATE supplies what the caller's template
 * lacks (even the class and key type), the caller may repeat its values, and a different
 * value is CKR_TEMPLATE_INCONSISTENT. */
static void test_5_14_unwrap_template_applied(void **state)
{
	struct fx *f = *state;
	CK_BYTE kek_v[16], k_v[16], w[64], got[32];
	CK_ATTRIBUTE inner[] = {
		{ CKA_CLASS, &cls_secret, sizeof(cls_secret) },
		{ CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
		{ CKA_SENSITIVE, &no, 1 },
		{ CKA_EXTRACTABLE, &yes, 1 },
		{ CKA_LABEL, "from-kek", 8 },
	};
	CK_ATTRIBUTE kex[] = { { CKA_UNWRAP_TEMPLATE, inner, sizeof(inner) } };
	CK_ATTRIBUTE caller[] = { { CKA_TOKEN, &no, 1 }, { CKA_ENCRYPT, &no, 1 } };
	CK_ATTRIBUTE same[] = { { CKA_CLASS, &cls_secret, sizeof(cls_secret) },
				{ CKA_SENSITIVE, &no, 1 } };
	CK_ATTRIBUTE conflict[] = { { CKA_SENSITIVE, &yes, 1 } };
	CK_ATTRIBUTE conflict_type[] = { { CKA_KEY_TYPE, &kt_generic, sizeof(kt_generic) } };
	CK_ATTRIBUTE conflict_label[] = { { CKA_LABEL, "mine", 4 } };
	CK_MECHANISM m = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_OBJECT_HANDLE kek, nk = CK_INVALID_HANDLE;
	CK_ULONG len = 0;
	int wl = 0;

	for (int i = 0; i < 16; i++) {
		kek_v[i] = (CK_BYTE)(0x11 * i);
		k_v[i] = (CK_BYTE)(0xf0 - i);
	}
	kek = aes_key(f, kek_v, 16, kex, 1);
	wl = ossl_wrap(kek_v, k_v, 16, w);
	assert_int_equal(
		ta_C_UnwrapKey(f->c, f->h, &m, kek, w, (CK_ULONG)wl, caller, N(caller), &nk),
		CKR_OK);
	assert_label(f, nk, "from-kek");
	assert_false(get_bool(f, nk, CKA_SENSITIVE));
	assert_true(get_bool(f, nk, CKA_EXTRACTABLE));
	assert_false(get_bool(f, nk, CKA_ENCRYPT)); /* the caller's own choice stands */
	len = sizeof(got);
	assert_int_equal(get_attr_rv(f, nk, CKA_VALUE, got, &len), CKR_OK);
	assert_int_equal(len, 16);
	assert_memory_equal(got, k_v, 16);
	/* repeating the template's values is fine */
	nk = CK_INVALID_HANDLE;
	assert_int_equal(ta_C_UnwrapKey(f->c, f->h, &m, kek, w, (CK_ULONG)wl, same, N(same), &nk),
			 CKR_OK);
	assert_label(f, nk, "from-kek");
	/* contradicting them is not */
	nk = CK_INVALID_HANDLE;
	assert_int_equal(
		ta_C_UnwrapKey(f->c, f->h, &m, kek, w, (CK_ULONG)wl, conflict, N(conflict), &nk),
		CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(nk, CK_INVALID_HANDLE);
	assert_int_equal(ta_C_UnwrapKey(f->c, f->h, &m, kek, w, (CK_ULONG)wl, conflict_type,
					N(conflict_type), &nk),
			 CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(ta_C_UnwrapKey(f->c, f->h, &m, kek, w, (CK_ULONG)wl, conflict_label,
					N(conflict_label), &nk),
			 CKR_TEMPLATE_INCONSISTENT);
	/* a template without a class still needs one from the caller */
	kex[0].ulValueLen = 0;
	kek = aes_key(f, kek_v, 16, kex, 1);
	assert_int_equal(
		ta_C_UnwrapKey(f->c, f->h, &m, kek, w, (CK_ULONG)wl, caller, N(caller), &nk),
		CKR_TEMPLATE_INCOMPLETE);
}

/* An OpenSSL P-256 key: its scalar d (32 bytes) and point q (65 bytes). */
static EVP_PKEY *ossl_p256(CK_BYTE d[32], CK_BYTE q[65])
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIGNUM *bn = NULL;
	size_t ql = 0;

	assert_non_null(k);
	assert_true(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &bn) == 1);
	assert_int_equal(BN_bn2binpad(bn, d, 32), 32);
	assert_true(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, q, 65, &ql) == 1);
	assert_int_equal(ql, 65);
	BN_clear_free(bn);
	return k;
}

/* C_DeriveKey: the base key's CKA_DERIVE_TEMPLATE is applied as the unwrap template is; the
 * derived value is the ECDH secret OpenSSL computes. */
static void test_5_14_derive_template_applied(void **state)
{
	struct fx *f = *state;
	CK_BYTE d1[32], q1[65], d2[32], q2[65], z[32], got[32];
	EVP_PKEY *k1 = ossl_p256(d1, q1);
	EVP_PKEY *k2 = ossl_p256(d2, q2);
	EVP_PKEY_CTX *x = EVP_PKEY_CTX_new(k2, NULL);
	size_t zl = sizeof(z);
	CK_ULONG vlen = 32, len = 0;
	CK_ATTRIBUTE inner[] = {
		{ CKA_LABEL, "derived", 7 },
		{ CKA_KEY_TYPE, &kt_generic, sizeof(kt_generic) },
		{ CKA_SENSITIVE, &no, 1 },
	};
	CK_ATTRIBUTE base_t[] = {
		{ CKA_CLASS, &cls_private, sizeof(cls_private) },
		{ CKA_KEY_TYPE, &kt_ec, sizeof(kt_ec) },
		{ CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) },
		{ CKA_VALUE, d1, 32 },
		{ CKA_DERIVE, &yes, 1 },
		{ CKA_DERIVE_TEMPLATE, inner, sizeof(inner) },
	};
	CK_ECDH1_DERIVE_PARAMS p = { CKD_NULL, 0, NULL, 65, q2 };
	CK_MECHANISM m = { CKM_ECDH1_DERIVE, &p, sizeof(p) };
	CK_ATTRIBUTE caller[] = {
		{ CKA_CLASS, &cls_secret, sizeof(cls_secret) },
		{ CKA_EXTRACTABLE, &yes, 1 },
		{ CKA_VALUE_LEN, &vlen, sizeof(vlen) },
	};
	CK_ATTRIBUTE conflict[] = {
		{ CKA_CLASS, &cls_secret, sizeof(cls_secret) },
		{ CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
		{ CKA_VALUE_LEN, &vlen, sizeof(vlen) },
	};
	CK_OBJECT_HANDLE base = CK_INVALID_HANDLE, nk = CK_INVALID_HANDLE;

	assert_non_null(x);
	assert_true(EVP_PKEY_derive_init(x) == 1);
	assert_true(EVP_PKEY_derive_set_peer(x, k1) == 1);
	assert_true(EVP_PKEY_derive(x, z, &zl) == 1);
	assert_int_equal(zl, 32);
	assert_int_equal(ta_C_CreateObject(f->c, f->h, base_t, N(base_t), &base), CKR_OK);
	assert_int_equal(ta_C_DeriveKey(f->c, f->h, &m, base, caller, N(caller), &nk), CKR_OK);
	assert_label(f, nk, "derived");
	assert_false(get_bool(f, nk, CKA_SENSITIVE));
	len = sizeof(got);
	assert_int_equal(get_attr_rv(f, nk, CKA_VALUE, got, &len), CKR_OK);
	assert_int_equal(len, 32);
	assert_memory_equal(got, z, 32);
	/* the caller's key type contradicts the template */
	nk = CK_INVALID_HANDLE;
	assert_int_equal(ta_C_DeriveKey(f->c, f->h, &m, base, conflict, N(conflict), &nk),
			 CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(nk, CK_INVALID_HANDLE);
	/* the template cannot be changed to lift the restriction */
	assert_int_equal(ta_C_SetAttributeValue(f->c, f->h, base, &base_t[5], 1),
			 CKR_ATTRIBUTE_READ_ONLY);
	EVP_PKEY_CTX_free(x);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_5_7_wrap_template_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4_1_3_template_values_checked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_4_1_3_template_persists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_14_wrap_template_enforced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_14_unwrap_template_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_14_derive_template_applied, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
