/*
 * Certificates on the token: reading them all, storing one with the attributes of the spec
 * ("Objects"), importing a leaf with its chain, trusting a root, and checking a stored
 * identity (tool.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/buf.h"
#include "tool.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void tool_certs_free(struct tool_cert *c, size_t n)
{
	if (!c)
		return;
	for (size_t i = 0; i < n; i++) {
		X509_free(c[i].x);
		free(c[i].label);
		free(c[i].id);
	}
	free(c);
}

/* Fill one entry for object h; 1 when it is a readable certificate, 0 to skip, -1 on error. */
static int cert_read(struct tool *t, CK_OBJECT_HANDLE h, struct tool_cert *c)
{
	uint8_t *der = NULL;
	const unsigned char *p = NULL;
	size_t len = 0, llen = 0;
	int r = 0;

	c->h = h;
	r = tool_attr(t, h, CKA_VALUE, &der, &len);
	if (r <= 0)
		return r;
	p = der;
	c->x = d2i_X509(NULL, &p, (long)len);
	free(der);
	ERR_clear_error();
	if (!c->x)
		return 0; /* not ours to judge: a certificate OpenSSL cannot read is left alone */
	if (tool_attr(t, h, CKA_LABEL, (uint8_t **)&c->label, &llen) < 0 ||
	    tool_attr(t, h, CKA_ID, &c->id, &c->id_len) < 0 ||
	    tool_attr_ulong(t, h, CKA_CERTIFICATE_CATEGORY, &c->category) < 0 ||
	    tool_attr_bool(t, h, CKA_TRUSTED, &c->trusted) < 0)
		return -1;
	if (!c->label || strlen(c->label) != llen) {
		free(c->label);
		c->label = strdup("");
		if (!c->label)
			return -1;
	}
	return 1;
}

int tool_certs_fetch(struct tool *t, struct tool_cert **out, size_t *n)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
	};
	CK_OBJECT_HANDLE *hs = NULL;
	struct tool_cert *c = NULL;
	size_t nh = 0, k = 0;
	int rc = TOOL_FAIL, r = 0;

	*out = NULL;
	*n = 0;
	rc = tool_find(t, tmpl, ARRAY_SIZE(tmpl), &hs, &nh);
	if (rc != TOOL_OK)
		return rc;
	rc = TOOL_FAIL;
	c = calloc(nh ? nh : 1, sizeof(*c));
	if (!c) {
		tool_err(t, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nh; i++) {
		r = cert_read(t, hs[i], &c[k]);
		if (r < 0) {
			k++;
			goto out;
		}
		if (r > 0) {
			k++;
		} else {
			X509_free(c[k].x);
			memset(&c[k], 0, sizeof(c[k]));
		}
	}
	*out = c;
	*n = k;
	c = NULL; /* the caller owns it */
	rc = TOOL_OK;
out:
	tool_certs_free(c, k);
	free(hs);
	return rc;
}

long tool_certs_by_label(const struct tool *t, const struct tool_cert *c, size_t n,
			 const char *label)
{
	long hit = -1;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(c[i].label, label) != 0)
			continue;
		if (hit >= 0) {
			tool_err(t, "several certificates on the token are labelled '%s'", label);
			return -2;
		}
		hit = (long)i;
	}
	return hit;
}

long tool_certs_by_der(const struct tool_cert *c, size_t n, const X509 *x)
{
	for (size_t i = 0; i < n; i++)
		if (tool_cert_same(c[i].x, x))
			return (long)i;
	return -1;
}

const char *tool_ca_label(const X509 *x, char *buf, size_t size)
{
	const X509_NAME *n = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
	unsigned char *u = NULL;
	int len = -1;

	if (i >= 0)
		len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)));
	for (int k = 0; k < len; k++)
		if (u[k] < 0x20 || u[k] == 0x7f)
			len = -1; /* a label with control characters: the escaped name instead */
	if (len > 0 && (size_t)len < size && len < TOOL_LABEL_MAX)
		snprintf(buf, size, "%s", (const char *)u);
	else
		tool_name_str(n, buf, size);
	OPENSSL_free(u);
	ERR_clear_error();
	return buf;
}

