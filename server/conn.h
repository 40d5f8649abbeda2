/*
 * conn: one client connection — the TLS handshake with its timeout, then length-framed requests
 * handed to dispatch and framed responses written back, with back-pressure and an idle timeout.
 */
#ifndef TEEHSM_SERVER_CONN_H
#define TEEHSM_SERVER_CONN_H

#include <sys/socket.h>

#include <event2/util.h>

#include "server.h"

/* Take over the accepted socket fd (from the peer at sa) and start the TLS handshake. The
 * connection joins srv->conns and frees itself when it ends. On failure the socket is closed
 * and -1 is returned (the reason is logged); 0 otherwise. */
int conn_new(struct srv *srv, evutil_socket_t fd, const struct sockaddr *sa, socklen_t salen);

/* Take over fd, accepted on the Unix socket at path: the peer is named by its kernel
 * credentials (SO_PEERCRED) and served without TLS. 0, or -1 with fd closed. */
int conn_new_unix(struct srv *srv, evutil_socket_t fd, const char *path);

/* SIGTERM: read no more requests; every connection closes once its calls in flight have
 * completed and their answers are out. When the last one has closed, the loop is broken. */
void conn_drain_all(struct srv *srv);

/* After the trust (CA bundle, CRL) was reloaded: close every TLS connection whose client
 * certificate no longer verifies (revoked, no longer trusted). Others are not interrupted. */
void conn_recheck_all(struct srv *srv);

/* Close every connection of srv now (server shutdown): their peers are freed, so their token
 * sessions close and their logins end. */
void conn_free_all(struct srv *srv);

/* Format sa as "ADDR:PORT" ("[ADDR]:PORT" for IPv6) into buf; "?" when it cannot. Returns buf. */
const char *conn_format_addr(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len);

#endif
