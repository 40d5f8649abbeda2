/* PIN records and the persisted failure counters (DESIGN.md "PINs"). */
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "core.h"
#include "port/crypto.h"
#include "port/rng.h"

CK_RV pin_make(struct ta *ta, const uint8_t *pin, CK_ULONG len, struct pin_rec *out)
{
	struct pin_rec r = { 0 };
	CK_RV rv = CKR_GENERAL_ERROR;

	memset(out, 0, sizeof(*out));
	if (len < TA_PIN_MIN_LEN || len > TA_PIN_MAX_LEN)
		return CKR_PIN_LEN_RANGE;
	r.iter = (uint32_t)ta->pin_iter;
	if (port_rng_bytes(r.salt, sizeof(r.salt)) != 0 ||
	    port_pbkdf2_sha256(pin, len, r.salt, sizeof(r.salt), r.iter, r.hash, sizeof(r.hash)) !=
		    0) {
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	r.set = true;
	*out = r;
	rv = CKR_OK;
out:
	wipe(&r, sizeof(r));
	return rv;
}

/* 1 when pin matches rec, 0 when not, -1 when the KDF failed. */
static int pin_matches(const struct pin_rec *rec, const uint8_t *pin, CK_ULONG len)
{
	uint8_t h[TA_PIN_HASH_LEN];
	int m = 0;

	/* A PIN of a length we never accept cannot match: no need to run the KDF on it. */
	if (!rec->set || len < TA_PIN_MIN_LEN || len > TA_PIN_MAX_LEN)
		return 0;
	if (port_pbkdf2_sha256(pin, len, rec->salt, sizeof(rec->salt), rec->iter, h, sizeof(h)) !=
	    0)
		return -1;
	m = ct_memcmp(h, rec->hash, sizeof(h)) == 0;
	wipe(h, sizeof(h));
	return m;
}

CK_RV pin_verify(struct ta *ta, bool so, const uint8_t *pin, CK_ULONG len)
{
	struct token t = ta->tok;
	const struct pin_rec *rec = so ? &t.so : &t.user;
	uint32_t *fails = so ? &t.so_fails : &t.user_fails;
	CK_RV rv = CKR_GENERAL_ERROR;
	int m = 0;

	if (!rec->set) {
		rv = CKR_USER_PIN_NOT_INITIALIZED;
		goto out;
	}
	if (*fails >= ta->max_fails) {
		rv = CKR_PIN_LOCKED;
		goto out;
	}
	/* Count the attempt as a failure on disk before checking it, so cutting the power once
	 * the answer is known cannot buy unlimited guesses. */
	(*fails)++;
	rv = store_token_write(ta, &t);
	if (rv != CKR_OK)
		goto out;
	ta->tok = t;
	m = pin_matches(rec, pin, len);
	if (m < 0) {
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	if (!m) {
		log_info("token: wrong %s PIN (%u consecutive)", so ? "SO" : "user", *fails);
		rv = CKR_PIN_INCORRECT;
		goto out;
	}
	*fails = 0;
	rv = store_token_write(ta, &t);
	if (rv != CKR_OK)
		goto out;
	ta->tok = t;
	rv = CKR_OK;
out:
	wipe(&t, sizeof(t));
	return rv;
}

/* The count-low / final-try / locked flags of one PIN. */
static CK_FLAGS fail_flags(uint32_t fails, unsigned long max, CK_FLAGS low, CK_FLAGS final,
			   CK_FLAGS locked)
{
	CK_FLAGS f = 0;

	if (fails >= max)
		return locked;
	if (fails > 0)
		f |= low;
	if (fails + 1UL == max)
		f |= final;
	return f;
}

CK_FLAGS pin_flags(const struct ta *ta)
{
	return fail_flags(ta->tok.user_fails, ta->max_fails, CKF_USER_PIN_COUNT_LOW,
			  CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED) |
	       fail_flags(ta->tok.so_fails, ta->max_fails, CKF_SO_PIN_COUNT_LOW,
			  CKF_SO_PIN_FINAL_TRY, CKF_SO_PIN_LOCKED);
}