int tool_cert_store(struct tool *t, X509 *x, const char *label, const uint8_t *id, size_t id_len,
		    CK_ULONG category, bool trusted, CK_OBJECT_HANDLE *h)
{
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	unsigned char *der = NULL, *subj = NULL, *iss = NULL, *serial = NULL;
	int der_len = 0, subj_len = 0, iss_len = 0, serial_len = 0;
	uint8_t spki_id[20];
	CK_ATTRIBUTE tmpl[12];
	CK_ULONG n = 0;
	CK_RV rv = CKR_GENERAL_ERROR;
	int rc = TOOL_FAIL;

	*h = CK_INVALID_HANDLE;
	der_len = i2d_X509(x, &der);
	subj_len = i2d_X509_NAME(X509_get_subject_name(x), &subj);
	iss_len = i2d_X509_NAME(X509_get_issuer_name(x), &iss);
	serial_len = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &serial);
	if (der_len <= 0 || subj_len <= 0 || iss_len <= 0 || serial_len <= 0) {
		tool_err(t, "cannot encode the certificate");
		goto out;
	}
	if (!id) {
		if (tool_spki_sha1(X509_get0_pubkey(x), spki_id) != 0) {
			tool_err(t, "cannot encode the certificate's public key");
			goto out;
		}
		id = spki_id;
		id_len = sizeof(spki_id);
	}
	/* CKA_SUBJECT, CKA_ISSUER and CKA_SERIAL_NUMBER come from the DER: SoftHSM needs them,
	 * this token derives them itself and accepts them when they are the derived values. */
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_TOKEN, (void *)&yes, sizeof(yes) };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_PRIVATE, (void *)&no, sizeof(no) };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_VALUE, der, (CK_ULONG)der_len };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_SUBJECT, subj, (CK_ULONG)subj_len };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_ISSUER, iss, (CK_ULONG)iss_len };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_SERIAL_NUMBER, serial, (CK_ULONG)serial_len };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, (CK_ULONG)strlen(label) };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_ID, (void *)id, (CK_ULONG)id_len };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_CERTIFICATE_CATEGORY, &category, sizeof(category) };
	if (trusted)
		tmpl[n++] = (CK_ATTRIBUTE){ CKA_TRUSTED, (void *)&yes, sizeof(yes) };
	rv = t->f->C_CreateObject(t->sess, tmpl, n, h);
	if (rv != CKR_OK) {
		*h = CK_INVALID_HANDLE;
		tool_p11_err(t, "C_CreateObject", rv);
		goto out;
	}
	rc = TOOL_OK;
out:
	OPENSSL_free(der);
	OPENSSL_free(subj);
	OPENSSL_free(iss);
	OPENSSL_free(serial);
	return rc;
}

const char *tool_cert_summary(const X509 *x, char *buf, size_t size)
{
	char name[512], serial[96], until[40];

	snprintf(buf, size, "%s (serial %s, valid until %s)",
		 tool_name_str(X509_get_subject_name(x), name, sizeof(name)),
		 tool_serial_str(x, serial, sizeof(serial)),
		 tool_time_str(X509_get0_notAfter(x), until, sizeof(until)));
	return buf;
}

/* The private key whose public key is pk: TOOL_OK with k filled, TOOL_NOTFOUND, or an error. */
static int key_for_pubkey(struct tool *t, EVP_PKEY *pk, struct tool_key *k)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0;
	int rc = tool_find(t, tmpl, ARRAY_SIZE(tmpl), &hs, &n);

	if (rc != TOOL_OK)
		return rc;
	rc = TOOL_NOTFOUND;
	for (size_t i = 0; i < n && rc == TOOL_NOTFOUND; i++) {
		if (tool_key_load(t, hs[i], k) != TOOL_OK)
			rc = TOOL_FAIL;
		else if (k->pk && EVP_PKEY_eq(k->pk, pk) == 1)
			rc = TOOL_OK;
	}
	ERR_clear_error();
	if (rc != TOOL_OK)
		tool_key_clear(k);
	free(hs);
	return rc;
}

