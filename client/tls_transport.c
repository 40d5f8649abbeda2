/*
 * The TLS transport: one TCP connection to teehsmd, TLS 1.3, the server verified against the
 * configured CA bundle and name, our certificate offered when configured. The socket is
 * non-blocking and every wait is a poll() against a deadline, so a silent or slow server costs
 * at most connect_timeout_ms or call_timeout_ms, never a hang.
 *
 * This runs inside someone else's program: it never touches the process's signal handlers
 * (SIGPIPE is blocked in the calling thread around socket writes instead), never prompts for a
 * passphrase, and leaves the thread's OpenSSL error queue empty.
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/log.h"
#include "proto/codec.h"
#include "cli_tls.h"

struct tls_transport {
	struct cli_transport base;
	struct cli_conf *conf;
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	pid_t pid;	/* the process that made the connection */
	int clean;	/* the session may still send close_notify */
	int fresh;	/* connected, no answer read yet */
	char peer[320]; /* "host:port" for messages */
};

/* ---- small helpers ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events or the deadline passes: 1 ready (or in error: the next I/O
 * call says which), 0 timed out, -1 poll failed. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* The first error OpenSSL queued (the root cause, e.g. the system error under a failed file
 * load) as text; empties the queue. */
static const char *ossl_reason(char *buf, size_t n)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (!e)
		snprintf(buf, n, "unknown error");
	else if (r)
		snprintf(buf, n, "%s", r);
	else if (ERR_SYSTEM_ERROR(e))
		snprintf(buf, n, "%s", strerror(ERR_GET_REASON(e)));
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

/* SIGPIPE: a write to a socket the server closed must fail with EPIPE, not kill the host
 * program. Block the signal in this thread for the duration and swallow one we caused. */
struct sigpipe_guard {
	sigset_t old;
	int was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
	sigemptyset(&pending);
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE) == 1;
}

