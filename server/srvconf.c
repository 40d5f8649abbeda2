/*
 * teehsmd's configuration: every key is checked here, once, so that the rest of the server only
 * ever sees values in range. A mistake is reported as "file:line: reason" and teehsmd exits
 * before it listens.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/conf.h"
#include "proto/codec.h"
#include "policy.h"
#include "srvconf.h"

#define DEF_MAX_PIN_FAILURES  10
#define DEF_HANDSHAKE_TIMEOUT 10
#define DEF_IDLE_TIMEOUT      300
#define DEF_MAX_CONNECTIONS   256
#define DEF_MAX_PER_IDENTITY  64
#define DEF_MAX_CALLS	      32
#define DEF_SHUTDOWN_TIMEOUT  30
#define DEF_UNIX_MODE	      0660
#define MAX_WORKERS	      256
/* A watermark above this is a typo, not a plan. */
#define MAX_WATERMARK (1UL << 30)
#define MAX_HOST_LEN  255

static const char *const allowed_keys[] = {
	"listen",
	"ca",
	"cert",
	"key",
	"store",
	"root_key",
	"max_frame",
	"pin_kdf_iterations",
	"max_pin_failures",
	"handshake_timeout",
	"idle_timeout",
	"max_connections",
	"max_connections_per_identity",
	"max_calls_in_flight",
	"read_watermark",
	"write_watermark",
	"workers",
	"shutdown_timeout",
	"unix_socket",
	"unix_socket_mode",
	"crl",
	"allow",
	"audit_log",
	"audit_fsync_interval_ms",
	"log_level",
	NULL,
};

/* The last entry named key (a later line overrides an earlier one), or NULL. */
static const struct conf_entry *last_entry(const struct conf *c, const char *key)
{
	for (size_t i = c->n; i > 0; i--)
		if (strcmp(c->entries[i - 1].key, key) == 0)
			return &c->entries[i - 1];
	return NULL;
}

/* key as a number in [min, max] (or exactly 0 when zero_ok); def when absent. */
static int get_number(const struct conf *c, const char *key, unsigned long def, unsigned long min,
		      unsigned long max, int zero_ok, unsigned long *out, char *err, size_t errlen)
{
	const struct conf_entry *e = last_entry(c, key);
	unsigned long n = 0;

	if (!e) {
		*out = def;
		return 0;
	}
	if (conf_parse_decimal(e->value, &n) || ((n < min || n > max) && !(zero_ok && n == 0))) {
		snprintf(err, errlen, "%s:%u: %s must be a number in [%lu, %lu]%s, not '%.64s'",
			 c->path, e->line, key, min, max, zero_ok ? " or 0" : "", e->value);
		return -1;
	}
	*out = n;
	return 0;
}

/* A required path, resolved relative to the configuration file's directory. */
static int get_path(const struct conf *c, const char *key, int required, char **out, unsigned *line,
		    char *err, size_t errlen)
{
	const struct conf_entry *e = last_entry(c, key);

	*out = NULL;
	if (line)
		*line = 0;
	if (!e) {
		if (!required)
			return 0;
		snprintf(err, errlen, "%s: missing required key '%s'", c->path, key);
		return -1;
	}
	if (e->value[0] == '\0') {
		snprintf(err, errlen, "%s:%u: %s needs a path", c->path, e->line, key);
		return -1;
	}
	*out = conf_path(c, e->value);
	if (!*out) {
		snprintf(err, errlen, "%s: out of memory", c->path);
		return -1;
	}
	if (line)
		*line = e->line;
	return 0;
}

