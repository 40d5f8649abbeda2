/*
 * Which server a call goes to, and the handles on the way. The application's slot ids and
 * session handles are the module's (cli_calls.h "Slots and sessions"); a request carries the
 * server's, so field 1 of the request (`session` or `slot_id` in every message of teehsm.proto
 * that has one) is translated on the way out and restored after.
 */
#include <string.h>

#include "common/log.h"
#include "cli_calls.h"
#include "cli_rpc.h"

/* The server's numbers of the slots its tokens are in must fit below this. */
#define SLOT_LOCAL_MAX ((CK_SLOT_ID)1 << CLI_SLOT_SHIFT)

CK_SLOT_ID cli_slot_from_server(size_t server, uint64_t remote)
{
	return ((CK_SLOT_ID)server << CLI_SLOT_SHIFT) | (CK_SLOT_ID)remote;
}

int cli_slot_presentable(uint64_t remote)
{
	return remote < SLOT_LOCAL_MAX;
}

/* The uint64 field 1 of q's call message if it is named name, else NULL. */
static uint64_t *handle_field(Teehsm__Request *q, const char *name)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field(&teehsm__request__descriptor, q->call_case);
	const ProtobufCFieldDescriptor *g = NULL;
	ProtobufCMessage *m = NULL;

	if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return NULL;
	m = *(ProtobufCMessage **)((char *)q + f->offset);
	if (!m)
		return NULL;
	g = protobuf_c_message_descriptor_get_field(m->descriptor, 1);
	if (!g || g->type != PROTOBUF_C_TYPE_UINT64 || g->label != PROTOBUF_C_LABEL_REQUIRED ||
	    strcmp(g->name, name))
		return NULL;
	return (uint64_t *)((char *)m + g->offset);
}

/* Calls that change nothing which outlives their connection: sent again on a new connection
 * when the old one turns out to have been closed by the server. */
static int repeatable(Teehsm__Request__CallCase c)
{
	switch (c) {
	case TEEHSM__REQUEST__CALL_GET_SLOT_LIST:
	case TEEHSM__REQUEST__CALL_GET_SLOT_INFO:
	case TEEHSM__REQUEST__CALL_GET_TOKEN_INFO:
	case TEEHSM__REQUEST__CALL_GET_MECHANISM_LIST:
	case TEEHSM__REQUEST__CALL_GET_MECHANISM_INFO:
	case TEEHSM__REQUEST__CALL_OPEN_SESSION:       /* its session dies with the connection */
	case TEEHSM__REQUEST__CALL_CLOSE_ALL_SESSIONS: /* a new connection has none */
		return 1;
	default:
		return 0;
	}
}

/* What a call answers when its request cannot fit a frame (it never left the module), by the
 * return codes the specification lists for the function. Calls on data (C_Sign, C_Encrypt, ...)
 * are not here: they keep CKR_DATA_LEN_RANGE, which cli_call_abortable turns into their own
 * answer after ending the token's operation. */
static const struct {
	Teehsm__Request__CallCase call;
	CK_RV rv;
} too_large[] = {
	{ TEEHSM__REQUEST__CALL_INIT_TOKEN, CKR_PIN_LEN_RANGE },
	{ TEEHSM__REQUEST__CALL_INIT_PIN, CKR_PIN_LEN_RANGE },
	{ TEEHSM__REQUEST__CALL_SET_PIN, CKR_PIN_LEN_RANGE },
	{ TEEHSM__REQUEST__CALL_LOGIN, CKR_PIN_LEN_RANGE },
	{ TEEHSM__REQUEST__CALL_CREATE_OBJECT, CKR_DEVICE_MEMORY },
	{ TEEHSM__REQUEST__CALL_COPY_OBJECT, CKR_DEVICE_MEMORY },
	{ TEEHSM__REQUEST__CALL_SET_ATTRIBUTE_VALUE, CKR_DEVICE_MEMORY },
	{ TEEHSM__REQUEST__CALL_GET_ATTRIBUTE_VALUE, CKR_DEVICE_MEMORY },
	{ TEEHSM__REQUEST__CALL_FIND_OBJECTS_INIT, CKR_DEVICE_MEMORY },
	{ TEEHSM__REQUEST__CALL_GENERATE_KEY, CKR_DEVICE_MEMORY },
	{ TEEHSM__REQUEST__CALL_GENERATE_KEY_PAIR, CKR_DEVICE_MEMORY },
	{ TEEHSM__REQUEST__CALL_DERIVE_KEY, CKR_DEVICE_MEMORY },
	{ TEEHSM__REQUEST__CALL_UNWRAP_KEY, CKR_WRAPPED_KEY_LEN_RANGE },
	{ TEEHSM__REQUEST__CALL_SEED_RANDOM, CKR_DEVICE_MEMORY },
};

