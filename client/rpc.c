/*
 * One server as a connection with many calls in flight, matched by id (cli_rpc.h). Everything
 * on the wire goes through proto/codec; this file decides when to connect, what id a request
 * gets, who reads the connection, and whether an answer is the one a caller waits for.
 *
 * The connection's life: DOWN -> CONNECTING (one thread connects and says Hello while the
 * others wait) -> UP (number `conn`) -> BROKEN (an I/O error, a timeout or a protocol error:
 * every call in flight fails, no new call starts on it) -> DOWN once its last user has left.
 * Sessions are bound to the connection number they were opened on: a new connection never
 * answers for an old one's sessions.
 *
 * Reading: there is no reader thread (a PKCS#11 module should not start threads in its host).
 * A caller whose answer has not come becomes the reader when nobody is, and delivers every
 * answer it reads to its owner; the others sleep on `cv` until theirs is delivered, or their
 * deadline passes.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "cli_rpc.h"

enum rpc_state { RPC_DOWN, RPC_CONNECTING, RPC_UP, RPC_BROKEN };

/* A call waiting for its answer. Lives on its caller's stack. */
struct pending {
	struct pending *next;
	uint64_t id;
	Teehsm__Response *resp; /* the answer, once delivered */
	int done;		/* resp delivered, or the connection failed (why) */
	enum cli_io why;
};

struct cli_rpc {
	pthread_mutex_t lock; /* guards everything below; never held across network I/O */
	pthread_cond_t cv;    /* state changes and deliveries */
	struct cli_transport *t;
	enum rpc_state state;
	uint64_t conn;	  /* the current (or last) connection's number; 0 before the first */
	uint64_t next_id; /* request ids, never reused in the life of the endpoint */
	size_t send_max;  /* the smaller of the server's frame cap and ours */
	unsigned users;	  /* calls between their send and their end */
	int reader;	  /* a call is inside t->recv */
	struct pending *pending;
	unsigned most_in_flight; /* for TEEHSM_DEBUG traces */
};

int64_t cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct cli_rpc *cli_rpc_new(struct cli_transport *t)
{
	struct cli_rpc *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;
	int ok = 0;

	if (r && !pthread_condattr_init(&ca)) {
		/* Deadlines are on the monotonic clock, like poll()'s. */
		ok = !pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) &&
		     !pthread_cond_init(&r->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (ok && pthread_mutex_init(&r->lock, NULL)) {
		pthread_cond_destroy(&r->cv);
		ok = 0;
	}
	if (!ok) {
		free(r);
		if (t)
			t->ops->free(t);
		return NULL;
	}
	r->t = t;
	r->state = RPC_DOWN;
	r->next_id = 1;
	r->send_max = CODEC_MIN_MAX_FRAME;
	return r;
}

void cli_rpc_free(struct cli_rpc *r)
{
	if (!r)
		return;
	r->t->ops->free(r->t); /* disconnects first */
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int cli_rpc_free_in_child(struct cli_rpc *r)
{
	int busy = 0;

	if (!r)
		return 0;
	if (pthread_mutex_trylock(&r->lock))
		return -1;
	busy = r->users || r->state == RPC_CONNECTING;
	pthread_mutex_unlock(&r->lock);
	if (busy)
		return -1;
	cli_rpc_free(r);
	return 0;
}

/* The name of a call for traces, from the schema itself. */
static const char *call_name(Teehsm__Request__CallCase c)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field(&teehsm__request__descriptor, (unsigned)c);

	return f ? f->name : "?";
}

/* ---- the connection's state (r->lock held) ---- */

/* The connection failed: every call still waiting fails with why, and a thread blocked in
 * the transport is woken. Only the first failure of a connection counts. */
static void rpc_break(struct cli_rpc *r, enum cli_io why)
{
	if (r->state != RPC_UP)
		return;
	r->state = RPC_BROKEN;
	for (struct pending *p = r->pending; p; p = p->next) {
		if (!p->done) {
			p->done = 1;
			p->why = why;
		}
	}
	r->t->ops->interrupt(r->t);
	pthread_cond_broadcast(&r->cv);
}

/* A broken connection is taken down by whoever sees it unused. */
static void rpc_settle(struct cli_rpc *r)
{
	if (r->state == RPC_BROKEN && r->users == 0) {
		r->t->ops->disconnect(r->t);
		r->state = RPC_DOWN;
		r->send_max = CODEC_MIN_MAX_FRAME;
		pthread_cond_broadcast(&r->cv);
	}
}

/* Sleep on cv until woken or deadline: 0, or ETIMEDOUT. */
static int rpc_wait(struct cli_rpc *r, int64_t deadline)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline / 1000),
			       .tv_nsec = (long)(deadline % 1000) * 1000000 };
	int e = pthread_cond_timedwait(&r->cv, &r->lock, &ts);

	return e == ETIMEDOUT ? ETIMEDOUT : 0;
}

