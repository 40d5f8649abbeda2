/*
 * One connection to teehsmd as a sequence of checked request/answer pairs. Everything on the
 * wire goes through proto/codec; this file only decides when to connect, what id a request
 * gets and whether an answer is the one we are waiting for.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>

#include "common/buf.h"
#include "common/log.h"
#include "cli_rpc.h"

struct cli_rpc {
	/* XXX: issue 4 lets several calls be in flight on the connection, matched by id; for now
	 * this lock makes them take turns. */
	pthread_mutex_t lock;
	struct cli_transport *t;
	uint64_t next_id;
	int connected;	 /* connected and past Hello */
	size_t send_max; /* the smaller of the server's frame cap and ours */
};

struct cli_rpc *cli_rpc_new(struct cli_transport *t)
{
	struct cli_rpc *r = calloc(1, sizeof(*r));

	if (!r || pthread_mutex_init(&r->lock, NULL)) {
		free(r);
		if (t)
			t->ops->free(t);
		return NULL;
	}
	r->t = t;
	r->next_id = 1;
	r->send_max = CODEC_MIN_MAX_FRAME;
	return r;
}

void cli_rpc_free(struct cli_rpc *r)
{
	if (!r)
		return;
	r->t->ops->free(r->t); /* disconnects first */
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int cli_rpc_free_in_child(struct cli_rpc *r)
{
	if (!r)
		return 0;
	if (pthread_mutex_trylock(&r->lock))
		return -1;
	pthread_mutex_unlock(&r->lock);
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

static void rpc_drop(struct cli_rpc *r)
{
	r->t->ops->disconnect(r->t);
	r->connected = 0;
	r->send_max = CODEC_MIN_MAX_FRAME;
}

/* Does the answer's result belong to a call answered with want? The result is there exactly
 * when the call has one and succeeded; a failed call may carry it (out_len of
 * CKR_BUFFER_TOO_SMALL, the template of CKR_ATTRIBUTE_SENSITIVE) or not. */
static int result_matches(const Teehsm__Response *a, Teehsm__Response__ResultCase want)
{
	if (a->result_case == want)
		return 1;
	return a->result_case == TEEHSM__RESPONSE__RESULT__NOT_SET && a->rv != CKR_OK;
}

/* One request and its answer on the open connection. Returns like cli_rpc_call; a failure
 * that leaves the stream in an unknown state drops the connection. */
static CK_RV rpc_exchange(struct cli_rpc *r, Teehsm__Request *q, Teehsm__Response__ResultCase want,
			  size_t send_max, Teehsm__Response **resp)
{
	uint8_t *out = NULL, *in = NULL;
	size_t out_len = 0, in_len = 0;
	Teehsm__Response *a = NULL;
	CK_ULONG call_rv = CKR_GENERAL_ERROR;
	CK_RV rv = CKR_DEVICE_ERROR;

	*resp = NULL;
	q->id = r->next_id++;
	if (codec_pack_request(q, send_max, &out, &out_len)) {
		/* Nothing was sent: the connection is still good. */
		if (protobuf_c_message_get_packed_size(&q->base) > send_max) {
			log_debug("%s: request larger than the %zu-byte frame limit",
				  call_name(q->call_case), send_max);
			return CKR_DATA_LEN_RANGE;
		}
		return CKR_HOST_MEMORY;
	}
	rv = r->t->ops->call(r->t, out, out_len, CODEC_DEFAULT_MAX_FRAME, &in, &in_len);
	wipe_free(out, out_len); /* it may hold a PIN */
	if (rv != CKR_OK) {
		rv = rv == CKR_HOST_MEMORY ? CKR_HOST_MEMORY : CKR_DEVICE_ERROR;
		goto fail;
	}
	rv = CKR_DEVICE_ERROR;
	a = codec_unpack_response(in, in_len);
	if (!a) {
		log_error("malformed answer from the server (%zu bytes)", in_len);
		goto fail;
	}
	if (a->id != q->id) {
		log_error("the server answered request %" PRIu64 " while request %" PRIu64
			  " was waiting",
			  a->id, q->id);
		goto fail;
	}
	if (!result_matches(a, want)) {
		log_error("the server answered %s (rv 0x%" PRIx64 ") with result %d, expected %d",
			  call_name(q->call_case), a->rv, (int)a->result_case, (int)want);
		goto fail;
	}
	if (codec_ulong_from_wire(a->rv, &call_rv)) {
		log_error("the server answered %s with rv 0x%" PRIx64 ", not a CK_RV",
			  call_name(q->call_case), a->rv);
		goto fail;
	}
	wipe_free(in, in_len);
	*resp = a;
	return call_rv;
fail:
	rpc_drop(r);
	codec_response_free(a);
	wipe_free(in, in_len);
	return rv;
}

/* The first exchange on a new connection: agree on the protocol and the frame cap. */
static CK_RV rpc_hello(struct cli_rpc *r)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__Hello h = TEEHSM__HELLO__INIT;
	Teehsm__Response *a = NULL;
	const Teehsm__Hello *sh = NULL;
	CK_RV rv = CKR_DEVICE_ERROR;

	h.protocol_version = CODEC_PROTOCOL_VERSION;
	h.software_version = "teehsm " TEEHSM_VERSION;
	h.max_frame = CODEC_DEFAULT_MAX_FRAME;
	q.call_case = TEEHSM__REQUEST__CALL_HELLO;
	q.hello = &h;
	/* Until the server names its cap, send no more than any server accepts. */
	rv = rpc_exchange(r, &q, TEEHSM__RESPONSE__RESULT_HELLO, CODEC_MIN_MAX_FRAME, &a);
	if (!a)
		goto out;
	sh = a->result_case == TEEHSM__RESPONSE__RESULT_HELLO ? a->hello : NULL;
	if (sh && sh->protocol_version != CODEC_PROTOCOL_VERSION) {
		log_error("the server (%.64s) speaks protocol version %u; this module (teehsm %s) "
			  "speaks %u",
			  sh->software_version, sh->protocol_version, TEEHSM_VERSION,
			  CODEC_PROTOCOL_VERSION);
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	if (rv != CKR_OK || !sh) {
		log_error("the server refused the connection's Hello (rv 0x%lx)", rv);
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	if (sh->max_frame < CODEC_MIN_MAX_FRAME) {
		log_error("the server's frame cap of %u bytes is below the protocol minimum %u",
			  sh->max_frame, CODEC_MIN_MAX_FRAME);
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	r->send_max =
		sh->max_frame < CODEC_DEFAULT_MAX_FRAME ? sh->max_frame : CODEC_DEFAULT_MAX_FRAME;
	log_debug("server %.64s, protocol %u, frames up to %zu bytes", sh->software_version,
		  sh->protocol_version, r->send_max);
	rv = CKR_OK;
out:
	codec_response_free(a);
	return rv;
}

CK_RV cli_rpc_call(struct cli_rpc *r, Teehsm__Request *q, Teehsm__Response__ResultCase want,
		   Teehsm__Response **resp)
{
	CK_RV rv = CKR_DEVICE_ERROR;

	*resp = NULL;
	pthread_mutex_lock(&r->lock);
	if (!r->connected) {
		if (r->t->ops->connect(r->t) != CKR_OK) {
			rv = CKR_DEVICE_ERROR;
			goto out;
		}
		rv = rpc_hello(r);
		if (rv != CKR_OK) {
			rpc_drop(r);
			rv = rv == CKR_HOST_MEMORY ? rv : CKR_DEVICE_ERROR;
			goto out;
		}
		r->connected = 1;
	}
	rv = rpc_exchange(r, q, want, r->send_max, resp);
	log_debug("%s (request %" PRIu64 "): rv 0x%lx", call_name(q->call_case), q->id, rv);
out:
	pthread_mutex_unlock(&r->lock);
	return rv;
}
