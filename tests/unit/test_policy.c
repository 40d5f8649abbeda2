/* The server's authorization policy (server/policy.h): parsing "allow" rules and answering
 * queries, default deny. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/conf.h"
#include "policy.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/teehsm-policy-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/teehsmd.conf", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(dir);
}

/* Load text as a config file and build its policy: 0 with *out, or -1 with err. */
static int load(const char *text, struct policy **out, char *err, size_t errlen)
{
	struct conf *c = NULL;
	FILE *f = fopen(path, "w");
	int rc;

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(conf_load(path, &c, err, errlen), 0);
	rc = policy_load(c, out, err, errlen);
	conf_free(c);
	return rc;
}

static struct policy *must_load(const char *text)
{
	struct policy *p = NULL;
	char err[256] = "";

	if (load(text, &p, err, sizeof(err)) != 0)
		fail_msg("policy_load: %s", err);
	assert_non_null(p);
	return p;
}

static struct pol_identity tls_cn(const char *cn)
{
	struct pol_identity id = { .is_unix = 0, .cn = cn };

	return id;
}

static struct pol_identity unix_peer(unsigned long uid, unsigned long gid)
{
	struct pol_identity id = { .is_unix = 1, .uid = uid, .gid = gid };

	return id;
}

static bool obj(const struct policy *p, const struct pol_identity *id, const char *tok,
		unsigned cls, const char *label, const char *hexid)
{
	uint8_t idb[64];
	size_t n = 0;

	if (hexid) {
		for (; hexid[2 * n]; n++)
			assert_int_equal(sscanf(hexid + 2 * n, "%2hhx", &idb[n]), 1);
	}
	return policy_allows_object(p, id, tok, cls, (const uint8_t *)label,
				    label ? strlen(label) : 0, hexid ? idb : NULL, n);
}

static void test_policy_parses_every_form(void **state)
{
	struct policy *p;

	(void)state;
	p = must_load("# every identity form, options in any order\n"
		      "listen = 127.0.0.1:5705\n"
		      "allow = cn:build-signer read,use label=release-*\n"
		      "allow = dns:*.example.com all token=prod-*\n"
		      "allow = uri:spiffe://corp/* read\n"
		      "allow = uid:1000 use\n"
		      "allow = uid:root admin\n"
		      "allow\t=\tgid:0\tmanage\tid=0A1B*\n"
		      "allow = gid:root read token=My\\ Token\n"
		      "allow = cn:* read,use,manage,admin id=ff label=a token=t\n");
	assert_int_equal(policy_rule_count(p), 8);
	policy_unref(p);

	/* No rule: a valid policy that denies everything. */
	p = must_load("listen = 127.0.0.1:5705\n");
	assert_int_equal(policy_rule_count(p), 0);
	{
		struct pol_identity id = tls_cn("build-signer");

		assert_false(policy_token_visible(p, &id, "t"));
		assert_false(policy_allows_class(p, &id, "t", POL_READ));
	}
	policy_unref(p);
}

static void test_policy_errors_name_the_line(void **state)
{
	static const struct {
		const char *rule, *msg;
	} cases[] = {
		{ "allow = cn:x", "missing classes" },
		{ "allow = cn:x token=a", "missing classes" },
		{ "allow =", "expected IDENTITY CLASSES" },
		{ "allow = cn:x reed", "expected classes read, use, manage, admin or all" },
		{ "allow = cn:x read,,use", "expected classes" },
		{ "allow = cn:x read,", "expected classes" },
		{ "allow = cn:x Read", "expected classes" },
		{ "allow = cn: read", "empty identity pattern, not 'cn:'" },
		{ "allow = foo:x read", "expected an identity cn:, dns:, uri:, uid: or gid:" },
		{ "allow = build-signer read", "expected an identity" },
		{ "allow = uid:teehsm-no-such-user read", "unknown user" },
		{ "allow = gid:teehsm-no-such-group read", "unknown group" },
		{ "allow = uid:12x read", "invalid user id" },
		{ "allow = gid:4294967295 read", "invalid group id" },
		{ "allow = uid:99999999999999999999 read", "invalid user id" },
		{ "allow = cn:x read foo=bar",
		  "expected token=GLOB, label=GLOB or id=HEXGLOB, not 'foo=bar'" },
		{ "allow = cn:x read bare", "not 'bare'" },
		{ "allow = cn:x read token=", "empty pattern" },
		{ "allow = cn:x read label=", "empty pattern" },
		{ "allow = cn:x read label=a label=b", "label= given twice" },
		{ "allow = cn:x read id=0g", "id= takes hex digits" },
		{ "allow = cn:x read id=0a\\*", "id= takes hex digits" },
		{ "allow = cn:x read label=a\\", "must be followed by a character" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy *p = (struct policy *)1;
		char text[256], err[256] = "", where[160];

		snprintf(text, sizeof(text), "allow = cn:ok read\n# comment\n%s\n", cases[i].rule);
		if (load(text, &p, err, sizeof(err)) != -1)
			fail_msg("accepted '%s'", cases[i].rule);
		assert_null(p);
		snprintf(where, sizeof(where), "%s:3: allow: ", path);
		if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, cases[i].msg) ||
		    !strstr(err, ", not '"))
			fail_msg("'%s': unexpected message '%s'", cases[i].rule, err);
	}
}