/* Hand an answer to the call waiting for it. 0, or -1 when nobody waits for that id (the
 * server answered a question nobody asked, or twice). */
static int rpc_deliver(struct cli_rpc *r, Teehsm__Response *a)
{
	for (struct pending *p = r->pending; p; p = p->next) {
		if (p->id == a->id && !p->done) {
			p->resp = a;
			p->done = 1;
			pthread_cond_broadcast(&r->cv);
			return 0;
		}
	}
	return -1;
}

static void pending_remove(struct cli_rpc *r, struct pending *me)
{
	for (struct pending **pp = &r->pending; *pp; pp = &(*pp)->next) {
		if (*pp == me) {
			*pp = me->next;
			return;
		}
	}
}

/* Read one answer for whoever waits for it, as the connection's reader until the next frame
 * comes (or deadline). Called with r->lock held and r->reader set; drops the lock meanwhile. */
static void rpc_read_one(struct cli_rpc *r, int64_t deadline)
{
	uint8_t *in = NULL;
	size_t in_len = 0;
	Teehsm__Response *a = NULL;
	enum cli_io io;

	pthread_mutex_unlock(&r->lock);
	io = r->t->ops->recv(r->t, CODEC_DEFAULT_MAX_FRAME, deadline, &in, &in_len);
	if (io == CLI_IO_OK) {
		a = codec_unpack_response(in, in_len);
		if (!a)
			log_error("%s: malformed answer from the server (%zu bytes)", r->t->name,
				  in_len);
	}
	wipe_free(in, in_len);
	pthread_mutex_lock(&r->lock);
	r->reader = 0;
	pthread_cond_broadcast(&r->cv); /* someone else may read now */
	if (io != CLI_IO_OK) {
		rpc_break(r, io);
		return;
	}
	if (!a) {
		rpc_break(r, CLI_IO_ERROR);
		return;
	}
	if (r->state != RPC_UP || rpc_deliver(r, a)) {
		if (r->state == RPC_UP)
			log_error("%s: the server answered request %" PRIu64
				  ", which no call is waiting for",
				  r->t->name, a->id);
		rpc_break(r, CLI_IO_ERROR);
		codec_response_free(a);
	}
}

/* ---- one exchange ---- */

/* Does the answer's result belong to a call answered with want? The result is there exactly
 * when the call has one and succeeded; a failed call may carry it (out_len of
 * CKR_BUFFER_TOO_SMALL, the template of CKR_ATTRIBUTE_SENSITIVE) or not. */
static int result_matches(const Teehsm__Response *a, Teehsm__Response__ResultCase want)
{
	if (a->result_case == want)
		return 1;
	return a->result_case == TEEHSM__RESPONSE__RESULT__NOT_SET && a->rv != CKR_OK;
}

/* The answer to q, checked: its rv with *resp set, or CKR_DEVICE_ERROR for an answer that
 * breaks the protocol (a freed). */
static CK_RV rpc_check_answer(struct cli_rpc *r, const Teehsm__Request *q, Teehsm__Response *a,
			      Teehsm__Response__ResultCase want, Teehsm__Response **resp)
{
	CK_ULONG call_rv = CKR_GENERAL_ERROR;

	if (!result_matches(a, want)) {
		log_error("%s: the server answered %s (rv 0x%" PRIx64 ") with result %d, "
			  "expected %d",
			  r->t->name, call_name(q->call_case), a->rv, (int)a->result_case,
			  (int)want);
		goto fail;
	}
	if (codec_ulong_from_wire(a->rv, &call_rv)) {
		log_error("%s: the server answered %s with rv 0x%" PRIx64 ", not a CK_RV",
			  r->t->name, call_name(q->call_case), a->rv);
		goto fail;
	}
	*resp = a;
	return call_rv;
fail:
	codec_response_free(a);
	return CKR_DEVICE_ERROR;
}

/* Send q on the current connection (state UP, r->lock held, dropped meanwhile) and wait for its
 * answer until deadline. Returns CLI_IO_OK with *a set, or why there is none: *too_big is set
 * when q could not be packed into send_max bytes (nothing was sent, the connection is fine). */
