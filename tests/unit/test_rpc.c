/*
 * client/rpc.c on a scripted fake transport: several calls in flight on one connection, answers
 * matched by id whatever their order, connections that break (I/O errors, timeouts, protocol
 * errors, a server that went away while idle) and what each kind of call answers then: bound
 * calls CKR_DEVICE_REMOVED, unbound ones CKR_DEVICE_ERROR or a new connection, repeatable ones
 * one retry. The fake answers Hello itself; every other answer follows the test's script.
 *
 * cmocka's assertions are not thread-safe: calling threads only record what they saw, and the
 * test asserts after joining them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include <cmocka.h>

#include "common/buf.h"
#include "proto/codec.h"
#include "cli_rpc.h"
#include "transport.h"

/* How the fake answers requests other than Hello. */
enum fake_mode {
	FAKE_ECHO,	   /* the oldest pending request, at once */
	FAKE_RANDOM,	   /* any pending request, picked at random */
	FAKE_HOLD_REVERSE, /* nothing until hold_n are pending, then newest first */
	FAKE_SILENT,	   /* never */
	FAKE_UNKNOWN_ID,   /* the oldest pending request, under an id nobody asked for */
	FAKE_GARBAGE,	   /* bytes that are no Response */
	FAKE_WRONG_CASE,   /* rv CKR_OK with a Hello result */
	FAKE_NO_RESULT,	   /* rv CKR_OK with no result */
	FAKE_FAIL_RV,	   /* rv CKR_RANDOM_NO_RNG with no result (a legitimate failure) */
};

#define FAKE_MAX_PENDING 64
#define FAKE_LOG	 16
#define BAD_ID_OFFSET	 1000000u

struct fake_req {
	uint64_t id;
	uint64_t session;
};

/* What the fake saw. */
struct fake_stats {
	unsigned connects, disconnects, hellos, idle_checks, interrupts;
	unsigned send_calls; /* every call of send, Hello's included */
	unsigned sends;	     /* requests other than Hello that reached the server */
	unsigned max_in_flight, answers, out_of_order;
	unsigned violations; /* breaches of transport.h's rules by rpc.c */
	uint64_t sent_log[FAKE_LOG], answered_log[FAKE_LOG]; /* sessions, in order */
	unsigned n_sent_log, n_answered_log;
};

struct fake {
	struct cli_transport base; /* first: rpc.c sees only this */
	pthread_mutex_t lock;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC, like deadlines */

	/* The script (set by the test, under lock). */
	enum fake_mode mode;
	unsigned hold_n;
	int close_next;	       /* the next recv that is not Hello's returns CLI_IO_CLOSED... */
	int64_t close_at_ms;   /* ...not before this time */
	int hello_silent;      /* Hello goes unanswered */
	int idle_lost;	       /* idle_check answers -1 (until the next connect) */
	uint64_t only_session; /* when not 0: requests of other sessions are never answered */
	int64_t linger_ms;     /* a lone pending request waits this long for company */
	unsigned rand_state;

	/* The connection. */
	int connected;
	int dead; /* closed by the server, or interrupted: unusable until reconnected */
	int hello_ready;
	uint64_t hello_id;
	struct fake_req pending[FAKE_MAX_PENDING];
	unsigned n_pending;
	int released; /* FAKE_HOLD_REVERSE: hold_n were pending once */
	unsigned in_recv, in_send;

	struct fake_stats st; /* what happened */
};

struct fx {
	struct fake *f;
	struct cli_rpc *r;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- the fake transport (f->lock held in the helpers) ---- */

/* Sleep on cv until woken or until ms (monotonic): 0, or ETIMEDOUT. */
static int fake_wait(struct fake *f, int64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	return pthread_cond_timedwait(&f->cv, &f->lock, &ts) == ETIMEDOUT ? ETIMEDOUT : 0;
}

static void fake_drop_connection(struct fake *f)
{
	f->n_pending = 0;
	f->hello_ready = 0;
	f->released = 0;
}

/* Which pending request to answer now: its index, or -1 to keep waiting. */
static int fake_pick(struct fake *f)
{
	if (f->only_session) {
		for (unsigned i = 0; i < f->n_pending; i++)
			if (f->pending[i].session == f->only_session)
				return f->mode == FAKE_SILENT ? -1 : (int)i;
		return -1;
	}
	if (f->n_pending == 0)
		return -1;
	switch (f->mode) {
	case FAKE_SILENT:
		return -1;
	case FAKE_RANDOM:
		return (int)((unsigned)rand_r(&f->rand_state) % f->n_pending);
	case FAKE_HOLD_REVERSE:
		if (f->n_pending >= f->hold_n)
			f->released = 1;
		return f->released ? (int)f->n_pending - 1 : -1;
	default:
		return 0;
	}
}

/* The payload of a response, as a new buffer for recv's caller. */
static enum cli_io fake_payload(const Teehsm__Response *a, uint8_t **payload, size_t *len)
{
	uint8_t *out = NULL;
	size_t out_len = 0;