/* allow = cn:build-signer read,use label=release-* */
static void test_policy_build_signer(void **state)
{
	struct policy *p = must_load("allow = cn:build-signer read,use label=release-*\n");
	struct pol_identity id = tls_cn("build-signer");

	(void)state;
	assert_true(policy_token_visible(p, &id, "integ-token"));
	assert_true(policy_allows_class(p, &id, "integ-token", POL_READ));
	assert_true(policy_allows_class(p, &id, "integ-token", POL_USE));
	assert_true(policy_allows_class(p, &id, "integ-token", POL_READ | POL_USE));
	assert_false(policy_allows_class(p, &id, "integ-token", POL_MANAGE));
	assert_false(policy_allows_class(p, &id, "integ-token", POL_ADMIN));
	assert_false(policy_allows_class(p, &id, "integ-token", POL_USE | POL_MANAGE));
	assert_true(obj(p, &id, "integ-token", POL_USE, "release-1", NULL));
	assert_true(obj(p, &id, "integ-token", POL_READ, "release-1", "0a1b"));
	assert_false(obj(p, &id, "integ-token", POL_USE, "test-1", NULL));
	assert_false(obj(p, &id, "integ-token", POL_USE, NULL, "0a1b")); /* no label */
	assert_false(obj(p, &id, "integ-token", POL_MANAGE, "release-1", NULL));
	assert_false(obj(p, &id, "integ-token", POL_ADMIN, "release-1", NULL));
	/* Case-sensitive cn, and no prefix or suffix matching. */
	id = tls_cn("Build-Signer");
	assert_false(policy_token_visible(p, &id, "integ-token"));
	id = tls_cn("build-signer2");
	assert_false(policy_token_visible(p, &id, "integ-token"));
	policy_unref(p);
}

/* allow = cn:fleet-enroller read,manage */
static void test_policy_fleet_enroller(void **state)
{
	struct policy *p = must_load("allow = cn:fleet-enroller read,manage\n");
	struct pol_identity id = tls_cn("fleet-enroller");

	(void)state;
	assert_true(policy_token_visible(p, &id, "integ-token"));
	assert_true(policy_allows_class(p, &id, "integ-token", POL_MANAGE));
	assert_true(obj(p, &id, "integ-token", POL_MANAGE, "device-7", "01"));
	assert_true(obj(p, &id, "integ-token", POL_MANAGE, NULL, NULL));
	assert_false(policy_allows_class(p, &id, "integ-token", POL_USE));
	assert_false(obj(p, &id, "integ-token", POL_USE, "device-7", "01"));
	assert_false(policy_allows_class(p, &id, "integ-token", POL_ADMIN));
	policy_unref(p);
}