/* "127.0.0.1:5705", "[::1]:5705", "localhost:5705": split into host and port. */
static int parse_listen(const struct conf *c, const struct conf_entry *e, struct srv_listen *l,
			char *err, size_t errlen)
{
	const char *v = e->value, *host, *port;
	size_t host_len;
	unsigned long n = 0;
	char num[8];

	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (!close || close[1] != ':') {
			snprintf(err, errlen, "%s:%u: listen: expected '[IPv6]:PORT', not '%.64s'",
				 c->path, e->line, v);
			return -1;
		}
		host = v + 1;
		host_len = (size_t)(close - host);
		port = close + 2;
	} else {
		const char *colon = strrchr(v, ':');

		if (!colon) {
			snprintf(err, errlen, "%s:%u: listen: expected 'HOST:PORT', not '%.64s'",
				 c->path, e->line, v);
			return -1;
		}
		host = v;
		host_len = (size_t)(colon - host);
		port = colon + 1;
		if (memchr(host, ':', host_len)) {
			snprintf(err, errlen,
				 "%s:%u: listen: write IPv6 addresses in brackets ('[::1]:5705'), "
				 "not '%.64s'",
				 c->path, e->line, v);
			return -1;
		}
	}
	if (host_len == 0 || host_len > MAX_HOST_LEN || strcspn(host, " \t[]") < host_len) {
		snprintf(err, errlen, "%s:%u: listen: invalid host in '%.64s'", c->path, e->line,
			 v);
		return -1;
	}
	if (conf_parse_decimal(port, &n) || n > 65535) {
		snprintf(err, errlen,
			 "%s:%u: listen: the port must be a number in [0, 65535], not '%.16s'",
			 c->path, e->line, port);
		return -1;
	}
	snprintf(num, sizeof(num), "%lu", n);
	l->host = strndup(host, host_len);
	l->port = strdup(num);
	l->line = e->line;
	l->value = e->value;
	if (!l->host || !l->port) {
		snprintf(err, errlen, "%s: out of memory", c->path);
		return -1;
	}
	return 0;
}

void srvconf_free(struct srv_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		free(cfg->listen[i].host);
		free(cfg->listen[i].port);
	}
	free(cfg->ca);
	free(cfg->cert);
	free(cfg->key);
	free(cfg->store);
	free(cfg->root_key);
	free(cfg->unix_socket);
	free(cfg->crl);
	free(cfg->audit_log);
	policy_unref(cfg->policy);
	free(cfg->path);
	conf_free(cfg->conf);
	free(cfg);
}

/* key as an octal file mode (e.g. 0660) of permission bits only; def when absent. */
static int get_mode(const struct conf *c, const char *key, unsigned long def, unsigned long *out,
		    char *err, size_t errlen)
{
	const struct conf_entry *e = last_entry(c, key);
	char *end = NULL;
	unsigned long n;

	*out = def;
	if (!e)
		return 0;
	errno = 0;
	n = strtoul(e->value, &end, 8);
	if (e->value[0] < '0' || e->value[0] > '7' || errno || *end != '\0' || n > 0777) {
		snprintf(err, errlen, "%s:%u: %s must be an octal mode such as 0660, not '%.64s'",
			 c->path, e->line, key, e->value);
		return -1;
	}
	*out = n;
	return 0;
}

