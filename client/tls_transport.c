/*
 * The TLS transport: one TCP connection to a teehsmd, TLS 1.3, the server verified against the
 * configured CA bundle and name, our certificate offered when configured. The socket is
 * non-blocking and every wait is a poll() against a deadline, so a silent or slow server costs
 * at most connect_timeout_ms or call_timeout_ms, never a hang.
 *
 * Threads (transport.h): one reader and several senders may use the connection at once. Every
 * SSL call runs under `io` and no lock is held while waiting for the socket; `wr` keeps one
 * frame's bytes together when several threads send.
 *
 * This runs inside someone else's program: it never touches the process's signal handlers
 * (SIGPIPE is blocked in the calling thread around socket writes instead), never prompts for a
 * passphrase, and leaves the thread's OpenSSL error queue empty.
 */
#include <errno.h>
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

#include "common/log.h"
#include "cli_sockio.h"
#include "cli_tls.h"

/* How long a sender that OpenSSL asks to wait for input sleeps before trying again: the reader
 * may be the one to consume that input. */
#define TLS_RETRY_SLICE_MS 20

struct tls_transport {
	struct cli_transport base;
	char *host, *port, *server_name;
	int name_is_ip;
	int has_cert; /* we offer a client certificate */
	unsigned long connect_timeout_ms;
	SSL_CTX *ctx;
	pthread_mutex_t io; /* every SSL call on ssl, and the fields below */
	pthread_mutex_t wr; /* one frame at a time */
	SSL *ssl;
	int fd;
	pid_t pid;	 /* the process that made the connection */
	int clean;	 /* the session may still send close_notify */
	int fresh;	 /* connected, no answer read yet */
	int interrupted; /* (atomic) interrupt() was called on this connection */
	char peer[320];	 /* "host:port" for messages */
};

/* ---- small helpers ---- */

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
	__atomic_store_n(&t->interrupted, 0, __ATOMIC_RELAXED);
	ERR_clear_error();
}

/* What to add to an error seen before the first answer: the usual cause is the server
 * refusing this client's certificate, which TLS 1.3 only reports after the handshake. */
static const char *first_call_hint(const struct tls_transport *t)
{
	if (!t->fresh)
		return "";
	if (!t->has_cert)
		return " (this client offers no certificate: set cert and key)";
	return " (did the server refuse this client's certificate? see its log)";
}

/* After an SSL call on t returned r (not success), with io held: the poll events to wait for
 * before trying again, or 0 when the operation failed (the reason logged, *io set). */
