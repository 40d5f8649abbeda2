/*
 * teehsmd: the teehsm server. Runs in the foreground and logs to stderr.
 *
 *   teehsmd -c FILE [--port-file F]                     serve until SIGTERM/SIGINT
 *   teehsmd -c FILE --init-token --label LABEL          initialise the token, then exit
 *
 * Startup order: configuration, TLS credentials, token store, listeners; any failure before the
 * listeners are up exits 1 without having listened.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/log.h"
#include "conn.h"
#include "listener.h"
#include "server.h"
#include "srvconf.h"
#include "tls.h"
#include "audit.h"
#include "policy.h"
#include "workers.h"

#define EXIT_USAGE 2
/* Longest PIN accepted from a --*-pin-file. */
#define PIN_FILE_MAX 1024
/* CK_TOKEN_INFO.label is 32 blank-padded bytes. */
#define LABEL_LEN 32

static void usage(FILE *f)
{
	fprintf(f,
		"usage: teehsmd -c FILE [--port-file F]\n"
		"       teehsmd -c FILE --check-config\n"
		"       teehsmd -c FILE --init-token --label LABEL [--so-pin-file F] "
		"[--user-pin-file F]\n"
		"       teehsmd --help | --version\n"
		"\n"
		"Serve the teehsm token over mutual TLS (in the foreground, logging to stderr),\n"
		"or initialise the token and exit.\n"
		"\n"
		"  -c, --config FILE     configuration (see deploy/teehsmd.conf.example)\n"
		"      --check-config    check the configuration, credentials, CRL and policy,\n"
		"                        print OK and exit 0 (1 with the reason otherwise)\n"
		"      --port-file F     once listening, write the TCP port of the first listen\n"
		"                        entry to F (decimal and a newline, written atomically)\n"
		"      --init-token      initialise the token: SO PIN from TEEHSM_SO_PIN, user "
		"PIN\n"
		"                        from TEEHSM_USER_PIN (or the two files below)\n"
		"      --label LABEL     the token label for --init-token (at most 32 bytes)\n"
		"      --so-pin-file F   read the SO PIN from the first line of F\n"
		"      --user-pin-file F read the user PIN from the first line of F\n"
		"  -h, --help            this help\n"
		"  -V, --version         print the version\n"
		"\n"
		"SIGTERM or SIGINT stops accepting, finishes the calls in flight (at most\n"
		"shutdown_timeout seconds), closes every connection and exits 0. SIGHUP reloads\n"
		"the policy, the CA bundle and the CRL, and closes connections whose certificate\n"
		"no longer verifies.\n");
}

/* --- Serving ------------------------------------------------------------------------------ */

struct serve_ctx {
	struct srv *srv;
	struct listeners *ls;
	struct event *drain_timer;
};

/* The calls in flight did not finish within shutdown_timeout: close what is left. */
static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct serve_ctx *sc = arg;

	(void)fd;
	(void)what;
	log_warn("shutdown_timeout (%lu s) passed with %zu connections still busy: closing them",
		 sc->srv->cfg->shutdown_timeout, sc->srv->n_conns);
	conn_free_all(sc->srv);
	event_base_loopbreak(sc->srv->base);
}

/* SIGTERM/SIGINT: stop accepting, let every connection finish its calls in flight and send
 * their answers, then close them (ending their token sessions) and let the loop return. */
static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct serve_ctx *sc = arg;
	struct timeval tv = { .tv_sec = (time_t)sc->srv->cfg->shutdown_timeout, .tv_usec = 0 };

	(void)what;
	if (sc->srv->stopping)
		return;
	log_info("%s: shutting down (%zu connections open)", sig == SIGINT ? "SIGINT" : "SIGTERM",
		 sc->srv->n_conns);
	sc->srv->stopping = 1;
	listeners_free(sc->ls);
	sc->ls = NULL;
	if (sc->srv->n_conns == 0) {
		event_base_loopbreak(sc->srv->base);
		return;
	}
	sc->drain_timer = evtimer_new(sc->srv->base, drain_timeout_cb, sc);
	if (!sc->drain_timer || evtimer_add(sc->drain_timer, &tv) != 0) {
		log_error("cannot time the shutdown: closing every connection now");
		conn_free_all(sc->srv);
		event_base_loopbreak(sc->srv->base);
		return;
	}
	/* Breaks the loop when the last connection has closed. */
	conn_drain_all(sc->srv);
}

/* SIGHUP: read the configuration file again and apply what can change without a restart: the
 * trust (CA bundle and CRL; connections whose certificate no longer verifies are closed) and
 * the log level. A file that does not load changes nothing. */
