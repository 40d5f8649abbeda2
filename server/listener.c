/*
 * The listening sockets. Each "listen" entry may resolve to several addresses (localhost:5705 is
 * 127.0.0.1 and ::1); every one is bound, IPv6 ones with IPV6_V6ONLY so that both families can
 * use the same port number. With port 0 the kernel picks the port of the entry's first address
 * and its other addresses reuse it, so one entry is one port.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/listener.h>

#include "common/log.h"
#include "conn.h"
#include "listener.h"

/* Most sockets one listen entry may open (the addresses its name resolves to). */
#define ADDRS_PER_ENTRY 8
#define MAX_LISTENERS	(SRVCONF_MAX_LISTEN * ADDRS_PER_ENTRY)
/* After accept() fails for want of resources (EMFILE, ENOBUFS), pause before trying again
 * rather than spin on a readable socket. */
#define ACCEPT_PAUSE_SEC 1

struct listener {
	struct listeners *set;
	struct evconnlistener *lev;
	struct event *resume_timer;
	char addr[NI_MAXHOST + NI_MAXSERV + 4];
};

struct listeners {
	struct srv *srv;
	struct listener unix_l; /* the local agents' socket, when configured */
	dev_t unix_dev;		/* what we bound, so that only that is unlinked */
	ino_t unix_ino;
	struct addrinfo *res[SRVCONF_MAX_LISTEN]; /* per listen entry, resolved up front */
	struct listener v[MAX_LISTENERS];
	size_t n;
	unsigned first_port;
};

static void listener_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
			       int salen, void *arg)
{
	struct listener *l = arg;
	struct srv *srv = l->set->srv;
	char addr[NI_MAXHOST + NI_MAXSERV + 4];

	(void)lev;
	if (srv->stopping) {
		evutil_closesocket(fd);
		return;
	}
	if (srv->n_conns >= srv->cfg->max_connections) {
		log_warn("%s: refused: %zu connections open (max_connections)",
			 l == &l->set->unix_l
				 ? l->addr
				 : conn_format_addr(sa, (socklen_t)salen, addr, sizeof(addr)),
			 srv->n_conns);
		evutil_closesocket(fd);
		return;
	}
	if (l == &l->set->unix_l)
		conn_new_unix(srv, fd, srv->cfg->unix_socket);
	else
		conn_new(srv, fd, sa, (socklen_t)salen);
}

static void listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)what;
	if (!l->set->srv->stopping && evconnlistener_enable(l->lev) == 0)
		log_info("listening on %s again", l->addr);
}

static void listener_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listener *l = arg;
	struct timeval tv = { .tv_sec = ACCEPT_PAUSE_SEC, .tv_usec = 0 };
	int err = EVUTIL_SOCKET_ERROR();

	log_warn("%s: accept failed: %s; pausing for %d s", l->addr,
		 evutil_socket_error_to_string(err), ACCEPT_PAUSE_SEC);
	evconnlistener_disable(lev);
	if (evtimer_add(l->resume_timer, &tv) != 0)
		log_error("%s: cannot schedule accepting again", l->addr);
}

/* The port number of sa (host order). */
static unsigned sockaddr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

static void sockaddr_set_port(struct sockaddr *sa, unsigned port)
{
	if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
}

/* Bind one address of entry le. *port: 0, or the port an earlier address of a port-0 entry got
 * (then reused); set to the port bound. */