	if (codec_pack_response(a, CODEC_DEFAULT_MAX_FRAME, &out, &out_len))
		return CLI_IO_NOMEM;
	*len = out_len - CODEC_FRAME_HDR;
	*payload = mem_dup(out + CODEC_FRAME_HDR, *len);
	wipe_free(out, out_len);
	return *payload ? CLI_IO_OK : CLI_IO_NOMEM;
}

static enum cli_io fake_hello_answer(struct fake *f, uint8_t **payload, size_t *len)
{
	Teehsm__Response a = TEEHSM__RESPONSE__INIT;
	Teehsm__Hello h = TEEHSM__HELLO__INIT;

	h.protocol_version = CODEC_PROTOCOL_VERSION;
	h.software_version = "fake";
	h.max_frame = CODEC_DEFAULT_MAX_FRAME;
	a.id = f->hello_id;
	a.rv = CKR_OK;
	a.result_case = TEEHSM__RESPONSE__RESULT_HELLO;
	a.hello = &h;
	f->hello_ready = 0;
	return fake_payload(&a, payload, len);
}

/* Answer pending[i] as the mode says, and forget it. */
static enum cli_io fake_answer(struct fake *f, int i, uint8_t **payload, size_t *len)
{
	Teehsm__Response a = TEEHSM__RESPONSE__INIT;
	Teehsm__GenerateRandomResponse g = TEEHSM__GENERATE_RANDOM_RESPONSE__INIT;
	Teehsm__Hello h = TEEHSM__HELLO__INIT;
	struct fake_req q = f->pending[i];
	uint8_t data[8];

	memmove(&f->pending[i], &f->pending[i + 1],
		(f->n_pending - (unsigned)i - 1) * sizeof(f->pending[0]));
	f->n_pending--;
	f->st.answers++;
	if (i != 0)
		f->st.out_of_order++;
	if (f->st.n_answered_log < FAKE_LOG)
		f->st.answered_log[f->st.n_answered_log++] = q.session;

	a.id = q.id;
	a.rv = CKR_OK;
	put_be64(data, q.session);
	g.data.data = data;
	g.data.len = sizeof(data);
	switch (f->mode) {
	case FAKE_GARBAGE:
		*payload = mem_dup("\xff\xff\xff\xff", 4);
		*len = 4;
		return *payload ? CLI_IO_OK : CLI_IO_NOMEM;
	case FAKE_UNKNOWN_ID:
		a.id = q.id + BAD_ID_OFFSET;
		break;
	case FAKE_WRONG_CASE:
		h.protocol_version = CODEC_PROTOCOL_VERSION;
		h.software_version = "fake";
		h.max_frame = CODEC_DEFAULT_MAX_FRAME;
		a.result_case = TEEHSM__RESPONSE__RESULT_HELLO;
		a.hello = &h;
		return fake_payload(&a, payload, len);
	case FAKE_NO_RESULT:
		return fake_payload(&a, payload, len);
	case FAKE_FAIL_RV:
		a.rv = CKR_RANDOM_NO_RNG;
		return fake_payload(&a, payload, len);
	default:
		break;
	}
	a.result_case = TEEHSM__RESPONSE__RESULT_GENERATE_RANDOM;
	a.generate_random = &g;
	return fake_payload(&a, payload, len);
}

static CK_RV fake_connect(struct cli_transport *t)
{
	struct fake *f = (struct fake *)t;

	pthread_mutex_lock(&f->lock);
	if (f->in_recv || f->in_send)
		f->st.violations++;
	f->st.connects++;
	f->connected = 1;
	f->dead = 0;
	f->idle_lost = 0;
	fake_drop_connection(f);
	pthread_mutex_unlock(&f->lock);
	return CKR_OK;
}

static enum cli_io fake_send(struct cli_transport *t, const uint8_t *frame, size_t len,
			     int64_t deadline_ms)
{
	struct fake *f = (struct fake *)t;
	Teehsm__Request *q = NULL;
	size_t plen = 0;
	enum cli_io io = CLI_IO_OK;

	(void)deadline_ms;
	pthread_mutex_lock(&f->lock);
	f->in_send++; /* until the request is taken in: connect and co. must not overlap */
	f->st.send_calls++;
	pthread_mutex_unlock(&f->lock);
	if (codec_frame_peek(frame, len, CODEC_HARD_MAX_FRAME, &plen) == CODEC_FRAME_READY &&
	    plen + CODEC_FRAME_HDR == len)
		q = codec_unpack_request(frame + CODEC_FRAME_HDR, plen);
	pthread_mutex_lock(&f->lock);
	if (!f->connected || f->dead) {
		io = CLI_IO_CLOSED;
	} else if (!q) {
		f->st.violations++; /* rpc.c sent a malformed frame */
		io = CLI_IO_ERROR;
	} else if (q->call_case == TEEHSM__REQUEST__CALL_HELLO) {
		f->st.hellos++;
		if (!f->hello_silent) {
			f->hello_ready = 1;
			f->hello_id = q->id;
		}
	} else {
		struct fake_req *p = &f->pending[f->n_pending];

		if (f->n_pending == FAKE_MAX_PENDING)
			abort(); /* a test that leaves too many unanswered */
		p->id = q->id;
		p->session = q->call_case == TEEHSM__REQUEST__CALL_GENERATE_RANDOM
				     ? q->generate_random->session
				     : 0;
		f->n_pending++;
		f->st.sends++;
		if (f->n_pending > f->st.max_in_flight)
			f->st.max_in_flight = f->n_pending;
		if (f->st.n_sent_log < FAKE_LOG)
			f->st.sent_log[f->st.n_sent_log++] = p->session;
	}
	f->in_send--;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->lock);
	codec_request_free(q);
	return io;
}

