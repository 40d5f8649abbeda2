/*
 * The Unix socket transport: one AF_UNIX stream connection to a teehsmd on this machine. There
 * is no TLS: the kernel tells the server who we are (SO_PEERCRED), and the socket file's
 * permissions decide who may connect. The bytes are those the TLS transport carries inside TLS.
 * The socket is non-blocking and every wait is a poll() against a deadline, as in
 * tls_transport.c.
 *
 * Threads (transport.h): one reader and several senders may use the connection at once. The
 * kernel keeps a reader and a sender apart; `wr` keeps one frame's bytes together when several
 * threads send. Writes use MSG_NOSIGNAL: a server that went away yields EPIPE, never SIGPIPE.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "cli_sockio.h"
#include "cli_unix.h"

/* How long a connect that finds the server's backlog full waits before trying again: Linux
 * offers no event for "the backlog has room" on a non-blocking socket. */
#define UNIX_RETRY_SLICE_MS 10

struct unix_transport {
	struct cli_transport base;
	struct sockaddr_un addr;
	unsigned long connect_timeout_ms;
	pthread_mutex_t wr; /* one frame at a time; connect and disconnect too */
	int fd;
	pid_t pid;	 /* the process that made the connection */
	int fresh;	 /* (atomic) connected, no answer read yet */
	int interrupted; /* (atomic) interrupt() was called on this connection */
	char peer[sizeof("unix:") + sizeof(((struct sockaddr_un *)NULL)->sun_path)]; /* unix:PATH */
};

/* ---- the connection ---- */

/* What to add to an error seen before the first answer: teehsmd closes a new connection at
 * once when the uid has max_connections_per_identity open already, or max_connections are. */
static const char *first_call_hint(struct unix_transport *t)
{
	if (!__atomic_load_n(&t->fresh, __ATOMIC_RELAXED))
		return "";
	return " (is the server at its connection limit for this uid? see its log)";
}

/* What to add to a connect error. */
static const char *connect_hint(int err)
{
	if (err == ENOENT || err == ECONNREFUSED)
		return " (is teehsmd running, with unix_socket set to this path?)";
	if (err == EACCES)
		return " (the permissions of the socket and its directory decide who may connect)";
	return "";
}

/* A send or recv on t returned n (0 at the end of the stream, else -1 with errno set) for a
 * reason other than having to wait: how the step ended, the reason logged. */
static enum cli_io unix_failed(struct unix_transport *t, ssize_t n, const char *what)
{
	int err = n < 0 ? errno : 0;

	if (__atomic_load_n(&t->interrupted, __ATOMIC_RELAXED))
		return CLI_IO_CLOSED; /* we shut the socket ourselves (cli_rpc gave up on it) */
	if (n == 0) {
		log_error("%s: %s: the server closed the connection%s", t->peer, what,
			  first_call_hint(t));
		return CLI_IO_CLOSED;
	}
	if (err == EPIPE || err == ECONNRESET) {
		log_error("%s: %s: the server closed the connection (%s)%s", t->peer, what,
			  strerror(err), first_call_hint(t));
		return CLI_IO_CLOSED;
	}
	log_error("%s: %s: %s", t->peer, what, strerror(err));
	return CLI_IO_ERROR;
}

/* Move len bytes to (writing) or from the connection before deadline. */
static enum cli_io unix_move(struct unix_transport *t, int writing, uint8_t *p, size_t len,
			     int64_t deadline)
{
	const char *what = writing ? "sending a request" : "reading an answer";
	ssize_t n;
	int w;

	if (t->fd < 0)
		return CLI_IO_CLOSED;
	while (len) {
		n = writing ? send(t->fd, p, len, MSG_NOSIGNAL) : recv(t->fd, p, len, 0);
		if (n > 0) {
			if (!writing)
				__atomic_store_n(&t->fresh, 0, __ATOMIC_RELAXED);
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			w = cli_wait_fd(t->fd, writing ? POLLOUT : POLLIN, deadline);
			if (w < 0) {
				log_error("%s: %s: poll: %s", t->peer, what, strerror(errno));
				return CLI_IO_ERROR;
			}
			if (w == 0)
				return CLI_IO_TIMEOUT;
			continue;
		}
		return unix_failed(t, n, what);
	}
	return CLI_IO_OK;
}

/* Connect a new socket to t->addr before deadline: 0 with t->fd set, or -1 (logged). */
static int unix_open(struct unix_transport *t, int64_t deadline)
{
	int fd = -1, err = 0, timed_out = 0, r;
	int64_t left;
	socklen_t len;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("cannot connect to teehsmd at %s: socket: %s", t->peer, strerror(errno));
		return -1;
	}
	for (;;) {
		if (connect(fd, (const struct sockaddr *)&t->addr, sizeof(t->addr)) == 0)
			break;
		err = errno;
		if (err == EISCONN) /* an interrupted attempt went through after all */
			break;
		if (err == EAGAIN || err == EINTR) {
			/* EAGAIN: the server's backlog is full. Try again until the deadline. */
			left = deadline - cli_now_ms();
			if (left <= 0) {
				timed_out = 1;
				goto fail;
			}
			if (err == EAGAIN)
				poll(NULL, 0,
				     left < UNIX_RETRY_SLICE_MS ? (int)left : UNIX_RETRY_SLICE_MS);
			continue;
		}
		if (err != EINPROGRESS && err != EALREADY)
			goto fail;
		/* Linux completes a Unix connect at once; POSIX lets it go on in the background. */
		r = cli_wait_fd(fd, POLLOUT, deadline);
		len = sizeof(err);
		if (r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
			break;
		if (r == 0)
			timed_out = 1;
		else if (r < 0)
			err = errno;
		goto fail;
	}
	t->fd = fd;
	return 0;
fail:
	if (timed_out)
		log_error("cannot connect to teehsmd at %s: no connection accepted within %lu ms",
			  t->peer, t->connect_timeout_ms);
	else
		log_error("cannot connect to teehsmd at %s: %s%s", t->peer,
			  strerror(err ? err : ECONNREFUSED), connect_hint(err));
	close(fd);
	return -1;
}

