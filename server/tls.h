/*
 * tls: the server's TLS 1.3 context (mutual authentication against one CA bundle) and the few
 * OpenSSL helpers the connection code needs for identities and error reports.
 */
#ifndef TEEHSM_SERVER_TLS_H
#define TEEHSM_SERVER_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* A new server SSL_CTX: TLS 1.3 only, certificate chain from cert_path and its private key from
 * key_path (checked to match), client certificates required and verified against the CA bundle
 * ca_path (also sent as the list of acceptable CAs) and the CRLs in crl_path (NULL: none), no
 * session resumption, no renegotiation.
 * Returns the context (caller frees with SSL_CTX_free), or NULL with a one-line reason in err. */
SSL_CTX *tls_server_ctx_new(const char *ca_path, const char *crl_path, const char *cert_path,
			    const char *key_path, char *err, size_t errlen);

/* Replace ctx's trust: the CA bundle ca_path and, when crl_path is not NULL, the CRLs in that PEM
 * file (the client certificate's revocation is then checked, and a missing CRL of its issuer
 * fails the handshake). New handshakes use it at once. 0, or -1 with a reason in err (ctx is
 * unchanged). */
int tls_server_reload_trust(SSL_CTX *ctx, const char *ca_path, const char *crl_path, char *err,
			    size_t errlen);

/* Verify ssl's client certificate chain again against its context's current trust (after a
 * reload: a revoked or no longer trusted peer). 0 when it still verifies; -1 with the reason in
 * why otherwise. */
int tls_peer_recheck(SSL *ssl, char *why, size_t len);

/* The subject CN of ssl's verified peer certificate, exactly (UTF-8), for the policy: -1 (buf
 * empty) when there is none, more than one, a control character in it, or it does not fit. */
int tls_peer_cn(SSL *ssl, char *buf, size_t len);

/* The subjectAltName dNSName and URI entries of ssl's peer certificate, at most max of each, as
 * new strings (the caller frees them); entries with unprintable bytes are left out. */
void tls_peer_sans(SSL *ssl, char **dns, size_t *n_dns, char **uri, size_t *n_uri, size_t max);

/* Write the identity of ssl's verified client certificate into buf: its subject CN, or the
 * one-line subject when there is no CN, with anything unprintable replaced by '?'. Returns 0, or
 * -1 (buf then holds "?") when the handshake left no verified peer certificate. */
int tls_peer_identity(SSL *ssl, char *buf, size_t len);

/* Write the reasons of the OpenSSL errors in codes[0..n) (e.g. from
 * bufferevent_get_openssl_error; bare SSL_get_error() verdicts among them are skipped) and then
 * of every error left on this thread's queue (which is emptied) into buf as "reason; reason",
 * truncated to fit. Returns buf; "" when there was no error. */
const char *tls_error_reasons(const unsigned long *codes, size_t n, char *buf, size_t len);

#endif
