/*
 * The server's TLS policy in one place: TLS 1.3 only, a client certificate is mandatory and must
 * chain to the configured CA bundle (OpenSSL checks the clientAuth purpose of the leaf), and
 * nothing is resumed, so every connection proves its identity with a full handshake.
 */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls.h"

/* Verification stops at this chain length: a deeper chain is a mistake or an attack. */
#define TLS_VERIFY_DEPTH 8

/* "reason" of the most recent OpenSSL error, for startup messages; empties the queue. */
static const char *last_reason(char *buf, size_t len)
{
	tls_error_reasons(NULL, 0, buf, len);
	if (!buf[0])
		snprintf(buf, len, "unknown error");
	return buf;
}

/* The CA bundle and, when crl_path is set, every CRL in that PEM file, with revocation checked
 * for the client's own certificate. NULL with a reason in err. */
static X509_STORE *trust_store_new(const char *ca_path, const char *crl_path, char *err,
				   size_t errlen)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE *ret = NULL;
	X509_CRL *crl = NULL;
	BIO *bio = NULL;
	char why[256];
	int n_crl = 0;

	if (!st || X509_STORE_load_file(st, ca_path) != 1) {
		snprintf(err, errlen, "cannot load the CA bundle %s: %s", ca_path,
			 last_reason(why, sizeof(why)));
		goto out;
	}
	if (crl_path) {
		bio = BIO_new_file(crl_path, "r");
		if (!bio) {
			snprintf(err, errlen, "cannot open the CRL file %s: %s", crl_path,
				 last_reason(why, sizeof(why)));
			goto out;
		}
		while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
			if (X509_STORE_add_crl(st, crl) != 1) {
				snprintf(err, errlen, "cannot use a CRL of %s: %s", crl_path,
					 last_reason(why, sizeof(why)));
				goto out;
			}
			X509_CRL_free(crl);
			crl = NULL;
			n_crl++;
		}
		/* The loop ends on "no start line" at the end of the file: that is success. */
		ERR_clear_error();
		if (n_crl == 0) {
			snprintf(err, errlen, "the CRL file %s holds no PEM CRL", crl_path);
			goto out;
		}
		/* The client's certificate must not be revoked, and its issuer must have given a
		 * CRL: a missing one fails closed ("unable to get certificate CRL"). */
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	}
	ret = st;
	st = NULL;
out:
	X509_CRL_free(crl);
	BIO_free(bio);
	X509_STORE_free(st);
	ERR_clear_error();
	return ret;
}

int tls_server_reload_trust(SSL_CTX *ctx, const char *ca_path, const char *crl_path, char *err,
			    size_t errlen)
{
	X509_STORE *st = trust_store_new(ca_path, crl_path, err, errlen);
	STACK_OF(X509_NAME) *names = NULL;
	char why[256];

	if (!st)
		return -1;
	names = SSL_load_client_CA_file(ca_path);
	if (!names || sk_X509_NAME_num(names) == 0) {
		snprintf(err, errlen, "the CA bundle %s holds no certificate: %s", ca_path,
			 last_reason(why, sizeof(why)));
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		X509_STORE_free(st);
		return -1;
	}
	/* Handshakes run on the event loop's thread, as this does: none is half-verified. */
	SSL_CTX_set_cert_store(ctx, st);
	SSL_CTX_set_client_CA_list(ctx, names);
	return 0;
}

int tls_peer_recheck(SSL *ssl, char *why, size_t len)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509_STORE *st = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));
	X509_STORE_CTX *xc = NULL;
	int ret = -1;

	snprintf(why, len, "no certificate");
	if (!leaf || !st)
		goto out;
	xc = X509_STORE_CTX_new();
	if (!xc || X509_STORE_CTX_init(xc, st, leaf, chain) != 1 ||
	    X509_STORE_CTX_set_default(xc, "ssl_client") != 1) {
		snprintf(why, len, "cannot check the certificate again");
		goto out;
	}
	X509_STORE_CTX_set_depth(xc, TLS_VERIFY_DEPTH);
	if (X509_verify_cert(xc) == 1) {
		ret = 0;
		why[0] = '\0';
	} else {
		snprintf(why, len, "%s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(xc)));
	}
out:
	X509_STORE_CTX_free(xc);
	ERR_clear_error();
	return ret;
}

SSL_CTX *tls_server_ctx_new(const char *ca_path, const char *crl_path, const char *cert_path,
			    const char *key_path, char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL, *ret = NULL;
	char why[256];

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS context: %s",
			 last_reason(why, sizeof(why)));
		goto out;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		snprintf(err, errlen, "cannot restrict TLS to version 1.3: %s",
			 last_reason(why, sizeof(why)));
		goto out;
	}
	/* No tickets and no session cache: no resumption. A peer that just closes its socket is
	 * an ordinary disconnect for us (every frame carries its own length, so truncation cannot
	 * go unnoticed). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Records carry PINs and key values: wipe OpenSSL's plaintext buffers once used. */
	SSL_CTX_set_options(ctx, SSL_OP_CLEANSE_PLAINTEXT);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	/* Idle connections should not each hold 2 x 16 KiB of record buffers. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		snprintf(err, errlen, "cannot load the server certificate chain %s: %s", cert_path,
			 last_reason(why, sizeof(why)));
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "cannot load the server key %s: %s", key_path,
			 last_reason(why, sizeof(why)));
		goto out;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "the server key %s does not match the certificate %s: %s",
			 key_path, cert_path, last_reason(why, sizeof(why)));
		goto out;
	}

	if (tls_server_reload_trust(ctx, ca_path, crl_path, err, errlen))
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);

	ret = ctx;
	ctx = NULL; /* the caller owns it now */
out:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

/* Copy at most n bytes of src to dst (of len bytes), printable ASCII only. */
static void copy_printable(char *dst, size_t len, const unsigned char *src, size_t n)
{
	size_t i;

	if (len == 0)
		return;
	for (i = 0; i < n && i + 1 < len; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[i] = '\0';
}

int tls_peer_identity(SSL *ssl, char *buf, size_t len)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	X509_NAME *subject = NULL;
	int idx = -1;
	int ret = -1;

	copy_printable(buf, len, (const unsigned char *)"?", 1);
	if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
		goto out;
	subject = X509_get_subject_name(cert);
	if (!subject)
		goto out;
	idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	if (idx >= 0) {
		ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
		unsigned char *utf8 = NULL;
		int n = ASN1_STRING_to_UTF8(&utf8, data);

		if (n > 0) {
			copy_printable(buf, len, utf8, (size_t)n);
			OPENSSL_free(utf8);
			ret = 0;
			goto out;
		}
		OPENSSL_free(utf8);
	}
	{
		BIO *b = BIO_new(BIO_s_mem());
		char *p = NULL;
		long n = 0;

		if (b &&
		    X509_NAME_print_ex(b, subject, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0)
			n = BIO_get_mem_data(b, &p);
		if (n > 0) {
			copy_printable(buf, len, (const unsigned char *)p, (size_t)n);
			ret = 0;
		}
		BIO_free(b);
	}
out:
	ERR_clear_error();
	return ret;
}

/* Append "; reason" (or "reason" first) for one error code. */
static void append_reason(unsigned long e, char *buf, size_t len)
{
	const char *r = ERR_reason_error_string(e);
	size_t used = strlen(buf);
	char code[32];

	if (!r) {
		snprintf(code, sizeof(code), "error %lx", e);
		r = code;
	}
	if (used + 1 < len)
		snprintf(buf + used, len - used, "%s%s", used ? "; " : "", r);
}

const char *tls_error_reasons(const unsigned long *codes, size_t n, char *buf, size_t len)
{
	unsigned long e;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		/* libevent also queues SSL_get_error() verdicts (small numbers of no library):
		 * they say "something failed", not why. */
		if (ERR_GET_LIB(codes[i]) == 0 && !ERR_SYSTEM_ERROR(codes[i]))
			continue;
		append_reason(codes[i], buf, len);
	}
	while ((e = ERR_get_error()) != 0)
		append_reason(e, buf, len);
	return buf;
}

/* One SAN string (IA5String) as a new C string: NULL when it holds a NUL or unprintable byte
 * (it could never match a policy pattern honestly). */
static char *san_string(const ASN1_IA5STRING *v)
{
	const unsigned char *d = ASN1_STRING_get0_data(v);
	int n = ASN1_STRING_length(v);
	char *out = NULL;

	if (!d || n <= 0)
		return NULL;
	for (int i = 0; i < n; i++)
		if (d[i] < 0x21 || d[i] > 0x7e)
			return NULL;
	out = malloc((size_t)n + 1);
	if (!out)
		return NULL;
	memcpy(out, d, (size_t)n);
	out[n] = '\0';
	return out;
}

void tls_peer_sans(SSL *ssl, char **dns, size_t *n_dns, char **uri, size_t *n_uri, size_t max)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	GENERAL_NAMES *gens = NULL;

	*n_dns = 0;
	*n_uri = 0;
	if (!cert)
		return;
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char *v = NULL;

		if (g->type == GEN_DNS && *n_dns < max && (v = san_string(g->d.dNSName)))
			dns[(*n_dns)++] = v;
		else if (g->type == GEN_URI && *n_uri < max &&
			 (v = san_string(g->d.uniformResourceIdentifier)))
			uri[(*n_uri)++] = v;
	}
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
}

int tls_peer_cn(SSL *ssl, char *buf, size_t len)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	X509_NAME *subject = cert ? X509_get_subject_name(cert) : NULL;
	int idx = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
	unsigned char *utf8 = NULL;
	int n = -1, ret = -1;

	if (len)
		buf[0] = '\0';
	if (idx < 0 || SSL_get_verify_result(ssl) != X509_V_OK)
		goto out;
	/* A second CN would make "the" CN ambiguous. */
	if (X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0)
		goto out;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
	if (n <= 0 || (size_t)n >= len)
		goto out;
	for (int i = 0; i < n; i++)
		if (utf8[i] < 0x20 || utf8[i] == 0x7f)
			goto out;
	memcpy(buf, utf8, (size_t)n);
	buf[n] = '\0';
	ret = 0;
out:
	OPENSSL_free(utf8);
	ERR_clear_error();
	return ret;
}