static void reload_cb(evutil_socket_t sig, short what, void *arg)
{
	struct serve_ctx *sc = arg;
	struct srv *srv = sc->srv;
	struct srv_config *ncfg = NULL;
	char err[1024];

	(void)sig;
	(void)what;
	if (srv->stopping)
		return;
	if (srvconf_load(srv->cfg->path, &ncfg, err, sizeof(err))) {
		log_error("SIGHUP: %s; the running configuration stays in force", err);
		return;
	}
	if (tls_server_reload_trust(srv->ssl_ctx, ncfg->ca, ncfg->crl, err, sizeof(err))) {
		log_error("SIGHUP: %s: %s; the running configuration stays in force", ncfg->path,
			  err);
		srvconf_free(ncfg);
		return;
	}
	if (srv->audit && audit_reopen(srv->audit, err, sizeof(err)))
		log_error("SIGHUP: %s; still writing the audit log to the file open before", err);
	/* Calls already decoded keep the policy they were decoded under. */
	policy_unref(srv->policy);
	srv->policy = policy_ref(ncfg->policy);
	log_set_level(ncfg->log_level);
	log_info("SIGHUP: reloaded the policy (%zu allow rules) and the CA bundle%s from %s; "
		 "listen, limits, token, audit_log path and TLS credentials take effect at the "
		 "next start",
		 policy_rule_count(srv->policy), ncfg->crl ? " and the CRL" : "", ncfg->path);
	conn_recheck_all(srv);
	srvconf_free(ncfg);
}

