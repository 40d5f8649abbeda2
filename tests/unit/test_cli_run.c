/* The CA command runner of `teehsm enroll` (certs/tool_run.c) with real /bin/sh commands:
 * input and output, environment, exit status, signals, too much output and the timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tool.h"

static enum tool_run_result run(const char *cmd, const char *in, size_t in_len, size_t max_out,
				unsigned int timeout_s, uint8_t **out, size_t *out_len, char *err,
				size_t errsz)
{
	struct tool_run r;

	memset(&r, 0, sizeof(r));
	r.cmd = cmd;
	r.in = (const uint8_t *)in;
	r.in_len = in_len;
	r.max_out = max_out;
	r.timeout_s = timeout_s;
	return tool_run(&r, out, out_len, err, errsz);
}

static void test_run_passes_input_and_output(void **state)
{
	static const char csr[] = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n"
				  "-----END CERTIFICATE REQUEST-----\n";
	uint8_t *out = NULL;
	size_t len = 0;
	char err[TOOL_ERR_LEN];

	(void)state;
	assert_int_equal(run("cat", csr, strlen(csr), 1024, 10, &out, &len, err, sizeof(err)),
			 TOOL_RUN_OK);
	assert_int_equal(len, strlen(csr));
	assert_memory_equal(out, csr, len);
	assert_int_equal(out[len], 0);
	free(out);

	/* No output at all is a success here; enroll words what it expected. */
	assert_int_equal(run("true", NULL, 0, 1024, 10, &out, &len, err, sizeof(err)), TOOL_RUN_OK);
	assert_int_equal(len, 0);
	free(out);
}

static void test_run_large_input_unread(void **state)
{
	const size_t n = 1u << 20;
	char *in = malloc(n);
	uint8_t *out = NULL;
	size_t len = 0;
	char err[TOOL_ERR_LEN];

	(void)state;
	assert_non_null(in);
	memset(in, 'x', n);
	/* A command that never reads its input: no SIGPIPE for us, and its answer counts. */
	assert_int_equal(run("echo done", in, n, 1024, 10, &out, &len, err, sizeof(err)),
			 TOOL_RUN_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "done\n", 5);
	free(out);
	/* One that reads it all: more than a pipe holds, both ways. */
	assert_int_equal(run("cat", in, n, n, 10, &out, &len, err, sizeof(err)), TOOL_RUN_OK);
	assert_int_equal(len, n);
	free(out);
	free(in);
}

static void test_run_environment(void **state)
{
	static const char *const env[] = { "TEEHSM_ENROLL_LABEL=dev 1",
					   "TEEHSM_ENROLL_SUBJECT=/CN=x", NULL };
	static const char *const unset[] = { "TEEHSM_PIN", NULL };
	struct tool_run r;
	uint8_t *out = NULL;
	size_t len = 0;
	char err[TOOL_ERR_LEN];

	(void)state;
	setenv("TEEHSM_PIN", "secret", 1);
	setenv("TEEHSM_ENROLL_LABEL", "old", 1);
	memset(&r, 0, sizeof(r));
	r.cmd = "printf '%s|%s|%s' \"$TEEHSM_ENROLL_LABEL\" \"$TEEHSM_ENROLL_SUBJECT\" "
		"\"${TEEHSM_PIN-unset}\"";
	r.max_out = 1024;
	r.timeout_s = 10;
	r.env = env;
	r.unset = unset;
	assert_int_equal(tool_run(&r, &out, &len, err, sizeof(err)), TOOL_RUN_OK);
	assert_string_equal((char *)out, "dev 1|/CN=x|unset");
	free(out);
	unsetenv("TEEHSM_PIN");
	unsetenv("TEEHSM_ENROLL_LABEL");
}

static void test_run_failures(void **state)
{
	uint8_t *out = NULL;
	size_t len = 0;
	char err[TOOL_ERR_LEN];

	(void)state;
	assert_int_equal(
		run("echo partial; exit 3", NULL, 0, 1024, 10, &out, &len, err, sizeof(err)),
		TOOL_RUN_FAILED);
	assert_null(out);
	assert_non_null(strstr(err, "the CA command exited with status 3"));

	assert_int_equal(run("/nonexistent/ca-sign 2>/dev/null", NULL, 0, 1024, 10, &out, &len, err,
			     sizeof(err)),
			 TOOL_RUN_FAILED);
	assert_non_null(strstr(err, "status 127 (command not found?)"));

	assert_int_equal(run("kill -9 $$", NULL, 0, 1024, 10, &out, &len, err, sizeof(err)),
			 TOOL_RUN_FAILED);
	assert_non_null(strstr(err, "killed by signal 9"));
}

static void test_run_output_bounded(void **state)
{
	uint8_t *out = NULL;
	size_t len = 0;
	char err[TOOL_ERR_LEN];

	(void)state;
	/* The limit itself is fine, one byte more is not. */
	assert_int_equal(
		run("head -c 4096 /dev/zero", NULL, 0, 4096, 10, &out, &len, err, sizeof(err)),
		TOOL_RUN_OK);
	assert_int_equal(len, 4096);
	free(out);
	assert_int_equal(
		run("head -c 4097 /dev/zero", NULL, 0, 4096, 10, &out, &len, err, sizeof(err)),
		TOOL_RUN_TOO_BIG);
	assert_null(out);
	assert_non_null(strstr(err, "printed more than 4096 bytes"));
	/* An endless one is stopped. */
	assert_int_equal(run("exec cat /dev/zero", NULL, 0, TOOL_CA_OUT_MAX, 10, &out, &len, err,
			     sizeof(err)),
			 TOOL_RUN_TOO_BIG);
}

static void test_run_timeout(void **state)
{
	uint8_t *out = NULL;
	size_t len = 0;
	char err[TOOL_ERR_LEN];
	time_t start = time(NULL);

	(void)state;
	/* exec: the shell itself sleeps, so that the SIGTERM reaches the sleeper. */
	assert_int_equal(run("exec sleep 30", NULL, 0, 1024, 1, &out, &len, err, sizeof(err)),
			 TOOL_RUN_TIMEOUT);
	assert_null(out);
	assert_non_null(strstr(err, "did not finish within 1 s"));
	assert_true(time(NULL) - start < 10);
	/* One that ignores SIGTERM is killed. */
	start = time(NULL);
	assert_int_equal(run("trap '' TERM; while :; do sleep 0.1; done", NULL, 0, 1024, 1, &out,
			     &len, err, sizeof(err)),
			 TOOL_RUN_TIMEOUT);
	assert_true(time(NULL) - start < 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_passes_input_and_output),
		cmocka_unit_test(test_run_large_input_unread),
		cmocka_unit_test(test_run_environment),
		cmocka_unit_test(test_run_failures),
		cmocka_unit_test(test_run_output_bounded),
		cmocka_unit_test(test_run_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
