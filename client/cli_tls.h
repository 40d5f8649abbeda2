/* The production transport: TCP and TLS 1.3 with OpenSSL, to the teehsmd servers a config names. */
#ifndef TEEHSM_CLIENT_CLI_TLS_H
#define TEEHSM_CLIENT_CLI_TLS_H

#include <openssl/ssl.h>

#include "cli_conf.h"
#include "transport.h"

/* The TLS context every server of conf is reached with: TLS 1.3, the CA bundle, and the client
 * certificate and key when configured. Loads the files now, so a bad one fails C_Initialize.
 * CKR_OK with *out set (SSL_CTX_free), or CKR_GENERAL_ERROR with the reason on stderr. */
CK_RV cli_tls_ctx_new(const struct cli_conf *conf, SSL_CTX **out);

/* A transport to conf's server number i over ctx (the transport takes its own reference; conf
 * is copied from, not kept). CKR_OK with *out set (free with (*out)->ops->free), or
 * CKR_HOST_MEMORY. Does not connect. */
CK_RV cli_tls_transport_new(const struct cli_conf *conf, size_t i, SSL_CTX *ctx,
			    struct cli_transport **out);

#endif
