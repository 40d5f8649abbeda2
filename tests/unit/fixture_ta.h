/*
 * The shared fixture of the token-core tests (through ta.h only): a fresh store in a temporary
 * directory, a core opened on it with a cheap PIN KDF, one application context, and the helpers
 * that initialise the token, open sessions and log in.
 */
#ifndef TEEHSM_TESTS_FIXTURE_TA_H
#define TEEHSM_TESTS_FIXTURE_TA_H

#include <ftw.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "ta.h"

#define SO_PIN	 "so-secret-1"
#define USER_PIN "user-1234"

/* The fixture: a store directory, the core's configuration, the core and one client. */
struct fx {
	char dir[64];
	struct ta_config cfg;
	struct ta *ta;
	struct ta_client *c;
	CK_SESSION_HANDLE h; /* R/W, user logged in, if the setup asked for it */
	const char *label;   /* the label init_token gives the token; NULL = blank */
};

/* How fx_ta_setup builds the fixture. */
struct fx_ta_params {
	const char *name;		/* names the store directory: /tmp/<name>.XXXXXX */
	const char *label;		/* the label init_token gives the token; NULL = blank */
	unsigned long max_pin_failures; /* 0 = the core's default */
	unsigned long max_sessions;	/* 0 = the core's default */
	bool user_session;		/* initialise the token and open fx.h as the user */
};

/* cmocka setup: a fresh store, the core opened on it (PIN KDF at 1000 iterations) and a client;
 * *state becomes a struct fx. */
int fx_ta_setup(void **state, const struct fx_ta_params *p);

/* cmocka teardown: free the client, close the core, remove the store, free the fixture. */
int fx_ta_teardown(void **state);

/* nftw callback that removes every entry: nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS). */
int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw);

/* Open the core on f->cfg and a new client. */
void fx_open(struct fx *f);

/* Free the client and close the core (either may already be gone). */
void fx_close(struct fx *f);

/* fx_close then fx_open: a restart of the token on the same store. */
void fx_reopen(struct fx *f);

/* A new session on the client, R/W or R/O. */
CK_SESSION_HANDLE open_session(struct fx *f, bool rw);

/* C_Login on the client with a NUL-terminated PIN; returns the core's result. */
CK_RV login(struct fx *f, CK_SESSION_HANDLE h, CK_USER_TYPE who, const char *pin);

/* Initialise the token (SO_PIN, f->label) and set USER_PIN; leaves no session open. */
void init_token(struct fx *f);

/* A new R/W session with the user logged in, on a token already initialised. */
CK_SESSION_HANDLE login_session(struct fx *f);

/* init_token, then a new R/W session with the user logged in. */
CK_SESSION_HANDLE user_session(struct fx *f);

#endif
