/* The local transport: a Unix stream socket to a teehsmd on the same machine, without TLS (the
 * server identifies the process by the uid and gid the kernel reports for the socket). */
#ifndef TEEHSM_CLIENT_CLI_UNIX_H
#define TEEHSM_CLIENT_CLI_UNIX_H

#include "cli_conf.h"
#include "transport.h"

/* A transport to conf's server number i, which must be a `unix:PATH` line (conf is copied from,
 * not kept); its name is "unix:PATH". CKR_OK with *out set (free with (*out)->ops->free),
 * CKR_ARGUMENTS_BAD when that server is no Unix socket, or CKR_HOST_MEMORY. Does not connect. */
CK_RV cli_unix_transport_new(const struct cli_conf *conf, size_t i, struct cli_transport **out);

#endif
