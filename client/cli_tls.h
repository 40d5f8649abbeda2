/* The production transport: TCP and TLS 1.3 with OpenSSL, to the teehsmd a config names. */
#ifndef TEEHSM_CLIENT_CLI_TLS_H
#define TEEHSM_CLIENT_CLI_TLS_H

#include "cli_conf.h"
#include "transport.h"

/* A TLS transport for conf (owned from now on, freed with the transport or on failure). Loads
 * the CA bundle and the client certificate and key now, so a bad file fails C_Initialize.
 * CKR_OK with *out set (free with (*out)->ops->free), or CKR_GENERAL_ERROR with the reason on
 * stderr. Does not connect. */
CK_RV cli_tls_transport_new(struct cli_conf *conf, struct cli_transport **out);

#endif