static void sigpipe_restore(struct sigpipe_guard *g)
{
	sigset_t set, pending;
	struct timespec zero = { 0, 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigemptyset(&pending);
	sigpending(&pending);
	if (!g->was_pending && sigismember(&pending, SIGPIPE) == 1)
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* Never prompt on the terminal of the host program for a key passphrase. */
static int no_passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* ---- the connection ---- */

/* Forget the connection without a word to the server: after an error, or in a forked child
 * whose parent still uses the same TLS session (only our copy of the fd is closed). */
static void tls_drop(struct tls_transport *t)
{
	SSL_free(t->ssl);
	t->ssl = NULL;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->clean = 0;
	t->fresh = 0;
	ERR_clear_error();
}

/* What to add to an error seen before the first answer: the usual cause is the server
 * refusing this client's certificate, which TLS 1.3 only reports after the handshake. */
static const char *first_call_hint(const struct tls_transport *t)
{
	if (!t->fresh)
		return "";
	if (!t->conf->cert)
		return " (this client offers no certificate: set cert and key)";
	return " (did the server refuse this client's certificate? see its log)";
}

/* After an SSL call on t returned r (not success): wait for the socket as OpenSSL asks and
 * return 0 to retry, or log why the operation failed and return -1. */
static int tls_wait(struct tls_transport *t, int r, int64_t deadline, const char *what,
		    unsigned long timeout_ms)
{
	int saved_errno = errno;
	int e = SSL_get_error(t->ssl, r);
	char reason[256];
	short ev = 0;
	long verify;
	int w;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		ev = POLLIN;
		break;
	case SSL_ERROR_WANT_WRITE:
		ev = POLLOUT;
		break;
	case SSL_ERROR_ZERO_RETURN:
		log_error("%s: %s: the server closed the connection%s", t->peer, what,
			  first_call_hint(t));
		t->clean = 0;
		ERR_clear_error();
		return -1;
	case SSL_ERROR_SYSCALL:
		t->clean = 0;
		if (ERR_peek_error())
			log_error("%s: %s: %s%s", t->peer, what,
				  ossl_reason(reason, sizeof(reason)), first_call_hint(t));
		else if (saved_errno == EPIPE || saved_errno == ECONNRESET)
			log_error("%s: %s: the server closed the connection (%s)%s", t->peer, what,
				  strerror(saved_errno), first_call_hint(t));
		else if (saved_errno)
			log_error("%s: %s: %s%s", t->peer, what, strerror(saved_errno),
				  first_call_hint(t));
		else
			log_error("%s: %s: the server closed the connection%s", t->peer, what,
				  first_call_hint(t));
		ERR_clear_error();
		return -1;
	default:
		t->clean = 0;
		verify = SSL_get_verify_result(t->ssl);
		if (verify == X509_V_ERR_HOSTNAME_MISMATCH ||
		    verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
			log_error("%s: %s: the server certificate does not carry the name '%s' "
				  "(server_name)",
				  t->peer, what, t->conf->server_name);
			ERR_clear_error();
		} else if (verify != X509_V_OK) {
			log_error("%s: %s: the server certificate is not accepted: %s", t->peer,
				  what, X509_verify_cert_error_string(verify));
			ERR_clear_error();
		} else {
			log_error("%s: %s: %s%s", t->peer, what,
				  ossl_reason(reason, sizeof(reason)), first_call_hint(t));
		}
		return -1;
	}
	w = wait_fd(t->fd, ev, deadline);
	if (w == 1)
		return 0;
	t->clean = 0;
	if (w == 0)
		log_error("%s: %s: no answer from the server within %lu ms", t->peer, what,
			  timeout_ms);
	else
		log_error("%s: %s: poll: %s", t->peer, what, strerror(errno));
	return -1;
}

static int tcp_connect(struct tls_transport *t, int64_t deadline)
{
	struct addrinfo hints, *res = NULL, *ai = NULL;
	int fd = -1, err = 0, timed_out = 0, one = 1, r;
	socklen_t len;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	/* XXX: getaddrinfo has no timeout; a hanging resolver is not bounded by
	 * connect_timeout_ms. Use an address in `server` where that matters. */
	r = getaddrinfo(t->conf->host, t->conf->port, &hints, &res);
	if (r) {
		log_error("cannot resolve '%s' (server): %s", t->conf->host,
			  r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -1;
	}
	for (ai = res; ai && !timed_out; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		if (err == EINPROGRESS || err == EINTR) {
			r = wait_fd(fd, POLLOUT, deadline);
			len = sizeof(err);
			if (r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
			    err == 0)
				break;
			if (r == 0)
				timed_out = 1;
			else if (r < 0)
				err = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (timed_out)
			log_error("cannot connect to teehsmd at %s: no answer within %lu ms",
				  t->peer, t->conf->connect_timeout_ms);
		else
			log_error("cannot connect to teehsmd at %s: %s", t->peer,
				  strerror(err ? err : ECONNREFUSED));
		return -1;
	}
	/* Requests and answers are small and synchronous: do not let Nagle hold them back. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	t->fd = fd;
	return 0;
}

static int tls_handshake(struct tls_transport *t, int64_t deadline)
{
	const struct cli_conf *c = t->conf;
	char reason[256];
	int r;

	ERR_clear_error();
	t->ssl = SSL_new(t->ctx);
	if (!t->ssl || SSL_set_fd(t->ssl, t->fd) != 1)
		goto fail;
	if (c->name_is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), c->server_name) != 1)
			goto fail;
	} else {
		if (SSL_set_tlsext_host_name(t->ssl, c->server_name) != 1 ||
		    SSL_set1_host(t->ssl, c->server_name) != 1)
			goto fail;
	}
	SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	for (;;) {
		ERR_clear_error();
		r = SSL_connect(t->ssl);
		if (r == 1)
			return 0;
		if (tls_wait(t, r, deadline, "TLS handshake", c->connect_timeout_ms))
			return -1;
	}
fail:
	log_error("%s: cannot set up TLS: %s", t->peer, ossl_reason(reason, sizeof(reason)));
	return -1;
}

/* The server may have reset the connection right after the handshake, having sent an alert
 * first (TLS 1.3 reports a refused client certificate that way). If that alert is still
 * readable, report it instead of the reset: 1 when it was (and was logged). */
static int alert_pending(struct tls_transport *t)
{
	uint8_t b = 0;
	size_t n = 0;
	int r;

	ERR_clear_error();
	r = SSL_read_ex(t->ssl, &b, 1, &n);
	/* Only an alert the server sent (reasons from SSL_AD_REASON_OFFSET up) says more. */
	if (r == 1 || SSL_get_error(t->ssl, r) != SSL_ERROR_SSL ||
	    ERR_GET_LIB(ERR_peek_error()) != ERR_LIB_SSL ||
	    ERR_GET_REASON(ERR_peek_error()) < SSL_AD_REASON_OFFSET) {
		ERR_clear_error();
		return 0;
	}
	tls_wait(t, r, 0, "sending a request", 0);
	return 1;
}

static int tls_write_all(struct tls_transport *t, const uint8_t *p, size_t len, int64_t deadline)
{
	while (len) {
		size_t n = 0;
		int r;

		ERR_clear_error();
		r = SSL_write_ex(t->ssl, p, len, &n);
		if (r == 1) {
			p += n;
			len -= n;
			continue;
		}
		if (t->fresh && SSL_get_error(t->ssl, r) == SSL_ERROR_SYSCALL && alert_pending(t))
			return -1;
		if (tls_wait(t, r, deadline, "sending a request", t->conf->call_timeout_ms))
			return -1;
	}
	return 0;
}

static int tls_read_exact(struct tls_transport *t, uint8_t *p, size_t len, int64_t deadline)
{
	while (len) {
		size_t n = 0;
		int r;

		ERR_clear_error();
		r = SSL_read_ex(t->ssl, p, len, &n);
		if (r == 1) {
			p += n;
			len -= n;
		} else if (tls_wait(t, r, deadline, "waiting for the answer",
				    t->conf->call_timeout_ms)) {
			return -1;
		}
	}
	return 0;
}

/* ---- the vtable ---- */

static void tls_disconnect(struct cli_transport *base)
{
	struct tls_transport *t = (struct tls_transport *)base;
	struct sigpipe_guard g;

	/* A polite close_notify, once and without waiting, and never from a forked child: its
	 * parent may still be using this very session. */
	if (t->ssl && t->clean && t->pid == getpid()) {
		sigpipe_block(&g);
		ERR_clear_error();
		SSL_shutdown(t->ssl);
		sigpipe_restore(&g);
	}
	tls_drop(t);
}

static CK_RV tls_connect(struct cli_transport *base)
{
	struct tls_transport *t = (struct tls_transport *)base;
	int64_t deadline = now_ms() + (int64_t)t->conf->connect_timeout_ms;
	struct sigpipe_guard g;
	CK_RV rv = CKR_DEVICE_ERROR;

	tls_disconnect(base);
	sigpipe_block(&g);
	if (tcp_connect(t, deadline) || tls_handshake(t, deadline)) {
		tls_drop(t);
		goto out;
	}
	t->pid = getpid();
	t->clean = 1;
	t->fresh = 1;
	log_debug("connected to %s (%s, %s)", t->peer, SSL_get_version(t->ssl),
		  SSL_get_cipher_name(t->ssl));
	rv = CKR_OK;
out:
	sigpipe_restore(&g);
	return rv;
}

static CK_RV tls_call(struct cli_transport *base, const uint8_t *req, size_t req_len,
		      size_t max_frame, uint8_t **resp, size_t *resp_len)
{
	struct tls_transport *t = (struct tls_transport *)base;
	int64_t deadline = now_ms() + (int64_t)t->conf->call_timeout_ms;
	uint8_t hdr[CODEC_FRAME_HDR];
	uint8_t *payload = NULL;
	size_t len = 0;
	struct sigpipe_guard g;
	CK_RV rv = CKR_DEVICE_ERROR;

	*resp = NULL;
	*resp_len = 0;
	if (!t->ssl) {
		log_error("%s: not connected", t->peer);
		return CKR_DEVICE_ERROR;
	}
	sigpipe_block(&g);
	if (tls_write_all(t, req, req_len, deadline) ||
	    tls_read_exact(t, hdr, sizeof(hdr), deadline))
		goto out;
	/* The announced length is checked before anything is allocated for it. */
	if (codec_frame_peek(hdr, sizeof(hdr), max_frame, &len) == CODEC_FRAME_TOO_LARGE) {
		log_error("%s: the server announced an answer larger than %zu bytes", t->peer,
			  max_frame);
		goto out;
	}
	payload = malloc(len ? len : 1);
	if (!payload) {
		log_error("out of memory for a %zu-byte answer", len);
		goto out;
	}
	if (tls_read_exact(t, payload, len, deadline))
		goto out;
	*resp = payload;
	*resp_len = len;
	payload = NULL; /* the caller owns it now */
	t->fresh = 0;
	rv = CKR_OK;
out:
	if (rv != CKR_OK)
		tls_drop(t);
	sigpipe_restore(&g);
	wipe_free(payload, len);
	return rv;
}

static void tls_free(struct cli_transport *base)
{
	struct tls_transport *t = (struct tls_transport *)base;

	if (!t)
		return;
	tls_disconnect(base);
	SSL_CTX_free(t->ctx);
	cli_conf_free(t->conf);
	free(t);
}

static const struct cli_transport_ops tls_ops = {
	.connect = tls_connect,
	.call = tls_call,
	.disconnect = tls_disconnect,
	.free = tls_free,
};

static int load_credentials(SSL_CTX *ctx, const struct cli_conf *c)
{
	char reason[256];

	if (SSL_CTX_load_verify_locations(ctx, c->ca, NULL) != 1) {
		log_error("%s: cannot load the CA bundle (ca): %s", c->ca,
			  ossl_reason(reason, sizeof(reason)));
		return -1;
	}
	if (!c->cert)
		return 0;
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
		log_error("%s: cannot load the client certificate (cert): %s", c->cert,
			  ossl_reason(reason, sizeof(reason)));
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1) {
		log_error("%s: cannot load the client key (key, PEM without passphrase): %s",
			  c->key, ossl_reason(reason, sizeof(reason)));
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		log_error("%s: the key does not match the certificate %s: %s", c->key, c->cert,
			  ossl_reason(reason, sizeof(reason)));
		return -1;
	}
	return 0;
}

CK_RV cli_tls_transport_new(struct cli_conf *conf, struct cli_transport **out)
{
	struct tls_transport *t = NULL;
	char reason[256];
	CK_RV rv = CKR_GENERAL_ERROR;

	*out = NULL;
	ERR_clear_error();
	t = calloc(1, sizeof(*t));
	if (!t) {
		log_error("out of memory");
		goto out;
	}
	t->base.ops = &tls_ops;
	t->fd = -1;
	t->conf = conf;
	conf = NULL; /* t owns it now */
	snprintf(t->peer, sizeof(t->peer), strchr(t->conf->host, ':') ? "[%s]:%s" : "%s:%s",
		 t->conf->host, t->conf->port);
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (!t->ctx || SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION) != 1) {
		log_error("cannot set up TLS: %s", ossl_reason(reason, sizeof(reason)));
		goto out;
	}
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_default_passwd_cb(t->ctx, no_passphrase_cb);
	if (load_credentials(t->ctx, t->conf))
		goto out;
	*out = &t->base;
	t = NULL; /* the caller owns it now */
	rv = CKR_OK;
out:
	ERR_clear_error();
	cli_conf_free(conf);
	tls_free(t ? &t->base : NULL);
	return rv;
}