static enum cli_io fake_recv(struct cli_transport *t, size_t max_frame, int64_t deadline_ms,
			     uint8_t **payload, size_t *len)
{
	struct fake *f = (struct fake *)t;
	enum cli_io io = CLI_IO_TIMEOUT;
	int i, lingered = 0;

	(void)max_frame;
	*payload = NULL;
	*len = 0;
	pthread_mutex_lock(&f->lock);
	if (f->in_recv++)
		f->st.violations++; /* two readers at once */
	pthread_cond_broadcast(&f->cv);
	for (;;) {
		int64_t until = deadline_ms;

		if (!f->connected || f->dead) {
			io = CLI_IO_CLOSED;
			break;
		}
		if (f->hello_ready) {
			io = fake_hello_answer(f, payload, len);
			break;
		}
		if (f->close_next) {
			if (now_ms() >= f->close_at_ms) {
				f->close_next = 0;
				f->dead = 1;
				io = CLI_IO_CLOSED;
				break;
			}
			if (f->close_at_ms < until)
				until = f->close_at_ms;
		} else if (f->linger_ms && f->n_pending == 1 && !lingered) {
			/* Give other callers a moment to send theirs: calls overlap even when
			 * each could otherwise finish within its time slice. */
			lingered = 1;
			if (now_ms() + f->linger_ms < until)
				until = now_ms() + f->linger_ms;
		} else if ((i = fake_pick(f)) >= 0) {
			io = fake_answer(f, i, payload, len);
			break;
		}
		if (fake_wait(f, until) == ETIMEDOUT && until == deadline_ms) {
			io = CLI_IO_TIMEOUT;
			break;
		}
	}
	f->in_recv--;
	pthread_mutex_unlock(&f->lock);
	return io;
}

static int fake_idle_check(struct cli_transport *t)
{
	struct fake *f = (struct fake *)t;
	int lost;

	pthread_mutex_lock(&f->lock);
	if (f->in_recv || f->in_send || !f->connected)
		f->st.violations++;
	f->st.idle_checks++;
	lost = f->idle_lost || f->dead;
	pthread_mutex_unlock(&f->lock);
	return lost ? -1 : 0;
}

static void fake_interrupt(struct cli_transport *t)
{
	struct fake *f = (struct fake *)t;

	pthread_mutex_lock(&f->lock);
	f->st.interrupts++;
	f->dead = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->lock);
}

static void fake_disconnect(struct cli_transport *t)
{
	struct fake *f = (struct fake *)t;

	pthread_mutex_lock(&f->lock);
	if (f->in_recv || f->in_send)
		f->st.violations++;
	if (f->connected)
		f->st.disconnects++;
	f->connected = 0;
	fake_drop_connection(f);
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->lock);
}

