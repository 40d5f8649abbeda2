/*
 * srvconf: teehsmd's configuration file (deploy/teehsmd.conf.example describes every key), read
 * with common/conf.h and checked completely before anything listens.
 */
#ifndef TEEHSM_SERVER_SRVCONF_H
#define TEEHSM_SERVER_SRVCONF_H

#include <stddef.h>

#include "common/log.h"

struct conf;
struct policy;

/* Most "listen" entries one configuration may have. */
#define SRVCONF_MAX_LISTEN 16

/* One "listen = HOST:PORT" entry, split but not resolved. */
struct srv_listen {
	char *host;	   /* "127.0.0.1", "::1" (brackets removed), "localhost" */
	char *port;	   /* decimal, "0" = let the kernel choose */
	unsigned line;	   /* where it was written, for messages */
	const char *value; /* the entry as written (points into srv_config's conf) */
};

struct srv_config {
	char *path; /* the configuration file, for messages */
	struct srv_listen listen[SRVCONF_MAX_LISTEN];
	size_t n_listen;
	/* Paths, resolved relative to the configuration file's directory; line = where set. */
	char *ca, *cert, *key, *store, *root_key; /* root_key may be NULL */
	unsigned ca_line, cert_line, key_line, store_line;
	char *crl; /* PEM CRLs of the client certificates' issuers, or NULL */
	unsigned crl_line;
	char *audit_log;		       /* path, or NULL: no audit log */
	unsigned long audit_fsync_interval_ms; /* 0: fsync every line */
	struct policy *policy;		       /* the allow rules (one reference) */
	size_t max_frame;
	unsigned long pin_kdf_iterations; /* 0 = the token core's default */
	unsigned long max_pin_failures;
	unsigned long handshake_timeout; /* seconds */
	unsigned long idle_timeout;	 /* seconds */
	unsigned long max_connections;
	unsigned long max_connections_per_identity;
	unsigned long max_calls_in_flight; /* per connection: decoded, waiting or running */
	size_t read_watermark;		   /* unprocessed input held per connection, bytes */
	size_t write_watermark;		   /* unsent output at which a connection's reads pause */
	unsigned long workers;		   /* threads running token work */
	unsigned long shutdown_timeout;	   /* seconds SIGTERM waits for calls in flight */
	char *unix_socket;		   /* path of the local agents' socket, or NULL */
	unsigned unix_socket_line;
	unsigned long unix_socket_mode; /* its permission bits */
	enum log_level log_level;
	struct conf *conf; /* the parsed file, kept for the strings above that point into it */
};

/* Load and check the configuration at path: unknown keys, missing required keys, malformed or
 * out-of-range values are refused. On success returns 0 and *out owns a new config (free with
 * srvconf_free). On failure returns -1 with a one-line reason naming file (and line) in err. */
int srvconf_load(const char *path, struct srv_config **out, char *err, size_t errlen);

/* Free a config made by srvconf_load. Accepts NULL. */
void srvconf_free(struct srv_config *cfg);

#endif
