/*
 * The module's view of several servers and of lost connections, without a network: two token
 * cores, each behind its own in-process transport, as the two `server` lines of one config.
 * Also the session table and the client config's `server` lines on their own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ta.h"
#include "cli_calls.h"
#include "cli_conf.h"
#include "cli_sessions.h"
#include "transport.h"
#include "fixture_module.h"

#define SLOT_B ((CK_SLOT_ID)1 << CLI_SLOT_SHIFT) /* the token of the second server */

struct two {
	char dir[2][64];
	struct ta *ta[2];
	struct loop_transport *lt[2];
	CK_FUNCTION_LIST_PTR f;
};

static void label32(CK_UTF8CHAR out[32], const char *s)
{
	memset(out, ' ', 32);
	memcpy(out, s, strlen(s));
}

static void init_token(struct two *t, CK_SLOT_ID slot, const char *label)
{
	CK_UTF8CHAR l[32];
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;

	label32(l, label);
	assert_int_equal(t->f->C_InitToken(slot, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN), l),
			 CKR_OK);
	assert_int_equal(
		t->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s),
		CKR_OK);
	assert_int_equal(t->f->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN)), CKR_OK);
	assert_int_equal(t->f->C_InitPIN(s, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)), CKR_OK);
	assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

static int two_setup(void **state)
{
	struct two *t = calloc(1, sizeof(*t));
	struct ta_config cfg = { 0 };
	struct cli_transport *tr[2];

	assert_non_null(t);
	for (int i = 0; i < 2; i++) {
		strcpy(t->dir[i], "/tmp/teehsm-route-XXXXXX");
		assert_non_null(mkdtemp(t->dir[i]));
		cfg.store_dir = t->dir[i];
		cfg.pin_kdf_iterations = 1000;
		assert_int_equal(ta_open(&cfg, &t->ta[i]), CKR_OK);
		t->lt[i] = loop_transport_new(t->ta[i]);
		tr[i] = &t->lt[i]->base;
	}
	assert_int_equal(C_GetFunctionList(&t->f), CKR_OK);
	assert_int_equal(cli_initialize_with_transports(tr, 2), CKR_OK);
	init_token(t, 0, "token-a");
	init_token(t, SLOT_B, "token-b");
	*state = t;
	return 0;
}

static int two_teardown(void **state)
{
	struct two *t = *state;
	char cmd[128];

	assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
	for (int i = 0; i < 2; i++) {
		ta_close(t->ta[i]);
		assert_true(snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir[i]) <
			    (int)sizeof(cmd));
		assert_int_equal(system(cmd), 0);
	}
	free(t);
	return 0;
}

static CK_SESSION_HANDLE rw_session(struct two *t, CK_SLOT_ID slot)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;

	assert_int_equal(
		t->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s),
		CKR_OK);
	return s;
}

/* A new session, with the user logged in (the application was not yet, on that token). */
static CK_SESSION_HANDLE user_session(struct two *t, CK_SLOT_ID slot)
{
	CK_SESSION_HANDLE s = rw_session(t, slot);

	assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)),
			 CKR_OK);
	return s;
}

/* A data object labelled label on the session's token. */
static CK_OBJECT_HANDLE make_data(struct two *t, CK_SESSION_HANDLE s, const char *label)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_VALUE, (void *)label, strlen(label) },
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_int_equal(t->f->C_CreateObject(s, tmpl, 4, &h), CKR_OK);
	return h;
}

/* How many data objects labelled label the session's token has. */
static CK_ULONG count_label(struct two *t, CK_SESSION_HANDLE s, const char *label)
{
	CK_ATTRIBUTE tmpl[] = { { CKA_LABEL, (void *)label, strlen(label) } };
	CK_OBJECT_HANDLE found[8];
	CK_ULONG n = 0;

	assert_int_equal(t->f->C_FindObjectsInit(s, tmpl, 1), CKR_OK);
	assert_int_equal(t->f->C_FindObjects(s, found, 8, &n), CKR_OK);
	assert_int_equal(t->f->C_FindObjectsFinal(s), CKR_OK);
	return n;
}