static void made_add(struct tool_made *made, CK_OBJECT_HANDLE h)
{
	if (made && made->n < ARRAY_SIZE(made->h))
		made->h[made->n++] = h;
}

/* Store the chain certificates certs[1..] as authorities, each once. */
static int import_chain(struct tool *t, STACK_OF(X509) * certs, const struct tool_cert *have,
			size_t nhave, struct tool_made *made)
{
	char label[TOOL_LABEL_MAX + 1], sum[1024];
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	long idx = -1;
	bool dup = false;
	int rc = TOOL_OK;

	for (int i = 1; i < sk_X509_num(certs) && rc == TOOL_OK; i++) {
		X509 *x = sk_X509_value(certs, i);

		dup = false;
		for (int j = 0; j < i; j++)
			dup = dup || tool_cert_same(x, sk_X509_value(certs, j));
		if (dup)
			continue;
		tool_ca_label(x, label, sizeof(label));
		idx = tool_certs_by_der(have, nhave, x);
		if (idx >= 0) {
			tool_say("%s: CA certificate already on the token", have[idx].label);
			continue;
		}
		if (X509_check_ca(x) < 1)
			tool_warn(t,
				  "chain certificate '%s' is not a CA certificate; storing it "
				  "all the same",
				  label);
		rc = tool_cert_store(t, x, label, NULL, 0, TOOL_CAT_AUTHORITY, false, &h);
		if (rc != TOOL_OK)
			break;
		made_add(made, h);
		tool_say("%s: stored CA certificate %s", label,
			 tool_cert_summary(x, sum, sizeof(sum)));
	}
	return rc;
}

int tool_import(struct tool *t, STACK_OF(X509) * certs, const char *label, bool no_key,
		const struct tool_key *key, struct tool_made *made)
{
	X509 *leaf = sk_X509_value(certs, 0);
	EVP_PKEY *lpk = X509_get0_pubkey(leaf);
	struct tool_cert *have = NULL;
	struct tool_key found = { 0 };
	const uint8_t *id = NULL;
	size_t nhave = 0, id_len = 0;
	CK_ULONG cat = TOOL_CAT_TOKEN_USER;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	char sum[1024];
	long idx = -1;
	int rc = TOOL_FAIL;

	if (!lpk) {
		tool_err(t, "cannot read the certificate's public key");
		return TOOL_FAIL;
	}
	/* What is stored is recorded in made, to be undone: a bounded number. */
	if (sk_X509_num(certs) > TOOL_MAX_CHAIN + 1) {
		tool_err(t, "%d certificates: a leaf and at most %d CA certificates are imported",
			 sk_X509_num(certs), TOOL_MAX_CHAIN);
		return TOOL_FAIL;
	}
	if (no_key) {
		cat = TOOL_CAT_OTHER_ENTITY;
	} else if (key) {
		if (EVP_PKEY_eq(key->pk, lpk) != 1) {
			tool_err(t, "the certificate is not for key '%s'", key->label);
			goto out;
		}
		label = label ? label : key->label;
		id = key->id;
		id_len = key->id_len;
	} else {
		rc = key_for_pubkey(t, lpk, &found);
		if (rc == TOOL_NOTFOUND)
			tool_err(t, "no private key on the token matches this certificate's public "
				    "key; use --no-key to store it anyway");
		if (rc != TOOL_OK)
			goto out;
		rc = TOOL_FAIL;
		if (label && strcmp(label, found.label) != 0) {
			tool_err(t,
				 "the certificate belongs to key '%s': it is stored under that "
				 "label (leave out --label %s)",
				 found.label, label);
			rc = TOOL_USAGE;
			goto out;
		}
		label = found.label;
		id = found.id;
		id_len = found.id_len;
	}
	if (!label || !*label) {
		tool_err(t, "the certificate needs a label (--label L)");
		rc = TOOL_USAGE;
		goto out;
	}
	rc = tool_certs_fetch(t, &have, &nhave);
	if (rc != TOOL_OK)
		goto out;
	rc = TOOL_FAIL;
	idx = tool_certs_by_label(t, have, nhave, label);
	if (idx == -2)
		goto out;
	if (idx >= 0 && !tool_cert_same(have[idx].x, leaf)) {
		tool_err(t,
			 "a certificate labelled '%s' is already on the token (teehsm enroll "
			 "--renew replaces it)",
			 label);
		goto out;
	}
	if (idx >= 0) {
		tool_say("%s: certificate already on the token", label);
	} else {
		idx = tool_certs_by_der(have, nhave, leaf);
		if (idx >= 0) {
			tool_err(t, "this certificate is already on the token, labelled '%s'",
				 have[idx].label);
			goto out;
		}
		rc = tool_cert_store(t, leaf, label, id, id_len, cat, false, &h);
		if (rc != TOOL_OK)
			goto out;
		made_add(made, h);
		tool_say("%s: stored certificate %s, %s", label,
			 tool_cert_summary(leaf, sum, sizeof(sum)),
			 no_key ? "without a private key"
				: "linked to the private key of that label");
	}
	rc = import_chain(t, certs, have, nhave, made);
out:
	tool_key_clear(&found);
	tool_certs_free(have, nhave);
	return rc;
}

