/*
 * The state one teehsmd process shares between its listeners and its connections. Everything
 * here is used on the event loop's thread only, except ta (thread-safe) which workers use.
 */
#ifndef TEEHSM_SERVER_SERVER_H
#define TEEHSM_SERVER_SERVER_H

#include <stddef.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "srvconf.h"
#include "ta.h"

struct conn;
struct workers;
struct policy;
struct audit;

struct srv {
	struct event_base *base;
	SSL_CTX *ssl_ctx;
	struct ta *ta;
	struct workers *workers; /* runs token work; completions come back on the loop */
	struct policy *policy;	 /* the rules in force (SIGHUP swaps it; calls hold references) */
	struct audit *audit;	 /* the audit log, or NULL */
	const struct srv_config *cfg;
	LIST_HEAD(conn_list, conn) conns; /* every open connection */
	size_t n_conns;
	int stopping; /* shutting down: accept nothing more, break the loop at 0 connections */
};

#endif