static int listener_bind(struct listeners *ls, const struct srv_listen *le,
			 const struct addrinfo *ai, unsigned *port, char *err, size_t errlen)
{
	const struct srv_config *cfg = ls->srv->cfg;
	struct listener *l = &ls->v[ls->n];
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
	char want[NI_MAXHOST + NI_MAXSERV + 4];

	if (ai->ai_addrlen > sizeof(ss) || (ai->ai_family != AF_INET && ai->ai_family != AF_INET6))
		return 0; /* not a TCP/IP address: nothing to bind */
	if (ls->n == MAX_LISTENERS) {
		snprintf(err, errlen, "%s:%u: too many listening addresses", cfg->path, le->line);
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	sslen = (socklen_t)ai->ai_addrlen;
	if (*port)
		sockaddr_set_port((struct sockaddr *)&ss, *port);
	if (ai->ai_family == AF_INET6)
		flags |= LEV_OPT_BIND_IPV6ONLY;

	memset(l, 0, sizeof(*l));
	l->set = ls;
	conn_format_addr((struct sockaddr *)&ss, sslen, want, sizeof(want));
	l->lev = evconnlistener_new_bind(ls->srv->base, listener_accept_cb, l, flags, -1,
					 (struct sockaddr *)&ss, (int)sslen);
	if (!l->lev) {
		snprintf(err, errlen, "%s:%u: listen = %s: cannot listen on %s: %s", cfg->path,
			 le->line, le->value, want,
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		return -1;
	}
	ls->n++; /* listeners_free releases it from now on */
	l->resume_timer = evtimer_new(ls->srv->base, listener_resume_cb, l);
	if (!l->resume_timer) {
		snprintf(err, errlen, "%s: out of memory", cfg->path);
		return -1;
	}
	evconnlistener_set_error_cb(l->lev, listener_error_cb);
	/* The port the kernel chose, when asked for 0. */
	sslen = sizeof(ss);
	if (getsockname(evconnlistener_get_fd(l->lev), (struct sockaddr *)&ss, &sslen) != 0) {
		snprintf(err, errlen, "%s:%u: getsockname: %s", cfg->path, le->line,
			 strerror(errno));
		return -1;
	}
	*port = sockaddr_port((struct sockaddr *)&ss);
	conn_format_addr((struct sockaddr *)&ss, sslen, l->addr, sizeof(l->addr));
	return 0;
}

/* Did getaddrinfo list ai's address earlier in res already? */
static int seen_before(const struct addrinfo *res, const struct addrinfo *ai)
{
	for (const struct addrinfo *p = res; p != ai; p = p->ai_next)
		if (p->ai_addrlen == ai->ai_addrlen &&
		    memcmp(p->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0)
			return 1;
	return 0;
}

int listeners_new(struct srv *srv, struct listeners **out, char *err, size_t errlen)
{
	const struct srv_config *cfg = srv->cfg;
	struct listeners *ls = NULL;
	int ret = -1;

	*out = NULL;
	ls = calloc(1, sizeof(*ls));
	if (!ls) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	ls->srv = srv;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct srv_listen *le = &cfg->listen[i];
		struct addrinfo hints;
		int rc;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_protocol = IPPROTO_TCP;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		rc = getaddrinfo(le->host, le->port, &hints, &ls->res[i]);
		if (rc != 0) {
			ls->res[i] = NULL;
			snprintf(err, errlen, "%s:%u: listen = %s: cannot resolve '%s': %s",
				 cfg->path, le->line, le->value, le->host, gai_strerror(rc));
			goto out;
		}
	}
	*out = ls;
	ls = NULL; /* the caller owns it now */
	ret = 0;
out:
	listeners_free(ls);
	return ret;
}

/* Is something already accepting on the Unix socket at path? */
static int unix_in_use(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int used = 0;

	if (fd < 0)
		return 0;
	used = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return used;
}

/* The local agents' socket: no TLS; the kernel names each peer (SO_PEERCRED). A socket file
 * left by an earlier run is replaced; one that a live server accepts on is not. */
static int listener_bind_unix(struct listeners *ls, char *err, size_t errlen)
{
	const struct srv_config *cfg = ls->srv->cfg;
	struct listener *l = &ls->unix_l;
	struct sockaddr_un sun;
	struct stat st;
	int fd = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* srvconf checked that it fits. */
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", cfg->unix_socket);
	if (lstat(sun.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s:%u: unix_socket = %s: exists and is not a socket",
				 cfg->path, cfg->unix_socket_line, sun.sun_path);
			return -1;
		}
		if (unix_in_use(&sun)) {
			snprintf(err, errlen,
				 "%s:%u: unix_socket = %s: another process accepts on it",
				 cfg->path, cfg->unix_socket_line, sun.sun_path);
			return -1;
		}
		unlink(sun.sun_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		snprintf(err, errlen, "%s:%u: unix_socket = %s: cannot bind: %s", cfg->path,
			 cfg->unix_socket_line, sun.sun_path, strerror(errno));
		goto fail;
	}
	/* Nobody can connect before listen(): set the mode first. */
	if (chmod(sun.sun_path, (mode_t)cfg->unix_socket_mode) != 0 ||
	    lstat(sun.sun_path, &st) != 0) {
		snprintf(err, errlen, "%s:%u: unix_socket = %s: cannot set its mode: %s", cfg->path,
			 cfg->unix_socket_line, sun.sun_path, strerror(errno));
		unlink(sun.sun_path);
		goto fail;
	}
	ls->unix_dev = st.st_dev;
	ls->unix_ino = st.st_ino;
	if (listen(fd, SOMAXCONN) != 0) {
		snprintf(err, errlen, "%s:%u: unix_socket = %s: cannot listen: %s", cfg->path,
			 cfg->unix_socket_line, sun.sun_path, strerror(errno));
		unlink(sun.sun_path);
		goto fail;
	}
	l->set = ls;
	snprintf(l->addr, sizeof(l->addr), "unix:%s", sun.sun_path);
	l->lev = evconnlistener_new(ls->srv->base, listener_accept_cb, l,
				    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (!l->lev) {
		snprintf(err, errlen, "unix_socket: out of memory");
		unlink(sun.sun_path);
		goto fail;
	}
	fd = -1; /* the listener owns it */
	l->resume_timer = evtimer_new(ls->srv->base, listener_resume_cb, l);
	if (!l->resume_timer) {
		snprintf(err, errlen, "unix_socket: out of memory");
		return -1;
	}
	evconnlistener_set_error_cb(l->lev, listener_error_cb);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	ls->unix_ino = 0;
	return -1;
}

int listeners_start(struct listeners *ls, char *err, size_t errlen)
{
	const struct srv_config *cfg = ls->srv->cfg;

	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct srv_listen *le = &cfg->listen[i];
		const struct addrinfo *ai;
		unsigned port = 0, n_addrs = 0;

		for (ai = ls->res[i]; ai; ai = ai->ai_next) {
			if (n_addrs++ == ADDRS_PER_ENTRY)
				break;
			if (seen_before(ls->res[i], ai))
				continue;
			if (listener_bind(ls, le, ai, &port, err, errlen))
				return -1;
		}
		if (port == 0) {
			snprintf(err, errlen, "%s:%u: listen = %s: no address to listen on",
				 cfg->path, le->line, le->value);
			return -1;
		}
		if (i == 0)
			ls->first_port = port;
	}
	if (cfg->unix_socket && listener_bind_unix(ls, err, errlen))
		return -1;
	for (size_t i = 0; i < ls->n; i++)
		log_info("listening on %s", ls->v[i].addr);
	if (ls->unix_l.lev)
		log_info("listening on %s (mode %04lo)", ls->unix_l.addr, cfg->unix_socket_mode);
	return 0;
}

unsigned listeners_first_port(const struct listeners *ls)
{
	return ls->first_port;
}

void listeners_free(struct listeners *ls)
{
	if (!ls)
		return;
	for (size_t i = 0; i < ls->n; i++) {
		if (ls->v[i].resume_timer)
			event_free(ls->v[i].resume_timer);
		evconnlistener_free(ls->v[i].lev);
	}
	for (size_t i = 0; i < SRVCONF_MAX_LISTEN; i++)
		if (ls->res[i])
			freeaddrinfo(ls->res[i]);
	if (ls->unix_l.resume_timer)
		event_free(ls->unix_l.resume_timer);
	if (ls->unix_l.lev) {
		struct stat st;
		const char *path = ls->srv->cfg->unix_socket;

		evconnlistener_free(ls->unix_l.lev);
		/* Remove our socket file, not one a newer server has put there since. */
		if (lstat(path, &st) == 0 && st.st_dev == ls->unix_dev && st.st_ino == ls->unix_ino)
			unlink(path);
	}
	free(ls);
}