static void test_policy_unknown_identity_gets_nothing(void **state)
{
	struct policy *p = must_load("allow = cn:build-signer read,use label=release-*\n"
				     "allow = cn:fleet-enroller read,manage\n"
				     "allow = uid:1000 all\n");
	const char *dns[] = { "build-signer" };
	struct pol_identity ids[] = {
		tls_cn("intruder"),
		tls_cn(NULL),
		{ .is_unix = 0, .dns = dns, .n_dns = 1 }, /* a SAN is not a CN */
		unix_peer(1001, 1001),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_false(policy_token_visible(p, &ids[i], "integ-token"));
		for (unsigned cls = POL_READ; cls <= POL_ADMIN; cls <<= 1) {
			assert_false(policy_allows_class(p, &ids[i], "integ-token", cls));
			assert_false(obj(p, &ids[i], "integ-token", cls, "release-1", "01"));
		}
	}
	policy_unref(p);
}

static void test_policy_unix_and_tls_rules_stay_apart(void **state)
{
	struct policy *p = must_load("allow = uid:1000 use\n"
				     "allow = gid:50 read\n"
				     "allow = cn:* manage\n");
	struct pol_identity u = unix_peer(1000, 1000), g = unix_peer(7, 50),
			    other = unix_peer(7, 7);
	struct pol_identity t = tls_cn("1000");

	(void)state;
	assert_true(policy_allows_class(p, &u, "tok", POL_USE));
	assert_false(policy_allows_class(p, &u, "tok", POL_READ));
	assert_false(policy_allows_class(p, &u, "tok", POL_MANAGE)); /* cn:* is TLS only */
	assert_true(policy_allows_class(p, &g, "tok", POL_READ));
	assert_false(policy_allows_class(p, &g, "tok", POL_USE));
	assert_false(policy_token_visible(p, &other, "tok"));
	/* A TLS peer whose CN looks like a uid gets only the cn:* rule. */
	t.uid = 1000;
	t.gid = 50;
	assert_true(policy_allows_class(p, &t, "tok", POL_MANAGE));
	assert_false(policy_allows_class(p, &t, "tok", POL_USE));
	assert_false(policy_allows_class(p, &t, "tok", POL_READ));
	policy_unref(p);

	/* Names resolve through the databases: root is uid 0 and gid 0 everywhere. */
	p = must_load("allow = uid:root admin\nallow = gid:root read\n");
	u = unix_peer(0, 1);
	assert_true(policy_allows_class(p, &u, "tok", POL_ADMIN));
	assert_false(policy_allows_class(p, &u, "tok", POL_READ));
	g = unix_peer(1, 0);
	assert_true(policy_allows_class(p, &g, "tok", POL_READ));
	assert_false(policy_allows_class(p, &g, "tok", POL_ADMIN));
	policy_unref(p);
}

static void test_policy_token_narrowing(void **state)
{
	struct policy *p = must_load("allow = cn:ops read,use token=prod-*\n"
				     "allow = cn:ops all token=staging\n"
				     "allow = cn:ops read token=My\\ Token\n");
	struct pol_identity id = tls_cn("ops");

	(void)state;
	assert_true(policy_allows_class(p, &id, "prod-eu", POL_USE));
	assert_false(policy_allows_class(p, &id, "prod-eu", POL_MANAGE));
	assert_true(policy_allows_class(p, &id, "staging", POL_ADMIN));
	assert_false(policy_token_visible(p, &id, "staging-2"));
	assert_false(policy_token_visible(p, &id, "dev"));
	/* CK_TOKEN_INFO pads labels with blanks: they do not count. */
	assert_true(policy_allows_class(p, &id, "staging                         ", POL_ADMIN));
	assert_true(policy_token_visible(p, &id, "My Token"));
	assert_false(policy_token_visible(p, &id, "My  Token"));
	assert_false(policy_token_visible(p, &id, NULL));
	policy_unref(p);
}