/* Write "PORT\n" to path atomically: a reader sees no file or the whole line. */
static int write_port_file(const char *path, unsigned port)
{
	char tmp[4096], line[16];
	int fd = -1, n = 0, ret = -1;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		log_error("--port-file %s: path too long", path);
		return -1;
	}
	n = snprintf(line, sizeof(line), "%u\n", port);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("--port-file: cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, line, (size_t)n) != n) {
		log_error("--port-file: cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		log_error("--port-file: cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		log_error("--port-file: cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret)
		unlink(tmp);
	return ret;
}

/* The credential files must be readable; say which line named them if not. */
static int check_readable(const struct srv_config *cfg, const char *key, const char *path,
			  unsigned line)
{
	if (access(path, R_OK) == 0)
		return 0;
	log_error("%s:%u: %s = %s: %s", cfg->path, line, key, path, strerror(errno));
	return -1;
}

static CK_RV open_token(const struct srv_config *cfg, struct ta **out)
{
	struct ta_config tc;
	CK_RV rv;

	memset(&tc, 0, sizeof(tc));
	tc.store_dir = cfg->store;
	tc.root_key_path = cfg->root_key;
	tc.pin_kdf_iterations = cfg->pin_kdf_iterations;
	tc.max_pin_failures = cfg->max_pin_failures;
	rv = ta_open(&tc, out);
	if (rv != CKR_OK)
		log_error("%s:%u: store = %s: cannot open the token store (CK_RV 0x%08lx)",
			  cfg->path, cfg->store_line, cfg->store, (unsigned long)rv);
	return rv;
}

static int serve(const struct srv_config *cfg, const char *port_file)
{
	struct srv srv;
	struct serve_ctx sc = { .srv = &srv, .ls = NULL, .drain_timer = NULL };
	struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL;
	char err[1024];
	int ret = 1;

	memset(&srv, 0, sizeof(srv));
	LIST_INIT(&srv.conns);
	srv.cfg = cfg;
	/* A peer that vanishes mid-write must cost an EPIPE, not the process. */
	signal(SIGPIPE, SIG_IGN);

	if (check_readable(cfg, "ca", cfg->ca, cfg->ca_line) ||
	    check_readable(cfg, "cert", cfg->cert, cfg->cert_line) ||
	    check_readable(cfg, "key", cfg->key, cfg->key_line) ||
	    (cfg->crl && check_readable(cfg, "crl", cfg->crl, cfg->crl_line)))
		goto out;
	srv.ssl_ctx = tls_server_ctx_new(cfg->ca, cfg->crl, cfg->cert, cfg->key, err, sizeof(err));
	if (!srv.ssl_ctx) {
		log_error("%s: %s", cfg->path, err);
		goto out;
	}
	srv.base = event_base_new();
	if (!srv.base) {
		log_error("cannot create the event loop");
		goto out;
	}
	if (listeners_new(&srv, &sc.ls, err, sizeof(err))) {
		log_error("%s", err);
		goto out;
	}
	if (open_token(cfg, &srv.ta) != CKR_OK)
		goto out;
	srv.policy = policy_ref(cfg->policy);
	if (policy_rule_count(srv.policy) == 0)
		log_warn("%s: no allow rule: every peer will be refused (default deny)", cfg->path);
	if (cfg->audit_log && audit_open(cfg->audit_log, (long)cfg->audit_fsync_interval_ms,
					 &srv.audit, err, sizeof(err))) {
		log_error("%s: audit_log: %s", cfg->path, err);
		goto out;
	}
	srv.workers = workers_new(srv.base, cfg->workers, err, sizeof(err));
	if (!srv.workers) {
		log_error("%s", err);
		goto out;
	}
	ev_term = evsignal_new(srv.base, SIGTERM, stop_cb, &sc);
	ev_int = evsignal_new(srv.base, SIGINT, stop_cb, &sc);
	ev_hup = evsignal_new(srv.base, SIGHUP, reload_cb, &sc);
	if (!ev_term || !ev_int || !ev_hup || evsignal_add(ev_term, NULL) ||
	    evsignal_add(ev_int, NULL) || evsignal_add(ev_hup, NULL)) {
		log_error("cannot install the signal handlers");
		goto out;
	}
	if (listeners_start(sc.ls, err, sizeof(err))) {
		log_error("%s", err);
		goto out;
	}
	if (port_file && write_port_file(port_file, listeners_first_port(sc.ls)))
		goto out;
	log_info("teehsmd %s ready (%lu workers, max_connections %lu, max_frame %zu)",
		 TEEHSM_VERSION, cfg->workers, cfg->max_connections, cfg->max_frame);

	if (event_base_dispatch(srv.base) < 0) {
		log_error("the event loop failed");
		goto out;
	}
	ret = srv.stopping ? 0 : 1;
out:
	srv.stopping = 1;
	listeners_free(sc.ls);
	conn_free_all(&srv);
	/* Calls still running complete first; their connections are freed with them. */
	workers_free(srv.workers);
	audit_close(srv.audit);
	policy_unref(srv.policy);
	if (sc.drain_timer)
		event_free(sc.drain_timer);
	if (ev_term)
		event_free(ev_term);
	if (ev_int)
		event_free(ev_int);
	if (ev_hup)
		event_free(ev_hup);
	if (srv.base)
		event_base_free(srv.base);
	ta_close(srv.ta); /* every client is gone */
	SSL_CTX_free(srv.ssl_ctx);
	if (ret == 0)
		log_info("stopped");
	return ret;
}

/* --check-config: everything serve() checks before it listens, without listening, opening the
 * token store or writing anything. */
static int check_config(const struct srv_config *cfg)
{
	SSL_CTX *ctx = NULL;
	char err[1024];

	if (check_readable(cfg, "ca", cfg->ca, cfg->ca_line) ||
	    check_readable(cfg, "cert", cfg->cert, cfg->cert_line) ||
	    check_readable(cfg, "key", cfg->key, cfg->key_line) ||
	    (cfg->crl && check_readable(cfg, "crl", cfg->crl, cfg->crl_line)))
		return 1;
	ctx = tls_server_ctx_new(cfg->ca, cfg->crl, cfg->cert, cfg->key, err, sizeof(err));
	if (!ctx) {
		log_error("%s: %s", cfg->path, err);
		return 1;
	}
	SSL_CTX_free(ctx);
	if (cfg->audit_log) {
		char *dir = strdup(cfg->audit_log);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		int ok = 1;

		if (slash)
			*(slash == dir ? slash + 1 : slash) = '\0';
		if (!dir ||
		    (access(cfg->audit_log, W_OK) != 0 && access(slash ? dir : ".", W_OK) != 0))
			ok = 0;
		free(dir);
		if (!ok) {
			log_error("%s: audit_log = %s: cannot be written: %s", cfg->path,
				  cfg->audit_log, strerror(errno));
			return 1;
		}
	}
	if (policy_rule_count(cfg->policy) == 0)
		log_warn("%s: no allow rule: every peer will be refused (default deny)", cfg->path);
	printf("%s: OK (%zu listen entries%s%s, %zu allow rules, %lu workers%s%s)\n", cfg->path,
	       cfg->n_listen, cfg->unix_socket ? ", unix socket " : "",
	       cfg->unix_socket ? cfg->unix_socket : "", policy_rule_count(cfg->policy),
	       cfg->workers, cfg->audit_log ? ", audit log " : "",
	       cfg->audit_log ? cfg->audit_log : "");
	return 0;
}

/* --- Token initialisation ------------------------------------------------------------------ */

/* A PIN from the first line of file (trailing CR/LF removed) into a new buffer. */
static int read_pin_file(const char *what, const char *file, char **out, size_t *out_len)
{
	char buf[PIN_FILE_MAX + 2];
	size_t len = 0;
	ssize_t n = 0;
	char *nl = NULL;
	int fd = -1, ret = -1;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_error("%s PIN file %s: %s", what, file, strerror(errno));
		return -1;
	}
	/* Read only until the first newline (or the cap): no stdio buffer holds the PIN. */
	while (len < sizeof(buf) && !memchr(buf, '\n', len)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("%s PIN file %s: %s", what, file, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	nl = memchr(buf, '\n', len);
	if (nl)
		len = (size_t)(nl - buf);
	else if (len > PIN_FILE_MAX)
		len = PIN_FILE_MAX + 1;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0 || len > PIN_FILE_MAX) {
		log_error("%s PIN file %s: the first line must hold a PIN of 1 to %d bytes", what,
			  file, PIN_FILE_MAX);
		goto out;
	}
	*out = mem_dup(buf, len);
	if (!*out) {
		log_error("out of memory");
		goto out;
	}
	*out_len = len;
	ret = 0;
out:
	wipe(buf, sizeof(buf));
	close(fd);
	return ret;
}

/* A PIN from --*-pin-file when given, else from the environment variable env. */
static int get_pin(const char *what, const char *env, const char *file, char **out, size_t *out_len)
{
	const char *v = NULL;

	*out = NULL;
	*out_len = 0;
	if (file)
		return read_pin_file(what, file, out, out_len);
	v = getenv(env);
	if (!v || !*v) {
		log_error("--init-token needs the %s PIN: set %s or use --%s-pin-file", what, env,
			  strcmp(what, "SO") == 0 ? "so" : "user");
		return -1;
	}
	*out_len = strlen(v);
	*out = mem_dup(v, *out_len);
	if (!*out) {
		log_error("out of memory");
		return -1;
	}
	return 0;
}

static const char *rv_name(CK_RV rv)
{
	static const struct {
		CK_RV rv;
		const char *name;
	} names[] = {
		{ CKR_OK, "CKR_OK" },
		{ CKR_HOST_MEMORY, "CKR_HOST_MEMORY" },
		{ CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR" },
		{ CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD" },
		{ CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR" },
		{ CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY" },
		{ CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED" },
		{ CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT" },
		{ CKR_PIN_INVALID, "CKR_PIN_INVALID" },
		{ CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE" },
		{ CKR_PIN_LOCKED, "CKR_PIN_LOCKED" },
		{ CKR_SESSION_EXISTS, "CKR_SESSION_EXISTS" },
		{ CKR_SESSION_READ_ONLY_EXISTS, "CKR_SESSION_READ_ONLY_EXISTS" },
		{ CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED" },
		{ CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED" },
		{ CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN" },
		{ CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED" },
		{ CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].rv == rv)
			return names[i].name;
	return "CK_RV";
}

/* Log which step failed; returns -1 unless rv is CKR_OK. */
static int step(const char *what, CK_RV rv)
{
	if (rv == CKR_OK)
		return 0;
	log_error("--init-token: %s failed: %s (0x%08lx)", what, rv_name(rv), (unsigned long)rv);
	return -1;
}

static int init_token(const struct srv_config *cfg, const char *label, const char *so_pin_file,
		      const char *user_pin_file)
{
	struct ta *ta = NULL;
	struct ta_client *tc = NULL;
	CK_SESSION_HANDLE sh = CK_INVALID_HANDLE;
	CK_UTF8CHAR lab[LABEL_LEN];
	CK_TOKEN_INFO info;
	char *so = NULL, *user = NULL;
	size_t so_len = 0, user_len = 0;
	int logged_in = 0;
	int ret = 1;

	if (strlen(label) > LABEL_LEN) {
		log_error("--label: at most %d bytes, not %zu", LABEL_LEN, strlen(label));
		goto out;
	}
	memset(lab, ' ', sizeof(lab));
	memcpy(lab, label, strlen(label));
	if (get_pin("SO", "TEEHSM_SO_PIN", so_pin_file, &so, &so_len) ||
	    get_pin("user", "TEEHSM_USER_PIN", user_pin_file, &user, &user_len))
		goto out;

	if (open_token(cfg, &ta) != CKR_OK)
		goto out;
	if (step("ta_client_new", ta_client_new(ta, &tc)) ||
	    step("C_GetTokenInfo", ta_C_GetTokenInfo(tc, TA_SLOT_ID, &info)))
		goto out;
	/* C_InitToken destroys everything: refuse PINs the token would reject before that, not
	 * after, so a bad user PIN never leaves a wiped token without one. */
	if (so_len < info.ulMinPinLen || so_len > info.ulMaxPinLen || user_len < info.ulMinPinLen ||
	    user_len > info.ulMaxPinLen) {
		log_error("--init-token: PINs must be %lu to %lu bytes long; nothing was changed",
			  (unsigned long)info.ulMinPinLen, (unsigned long)info.ulMaxPinLen);
		goto out;
	}
	if (step("C_InitToken",
		 ta_C_InitToken(tc, TA_SLOT_ID, (CK_UTF8CHAR_PTR)so, (CK_ULONG)so_len, lab)) ||
	    step("C_OpenSession",
		 ta_C_OpenSession(tc, TA_SLOT_ID, CKF_SERIAL_SESSION | CKF_RW_SESSION, &sh)) ||
	    step("C_Login (SO)", ta_C_Login(tc, sh, CKU_SO, (CK_UTF8CHAR_PTR)so, (CK_ULONG)so_len)))
		goto out;
	logged_in = 1;
	if (step("C_InitPIN", ta_C_InitPIN(tc, sh, (CK_UTF8CHAR_PTR)user, (CK_ULONG)user_len)))
		goto out;
	logged_in = 0;
	if (step("C_Logout", ta_C_Logout(tc, sh)))
		goto out;
	if (step("C_CloseSession", ta_C_CloseSession(tc, sh)))
		goto out;
	sh = CK_INVALID_HANDLE;
	log_info("token '%s' initialised in %s", label, cfg->store);
	ret = 0;
out:
	if (logged_in)
		ta_C_Logout(tc, sh);
	if (tc && sh != CK_INVALID_HANDLE)
		ta_C_CloseSession(tc, sh);
	ta_client_free(tc);
	ta_close(ta);
	wipe_free(so, so_len);
	wipe_free(user, user_len);
	return ret;
}

/* --- Command line -------------------------------------------------------------------------- */

enum {
	OPT_PORT_FILE = 256,
	OPT_INIT_TOKEN,
	OPT_LABEL,
	OPT_SO_PIN_FILE,
	OPT_USER_PIN_FILE,
	OPT_CHECK_CONFIG,
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "port-file", required_argument, NULL, OPT_PORT_FILE },
		{ "init-token", no_argument, NULL, OPT_INIT_TOKEN },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "so-pin-file", required_argument, NULL, OPT_SO_PIN_FILE },
		{ "user-pin-file", required_argument, NULL, OPT_USER_PIN_FILE },
		{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_file = NULL, *port_file = NULL, *label = NULL;
	const char *so_pin_file = NULL, *user_pin_file = NULL;
	struct srv_config *cfg = NULL;
	char err[1024];
	int init = 0, check = 0, opt, ret = 1;

	log_set_ident("teehsmd");
	while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf_file = optarg;
			break;
		case OPT_PORT_FILE:
			port_file = optarg;
			break;
		case OPT_INIT_TOKEN:
			init = 1;
			break;
		case OPT_LABEL:
			label = optarg;
			break;
		case OPT_SO_PIN_FILE:
			so_pin_file = optarg;
			break;
		case OPT_USER_PIN_FILE:
			user_pin_file = optarg;
			break;
		case OPT_CHECK_CONFIG:
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("teehsmd (teehsm) %s\n", TEEHSM_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || !conf_file || (init && !label) ||
	    (!init && (label || so_pin_file || user_pin_file)) || (init && port_file) ||
	    (check && (init || port_file))) {
		if (optind != argc)
			fprintf(stderr, "teehsmd: unexpected argument '%s'\n", argv[optind]);
		else if (!conf_file)
			fprintf(stderr, "teehsmd: -c FILE is required\n");
		else if (init && !label)
			fprintf(stderr, "teehsmd: --init-token needs --label LABEL\n");
		else if (check)
			fprintf(stderr, "teehsmd: --check-config goes alone with -c FILE\n");
		else
			fprintf(stderr, "teehsmd: --label and --*-pin-file go with --init-token, "
					"--port-file without it\n");
		usage(stderr);
		return EXIT_USAGE;
	}

	if (srvconf_load(conf_file, &cfg, err, sizeof(err))) {
		log_error("%s", err);
		goto out;
	}
	log_set_level(cfg->log_level);
	if (check)
		ret = check_config(cfg);
	else if (init)
		ret = init_token(cfg, label, so_pin_file, user_pin_file);
	else
		ret = serve(cfg, port_file);
out:
	srvconf_free(cfg);
	libevent_global_shutdown();
	OPENSSL_cleanup();
	return ret;
}