/* Each server's token is a slot of its own, numbered by the server's place in the config. */
static void test_two_servers_two_slots(void **state)
{
	struct two *t = *state;
	CK_SLOT_ID slots[4] = { 0 };
	CK_ULONG n = 0;
	CK_TOKEN_INFO ti;
	CK_SLOT_INFO si;

	assert_int_equal(t->f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	assert_int_equal(n, 2);
	n = 1;
	assert_int_equal(t->f->C_GetSlotList(CK_TRUE, slots, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 2);
	n = 4;
	assert_int_equal(t->f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(slots[0], 0);
	assert_int_equal(slots[1], SLOT_B);
	assert_int_equal(t->f->C_GetTokenInfo(0, &ti), CKR_OK);
	assert_memory_equal(ti.label, "token-a ", 8);
	assert_int_equal(t->f->C_GetTokenInfo(SLOT_B, &ti), CKR_OK);
	assert_memory_equal(ti.label, "token-b ", 8);
	assert_int_equal(t->f->C_GetSlotInfo(SLOT_B, &si), CKR_OK);
	assert_true(si.flags & CKF_TOKEN_PRESENT);
	/* A third server does not exist; the first has no slot 1. */
	assert_int_equal(t->f->C_GetTokenInfo(2 * SLOT_B, &ti), CKR_SLOT_ID_INVALID);
	assert_int_equal(t->f->C_GetTokenInfo(1, &ti), CKR_SLOT_ID_INVALID);
	assert_int_equal(t->f->C_GetTokenInfo(SLOT_B + 1, &ti), CKR_SLOT_ID_INVALID);
}

/* Sessions are the module's handles: distinct across servers, reporting the slot they were
 * opened in, and reaching their own server's objects only. */
static void test_sessions_follow_their_server(void **state)
{
	struct two *t = *state;
	CK_SESSION_HANDLE a = user_session(t, 0), b = user_session(t, SLOT_B), a2, b2;
	CK_SESSION_INFO info;

	/* Both servers number their first session alike; the module does not. */
	assert_int_not_equal(a, b);
	assert_int_equal(t->f->C_GetSessionInfo(a, &info), CKR_OK);
	assert_int_equal(info.slotID, 0);
	assert_int_equal(info.state, CKS_RW_USER_FUNCTIONS);
	assert_int_equal(t->f->C_GetSessionInfo(b, &info), CKR_OK);
	assert_int_equal(info.slotID, SLOT_B);
	make_data(t, a, "on-a");
	make_data(t, b, "on-b");
	assert_int_equal(count_label(t, a, "on-a"), 1);
	assert_int_equal(count_label(t, a, "on-b"), 0);
	assert_int_equal(count_label(t, b, "on-b"), 1);
	assert_int_equal(count_label(t, b, "on-a"), 0);

	/* Closing all sessions of one slot leaves the other server's alone. */
	a2 = rw_session(t, 0);
	b2 = rw_session(t, SLOT_B);
	assert_int_equal(t->f->C_CloseAllSessions(SLOT_B), CKR_OK);
	assert_int_equal(t->f->C_GetSessionInfo(b, &info), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(t->f->C_GetSessionInfo(b2, &info), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(t->f->C_GetSessionInfo(a, &info), CKR_OK);
	assert_int_equal(t->f->C_GetSessionInfo(a2, &info), CKR_OK);
	assert_int_equal(t->f->C_CloseSession(a), CKR_OK);
	assert_int_equal(t->f->C_CloseSession(a), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(t->f->C_CloseSession(a2), CKR_OK);
	assert_int_equal(t->f->C_CloseSession(CK_INVALID_HANDLE), CKR_SESSION_HANDLE_INVALID);
}

/* One server restarts: its sessions answer CKR_DEVICE_REMOVED, without reaching it, until the
 * application closes them; the other server's sessions go on; the next slot call reconnects. */
static void test_restart_of_one_server(void **state)
{
	struct two *t = *state;
	CK_SESSION_HANDLE a = user_session(t, 0), b = user_session(t, SLOT_B), b2;
	CK_SESSION_INFO info;
	CK_TOKEN_INFO ti;
	unsigned long calls = 0;
	unsigned connects = t->lt[1]->connects;

	loop_transport_server_restart(t->lt[1]);
	calls = t->lt[1]->calls;
	assert_int_equal(t->f->C_GetSessionInfo(b, &info), CKR_DEVICE_REMOVED);
	assert_int_equal(count_label(t, a, "nothing"), 0);
	assert_int_equal(t->f->C_GetSessionInfo(b, &info), CKR_DEVICE_REMOVED);
	assert_int_equal(t->f->C_Login(b, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)),
			 CKR_DEVICE_REMOVED);
	assert_int_equal(t->lt[1]->calls, calls); /* answered by the module */
	assert_int_equal(t->lt[1]->connects, connects);

	/* A slot call reconnects; the new connection's sessions are new handles. */
	assert_int_equal(t->f->C_GetTokenInfo(SLOT_B, &ti), CKR_OK);
	assert_int_equal(t->lt[1]->connects, connects + 1);
	b2 = user_session(t, SLOT_B);
	assert_int_not_equal(b2, b);
	assert_int_equal(t->f->C_GetSessionInfo(b2, &info), CKR_OK);
	assert_int_equal(t->f->C_GetSessionInfo(b, &info), CKR_DEVICE_REMOVED);
	assert_int_equal(t->f->C_CloseSession(b), CKR_OK);
	assert_int_equal(t->f->C_GetSessionInfo(b, &info), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(t->f->C_GetSessionInfo(a, &info), CKR_OK);
	assert_int_equal(info.state, CKS_RW_USER_FUNCTIONS);
	assert_int_equal(t->f->C_CloseSession(b2), CKR_OK);
	assert_int_equal(t->f->C_CloseSession(a), CKR_OK);
}

/* A request too large for a frame never leaves the module, and the answer is the one the
 * specification lists for the function; the session goes on. */
static void test_requests_too_large(void **state)
{
	struct two *t = *state;
	const size_t big_len = 2u << 20; /* 2 MiB: above the 1 MiB frame */
	CK_BYTE *big = calloc(1, big_len);
	CK_SESSION_HANDLE s = user_session(t, SLOT_B);
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_KEY_TYPE aes = CKK_AES;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE data[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_VALUE, big, big_len } };
	CK_ATTRIBUTE label[] = { { CKA_LABEL, big, big_len } };
	CK_ATTRIBUTE unwrap_tmpl[] = { { CKA_KEY_TYPE, &aes, sizeof(aes) },
				       { CKA_TOKEN, &yes, sizeof(yes) } };
	CK_MECHANISM ec = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_MECHANISM kw = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE, h2 = CK_INVALID_HANDLE;
	unsigned long calls = 0;

	assert_non_null(big);
	calls = t->lt[1]->calls;
	assert_int_equal(t->f->C_CreateObject(s, data, 2, &h), CKR_DEVICE_MEMORY);
	assert_int_equal(t->f->C_FindObjectsInit(s, label, 1), CKR_DEVICE_MEMORY);
	assert_int_equal(t->f->C_GenerateKeyPair(s, &ec, label, 1, label, 1, &h, &h2),
			 CKR_DEVICE_MEMORY);
	assert_int_equal(t->f->C_UnwrapKey(s, &kw, 1, big, big_len, unwrap_tmpl, 2, &h),
			 CKR_WRAPPED_KEY_LEN_RANGE);
	assert_int_equal(t->f->C_Login(s, CKU_SO, big, big_len), CKR_PIN_LEN_RANGE);
	assert_int_equal(t->lt[1]->calls, calls); /* none of them left the module */
	/* The session and its login are intact. */
	assert_int_equal(count_label(t, s, "nothing"), 0);
	free(big);
	assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

/* ---- the session table ---- */

static void test_session_table(void **state)
{
	struct cli_sessions t = { 0 };
	struct cli_session s = { .server = 1, .slot = SLOT_B, .remote = 7, .conn = 3 };
	CK_SESSION_HANDLE h1 = 0, h2 = 0, h3 = 0;
	const struct cli_session *f = NULL;

	(void)state;
	assert_int_equal(cli_sessions_add(&t, &s, &h1), 0);
	s.slot = 0;
	s.remote = 7; /* the same server handle on another server */
	s.server = 0;
	assert_int_equal(cli_sessions_add(&t, &s, &h2), 0);
	assert_int_not_equal(h1, CK_INVALID_HANDLE);
	assert_int_not_equal(h1, h2);
	f = cli_sessions_find(&t, h1);
	assert_non_null(f);
	assert_int_equal(f->server, 1);
	assert_int_equal(f->slot, SLOT_B);
	assert_int_equal(f->conn, 3);
	assert_null(cli_sessions_find(&t, CK_INVALID_HANDLE));
	cli_sessions_remove(&t, h1);
	assert_null(cli_sessions_find(&t, h1));
	/* A removed number is not given out again. */
	assert_int_equal(cli_sessions_add(&t, &s, &h3), 0);
	assert_int_not_equal(h3, h1);
	cli_sessions_remove_slot(&t, 0);
	assert_int_equal(t.n, 0);

	/* When the counter wraps, 0 and numbers in use are skipped. */
	s.slot = 5;
	t.last = (CK_SESSION_HANDLE)-3;
	assert_int_equal(cli_sessions_add(&t, &s, &h1), 0); /* -2 */
	t.last = (CK_SESSION_HANDLE)-1;
	assert_int_equal(cli_sessions_add(&t, &s, &h2), 0);
	assert_int_equal(h2, 1);
	assert_int_equal(h1, (CK_SESSION_HANDLE)-2);
	t.last = (CK_SESSION_HANDLE)-3;
	assert_int_equal(cli_sessions_add(&t, &s, &h3), 0);
	assert_int_equal(h3, (CK_SESSION_HANDLE)-1); /* -2 is in use */
	t.last = (CK_SESSION_HANDLE)-2;
	assert_int_equal(cli_sessions_add(&t, &s, &h3), 0);
	assert_int_equal(h3, 2); /* -1, 0 and 1 are not */
	cli_sessions_clear(&t);
	assert_int_equal(t.n, 0);
	assert_null(t.v);
}

/* The table stops at CLI_MAX_SESSIONS. */
static void test_session_table_limit(void **state)
{
	struct cli_sessions t = { 0 };
	struct cli_session s = { .server = 0 };
	CK_SESSION_HANDLE h = 0;

	(void)state;
	for (unsigned i = 0; i < CLI_MAX_SESSIONS; i++)
		assert_int_equal(cli_sessions_add(&t, &s, &h), 0);
	assert_int_equal(cli_sessions_add(&t, &s, &h), -1);
	cli_sessions_remove(&t, 1);
	assert_int_equal(cli_sessions_add(&t, &s, &h), 0);
	assert_int_equal(h, CLI_MAX_SESSIONS + 1);
	cli_sessions_clear(&t);
}

/* ---- the client config's server lines ---- */

static char conf_dir[64];

static int conf_setup(void **state)
{
	(void)state;
	strcpy(conf_dir, "/tmp/teehsm-cliconf-XXXXXX");
	assert_non_null(mkdtemp(conf_dir));
	return 0;
}

static int conf_teardown(void **state)
{
	char cmd[128];

	(void)state;
	assert_true(snprintf(cmd, sizeof(cmd), "rm -rf '%s'", conf_dir) < (int)sizeof(cmd));
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Load a config with the given body; returns cli_conf_load's result. */
static int load(const char *body, struct cli_conf **out)
{
	char path[128];
	FILE *f = NULL;

	snprintf(path, sizeof(path), "%s/client.conf", conf_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "ca = ca.pem\n%s", body);
	fclose(f);
	return cli_conf_load(path, out);
}

static void test_conf_servers(void **state)
{
	struct cli_conf *c = NULL;

	(void)state;
	assert_int_equal(load("server = 127.0.0.1:5705\n", &c), 0);
	assert_int_equal(c->n_servers, 1);
	assert_string_equal(c->servers[0].host, "127.0.0.1");
	assert_string_equal(c->servers[0].port, "5705");
	assert_string_equal(c->servers[0].server_name, "127.0.0.1");
	assert_true(c->servers[0].name_is_ip);
	cli_conf_free(c);

	/* Several lines in order; a name per line, else server_name, else the host. */
	assert_int_equal(load("server_name = hsm.example\n"
			      "server = 10.0.0.1:1\n"
			      "server = [::1]:2 [::1]\n"
			      "server = dev-b.example  other.example\n",
			      &c),
			 0);
	assert_int_equal(c->n_servers, 3);
	assert_string_equal(c->servers[0].server_name, "hsm.example");
	assert_false(c->servers[0].name_is_ip);
	assert_string_equal(c->servers[1].host, "::1");
	assert_string_equal(c->servers[1].port, "2");
	assert_string_equal(c->servers[1].server_name, "::1");
	assert_true(c->servers[1].name_is_ip);
	assert_string_equal(c->servers[2].host, "dev-b.example");
	assert_string_equal(c->servers[2].port, "5705");
	assert_string_equal(c->servers[2].server_name, "other.example");
	assert_int_equal(c->servers[2].line, 5);
	cli_conf_free(c);

	c = NULL;
	assert_int_equal(load("", &c), -1); /* no server */
	assert_int_equal(load("server = a:1\nserver = a:1\n", &c), -1);
	assert_int_equal(load("server = a:1 b c\n", &c), -1);
	assert_int_equal(load("server = a:1:2\n", &c), -1);
	assert_int_equal(load("server = ::1\n", &c), -1);
	assert_int_equal(load("server = [::1\n", &c), -1);
	assert_int_equal(load("server = a:\n", &c), -1);
	assert_int_equal(load("server = a:123456\n", &c), -1);
	/* unix: takes an absolute path. */
	assert_int_equal(load("server = unix:run/teehsm.sock\n", &c), -1);
	assert_int_equal(load("server = a:1\nserver_name =\n", &c), -1);
	assert_null(c);
}

static void test_conf_too_many_servers(void **state)
{
	char body[CLI_MAX_SERVERS * 32 + 64];
	struct cli_conf *c = NULL;
	size_t off = 0;

	(void)state;
	for (int i = 0; i < CLI_MAX_SERVERS; i++)
		off += (size_t)snprintf(body + off, sizeof(body) - off, "server = h%d:1\n", i);
	assert_int_equal(load(body, &c), 0);
	assert_int_equal(c->n_servers, CLI_MAX_SERVERS);
	cli_conf_free(c);
	c = NULL;
	snprintf(body + off, sizeof(body) - off, "server = one-more:1\n");
	assert_int_equal(load(body, &c), -1);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_servers_two_slots, two_setup,
						two_teardown),
		cmocka_unit_test_setup_teardown(test_sessions_follow_their_server, two_setup,
						two_teardown),
		cmocka_unit_test_setup_teardown(test_restart_of_one_server, two_setup,
						two_teardown),
		cmocka_unit_test_setup_teardown(test_requests_too_large, two_setup, two_teardown),
		cmocka_unit_test(test_session_table),
		cmocka_unit_test(test_session_table_limit),
		cmocka_unit_test_setup_teardown(test_conf_servers, conf_setup, conf_teardown),
		cmocka_unit_test_setup_teardown(test_conf_too_many_servers, conf_setup,
						conf_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
