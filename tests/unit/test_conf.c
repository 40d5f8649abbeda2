/* The config parser shared by teehsmd and libteehsm.so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/conf.h"

static char path[64];

static void write_conf(const char *text)
{
	FILE *f;
	int fd;

	strcpy(path, "/tmp/teehsm-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_conf_parses_keys_comments_and_repeats(void **state)
{
	static const char *const allowed[] = { "listen", "ca", "max_frame", NULL };
	struct conf *c = NULL;
	char err[256];
	unsigned long v = 0;
	char *p;

	(void)state;
	write_conf("# comment\n\n  listen = 127.0.0.1:1  \nlisten=[::1]:2\nca = certs/ca.pem\n"
		   "max_frame = 4096\n");
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(c->n, 4);
	assert_string_equal(c->entries[0].value, "127.0.0.1:1");
	assert_string_equal(conf_get(c, "listen"), "[::1]:2"); /* the last one wins */
	assert_null(conf_get(c, "cert"));
	assert_int_equal(conf_check_keys(c, allowed, err, sizeof(err)), 0);
	assert_int_equal(conf_get_ulong(c, "max_frame", 1, 1024, 8192, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(conf_get_ulong(c, "absent", 77, 1, 100, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 77);
	assert_int_equal(conf_get_ulong(c, "max_frame", 1, 1, 100, &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "max_frame"));
	/* Relative paths resolve against the config file's directory. */
	p = conf_path(c, "certs/ca.pem");
	assert_string_equal(p, "/tmp/certs/ca.pem");
	free(p);
	p = conf_path(c, "/etc/x.pem");
	assert_string_equal(p, "/etc/x.pem");
	free(p);
	conf_free(c);
	unlink(path);
}

static void test_conf_refuses_mistakes(void **state)
{
	static const char *const allowed[] = { "listen", NULL };
	struct conf *c = NULL;
	char err[256];

	(void)state;
	write_conf("listen = 1\nlisen = 2\n");
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(conf_check_keys(c, allowed, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: unknown key 'lisen'"));
	conf_free(c);
	unlink(path);

	write_conf("listen 127.0.0.1\n");
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), -1);
	assert_null(c);
	assert_non_null(strstr(err, ":1: expected 'key = value'"));
	unlink(path);

	write_conf("Bad-Key = 1\n");
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid key"));
	unlink(path);

	assert_int_equal(conf_load("/nonexistent/teehsm.conf", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));
}

static void test_conf_numbers_strict(void **state)
{
	struct conf *c = NULL;
	char err[256];
	unsigned long v = 0;

	(void)state;
	write_conf("a = 12x\nb = -1\nc =\n");
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(conf_get_ulong(c, "a", 0, 0, 100, &v, err, sizeof(err)), -1);
	assert_int_equal(conf_get_ulong(c, "b", 0, 0, 100, &v, err, sizeof(err)), -1);
	assert_int_equal(conf_get_ulong(c, "c", 0, 0, 100, &v, err, sizeof(err)), -1);
	conf_free(c);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_parses_keys_comments_and_repeats),
		cmocka_unit_test(test_conf_refuses_mistakes),
		cmocka_unit_test(test_conf_numbers_strict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