static void test_policy_id_and_label_narrowing(void **state)
{
	struct policy *p = must_load("allow = cn:a use id=0A1B*\n"
				     "allow = cn:b use id=ff label=k?y\n"
				     "allow = cn:c use label=My\\ Key\n"
				     "allow = cn:d use id=[0-3]?\n");
	struct pol_identity a = tls_cn("a"), b = tls_cn("b"), c = tls_cn("c"), d = tls_cn("d");

	(void)state;
	assert_true(obj(p, &a, "t", POL_USE, NULL, "0a1b"));
	assert_true(obj(p, &a, "t", POL_USE, "any", "0a1bff00"));
	assert_false(obj(p, &a, "t", POL_USE, NULL, "0a1c"));
	assert_false(obj(p, &a, "t", POL_USE, "0a1b", NULL));  /* no CKA_ID */
	assert_true(policy_allows_class(p, &a, "t", POL_USE)); /* no object named */
	/* Both must match. */
	assert_true(obj(p, &b, "t", POL_USE, "key", "ff"));
	assert_false(obj(p, &b, "t", POL_USE, "key", "fe"));
	assert_false(obj(p, &b, "t", POL_USE, "kkey", "ff"));
	assert_true(obj(p, &c, "t", POL_USE, "My Key", NULL));
	assert_false(obj(p, &c, "t", POL_USE, "My", NULL));
	assert_true(obj(p, &d, "t", POL_USE, NULL, "3f"));
	assert_false(obj(p, &d, "t", POL_USE, NULL, "4f"));
	assert_false(obj(p, &d, "t", POL_USE, NULL, "3f00"));
	/* An empty CKA_ID is "" in hex: present, and matched by neither pattern. */
	assert_false(policy_allows_object(p, &a, "t", POL_USE, NULL, 0, (const uint8_t *)"", 0));
	policy_unref(p);

	/* Long attributes go through the heap path. */
	p = must_load("allow = cn:a use label=x*y id=ab*cd\n");
	{
		uint8_t lab[1000], idb[700];

		memset(lab, 'q', sizeof(lab));
		lab[0] = 'x';
		lab[sizeof(lab) - 1] = 'y';
		memset(idb, 0x55, sizeof(idb));
		idb[0] = 0xab;
		idb[sizeof(idb) - 1] = 0xcd;
		assert_true(policy_allows_object(p, &a, "t", POL_USE, lab, sizeof(lab), idb,
						 sizeof(idb)));
		idb[sizeof(idb) - 1] = 0xce;
		assert_false(policy_allows_object(p, &a, "t", POL_USE, lab, sizeof(lab), idb,
						  sizeof(idb)));
	}
	policy_unref(p);
}

static void test_policy_label_with_nul_never_matches(void **state)
{
	struct policy *p = must_load("allow = cn:a use label=*\nallow = cn:b use\n");
	struct pol_identity a = tls_cn("a"), b = tls_cn("b");
	static const uint8_t lab[] = { 'r', 'e', 'l', 0, 'x' };

	(void)state;
	assert_true(policy_allows_object(p, &a, "t", POL_USE, lab, 3, NULL, 0));
	assert_false(policy_allows_object(p, &a, "t", POL_USE, lab, sizeof(lab), NULL, 0));
	/* label=* still needs a label. */
	assert_false(policy_allows_object(p, &a, "t", POL_USE, NULL, 0, NULL, 0));
	assert_true(policy_allows_object(p, &a, "t", POL_USE, lab, 0, NULL, 0)); /* empty */
	/* A rule without label= covers it. */
	assert_true(policy_allows_object(p, &b, "t", POL_USE, lab, sizeof(lab), NULL, 0));
	policy_unref(p);
}

static void test_policy_dns_is_case_insensitive(void **state)
{
	struct policy *p = must_load("allow = dns:*.Example.COM read\n"
				     "allow = uri:spiffe://corp/signer use\n"
				     "allow = cn:Signer manage\n");
	const char *dns[] = { "other.test", "HSM-01.example.com" };
	const char *uri_ok[] = { "spiffe://corp/signer" }, *uri_bad[] = { "SPIFFE://corp/signer" };
	struct pol_identity id = { .dns = dns, .n_dns = 2 };

	(void)state;
	assert_true(policy_allows_class(p, &id, "t", POL_READ));
	id.n_dns = 1;
	assert_false(policy_allows_class(p, &id, "t", POL_READ));
	id = (struct pol_identity){ .uri = uri_ok, .n_uri = 1 };
	assert_true(policy_allows_class(p, &id, "t", POL_USE));
	id.uri = uri_bad;
	assert_false(policy_allows_class(p, &id, "t", POL_USE));
	id = tls_cn("signer"); /* cn is case-sensitive */
	assert_false(policy_allows_class(p, &id, "t", POL_MANAGE));
	/* dns: does not match a Unix peer even with names filled in. */
	id = (struct pol_identity){ .is_unix = 1, .dns = dns, .n_dns = 2 };
	assert_false(policy_token_visible(p, &id, "t"));
	policy_unref(p);
}