static void fake_free(struct cli_transport *t)
{
	struct fake *f = (struct fake *)t;

	fake_disconnect(t);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static const struct cli_transport_ops fake_ops = {
	.connect = fake_connect,
	.send = fake_send,
	.recv = fake_recv,
	.idle_check = fake_idle_check,
	.interrupt = fake_interrupt,
	.disconnect = fake_disconnect,
	.free = fake_free,
};

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	pthread_condattr_t ca;

	assert_non_null(f);
	assert_int_equal(pthread_mutex_init(&f->lock, NULL), 0);
	assert_int_equal(pthread_condattr_init(&ca), 0);
	assert_int_equal(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
	assert_int_equal(pthread_cond_init(&f->cv, &ca), 0);
	pthread_condattr_destroy(&ca);
	f->base.ops = &fake_ops;
	f->base.call_timeout_ms = 3000;
	f->base.name = "fake";
	f->mode = FAKE_ECHO;
	f->rand_state = 12345;
	return f;
}

static void fake_set_mode(struct fake *f, enum fake_mode m)
{
	pthread_mutex_lock(&f->lock);
	f->mode = m;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->lock);
}

/* The next recv (not Hello's) returns CLI_IO_CLOSED, delay_ms from now. */
static void fake_close_next(struct fake *f, int64_t delay_ms)
{
	pthread_mutex_lock(&f->lock);
	f->close_next = 1;
	f->close_at_ms = now_ms() + delay_ms;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->lock);
}

/* A snapshot of the counters, taken under the lock. */
static struct fake_stats fake_counts(struct fake *f)
{
	struct fake_stats c;

	pthread_mutex_lock(&f->lock);
	c = f->st;
	pthread_mutex_unlock(&f->lock);
	return c;
}

/* Wait until at least sends requests have reached the fake and a thread is in recv. */
static void fake_await_reader(struct fake *f, unsigned sends)
{
	int64_t until = now_ms() + 5000;
	int ok = 0;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		ok = f->st.sends >= sends && f->in_recv > 0;
		if (ok || fake_wait(f, until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&f->lock);
	assert_true(ok);
}

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->f = fake_new();
	fx->r = cli_rpc_new(&fx->f->base);
	assert_non_null(fx->r);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	struct fake_stats c = fake_counts(fx->f);

	cli_rpc_free(fx->r); /* frees the fake */
	free(fx);
	assert_int_equal(c.violations, 0);
	return 0;
}

/* ---- calls ---- */

static const struct cli_rpc_opts unbound = { .conn = 0, .repeatable = 0 };

struct call_result {
	CK_RV rv;
	uint64_t conn_used;
	int has_resp;
	int own_answer; /* an answer with the request's id whose data names the request's session */
	int64_t ms;
};

/* C_GenerateRandom-style call for session (no cmocka assertions: threads use it). */
static void call_random(struct cli_rpc *r, uint64_t session, const struct cli_rpc_opts *o,
			struct call_result *res)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GenerateRandomRequest g = TEEHSM__GENERATE_RANDOM_REQUEST__INIT;
	Teehsm__Response *a = NULL;
	int64_t t0 = now_ms();

	g.session = session;
	g.length = 8;
	q.call_case = TEEHSM__REQUEST__CALL_GENERATE_RANDOM;
	q.generate_random = &g;
	res->conn_used = UINT64_MAX;
	res->rv = cli_rpc_call(r, &q, TEEHSM__RESPONSE__RESULT_GENERATE_RANDOM, o, &res->conn_used,
			       &a);
	res->ms = now_ms() - t0;
	res->has_resp = a != NULL;
	res->own_answer = a && a->id == q.id &&
			  a->result_case == TEEHSM__RESPONSE__RESULT_GENERATE_RANDOM &&
			  a->generate_random && a->generate_random->data.len == 8 &&
			  get_be64(a->generate_random->data.data) == session;
	codec_response_free(a);
}

/* A call that must succeed with its own answer; returns the connection it used. */
static uint64_t random_ok(struct cli_rpc *r, uint64_t session, const struct cli_rpc_opts *o)
{
	struct call_result res;

	call_random(r, session, o, &res);
	assert_int_equal(res.rv, CKR_OK);
	assert_true(res.own_answer);
	return res.conn_used;
}

/* A call that must fail with rv and no answer, at once rather than by running into the
 * deadline (3 s unless a test says otherwise); returns the connection it reports. */
static uint64_t random_fails(struct cli_rpc *r, uint64_t session, const struct cli_rpc_opts *o,
			     CK_RV rv)
{
	struct call_result res;

	call_random(r, session, o, &res);
	assert_int_equal(res.rv, rv);
	assert_false(res.has_resp);
	assert_true(res.ms < 1000);
	return res.conn_used;
}