static short tls_want(struct tls_transport *t, int r, const char *what, enum cli_io *io)
{
	int saved_errno = errno;
	int e = SSL_get_error(t->ssl, r);
	char reason[256];
	long verify;

	if (e == SSL_ERROR_WANT_READ)
		return POLLIN;
	if (e == SSL_ERROR_WANT_WRITE)
		return POLLOUT;
	t->clean = 0;
	*io = e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ? CLI_IO_CLOSED : CLI_IO_ERROR;
	if (__atomic_load_n(&t->interrupted, __ATOMIC_RELAXED)) {
		/* We shut the socket ourselves (cli_rpc gave up on the connection). */
		*io = CLI_IO_CLOSED;
	} else if (e == SSL_ERROR_ZERO_RETURN) {
		log_error("%s: %s: the server closed the connection%s", t->peer, what,
			  first_call_hint(t));
	} else if (e == SSL_ERROR_SYSCALL) {
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
	} else {
		verify = SSL_get_verify_result(t->ssl);
		if (verify == X509_V_ERR_HOSTNAME_MISMATCH ||
		    verify == X509_V_ERR_IP_ADDRESS_MISMATCH)
			log_error("%s: %s: the server certificate does not carry the name '%s' "
				  "(server_name)",
				  t->peer, what, t->server_name);
		else if (verify != X509_V_OK)
			log_error("%s: %s: the server certificate is not accepted: %s", t->peer,
				  what, X509_verify_cert_error_string(verify));
		else
			log_error("%s: %s: %s%s", t->peer, what,
				  ossl_reason(reason, sizeof(reason)), first_call_hint(t));
	}
	ERR_clear_error();
	return 0;
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
	r = getaddrinfo(t->host, t->port, &hints, &res);
	if (r) {
		log_error("cannot resolve '%s' (server): %s", t->host,
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
			r = cli_wait_fd(fd, POLLOUT, deadline);
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
				  t->peer, t->connect_timeout_ms);
		else
			log_error("cannot connect to teehsmd at %s: %s", t->peer,
				  strerror(err ? err : ECONNREFUSED));
		return -1;
	}
	/* Requests and answers are small: do not let Nagle hold them back. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	t->fd = fd;
	return 0;
}

/* With the connection to ourselves (connect holds no lock: nobody else uses it yet). */
static int tls_handshake(struct tls_transport *t, int64_t deadline)
{
	enum cli_io io = CLI_IO_ERROR;
	char reason[256];
	short ev;
	int r;

	ERR_clear_error();
	t->ssl = SSL_new(t->ctx);
	if (!t->ssl || SSL_set_fd(t->ssl, t->fd) != 1)
		goto fail;
	if (t->name_is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), t->server_name) != 1)
			goto fail;
	} else {
		if (SSL_set_tlsext_host_name(t->ssl, t->server_name) != 1 ||
		    SSL_set1_host(t->ssl, t->server_name) != 1)
			goto fail;
	}
	SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	for (;;) {
		ERR_clear_error();
		r = SSL_connect(t->ssl);
		if (r == 1)
			return 0;
		ev = tls_want(t, r, "TLS handshake", &io);
		if (!ev)
			return -1;
		r = cli_wait_fd(t->fd, ev, deadline);
		if (r == 0)
			log_error("%s: TLS handshake: no answer from the server within %lu ms",
				  t->peer, t->connect_timeout_ms);
		else if (r < 0)
			log_error("%s: TLS handshake: poll: %s", t->peer, strerror(errno));
		if (r != 1)
			return -1;
	}
fail:
	log_error("%s: cannot set up TLS: %s", t->peer, ossl_reason(reason, sizeof(reason)));
	return -1;
}

/* The server may have reset the connection right after the handshake, having sent an alert
 * first (TLS 1.3 reports a refused client certificate that way). If that alert is still
 * readable, report it instead of the reset: 1 when it was (and was logged). io held. */
static int alert_pending(struct tls_transport *t, enum cli_io *io)
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
	tls_want(t, r, "sending a request", io);
	return 1;
}

/* Move len bytes to (writing) or from the connection before deadline, one SSL call at a time
 * under io, waiting for the socket without it. */
static enum cli_io tls_move(struct tls_transport *t, int writing, uint8_t *p, size_t len,
			    int64_t deadline)
{
	const char *what = writing ? "sending a request" : "reading an answer";
	enum cli_io io = CLI_IO_ERROR;
	int64_t until;
	short ev;
	int r, w;

	while (len) {
		size_t n = 0;

		pthread_mutex_lock(&t->io);
		if (!t->ssl) {
			pthread_mutex_unlock(&t->io);
			return CLI_IO_CLOSED;
		}
		ERR_clear_error();
		errno = 0;
		r = writing ? SSL_write_ex(t->ssl, p, len, &n) : SSL_read_ex(t->ssl, p, len, &n);
		if (r == 1) {
			if (!writing)
				t->fresh = 0;
			pthread_mutex_unlock(&t->io);
			p += n;
			len -= n;
			continue;
		}
		if (writing && t->fresh && SSL_get_error(t->ssl, r) == SSL_ERROR_SYSCALL &&
		    alert_pending(t, &io)) {
			pthread_mutex_unlock(&t->io);
			return io;
		}
		ev = tls_want(t, r, what, &io);
		pthread_mutex_unlock(&t->io);
		if (!ev)
			return io;
		/* A sender told to wait for input, or a reader told to wait for output, waits
		 * in slices: the other side of the connection may be the one to move. */
		until = deadline;
		if ((ev == POLLIN) == writing && until > cli_now_ms() + TLS_RETRY_SLICE_MS)
			until = cli_now_ms() + TLS_RETRY_SLICE_MS;
		w = cli_wait_fd(t->fd, ev, until);
		if (w < 0) {
			log_error("%s: %s: poll: %s", t->peer, what, strerror(errno));
			return CLI_IO_ERROR;
		}
		if (w == 0 && cli_now_ms() >= deadline)
			return CLI_IO_TIMEOUT;
	}
	return CLI_IO_OK;
}

