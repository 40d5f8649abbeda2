/*
 * teehsm enroll (spec "enroll"): an identity L on the token from nothing, idempotently, and
 * its renewal. Whatever fails, the token is left as it was: the new objects are destroyed,
 * and with --renew the old identity stays until the new one verifies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "tool.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* What enroll has made so far, to undo. */
struct enroll_state {
	struct tool_key k;     /* the new key pair */
	struct tool_made made; /* the certificates stored (the leaf first) */
};

/* Remove what this run made, and say where that leaves the token. */
static void undo(struct tool *t, struct enroll_state *s, bool renewing)
{
	bool left = false, any = s->made.n > 0 || s->k.priv != CK_INVALID_HANDLE;

	for (size_t i = 0; i < s->made.n; i++)
		left |= tool_destroy(t, s->made.h[i]) != TOOL_OK;
	s->made.n = 0;
	left |= tool_key_destroy(t, &s->k) != TOOL_OK;
	if (left)
		tool_err(t, "some of the new objects could not be removed (see teehsm list)");
	else if (any)
		tool_err(t, "the new objects were removed again: nothing was kept%s",
			 renewing ? "; the old identity is unchanged" : "");
}

/* The objects of the identity labelled label: its private and public keys and its
 * certificates that are neither authorities nor trusted. Other objects with that label (a
 * secret key, data, a CA certificate whose CN it is) are not enroll's, and are left alone.
 * Exit code, with the handles in a malloc'ed *out. */
static int identity_objects(struct tool *t, const char *label, CK_OBJECT_HANDLE **out, size_t *n)
{
	static const CK_OBJECT_CLASS classes[] = { CKO_CERTIFICATE, CKO_PRIVATE_KEY,
						   CKO_PUBLIC_KEY };
	CK_OBJECT_HANDLE *all = NULL, *hs = NULL, *grown = NULL;
	size_t nall = 0, nh = 0;
	CK_ULONG cat = 0;
	bool trusted = false;
	int rc = TOOL_OK;

	*out = NULL;
	*n = 0;
	for (size_t c = 0; c < ARRAY_SIZE(classes) && rc == TOOL_OK; c++) {
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, (void *)&classes[c], sizeof(classes[c]) },
			{ CKA_LABEL, (void *)label, (CK_ULONG)strlen(label) },
		};

		rc = tool_find(t, tmpl, ARRAY_SIZE(tmpl), &hs, &nh);
		if (rc == TOOL_OK && nh) {
			grown = realloc(all, (nall + nh) * sizeof(*all));
			if (grown) {
				all = grown;
			} else {
				tool_err(t, "out of memory");
				rc = TOOL_FAIL;
			}
		}
		for (size_t i = 0; rc == TOOL_OK && i < nh; i++) {
			cat = 0;
			trusted = false;
			if (classes[c] == CKO_CERTIFICATE &&
			    (tool_attr_ulong(t, hs[i], CKA_CERTIFICATE_CATEGORY, &cat) < 0 ||
			     tool_attr_bool(t, hs[i], CKA_TRUSTED, &trusted) < 0)) {
				rc = TOOL_FAIL;
				break;
			}
			if (classes[c] == CKO_CERTIFICATE && (cat == TOOL_CAT_AUTHORITY || trusted))
				continue;
			all[nall++] = hs[i];
		}
		free(hs);
		hs = NULL;
	}
	if (rc != TOOL_OK) {
		free(all);
		return rc;
	}
	*out = all;
	*n = nall;
	return TOOL_OK;
}

/* Destroy the identity labelled label (a leftover of an interrupted renewal, or the old
 * identity once the new one verifies). */
static int destroy_identity(struct tool *t, const char *label, bool say)
{
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0;
	int rc = identity_objects(t, label, &hs, &n);

	if (rc == TOOL_OK && n && say)
		tool_warn(t, "removing %zu object(s) labelled '%s' left by an interrupted renewal",
			  n, label);
	for (size_t i = 0; i < n && rc == TOOL_OK; i++)
		rc = tool_destroy(t, hs[i]);
	free(hs);
	return rc;
}