/* rv of a call whose answer is resp, with a request that never left replaced as above. */
static CK_RV too_large_rv(Teehsm__Request__CallCase c, CK_RV rv, const Teehsm__Response *resp)
{
	if (rv != CKR_DATA_LEN_RANGE || resp)
		return rv;
	for (size_t i = 0; i < sizeof(too_large) / sizeof(too_large[0]); i++)
		if (too_large[i].call == c)
			return too_large[i].rv;
	return rv;
}

CK_RV cli_call_server(size_t server, uint64_t conn, Teehsm__Request *q,
		      Teehsm__Response__ResultCase want, uint64_t *conn_used,
		      Teehsm__Response **resp)
{
	struct cli_rpc *const *srv = NULL;
	struct cli_rpc_opts opts = { .conn = conn,
				     .repeatable = !conn && repeatable(q->call_case) };
	size_t n = 0;
	CK_RV rv = cli_begin(&srv, &n);

	*resp = NULL;
	if (rv != CKR_OK)
		return rv;
	if (server < n)
		rv = cli_rpc_call(srv[server], q, want, &opts, conn_used, resp);
	else
		rv = CKR_SLOT_ID_INVALID;
	cli_end();
	return rv;
}

CK_RV cli_call_routed(Teehsm__Request *q, Teehsm__Response__ResultCase want,
		      Teehsm__Response **resp, struct cli_route *route)
{
	struct cli_rpc *const *srv = NULL;
	struct cli_rpc_opts opts = { .conn = 0, .repeatable = 0 };
	struct cli_session s;
	struct cli_route r = { 0 };
	uint64_t *field = NULL, mine = 0;
	size_t n = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	*resp = NULL;
	memset(&s, 0, sizeof(s));
	rv = cli_begin(&srv, &n);
	if (rv != CKR_OK)
		return rv;
	field = handle_field(q, "session");
	if (field) {
		CK_ULONG h = 0;

		rv = codec_ulong_from_wire(*field, &h) ? CKR_SESSION_HANDLE_INVALID
						       : cli_session_get(h, &s);
		if (rv != CKR_OK)
			goto out;
		r.server = s.server;
		r.slot = s.slot;
		r.conn = s.conn;
		opts.conn = s.conn;
		mine = *field;
		*field = s.remote;
	} else {
		CK_ULONG slot = 0;

		field = handle_field(q, "slot_id");
		if (!field) {
			log_error("%d: a call with neither a session nor a slot",
				  (int)q->call_case);
			rv = CKR_GENERAL_ERROR;
			goto out;
		}
		if (codec_ulong_from_wire(*field, &slot) || (slot >> CLI_SLOT_SHIFT) >= n) {
			rv = CKR_SLOT_ID_INVALID;
			goto out;
		}
		r.server = slot >> CLI_SLOT_SHIFT;
		r.slot = slot;
		opts.repeatable = repeatable(q->call_case);
		mine = *field;
		*field = slot & (SLOT_LOCAL_MAX - 1);
	}
	rv = cli_rpc_call(srv[r.server], q, want, &opts, &r.conn, resp);
	rv = too_large_rv(q->call_case, rv, *resp);
	*field = mine;
	if (route)
		*route = r;
out:
	cli_end();
	return rv;
}

CK_RV cli_call(Teehsm__Request *q, Teehsm__Response__ResultCase want, Teehsm__Response **resp)
{
	return cli_call_routed(q, want, resp, NULL);
}
