/*
 * The client's transport: a tiny vtable (connect, call, disconnect) so that libteehsm.so talks
 * TLS to teehsmd in production and straight into server/dispatch in-process in tests.
 */
#ifndef TEEHSM_CLIENT_TRANSPORT_H
#define TEEHSM_CLIENT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

struct cli_transport;

struct cli_transport_ops {
	/* Establish the connection (for TLS: TCP connect, handshake, server verification).
	 * CKR_OK, or CKR_DEVICE_ERROR with the reason logged. Called again after disconnect. */
	CK_RV (*connect)(struct cli_transport *t);
	/* Send one framed request (length prefix included) and receive the payload of one response
	 * frame of at most max_frame bytes into a new buffer *resp of *resp_len bytes (the caller
	 * frees it with wipe_free). CKR_OK or CKR_DEVICE_ERROR (the connection is then unusable
	 * until the next connect). */
	CK_RV (*call)
	(struct cli_transport *t, const uint8_t *req, size_t req_len, size_t max_frame,
	 uint8_t **resp, size_t *resp_len);
	/* Drop the connection. Safe when not connected. */
	void (*disconnect)(struct cli_transport *t);
	/* Disconnect and free the transport. */
	void (*free)(struct cli_transport *t);
};

struct cli_transport {
	const struct cli_transport_ops *ops;
};

/* Start the client core on a transport instead of the one TEEHSM_CONF describes (tests).
 * Behaves like C_Initialize(NULL) and takes ownership of t. Not exported from libteehsm.so. */
CK_RV cli_initialize_with_transport(struct cli_transport *t);

#endif
