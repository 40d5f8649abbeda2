/* The client config: `server`, `server_name`, `ca`, `cert`, `key` and the two timeouts. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/log.h"
#include "cli_conf.h"

static const char *const cli_conf_keys[] = {
	"server", "server_name", "ca", "cert", "key", "connect_timeout_ms", "call_timeout_ms", NULL,
};

void cli_conf_free(struct cli_conf *c)
{
	if (!c)
		return;
	free(c->host);
	free(c->port);
	free(c->server_name);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c);
}

/* The line of the entry conf_get would return for key (0 when absent), for messages. */
static unsigned conf_line(const struct conf *c, const char *key)
{
	for (size_t i = c->n; i > 0; i--)
		if (strcmp(c->entries[i - 1].key, key) == 0)
			return c->entries[i - 1].line;
	return 0;
}

static int is_ip_literal(const char *s)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

static int port_valid(const char *p)
{
	unsigned long n = 0;

	if (!*p || strlen(p) > 5)
		return 0;
	for (const char *q = p; *q; q++) {
		if (*q < '0' || *q > '9')
			return 0;
		n = n * 10 + (unsigned long)(*q - '0');
	}
	return n >= 1 && n <= 65535;
}

/* A host name or address literal: letters, digits and . - _ (plus : and % inside brackets for
 * IPv6 and its zone). Anything else (blanks, quotes, slashes) is a typo, caught here rather
 * than as a name-resolution failure at the first call. */
static int host_valid(const char *h, size_t len, int bracketed)
{
	for (size_t i = 0; i < len; i++) {
		char ch = h[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_')
			continue;
		if (bracketed && (ch == ':' || ch == '%'))
			continue;
		return 0;
	}
	return len > 0;
}

/* "host:port", "[v6addr]:port", or either without ":port" (the default port). */
static int parse_server(const char *v, struct cli_conf *out)
{
	const char *host = v, *host_end = NULL, *port = NULL;

	if (v[0] == '[') {
		host = v + 1;
		host_end = strchr(host, ']');
		if (!host_end)
			return -1;
		if (host_end[1] == ':')
			port = host_end + 2;
		else if (host_end[1] != '\0')
			return -1;
	} else {
		host_end = strrchr(v, ':');
		/* A bare IPv6 address is ambiguous: it must be written in brackets. */
		if (host_end && strchr(v, ':') != host_end)
			return -1;
		if (host_end)
			port = host_end + 1;
		else
			host_end = v + strlen(v);
	}
	if (!host_valid(host, (size_t)(host_end - host), v[0] == '[') ||
	    (port && !port_valid(port)))
		return -1;
	out->host = strndup(host, (size_t)(host_end - host));
	out->port = strdup(port ? port : CLI_DEFAULT_PORT);
	return out->host && out->port ? 0 : -2;
}

/* A path value resolved against the config file's directory; NULL with *err set on failure. */
static char *conf_file(const struct conf *c, const char *key, int *err)
{
	const char *v = conf_get(c, key);
	char *p = NULL;

	if (!v)
		return NULL;
	if (!*v) {
		log_error("%s:%u: %s is empty", c->path, conf_line(c, key), key);
		*err = 1;
		return NULL;
	}
	p = conf_path(c, v);
	if (!p) {
		log_error("%s: out of memory", c->path);
		*err = 1;
	}
	return p;
}

int cli_conf_load(const char *path, struct cli_conf **out)
{
	struct conf *c = NULL;
	struct cli_conf *cc = NULL;
	char err[512];
	const char *v = NULL;
	int bad = 0, ret = -1, r;

	*out = NULL;
	if (conf_load(path, &c, err, sizeof(err)) ||
	    conf_check_keys(c, cli_conf_keys, err, sizeof(err))) {
		log_error("%s", err);
		goto out;
	}
	cc = calloc(1, sizeof(*cc));
	if (!cc) {
		log_error("%s: out of memory", path);
		goto out;
	}

	v = conf_get(c, "server");
	if (!v) {
		log_error("%s: 'server' is required (host:port of teehsmd)", path);
		goto out;
	}
	r = parse_server(v, cc);
	if (r) {
		if (r == -2)
			log_error("%s: out of memory", path);
		else
			log_error("%s:%u: server '%.128s' is not host:port or [IPv6]:port", path,
				  conf_line(c, "server"), v);
		goto out;
	}

	v = conf_get(c, "server_name");
	if (v && !*v) {
		log_error("%s:%u: server_name is empty", path, conf_line(c, "server_name"));
		goto out;
	}
	if (v && v[0] == '[' && strlen(v) > 2 && v[strlen(v) - 1] == ']')
		cc->server_name = strndup(v + 1, strlen(v) - 2);
	else
		cc->server_name = strdup(v ? v : cc->host);
	if (!cc->server_name) {
		log_error("%s: out of memory", path);
		goto out;
	}
	cc->name_is_ip = is_ip_literal(cc->server_name);

	cc->ca = conf_file(c, "ca", &bad);
	cc->cert = conf_file(c, "cert", &bad);
	cc->key = conf_file(c, "key", &bad);
	if (bad)
		goto out;
	if (!cc->ca) {
		log_error("%s: 'ca' is required (the CA bundle the server certificate chains to)",
			  path);
		goto out;
	}
	if (!cc->cert != !cc->key) {
		log_error("%s:%u: 'cert' and 'key' go together: set both or neither", path,
			  conf_line(c, cc->cert ? "cert" : "key"));
		goto out;
	}

	if (conf_get_ulong(c, "connect_timeout_ms", 5000, 100, 600000, &cc->connect_timeout_ms, err,
			   sizeof(err)) ||
	    conf_get_ulong(c, "call_timeout_ms", 60000, 100, 3600000, &cc->call_timeout_ms, err,
			   sizeof(err))) {
		log_error("%s", err);
		goto out;
	}

	*out = cc;
	cc = NULL; /* the caller owns it now */
	ret = 0;
out:
	cli_conf_free(cc);
	conf_free(c);
	return ret;
}
