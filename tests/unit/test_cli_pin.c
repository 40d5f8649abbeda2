/* PINs for the teehsm command (certs/tool_pin.c): the first line of a file, or the
 * environment; never more than the PIN, and the refusals worded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tool.h"

static char path[64];

static void write_file(const char *data, size_t len)
{
	int fd = -1;

	strcpy(path, "/tmp/teehsm-pin-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_pin_file(void **state)
{
	char pin[TOOL_PIN_MAX + 1], err[TOOL_ERR_LEN], big[TOOL_PIN_MAX + 2];
	size_t len = 0;

	(void)state;
	write_file("1234\r\nsecond line\n", 18);
	assert_int_equal(tool_pin_read(path, NULL, "p: ", pin, sizeof(pin), &len, err, sizeof(err)),
			 0);
	assert_string_equal(pin, "1234");
	assert_int_equal(len, 4);
	unlink(path);

	/* No line end at all; spaces belong to the PIN. */
	write_file(" a b ", 5);
	assert_int_equal(tool_pin_read(path, NULL, "p: ", pin, sizeof(pin), &len, err, sizeof(err)),
			 0);
	assert_string_equal(pin, " a b ");
	unlink(path);

	write_file("\nsecret\n", 8);
	assert_int_equal(tool_pin_read(path, NULL, "p: ", pin, sizeof(pin), &len, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "the first line is empty"));
	assert_null(strstr(err, "secret"));
	unlink(path);

	memset(big, 'x', sizeof(big));
	write_file(big, sizeof(big));
	assert_int_equal(tool_pin_read(path, NULL, "p: ", pin, sizeof(pin), &len, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "longer than 256 bytes"));
	unlink(path);
	/* Exactly the maximum is fine. */
	write_file(big, TOOL_PIN_MAX);
	assert_int_equal(tool_pin_read(path, NULL, "p: ", pin, sizeof(pin), &len, err, sizeof(err)),
			 0);
	assert_int_equal(len, TOOL_PIN_MAX);
	unlink(path);

	assert_int_equal(tool_pin_read("/nonexistent/pin", NULL, "p: ", pin, sizeof(pin), &len, err,
				       sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "cannot open PIN file /nonexistent/pin"));
}

static void test_pin_env(void **state)
{
	char pin[TOOL_PIN_MAX + 1], err[TOOL_ERR_LEN];
	size_t len = 0;

	(void)state;
	setenv("TEST_TEEHSM_PIN", "env-pin", 1);
	assert_int_equal(tool_pin_read(NULL, "TEST_TEEHSM_PIN", "p: ", pin, sizeof(pin), &len, err,
				       sizeof(err)),
			 0);
	assert_string_equal(pin, "env-pin");
	/* The file wins over the environment. */
	write_file("file-pin\n", 9);
	assert_int_equal(tool_pin_read(path, "TEST_TEEHSM_PIN", "p: ", pin, sizeof(pin), &len, err,
				       sizeof(err)),
			 0);
	assert_string_equal(pin, "file-pin");
	unlink(path);
	unsetenv("TEST_TEEHSM_PIN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_file),
		cmocka_unit_test(test_pin_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
