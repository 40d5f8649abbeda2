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
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "proto/codec.h"
#include "fixture_module.h"

/* Answers wait in a FIFO between send (which dispatches at once) and recv. */
struct loop_answer {
	struct loop_answer *next;
	uint8_t *payload;
	size_t len;
	int close_after; /* the server closes the connection after this answer */
};

static void loop_drop_answers(struct loop_transport *lt)
{
	while (lt->answers) {
		struct loop_answer *a = lt->answers;

		lt->answers = a->next;
		wipe_free(a->payload, a->len);
		free(a);
	}
	lt->answers_tail = NULL;
}

static CK_RV loop_connect(struct cli_transport *t)
{
	struct loop_transport *lt = (struct loop_transport *)t;

	pthread_mutex_lock(&lt->lock);
	lt->peer = srv_peer_new(lt->ta, CODEC_DEFAULT_MAX_FRAME, "in-process");
	lt->connects++;
	lt->closed = 0;
	pthread_mutex_unlock(&lt->lock);
	return lt->peer ? CKR_OK : CKR_DEVICE_ERROR;
}

/* With lt->lock held. */
static void loop_close(struct loop_transport *lt)
{
	srv_peer_free(lt->peer);
	lt->peer = NULL;
	loop_drop_answers(lt);
}

static void loop_disconnect(struct cli_transport *t)
{
	struct loop_transport *lt = (struct loop_transport *)t;

	pthread_mutex_lock(&lt->lock);
	loop_close(lt);
	pthread_mutex_unlock(&lt->lock);
}

static enum cli_io loop_send(struct cli_transport *t, const uint8_t *req, size_t req_len,
			     int64_t deadline)
{
	struct loop_transport *lt = (struct loop_transport *)t;
	struct loop_answer *a = NULL;
	uint8_t *out = NULL;
	size_t out_len = 0, payload = 0;
	enum srv_verdict v;
	enum cli_io io = CLI_IO_CLOSED;

	(void)deadline;
	pthread_mutex_lock(&lt->lock);
	lt->calls++;
	if (!lt->peer || lt->closed ||
	    codec_frame_peek(req, req_len, CODEC_DEFAULT_MAX_FRAME, &payload) != CODEC_FRAME_READY)
		goto out;
	v = srv_dispatch(lt->peer, req + CODEC_FRAME_HDR, payload, &out, &out_len);
	if (v == SRV_CLOSE) {
		lt->closed = 1;
		goto out;
	}
	io = CLI_IO_NOMEM;
	a = calloc(1, sizeof(*a));
	if (!a ||
	    codec_frame_peek(out, out_len, CODEC_DEFAULT_MAX_FRAME, &payload) != CODEC_FRAME_READY)
		goto out;
	a->payload = mem_dup(out + CODEC_FRAME_HDR, payload);
	a->len = payload;
	a->close_after = v == SRV_REPLY_CLOSE;
	if (!a->payload)
		goto out;
	if (lt->answers_tail)
		lt->answers_tail->next = a;
	else
		lt->answers = a;
	lt->answers_tail = a;
	a = NULL; /* queued */
	io = CLI_IO_OK;
out:
	pthread_mutex_unlock(&lt->lock);
	wipe_free(out, out_len);
	if (a)
		wipe_free(a->payload, a->len);
	free(a);
	return io;
}

static enum cli_io loop_recv(struct cli_transport *t, size_t max_frame, int64_t deadline,
			     uint8_t **payload, size_t *len)
{
	struct loop_transport *lt = (struct loop_transport *)t;
	struct loop_answer *a = NULL;
	enum cli_io io = CLI_IO_CLOSED;

	(void)deadline;
	*payload = NULL;
	*len = 0;
	pthread_mutex_lock(&lt->lock);
	a = lt->answers;
	if (a) {
		lt->answers = a->next;
		if (!lt->answers)
			lt->answers_tail = NULL;
		if (a->close_after)
			lt->closed = 1;
		if (a->len <= max_frame) {
			*payload = a->payload;
			*len = a->len;
			a->payload = NULL; /* the caller owns it now */
			io = CLI_IO_OK;
		} else {
			io = CLI_IO_ERROR;
		}
	}
	pthread_mutex_unlock(&lt->lock);
	if (a)
		wipe_free(a->payload, a->len);
	free(a);
	return io;
}

static int loop_idle_check(struct cli_transport *t)
{
	struct loop_transport *lt = (struct loop_transport *)t;
	int lost = 0;

	pthread_mutex_lock(&lt->lock);
	lost = !lt->peer || lt->closed;
	pthread_mutex_unlock(&lt->lock);
	return lost ? -1 : 0;
}

static void loop_interrupt(struct cli_transport *t)
{
	struct loop_transport *lt = (struct loop_transport *)t;

	pthread_mutex_lock(&lt->lock);
	lt->closed = 1;
	pthread_mutex_unlock(&lt->lock);
}

static void loop_free(struct cli_transport *t)
{
	struct loop_transport *lt = (struct loop_transport *)t;

	loop_disconnect(t);
	pthread_mutex_destroy(&lt->lock);
	free(t);
}

static const struct cli_transport_ops loop_ops = {
	.connect = loop_connect,
	.send = loop_send,
	.recv = loop_recv,
	.idle_check = loop_idle_check,
	.interrupt = loop_interrupt,
	.disconnect = loop_disconnect,
	.free = loop_free,
};

struct loop_transport *loop_transport_new(struct ta *ta)
{
	struct loop_transport *lt = calloc(1, sizeof(*lt));

	assert_non_null(lt);
	assert_int_equal(pthread_mutex_init(&lt->lock, NULL), 0);
	lt->base.ops = &loop_ops;
	lt->base.call_timeout_ms = 10000;
	lt->base.name = "in-process";
	lt->ta = ta;
	return lt;
}

void loop_transport_server_restart(struct loop_transport *lt)
{
	pthread_mutex_lock(&lt->lock);
	lt->closed = 1;
	pthread_mutex_unlock(&lt->lock);
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
