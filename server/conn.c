/*
 * One client connection. Its life: accepted -> TLS handshake (bounded by handshake_timeout) ->
 * the verified certificate names the peer and a struct srv_peer is made -> frames are read,
 * dispatched and answered (bounded by idle_timeout, the read watermark and the output cap) ->
 * freed, which ends the peer's token sessions and login.
 *
 * XXX: token work (srv_dispatch) runs on the loop thread for now, so a slow call stalls every
 * peer; the worker pool of DESIGN.md "Server model" comes with the production-server issue.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include "tls.h"

/* Longest certificate CN we keep for logs (X.509's upper bound is 64 characters). */
#define IDENT_CN_MAX 96
#define ADDR_MAX     (NI_MAXHOST + NI_MAXSERV + 4)
/* OpenSSL errors kept for one report; the rest of the queue is dropped. */
#define ERR_CODES_MAX 8

struct conn {
	LIST_ENTRY(conn) link;
	struct srv *srv;
	struct bufferevent *bev;
	struct event *hs_timer; /* until the handshake completes */
	struct srv_peer *peer;	/* from the handshake on */
	int closing;		/* a final reply is draining: read nothing more */
	int read_paused;	/* back-pressure: the peer does not read its answers */
	char addr[ADDR_MAX];
	/* "CN@ADDR" once authenticated, "ADDR" before: what every log line of this conn starts
	 * with, and what dispatch names the peer by. */
	char ident[IDENT_CN_MAX + 1 + ADDR_MAX];
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

/* Close and free c. graceful: the TLS session is intact, so say close_notify first (best effort,
 * never blocking). */
static void conn_free(struct conn *c, int graceful)
{
	struct srv *srv = c->srv;
	const int established = c->peer != NULL;

	LIST_REMOVE(c, link);
	srv->n_conns--;
	if (c->hs_timer)
		event_free(c->hs_timer);
	/* Ends the peer's sessions and login in the token core. */
	srv_peer_free(c->peer);
	c->peer = NULL;
	if (c->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

		if (graceful && established && ssl)
			SSL_shutdown(ssl);
		/* Closes the socket and frees the SSL (BEV_OPT_CLOSE_ON_FREE); evbuffer chains of
		 * unsent responses are wiped by their cleanup callbacks. */
		bufferevent_free(c->bev);
	}
	ERR_clear_error();
	free(c);
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
	conn_free(c, 0);
}

/* The handshake completed: name the peer by its verified certificate and start serving it. */
static void conn_established(struct conn *c)
{
	const struct srv_config *cfg = c->srv->cfg;
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	struct timeval idle = { .tv_sec = (time_t)cfg->idle_timeout, .tv_usec = 0 };
	char cn[IDENT_CN_MAX + 1];

	event_free(c->hs_timer);
	c->hs_timer = NULL;
	/* OpenSSL refuses a handshake without a verified certificate (SSL_VERIFY_PEER |
	 * SSL_VERIFY_FAIL_IF_NO_PEER_CERT); checking again costs nothing and fails closed. */
	if (!ssl || tls_peer_identity(ssl, cn, sizeof(cn)) != 0) {
		log_warn("%s: handshake completed without a verified client certificate: closing",
			 c->ident);
		conn_free(c, 0);
		return;
	}
	snprintf(c->ident, sizeof(c->ident), "%s@%s", cn, c->addr);
	c->peer = srv_peer_new(c->srv->ta, cfg->max_frame, c->ident);
	if (!c->peer) {
		log_error("%s: cannot create a token client: closing", c->ident);
		conn_free(c, 0);
		return;
	}
	/* Reset by every read and write: a peer that neither asks nor reads its answers for
	 * idle_timeout is closed. */
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	log_info("%s: connected (%s, %zu open)", c->ident, SSL_get_cipher_name(ssl),
		 c->srv->n_conns);
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
	conn_free(c, (what & BEV_EVENT_TIMEOUT) != 0);
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

/* Handle every whole frame in the input buffer, in order, until the buffer holds only part of
 * one, the output buffer is full, or the connection ends. Frees c when it ends. */
static void conn_process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *outq = bufferevent_get_output(c->bev);
	const size_t max_frame = c->srv->cfg->max_frame;

	while (c->peer && !c->closing) {
		size_t avail = evbuffer_get_length(in);
		size_t plen = 0, need = 0;
		uint8_t *frame = NULL, *out = NULL;
		size_t out_len = 0;
		enum codec_frame st;
		enum srv_verdict v;

		/* Back-pressure: a peer that sends requests but does not read the answers gets
		 * no more answers queued; reading resumes once it has taken them all. */
		if (evbuffer_get_length(outq) >= max_frame) {
			if (!c->read_paused) {
				log_debug("%s: output buffer full: pausing reads", c->ident);
				bufferevent_disable(c->bev, EV_READ);
				c->read_paused = 1;
			}
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
			conn_free(c, 0);
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

		v = srv_dispatch(c->peer, frame + CODEC_FRAME_HDR, plen, &out, &out_len);
		/* Requests carry PINs: wipe the frame before its memory goes back to libevent. */
		wipe(frame, need);
		evbuffer_drain(in, need);

		switch (v) {
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
			conn_free(c, 0);
			return;
		}
	}
	return;

fail_memory:
	log_error("%s: out of memory: closing", c->ident);
	conn_free(c, 0);
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
	if (c->closing) {
		log_info("%s: closed (%zu open)", c->ident, c->srv->n_conns - 1);
		conn_free(c, 1);
		return;
	}
	if (c->read_paused) {
		log_debug("%s: output drained: resuming reads", c->ident);
		c->read_paused = 0;
		bufferevent_enable(bev, EV_READ);
		/* Whole requests may be waiting already: do not wait for more bytes. */
		conn_process(c);
	}
}

int conn_new(struct srv *srv, evutil_socket_t fd, const struct sockaddr *sa, socklen_t salen)
{
	const struct srv_config *cfg = srv->cfg;
	struct timeval hs = { .tv_sec = (time_t)cfg->handshake_timeout, .tv_usec = 0 };
	struct conn *c = NULL;
	SSL *ssl = NULL;
	int one = 1;

	c = calloc(1, sizeof(*c));
	if (!c) {
		log_error("out of memory: refusing a connection");
		evutil_closesocket(fd);
		return -1;
	}
	c->srv = srv;
	conn_format_addr(sa, salen, c->addr, sizeof(c->addr));
	snprintf(c->ident, sizeof(c->ident), "%s", c->addr);
	/* Requests and answers are small and latency-bound. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

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
	LIST_INSERT_HEAD(&srv->conns, c, link);
	srv->n_conns++;

	/* A peer that just closes its socket (no close_notify) has simply disconnected. */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	/* Hold at most one whole frame of unprocessed input. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, cfg->max_frame + CODEC_FRAME_HDR);
	c->hs_timer = evtimer_new(srv->base, conn_hs_timeout_cb, c);
	if (!c->hs_timer || evtimer_add(c->hs_timer, &hs) != 0 ||
	    bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0) {
		log_error("%s: cannot start the TLS handshake: closing", c->ident);
		conn_free(c, 0);
		return -1;
	}
	log_debug("%s: accepted (%zu open)", c->ident, srv->n_conns);
	return 0;
}

void conn_free_all(struct srv *srv)
{
	struct conn *c;

	while ((c = LIST_FIRST(&srv->conns)) != NULL) {
		log_info("%s: closing (server shutdown)", c->ident);
		conn_free(c, c->peer != NULL);
	}
}
