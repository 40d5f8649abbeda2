/*
 * The audit log (audit.h). Each line is built in one fixed buffer under the log's mutex and
 * written with one write(2), so concurrent workers never interleave and the times in the file
 * never go backwards. Durability is either an fsync per line or a background thread that fsyncs
 * a dup of the descriptor, so writers never wait for the disk behind the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pkcs11_ext.h"
#include "audit.h"

/* Seconds between two reports of write or fsync failures. */
#define AUDIT_ERR_INTERVAL 60

/* The longest line: every string escaped at 6 bytes per input byte, plus keys and numbers. The
 * leading byte is room for the '\n' that ends a line a failed write left unfinished. */
#define AUDIT_FIELD_MAX(n) (6 * (size_t)(n) + 32)
#define AUDIT_LINE_MAX                                                                             \
	(1 + 64 + 6 * AUDIT_FIELD_MAX(AUDIT_STR_MAX) + AUDIT_FIELD_MAX(AUDIT_LABEL_MAX) +          \
	 AUDIT_FIELD_MAX(AUDIT_ID_MAX) + 256)

struct audit {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* wakes the fsync thread to stop */
	pthread_t thread;
	bool has_thread, stop;
	char *path;
	long fsync_ms;
	int fd;
	int retired_fd;	   /* the file before audit_reopen, still to be fsync'ed; -1 when none */
	bool dirty;	   /* lines written to fd since its last fsync */
	bool broken;	   /* the last write left a partial line */
	bool err_reported; /* err_time is valid */
	struct timespec err_time;
	unsigned long lost; /* lines not written since the last report */
	char line[AUDIT_LINE_MAX];
};

/* --- names -------------------------------------------------------------------------------- */

#define NAME(x)                                                                                    \
	{                                                                                          \
		x, #x                                                                              \
	}

struct ck_name {
	unsigned long v;
	const char *name;
};

static const struct ck_name mech_names[] = {
	NAME(CKM_RSA_PKCS_KEY_PAIR_GEN),
	NAME(CKM_RSA_PKCS),
	NAME(CKM_RSA_PKCS_OAEP),
	NAME(CKM_RSA_PKCS_PSS),
	NAME(CKM_SHA1_RSA_PKCS),
	NAME(CKM_SHA224_RSA_PKCS),
	NAME(CKM_SHA256_RSA_PKCS),
	NAME(CKM_SHA384_RSA_PKCS),
	NAME(CKM_SHA512_RSA_PKCS),
	NAME(CKM_SHA1_RSA_PKCS_PSS),
	NAME(CKM_SHA224_RSA_PKCS_PSS),
	NAME(CKM_SHA256_RSA_PKCS_PSS),
	NAME(CKM_SHA384_RSA_PKCS_PSS),
	NAME(CKM_SHA512_RSA_PKCS_PSS),
	NAME(CKM_EC_KEY_PAIR_GEN),
	NAME(CKM_ECDSA),
	NAME(CKM_ECDSA_SHA1),
	NAME(CKM_ECDSA_SHA224),
	NAME(CKM_ECDSA_SHA256),
	NAME(CKM_ECDSA_SHA384),
	NAME(CKM_ECDSA_SHA512),
	NAME(CKM_ECDH1_DERIVE),
	NAME(CKM_EC_EDWARDS_KEY_PAIR_GEN),
	NAME(CKM_EDDSA),
	NAME(CKM_AES_KEY_GEN),
	NAME(CKM_AES_ECB),
	NAME(CKM_AES_CBC),
	NAME(CKM_AES_CBC_PAD),
	NAME(CKM_AES_CTR),
	NAME(CKM_AES_GCM),
	NAME(CKM_AES_CMAC),
	NAME(CKM_AES_KEY_WRAP),
	NAME(CKM_AES_KEY_WRAP_PAD),
	NAME(CKM_GENERIC_SECRET_KEY_GEN),
	NAME(CKM_SHA_1),
	NAME(CKM_SHA224),
	NAME(CKM_SHA256),
	NAME(CKM_SHA384),
	NAME(CKM_SHA512),
	NAME(CKM_SHA_1_HMAC),
	NAME(CKM_SHA224_HMAC),
	NAME(CKM_SHA256_HMAC),
	NAME(CKM_SHA384_HMAC),
	NAME(CKM_SHA512_HMAC),
};

