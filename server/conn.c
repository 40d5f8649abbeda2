/*
 * One client connection. Its life: accepted -> TLS handshake (bounded by handshake_timeout; a
 * Unix-socket peer skips it and is named by its kernel credentials) -> the verified certificate
 * names the peer and a struct srv_peer is made -> frames are read and decoded here, run by the
 * worker pool, and answered as they complete (bounded by idle_timeout, the read and write
 * watermarks and max_calls_in_flight) -> closed, and freed once no worker uses it any more,
 * which ends the peer's token sessions and login.
 *
 * Ordering: the calls of one lane (one PKCS#11 session, or the slot-level calls) run one after
 * the other in arrival order; calls of other lanes run in parallel. Answers carry the request
 * id and go out in completion order.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/log.h"
#include "proto/codec.h"
#include "conn.h"
#include "dispatch.h"
#include "policy.h"
#include "tls.h"
#include "workers.h"

/* Longest certificate CN we keep for logs (X.509's upper bound is 64 characters). */
#define IDENT_CN_MAX 96
#define ADDR_MAX     (NI_MAXHOST + NI_MAXSERV + 4)
/* subjectAltName DNS names and URIs kept per peer for the policy (each). */
#define IDENT_SANS_MAX 16
/* OpenSSL errors kept for one report; the rest of the queue is dropped. */
#define ERR_CODES_MAX 8

/* One decoded request on its way through the pool. */
struct call_job {
	struct work w;
	TAILQ_ENTRY(call_job) link; /* in the connection's jobs, in arrival order */
	struct conn *c;
	struct srv_call *call; /* until it runs */
	uint64_t lane;
	int running; /* submitted to the pool; else waiting for its lane */
	enum srv_verdict v;
	uint8_t *out;
	size_t out_len;
};

TAILQ_HEAD(call_job_list, call_job);

struct conn {
	LIST_ENTRY(conn) link; /* in srv->conns until closed */
	struct srv *srv;
	struct bufferevent *bev;
	struct event *hs_timer; /* until the handshake completes */
	struct srv_peer *peer;	/* from the handshake on */
	struct call_job_list jobs;
	size_t n_jobs;	  /* in jobs: waiting or running */
	size_t n_running; /* of them, in the pool */
	int is_unix;	  /* a Unix-socket peer: no TLS */
	int closing;	  /* read nothing more; close once the answers are out */
	int read_paused;  /* back-pressure: see conn_can_take */
	int closed;	  /* the socket is gone; freed when the last running job completes */
	char addr[ADDR_MAX];
	/* "CN@ADDR" once authenticated, "ADDR" before: what every log line of this conn starts
	 * with, and what dispatch names the peer by. */
	char ident[IDENT_CN_MAX + 1 + ADDR_MAX];
	/* Who the peer is, for the per-identity connection cap: "cn=CN" or "uid=N". */
	char who[IDENT_CN_MAX + 4];
	unsigned long uid, gid; /* a Unix-socket peer's credentials */
	/* The names the policy matches (struct srv_auth points here). */
	char cn[IDENT_CN_MAX + 1];
	char *dns[IDENT_SANS_MAX], *uri[IDENT_SANS_MAX];
	size_t n_dns, n_uri;
};

static void conn_process(struct conn *c);

