/* The audit log (server/audit.h): exact JSON lines, escaping, bounds, concurrency, fsync modes
 * and reopening after logrotate. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/pkcs11_ext.h"
#include "audit.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/teehsm-audit-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The whole file at p as a string (caller frees); "" when it does not exist. */
static char *slurp(const char *p)
{
	FILE *f = fopen(p, "rb");
	char *s = NULL;
	long n;

	if (!f)
		return strdup("");
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static struct audit *must_open(const char *p, long ms)
{
	struct audit *a = NULL;
	char err[256] = "";

	if (audit_open(p, ms, &a, err, sizeof(err)) != 0)
		fail_msg("audit_open: %s", err);
	assert_non_null(a);
	return a;
}

/* Check the "time" member that starts every line and return what follows it. */
static const char *after_time(const char *line)
{
	static const char pre[] = "{\"time\":\"";
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	const char *t = line + strlen(pre);

	assert_memory_equal(line, pre, strlen(pre));
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'd')
			assert_true(t[i] >= '0' && t[i] <= '9');
		else
			assert_int_equal(t[i], shape[i]);
	}
	assert_int_equal(t[strlen(shape)], '"');
	return t + strlen(shape) + 1;
}

static void test_audit_full_and_minimal_records(void **state)
{
	static const uint8_t id[] = { 0x0a, 0x1b };
	struct audit_rec full = {
		.identity = "cn=build-signer",
		.transport = "tls",
		.peer = "127.0.0.1:50312",
		.token = "integ-token",
		.call = "C_SignInit",
		.has_session = 1,
		.session = 3,
		.label = (const uint8_t *)"release-2026",
		.label_len = 12,
		.has_label = 1,
		.obj_id = id,
		.obj_id_len = sizeof(id),
		.has_obj_id = 1,
		.has_mech = 1,
		.mech = CKM_ECDSA_SHA256,
		.rv = CKR_OK,
		.denied = "policy",
	};
	struct audit_rec minimal = { .rv = CKR_PIN_INCORRECT };
	struct audit *a = must_open(path, 0);
	struct stat st;
	char *s, *nl;

	(void)state;
	audit_write(a, &full);
	audit_write(a, &minimal);
	audit_close(a);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	s = slurp(path);
	assert_int_equal(count_lines(s), 2);
	nl = strchr(s, '\n');
	*nl = '\0';
	assert_string_equal(
		after_time(s),
		",\"identity\":\"cn=build-signer\",\"transport\":\"tls\","
		"\"peer\":\"127.0.0.1:50312\",\"token\":\"integ-token\","
		"\"call\":\"C_SignInit\",\"session\":3,\"object_label\":\"release-2026\","
		"\"object_id\":\"0a1b\",\"mechanism\":\"CKM_ECDSA_SHA256\","
		"\"result\":\"CKR_OK\",\"rv\":0,\"denied\":\"policy\"}");
	assert_string_equal(after_time(nl + 1), ",\"result\":\"CKR_PIN_INCORRECT\",\"rv\":160}\n");
	free(s);

	/* Appends to what is there. */
	a = must_open(path, 0);
	audit_write(a, &minimal);
	audit_close(a);
	s = slurp(path);
	assert_int_equal(count_lines(s), 3);
	free(s);
}

/* Write one record and return the line after its time member (caller frees the base). */
static char *one_line(const struct audit_rec *r, char **base)
{
	struct audit *a;
	char *s;

	unlink(path);
	a = must_open(path, 0);
	audit_write(a, r);
	audit_close(a);
	s = slurp(path);
	assert_int_equal(count_lines(s), 1);
	*base = s;
	return (char *)after_time(s);
}

