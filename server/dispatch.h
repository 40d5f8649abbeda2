/*
 * dispatch: bytes in, bytes out (STYLE.md §2). One struct srv_peer per connection holds that
 * peer's token-core client and protocol state; srv_dispatch turns one request frame payload into
 * one framed response. No socket, no libevent, no OpenSSL here, so unit tests and fuzzers drive
 * the whole stack without a network.
 */
#ifndef TEEHSM_SERVER_DISPATCH_H
#define TEEHSM_SERVER_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "ta.h"

struct srv_peer;

enum srv_verdict {
	SRV_REPLY,	 /* send *out and keep the connection */
	SRV_REPLY_CLOSE, /* send *out, then close (e.g. unsupported protocol version) */
	SRV_CLOSE,	 /* close now, nothing to send (malformed frame, protocol violation) */
	SRV_RUN,	 /* srv_request only: *call is ready for srv_call_run */
};

struct audit;
struct policy;

/* Who a peer is, for authorization and the audit log. Every pointer must stay valid for the
 * peer's life (the connection owns them). */
struct srv_auth {
	struct pol_identity id;
	const char *transport; /* "tls" or "unix" */
	const char *addr;      /* "127.0.0.1:50312", "unix:pid=123" */
	struct audit *audit;   /* NULL: no audit log */
};

/* A new peer of the token core ta. max_frame is this server's frame cap (requests larger than
 * it never reach dispatch); identity names the peer in logs (copied). NULL on failure. */
struct srv_peer *srv_peer_new(struct ta *ta, size_t max_frame, const char *identity);

/* End a peer: its sessions close and its login ends. No call of it may be running. Accepts
 * NULL. */
void srv_peer_free(struct srv_peer *p);

/* From now on every call of p is authorized by the policy its srv_call carries, and audited.
 * Without this (unit tests), calls go straight to the token core. */
void srv_peer_set_auth(struct srv_peer *p, const struct srv_auth *auth);

/* A decoded request that needs the token core. */
struct srv_call;

/* Handle one request frame payload of in_len bytes as far as it can be without the token core
 * (on the event loop's thread: cheap and bounded). SRV_RUN: *call is to be run with
 * srv_call_run, on any thread. SRV_REPLY and SRV_REPLY_CLOSE: *out is a new framed response of
 * *out_len bytes (Hello, an unknown call; the caller frees it with wipe_free). The first request
 * must be Hello. */
enum srv_verdict srv_request(struct srv_peer *p, const uint8_t *in, size_t in_len,
			     struct srv_call **call, uint8_t **out, size_t *out_len);

/* The ordering lane of call: its session handle, or 0 for the calls that name a slot. Calls of
 * one connection and one lane must run one after the other, in the order they arrived; calls of
 * different lanes may run at the same time (the token core is thread-safe). */
uint64_t srv_call_lane(const struct srv_call *call);

/* Run call against the token core and pack its answer into *out (*out_len bytes; free with
 * wipe_free). SRV_REPLY, or SRV_CLOSE when the answer does not fit a frame. Frees call. */
enum srv_verdict srv_call_run(struct srv_peer *p, struct srv_call *call, uint8_t **out,
			      size_t *out_len);

/* The policy call runs under: takes over one reference of policy. */
void srv_call_set_policy(struct srv_call *call, struct policy *policy);

/* Free a call that will not run. Accepts NULL. */
void srv_call_free(struct srv_call *call);

/* srv_request and, on SRV_RUN, srv_call_run at once (tests, and callers without a pool). */
enum srv_verdict srv_dispatch(struct srv_peer *p, const uint8_t *in, size_t in_len, uint8_t **out,
			      size_t *out_len);

/* How many token sessions the peer has open now. */
unsigned long srv_peer_sessions(struct srv_peer *p);

/* The frame cap of this connection once Hello is done: the smaller of ours and the client's. */
size_t srv_peer_max_frame(const struct srv_peer *p);

#endif
