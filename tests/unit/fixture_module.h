/*
 * The shared fixture of the module-over-dispatch tests: the real client module (the functions of
 * C_GetFunctionList) on an in-process transport whose frames go straight into srv_dispatch and
 * the token core, on a fresh store in a temporary directory. No network is involved.
 */
#ifndef TEEHSM_TESTS_FIXTURE_MODULE_H
#define TEEHSM_TESTS_FIXTURE_MODULE_H

#include <pthread.h>
#include <stdbool.h>

#include "dispatch.h"
#include "transport.h"

#define SO_PIN	 "so-secret-1234"
#define USER_PIN "user-1234"

struct loop_answer;

/* An in-process transport: each framed request is handed to srv_dispatch on its own peer at
 * once, and its answer waits in a queue for recv. */
struct loop_transport {
	struct cli_transport base;
	struct ta *ta;
	pthread_mutex_t lock;
	struct srv_peer *peer;
	int closed; /* the "server" closed the connection */
	struct loop_answer *answers, *answers_tail;
	unsigned connects;   /* connections opened */
	unsigned long calls; /* requests that reached the server */
};

/* The fixture: a store, its core, and the module initialised on a loop transport. */
struct fx {
	char dir[64];
	struct ta *ta;
	struct loop_transport *lt; /* owned by the module until C_Finalize */
	CK_FUNCTION_LIST_PTR f;
	CK_SESSION_HANDLE s; /* R/W with the user logged in, if asked for */
};

/* How fx_module_setup builds the fixture. */
struct fx_module_params {
	const char *dir_template;	/* mkdtemp template, e.g. "/tmp/teehsm-x-XXXXXX" */
	const char *label;		/* token label, padded with blanks to 32 bytes */
	unsigned long max_pin_failures; /* 0 = the core's default */
	bool user_session;		/* open fx->s and log the user in */
};

/* A new loop transport into ta, for cli_initialize_with_transport (which takes ownership). */
struct loop_transport *loop_transport_new(struct ta *ta);

/* As if the server restarted: the connection is closed (its sessions are ended when the module
 * notices and disconnects); the next connect makes a new one. */
void loop_transport_server_restart(struct loop_transport *lt);

/* cmocka setup: a fresh store and core, the module on a loop transport, the token initialised
 * through the module with SO_PIN and USER_PIN; *state becomes a struct fx. */
int fx_module_setup(void **state, const struct fx_module_params *p);

/* cmocka teardown: C_Finalize, close the core, remove the store directory, free the fixture. */
int fx_module_teardown(void **state);

/* A new R/W session with the user logged in. */
CK_SESSION_HANDLE open_user_session(struct fx *fx);

#endif