static const struct ck_name rv_names[] = {
	NAME(CKR_OK),
	NAME(CKR_CANCEL),
	NAME(CKR_HOST_MEMORY),
	NAME(CKR_SLOT_ID_INVALID),
	NAME(CKR_GENERAL_ERROR),
	NAME(CKR_FUNCTION_FAILED),
	NAME(CKR_ARGUMENTS_BAD),
	NAME(CKR_NO_EVENT),
	NAME(CKR_NEED_TO_CREATE_THREADS),
	NAME(CKR_CANT_LOCK),
	NAME(CKR_ATTRIBUTE_READ_ONLY),
	NAME(CKR_ATTRIBUTE_SENSITIVE),
	NAME(CKR_ATTRIBUTE_TYPE_INVALID),
	NAME(CKR_ATTRIBUTE_VALUE_INVALID),
	NAME(CKR_ACTION_PROHIBITED),
	NAME(CKR_DATA_INVALID),
	NAME(CKR_DATA_LEN_RANGE),
	NAME(CKR_DEVICE_ERROR),
	NAME(CKR_DEVICE_MEMORY),
	NAME(CKR_DEVICE_REMOVED),
	NAME(CKR_ENCRYPTED_DATA_INVALID),
	NAME(CKR_ENCRYPTED_DATA_LEN_RANGE),
	NAME(CKR_FUNCTION_CANCELED),
	NAME(CKR_FUNCTION_NOT_PARALLEL),
	NAME(CKR_FUNCTION_NOT_SUPPORTED),
	NAME(CKR_KEY_HANDLE_INVALID),
	NAME(CKR_KEY_SIZE_RANGE),
	NAME(CKR_KEY_TYPE_INCONSISTENT),
	NAME(CKR_KEY_NOT_NEEDED),
	NAME(CKR_KEY_CHANGED),
	NAME(CKR_KEY_NEEDED),
	NAME(CKR_KEY_INDIGESTIBLE),
	NAME(CKR_KEY_FUNCTION_NOT_PERMITTED),
	NAME(CKR_KEY_NOT_WRAPPABLE),
	NAME(CKR_KEY_UNEXTRACTABLE),
	NAME(CKR_MECHANISM_INVALID),
	NAME(CKR_MECHANISM_PARAM_INVALID),
	NAME(CKR_OBJECT_HANDLE_INVALID),
	NAME(CKR_OPERATION_ACTIVE),
	NAME(CKR_OPERATION_NOT_INITIALIZED),
	NAME(CKR_PIN_INCORRECT),
	NAME(CKR_PIN_INVALID),
	NAME(CKR_PIN_LEN_RANGE),
	NAME(CKR_PIN_EXPIRED),
	NAME(CKR_PIN_LOCKED),
	NAME(CKR_SESSION_CLOSED),
	NAME(CKR_SESSION_COUNT),
	NAME(CKR_SESSION_HANDLE_INVALID),
	NAME(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
	NAME(CKR_SESSION_READ_ONLY),
	NAME(CKR_SESSION_EXISTS),
	NAME(CKR_SESSION_READ_ONLY_EXISTS),
	NAME(CKR_SESSION_READ_WRITE_SO_EXISTS),
	NAME(CKR_SIGNATURE_INVALID),
	NAME(CKR_SIGNATURE_LEN_RANGE),
	NAME(CKR_TEMPLATE_INCOMPLETE),
	NAME(CKR_TEMPLATE_INCONSISTENT),
	NAME(CKR_TOKEN_NOT_PRESENT),
	NAME(CKR_TOKEN_NOT_RECOGNIZED),
	NAME(CKR_TOKEN_WRITE_PROTECTED),
	NAME(CKR_UNWRAPPING_KEY_HANDLE_INVALID),
	NAME(CKR_UNWRAPPING_KEY_SIZE_RANGE),
	NAME(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT),
	NAME(CKR_USER_ALREADY_LOGGED_IN),
	NAME(CKR_USER_NOT_LOGGED_IN),
	NAME(CKR_USER_PIN_NOT_INITIALIZED),
	NAME(CKR_USER_TYPE_INVALID),
	NAME(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
	NAME(CKR_USER_TOO_MANY_TYPES),
	NAME(CKR_WRAPPED_KEY_INVALID),
	NAME(CKR_WRAPPED_KEY_LEN_RANGE),
	NAME(CKR_WRAPPING_KEY_HANDLE_INVALID),
	NAME(CKR_WRAPPING_KEY_SIZE_RANGE),
	NAME(CKR_WRAPPING_KEY_TYPE_INCONSISTENT),
	NAME(CKR_RANDOM_SEED_NOT_SUPPORTED),
	NAME(CKR_RANDOM_NO_RNG),
	NAME(CKR_DOMAIN_PARAMS_INVALID),
	NAME(CKR_CURVE_NOT_SUPPORTED),
	NAME(CKR_BUFFER_TOO_SMALL),
	NAME(CKR_SAVED_STATE_INVALID),
	NAME(CKR_INFORMATION_SENSITIVE),
	NAME(CKR_STATE_UNSAVEABLE),
	NAME(CKR_CRYPTOKI_NOT_INITIALIZED),
	NAME(CKR_CRYPTOKI_ALREADY_INITIALIZED),
	NAME(CKR_MUTEX_BAD),
	NAME(CKR_MUTEX_NOT_LOCKED),
	NAME(CKR_VENDOR_DEFINED),
};

static const char *ck_name(const struct ck_name *t, size_t n, unsigned long v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].v == v)
			return t[i].name;
	return NULL;
}

