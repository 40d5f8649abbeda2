/*
 * The module's sessions. Handles given to the application are the module's own: each server
 * numbers its sessions independently (two servers may both have a session 1), and a handle must
 * never come to name a session of another connection after a reconnect. So the module hands
 * out its own numbers, never reused while the module is initialised, and remembers where each
 * session lives. A plain table: no locking (module.c holds its lock around it).
 */
#ifndef TEEHSM_CLIENT_CLI_SESSIONS_H
#define TEEHSM_CLIENT_CLI_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

/* At most this many sessions are remembered (open, or lost with their connection and not yet
 * closed by the application): C_OpenSession answers CKR_SESSION_COUNT beyond it. */
#define CLI_MAX_SESSIONS 65536

struct cli_session {
	CK_SESSION_HANDLE handle; /* the application's */
	size_t server;		  /* index of the server (its `server` line) */
	CK_SLOT_ID slot;	  /* the application's slot id */
	uint64_t remote;	  /* the server's handle */
	uint64_t conn;		  /* the connection it was opened on (cli_rpc_opts.conn) */
};

struct cli_sessions {
	struct cli_session *v; /* sorted by handle */
	size_t n, cap;
	CK_SESSION_HANDLE last; /* the last handle given out */
};

/* Remember s under a new handle: 0 with *out set, -1 (the table is full or out of memory). */
int cli_sessions_add(struct cli_sessions *t, const struct cli_session *s, CK_SESSION_HANDLE *out);

/* The session of handle h, or NULL. */
const struct cli_session *cli_sessions_find(const struct cli_sessions *t, CK_SESSION_HANDLE h);

/* Forget handle h (no-op when unknown). */
void cli_sessions_remove(struct cli_sessions *t, CK_SESSION_HANDLE h);

/* Forget every session of the application's slot. */
void cli_sessions_remove_slot(struct cli_sessions *t, CK_SLOT_ID slot);

/* Forget everything and free the memory; the table can be used again. */
void cli_sessions_clear(struct cli_sessions *t);

#endif