const char *conn_format_addr(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (!sa || getnameinfo(sa, salen, host, sizeof(host), serv, sizeof(serv),
			       NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%s", host, serv);
	else
		snprintf(buf, len, "%s:%s", host, serv);
	return buf;
}

/* Free c for good: the socket is closed and no worker uses its peer any more. Ends the peer's
 * token sessions and login. */
static void conn_destroy(struct conn *c)
{
	srv_peer_free(c->peer);
	for (size_t i = 0; i < c->n_dns; i++)
		free(c->dns[i]);
	for (size_t i = 0; i < c->n_uri; i++)
		free(c->uri[i]);
	free(c);
}

static void job_free(struct call_job *j)
{
	srv_call_free(j->call);
	wipe_free(j->out, j->out_len);
	free(j);
}

/* Close c: the socket goes now (graceful: the TLS session is intact, so say close_notify first,
 * best effort, never blocking), calls not yet started are dropped, and c itself is freed once
 * its running calls have completed. */
static void conn_close(struct conn *c, int graceful)
{
	struct srv *srv = c->srv;
	const int established = c->peer != NULL;
	struct call_job *j, *next;

	if (c->closed)
		return;
	c->closed = 1;
	LIST_REMOVE(c, link);
	srv->n_conns--;
	if (c->hs_timer)
		event_free(c->hs_timer);
	c->hs_timer = NULL;
	if (c->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

		if (graceful && established && ssl)
			SSL_shutdown(ssl);
		/* Closes the socket and frees the SSL (BEV_OPT_CLOSE_ON_FREE); evbuffer chains of
		 * unsent responses are wiped by their cleanup callbacks. */
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	ERR_clear_error();
	for (j = TAILQ_FIRST(&c->jobs); j; j = next) {
		next = TAILQ_NEXT(j, link);
		if (j->running)
			continue;
		TAILQ_REMOVE(&c->jobs, j, link);
		c->n_jobs--;
		job_free(j);
	}
	if (c->n_running == 0)
		conn_destroy(c);
	if (srv->stopping && srv->n_conns == 0)
		event_base_loopbreak(srv->base);
}

/* Everything OpenSSL has to say about why c failed: the errors libevent collected for its
 * bufferevent, then what is left on the thread's queue; and the certificate verdict. */
static const char *conn_errors(struct conn *c, char *buf, size_t len)
{
	unsigned long codes[ERR_CODES_MAX];
	unsigned long e;
	size_t n = 0;
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	long vr;

	while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
		if (n < ERR_CODES_MAX)
			codes[n++] = e;
	tls_error_reasons(codes, n, buf, len);
	if (ssl && !c->peer && (vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, "%scertificate: %s", used ? "; " : "",
			 X509_verify_cert_error_string(vr));
	}
	return buf;
}

/* The handshake did not complete in time (a silent or very slow peer). */
static void conn_hs_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	log_info("%s: no TLS handshake within %lu s: closing", c->ident,
		 c->srv->cfg->handshake_timeout);
	conn_close(c, 0);
}

/* Connections open now under the identity who (per-identity cap). */
static size_t conn_count_who(const struct srv *srv, const char *who)
{
	const struct conn *o;
	size_t n = 0;

	LIST_FOREACH(o, &srv->conns, link)
	if (o->peer && strcmp(o->who, who) == 0)
		n++;
	return n;
}

/* The peer is known (c->ident and c->who set): apply the per-identity cap, make its token
 * client and start serving it. 0, or -1 when c was closed. */
static int conn_start(struct conn *c, const char *how)
{
	const struct srv_config *cfg = c->srv->cfg;
	struct timeval idle = { .tv_sec = (time_t)cfg->idle_timeout, .tv_usec = 0 };
	size_t same = conn_count_who(c->srv, c->who);

	if (same >= cfg->max_connections_per_identity) {
		log_warn("%s: refused: %s already has %zu connections open "
			 "(max_connections_per_identity)",
			 c->ident, c->who, same);
		conn_close(c, 1);
		return -1;
	}
	c->peer = srv_peer_new(c->srv->ta, cfg->max_frame, c->ident);
	if (!c->peer) {
		log_error("%s: cannot create a token client: closing", c->ident);
		conn_close(c, 0);
		return -1;
	}
	{
		struct srv_auth auth;

		memset(&auth, 0, sizeof(auth));
		auth.id.is_unix = c->is_unix;
		auth.id.cn = c->cn[0] ? c->cn : NULL;
		auth.id.dns = (const char *const *)c->dns;
		auth.id.n_dns = c->n_dns;
		auth.id.uri = (const char *const *)c->uri;
		auth.id.n_uri = c->n_uri;
		auth.id.uid = c->uid;
		auth.id.gid = c->gid;
		auth.transport = c->is_unix ? "unix" : "tls";
		auth.addr = c->addr;
		auth.audit = c->srv->audit;
		srv_peer_set_auth(c->peer, &auth);
	}
	/* Reset by every read and write: a peer that neither asks nor reads its answers for
	 * idle_timeout is closed. */
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	log_info("%s: connected (%s, %zu open)", c->ident, how, c->srv->n_conns);
	return 0;
}

/* The handshake completed: name the peer by its verified certificate and start serving it. */
static void conn_established(struct conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	char cn[IDENT_CN_MAX + 1];

	event_free(c->hs_timer);
	c->hs_timer = NULL;
	/* OpenSSL refuses a handshake without a verified certificate (SSL_VERIFY_PEER |
	 * SSL_VERIFY_FAIL_IF_NO_PEER_CERT); checking again costs nothing and fails closed. */
	if (!ssl || tls_peer_identity(ssl, cn, sizeof(cn)) != 0) {
		log_warn("%s: handshake completed without a verified client certificate: closing",
			 c->ident);
		conn_close(c, 0);
		return;
	}
	snprintf(c->ident, sizeof(c->ident), "%s@%s", cn, c->addr);
	snprintf(c->who, sizeof(c->who), "cn=%s", cn);
	/* tls_peer_identity falls back to the whole subject when there is no CN: the policy's
	 * cn: rules see only a real CN. */
	if (tls_peer_cn(ssl, c->cn, sizeof(c->cn)) != 0)
		c->cn[0] = '\0';
	tls_peer_sans(ssl, c->dns, &c->n_dns, c->uri, &c->n_uri, IDENT_SANS_MAX);
	if (conn_start(c, SSL_get_cipher_name(ssl)) != 0)
		return;
	/* A request may already wait in the input buffer. */
	conn_process(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	char why[512];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		conn_established(c);
		return;
	}
	conn_errors(c, why, sizeof(why));
	if (!c->peer) {
		/* Refused clients (no certificate, unknown CA), scanners, plaintext: only this
		 * connection ends. */
		if (why[0])
			log_warn("%s: TLS handshake failed: %s", c->ident, why);
		else
			log_info("%s: closed during the TLS handshake", c->ident);
	} else if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && c->n_jobs == 0 &&
		   srv_peer_sessions(c->peer) > 0) {
		/* An application that holds sessions (ssh-agent, a build agent between builds)
		 * keeps them while it is quiet; TCP keepalive notices one that is gone. A peer
		 * that does not read its answers (a write timeout) is still closed. */
		log_debug("%s: idle for %lu s with open sessions: keeping it", c->ident,
			  c->srv->cfg->idle_timeout);
		bufferevent_enable(c->bev, c->read_paused ? EV_WRITE : EV_READ | EV_WRITE);
		return;
	} else if (what & BEV_EVENT_TIMEOUT) {
		log_info("%s: idle for %lu s: closing (%zu open)", c->ident,
			 c->srv->cfg->idle_timeout, c->srv->n_conns - 1);
	} else if ((what & BEV_EVENT_EOF) && !why[0]) {
		log_info("%s: disconnected (%zu open)", c->ident, c->srv->n_conns - 1);
	} else {
		log_warn("%s: connection error: %s (%zu open)", c->ident,
			 why[0] ? why : "I/O error", c->srv->n_conns - 1);
	}
	/* After a timeout the TLS session is intact: say goodbye properly. */
	conn_close(c, (what & BEV_EVENT_TIMEOUT) != 0);
}

/* Wipe and free a response once OpenSSL has encrypted it (or the connection is gone). */
static void conn_reply_cleanup_cb(const void *data, size_t len, void *arg)
{
	(void)arg;
	wipe_free((void *)data, len);
}

/* Queue one framed response; the output buffer takes ownership of out. -1 on failure (out is
 * freed). */
static int conn_send(struct conn *c, uint8_t *out, size_t out_len)
{
	/* By reference rather than bufferevent_write's copy: responses can hold key values and
	 * random bytes, and the owner wipes (STYLE.md §9). */
	if (evbuffer_add_reference(bufferevent_get_output(c->bev), out, out_len,
				   conn_reply_cleanup_cb, NULL) != 0) {
		wipe_free(out, out_len);
		return -1;
	}
	return 0;
}

/* libevent 2.1 stops reading from OpenSSL at the read high watermark even when OpenSSL already
 * holds more decrypted bytes of the current record, and when the watermark frees up it only
 * waits for the socket, which may stay silent: the rest of a pipelined burst would stall. So
 * when a frame is incomplete, take what OpenSSL already holds (no socket I/O), up to the
 * watermark. Returns the number of bytes moved into the input buffer. */
static size_t conn_pull_pending(struct conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	struct evbuffer *in = bufferevent_get_input(c->bev);
	const size_t high = c->srv->cfg->max_frame + CODEC_FRAME_HDR;
	size_t moved = 0;

	while (ssl && !c->read_paused) {
		struct evbuffer_iovec vec;
		size_t avail = evbuffer_get_length(in), want;
		int pending = SSL_pending(ssl), n;

		if (pending <= 0 || avail >= high)
			break;
		want = high - avail < (size_t)pending ? high - avail : (size_t)pending;
		if (evbuffer_reserve_space(in, (ev_ssize_t)want, &vec, 1) < 1)
			break;
		if (vec.iov_len > want)
			vec.iov_len = want;
		n = SSL_read(ssl, vec.iov_base, (int)vec.iov_len);
		if (n <= 0)
			break; /* not expected with bytes pending: leave the error to libevent */
		vec.iov_len = (size_t)n;
		evbuffer_commit_space(in, &vec, 1);
		moved += (size_t)n;
	}
	return moved;
}

/* May c take another request now? Not while its answers pile up unread (write watermark), nor
 * with max_calls_in_flight calls of its own in flight, nor once it is closing. */
static int conn_can_take(const struct conn *c)
{
	const struct srv_config *cfg = c->srv->cfg;

	return !c->closing && c->n_jobs < cfg->max_calls_in_flight &&
	       evbuffer_get_length(bufferevent_get_output(c->bev)) < cfg->write_watermark;
}

static void conn_pause(struct conn *c, const char *why)
{
	if (c->read_paused)
		return;
	log_debug("%s: %s: pausing reads", c->ident, why);
	bufferevent_disable(c->bev, EV_READ);
	c->read_paused = 1;
}

/* Reading was paused: resume once the reason is gone, and handle whole requests that already
 * wait (no more bytes may come to trigger a read). */
static void conn_resume(struct conn *c)
{
	if (!c->read_paused || !conn_can_take(c))
		return;
	log_debug("%s: resuming reads", c->ident);
	c->read_paused = 0;
	bufferevent_enable(c->bev, EV_READ);
	conn_process(c);
}

/* A closing connection ends once its last call has completed and its last answer is out. */
static int conn_maybe_finish(struct conn *c)
{
	if (!c->closing || c->n_jobs != 0 ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
		return 0;
	log_info("%s: closed (%zu open)", c->ident, c->srv->n_conns - 1);
	conn_close(c, 1);
	return 1;
}

static void job_run(struct work *w)
{
	struct call_job *j = (struct call_job *)w;

	j->v = srv_call_run(j->c->peer, j->call, &j->out, &j->out_len);
	j->call = NULL; /* freed by srv_call_run */
}

static void job_start(struct call_job *j)
{
	j->running = 1;
	j->c->n_running++;
	workers_submit(j->c->srv->workers, &j->w);
}

/* A call has completed (loop thread): answer it, start the next call of its lane, and take more
 * requests if they were held back. */
static void job_done(struct work *w)
{
	struct call_job *j = (struct call_job *)w;
	struct conn *c = j->c;
	struct call_job *next;
	enum srv_verdict v = j->v;

	TAILQ_REMOVE(&c->jobs, j, link);
	c->n_jobs--;
	c->n_running--;
	if (c->closed) {
		job_free(j);
		if (c->n_running == 0)
			conn_destroy(c);
		return;
	}
	TAILQ_FOREACH(next, &c->jobs, link)
	{
		if (!next->running && next->lane == j->lane) {
			job_start(next);
			break;
		}
	}
	if (v != SRV_REPLY) {
		log_info("%s: an answer does not fit a frame: closing (%zu open)", c->ident,
			 c->srv->n_conns - 1);
		job_free(j);
		conn_close(c, 0);
		return;
	}
	if (conn_send(c, j->out, j->out_len)) {
		j->out = NULL;
		job_free(j);
		log_error("%s: out of memory: closing", c->ident);
		conn_close(c, 0);
		return;
	}
	j->out = NULL; /* the output buffer owns it */
	job_free(j);
	if (conn_maybe_finish(c))
		return;
	conn_resume(c);
}

/* Queue a decoded call: it starts now unless an earlier call of its lane is still in flight. */
static int conn_queue_call(struct conn *c, struct srv_call *call)
{
	struct call_job *j = calloc(1, sizeof(*j));
	struct call_job *o;
	int busy = 0;

	if (!j) {
		srv_call_free(call);
		return -1;
	}
	j->w.run = job_run;
	j->w.done = job_done;
	j->c = c;
	j->call = call;
	j->lane = srv_call_lane(call);
	TAILQ_FOREACH(o, &c->jobs, link)
	{
		if (o->lane == j->lane) {
			busy = 1;
			break;
		}
	}
	TAILQ_INSERT_TAIL(&c->jobs, j, link);
	c->n_jobs++;
	if (!busy)
		job_start(j);
	return 0;
}

/* Handle every whole frame in the input buffer, in order, until the buffer holds only part of
 * one, the connection may take no more (conn_can_take), or it ends. May close c. */
static void conn_process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	const size_t max_frame = c->srv->cfg->max_frame;

	while (c->peer && !c->closed && !c->closing) {
		size_t avail = evbuffer_get_length(in);
		size_t plen = 0, need = 0;
		uint8_t *frame = NULL, *out = NULL;
		size_t out_len = 0;
		struct srv_call *call = NULL;
		enum codec_frame st;
		enum srv_verdict v;

		if (!conn_can_take(c)) {
			conn_pause(c, c->n_jobs >= c->srv->cfg->max_calls_in_flight
					      ? "max_calls_in_flight reached"
					      : "answers not read (write_watermark)");
			return;
		}
		if (avail < CODEC_FRAME_HDR) {
			if (conn_pull_pending(c))
				continue;
			return;
		}
		/* The length first, from the header alone: nothing is allocated for a frame
		 * before its length has been checked. */
		frame = evbuffer_pullup(in, CODEC_FRAME_HDR);
		if (!frame)
			goto fail_memory;
		st = codec_frame_peek(frame, CODEC_FRAME_HDR, max_frame, &plen);
		if (st == CODEC_FRAME_TOO_LARGE) {
			log_warn("%s: frame longer than max_frame (%zu bytes): closing (%zu open)",
				 c->ident, max_frame, c->srv->n_conns - 1);
			conn_close(c, 0);
			return;
		}
		/* The header is in, so the codec reports the announced length (codec.h). */
		need = CODEC_FRAME_HDR + plen;
		if (avail < need) {
			if (conn_pull_pending(c))
				continue;
			return;
		}
		frame = evbuffer_pullup(in, (ev_ssize_t)need);
		if (!frame)
			goto fail_memory;
		st = codec_frame_peek(frame, need, max_frame, &plen);
		if (st != CODEC_FRAME_READY)
			return;
		need = CODEC_FRAME_HDR + plen;

		v = srv_request(c->peer, frame + CODEC_FRAME_HDR, plen, &call, &out, &out_len);
		/* Requests carry PINs: wipe the frame before its memory goes back to libevent. */
		wipe(frame, need);
		evbuffer_drain(in, need);

		switch (v) {
		case SRV_RUN:
			/* The policy in force when the request arrived (SIGHUP may replace it). */
			srv_call_set_policy(call, policy_ref(c->srv->policy));
			if (conn_queue_call(c, call))
				goto fail_memory;
			break;
		case SRV_REPLY:
			if (conn_send(c, out, out_len))
				goto fail_memory;
			break;
		case SRV_REPLY_CLOSE:
			/* Nothing more is read; the write callback closes once the reply is out. */
			c->closing = 1;
			bufferevent_disable(c->bev, EV_READ);
			if (conn_send(c, out, out_len))
				goto fail_memory;
			log_info("%s: closing after the reply", c->ident);
			return;
		case SRV_CLOSE:
		default:
			wipe_free(out, out_len);
			log_info("%s: protocol error: closing (%zu open)", c->ident,
				 c->srv->n_conns - 1);
			conn_close(c, 0);
			return;
		}
	}
	return;

fail_memory:
	log_error("%s: out of memory: closing", c->ident);
	conn_close(c, 0);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	conn_process(c);
}

/* The output buffer has drained (low watermark 0). */
static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	if (conn_maybe_finish(c))
		return;
	conn_resume(c);
}

