/* What the socket transports (TLS over TCP, plain Unix stream) share: waiting for a socket
 * against a deadline, and reading one length-prefixed frame through the transport's own reader. */
#ifndef TEEHSM_CLIENT_CLI_SOCKIO_H
#define TEEHSM_CLIENT_CLI_SOCKIO_H

#include <stddef.h>
#include <stdint.h>

#include "transport.h"

/* Wait until fd is ready for events (POLLIN, POLLOUT) or deadline_ms (a cli_now_ms() time)
 * passes: 1 ready (or in error: the next I/O call says which), 0 timed out, -1 poll failed
 * (errno set). Restarts after EINTR. */
int cli_wait_fd(int fd, short events, int64_t deadline_ms);

/* Read exactly len bytes into p before deadline_ms: CLI_IO_OK, or why not (the reader logs). */
typedef enum cli_io (*cli_read_cb)(void *arg, uint8_t *p, size_t len, int64_t deadline_ms);

/* Read one frame with read_cb(arg, ...): the header, its announced length checked against
 * max_frame before anything is allocated, then the payload into a new buffer *payload of *len
 * bytes (the caller frees it with wipe_free). peer names the server in messages. CLI_IO_OK, or
 * what the reader answered, CLI_IO_ERROR for a frame over max_frame, CLI_IO_NOMEM; *payload is
 * NULL and *len 0 then. */
enum cli_io cli_read_frame(cli_read_cb read_cb, void *arg, const char *peer, size_t max_frame,
			   int64_t deadline_ms, uint8_t **payload, size_t *len);

#endif