/* --- building a line ---------------------------------------------------------------------- */

/* An append-only view of the line buffer. The buffer is sized for the largest record, so a
 * put past its end is a bug; it is refused rather than written. */
struct out {
	char *p;
	size_t len, cap;
};

static void put(struct out *o, const void *s, size_t n)
{
	if (n > o->cap - o->len)
		return;
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < o->cap - o->len)
		o->len += (size_t)n;
}

/* The length of the valid UTF-8 sequence at s (n bytes available), or 0 if there is none
 * (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF). */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* Cut n bytes of s to at most max, moving back to the start of a UTF-8 character that would
 * otherwise be split. */
static size_t utf8_cut(const uint8_t *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	for (size_t back = 1; back <= 3 && back <= max; back++) {
		size_t i = max - back;

		if (s[i] < 0xc0)
			continue; /* ASCII or a continuation byte: keep looking for the lead */
		if (utf8_len(s + i, n - i) > back)
			return i;
		break;
	}
	return max;
}

/* A JSON string of n bytes. */
static void put_json(struct out *o, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	put(o, "\"", 1);
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		size_t len;

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			put(o, esc, 2);
			i++;
			continue;
		}
		if (c == '\n' || c == '\t' || c == '\r') {
			put(o, c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r", 2);
			i++;
			continue;
		}
		len = c >= 0x20 && c != 0x7f ? utf8_len(s + i, n - i) : 0;
		if (len == 0) {
			/* A control character, DEL, or a byte that is not valid UTF-8. */
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };

			put(o, esc, sizeof(esc));
			i++;
			continue;
		}
		put(o, s + i, len);
		i += len;
	}
	put(o, "\"", 1);
}

/* ,"key":"value" for a C string cut at AUDIT_STR_MAX; nothing when s is NULL. */
static void put_field_str(struct out *o, const char *key, const char *s)
{
	size_t n;

	if (!s)
		return;
	n = strnlen(s, AUDIT_STR_MAX + 4);
	putf(o, ",\"%s\":", key);
	put_json(o, (const uint8_t *)s, utf8_cut((const uint8_t *)s, n, AUDIT_STR_MAX));
}

