/*
 * The shared fixture of the token-core tests (fixture_ta.h).
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture_ta.h"

void fx_open(struct fx *f)
{
	assert_int_equal(ta_open(&f->cfg, &f->ta), CKR_OK);
	assert_int_equal(ta_client_new(f->ta, &f->c), CKR_OK);
}

void fx_close(struct fx *f)
{
	if (f->c)
		ta_client_free(f->c);
	f->c = NULL;
	if (f->ta)
		ta_close(f->ta);
	f->ta = NULL;
}

void fx_reopen(struct fx *f)
{
	fx_close(f);
	fx_open(f);
}

int fx_ta_setup(void **state, const struct fx_ta_params *p)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true(snprintf(f->dir, sizeof(f->dir), "/tmp/%s.XXXXXX", p->name) <
		    (int)sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	f->cfg.store_dir = f->dir;
	f->cfg.pin_kdf_iterations = 1000;
	f->cfg.max_pin_failures = p->max_pin_failures;
	f->cfg.max_sessions = p->max_sessions;
	f->label = p->label;
	f->h = CK_INVALID_HANDLE;
	fx_open(f);
	if (p->user_session)
		f->h = user_session(f);
	*state = f;
	return 0;
}

int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int fx_ta_teardown(void **state)
{
	struct fx *f = *state;

	fx_close(f);
	nftw(f->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

CK_SESSION_HANDLE open_session(struct fx *f, bool rw)
{
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;

	assert_int_equal(ta_C_OpenSession(f->c, TA_SLOT_ID,
					  CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0), &h),
			 CKR_OK);
	assert_int_not_equal(h, CK_INVALID_HANDLE);
	return h;
}

CK_RV login(struct fx *f, CK_SESSION_HANDLE h, CK_USER_TYPE who, const char *pin)
{
	return ta_C_Login(f->c, h, who, (CK_UTF8CHAR_PTR)pin, strlen(pin));
}

void init_token(struct fx *f)
{
	CK_UTF8CHAR label[32];
	CK_SESSION_HANDLE h;

	memset(label, ' ', sizeof(label));
	if (f->label) {
		assert_true(strlen(f->label) <= sizeof(label));
		memcpy(label, f->label, strlen(f->label));
	}
	assert_int_equal(
		ta_C_InitToken(f->c, TA_SLOT_ID, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN), label),
		CKR_OK);
	h = open_session(f, true);
	assert_int_equal(login(f, h, CKU_SO, SO_PIN), CKR_OK);
	assert_int_equal(ta_C_InitPIN(f->c, h, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)),
			 CKR_OK);
	assert_int_equal(ta_C_CloseSession(f->c, h), CKR_OK);
}

CK_SESSION_HANDLE login_session(struct fx *f)
{
	CK_SESSION_HANDLE h = open_session(f, true);

	assert_int_equal(login(f, h, CKU_USER, USER_PIN), CKR_OK);
	return h;
}

CK_SESSION_HANDLE user_session(struct fx *f)
{
	init_token(f);
	return login_session(f);
}
