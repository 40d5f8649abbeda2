/*
 * The client's transport: a tiny vtable (connect, send, recv, disconnect) so that libteehsm.so
 * talks TLS to teehsmd in production and straight into server/dispatch in-process in tests.
 *
 * Several threads share one connection (DESIGN.md "The wire": requests carry ids, answers may
 * come back in any order). The RPC layer (cli_rpc.h) guarantees that at most one thread is in
 * recv at a time and that connect, idle_check and disconnect run only while no thread sends or
 * receives; send may be called by several threads at once and may overlap a recv.
 */
#ifndef TEEHSM_CLIENT_TRANSPORT_H
#define TEEHSM_CLIENT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

struct cli_transport;

/* How an I/O step ended. */
enum cli_io {
	CLI_IO_OK = 0,
	CLI_IO_TIMEOUT, /* the deadline passed: the server did not answer in time */
	CLI_IO_CLOSED,	/* the server closed or reset the connection (or it was interrupted) */
	CLI_IO_ERROR,	/* anything else (TLS error, malformed framing): the reason was logged */
	CLI_IO_NOMEM,
};

struct cli_transport_ops {
	/* Establish the connection (for TLS: TCP connect, handshake, server verification).
	 * CKR_OK, or CKR_DEVICE_ERROR with the reason logged. Called again after disconnect. */
	CK_RV (*connect)(struct cli_transport *t);
	/* Send one whole framed request (length prefix included) before deadline_ms (a
	 * cli_now_ms() time). Frames of concurrent senders never interleave. */
	enum cli_io (*send)(struct cli_transport *t, const uint8_t *frame, size_t len,
			    int64_t deadline_ms);
	/* Receive the payload of the next response frame, at most max_frame bytes, into a new
	 * buffer *payload of *len bytes (the caller frees it with wipe_free), before deadline_ms.
	 */
	enum cli_io (*recv)(struct cli_transport *t, size_t max_frame, int64_t deadline_ms,
			    uint8_t **payload, size_t *len);
	/* With no call in flight: take note of anything the server sent meanwhile, without
	 * waiting. 0 when the connection still looks usable; -1 when the server closed it (or
	 * sent what it had no reason to send). */
	int (*idle_check)(struct cli_transport *t);
	/* Make a recv or send blocked in another thread return soon (CLI_IO_CLOSED). Safe to call
	 * from any thread while others use the connection; it is unusable afterwards. */
	void (*interrupt)(struct cli_transport *t);
	/* Drop the connection. Safe when not connected. */
	void (*disconnect)(struct cli_transport *t);
	/* Disconnect and free the transport. */
	void (*free)(struct cli_transport *t);
};

struct cli_transport {
	const struct cli_transport_ops *ops;
	unsigned long call_timeout_ms; /* the deadline of each call, from its start */
	const char *name;	       /* the server, for messages ("host:port") */
};

/* Milliseconds on the monotonic clock: the time base of deadlines. */
int64_t cli_now_ms(void);

/* Start the client core on transports instead of the servers TEEHSM_CONF names (tests). t[i]
 * plays the i-th `server` line. Behaves like C_Initialize(NULL) and takes ownership of every
 * t[i], even on failure. Not exported from libteehsm.so. */
CK_RV cli_initialize_with_transports(struct cli_transport *const *t, size_t n);

/* The same with one transport. */
CK_RV cli_initialize_with_transport(struct cli_transport *t);

#endif