/* A new connection's common part: c is in srv->conns with its bufferevent and callbacks. */
static struct conn *conn_alloc(struct srv *srv, const char *addr)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->srv = srv;
	TAILQ_INIT(&c->jobs);
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	snprintf(c->ident, sizeof(c->ident), "%s", c->addr);
	return c;
}

static void conn_link(struct conn *c)
{
	LIST_INSERT_HEAD(&c->srv->conns, c, link);
	c->srv->n_conns++;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	/* Hold at most read_watermark bytes of unprocessed input (at least one whole frame). */
	bufferevent_setwatermark(c->bev, EV_READ, 0, c->srv->cfg->read_watermark);
}

int conn_new(struct srv *srv, evutil_socket_t fd, const struct sockaddr *sa, socklen_t salen)
{
	const struct srv_config *cfg = srv->cfg;
	struct timeval hs = { .tv_sec = (time_t)cfg->handshake_timeout, .tv_usec = 0 };
	char addr[ADDR_MAX];
	struct conn *c = NULL;
	SSL *ssl = NULL;
	int one = 1;

	conn_format_addr(sa, salen, addr, sizeof(addr));
	c = conn_alloc(srv, addr);
	if (!c) {
		log_error("%s: out of memory: refusing a connection", addr);
		evutil_closesocket(fd);
		return -1;
	}
	/* Requests and answers are small and latency-bound. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A peer that vanished without a word is noticed even while its sessions keep the
	 * connection open. */
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));

	ssl = SSL_new(srv->ssl_ctx);
	if (!ssl) {
		log_error("%s: cannot create a TLS session: closing", c->ident);
		evutil_closesocket(fd);
		free(c);
		ERR_clear_error();
		return -1;
	}
	c->bev = bufferevent_openssl_socket_new(srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!c->bev) {
		/* XXX: whether libevent freed ssl on this path depends on its version; leaking
		 * it on an allocation failure is better than freeing it twice. */
		log_error("%s: cannot create a TLS bufferevent: closing", c->ident);
		evutil_closesocket(fd);
		free(c);
		ERR_clear_error();
		return -1;
	}
	ssl = NULL; /* the bufferevent owns it now, and the socket */
	/* A peer that just closes its socket (no close_notify) has simply disconnected. */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	conn_link(c);
	c->hs_timer = evtimer_new(srv->base, conn_hs_timeout_cb, c);
	if (!c->hs_timer || evtimer_add(c->hs_timer, &hs) != 0 ||
	    bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0) {
		log_error("%s: cannot start the TLS handshake: closing", c->ident);
		conn_close(c, 0);
		return -1;
	}
	log_debug("%s: accepted (%zu open)", c->ident, srv->n_conns);
	return 0;
}