static void test_audit_escaping(void **state)
{
	/* Valid UTF-8 (é, €, U+1F600) passes; invalid bytes (a stray 0xff, a lead without its
	 * continuation, an overlong form, a surrogate, a truncated sequence) become \u00XX. */
	static const uint8_t label[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
				       "\xff\xc3x\xc0\xaf\xed\xa0\x80\xe2\x82";
	struct audit_rec r = {
		.identity = "a\"b\\c\n\t\r\x01\x1f\x7f/",
		.label = label,
		.label_len = sizeof(label) - 1,
		.has_label = 1,
		.rv = CKR_OK,
	};
	char *base;

	(void)state;
	assert_string_equal(one_line(&r, &base),
			    ",\"identity\":\"a\\\"b\\\\c\\n\\t\\r\\u0001\\u001f\\u007f/\","
			    "\"object_label\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
			    "\\u00ff\\u00c3x\\u00c0\\u00af\\u00ed\\u00a0\\u0080\\u00e2\\u0082\","
			    "\"result\":\"CKR_OK\",\"rv\":0}\n");
	free(base);

	/* An empty label and an empty id are present, just empty; a NUL byte is escaped. */
	r = (struct audit_rec){ .label = (const uint8_t *)"a\0b",
				.label_len = 3,
				.has_label = 1,
				.has_obj_id = 1,
				.rv = CKR_OK };
	assert_string_equal(one_line(&r, &base),
			    ",\"object_label\":\"a\\u0000b\",\"object_id\":\"\","
			    "\"result\":\"CKR_OK\",\"rv\":0}\n");
	free(base);
}

static void test_audit_hex_mechanism_and_rv(void **state)
{
	static const uint8_t id[] = { 0x00, 0xff, 0xa5, 0x10 };
	struct audit_rec r = { .obj_id = id,
			       .obj_id_len = sizeof(id),
			       .has_obj_id = 1,
			       .has_mech = 1,
			       .mech = 0x80001234UL,
			       .rv = 0x1234 };
	char *base;

	(void)state;
	assert_string_equal(one_line(&r, &base),
			    ",\"object_id\":\"00ffa510\",\"mechanism\":\"0x80001234\","
			    "\"result\":\"0x00001234\",\"rv\":4660}\n");
	free(base);

	r = (struct audit_rec){ .has_mech = 1,
				.mech = CKM_SHA256_RSA_PKCS_PSS,
				.rv = CKR_KEY_FUNCTION_NOT_PERMITTED,
				.call = "C_SignInit" };
	assert_string_equal(one_line(&r, &base),
			    ",\"call\":\"C_SignInit\",\"mechanism\":\"CKM_SHA256_RSA_PKCS_PSS\","
			    "\"result\":\"CKR_KEY_FUNCTION_NOT_PERMITTED\",\"rv\":104}\n");
	free(base);

	r = (struct audit_rec){ .has_mech = 1,
				.mech = CKM_EDDSA,
				.has_session = 1,
				.session = 0,
				.rv = CKR_VENDOR_DEFINED };
	assert_string_equal(one_line(&r, &base),
			    ",\"session\":0,\"mechanism\":\"CKM_EDDSA\","
			    "\"result\":\"CKR_VENDOR_DEFINED\",\"rv\":2147483648}\n");
	free(base);
}

static void test_audit_truncation(void **state)
{
	uint8_t label[1000], id[300];
	struct audit_rec r = { .label = label, .label_len = sizeof(label), .has_label = 1 };
	char expect[2048];
	char *base;
	size_t n;

	(void)state;
	memset(label, 'A', sizeof(label));
	n = (size_t)snprintf(expect, sizeof(expect), ",\"object_label\":\"");
	memset(expect + n, 'A', AUDIT_LABEL_MAX);
	snprintf(expect + n + AUDIT_LABEL_MAX, sizeof(expect) - n - AUDIT_LABEL_MAX,
		 "\",\"label_truncated\":true,\"result\":\"CKR_OK\",\"rv\":0}\n");
	assert_string_equal(one_line(&r, &base), expect);
	free(base);

	/* Exactly AUDIT_LABEL_MAX bytes: whole, no flag. */
	r.label_len = AUDIT_LABEL_MAX;
	assert_null(strstr(one_line(&r, &base), "truncated"));
	free(base);

	/* The cut never splits a UTF-8 character: "é" straddling byte 256 goes entirely. */
	label[AUDIT_LABEL_MAX - 1] = 0xc3;
	label[AUDIT_LABEL_MAX] = 0xa9;
	r.label_len = sizeof(label);
	n = strlen(one_line(&r, &base));
	assert_non_null(strstr(base, "AAA\",\"label_truncated\":true"));
	assert_null(strstr(base, "\\u00c3"));
	assert_true(n > 0);
	free(base);

	/* A long CKA_ID: AUDIT_ID_MAX bytes of hex and a flag. */
	memset(id, 0xab, sizeof(id));
	r = (struct audit_rec){ .obj_id = id, .obj_id_len = sizeof(id), .has_obj_id = 1 };
	one_line(&r, &base);
	assert_non_null(strstr(base, "\",\"object_id_truncated\":true"));
	assert_int_equal(strstr(base, "\",\"object_id_truncated") - strstr(base, "abab"),
			 2 * AUDIT_ID_MAX);
	free(base);

	/* Other strings are bounded too. */
	{
		char *big = malloc(5000);

		assert_non_null(big);
		memset(big, 'c', 4999);
		big[4999] = '\0';
		r = (struct audit_rec){ .identity = big };
		one_line(&r, &base);
		assert_true(strlen(base) < AUDIT_STR_MAX + 200);
		free(base);
		free(big);
	}
}

struct writer {
	struct audit *a;
	int n;
};

static void *writer_cb(void *arg)
{
	struct writer *w = arg;
	char ident[32];
	uint8_t label[200];

	snprintf(ident, sizeof(ident), "cn=thread-%d", w->n);
	memset(label, 'a' + w->n, sizeof(label));
	for (int i = 0; i < 500; i++) {
		struct audit_rec r = { .identity = ident,
				       .call = "C_Sign",
				       .has_session = 1,
				       .session = (unsigned long)i,
				       .label = label,
				       .label_len = (size_t)(i % 200),
				       .has_label = 1,
				       .rv = CKR_OK };

		audit_write(w->a, &r);
	}
	return NULL;
}

static void run_writers(struct audit *a)
{
	pthread_t th[8];
	struct writer w[8];
	int per[8] = { 0 };
	size_t lines = 0;
	char *s, *line, *save = NULL;

	for (int i = 0; i < 8; i++) {
		w[i] = (struct writer){ .a = a, .n = i };
		assert_int_equal(pthread_create(&th[i], NULL, writer_cb, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	audit_close(a);

	s = slurp(path);
	assert_int_equal(count_lines(s), 4000);
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *rest = after_time(line);
		int t = -1;

		lines++;
		assert_int_equal(line[strlen(line) - 1], '}');
		assert_null(strstr(rest, "\"time\"")); /* no other line inside this one */
		assert_int_equal(sscanf(rest, ",\"identity\":\"cn=thread-%d\"", &t), 1);
		assert_true(t >= 0 && t < 8);
		per[t]++;
	}
	assert_int_equal(lines, 4000);
	for (int i = 0; i < 8; i++)
		assert_int_equal(per[i], 500);
	free(s);
}

static void test_audit_threads_fsync_each_line(void **state)
{
	(void)state;
	unlink(path);
	run_writers(must_open(path, 0));
}

static void test_audit_threads_fsync_interval(void **state)
{
	(void)state;
	unlink(path);
	run_writers(must_open(path, 5));
}

static void test_audit_fsync_interval_and_close(void **state)
{
	struct audit_rec r = { .call = "C_GenerateKeyPair", .rv = CKR_OK };
	struct timespec t0, t1;
	struct audit *a;
	char *s;

	(void)state;
	unlink(path);
	a = must_open(path, 10);
	for (int i = 0; i < 3; i++)
		audit_write(a, &r);
	usleep(50 * 1000); /* the thread has synced by now */
	for (int i = 0; i < 2; i++)
		audit_write(a, &r);
	audit_close(a);
	s = slurp(path);
	assert_int_equal(count_lines(s), 5);
	free(s);

	/* A long interval does not hold up close, which syncs what is left. */
	a = must_open(path, 60 * 60 * 1000L);
	audit_write(a, &r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	audit_close(a);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	s = slurp(path);
	assert_int_equal(count_lines(s), 6);
	free(s);
}

static void check_reopen(long ms)
{
	struct audit_rec r = { .call = "C_Sign", .rv = CKR_OK };
	char rotated[160], rotated2[160], err[256] = "";
	struct audit *a;
	char *s;

	snprintf(rotated, sizeof(rotated), "%s.1", path);
	snprintf(rotated2, sizeof(rotated2), "%s.2", path);
	unlink(path);
	unlink(rotated);
	unlink(rotated2);
	a = must_open(path, ms);
	audit_write(a, &r);
	assert_int_equal(rename(path, rotated), 0);
	audit_write(a, &r); /* still the old file until reopened */
	assert_int_equal(audit_reopen(a, err, sizeof(err)), 0);
	audit_write(a, &r);
	/* A second rotation right away (within one fsync interval). */
	assert_int_equal(rename(path, rotated2), 0);
	assert_int_equal(audit_reopen(a, err, sizeof(err)), 0);
	audit_write(a, &r);
	audit_write(a, &r);
	audit_close(a);
	s = slurp(rotated);
	assert_int_equal(count_lines(s), 2);
	free(s);
	s = slurp(rotated2);
	assert_int_equal(count_lines(s), 1);
	free(s);
	s = slurp(path);
	assert_int_equal(count_lines(s), 2);
	free(s);
}

static void test_audit_reopen_after_rename(void **state)
{
	(void)state;
	check_reopen(0);
	check_reopen(10);
	check_reopen(60 * 60 * 1000L);
}

static void test_audit_reopen_failure_keeps_old_file(void **state)
{
	struct audit_rec r = { .call = "C_Sign", .rv = CKR_OK };
	char sub[128], sub2[128], p[160], p2[160], err[256] = "";
	struct audit *a;
	char *s;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(sub2, sizeof(sub2), "%s/sub2", dir);
	snprintf(p, sizeof(p), "%s/audit.log", sub);
	snprintf(p2, sizeof(p2), "%s/audit.log", sub2);
	assert_int_equal(mkdir(sub, 0700), 0);
	a = must_open(p, 0);
	audit_write(a, &r);
	assert_int_equal(rename(sub, sub2), 0);
	assert_int_equal(audit_reopen(a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, p));
	assert_non_null(strstr(err, strerror(ENOENT)));
	audit_write(a, &r);
	audit_close(a);
	s = slurp(p2);
	assert_int_equal(count_lines(s), 2);
	free(s);
}

static void test_audit_open_errors_and_null(void **state)
{
	struct audit_rec r = { .call = "C_Sign", .rv = CKR_OK };
	struct audit *a = (struct audit *)1;
	char err[256] = "";

	(void)state;
	assert_int_equal(audit_open("/nonexistent-teehsm/audit.log", 0, &a, err, sizeof(err)), -1);
	assert_null(a);
	assert_non_null(strstr(err, "/nonexistent-teehsm/audit.log"));
	assert_non_null(strstr(err, strerror(ENOENT)));
	assert_int_equal(audit_open(path, -1, &a, err, sizeof(err)), -1);
	assert_null(a);

	/* No audit log configured: everything is a no-op. */
	audit_write(NULL, &r);
	assert_int_equal(audit_reopen(NULL, err, sizeof(err)), 0);
	audit_close(NULL);
}

static void test_audit_write_failure_does_not_abort(void **state)
{
	struct audit_rec r = { .call = "C_Sign", .rv = CKR_OK };
	struct audit *a = NULL;
	char err[256] = "";

	(void)state;
	if (access("/dev/full", W_OK) != 0)
		skip();
	assert_int_equal(audit_open("/dev/full", 0, &a, err, sizeof(err)), 0);
	log_set_level(LOG_LVL_NONE); /* one report is expected; keep the output clean */
	for (int i = 0; i < 100; i++)
		audit_write(a, &r);
	audit_close(a);
	log_set_level(LOG_LVL_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_full_and_minimal_records),
		cmocka_unit_test(test_audit_escaping),
		cmocka_unit_test(test_audit_hex_mechanism_and_rv),
		cmocka_unit_test(test_audit_truncation),
		cmocka_unit_test(test_audit_threads_fsync_each_line),
		cmocka_unit_test(test_audit_threads_fsync_interval),
		cmocka_unit_test(test_audit_fsync_interval_and_close),
		cmocka_unit_test(test_audit_reopen_after_rename),
		cmocka_unit_test(test_audit_reopen_failure_keeps_old_file),
		cmocka_unit_test(test_audit_open_errors_and_null),
		cmocka_unit_test(test_audit_write_failure_does_not_abort),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
