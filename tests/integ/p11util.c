/*
 * The helpers p11drive and loadgen share; see p11util.h.
 */
#include <dlfcn.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include "p11util.h"

const CK_BYTE p11util_p256_params[10] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};

static const struct {
	CK_RV rv;
	const char *name;
} rv_names[] = {
	{ CKR_OK, "CKR_OK" },
	{ CKR_HOST_MEMORY, "CKR_HOST_MEMORY" },
	{ CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID" },
	{ CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR" },
	{ CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED" },
	{ CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD" },
	{ CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE" },
	{ CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID" },
	{ CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID" },
	{ CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE" },
	{ CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR" },
	{ CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY" },
	{ CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED" },
	{ CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED" },
	{ CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID" },
	{ CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT" },
	{ CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED" },
	{ CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID" },
	{ CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID" },
	{ CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID" },
	{ CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE" },
	{ CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED" },
	{ CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT" },
	{ CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE" },
	{ CKR_PIN_LOCKED, "CKR_PIN_LOCKED" },
	{ CKR_SESSION_COUNT, "CKR_SESSION_COUNT" },
	{ CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID" },
	{ CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY" },
	{ CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE" },
	{ CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT" },
	{ CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT" },
	{ CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED" },
	{ CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN" },
	{ CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN" },
	{ CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED" },
	{ CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID" },
	{ CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL" },
	{ CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED" },
	{ CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED" },
	{ CKR_CANT_LOCK, "CKR_CANT_LOCK" },
};

enum p11util_load p11util_load_module(const char *path, CK_FUNCTION_LIST_PTR *list, CK_RV *rv,
				      const char **dlerr)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR) = NULL;
	void *h = NULL;

	*list = NULL;
	*rv = CKR_GENERAL_ERROR;
	*dlerr = NULL;
	/* Never dlclose: leak checkers then still know the module's symbols. */
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		*dlerr = dlerror();
		return P11UTIL_DLOPEN;
	}
	*(void **)&get_list = dlsym(h, "C_GetFunctionList");
	if (!get_list) {
		*dlerr = dlerror();
		return P11UTIL_DLSYM;
	}
	*rv = get_list(list);
	return *rv == CKR_OK ? P11UTIL_LOADED : P11UTIL_GET_LIST;
}

const char *p11util_rv_name(CK_RV rv)
{
	for (size_t i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++)
		if (rv_names[i].rv == rv)
			return rv_names[i].name;
	return "?";
}

double p11util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

int p11util_ossl_error(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		return 0;
	ERR_error_string_n(e, buf, size);
	return 1;
}

EVP_PKEY *p11util_p256_pkey(const CK_BYTE *point, size_t len)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[3];
	char group[] = "prime256v1";

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, len);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

int p11util_verify_sha256(EVP_PKEY *pkey, const CK_BYTE *sig, size_t siglen, const CK_BYTE *msg,
			  size_t msglen)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	int ok = 0;

	ok = mctx && EVP_DigestVerifyInit(mctx, NULL, EVP_sha256(), NULL, pkey) > 0 &&
	     EVP_DigestVerify(mctx, sig, siglen, msg, msglen) == 1;
	EVP_MD_CTX_free(mctx);
	return ok;
}

/* r||s (each 32 bytes) to a DER ECDSA-Sig-Value. Returns the DER length, 0 on failure;
 * *der is OPENSSL_malloc'ed. */
static size_t sig_to_der(const CK_BYTE *rs, size_t len, unsigned char **der)
{
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	int n = 0;

	*der = NULL;
	if (len != P256_SIG_LEN)
		return 0;
	sig = ECDSA_SIG_new();
	r = BN_bin2bn(rs, (int)len / 2, NULL);
	s = BN_bin2bn(rs + len / 2, (int)len / 2, NULL);
	if (!sig || !r || !s || !ECDSA_SIG_set0(sig, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return 0;
	}
	/* sig owns r and s now */
	n = i2d_ECDSA_SIG(sig, der);
	ECDSA_SIG_free(sig);
	return n > 0 ? (size_t)n : 0;
}

int p11util_ecdsa_verify(EVP_PKEY *pkey, const CK_BYTE *rs, size_t rslen, const CK_BYTE *data,
			 size_t datalen, int prehashed)
{
	unsigned char *der = NULL;
	size_t derlen = 0;
	EVP_PKEY_CTX *pctx = NULL;
	int ok = -1;

	derlen = sig_to_der(rs, rslen, &der);
	if (!derlen)
		goto out;
	if (prehashed) {
		pctx = EVP_PKEY_CTX_new(pkey, NULL);
		ok = pctx && EVP_PKEY_verify_init(pctx) > 0 &&
		     EVP_PKEY_verify(pctx, der, derlen, data, datalen) == 1;
	} else {
		ok = p11util_verify_sha256(pkey, der, derlen, data, datalen);
	}
out:
	OPENSSL_free(der);
	EVP_PKEY_CTX_free(pctx);
	return ok;
}
