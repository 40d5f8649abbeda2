/* The socket helpers of cli_sockio.h. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>

#include "common/buf.h"
#include "common/log.h"
#include "proto/codec.h"
#include "cli_sockio.h"

int cli_wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
		int64_t left = deadline - cli_now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

enum cli_io cli_read_frame(cli_read_cb read_cb, void *arg, const char *peer, size_t max_frame,
			   int64_t deadline, uint8_t **payload, size_t *len)
{
	uint8_t hdr[CODEC_FRAME_HDR];
	uint8_t *buf = NULL;
	size_t n = 0;
	enum cli_io io = CLI_IO_ERROR;

	*payload = NULL;
	*len = 0;
	io = read_cb(arg, hdr, sizeof(hdr), deadline);
	if (io != CLI_IO_OK)
		goto out;
	/* The announced length is checked before anything is allocated for it. */
	if (codec_frame_peek(hdr, sizeof(hdr), max_frame, &n) == CODEC_FRAME_TOO_LARGE) {
		log_error("%s: the server announced an answer larger than %zu bytes", peer,
			  max_frame);
		io = CLI_IO_ERROR;
		goto out;
	}
	buf = malloc(n ? n : 1);
	if (!buf) {
		log_error("out of memory for a %zu-byte answer", n);
		io = CLI_IO_NOMEM;
		goto out;
	}
	io = read_cb(arg, buf, n, deadline);
	if (io != CLI_IO_OK)
		goto out;
	*payload = buf;
	*len = n;
	buf = NULL; /* the caller owns it now */
out:
	wipe_free(buf, n);
	return io;
}
