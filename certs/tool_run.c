/*
 * Running the CA command of `teehsm enroll` (tool.h): /bin/sh -c CMD with the request on its
 * standard input and its standard output captured, bounded in size and time. Its standard
 * error is ours, so that the CA's messages reach the operator.
 *
 * The command stays in our process group: a CA script that asks for a passphrase on the
 * terminal must be able to. A timeout, too much output or our own SIGINT/SIGTERM/SIGHUP stop
 * it with SIGTERM, then SIGKILL after a grace period.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

extern char **environ;

#define KILL_GRACE_MS 2000 /* between SIGTERM and SIGKILL */
#define EOF_GRACE_MS  2000 /* for the end of its output once the command has exited */
#define POLL_TICK_MS  100

static volatile sig_atomic_t g_stop;

static void stop_cb(int sig)
{
	g_stop = sig;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether entry "NAME=..." has one of the names of list (entries "NAME" or "NAME=..."). */
static bool name_in(const char *entry, const char *const *list)
{
	size_t n = strcspn(entry, "=");

	for (; list && *list; list++)
		if (strncmp(*list, entry, n) == 0 && ((*list)[n] == '=' || (*list)[n] == '\0'))
			return true;
	return false;
}

/* The child's environment, built before fork: after it only async-signal-safe calls. The
 * strings are borrowed. */
static char **make_env(const struct tool_run *r)
{
	size_t n = 0, m = 0, o = 0;
	char **envp = NULL;

	while (environ && environ[n])
		n++;
	while (r->env && r->env[m])
		m++;
	envp = calloc(n + m + 1, sizeof(*envp));
	if (!envp)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!name_in(environ[i], r->unset) && !name_in(environ[i], r->env))
			envp[o++] = environ[i];
	for (size_t i = 0; i < m; i++)
		envp[o++] = (char *)r->env[i];
	envp[o] = NULL;
	return envp;
}

/* Stop the command: SIGTERM, then SIGKILL; reap it. */
static void stop_child(pid_t pid)
{
	long long end = now_ms() + KILL_GRACE_MS;
	int st = 0;

	kill(pid, SIGTERM);
	while (now_ms() < end) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		poll(NULL, 0, 50);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The parent's loop: feed stdin, collect stdout, until the command has exited and closed
 * its output. Returns TOOL_RUN_OK with *status set, or why it stopped. */
static enum tool_run_result pump(const struct tool_run *r, pid_t pid, int *in_fd, int *out_fd,
				 uint8_t **buf, size_t *len, int *status, bool *reaped, char *err,
				 size_t errsz)
{
	const long long deadline = now_ms() + (long long)r->timeout_s * 1000;
	long long exited_at = 0, left = 0;
	size_t cap = 0, sent = 0;
	struct pollfd pf[2];
	uint8_t *nb = NULL;
	ssize_t k = 0;
	nfds_t n = 0;

	for (;;) {
		if (g_stop) {
			snprintf(err, errsz, "interrupted by signal %d (%s)", (int)g_stop,
				 strsignal(g_stop));
			return TOOL_RUN_INTERRUPTED;
		}
		if (!*reaped && waitpid(pid, status, WNOHANG) == pid) {
			*reaped = true;
			exited_at = now_ms();
		}
		if (*reaped && *out_fd < 0)
			return TOOL_RUN_OK;
		left = deadline - now_ms();
		if (left <= 0) {
			snprintf(err, errsz,
				 "the CA command did not finish within %u s "
				 "(--ca-timeout)",
				 r->timeout_s);
			return TOOL_RUN_TIMEOUT;
		}
		if (*reaped && now_ms() - exited_at > EOF_GRACE_MS) {
			snprintf(err, errsz,
				 "the CA command exited, but its standard output stayed "
				 "open (a background process it started?)");
			return TOOL_RUN_ERROR;
		}
		n = 0;
		if (*out_fd >= 0)
			pf[n++] = (struct pollfd){ .fd = *out_fd, .events = POLLIN };
		if (*in_fd >= 0)
			pf[n++] = (struct pollfd){ .fd = *in_fd, .events = POLLOUT };
		if (poll(pf, n, left < POLL_TICK_MS ? (int)left : POLL_TICK_MS) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errsz, "poll: %s", strerror(errno));
			return TOOL_RUN_ERROR;
		}
		for (nfds_t i = 0; i < n; i++) {
			if (!pf[i].revents)
				continue;
			if (pf[i].fd == *in_fd) {
				k = write(*in_fd, r->in + sent, r->in_len - sent);
				if (k > 0)
					sent += (size_t)k;
				/* A command that does not read its input is its own business. */
				if ((k < 0 && errno != EAGAIN && errno != EINTR) ||
				    sent == r->in_len)
					close_fd(in_fd);
				continue;
			}
			if (*len == cap) {
				if (cap > r->max_out) {
					snprintf(err, errsz,
						 "the CA command printed more than %zu "
						 "bytes",
						 r->max_out);
					return TOOL_RUN_TOO_BIG;
				}
				cap = cap ? 2 * cap : 16384;
				nb = realloc(*buf, cap + 1);
				if (!nb) {
					snprintf(err, errsz, "out of memory");
					return TOOL_RUN_ERROR;
				}
				*buf = nb;
			}
			k = read(*out_fd, *buf + *len, cap - *len);
			if (k > 0) {
				*len += (size_t)k;
				if (*len > r->max_out) {
					snprintf(err, errsz,
						 "the CA command printed more than %zu "
						 "bytes",
						 r->max_out);
					return TOOL_RUN_TOO_BIG;
				}
			} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(out_fd);
			}
		}
	}
}