/* ---- the vtable ---- */

/* With wr held. Only close: shutdown() would end the connection for a parent process too. */
static void unix_drop(struct unix_transport *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	__atomic_store_n(&t->fresh, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&t->interrupted, 0, __ATOMIC_RELAXED);
}

static void unix_disconnect(struct cli_transport *base)
{
	struct unix_transport *t = (struct unix_transport *)base;

	pthread_mutex_lock(&t->wr);
	unix_drop(t);
	pthread_mutex_unlock(&t->wr);
}

static CK_RV unix_connect(struct cli_transport *base)
{
	struct unix_transport *t = (struct unix_transport *)base;
	int64_t deadline = cli_now_ms() + (int64_t)t->connect_timeout_ms;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	CK_RV rv = CKR_DEVICE_ERROR;

	pthread_mutex_lock(&t->wr);
	unix_drop(t);
	if (unix_open(t, deadline))
		goto out;
	t->pid = getpid();
	__atomic_store_n(&t->fresh, 1, __ATOMIC_RELAXED);
	if (getsockopt(t->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		log_debug("%s: connected (server pid %ld, uid %lu)", t->peer, (long)cred.pid,
			  (unsigned long)cred.uid);
	else
		log_debug("%s: connected", t->peer);
	rv = CKR_OK;
out:
	pthread_mutex_unlock(&t->wr);
	return rv;
}

static enum cli_io unix_send(struct cli_transport *base, const uint8_t *frame, size_t len,
			     int64_t deadline)
{
	struct unix_transport *t = (struct unix_transport *)base;
	enum cli_io io;

	pthread_mutex_lock(&t->wr);
	io = unix_move(t, 1, (uint8_t *)frame, len, deadline);
	pthread_mutex_unlock(&t->wr);
	if (io == CLI_IO_TIMEOUT)
		log_error("%s: could not send a request within %lu ms", t->peer,
			  t->base.call_timeout_ms);
	return io;
}

/* cli_read_cb on a unix_transport. */
static enum cli_io unix_read_cb(void *arg, uint8_t *p, size_t len, int64_t deadline)
{
	return unix_move(arg, 0, p, len, deadline);
}

static enum cli_io unix_recv(struct cli_transport *base, size_t max_frame, int64_t deadline,
			     uint8_t **payload, size_t *len)
{
	struct unix_transport *t = (struct unix_transport *)base;

	return cli_read_frame(unix_read_cb, t, t->peer, max_frame, deadline, payload, len);
}

static int unix_idle_check(struct cli_transport *base)
{
	struct unix_transport *t = (struct unix_transport *)base;
	uint8_t b = 0;
	ssize_t n;

	if (t->fd < 0 || t->pid != getpid())
		return -1;
	do
		n = recv(t->fd, &b, 1, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0; /* nothing came: still usable */
	if (n > 0)
		log_error("%s: the server sent data nobody asked for", t->peer);
	return -1; /* that, the end of the connection, or an error on it */
}

static void unix_interrupt(struct cli_transport *base)
{
	struct unix_transport *t = (struct unix_transport *)base;

	/* No lock: the caller may hold none of ours, and the fd stays open (and ours) until
	 * disconnect, which nobody runs while the connection is in use. */
	__atomic_store_n(&t->interrupted, 1, __ATOMIC_RELAXED);
	if (t->fd >= 0)
		shutdown(t->fd, SHUT_RDWR);
}

static void unix_free(struct cli_transport *base)
{
	struct unix_transport *t = (struct unix_transport *)base;

	if (!t)
		return;
	unix_disconnect(base);
	pthread_mutex_destroy(&t->wr);
	free(t);
}

static const struct cli_transport_ops unix_ops = {
	.connect = unix_connect,
	.send = unix_send,
	.recv = unix_recv,
	.idle_check = unix_idle_check,
	.interrupt = unix_interrupt,
	.disconnect = unix_disconnect,
	.free = unix_free,
};

CK_RV cli_unix_transport_new(const struct cli_conf *conf, size_t i, struct cli_transport **out)
{
	const struct cli_server_conf *s = &conf->servers[i];
	struct unix_transport *t = NULL;
	size_t n = 0;

	*out = NULL;
	n = s->unix_path ? strlen(s->unix_path) : 0;
	if (n == 0 || n >= sizeof(t->addr.sun_path))
		return CKR_ARGUMENTS_BAD;
	t = calloc(1, sizeof(*t));
	if (!t)
		return CKR_HOST_MEMORY;
	if (pthread_mutex_init(&t->wr, NULL)) {
		free(t);
		return CKR_HOST_MEMORY;
	}
	t->base.ops = &unix_ops;
	t->base.call_timeout_ms = conf->call_timeout_ms;
	t->base.name = t->peer;
	t->fd = -1;
	t->connect_timeout_ms = conf->connect_timeout_ms;
	t->addr.sun_family = AF_UNIX;
	memcpy(t->addr.sun_path, s->unix_path, n); /* NUL-terminated by calloc */
	snprintf(t->peer, sizeof(t->peer), "unix:%s", s->unix_path);
	*out = &t->base;
	return CKR_OK;
}