/* The certificate object with x's DER. */
static int find_by_der(struct tool *t, X509 *x, CK_OBJECT_HANDLE *h)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_VALUE, der, len > 0 ? (CK_ULONG)len : 0 },
	};
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0;
	int rc = TOOL_FAIL;

	*h = CK_INVALID_HANDLE;
	if (len <= 0) {
		tool_err(t, "cannot encode the certificate");
		return TOOL_FAIL;
	}
	rc = tool_find(t, tmpl, ARRAY_SIZE(tmpl), &hs, &n);
	if (rc == TOOL_OK && n == 0) {
		tool_err(t, "the certificate is no longer on the token");
		rc = TOOL_FAIL;
	}
	if (rc == TOOL_OK)
		*h = hs[0];
	free(hs);
	OPENSSL_free(der);
	return rc;
}

/* Make the stored certificate h (c) trusted. Tokens that do not let CKA_TRUSTED change after
 * creation (SoftHSM) get a trusted copy, and then the untrusted one goes. */
static int retrust(struct tool *t, CK_OBJECT_HANDLE h, const struct tool_cert *c)
{
	static const CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE a = { CKA_TRUSTED, (void *)&yes, sizeof(yes) };
	CK_OBJECT_HANDLE nh = CK_INVALID_HANDLE;
	CK_RV rv = t->f->C_SetAttributeValue(t->sess, h, &a, 1);
	int rc = TOOL_FAIL;

	if (rv == CKR_OK)
		return TOOL_OK;
	if (rv != CKR_ATTRIBUTE_READ_ONLY) {
		tool_p11_err(t, "C_SetAttributeValue", rv);
		return TOOL_FAIL;
	}
	rc = tool_cert_store(t, c->x, c->label, c->id_len ? c->id : NULL, c->id_len,
			     c->category ? c->category : TOOL_CAT_AUTHORITY, true, &nh);
	if (rc != TOOL_OK)
		return rc;
	if (tool_destroy(t, h) != TOOL_OK)
		tool_warn(t, "the untrusted copy of '%s' is still on the token", c->label);
	return TOOL_OK;
}

