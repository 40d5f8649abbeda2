/*
 * The RPC layer: one server, one connection at a time, many calls in flight on it. Request ids,
 * lazy connect and Hello, pack, send, receive, unpack, the checks that an answer belongs to its
 * question, and which connection a session lives on.
 *
 * Threads: no lock is held across the network. A calling thread sends its request and then
 * either reads answers for everyone (one reader at a time) or sleeps until the reader hands it
 * its own; answers come back in any order and are matched by id.
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

/* How a call relates to connections. */
struct cli_rpc_opts {
	/* 0: the call may use (and make) any connection; *conn_used is set to the number of the
	 * connection it went over. Else: the call belongs to connection `conn` (a session opened
	 * on it); if that connection is gone the call is answered CKR_DEVICE_REMOVED without
	 * reaching the server, and no new connection is made for it. */
	uint64_t conn;
	/* The call may be sent again on a new connection when the one it went over turns out to
	 * have been closed by the server (it changes nothing that outlives a connection). */
	int repeatable;
};

/* Make one call: connect and say Hello first if needed (see opts), give q a fresh id, send it,
 * wait for the answer. want is the result case the call answers with (NOT_SET for calls
 * answered by rv alone). Returns the rv of the answer, with *resp set (the caller frees it with
 * codec_response_free); the result is present whenever rv is CKR_OK and want is not NOT_SET,
 * and may be present for other rvs. Without an answer (*resp NULL): CKR_DEVICE_ERROR when the
 * server cannot be reached, did not answer within the call deadline, or broke the protocol (the
 * connection is then dropped and the next call reconnects); CKR_DEVICE_REMOVED for a call
 * bound to a connection that is gone; CKR_DATA_LEN_RANGE when q does not fit a frame (nothing
 * was sent); CKR_HOST_MEMORY. conn_used may be NULL. */
CK_RV cli_rpc_call(struct cli_rpc *r, Teehsm__Request *q, Teehsm__Response__ResultCase want,
		   const struct cli_rpc_opts *opts, uint64_t *conn_used, Teehsm__Response **resp);

#endif