struct worker {
	struct cli_rpc *r;
	pthread_barrier_t *start;
	unsigned tid, calls;
	unsigned ok;		 /* calls that answered CKR_OK with their own answer */
	struct call_result last; /* of the last call */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->start);
	for (unsigned i = 0; i < w->calls; i++) {
		call_random(w->r, (uint64_t)(w->tid + 1) << 32 | i, &unbound, &w->last);
		if (w->last.rv == CKR_OK && w->last.own_answer)
			w->ok++;
	}
	return NULL;
}

/* One call in a thread of its own. */
struct bg_call {
	struct cli_rpc *r;
	uint64_t session;
	struct call_result res;
	pthread_t th;
};

static void *bg_main(void *arg)
{
	struct bg_call *c = arg;

	call_random(c->r, c->session, &unbound, &c->res);
	return NULL;
}

static void bg_start(struct bg_call *c, struct cli_rpc *r, uint64_t session)
{
	c->r = r;
	c->session = session;
	assert_int_equal(pthread_create(&c->th, NULL, bg_main, c), 0);
}

#define MAX_WORKERS 8

/* n threads making calls calls each, started together; returns when all are done. */
static void run_workers(struct cli_rpc *r, struct worker *w, unsigned n, unsigned calls)
{
	pthread_t th[MAX_WORKERS];
	pthread_barrier_t start;

	assert_true(n <= MAX_WORKERS);
	assert_int_equal(pthread_barrier_init(&start, NULL, n), 0);
	for (unsigned i = 0; i < n; i++) {
		w[i] = (struct worker){ .r = r, .start = &start, .tid = i, .calls = calls };
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	pthread_barrier_destroy(&start);
}

/* ---- tests ---- */

/* Four calls are in flight together on one connection and each gets its own answer although
 * the server answers them in the reverse order (a client that serialised calls would time out
 * here). */
static void test_overlap_and_out_of_order(void **state)
{
	struct fx *fx = *state;
	struct worker w[4];
	struct fake_stats c;

	fx->f->hold_n = 4;
	fake_set_mode(fx->f, FAKE_HOLD_REVERSE);
	run_workers(fx->r, w, 4, 1);
	c = fake_counts(fx->f);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(w[i].last.rv, CKR_OK);
		assert_true(w[i].last.own_answer);
		assert_int_equal(w[i].last.conn_used, 1);
	}
	assert_int_equal(c.max_in_flight, 4);
	assert_int_equal(c.sends, 4);
	assert_int_equal(c.connects, 1);
	assert_int_equal(c.hellos, 1);
	assert_int_equal(c.n_answered_log, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(c.answered_log[i], c.sent_log[3 - i]);
}

/* 8 threads x 200 calls, answered at once (a lone one after at most 2 ms) but in random order
 * among those pending: every call gets its own answer, on the one connection. */
static void test_many_threads_stress(void **state)
{
	struct fx *fx = *state;
	struct worker w[MAX_WORKERS];
	struct fake_stats c;

	fx->f->base.call_timeout_ms = 20000;
	fx->f->linger_ms = 2;
	fake_set_mode(fx->f, FAKE_RANDOM);
	run_workers(fx->r, w, MAX_WORKERS, 200);
	c = fake_counts(fx->f);
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		assert_int_equal(w[i].ok, 200);
	assert_int_equal(c.sends, MAX_WORKERS * 200);
	assert_int_equal(c.answers, MAX_WORKERS * 200);
	assert_int_equal(c.connects, 1);
	assert_true(c.max_in_flight >= 2);
	assert_true(c.out_of_order > 0);
}

/* An answer to an id nobody asked for, or one that does not parse, breaks the connection: the
 * call fails CKR_DEVICE_ERROR and the next call makes a new connection. */
static void test_unknown_id_breaks_connection(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(random_ok(fx->r, 1, &unbound), 1);
	fake_set_mode(fx->f, FAKE_UNKNOWN_ID);
	assert_int_equal(random_fails(fx->r, 2, &unbound, CKR_DEVICE_ERROR), 1);
	assert_int_equal(fake_counts(fx->f).connects, 1);
	fake_set_mode(fx->f, FAKE_ECHO);
	assert_int_equal(random_ok(fx->r, 3, &unbound), 2);
	assert_int_equal(fake_counts(fx->f).connects, 2);

	fake_set_mode(fx->f, FAKE_GARBAGE);
	assert_int_equal(random_fails(fx->r, 4, &unbound, CKR_DEVICE_ERROR), 2);
	fake_set_mode(fx->f, FAKE_ECHO);
	assert_int_equal(random_ok(fx->r, 5, &unbound), 3);
	assert_int_equal(fake_counts(fx->f).connects, 3);
	assert_int_equal(fake_counts(fx->f).disconnects, 2);
}

/* A server that never answers: CKR_DEVICE_ERROR once the call deadline has passed (not much
 * later); the connection is gone for calls bound to it, which never reach the server, and an
 * unbound call makes a new one. */
static void test_timeout(void **state)
{
	struct fx *fx = *state;
	struct call_result res;
	struct cli_rpc_opts bound = { .conn = 0 };
	struct fake_stats before;

	fx->f->base.call_timeout_ms = 300;
	fake_set_mode(fx->f, FAKE_SILENT);
	call_random(fx->r, 7, &unbound, &res);
	assert_int_equal(res.rv, CKR_DEVICE_ERROR);
	assert_false(res.has_resp);
	assert_int_equal(res.conn_used, 1);
	assert_true(res.ms >= 290);
	assert_true(res.ms < 3000);
	assert_int_equal(fake_counts(fx->f).sends, 1);

	bound.conn = res.conn_used;
	before = fake_counts(fx->f);
	random_fails(fx->r, 8, &bound, CKR_DEVICE_REMOVED);
	assert_int_equal(fake_counts(fx->f).send_calls, before.send_calls);
	assert_int_equal(fake_counts(fx->f).connects, before.connects);

	fake_set_mode(fx->f, FAKE_ECHO);
	assert_int_equal(random_ok(fx->r, 9, &unbound), 2);
	assert_int_equal(fake_counts(fx->f).connects, 2);
}

/* Calls bound to a connection: CKR_DEVICE_REMOVED when it closes under them or closed before
 * (server restart seen by idle_check), without reaching the server or reconnecting; unbound
 * calls go on over a new connection. */
static void test_bound_call_connection_closed(void **state)
{
	struct fx *fx = *state;
	struct cli_rpc_opts bound = { .conn = 0 };
	struct fake_stats before;

	bound.conn = random_ok(fx->r, 1, &unbound);
	assert_int_equal(bound.conn, 1);
	assert_int_equal(random_ok(fx->r, 2, &bound), 1);

	/* Closed mid-call: the request went out, the answer never came. */
	before = fake_counts(fx->f);
	fake_close_next(fx->f, 0);
	assert_int_equal(random_fails(fx->r, 3, &bound, CKR_DEVICE_REMOVED), 1);
	assert_int_equal(fake_counts(fx->f).sends, before.sends + 1);

	before = fake_counts(fx->f);
	random_fails(fx->r, 4, &bound, CKR_DEVICE_REMOVED);
	assert_int_equal(fake_counts(fx->f).send_calls, before.send_calls);
	assert_int_equal(fake_counts(fx->f).connects, 1);

	/* Closed while idle. */
	bound.conn = random_ok(fx->r, 5, &unbound);
	assert_int_equal(bound.conn, 2);
	assert_int_equal(random_ok(fx->r, 6, &bound), 2);
	pthread_mutex_lock(&fx->f->lock);
	fx->f->idle_lost = 1;
	pthread_mutex_unlock(&fx->f->lock);
	before = fake_counts(fx->f);
	random_fails(fx->r, 7, &bound, CKR_DEVICE_REMOVED);
	assert_int_equal(fake_counts(fx->f).send_calls, before.send_calls);
	assert_int_equal(fake_counts(fx->f).idle_checks, before.idle_checks + 1);
	assert_int_equal(fake_counts(fx->f).disconnects, before.disconnects + 1);
	assert_int_equal(random_ok(fx->r, 8, &unbound), 3);
	assert_int_equal(fake_counts(fx->f).connects, 3);
}

/* An idle connection that idle_check finds fine but that turns out closed: a repeatable call is
 * sent again on a new connection, once; a call that is not repeatable fails, and so does a
 * repeatable one whose fresh connection closes. */
static void test_repeatable_retry(void **state)
{
	struct fx *fx = *state;
	struct cli_rpc_opts rep = { .conn = 0, .repeatable = 1 };
	struct fake_stats before;

	assert_int_equal(random_ok(fx->r, 1, &unbound), 1);
	before = fake_counts(fx->f);
	fake_close_next(fx->f, 0);
	assert_int_equal(random_ok(fx->r, 2, &rep), 2);
	assert_int_equal(fake_counts(fx->f).connects, 2);
	assert_int_equal(fake_counts(fx->f).sends, before.sends + 2);

	before = fake_counts(fx->f);
	fake_close_next(fx->f, 0);
	assert_int_equal(random_fails(fx->r, 3, &unbound, CKR_DEVICE_ERROR), 2);
	assert_int_equal(fake_counts(fx->f).connects, 2);
	assert_int_equal(fake_counts(fx->f).sends, before.sends + 1);

	/* The next call connects afresh: a fresh connection that closes is not retried. */
	before = fake_counts(fx->f);
	fake_close_next(fx->f, 0);
	assert_int_equal(random_fails(fx->r, 4, &rep, CKR_DEVICE_ERROR), 3);
	assert_int_equal(fake_counts(fx->f).connects, 3);
	assert_int_equal(fake_counts(fx->f).sends, before.sends + 1);

	assert_int_equal(random_ok(fx->r, 5, &unbound), 4);
}

/* A request larger than the frame cap is refused before it is sent (CKR_DATA_LEN_RANGE) and
 * leaves the connection as it was. */
static void test_too_large(void **state)
{
	struct fx *fx = *state;
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__SeedRandomRequest s = TEEHSM__SEED_RANDOM_REQUEST__INIT;
	Teehsm__Response *a = NULL;
	uint64_t conn = 99;
	struct fake_stats before;
	size_t n = 2u << 20;
	uint8_t *seed = calloc(1, n);

	assert_non_null(seed);
	assert_int_equal(random_ok(fx->r, 1, &unbound), 1);
	before = fake_counts(fx->f);
	s.session = 1;
	s.seed.data = seed;
	s.seed.len = n;
	q.call_case = TEEHSM__REQUEST__CALL_SEED_RANDOM;
	q.seed_random = &s;
	assert_int_equal(
		cli_rpc_call(fx->r, &q, TEEHSM__RESPONSE__RESULT__NOT_SET, &unbound, &conn, &a),
		CKR_DATA_LEN_RANGE);
	free(seed);
	assert_null(a);
	assert_int_equal(conn, 1);
	assert_int_equal(fake_counts(fx->f).send_calls, before.send_calls);

	assert_int_equal(random_ok(fx->r, 2, &unbound), 1);
	assert_int_equal(fake_counts(fx->f).connects, 1);
	assert_int_equal(fake_counts(fx->f).disconnects, 0);
}

/* An answer with rv CKR_OK but a result the call does not answer with (or none) breaks the
 * protocol: CKR_DEVICE_ERROR, and the connection is replaced. A failing rv without a result is
 * an answer like any other. */
static void test_wrong_result_case(void **state)
{
	struct fx *fx = *state;
	struct cli_rpc_opts bound = { .conn = 0 };
	struct call_result res;

	bound.conn = random_ok(fx->r, 1, &unbound);
	fake_set_mode(fx->f, FAKE_WRONG_CASE);
	assert_int_equal(random_fails(fx->r, 2, &unbound, CKR_DEVICE_ERROR), 1);
	assert_int_equal(fake_counts(fx->f).disconnects, 1);
	fake_set_mode(fx->f, FAKE_ECHO);
	random_fails(fx->r, 3, &bound, CKR_DEVICE_REMOVED);
	assert_int_equal(random_ok(fx->r, 4, &unbound), 2);
	assert_int_equal(fake_counts(fx->f).connects, 2);

	fake_set_mode(fx->f, FAKE_NO_RESULT);
	assert_int_equal(random_fails(fx->r, 5, &unbound, CKR_DEVICE_ERROR), 2);
	fake_set_mode(fx->f, FAKE_ECHO);
	assert_int_equal(random_ok(fx->r, 6, &unbound), 3);

	fake_set_mode(fx->f, FAKE_FAIL_RV);
	call_random(fx->r, 7, &unbound, &res);
	assert_int_equal(res.rv, CKR_RANDOM_NO_RNG);
	assert_true(res.has_resp);
	assert_int_equal(res.conn_used, 3);
	fake_set_mode(fx->f, FAKE_ECHO);
	assert_int_equal(random_ok(fx->r, 8, &unbound), 3);
	assert_int_equal(fake_counts(fx->f).connects, 3);
}

/* A connection broken by one call's protocol error fails the other calls in flight on it at
 * once, even one blocked in recv as the reader (it is interrupted). */
static void test_break_fails_calls_in_flight(void **state)
{
	struct fx *fx = *state;
	struct bg_call a;
	struct call_result b;

	assert_int_equal(random_ok(fx->r, 1, &unbound), 1);
	pthread_mutex_lock(&fx->f->lock);
	fx->f->only_session = 3; /* a's request (2) is never answered */
	fx->f->mode = FAKE_WRONG_CASE;
	pthread_mutex_unlock(&fx->f->lock);
	bg_start(&a, fx->r, 2);
	fake_await_reader(fx->f, 2);
	call_random(fx->r, 3, &unbound, &b);
	assert_int_equal(pthread_join(a.th, NULL), 0);
	assert_int_equal(b.rv, CKR_DEVICE_ERROR);
	assert_int_equal(a.res.rv, CKR_DEVICE_ERROR);
	assert_false(a.res.has_resp);
	assert_true(a.res.ms < 1000);
	assert_true(fake_counts(fx->f).interrupts >= 1);

	pthread_mutex_lock(&fx->f->lock);
	fx->f->only_session = 0;
	fx->f->mode = FAKE_ECHO;
	pthread_mutex_unlock(&fx->f->lock);
	assert_int_equal(random_ok(fx->r, 4, &unbound), 2);
}

/* A call waiting while another is the reader keeps its own deadline: when it is the earlier
 * one, the waiting call times out by it and the reader, whose deadline is far, fails with it
 * (the timeout breaks the connection). */
static void test_waiting_call_deadline(void **state)
{
	struct fx *fx = *state;
	struct bg_call a;
	struct call_result b;

	assert_int_equal(random_ok(fx->r, 1, &unbound), 1);
	fake_set_mode(fx->f, FAKE_SILENT);
	bg_start(&a, fx->r, 2); /* deadline 3 s */
	fake_await_reader(fx->f, 2);
	fx->f->base.call_timeout_ms = 300; /* read by calls that start from now on */
	call_random(fx->r, 3, &unbound, &b);
	assert_int_equal(pthread_join(a.th, NULL), 0);
	assert_int_equal(b.rv, CKR_DEVICE_ERROR);
	assert_true(b.ms >= 290);
	assert_true(b.ms < 1000);
	assert_int_equal(a.res.rv, CKR_DEVICE_ERROR);
	assert_true(a.res.ms < 1500);

	fake_set_mode(fx->f, FAKE_ECHO);
	assert_int_equal(random_ok(fx->r, 4, &unbound), 2);
}

/* The call deadline covers making the connection: calls that start together while the server
 * accepts connections but never answers Hello all fail by their own deadline. (A module that
 * waited for another thread's attempt without a deadline, or gave each attempt a fresh
 * call_timeout_ms, would answer the last of n threads after about n x call_timeout_ms: here
 * 1200 ms. The bound leaves room for a loaded machine.) */
static void test_deadline_while_connecting(void **state)
{
	struct fx *fx = *state;
	struct worker w[4];

	fx->f->base.call_timeout_ms = 300;
	fx->f->hello_silent = 1;
	run_workers(fx->r, w, 4, 1);
	for (unsigned i = 0; i < 4; i++) {
		print_message("thread %u: rv 0x%lx after %lld ms\n", i, w[i].last.rv,
			      (long long)w[i].last.ms);
		assert_int_equal(w[i].last.rv, CKR_DEVICE_ERROR);
		assert_false(w[i].last.has_resp);
	}
	for (unsigned i = 0; i < 4; i++)
		assert_true(w[i].last.ms < 300 + 500);
}

/* The deadline also covers a repeatable call's second connection: Hello's deadline is the
 * call's, not call_timeout_ms from the retry (which would answer after 1600 ms here). */
static void test_retry_within_deadline(void **state)
{
	struct fx *fx = *state;
	struct cli_rpc_opts rep = { .conn = 0, .repeatable = 1 };
	struct call_result res;

	fx->f->base.call_timeout_ms = 1000;
	assert_int_equal(random_ok(fx->r, 1, &unbound), 1);
	pthread_mutex_lock(&fx->f->lock);
	fx->f->hello_silent = 1;
	pthread_mutex_unlock(&fx->f->lock);
	fake_close_next(fx->f, 600);
	call_random(fx->r, 2, &rep, &res);
	print_message("rv 0x%lx after %lld ms\n", res.rv, (long long)res.ms);
	assert_int_equal(res.rv, CKR_DEVICE_ERROR);
	assert_true(res.ms >= 590);
	assert_true(res.ms < 1000 + 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_overlap_and_out_of_order, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_many_threads_stress, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_id_breaks_connection, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_timeout, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bound_call_connection_closed, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_repeatable_retry, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_too_large, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_result_case, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_break_fails_calls_in_flight, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_waiting_call_deadline, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_deadline_while_connecting, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_retry_within_deadline, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