int srvconf_load(const char *path, struct srv_config **out, char *err, size_t errlen)
{
	struct srv_config *cfg = NULL;
	struct conf *c = NULL;
	const struct conf_entry *e = NULL;
	unsigned long n = 0;
	int ret = -1;

	*out = NULL;
	if (conf_load(path, &c, err, errlen))
		goto out;
	if (conf_check_keys(c, allowed_keys, err, errlen))
		goto out;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->path = strdup(path))) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	cfg->conf = c;
	c = NULL; /* cfg owns it now */

	for (size_t i = 0; i < cfg->conf->n; i++) {
		e = &cfg->conf->entries[i];
		if (strcmp(e->key, "listen") != 0)
			continue;
		if (cfg->n_listen == SRVCONF_MAX_LISTEN) {
			snprintf(err, errlen, "%s:%u: at most %d listen entries", path, e->line,
				 SRVCONF_MAX_LISTEN);
			goto out;
		}
		if (parse_listen(cfg->conf, e, &cfg->listen[cfg->n_listen++], err, errlen))
			goto out;
	}

	if (get_path(cfg->conf, "ca", 1, &cfg->ca, &cfg->ca_line, err, errlen) ||
	    get_path(cfg->conf, "cert", 1, &cfg->cert, &cfg->cert_line, err, errlen) ||
	    get_path(cfg->conf, "key", 1, &cfg->key, &cfg->key_line, err, errlen) ||
	    get_path(cfg->conf, "store", 1, &cfg->store, &cfg->store_line, err, errlen) ||
	    get_path(cfg->conf, "root_key", 0, &cfg->root_key, NULL, err, errlen) ||
	    get_path(cfg->conf, "crl", 0, &cfg->crl, &cfg->crl_line, err, errlen) ||
	    get_path(cfg->conf, "audit_log", 0, &cfg->audit_log, NULL, err, errlen))
		goto out;

	if (get_number(cfg->conf, "max_frame", CODEC_DEFAULT_MAX_FRAME, CODEC_MIN_MAX_FRAME,
		       CODEC_HARD_MAX_FRAME, 0, &n, err, errlen))
		goto out;
	cfg->max_frame = (size_t)n;
	if (get_number(cfg->conf, "pin_kdf_iterations", 0, 1000, 10000000, 1,
		       &cfg->pin_kdf_iterations, err, errlen) ||
	    get_number(cfg->conf, "max_pin_failures", DEF_MAX_PIN_FAILURES, 1, 100, 0,
		       &cfg->max_pin_failures, err, errlen) ||
	    get_number(cfg->conf, "handshake_timeout", DEF_HANDSHAKE_TIMEOUT, 1, 600, 0,
		       &cfg->handshake_timeout, err, errlen) ||
	    get_number(cfg->conf, "idle_timeout", DEF_IDLE_TIMEOUT, 1, 86400, 0, &cfg->idle_timeout,
		       err, errlen) ||
	    get_number(cfg->conf, "max_connections", DEF_MAX_CONNECTIONS, 1, 65536, 0,
		       &cfg->max_connections, err, errlen))
		goto out;

	if (get_number(cfg->conf, "max_connections_per_identity", DEF_MAX_PER_IDENTITY, 1, 65536, 0,
		       &cfg->max_connections_per_identity, err, errlen) ||
	    get_number(cfg->conf, "max_calls_in_flight", DEF_MAX_CALLS, 1, 4096, 0,
		       &cfg->max_calls_in_flight, err, errlen) ||
	    get_number(cfg->conf, "read_watermark", cfg->max_frame + CODEC_FRAME_HDR,
		       cfg->max_frame + CODEC_FRAME_HDR, MAX_WATERMARK, 0, &n, err, errlen))
		goto out;
	cfg->read_watermark = (size_t)n;
	if (get_number(cfg->conf, "write_watermark", cfg->max_frame, 1, MAX_WATERMARK, 0, &n, err,
		       errlen))
		goto out;
	cfg->write_watermark = (size_t)n;
	if (get_number(cfg->conf, "workers", 0, 1, MAX_WORKERS, 1, &cfg->workers, err, errlen) ||
	    get_number(cfg->conf, "shutdown_timeout", DEF_SHUTDOWN_TIMEOUT, 1, 3600, 0,
		       &cfg->shutdown_timeout, err, errlen) ||
	    get_number(cfg->conf, "audit_fsync_interval_ms", 0, 1, 60000, 1,
		       &cfg->audit_fsync_interval_ms, err, errlen))
		goto out;
	if (cfg->workers == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		cfg->workers = cores < 1	     ? 1
			       : cores > MAX_WORKERS ? MAX_WORKERS
						     : (unsigned long)cores;
	}
	if (get_path(cfg->conf, "unix_socket", 0, &cfg->unix_socket, &cfg->unix_socket_line, err,
		     errlen) ||
	    get_mode(cfg->conf, "unix_socket_mode", DEF_UNIX_MODE, &cfg->unix_socket_mode, err,
		     errlen))
		goto out;
	if (cfg->unix_socket &&
	    strlen(cfg->unix_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "%s:%u: unix_socket: the path is longer than %zu bytes", path,
			 cfg->unix_socket_line, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		goto out;
	}

	if (cfg->n_listen == 0 && !cfg->unix_socket) {
		snprintf(err, errlen,
			 "%s: missing required key 'listen' (e.g. listen = 127.0.0.1:5705) or "
			 "'unix_socket'",
			 path);
		goto out;
	}

	if (policy_load(cfg->conf, &cfg->policy, err, errlen))
		goto out;

	cfg->log_level = LOG_LVL_INFO;
	e = last_entry(cfg->conf, "log_level");
	if (e && log_parse_level(e->value, &cfg->log_level)) {
		snprintf(err, errlen,
			 "%s:%u: log_level must be error, warn, info or debug, not '%.64s'", path,
			 e->line, e->value);
		goto out;
	}

	*out = cfg;
	cfg = NULL; /* the caller owns it now */
	ret = 0;
out:
	conf_free(c);
	srvconf_free(cfg);
	return ret;
}