/* Give the identity labelled from the label to. Exit code. */
static int relabel(struct tool *t, const char *from, const char *to)
{
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0;
	int rc = identity_objects(t, from, &hs, &n);

	for (size_t i = 0; i < n && rc == TOOL_OK; i++)
		rc = tool_set_attr(t, hs[i], CKA_LABEL, to, strlen(to));
	free(hs);
	return rc;
}

/* Run the CA command on the request; its certificates in *certs. Exit code. */
static int ask_ca(struct tool *t, const struct tool_enroll *e, X509_REQ *req,
		  STACK_OF(X509) * *certs)
{
	static const char *const unset[] = { "TEEHSM_PIN", "TEEHSM_SO_PIN", NULL };
	char *env_label = NULL, *env_subject = NULL;
	const char *env[3] = { NULL };
	struct tool_run r;
	uint8_t *csr = NULL, *out = NULL;
	size_t csr_len = 0, out_len = 0;
	char err[TOOL_ERR_LEN];
	enum tool_run_result res = TOOL_RUN_ERROR;
	int rc = TOOL_FAIL;

	*certs = NULL;
	env_label = malloc(strlen(e->label) + 32);
	env_subject = malloc(strlen(e->subject) + 32);
	if (!env_label || !env_subject || tool_csr_encode(req, false, &csr, &csr_len) != 0) {
		tool_err(t, "out of memory");
		goto out;
	}
	sprintf(env_label, "TEEHSM_ENROLL_LABEL=%s", e->label);
	sprintf(env_subject, "TEEHSM_ENROLL_SUBJECT=%s", e->subject);
	env[0] = env_label;
	env[1] = env_subject;
	memset(&r, 0, sizeof(r));
	r.cmd = e->ca_cmd;
	r.in = csr;
	r.in_len = csr_len;
	r.max_out = TOOL_CA_OUT_MAX;
	r.timeout_s = e->ca_timeout;
	r.env = env;
	/* The CA has no business with our PINs. */
	r.unset = unset;
	res = tool_run(&r, &out, &out_len, err, sizeof(err));
	if (res != TOOL_RUN_OK) {
		tool_err(t, "%s", err);
		goto out;
	}
	if (!memmem(out, out_len, "-----BEGIN CERTIFICATE-----", 27)) {
		tool_err(t, "the CA command printed %s",
			 out_len ? "no PEM certificate" : "nothing");
		goto out;
	}
	if (tool_certs_from_mem(out, out_len, "the CA command's output", certs, err, sizeof(err)) !=
	    0) {
		tool_err(t, "%s", err);
		goto out;
	}
	rc = TOOL_OK;
out:
	free(out);
	free(csr);
	free(env_label);
	free(env_subject);
	return rc;
}

/* Step 1: L is there. Exit code, or -1 to go on with a renewal. */
static int already(struct tool *t, const struct tool_enroll *e, const struct tool_cert *c)
{
	struct tool_check chk;
	char sum[1024];

	if (e->renew)
		return -1;
	tool_check_identity(t, e->label, &chk);
	if (chk.rc == TOOL_OK) {
		tool_cert_summary(c->x, sum, sizeof(sum));
		tool_say("%s: already enrolled as %s", e->label, sum);
		return TOOL_OK;
	}
	if (chk.rc == TOOL_VERIFY)
		tool_err(t,
			 "%s is enrolled, but its certificate does not verify: %s; run again "
			 "with --renew to enroll anew",
			 e->label, chk.why);
	return TOOL_FAIL;
}