static void put_time(struct out *o)
{
	struct timespec ts = { 0 };
	struct tm tm;
	char when[32] = "1970-01-01T00:00:00";

	clock_gettime(CLOCK_REALTIME, &ts);
	if (gmtime_r(&ts.tv_sec, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	putf(o, "{\"time\":\"%s.%03ldZ\"", when, ts.tv_nsec / 1000000);
}

static void build_line(struct out *o, const struct audit_rec *r)
{
	static const char hex[] = "0123456789abcdef";
	const char *name;

	put_time(o);
	put_field_str(o, "identity", r->identity);
	put_field_str(o, "transport", r->transport);
	put_field_str(o, "peer", r->peer);
	put_field_str(o, "token", r->token);
	put_field_str(o, "call", r->call);
	if (r->has_session)
		putf(o, ",\"session\":%lu", r->session);
	if (r->has_label) {
		const uint8_t *l = r->label ? r->label : (const uint8_t *)"";
		size_t n = r->label ? r->label_len : 0;
		size_t cut = utf8_cut(l, n, AUDIT_LABEL_MAX);

		put_str(o, ",\"object_label\":");
		put_json(o, l, cut);
		if (cut < n)
			put_str(o, ",\"label_truncated\":true");
	}
	if (r->has_obj_id) {
		size_t n = r->obj_id ? r->obj_id_len : 0;
		size_t cut = n > AUDIT_ID_MAX ? AUDIT_ID_MAX : n;

		put_str(o, ",\"object_id\":\"");
		for (size_t i = 0; i < cut; i++) {
			char h[2] = { hex[r->obj_id[i] >> 4], hex[r->obj_id[i] & 0xf] };

			put(o, h, 2);
		}
		put_str(o, "\"");
		if (cut < n)
			put_str(o, ",\"object_id_truncated\":true");
	}
	if (r->has_mech) {
		name = ck_name(mech_names, sizeof(mech_names) / sizeof(mech_names[0]), r->mech);
		if (name)
			putf(o, ",\"mechanism\":\"%s\"", name);
		else
			putf(o, ",\"mechanism\":\"0x%08lx\"", r->mech);
	}
	name = ck_name(rv_names, sizeof(rv_names) / sizeof(rv_names[0]), r->rv);
	if (name)
		putf(o, ",\"result\":\"%s\"", name);
	else
		putf(o, ",\"result\":\"0x%08lx\"", r->rv);
	putf(o, ",\"rv\":%lu", r->rv);
	put_field_str(o, "denied", r->denied);
	put_str(o, "}\n");
}

/* --- writing ------------------------------------------------------------------------------ */

/* Report a failure (a->mu held), at most once per AUDIT_ERR_INTERVAL; the lines lost in
 * between are counted into the next report. */
static void report(struct audit *a, const char *what, int err, bool lost_line)
{
	struct timespec now = { 0 };

	if (lost_line)
		a->lost++;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (a->err_reported && now.tv_sec - a->err_time.tv_sec < AUDIT_ERR_INTERVAL)
		return;
	log_error("audit log %s: %s failed: %s (%lu line%s lost since the last report)", a->path,
		  what, strerror(err), a->lost, a->lost == 1 ? "" : "s");
	a->err_reported = true;
	a->err_time = now;
	a->lost = 0;
}

/* Write all n bytes (a->mu held): one write(2) unless the kernel takes less. */
static int write_all(int fd, const char *p, size_t n, size_t *done)
{
	*done = 0;
	while (*done < n) {
		ssize_t w = write(fd, p + *done, n - *done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : EIO;
		*done += (size_t)w;
	}
	return 0;
}

void audit_write(struct audit *a, const struct audit_rec *r)
{
	struct out o;
	size_t start, done = 0;
	int err;

	if (!a || !r)
		return;
	pthread_mutex_lock(&a->mu);
	o = (struct out){ .p = a->line, .len = 1, .cap = sizeof(a->line) };
	a->line[0] = '\n';
	build_line(&o, r);
	/* After a partial write, end the broken line first so this one parses on its own. */
	start = a->broken ? 0 : 1;
	err = write_all(a->fd, a->line + start, o.len - start, &done);
	if (err) {
		a->broken = done > 0 || a->broken;
		if (done > 0)
			a->dirty = true;
		report(a, "write", err, true);
		goto out;
	}
	a->broken = false;
	if (a->fsync_ms == 0) {
		if (fsync(a->fd) && errno != EINVAL)
			report(a, "fsync", errno, false);
	} else {
		a->dirty = true;
	}
out:
	pthread_mutex_unlock(&a->mu);
}

/* Fsync and close fd, reporting a failure (a->mu not held). */
static void sync_close(struct audit *a, int fd)
{
	int err = 0;

	if (fd < 0)
		return;
	/* EINVAL: a pipe or terminal (e.g. /dev/stderr under a supervisor) cannot be synced. */
	if (fsync(fd) && errno != EINVAL)
		err = errno;
	close(fd);
	if (err) {
		pthread_mutex_lock(&a->mu);
		report(a, "fsync", err, false);
		pthread_mutex_unlock(&a->mu);
	}
}

/* The fsync thread: wakes every fsync_ms and syncs a dup of the descriptor when lines were
 * written, so writers are never blocked behind the disk. */
static void *sync_thread(void *arg)
{
	struct audit *a = arg;

	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		struct timespec until;
		int fd = -1, retired;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += a->fsync_ms / 1000;
		until.tv_nsec += (a->fsync_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!a->stop && pthread_cond_timedwait(&a->cv, &a->mu, &until) != ETIMEDOUT)
			;
		if (a->stop)
			break;
		if (a->dirty) {
			fd = dup(a->fd);
			/* No descriptor to spare: sync under the lock. */
			if (fd < 0 && fsync(a->fd) && errno != EINVAL)
				report(a, "fsync", errno, false);
			a->dirty = false;
		}
		retired = a->retired_fd;
		a->retired_fd = -1;
		pthread_mutex_unlock(&a->mu);
		sync_close(a, fd);
		sync_close(a, retired);
		pthread_mutex_lock(&a->mu);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static int open_log(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		snprintf(err, errlen, "audit log %s: cannot open: %s", path, strerror(errno));
	return fd;
}

int audit_open(const char *path, long fsync_interval_ms, struct audit **out, char *err,
	       size_t errlen)
{
	struct audit *a = NULL;
	pthread_condattr_t ca;
	int ret = -1, rc;

	*out = NULL;
	if (fsync_interval_ms < 0) {
		snprintf(err, errlen, "audit log %s: invalid fsync interval %ld ms", path,
			 fsync_interval_ms);
		goto out;
	}
	a = calloc(1, sizeof(*a));
	if (!a || !(a->path = strdup(path))) {
		snprintf(err, errlen, "audit log %s: out of memory", path);
		free(a);
		a = NULL;
		goto out;
	}
	a->fd = -1;
	a->retired_fd = -1;
	a->fsync_ms = fsync_interval_ms;
	pthread_mutex_init(&a->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cv, &ca);
	pthread_condattr_destroy(&ca);
	a->fd = open_log(path, err, errlen);
	if (a->fd < 0)
		goto out;
	if (fsync_interval_ms > 0) {
		rc = pthread_create(&a->thread, NULL, sync_thread, a);
		if (rc) {
			snprintf(err, errlen, "audit log %s: cannot start the fsync thread: %s",
				 path, strerror(rc));
			goto out;
		}
		a->has_thread = true;
	}
	*out = a;
	a = NULL; /* the caller owns it now */
	ret = 0;
out:
	audit_close(a);
	return ret;
}

int audit_reopen(struct audit *a, char *err, size_t errlen)
{
	int fd, old, retired = -1;

	if (!a)
		return 0;
	fd = open_log(a->path, err, errlen);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&a->mu);
	old = a->fd;
	a->fd = fd;
	a->broken = false;
	if (a->has_thread) {
		/* The thread syncs and closes the old file on its next round; if an earlier one
		 * is still waiting (two reopens within one interval), that one is synced here. */
		retired = a->retired_fd;
		a->retired_fd = old;
		old = -1;
		a->dirty = false;
	}
	pthread_mutex_unlock(&a->mu);
	sync_close(a, retired);
	if (old >= 0)
		close(old); /* every line on it was fsync'ed as it was written */
	return 0;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	if (a->has_thread) {
		pthread_mutex_lock(&a->mu);
		a->stop = true;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->thread, NULL);
	}
	sync_close(a, a->retired_fd);
	sync_close(a, a->fd);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a->path);
	free(a);
}
