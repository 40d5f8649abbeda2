/*
 * The server's TLS policy in one place: TLS 1.3 only, a client certificate is mandatory and must
 * chain to the configured CA bundle (OpenSSL checks the clientAuth purpose of the leaf), and
 * nothing is resumed, so every connection proves its identity with a full handshake.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

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

SSL_CTX *tls_server_ctx_new(const char *ca_path, const char *cert_path, const char *key_path,
			    char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL, *ret = NULL;
	STACK_OF(X509_NAME) *names = NULL;
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

	if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1) {
		snprintf(err, errlen, "cannot load the CA bundle %s: %s", ca_path,
			 last_reason(why, sizeof(why)));
		goto out;
	}
	names = SSL_load_client_CA_file(ca_path);
	if (!names || sk_X509_NAME_num(names) == 0) {
		snprintf(err, errlen, "the CA bundle %s holds no certificate: %s", ca_path,
			 last_reason(why, sizeof(why)));
		goto out;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	names = NULL; /* the context owns it now */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);

	ret = ctx;
	ctx = NULL; /* the caller owns it now */
out:
	sk_X509_NAME_pop_free(names, X509_NAME_free);
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
