/*
 * The RPC layer: one connection's request ids, lazy connect and Hello, pack, send, receive,
 * unpack, and the checks that an answer belongs to its question.
 */
#ifndef TEEHSM_CLIENT_CLI_RPC_H
#define TEEHSM_CLIENT_CLI_RPC_H

#include "proto/codec.h"
#include "transport.h"

struct cli_rpc;

/* A new RPC endpoint over t, not yet connected. Owns t from now on, even on failure (NULL,
 * allocation failure). */
struct cli_rpc *cli_rpc_new(struct cli_transport *t);

/* Disconnect (closing the connection ends the application's sessions on the server) and free.
 * No call may be in progress. Accepts NULL. */
void cli_rpc_free(struct cli_rpc *r);

/* In a forked child: free r, which the parent process made, unless a thread of the parent was
 * inside a call when the process forked (its state may then be half-written: r is left alone
 * and -1 returned). The transport never speaks on the parent's connection from the child. */
int cli_rpc_free_in_child(struct cli_rpc *r);

/* Make one call: connect and say Hello first if needed, give q a fresh id, send it, wait for
 * the answer. want is the result case the call answers with (NOT_SET for calls answered by rv
 * alone). Returns the rv of the answer, with *resp set (the caller frees it with
 * codec_response_free); the result is present whenever rv is CKR_OK and want is not NOT_SET,
 * and may be present for other rvs. On a transport or protocol failure returns
 * CKR_DEVICE_ERROR with *resp NULL (the next call reconnects); CKR_DATA_LEN_RANGE when q does
 * not fit a frame; CKR_HOST_MEMORY. Calls are serialised. */
CK_RV cli_rpc_call(struct cli_rpc *r, Teehsm__Request *q, Teehsm__Response__ResultCase want,
		   Teehsm__Response **resp);

#endif