static enum cli_io rpc_exchange(struct cli_rpc *r, Teehsm__Request *q, int64_t deadline,
				Teehsm__Response **a, int *too_big)
{
	struct pending me = { .next = NULL };
	uint8_t *out = NULL;
	size_t out_len = 0, send_max = r->send_max;
	enum cli_io io = CLI_IO_ERROR;

	*a = NULL;
	*too_big = 0;
	me.id = q->id = r->next_id++;
	me.next = r->pending;
	r->pending = &me;
	r->users++; /* every user is on the pending list: users is the calls in flight */
	if (r->users > r->most_in_flight) {
		r->most_in_flight = r->users;
		log_debug("%s: %u calls in flight, the most so far", r->t->name, r->users);
	}
	pthread_mutex_unlock(&r->lock);

	if (codec_pack_request(q, send_max, &out, &out_len)) {
		*too_big = protobuf_c_message_get_packed_size(&q->base) > send_max;
		io = CLI_IO_NOMEM;
	} else {
		io = r->t->ops->send(r->t, out, out_len, deadline);
	}
	wipe_free(out, out_len); /* it may hold a PIN */

	pthread_mutex_lock(&r->lock);
	if (*too_big || io == CLI_IO_NOMEM) {
		me.done = 1;
		me.why = io;
	} else if (io != CLI_IO_OK) {
		rpc_break(r, io);
	}
	while (!me.done) {
		if (!r->reader && r->state == RPC_UP) {
			r->reader = 1;
			rpc_read_one(r, deadline);
		} else if (rpc_wait(r, deadline) == ETIMEDOUT && !me.done) {
			log_error("%s: %s: no answer from the server within %lu ms", r->t->name,
				  call_name(q->call_case), r->t->call_timeout_ms);
			rpc_break(r, CLI_IO_TIMEOUT);
		}
	}
	pending_remove(r, &me);
	r->users--;
	rpc_settle(r);
	*a = me.resp;
	return me.resp ? CLI_IO_OK : me.why;
}

/* The first exchange on a new connection (state CONNECTING, no lock held), before the call's
 * deadline: agree on the protocol and the frame cap. CKR_OK with *send_max set, or
 * CKR_DEVICE_ERROR (logged). */
static CK_RV rpc_hello(struct cli_rpc *r, uint64_t id, int64_t deadline, size_t *send_max)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__Hello h = TEEHSM__HELLO__INIT;
	Teehsm__Response *a = NULL;
	const Teehsm__Hello *sh = NULL;
	uint8_t *out = NULL, *in = NULL;
	size_t out_len = 0, in_len = 0;
	enum cli_io io = CLI_IO_ERROR;
	CK_RV rv = CKR_DEVICE_ERROR;

	h.protocol_version = CODEC_PROTOCOL_VERSION;
	h.software_version = "teehsm " TEEHSM_VERSION;
	h.max_frame = CODEC_DEFAULT_MAX_FRAME;
	q.id = id;
	q.call_case = TEEHSM__REQUEST__CALL_HELLO;
	q.hello = &h;
	/* Until the server names its cap, send no more than any server accepts. */
	if (codec_pack_request(&q, CODEC_MIN_MAX_FRAME, &out, &out_len)) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	io = r->t->ops->send(r->t, out, out_len, deadline);
	if (io == CLI_IO_OK)
		io = r->t->ops->recv(r->t, CODEC_DEFAULT_MAX_FRAME, deadline, &in, &in_len);
	if (io == CLI_IO_TIMEOUT)
		log_error("%s: no answer to Hello within %lu ms", r->t->name,
			  r->t->call_timeout_ms);
	if (io != CLI_IO_OK)
		goto out;
	a = codec_unpack_response(in, in_len);
	if (!a || a->id != id) {
		log_error("%s: malformed answer to Hello (%zu bytes)", r->t->name, in_len);
		goto out;
	}
	sh = a->result_case == TEEHSM__RESPONSE__RESULT_HELLO ? a->hello : NULL;
	if (sh && sh->protocol_version != CODEC_PROTOCOL_VERSION) {
		log_error("%s: the server (%.64s) speaks protocol version %u; this module "
			  "(teehsm %s) speaks %u",
			  r->t->name, sh->software_version, sh->protocol_version, TEEHSM_VERSION,
			  CODEC_PROTOCOL_VERSION);
		goto out;
	}
	if (a->rv != CKR_OK || !sh) {
		log_error("%s: the server refused the connection's Hello (rv 0x%" PRIx64 ")",
			  r->t->name, a->rv);
		goto out;
	}
	if (sh->max_frame < CODEC_MIN_MAX_FRAME) {
		log_error("%s: the server's frame cap of %u bytes is below the protocol minimum %u",
			  r->t->name, sh->max_frame, CODEC_MIN_MAX_FRAME);
		goto out;
	}
	*send_max =
		sh->max_frame < CODEC_DEFAULT_MAX_FRAME ? sh->max_frame : CODEC_DEFAULT_MAX_FRAME;
	log_debug("%s: server %.64s, protocol %u, frames up to %zu bytes", r->t->name,
		  sh->software_version, sh->protocol_version, *send_max);
	rv = CKR_OK;
out:
	wipe_free(out, out_len);
	wipe_free(in, in_len);
	codec_response_free(a);
	return rv;
}

