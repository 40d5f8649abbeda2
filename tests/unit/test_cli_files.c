/* How the teehsm command writes its output files (certs/tool_util.c, tool_write_out): a new
 * file gets the umask's mode, a file it replaces keeps its mode, a symbolic link is written
 * through (the link stays, the file it names is replaced), devices are written as they are,
 * and a failure leaves neither a half-written file nor a temporary one. */
#include <dirent.h>
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

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_cli_files.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e = NULL;
	char p[sizeof(dir) + sizeof(e->d_name) + 2];

	(void)state;
	while (d && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	return rmdir(dir);
}

static const char *at(const char *name)
{
	static char p[4][sizeof(dir) + 64];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void assert_content(const char *path, const char *text)
{
	char buf[128] = { 0 };
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), strlen(text));
	fclose(f);
	assert_string_equal(buf, text);
}

/* The names in dir, sorted and joined by spaces: no temporary file may be left. */
static const char *listing(void)
{
	static char out[512];
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			strncat(out, out[0] ? " " : "", sizeof(out) - strlen(out) - 1);
			strncat(out, names[i]->d_name, sizeof(out) - strlen(out) - 1);
		}
		free(names[i]);
	}
	free(names);
	return out;
}

static void test_new_and_replaced_files(void **state)
{
	struct tool t = { .cmd = "test" };
	struct stat st;
	mode_t old = umask(022);

	(void)state;
	assert_int_equal(tool_write_out(&t, at("new.sig"), "abc", 3, true), TOOL_OK);
	assert_content(at("new.sig"), "abc");
	assert_int_equal(stat(at("new.sig"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* A private file stays private when it is replaced. */
	put(at("key.pem"), "old contents", 0600);
	assert_int_equal(tool_write_out(&t, at("key.pem"), "new", 3, false), TOOL_OK);
	assert_content(at("key.pem"), "new");
	assert_int_equal(stat(at("key.pem"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_string_equal(listing(), "key.pem new.sig");
	umask(old);
}

static void test_symlinks_written_through(void **state)
{
	struct tool t = { .cmd = "test" };
	struct stat st;

	(void)state;
	put(at("target.pem"), "old", 0640);
	assert_int_equal(symlink("target.pem", at("link.pem")), 0);
	assert_int_equal(tool_write_out(&t, at("link.pem"), "through", 7, false), TOOL_OK);
	assert_int_equal(lstat(at("link.pem"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_content(at("target.pem"), "through");
	assert_int_equal(stat(at("target.pem"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_string_equal(listing(), "link.pem target.pem");

	/* A link to nothing is refused, and nothing is made. */
	assert_int_equal(symlink("nowhere.pem", at("dangling.pem")), 0);
	assert_int_equal(tool_write_out(&t, at("dangling.pem"), "x", 1, false), TOOL_FAIL);
	assert_string_equal(listing(), "dangling.pem link.pem target.pem");
}

static void test_devices_and_failures(void **state)
{
	struct tool t = { .cmd = "test" };

	(void)state;
	/* A device is written as it is, not replaced. */
	assert_int_equal(tool_write_out(&t, "/dev/null", "x", 1, true), TOOL_OK);
	/* A directory that does not exist: an error, nothing left behind. */
	assert_int_equal(tool_write_out(&t, at("no/such/file"), "x", 1, false), TOOL_FAIL);
	assert_string_equal(listing(), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_and_replaced_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_written_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devices_and_failures, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