enum tool_run_result tool_run(const struct tool_run *r, uint8_t **out, size_t *out_len, char *err,
			      size_t errsz)
{
	static const int stop_sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa, ign, old_pipe, old_stop[3];
	int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 };
	enum tool_run_result res = TOOL_RUN_ERROR;
	char *argv[] = { "sh", "-c", (char *)r->cmd, NULL };
	char **envp = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int status = 0;
	bool reaped = false;
	pid_t pid = -1;

	*out = NULL;
	*out_len = 0;
	err[0] = '\0';
	envp = make_env(r);
	if (!envp) {
		snprintf(err, errsz, "out of memory");
		return TOOL_RUN_ERROR;
	}
	if (pipe2(in_p, O_CLOEXEC) != 0 || pipe2(out_p, O_CLOEXEC) != 0) {
		snprintf(err, errsz, "pipe: %s", strerror(errno));
		goto out;
	}
	/* Our writes to a command that stopped reading fail with EPIPE instead of killing us;
	 * our own stop signals end the command and return, so that the caller can clean up. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old_pipe);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_cb;
	sigemptyset(&sa.sa_mask);
	g_stop = 0;
	for (size_t i = 0; i < 3; i++)
		sigaction(stop_sigs[i], &sa, &old_stop[i]);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errsz, "fork: %s", strerror(errno));
		goto restore;
	}
	if (pid == 0) {
		/* The child: async-signal-safe calls only (the module may have threads). */
		if (dup2(in_p[0], STDIN_FILENO) < 0 || dup2(out_p[1], STDOUT_FILENO) < 0)
			_exit(127);
		closefrom(3); /* nothing of ours (the module's connection) reaches the CA */
		sigaction(SIGPIPE, &old_pipe, NULL);
		for (size_t i = 0; i < 3; i++)
			sigaction(stop_sigs[i], &old_stop[i], NULL);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	close_fd(&in_p[0]);
	close_fd(&out_p[1]);
	fcntl(in_p[1], F_SETFL, O_NONBLOCK);
	fcntl(out_p[0], F_SETFL, O_NONBLOCK);
	if (r->in_len == 0)
		close_fd(&in_p[1]);
	res = pump(r, pid, &in_p[1], &out_p[0], &buf, &len, &status, &reaped, err, errsz);
	if (res != TOOL_RUN_OK) {
		close_fd(&in_p[1]);
		close_fd(&out_p[0]);
		/* Once reaped, its pid may be another process's already. */
		if (!reaped)
			stop_child(pid);
		goto restore;
	}
	if (WIFSIGNALED(status)) {
		snprintf(err, errsz, "the CA command was killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
		res = TOOL_RUN_FAILED;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errsz, "the CA command exited with status %d%s", WEXITSTATUS(status),
			 WEXITSTATUS(status) == 127 ? " (command not found?)" : "");
		res = TOOL_RUN_FAILED;
	} else {
		if (!buf)
			buf = malloc(1);
		if (!buf) {
			snprintf(err, errsz, "out of memory");
			res = TOOL_RUN_ERROR;
			goto restore;
		}
		buf[len] = 0;
		*out = buf;
		*out_len = len;
		buf = NULL; /* the caller owns it */
	}
restore:
	sigaction(SIGPIPE, &old_pipe, NULL);
	for (size_t i = 0; i < 3; i++)
		sigaction(stop_sigs[i], &old_stop[i], NULL);
out:
	close_fd(&in_p[0]);
	close_fd(&in_p[1]);
	close_fd(&out_p[0]);
	close_fd(&out_p[1]);
	free(buf);
	free(envp);
	return res;
}