/* Make the connection (r->lock held, dropped meanwhile; state DOWN) for a call due by deadline:
 * CKR_OK with state UP. The TCP connection and TLS handshake have connect_timeout_ms of their
 * own; Hello must be answered within the call's deadline. */
static CK_RV rpc_connect(struct cli_rpc *r, int64_t deadline)
{
	size_t send_max = CODEC_MIN_MAX_FRAME;
	uint64_t id = r->next_id++;
	CK_RV rv = CKR_DEVICE_ERROR;

	r->state = RPC_CONNECTING;
	pthread_mutex_unlock(&r->lock);
	rv = r->t->ops->connect(r->t);
	if (rv == CKR_OK) {
		rv = rpc_hello(r, id, deadline, &send_max);
		if (rv != CKR_OK)
			r->t->ops->disconnect(r->t);
	}
	pthread_mutex_lock(&r->lock);
	if (rv == CKR_OK) {
		r->state = RPC_UP;
		r->conn++;
		r->send_max = send_max;
	} else {
		r->state = RPC_DOWN;
		rv = rv == CKR_HOST_MEMORY ? rv : CKR_DEVICE_ERROR;
	}
	pthread_cond_broadcast(&r->cv);
	return rv;
}

/* Wait until the connection is neither being made nor being taken down (r->lock held): 0, or
 * -1 when the deadline passed first (another call is still connecting). */
static int rpc_wait_stable(struct cli_rpc *r, int64_t deadline)
{
	for (;;) {
		rpc_settle(r);
		if (r->state == RPC_DOWN || r->state == RPC_UP)
			return 0;
		if (rpc_wait(r, deadline) == ETIMEDOUT && r->state != RPC_DOWN &&
		    r->state != RPC_UP) {
			log_error("%s: no usable connection to the server within %lu ms",
				  r->t->name, r->t->call_timeout_ms);
			return -1;
		}
	}
}

CK_RV cli_rpc_call(struct cli_rpc *r, Teehsm__Request *q, Teehsm__Response__ResultCase want,
		   const struct cli_rpc_opts *opts, uint64_t *conn_used, Teehsm__Response **resp)
{
	int64_t deadline = cli_now_ms() + (int64_t)r->t->call_timeout_ms;
	Teehsm__Response *a = NULL;
	enum cli_io io = CLI_IO_ERROR;
	int fresh = 0, too_big = 0, tries = 0;
	uint64_t conn = 0;
	CK_RV rv = CKR_DEVICE_ERROR;

	*resp = NULL;
	pthread_mutex_lock(&r->lock);
again:
	tries++;
	if (rpc_wait_stable(r, deadline)) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	/* With no call in flight, anything the server sent means it went away (a restart). */
	if (r->state == RPC_UP && r->users == 0 && r->t->ops->idle_check(r->t)) {
		log_debug("%s: the server closed connection %" PRIu64, r->t->name, r->conn);
		r->t->ops->disconnect(r->t);
		r->state = RPC_DOWN;
	}
	if (opts->conn && (r->state != RPC_UP || r->conn != opts->conn)) {
		rv = CKR_DEVICE_REMOVED; /* the session went with its connection */
		goto out;
	}
	fresh = r->state == RPC_DOWN;
	if (fresh) {
		rv = rpc_connect(r, deadline);
		if (rv != CKR_OK)
			goto out;
	}
	conn = r->conn;
	io = rpc_exchange(r, q, deadline, &a, &too_big);
	if (io == CLI_IO_OK) {
		rv = rpc_check_answer(r, q, a, want, resp);
		if (rv == CKR_DEVICE_ERROR && !*resp && r->conn == conn)
			rpc_break(r, CLI_IO_ERROR);
		rpc_settle(r);
	} else if (too_big) {
		log_debug("%s: %s: request larger than the %zu-byte frame limit", r->t->name,
			  call_name(q->call_case), r->send_max);
		rv = CKR_DATA_LEN_RANGE;
	} else if (io == CLI_IO_NOMEM) {
		rv = CKR_HOST_MEMORY;
	} else if (io == CLI_IO_CLOSED && opts->conn) {
		rv = CKR_DEVICE_REMOVED;
	} else if (io == CLI_IO_CLOSED && opts->repeatable && !fresh && tries == 1) {
		/* A connection that had been idle may have been closed just as we used it. */
		log_debug("%s: %s: connection %" PRIu64 " was closed; trying a new one", r->t->name,
			  call_name(q->call_case), conn);
		goto again;
	} else {
		rv = CKR_DEVICE_ERROR;
	}
out:
	pthread_mutex_unlock(&r->lock);
	if (conn_used)
		*conn_used = conn;
	log_debug("%s: %s (request %" PRIu64 ", connection %" PRIu64 "): rv 0x%lx", r->t->name,
		  call_name(q->call_case), q->id, conn, rv);
	return rv;
}
