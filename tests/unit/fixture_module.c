/*
 * The shared fixture of the module-over-dispatch tests (fixture_module.h).
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

#include "common/buf.h"
#include "proto/codec.h"
#include "fixture_module.h"

static CK_RV loop_connect(struct cli_transport *t)
{
	struct loop_transport *lt = (struct loop_transport *)t;

	lt->peer = srv_peer_new(lt->ta, CODEC_DEFAULT_MAX_FRAME, "in-process");
	lt->connects++;
	return lt->peer ? CKR_OK : CKR_DEVICE_ERROR;
}

static void loop_disconnect(struct cli_transport *t)
{
	struct loop_transport *lt = (struct loop_transport *)t;

	srv_peer_free(lt->peer);
	lt->peer = NULL;
}

static CK_RV loop_call(struct cli_transport *t, const uint8_t *req, size_t req_len,
		       size_t max_frame, uint8_t **resp, size_t *resp_len)
{
	struct loop_transport *lt = (struct loop_transport *)t;
	uint8_t *out = NULL;
	size_t out_len = 0, payload = 0;
	enum srv_verdict v;

	*resp = NULL;
	*resp_len = 0;
	lt->calls++;
	if (!lt->peer ||
	    codec_frame_peek(req, req_len, CODEC_DEFAULT_MAX_FRAME, &payload) != CODEC_FRAME_READY)
		return CKR_DEVICE_ERROR;
	v = srv_dispatch(lt->peer, req + CODEC_FRAME_HDR, payload, &out, &out_len);
	if (v == SRV_CLOSE) {
		loop_disconnect(t);
		return CKR_DEVICE_ERROR;
	}
	if (codec_frame_peek(out, out_len, max_frame, &payload) != CODEC_FRAME_READY) {
		wipe_free(out, out_len);
		return CKR_DEVICE_ERROR;
	}
	*resp = mem_dup(out + CODEC_FRAME_HDR, payload);
	*resp_len = payload;
	wipe_free(out, out_len);
	if (v == SRV_REPLY_CLOSE)
		loop_disconnect(t);
	return *resp ? CKR_OK : CKR_HOST_MEMORY;
}

static void loop_free(struct cli_transport *t)
{
	loop_disconnect(t);
	free(t);
}

static const struct cli_transport_ops loop_ops = {
	.connect = loop_connect,
	.call = loop_call,
	.disconnect = loop_disconnect,
	.free = loop_free,
};

struct loop_transport *loop_transport_new(struct ta *ta)
{
	struct loop_transport *lt = calloc(1, sizeof(*lt));

	assert_non_null(lt);
	lt->base.ops = &loop_ops;
	lt->ta = ta;
	return lt;
}

int fx_module_setup(void **state, const struct fx_module_params *p)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct ta_config cfg = { 0 };
	CK_UTF8CHAR label[32];
	CK_SESSION_HANDLE s;

	assert_non_null(fx);
	assert_true(strlen(p->dir_template) < sizeof(fx->dir));
	assert_true(strlen(p->label) <= sizeof(label));
	strcpy(fx->dir, p->dir_template);
	assert_non_null(mkdtemp(fx->dir));
	cfg.store_dir = fx->dir;
	cfg.pin_kdf_iterations = 1000;
	cfg.max_pin_failures = p->max_pin_failures;
	assert_int_equal(ta_open(&cfg, &fx->ta), CKR_OK);
	fx->lt = loop_transport_new(fx->ta);
	fx->s = CK_INVALID_HANDLE;
	assert_int_equal(C_GetFunctionList(&fx->f), CKR_OK);
	assert_int_equal(cli_initialize_with_transport(&fx->lt->base), CKR_OK);

	/* Initialise the token through the module, as an administrator would. */
	memset(label, ' ', sizeof(label));
	memcpy(label, p->label, strlen(p->label));
	assert_int_equal(fx->f->C_InitToken(0, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN), label),
			 CKR_OK);
	assert_int_equal(
		fx->f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s),
		CKR_OK);
	assert_int_equal(fx->f->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN)),
			 CKR_OK);
	assert_int_equal(fx->f->C_InitPIN(s, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)), CKR_OK);
	assert_int_equal(fx->f->C_CloseSession(s), CKR_OK);
	if (p->user_session)
		fx->s = open_user_session(fx);
	*state = fx;
	return 0;
}

int fx_module_teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	assert_int_equal(fx->f->C_Finalize(NULL), CKR_OK);
	ta_close(fx->ta);
	assert_true(snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir) < (int)sizeof(cmd));
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

CK_SESSION_HANDLE open_user_session(struct fx *fx)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;

	assert_int_equal(
		fx->f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s),
		CKR_OK);
	assert_int_equal(fx->f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)),
			 CKR_OK);
	return s;
}
