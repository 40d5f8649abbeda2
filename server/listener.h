/*
 * listener: the TCP sockets of the configuration's "listen" entries, each handing accepted
 * sockets to conn while the server is below its connection cap.
 */
#ifndef TEEHSM_SERVER_LISTENER_H
#define TEEHSM_SERVER_LISTENER_H

#include <stddef.h>

#include "server.h"

struct listeners;

/* Resolve every listen entry of srv->cfg (so a name that does not resolve is reported before
 * anything else happens) without binding. On success returns 0 and *out owns the set (free with
 * listeners_free); on failure -1 with a one-line reason naming the file and line in err. */
int listeners_new(struct srv *srv, struct listeners **out, char *err, size_t errlen);

/* Bind every resolved address (all those a name resolves to; with port 0 the kernel picks one
 * port per entry) on srv->base and start accepting. Logs "listening on ADDR:PORT" for each
 * socket. 0, or -1 with a one-line reason in err (listeners_free then closes what was bound). */
int listeners_start(struct listeners *ls, char *err, size_t errlen);

/* The TCP port bound for the first listen entry. */
unsigned listeners_first_port(const struct listeners *ls);

/* Stop accepting and close every listening socket. Accepts NULL. */
void listeners_free(struct listeners *ls);

#endif
