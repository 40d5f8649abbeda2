/* The client config: `server` lines, `server_name`, `ca`, `cert`, `key` and the two timeouts. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

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
	for (size_t i = 0; i < c->n_servers; i++) {
		free(c->servers[i].unix_path);
		free(c->servers[i].host);
		free(c->servers[i].port);
		free(c->servers[i].server_name);
	}
	free(c->servers);
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

/* "host:port", "[v6addr]:port", or either without ":port" (the default port), of len bytes. */
static int parse_address(const char *v, size_t vlen, struct cli_server_conf *out)
{
	const char *end = v + vlen, *host = v, *host_end = NULL, *port = NULL;
	char portbuf[8];

	if (v[0] == '[') {
		host = v + 1;
		host_end = memchr(host, ']', (size_t)(end - host));
		if (!host_end)
			return -1;
		if (host_end + 1 < end && host_end[1] == ':')
			port = host_end + 2;
		else if (host_end + 1 != end)
			return -1;
	} else {
		host_end = memchr(v, ':', vlen);
		/* A bare IPv6 address is ambiguous: it must be written in brackets. */
		if (host_end && memchr(host_end + 1, ':', (size_t)(end - host_end - 1)))
			return -1;
		if (host_end)
			port = host_end + 1;
		else
			host_end = end;
	}
	if (port) {
		if ((size_t)(end - port) >= sizeof(portbuf))
			return -1;
		memcpy(portbuf, port, (size_t)(end - port));
		portbuf[end - port] = '\0';
	}
	if (!host_valid(host, (size_t)(host_end - host), v[0] == '[') ||
	    (port && !port_valid(portbuf)))
		return -1;
	out->host = strndup(host, (size_t)(host_end - host));
	out->port = strdup(port ? portbuf : CLI_DEFAULT_PORT);
	return out->host && out->port ? 0 : -2;
}

/* A server_name value: a DNS name or an IP address, "[v6]" accepted. NULL on allocation
 * failure. */
static char *name_dup(const char *v, size_t len)
{
	if (len > 2 && v[0] == '[' && v[len - 1] == ']')
		return strndup(v + 1, len - 2);
	return strndup(v, len);
}

/* A `server` line "unix:PATH", PATH of len bytes and name_len bytes of server name after it:
 * 0, -1 (malformed, reported), -2 (out of memory). */
static int parse_unix(const struct conf *c, const struct conf_entry *e, const char *path,
		      size_t len, size_t name_len, struct cli_server_conf *out)
{
	const size_t max = sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1;

	if (name_len) {
		log_error("%s:%u: server '%.128s': a Unix socket takes no server name (there is no "
			  "TLS on it)",
			  c->path, e->line, e->value);
		return -1;
	}
	if (len == 0 || path[0] != '/') {
		log_error("%s:%u: server '%.128s': the socket path must be absolute "
			  "(unix:/run/teehsm/teehsmd.sock)",
			  c->path, e->line, e->value);
		return -1;
	}
	if (len > max) {
		log_error("%s:%u: server '%.128s': the socket path is longer than %zu bytes",
			  c->path, e->line, e->value, max);
		return -1;
	}
	out->unix_path = strndup(path, len);
	return out->unix_path ? 0 : -2;
}

/* One `server` line: "ADDRESS [SERVER_NAME]" or "unix:PATH". The name defaults to the file's
 * server_name, else to the host. 0, -1 (malformed, reported), -2 (out of memory). */
static int parse_server(const struct conf *c, const struct conf_entry *e, const char *def_name,
			struct cli_server_conf *out)
{
	const char *v = e->value, *sp = v + strcspn(v, " \t"), *name = sp + strspn(sp, " \t");
	size_t name_len = strcspn(name, " \t");
	int r;

	out->line = e->line;
	if (name[name_len] != '\0' || !*v) {
		log_error("%s:%u: server '%.128s' is not 'host:port [server_name]'", c->path,
			  e->line, v);
		return -1;
	}
	if (strncmp(v, "unix:", 5) == 0)
		return parse_unix(c, e, v + 5, (size_t)(sp - v) - 5, name_len, out);
	r = parse_address(v, (size_t)(sp - v), out);
	if (r == -1)
		log_error("%s:%u: server '%.128s' is not host:port or [IPv6]:port", c->path,
			  e->line, v);
	if (r)
		return r;
	if (name_len)
		out->server_name = name_dup(name, name_len);
	else
		out->server_name =
			def_name ? name_dup(def_name, strlen(def_name)) : strdup(out->host);
	if (!out->server_name)
		return -2;
	out->name_is_ip = is_ip_literal(out->server_name);
	return 0;
}

/* Every `server` line, in order: 0, or -1 with the reason on stderr. */
static int parse_servers(const struct conf *c, struct cli_conf *cc)
{
	const char *def_name = conf_get(c, "server_name");
	size_t n = 0;

	if (def_name && !*def_name) {
		log_error("%s:%u: server_name is empty", c->path, conf_line(c, "server_name"));
		return -1;
	}
	for (size_t i = 0; i < c->n; i++)
		n += strcmp(c->entries[i].key, "server") == 0;
	if (n == 0) {
		log_error("%s: 'server' is required (host:port or unix:PATH of teehsmd)", c->path);
		return -1;
	}
	if (n > CLI_MAX_SERVERS) {
		log_error("%s: %zu 'server' lines; at most %d are supported", c->path, n,
			  CLI_MAX_SERVERS);
		return -1;
	}
	cc->servers = calloc(n, sizeof(*cc->servers));
	if (!cc->servers)
		goto nomem;
	for (size_t i = 0; i < c->n; i++) {
		struct cli_server_conf *s = &cc->servers[cc->n_servers];
		int r;

		if (strcmp(c->entries[i].key, "server"))
			continue;
		cc->n_servers++;
		r = parse_server(c, &c->entries[i], def_name, s);
		if (r == -2)
			goto nomem;
		if (r)
			return -1;
		/* The same server twice would show its tokens twice. */
		for (size_t j = 0; j + 1 < cc->n_servers; j++) {
			const struct cli_server_conf *o = &cc->servers[j];

			if (s->unix_path && o->unix_path && !strcmp(o->unix_path, s->unix_path)) {
				log_error("%s:%u: server unix:%s is already named on line %u",
					  c->path, s->line, s->unix_path, o->line);
				return -1;
			}
			if (s->host && o->host && !strcmp(o->host, s->host) &&
			    !strcmp(o->port, s->port)) {
				log_error("%s:%u: server %s:%s is already named on line %u",
					  c->path, s->line, s->host, s->port, o->line);
				return -1;
			}
		}
	}
	return 0;
nomem:
	log_error("%s: out of memory", c->path);
	return -1;
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
	size_t tcp = 0;
	int bad = 0, ret = -1;

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

	if (parse_servers(c, cc))
		goto out;

	cc->ca = conf_file(c, "ca", &bad);
	cc->cert = conf_file(c, "cert", &bad);
	cc->key = conf_file(c, "key", &bad);
	if (bad)
		goto out;
	/* A Unix socket has no TLS: a config of Unix sockets alone needs no CA bundle. */
	for (size_t i = 0; i < cc->n_servers; i++)
		tcp += cc->servers[i].unix_path == NULL;
	if (tcp && !cc->ca) {
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