int conn_new_unix(struct srv *srv, evutil_socket_t fd, const char *path)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char addr[ADDR_MAX];
	struct conn *c = NULL;

	/* The kernel's word on who connected: no handshake, no certificate. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
		log_warn("unix:%s: cannot read the peer's credentials: %s: closing", path,
			 strerror(errno));
		evutil_closesocket(fd);
		return -1;
	}
	snprintf(addr, sizeof(addr), "unix:pid=%ld", (long)cred.pid);
	c = conn_alloc(srv, addr);
	if (!c) {
		log_error("%s: out of memory: refusing a connection", addr);
		evutil_closesocket(fd);
		return -1;
	}
	c->is_unix = 1;
	c->uid = (unsigned long)cred.uid;
	c->gid = (unsigned long)cred.gid;
	snprintf(c->ident, sizeof(c->ident), "uid=%lu@%s", c->uid, c->addr);
	snprintf(c->who, sizeof(c->who), "uid=%lu", c->uid);
	c->bev = bufferevent_socket_new(srv->base, fd,
					BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!c->bev) {
		log_error("%s: cannot create a bufferevent: closing", c->ident);
		evutil_closesocket(fd);
		free(c);
		return -1;
	}
	conn_link(c);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0) {
		log_error("%s: cannot start reading: closing", c->ident);
		conn_close(c, 0);
		return -1;
	}
	{
		char how[64];

		snprintf(how, sizeof(how), "unix socket, gid %lu", c->gid);
		if (conn_start(c, how) != 0)
			return -1;
	}
	return 0;
}

void conn_drain_all(struct srv *srv)
{
	struct conn *c, *next;

	for (c = LIST_FIRST(&srv->conns); c; c = next) {
		next = LIST_NEXT(c, link);
		if (!c->peer) {
			/* Still in its handshake: it has nothing to finish. */
			conn_close(c, 0);
			continue;
		}
		c->closing = 1;
		bufferevent_disable(c->bev, EV_READ);
		if (c->n_jobs)
			log_info("%s: finishing %zu calls in flight", c->ident, c->n_jobs);
		conn_maybe_finish(c);
	}
}

void conn_recheck_all(struct srv *srv)
{
	struct conn *c, *next;
	char why[256];

	for (c = LIST_FIRST(&srv->conns); c; c = next) {
		SSL *ssl = NULL;

		next = LIST_NEXT(c, link);
		if (!c->peer || c->is_unix)
			continue;
		ssl = bufferevent_openssl_get_ssl(c->bev);
		if (ssl && tls_peer_recheck(ssl, why, sizeof(why)) == 0)
			continue;
		log_warn("%s: its certificate no longer verifies (%s): closing (%zu open)",
			 c->ident, why, srv->n_conns - 1);
		conn_close(c, 1);
	}
}

void conn_free_all(struct srv *srv)
{
	struct conn *c;

	while ((c = LIST_FIRST(&srv->conns)) != NULL) {
		log_info("%s: closing (server shutdown)", c->ident);
		conn_close(c, c->peer != NULL);
	}
}
