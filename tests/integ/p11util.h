/*
 * What the integration tests' PKCS#11 programs (p11drive, loadgen) share: loading the module,
 * naming a CK_RV, the clock, and OpenSSL's side of a P-256 or SHA-256 signature. Nothing here
 * prints: each program words its own messages.
 */
#ifndef TEEHSM_TESTS_P11UTIL_H
#define TEEHSM_TESTS_P11UTIL_H

#include <stddef.h>

#include <openssl/evp.h>

#include <p11-kit/pkcs11.h>

#define P256_POINT_LEN 65 /* 04 || X || Y */
#define P256_SIG_LEN   64 /* r || s */

/* DER of the OID prime256v1 (1.2.840.10045.3.1.7), the CKA_EC_PARAMS of a P-256 key. */
extern const CK_BYTE p11util_p256_params[10];

/* How far p11util_load_module got. */
enum p11util_load {
	P11UTIL_LOADED,	  /* C_GetFunctionList returned CKR_OK */
	P11UTIL_DLOPEN,	  /* dlopen() failed */
	P11UTIL_DLSYM,	  /* the module exports no C_GetFunctionList */
	P11UTIL_GET_LIST, /* C_GetFunctionList did not return CKR_OK */
};

/* dlopen() the PKCS#11 module at path and call its C_GetFunctionList into *list. Returns
 * P11UTIL_LOADED (*list is what the module gave, which the caller checks), or the step that
 * failed: with dlerror()'s text in *dlerr for P11UTIL_DLOPEN and P11UTIL_DLSYM, with the rv in
 * *rv for P11UTIL_GET_LIST. The module is never dlclose'd: leak checkers then still know its
 * symbols. */
enum p11util_load p11util_load_module(const char *path, CK_FUNCTION_LIST_PTR *list, CK_RV *rv,
				      const char **dlerr);

/* The name of a CK_RV ("CKR_DEVICE_REMOVED"), or "?" for one the table lacks. */
const char *p11util_rv_name(CK_RV rv);

/* CLOCK_MONOTONIC in milliseconds: comparable across the processes of one machine. */
double p11util_now_ms(void);

/* Take the oldest error off OpenSSL's queue into buf as text; 0 when the queue is empty. */
int p11util_ossl_error(char *buf, size_t size);

/* A P-256 public key from an uncompressed point 04||X||Y, owned by the caller; NULL on failure,
 * with OpenSSL's error queue saying why. */
EVP_PKEY *p11util_p256_pkey(const CK_BYTE *point, size_t len);

/* 1 if sig is a valid signature of msg with SHA-256 under pkey (DER ECDSA, or RSA PKCS#1 v1.5),
 * 0 if not or on error. OpenSSL's error queue is left to the caller. */
int p11util_verify_sha256(EVP_PKEY *pkey, const CK_BYTE *sig, size_t siglen, const CK_BYTE *msg,
			  size_t msglen);

/* Verify the PKCS#11 ECDSA signature r||s over data (hashed with SHA-256 here) or, when
 * prehashed, over the digest data. Returns 1 if valid, 0 if not or on an OpenSSL error (its
 * queue is left to the caller), -1 if rs is not P256_SIG_LEN bytes or cannot be converted. */
int p11util_ecdsa_verify(EVP_PKEY *pkey, const CK_BYTE *rs, size_t rslen, const CK_BYTE *data,
			 size_t datalen, int prehashed);

#endif