/* ---- the vtable ---- */

static void tls_disconnect(struct cli_transport *base)
{
	struct tls_transport *t = (struct tls_transport *)base;
	struct sigpipe_guard g;

	pthread_mutex_lock(&t->io);
	/* A polite close_notify, once and without waiting, and never from a forked child: its
	 * parent may still be using this very session. */
	if (t->ssl && t->clean && t->pid == getpid() &&
	    !__atomic_load_n(&t->interrupted, __ATOMIC_RELAXED)) {
		sigpipe_block(&g);
		ERR_clear_error();
		SSL_shutdown(t->ssl);
		sigpipe_restore(&g);
	}
	tls_drop(t);
	pthread_mutex_unlock(&t->io);
}

static CK_RV tls_connect(struct cli_transport *base)
{
	struct tls_transport *t = (struct tls_transport *)base;
	int64_t deadline = cli_now_ms() + (int64_t)t->connect_timeout_ms;
	struct sigpipe_guard g;
	CK_RV rv = CKR_DEVICE_ERROR;

	tls_disconnect(base);
	pthread_mutex_lock(&t->io);
	sigpipe_block(&g);
	if (tcp_connect(t, deadline) || tls_handshake(t, deadline)) {
		tls_drop(t);
		goto out;
	}
	t->pid = getpid();
	t->clean = 1;
	t->fresh = 1;
	log_debug("%s: connected (%s, %s)", t->peer, SSL_get_version(t->ssl),
		  SSL_get_cipher_name(t->ssl));
	rv = CKR_OK;
out:
	sigpipe_restore(&g);
	pthread_mutex_unlock(&t->io);
	return rv;
}

static enum cli_io tls_send(struct cli_transport *base, const uint8_t *frame, size_t len,
			    int64_t deadline)
{
	struct tls_transport *t = (struct tls_transport *)base;
	struct sigpipe_guard g;
	enum cli_io io;

	pthread_mutex_lock(&t->wr);
	sigpipe_block(&g);
	io = tls_move(t, 1, (uint8_t *)frame, len, deadline);
	sigpipe_restore(&g);
	pthread_mutex_unlock(&t->wr);
	if (io == CLI_IO_TIMEOUT)
		log_error("%s: could not send a request within %lu ms", t->peer,
			  t->base.call_timeout_ms);
	return io;
}

/* cli_read_cb on a tls_transport. */
static enum cli_io tls_read_cb(void *arg, uint8_t *p, size_t len, int64_t deadline)
{
	return tls_move(arg, 0, p, len, deadline);
}

static enum cli_io tls_recv(struct cli_transport *base, size_t max_frame, int64_t deadline,
			    uint8_t **payload, size_t *len)
{
	struct tls_transport *t = (struct tls_transport *)base;
	struct sigpipe_guard g;
	enum cli_io io = CLI_IO_ERROR;

	sigpipe_block(&g); /* reading may write (a TLS alert or key update) */
	io = cli_read_frame(tls_read_cb, t, t->peer, max_frame, deadline, payload, len);
	sigpipe_restore(&g);
	return io;
}