/* Step 5 of a renewal: the old identity goes, the new one takes its label. */
static int swap_in(struct tool *t, const struct tool_enroll *e, struct enroll_state *s)
{
	const CK_OBJECT_HANDLE hs[] = { s->made.h[0], s->k.priv, s->k.pub };
	size_t len = strlen(e->label);
	int rc = destroy_identity(t, e->label, false);

	if (rc != TOOL_OK) {
		tool_err(t,
			 "the old identity %s could not be removed; the new one is labelled "
			 "'%s.renew' (see teehsm list)",
			 e->label, e->label);
		return rc;
	}
	for (size_t i = 0; i < ARRAY_SIZE(hs); i++) {
		if (hs[i] == CK_INVALID_HANDLE)
			continue;
		rc = tool_set_attr(t, hs[i], CKA_LABEL, e->label, len);
		if (rc != TOOL_OK) {
			tool_err(t,
				 "the new identity is stored but not all of it is relabelled "
				 "'%s' (see teehsm list)",
				 e->label);
			return rc;
		}
	}
	return TOOL_OK;
}

/* L is not on the token, but L.renew is: a renewal was interrupted after the old identity
 * went and before the new one took its label. When L.renew verifies, finish the renewal:
 * TOOL_OK, said. -1 when there is nothing to finish (a leftover that does not verify is
 * removed later, with the other leftovers of an interrupted run); another exit code on error. */
static int resume_renewal(struct tool *t, const struct tool_enroll *e, const struct tool_cert *have,
			  size_t nhave, const char *renew_label)
{
	struct tool_check chk;
	char sum[1024], hex[2 * TOOL_ID_MAX + 1];
	char *uri = NULL;
	long j = tool_certs_by_label(t, have, nhave, renew_label);
	int rc = TOOL_FAIL;

	if (j == -2)
		return TOOL_FAIL;
	if (j < 0)
		return -1;
	tool_check_identity(t, renew_label, &chk);
	if (chk.rc != TOOL_OK)
		return -1;
	rc = relabel(t, renew_label, e->label);
	if (rc != TOOL_OK) {
		tool_err(t, "cannot finish the interrupted renewal of %s (see teehsm list)",
			 e->label);
		return rc;
	}
	tool_cert_summary(have[j].x, sum, sizeof(sum));
	tool_say("%s: finished an interrupted renewal: enrolled as %s, id %s", e->label, sum,
		 tool_hex(have[j].id, have[j].id_len < TOOL_ID_MAX ? have[j].id_len : TOOL_ID_MAX,
			  hex, sizeof(hex)));
	uri = tool_uri(t->token_label, e->label, have[j].id, have[j].id_len, "private");
	tool_say("%s", uri ? uri : "(out of memory)");
	tool_say("%s: OK: %s", e->label, chk.chain);
	free(uri);
	return TOOL_OK;
}