static void test_policy_all_and_bad_classes(void **state)
{
	struct policy *p = must_load("allow = cn:root all\n");
	struct pol_identity id = tls_cn("root");

	(void)state;
	for (unsigned cls = POL_READ; cls <= POL_ADMIN; cls <<= 1) {
		assert_true(policy_allows_class(p, &id, "t", cls));
		assert_true(obj(p, &id, "t", cls, NULL, NULL));
	}
	assert_true(policy_allows_class(p, &id, "t", POL_ALL));
	/* No class, or a bit that is no class, is refused. */
	assert_false(policy_allows_class(p, &id, "t", 0));
	assert_false(policy_allows_class(p, &id, "t", 1u << 4));
	assert_false(obj(p, &id, "t", 0, NULL, NULL));
	policy_unref(p);
}

static void test_policy_null_denies(void **state)
{
	struct pol_identity id = tls_cn("x");

	(void)state;
	assert_int_equal(policy_rule_count(NULL), 0);
	assert_null(policy_ref(NULL));
	policy_unref(NULL);
	assert_false(policy_token_visible(NULL, &id, "t"));
	assert_false(policy_allows_class(NULL, &id, "t", POL_READ));
	assert_false(policy_allows_object(NULL, &id, "t", POL_READ, NULL, 0, NULL, 0));
}

static void test_policy_refcount(void **state)
{
	struct policy *p = must_load("allow = cn:x read\n");
	struct policy *q;
	struct pol_identity id = tls_cn("x");

	(void)state;
	q = policy_ref(p);
	assert_ptr_equal(p, q);
	policy_ref(p);
	policy_unref(p);
	policy_unref(p);
	/* One reference left: still usable (ASan would catch a use after free). */
	assert_true(policy_allows_class(q, &id, "t", POL_READ));
	policy_unref(q); /* freed here; LeakSanitizer checks nothing is left */
}

static void test_policy_describe(void **state)
{
	const char *dns[] = { "hsm.example.com" }, *uri[] = { "spiffe://corp/x" };
	struct pol_identity id = tls_cn("build-signer");
	char buf[64];

	(void)state;
	assert_string_equal(pol_identity_describe(&id, buf, sizeof(buf)), "cn=build-signer");
	id = unix_peer(1000, 1000);
	assert_string_equal(pol_identity_describe(&id, buf, sizeof(buf)), "uid=1000 gid=1000");
	id = (struct pol_identity){ .dns = dns, .n_dns = 1, .uri = uri, .n_uri = 1 };
	assert_string_equal(pol_identity_describe(&id, buf, sizeof(buf)), "dns=hsm.example.com");
	id = (struct pol_identity){ .uri = uri, .n_uri = 1 };
	assert_string_equal(pol_identity_describe(&id, buf, sizeof(buf)), "uri=spiffe://corp/x");
	id = tls_cn(NULL);
	assert_string_equal(pol_identity_describe(&id, buf, sizeof(buf)), "tls (no name)");
	id = tls_cn("evil\ninfo: forged\x7f");
	assert_string_equal(pol_identity_describe(&id, buf, sizeof(buf)), "cn=evil?info: forged?");
	id = tls_cn("a-very-long-common-name");
	assert_string_equal(pol_identity_describe(&id, buf, 8), "cn=a-ve");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_parses_every_form),
		cmocka_unit_test(test_policy_errors_name_the_line),
		cmocka_unit_test(test_policy_build_signer),
		cmocka_unit_test(test_policy_fleet_enroller),
		cmocka_unit_test(test_policy_unknown_identity_gets_nothing),
		cmocka_unit_test(test_policy_unix_and_tls_rules_stay_apart),
		cmocka_unit_test(test_policy_token_narrowing),
		cmocka_unit_test(test_policy_id_and_label_narrowing),
		cmocka_unit_test(test_policy_label_with_nul_never_matches),
		cmocka_unit_test(test_policy_dns_is_case_insensitive),
		cmocka_unit_test(test_policy_all_and_bad_classes),
		cmocka_unit_test(test_policy_null_denies),
		cmocka_unit_test(test_policy_refcount),
		cmocka_unit_test(test_policy_describe),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