static int tls_idle_check(struct cli_transport *base)
{
	struct tls_transport *t = (struct tls_transport *)base;
	struct pollfd p = { .fd = t->fd, .events = POLLIN, .revents = 0 };
	struct sigpipe_guard g;
	uint8_t b = 0;
	size_t n = 0;
	int r, e, lost = 0;

	if (!t->ssl || t->pid != getpid())
		return -1;
	if (poll(&p, 1, 0) != 1)
		return 0;
	/* Something came without a request: a TLS record we have to process (a key update),
	 * the server's close_notify, or the end of the connection. */
	pthread_mutex_lock(&t->io);
	sigpipe_block(&g);
	ERR_clear_error();
	r = SSL_read_ex(t->ssl, &b, 1, &n);
	e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, r);
	if (r == 1) {
		log_error("%s: the server sent data nobody asked for", t->peer);
		lost = 1;
	} else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		t->clean = 0;
		lost = 1;
	}
	ERR_clear_error();
	sigpipe_restore(&g);
	pthread_mutex_unlock(&t->io);
	return lost ? -1 : 0;
}

static void tls_interrupt(struct cli_transport *base)
{
	struct tls_transport *t = (struct tls_transport *)base;

	/* No lock: the caller may hold none of ours, and the fd stays open (and ours) until
	 * disconnect, which nobody runs while the connection is in use. */
	__atomic_store_n(&t->interrupted, 1, __ATOMIC_RELAXED);
	if (t->fd >= 0)
		shutdown(t->fd, SHUT_RDWR);
}

static void tls_free(struct cli_transport *base)
{
	struct tls_transport *t = (struct tls_transport *)base;

	if (!t)
		return;
	tls_disconnect(base);
	SSL_CTX_free(t->ctx);
	pthread_mutex_destroy(&t->io);
	pthread_mutex_destroy(&t->wr);
	free(t->host);
	free(t->port);
	free(t->server_name);
	free(t);
}

static const struct cli_transport_ops tls_ops = {
	.connect = tls_connect,
	.send = tls_send,
	.recv = tls_recv,
	.idle_check = tls_idle_check,
	.interrupt = tls_interrupt,
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

CK_RV cli_tls_ctx_new(const struct cli_conf *conf, SSL_CTX **out)
{
	SSL_CTX *ctx = NULL;
	char reason[256];
	CK_RV rv = CKR_GENERAL_ERROR;

	*out = NULL;
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
		log_error("cannot set up TLS: %s", ossl_reason(reason, sizeof(reason)));
		goto out;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase_cb);
	if (load_credentials(ctx, conf))
		goto out;
	*out = ctx;
	ctx = NULL; /* the caller owns it now */
	rv = CKR_OK;
out:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return rv;
}

CK_RV cli_tls_transport_new(const struct cli_conf *conf, size_t i, SSL_CTX *ctx,
			    struct cli_transport **out)
{
	const struct cli_server_conf *s = &conf->servers[i];
	struct tls_transport *t = NULL;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return CKR_HOST_MEMORY;
	if (pthread_mutex_init(&t->io, NULL)) {
		free(t);
		return CKR_HOST_MEMORY;
	}
	if (pthread_mutex_init(&t->wr, NULL)) {
		pthread_mutex_destroy(&t->io);
		free(t);
		return CKR_HOST_MEMORY;
	}
	t->base.ops = &tls_ops;
	t->base.call_timeout_ms = conf->call_timeout_ms;
	t->base.name = t->peer;
	t->fd = -1;
	t->connect_timeout_ms = conf->connect_timeout_ms;
	t->has_cert = conf->cert != NULL;
	t->name_is_ip = s->name_is_ip;
	t->host = strdup(s->host);
	t->port = strdup(s->port);
	t->server_name = strdup(s->server_name);
	if (SSL_CTX_up_ref(ctx) == 1)
		t->ctx = ctx;
	if (!t->host || !t->port || !t->server_name || !t->ctx) {
		tls_free(&t->base);
		return CKR_HOST_MEMORY;
	}
	snprintf(t->peer, sizeof(t->peer), strchr(t->host, ':') ? "[%s]:%s" : "%s:%s", t->host,
		 t->port);
	*out = &t->base;
	return CKR_OK;
}