int tool_trust(struct tool *t, X509 *x, bool relogin_user)
{
	struct tool_cert *have = NULL;
	size_t nhave = 0;
	char label[TOOL_LABEL_MAX + 1], sum[1024];
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	long idx = -1;
	int rc = TOOL_FAIL, rc2 = TOOL_FAIL;

	tool_ca_label(x, label, sizeof(label));
	if (X509_check_ca(x) < 1) {
		tool_err(t, "'%s' is not a CA certificate: it cannot be a trusted root", label);
		return TOOL_FAIL;
	}
	if (X509_check_issued(x, x) != X509_V_OK)
		tool_warn(t, "'%s' is not self-signed: it becomes a trust anchor all the same",
			  label);
	ERR_clear_error();
	rc = tool_certs_fetch(t, &have, &nhave);
	if (rc != TOOL_OK)
		return rc;
	idx = tool_certs_by_der(have, nhave, x);
	if (idx >= 0 && have[idx].trusted) {
		tool_say("%s: already a trusted root on the token", have[idx].label);
		rc = TOOL_OK;
		goto out;
	}
	/* Only the SO may set CKA_TRUSTED. */
	rc = tool_so_begin(t);
	if (rc != TOOL_OK)
		goto end;
	if (idx >= 0) {
		/* Handles may not outlive the sessions (SoftHSM forgets them when the last one
		 * closes): find the certificate again in the SO's session. */
		rc = find_by_der(t, x, &h);
		if (rc == TOOL_OK)
			rc = retrust(t, h, &have[idx]);
		if (rc == TOOL_OK)
			tool_say("%s: the CA certificate on the token is now a trusted root",
				 have[idx].label);
	} else {
		rc = tool_cert_store(t, x, label, NULL, 0, TOOL_CAT_AUTHORITY, true, &h);
		if (rc == TOOL_OK)
			tool_say("%s: stored trusted root %s", label,
				 tool_cert_summary(x, sum, sizeof(sum)));
	}
end:
	rc2 = tool_so_end(t, relogin_user);
	if (rc == TOOL_OK)
		rc = rc2;
out:
	tool_certs_free(have, nhave);
	return rc;
}

void tool_check_identity(struct tool *t, const char *label, struct tool_check *res)
{
	struct tool_cert *c = NULL;
	struct tool_key k = { 0 };
	STACK_OF(X509) *untrusted = sk_X509_new_null(), *trusted = sk_X509_new_null();
	STACK_OF(X509) *chain = NULL;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	size_t n = 0;
	long idx = -1;
	int r = 0;

	memset(res, 0, sizeof(*res));
	res->rc = TOOL_FAIL;
	if (!untrusted || !trusted) {
		tool_err(t, "out of memory");
		goto out;
	}
	if (tool_certs_fetch(t, &c, &n) != TOOL_OK)
		goto out;
	idx = tool_certs_by_label(t, c, n, label);
	if (idx == -2)
		goto out;
	if (idx < 0) {
		tool_err(t, "no certificate labelled '%s' on token '%s'", label, t->token_label);
		res->rc = TOOL_NOTFOUND;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((long)i == idx)
			continue;
		if (!sk_X509_push(c[i].trusted ? trusted : untrusted, c[i].x)) {
			tool_err(t, "out of memory");
			goto out;
		}
	}
	r = tool_chain_verify(c[idx].x, untrusted, trusted, 0, &chain, res->why, sizeof(res->why));
	if (r != 0) {
		if (r < 0)
			tool_err(t, "%s", res->why);
		res->rc = r > 0 ? TOOL_VERIFY : TOOL_FAIL;
		goto out;
	}
	tool_chain_str(chain, true, res->chain, sizeof(res->chain));
	/* Private keys are private objects: the PIN is needed from here on only. */
	if (tool_login_user(t) != TOOL_OK)
		goto out;
	r = tool_find_one(t, CKO_PRIVATE_KEY, label, &h);
	if (r == TOOL_NOTFOUND && c[idx].category == TOOL_CAT_OTHER_ENTITY) {
		/* Stored with --no-key, and no key carries its label: nothing to match. */
		res->rc = TOOL_OK;
		goto out;
	}
	if (r == TOOL_NOTFOUND) {
		snprintf(res->why, sizeof(res->why),
			 "there is no private key labelled '%s' on the token", label);
		res->rc = TOOL_VERIFY;
		goto out;
	}
	if (r != TOOL_OK || tool_key_load(t, h, &k) != TOOL_OK)
		goto out;
	if (!k.pk || EVP_PKEY_eq(k.pk, X509_get0_pubkey(c[idx].x)) != 1) {
		snprintf(res->why, sizeof(res->why),
			 "the certificate's public key does not match private key %s", label);
		res->rc = TOOL_VERIFY;
		goto out;
	}
	res->rc = TOOL_OK;
out:
	ERR_clear_error();
	tool_key_clear(&k);
	sk_X509_pop_free(chain, X509_free);
	/* The stacks only borrow the certificates of c. */
	sk_X509_free(untrusted);
	sk_X509_free(trusted);
	tool_certs_free(c, n);
}
