/*
 * The module's configuration: the file named by TEEHSM_CONF, in the format of common/conf.h.
 * See deploy/client.conf.example for the keys.
 */
#ifndef TEEHSM_CLIENT_CLI_CONF_H
#define TEEHSM_CLIENT_CLI_CONF_H

#include <stddef.h>

#define CLI_DEFAULT_PORT "5705"
#define CLI_MAX_SERVERS	 64

/* One `server` line: "host:port [server_name]" (TLS over TCP), or "unix:PATH" (a Unix stream
 * socket, no TLS: the server knows the peer's uid and gid from the kernel). */
struct cli_server_conf {
	char *unix_path; /* absolute, shorter than sun_path; NULL for a TCP server */
	/* The rest but line is for a TCP server only: NULL (0) for a Unix socket. */
	char *host;	   /* without brackets */
	char *port;	   /* decimal, 1..65535 */
	char *server_name; /* the name the server certificate must carry */
	int name_is_ip;	   /* server_name is an IPv4 or IPv6 literal */
	unsigned line;	   /* of the config file, for messages */
};

struct cli_conf {
	struct cli_server_conf *servers; /* in the order of the file; at least one */
	size_t n_servers;
	char *ca;   /* CA bundle, resolved against the config file's directory; NULL only
		     * when every server is a Unix socket */
	char *cert; /* client certificate chain, or NULL */
	char *key;  /* client private key, or NULL (set exactly when cert is) */
	unsigned long connect_timeout_ms;
	unsigned long call_timeout_ms;
};

/* Read and check the client config at path. 0 with *out owning a new config (cli_conf_free),
 * or -1 with one line naming the file (and line) on stderr. Unknown keys are refused. */
int cli_conf_load(const char *path, struct cli_conf **out);

/* Free a config. Accepts NULL. */
void cli_conf_free(struct cli_conf *c);

#endif