int tool_enroll_run(struct tool *t, const struct tool_enroll *e)
{
	const struct tool_keytype *kt = tool_keytype_by_name(e->type);
	struct enroll_state s = { 0 };
	X509_NAME *name = NULL;
	GENERAL_NAMES *gens = NULL;
	STACK_OF(X509) *root = NULL, *certs = NULL;
	struct tool_cert *have = NULL;
	struct tool_check chk;
	X509_REQ *req = NULL;
	char err[TOOL_ERR_LEN], sum[1024], new_label[TOOL_LABEL_MAX + 8], hex[64];
	char *uri = NULL;
	size_t nhave = 0;
	long idx = -1;
	bool renewing = false;
	int rc = TOOL_USAGE, r = 0;

	s.k.priv = s.k.pub = CK_INVALID_HANDLE;
	/* Everything from the command line first: a typo costs no key. */
	if (tool_subject_parse(e->subject, &name, err, sizeof(err)) != 0) {
		tool_usage(t, "--subject: %s", err);
		goto out;
	}
	rc = tool_sans_parse(t, e->sans, e->n_sans, &gens);
	if (rc != TOOL_OK)
		goto out;
	rc = TOOL_FAIL;
	if (e->root && tool_certs_load(e->root, &root, err, sizeof(err)) != 0) {
		tool_err(t, "--root: %s", err);
		goto out;
	}
	if (root && sk_X509_num(root) != 1) {
		tool_err(t, "--root %s holds %d certificates: give the one root", e->root,
			 sk_X509_num(root));
		goto out;
	}
	rc = tool_open(t, true);
	if (rc == TOOL_OK)
		rc = tool_login_user(t);
	if (rc == TOOL_OK)
		rc = tool_certs_fetch(t, &have, &nhave);
	if (rc != TOOL_OK)
		goto out;
	/* 1. Enrolled already? */
	idx = tool_certs_by_label(t, have, nhave, e->label);
	if (idx == -2) {
		rc = TOOL_FAIL;
		goto out;
	}
	if (idx >= 0) {
		rc = already(t, e, &have[idx]);
		if (rc >= 0)
			goto out;
	}
	r = tool_key_label_exists(t, e->label);
	if (r < 0) {
		rc = TOOL_FAIL;
		goto out;
	}
	if (r > 0 && idx < 0 && !e->renew) {
		tool_err(t,
			 "a key labelled '%s' is on the token without a certificate: --renew "
			 "replaces it with a new enrollment",
			 e->label);
		rc = TOOL_FAIL;
		goto out;
	}
	snprintf(new_label, sizeof(new_label), "%s.renew", e->label);
	if (idx < 0 && r == 0) {
		rc = resume_renewal(t, e, have, nhave, new_label);
		if (rc >= 0)
			goto out;
	}
	/* What an interrupted run left under L.renew goes before anything new is made. */
	rc = destroy_identity(t, new_label, true);
	if (rc != TOOL_OK)
		goto out;
	renewing = idx >= 0 || r > 0;
	if (!renewing)
		new_label[strlen(e->label)] = '\0';
	/* 2. The root. */
	if (root) {
		rc = tool_trust(t, sk_X509_value(root, 0), true);
		if (rc != TOOL_OK)
			goto out;
	}
	/* 3. Key, request, certificate. */
	rc = tool_keygen(t, kt, new_label, NULL, 0, &s.k);
	if (rc == TOOL_OK)
		rc = tool_csr_make(t, &s.k, tool_mech_by_name(kt->mech), name, gens, &req);
	if (rc == TOOL_OK)
		rc = ask_ca(t, e, req, &certs);
	if (rc == TOOL_OK && EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(certs, 0)), s.k.pk) != 1) {
		tool_err(t,
			 "the first certificate the CA command printed (%s) is not for the new "
			 "key",
			 tool_name_short(X509_get_subject_name(sk_X509_value(certs, 0)), sum,
					 sizeof(sum)));
		rc = TOOL_FAIL;
	}
	/* 4. Store and verify. */
	if (rc == TOOL_OK)
		rc = tool_import(t, certs, new_label, false, &s.k, &s.made);
	if (rc != TOOL_OK) {
		undo(t, &s, renewing);
		rc = TOOL_FAIL;
		goto out;
	}
	tool_check_identity(t, new_label, &chk);
	if (chk.rc != TOOL_OK) {
		if (chk.rc == TOOL_VERIFY)
			tool_say("%s: FAILED: %s", e->label, chk.why);
		tool_err(t, "the new certificate does not verify");
		undo(t, &s, renewing);
		rc = chk.rc == TOOL_VERIFY ? TOOL_VERIFY : TOOL_FAIL;
		goto out;
	}
	/* 5. A renewal replaces the old identity. */
	if (renewing) {
		rc = swap_in(t, e, &s);
		if (rc != TOOL_OK)
			goto out;
	}
	tool_cert_summary(sk_X509_value(certs, 0), sum, sizeof(sum));
	tool_say("%s: enrolled as %s, id %s", e->label, sum,
		 tool_hex(s.k.id, s.k.id_len, hex, sizeof(hex)));
	uri = tool_uri(t->token_label, e->label, s.k.id, s.k.id_len, "private");
	tool_say("%s", uri ? uri : "(out of memory)");
	tool_say("%s: OK: %s", e->label, chk.chain);
	rc = TOOL_OK;
out:
	ERR_clear_error();
	free(uri);
	tool_key_clear(&s.k);
	tool_certs_free(have, nhave);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(root, X509_free);
	X509_REQ_free(req);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(name);
	return rc;
}
