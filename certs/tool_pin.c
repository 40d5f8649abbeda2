/*
 * PINs: from a file, from the environment, or typed on the terminal without echo (tool.h).
 * Never from the command line, never printed, and every buffer that held one is wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "common/buf.h"
#include "tool.h"

/* The first line of the file, CR/LF stripped. Read with read(2) into a buffer of our own,
 * so that no stdio buffer keeps a copy. */
static int pin_from_file(const char *path, char *buf, size_t size, size_t *len, char *err,
			 size_t errsz)
{
	char tmp[TOOL_PIN_MAX + 2];
	size_t n = 0, i = 0;
	ssize_t r = 0;
	struct stat st;
	int fd = -1, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz, "cannot open PIN file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0077))
		fprintf(stderr, "teehsm: warning: PIN file %s can be read by others (chmod 600)\n",
			path);
	/* Enough for the longest PIN and its line end; the rest of the file does not matter. */
	while (n < sizeof(tmp)) {
		r = read(fd, tmp + n, sizeof(tmp) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errsz, "cannot read PIN file %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	for (i = 0; i < n && tmp[i] != '\n' && tmp[i] != '\r'; i++)
		;
	if (i == 0) {
		snprintf(err, errsz, "PIN file %s: the first line is empty", path);
		goto out;
	}
	if (i > TOOL_PIN_MAX || i >= size) {
		snprintf(err, errsz, "PIN file %s: the PIN is longer than %d bytes", path,
			 TOOL_PIN_MAX);
		goto out;
	}
	memcpy(buf, tmp, i);
	buf[i] = '\0';
	*len = i;
	rc = 0;
out:
	wipe(tmp, sizeof(tmp));
	close(fd);
	return rc;
}

/* The terminal's settings while a prompt has echo off, restored by the signal handler too. */
static volatile sig_atomic_t g_tty_fd = -1;
static struct termios g_tty_saved;

static void restore_tty_cb(int sig)
{
	if (g_tty_fd >= 0)
		(void)tcsetattr(g_tty_fd, TCSAFLUSH, &g_tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Signals that end us restore the terminal first; stopping is put off until the PIN is in
 * (a stopped prompt would leave the shell without echo, or echo the PIN once resumed). */
static const int prompt_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU };
#define N_PROMPT_SIGNALS (sizeof(prompt_signals) / sizeof(prompt_signals[0]))
#define N_FATAL_SIGNALS	 4

static int pin_from_tty(const char *prompt, char *buf, size_t size, size_t *len, char *err,
			size_t errsz)
{
	struct sigaction sa, old[N_PROMPT_SIGNALS];
	struct termios noecho;
	size_t n = 0;
	ssize_t r = 0;
	char ch = 0;
	bool too_long = false, eof = false;
	int fd = -1, rc = -1;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz,
			 "no PIN given and no terminal to ask for one: use --pin-file "
			 "FILE or TEEHSM_PIN (--so-pin-file or TEEHSM_SO_PIN for the SO)");
		return -1;
	}
	if (tcgetattr(fd, &g_tty_saved) != 0) {
		snprintf(err, errsz, "cannot read the terminal settings: %s", strerror(errno));
		close(fd);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_tty_cb;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_PROMPT_SIGNALS; i++) {
		sa.sa_handler = i < N_FATAL_SIGNALS ? restore_tty_cb : SIG_IGN;
		sigaction(prompt_signals[i], &sa, &old[i]);
	}
	noecho = g_tty_saved;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	noecho.c_lflag |= ICANON;
	g_tty_fd = fd;
	if (tcsetattr(fd, TCSAFLUSH, &noecho) != 0) {
		snprintf(err, errsz, "cannot turn off the terminal's echo: %s", strerror(errno));
		goto out;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		snprintf(err, errsz, "cannot write to the terminal: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			eof = true;
			break;
		}
		if (ch == '\n' || ch == '\r')
			break;
		if (n + 1 < size && n < TOOL_PIN_MAX)
			buf[n++] = ch;
		else
			too_long = true;
	}
	ch = 0;
	(void)!write(fd, "\n", 1);
	if (too_long) {
		snprintf(err, errsz, "the PIN is longer than %d bytes", TOOL_PIN_MAX);
		goto out;
	}
	if (n == 0) {
		snprintf(err, errsz, "%s", eof ? "no PIN entered" : "empty PIN");
		goto out;
	}
	buf[n] = '\0';
	*len = n;
	rc = 0;
out:
	(void)tcsetattr(fd, TCSAFLUSH, &g_tty_saved);
	g_tty_fd = -1;
	for (size_t i = 0; i < N_PROMPT_SIGNALS; i++)
		sigaction(prompt_signals[i], &old[i], NULL);
	close(fd);
	if (rc != 0)
		wipe(buf, size);
	return rc;
}

int tool_pin_read(const char *file, const char *env, const char *prompt, char *buf, size_t size,
		  size_t *len, char *err, size_t errsz)
{
	const char *e = env ? getenv(env) : NULL;
	size_t n = 0;

	*len = 0;
	if (size == 0) {
		snprintf(err, errsz, "no room for a PIN");
		return -1;
	}
	buf[0] = '\0';
	if (file)
		return pin_from_file(file, buf, size, len, err, errsz);
	if (e && *e) {
		n = strlen(e);
		if (n > TOOL_PIN_MAX || n >= size) {
			snprintf(err, errsz, "%s is longer than %d bytes", env, TOOL_PIN_MAX);
			return -1;
		}
		memcpy(buf, e, n + 1);
		*len = n;
		return 0;
	}
	return pin_from_tty(prompt, buf, size, len, err, errsz);
}
