/* Messages, hex, files and URIs for the teehsm command (tool.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "tool.h"

/* Print s with control characters shown as \xHH: names and labels come from certificates and
 * tokens that others made, and must not drive the terminal. */
void tool_put_visible(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
}

static void vmsg(const struct tool *t, const char *kind, const char *fmt, va_list ap)
{
	char msg[2 * TOOL_ERR_LEN];

	/* What was printed before the trouble comes before the message about it. */
	fflush(stdout);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "teehsm%s%s: %s", t && t->cmd ? " " : "", t && t->cmd ? t->cmd : "", kind);
	tool_put_visible(stderr, msg);
	fputc('\n', stderr);
}

void tool_err(const struct tool *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(t, "", fmt, ap);
	va_end(ap);
}

void tool_warn(const struct tool *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(t, "warning: ", fmt, ap);
	va_end(ap);
}

void tool_say(const char *fmt, ...)
{
	char msg[4 * TOOL_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tool_put_visible(stdout, msg);
	putchar('\n');
}

char *tool_hex(const uint8_t *p, size_t len, char *out, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	size_t i = 0;

	if (size == 0)
		return out;
	for (i = 0; i < len && 2 * i + 2 < size; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * i] = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tool_unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi = 0, lo = 0;

	if (!*s)
		return -1;
	while (*s) {
		hi = hexval(s[0]);
		lo = hi < 0 ? -1 : hexval(s[1]);
		if (hi < 0 || lo < 0 || n >= max)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
		/* A colon only between two bytes. */
		if (*s == ':' && s[1])
			s++;
	}
	return (int)n;
}

/* A size for people: "512 KiB", "64 MiB" or bytes. */
static void size_words(size_t n, char *buf, size_t size)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(buf, size, "%zu MiB", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, size, "%zu KiB", n >> 10);
	else
		snprintf(buf, size, "%zu bytes", n);
}

int tool_read_file(const char *path, size_t max, uint8_t **out, size_t *len, char *err,
		   size_t errsz)
{
	const bool is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "standard input" : path;
	uint8_t *buf = NULL, *nb = NULL;
	size_t n = 0, cap = 0;
	ssize_t r = 0;
	char limit[32];
	int fd = -1, rc = -1;

	*out = NULL;
	*len = 0;
	size_words(max, limit, sizeof(limit));
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz, "cannot open %s: %s", name, strerror(errno));
		goto out;
	}
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				snprintf(err, errsz, "%s is larger than %s", name, limit);
				goto out;
			}
			cap = cap ? 2 * cap : 16384;
			nb = realloc(buf, cap + 2);
			if (!nb) {
				snprintf(err, errsz, "out of memory reading %s", name);
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errsz, "cannot read %s: %s", name, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		snprintf(err, errsz, "%s is larger than %s", name, limit);
		goto out;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf) {
			snprintf(err, errsz, "out of memory reading %s", name);
			goto out;
		}
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	buf = NULL; /* the caller owns it */
	rc = 0;
out:
	if (fd >= 0 && !is_stdin)
		close(fd);
	free(buf);
	return rc;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t w = 0;

	while (len) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int tool_write_out(const struct tool *t, const char *path, const void *data, size_t len,
		   bool binary)
{
	char tmp[PATH_MAX];
	char *real = NULL;
	struct stat st;
	int fd = -1, rc = TOOL_FAIL;
	bool direct = false, exists = false;

	tmp[0] = '\0';
	if (!path || strcmp(path, "-") == 0) {
		if (binary && isatty(STDOUT_FILENO)) {
			tool_err(t, "refusing to write binary output to a terminal: use --out FILE "
				    "or redirect standard output");
			return TOOL_USAGE;
		}
		if (write_all(STDOUT_FILENO, data, len) != 0) {
			tool_err(t, "cannot write to standard output: %s", strerror(errno));
			return TOOL_FAIL;
		}
		return TOOL_OK;
	}
	/* A symbolic link is written through: the file it names is what gets replaced. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		real = realpath(path, NULL);
		if (!real) {
			tool_err(t, "cannot follow the link %s: %s", path, strerror(errno));
			return TOOL_FAIL;
		}
		path = real;
	}
	exists = stat(path, &st) == 0;
	/* A device or FIFO (/dev/stdout, a pipe) is written as it is; a file is replaced whole,
	 * so that a failure never leaves half of it, and keeps its mode. */
	direct = exists && !S_ISREG(st.st_mode);
	if (direct) {
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	} else {
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp)) {
			tool_err(t, "%s: path too long", path);
			free(real);
			return TOOL_FAIL;
		}
		fd = mkostemp(tmp, O_CLOEXEC);
		/* mkostemp makes it 0600: give it the mode of the file it replaces, or the one
		 * a new file would get. */
		if (fd >= 0) {
			mode_t um = umask(0);

			umask(um);
			if (fchmod(fd, exists ? st.st_mode & 07777 : 0666 & ~um) != 0) {
				tool_err(t, "cannot set the mode of %s: %s", tmp, strerror(errno));
				goto out;
			}
		}
	}
	if (fd < 0) {
		tool_err(t, "cannot create %s: %s", path, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	if (write_all(fd, data, len) != 0 || (!direct && fsync(fd) != 0)) {
		tool_err(t, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		tool_err(t, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (!direct && rename(tmp, path) != 0) {
		tool_err(t, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	rc = TOOL_OK;
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0])
		unlink(tmp);
	free(real);
	return rc;
}

/* RFC 7512 §2.3: pk11-pchar is unreserved, pk11-res-avail ":" "[" "]" "@" "!" "$" "'" "("
 * ")" "*" "+" "," "=" and "&"; everything else is percent-encoded. */
static size_t pct_encode(const uint8_t *p, size_t len, bool all, char *out)
{
	static const char ok[] = "-._~:[]@!$'()*+,=&";
	static const char digits[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t ch = p[i];

		if (!all && ch &&
		    ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		     (ch >= '0' && ch <= '9') || strchr(ok, ch))) {
			if (out)
				out[o] = (char)ch;
			o++;
			continue;
		}
		if (out) {
			out[o] = '%';
			out[o + 1] = digits[ch >> 4];
			out[o + 2] = digits[ch & 15];
		}
		o += 3;
	}
	return o;
}

char *tool_uri(const char *token, const char *label, const uint8_t *id, size_t id_len,
	       const char *type)
{
	size_t n = 0, o = 0;
	char *s = NULL;

	n = strlen("pkcs11:token=;object=;id=;type=") +
	    pct_encode((const uint8_t *)token, strlen(token), false, NULL) +
	    pct_encode((const uint8_t *)label, strlen(label), false, NULL) + 3 * id_len +
	    strlen(type) + 1;
	s = malloc(n);
	if (!s)
		return NULL;
	o = (size_t)sprintf(s, "pkcs11:token=");
	o += pct_encode((const uint8_t *)token, strlen(token), false, s + o);
	o += (size_t)sprintf(s + o, ";object=");
	o += pct_encode((const uint8_t *)label, strlen(label), false, s + o);
	if (id_len) {
		o += (size_t)sprintf(s + o, ";id=");
		o += pct_encode(id, id_len, true, s + o);
	}
	sprintf(s + o, ";type=%s", type);
	return s;
}

int tool_spki_sha1(EVP_PKEY *pk, uint8_t id[20])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pk, &der);

	if (n <= 0)
		return -1;
	n = EVP_Digest(der, (size_t)n, id, NULL, EVP_sha1(), NULL) == 1 ? 0 : -1;
	OPENSSL_free(der);
	return n;
}
