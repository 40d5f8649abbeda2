/*
 * client/unix_transport.c against a fake teehsmd on a Unix socket in a fresh directory: frames
 * both ways up to the cap, the length check before allocation, the end of the stream, deadlines,
 * interrupt, idle checks, connect failures (nothing there, a full backlog), senders racing; then
 * cli_rpc over it (Hello and calls); then the `unix:` lines of the client config.
 *
 * cmocka's assertions are not thread-safe: the fake server and the sending threads only record
 * what they saw, and the test asserts after joining them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "proto/codec.h"
#include "cli_conf.h"
#include "cli_rpc.h"
#include "cli_unix.h"
#include "transport.h"

#define MAX_FRAME    CODEC_DEFAULT_MAX_FRAME
#define SUN_PATH_LEN sizeof(((struct sockaddr_un *)NULL)->sun_path)

/* ---- malloc, watched: the test links with -Wl,--wrap=malloc ---- */

void *__wrap_malloc(size_t n);
void *__real_malloc(size_t n);

static size_t g_largest_malloc; /* (atomic) since the last reset */

void *__wrap_malloc(size_t n)
{
	size_t seen = __atomic_load_n(&g_largest_malloc, __ATOMIC_RELAXED);

	while (n > seen && !__atomic_compare_exchange_n(&g_largest_malloc, &seen, n, 0,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return __real_malloc(n);
}

/* ---- the directory, the socket, small helpers ---- */

static char g_dir[64];
static char g_path[128];

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int dir_setup(void **state)
{
	(void)state;
	strcpy(g_dir, "/tmp/teehsm-unix-XXXXXX");
	assert_non_null(mkdtemp(g_dir));
	snprintf(g_path, sizeof(g_path), "%s/teehsmd.sock", g_dir);
	return 0;
}

static int dir_teardown(void **state)
{
	char p[160];

	(void)state;
	unlink(g_path);
	snprintf(p, sizeof(p), "%s/client.conf", g_dir);
	unlink(p);
	assert_int_equal(rmdir(g_dir), 0);
	return 0;
}

/* A socket listening at g_path. */
static int listen_here(int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	unlink(g_path);
	strcpy(sa.sun_path, g_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	return fd;
}

/* A transport to path as a config would make it. */
static struct cli_transport *transport_to(const char *path, unsigned long connect_timeout_ms)
{
	struct cli_server_conf s = { .unix_path = (char *)path, .line = 1 };
	struct cli_conf c = { .servers = &s,
			      .n_servers = 1,
			      .connect_timeout_ms = connect_timeout_ms,
			      .call_timeout_ms = 5000 };
	struct cli_transport *t = NULL;

	assert_int_equal(cli_unix_transport_new(&c, 0, &t), CKR_OK);
	assert_non_null(t);
	return t;
}

/* A frame of len payload bytes, each a function of seed and its place. */
static uint8_t *frame_new(size_t len, unsigned seed)
{
	uint8_t *f = malloc(CODEC_FRAME_HDR + len);

	assert_non_null(f);
	put_be32(f, (uint32_t)len);
	for (size_t i = 0; i < len; i++)
		f[CODEC_FRAME_HDR + i] = (uint8_t)(seed * 31u + i * 7u + (i >> 8));
	return f;
}

/* ---- the fake server: one connection per start ---- */

enum srv_script {
	SRV_ECHO,   /* send every frame back, until the end of the stream */
	SRV_PARSE,  /* check every frame of the racing senders, until the end of the stream */
	SRV_RPC,    /* answer Hello and GenerateRandom like teehsmd, until the end of the stream */
	SRV_RAW,    /* (after go) send raw; then close if close_after, else wait for stop */
	SRV_SILENT, /* wait for stop, reading nothing */
};

#define SENDERS		  4
#define FRAMES_PER_SENDER 200

struct srv {
	int lfd;
	enum srv_script script;
	int wait_go;	 /* read one byte from ctl before the script */
	int close_after; /* SRV_RAW: close at once after sending */
	uint8_t raw[64];
	size_t raw_len;
	int ctl[2]; /* the test's go (one byte) and stop (the end) */
	pthread_t th;
	/* What happened. */
	int accepted;
	unsigned frames, bad, hellos, calls;
	unsigned next_seq[SENDERS];
};

static int read_full(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The next frame's payload (malloc), or NULL at the end of the stream or on a bad header. */
static uint8_t *srv_read_frame(struct srv *s, int fd, size_t *len)
{
	uint8_t hdr[CODEC_FRAME_HDR];
	uint8_t *p = NULL;

	if (read_full(fd, hdr, sizeof(hdr)))
		return NULL;
	*len = get_be32(hdr);
	if (*len > 16u << 20) {
		s->bad++;
		return NULL;
	}
	p = malloc(*len ? *len : 1);
	if (!p || read_full(fd, p, *len)) {
		s->bad++;
		free(p);
		return NULL;
	}
	return p;
}

/* One frame of the racing senders: [sender][seq, 4][len, 4][fill]. */
static void srv_check_sender_frame(struct srv *s, const uint8_t *p, size_t len)
{
	unsigned id = 0, seq = 0;

	if (len < 9 || p[0] >= SENDERS || get_be32(p + 5) != len) {
		s->bad++;
		return;
	}
	id = p[0];
	seq = get_be32(p + 1);
	if (seq != s->next_seq[id]) {
		s->bad++;
		return;
	}
	s->next_seq[id]++;
	for (size_t i = 9; i < len; i++) {
		if (p[i] != (uint8_t)(id * 31u + seq * 7u + i)) {
			s->bad++;
			return;
		}
	}
}

static void srv_answer(struct srv *s, int fd, const uint8_t *p, size_t len)
{
	Teehsm__Request *q = codec_unpack_request(p, len);
	Teehsm__Response a = TEEHSM__RESPONSE__INIT;
	Teehsm__Hello h = TEEHSM__HELLO__INIT;
	Teehsm__GenerateRandomResponse g = TEEHSM__GENERATE_RANDOM_RESPONSE__INIT;
	uint8_t data[64];
	uint8_t *out = NULL;
	size_t out_len = 0;

	if (!q) {
		s->bad++;
		return;
	}
	a.id = q->id;
	a.rv = CKR_OK;
	if (q->call_case == TEEHSM__REQUEST__CALL_HELLO) {
		s->hellos++;
		h.protocol_version = CODEC_PROTOCOL_VERSION;
		h.software_version = "fake-unix";
		h.max_frame = CODEC_DEFAULT_MAX_FRAME;
		a.result_case = TEEHSM__RESPONSE__RESULT_HELLO;
		a.hello = &h;
	} else if (q->call_case == TEEHSM__REQUEST__CALL_GENERATE_RANDOM &&
		   q->generate_random->length <= sizeof(data)) {
		s->calls++;
		memset(data, (int)(q->generate_random->session & 0xff), sizeof(data));
		g.data.data = data;
		g.data.len = q->generate_random->length;
		a.result_case = TEEHSM__RESPONSE__RESULT_GENERATE_RANDOM;
		a.generate_random = &g;
	} else {
		s->bad++;
		a.rv = CKR_FUNCTION_NOT_SUPPORTED;
	}
	if (codec_pack_response(&a, CODEC_DEFAULT_MAX_FRAME, &out, &out_len) ||
	    write_full(fd, out, out_len))
		s->bad++;
	free(out);
	codec_request_free(q);
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	uint8_t *p = NULL, b = 0;
	size_t len = 0;
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return NULL;
	s->accepted = 1;
	if (s->wait_go && read(s->ctl[0], &b, 1) < 0)
		s->bad++;
	switch (s->script) {
	case SRV_ECHO:
	case SRV_PARSE:
	case SRV_RPC:
		while ((p = srv_read_frame(s, fd, &len)) != NULL) {
			s->frames++;
			if (s->script == SRV_PARSE) {
				srv_check_sender_frame(s, p, len);
			} else if (s->script == SRV_RPC) {
				srv_answer(s, fd, p, len);
			} else {
				uint8_t hdr[CODEC_FRAME_HDR];

				put_be32(hdr, (uint32_t)len);
				if (write_full(fd, hdr, sizeof(hdr)) || write_full(fd, p, len))
					s->bad++;
			}
			free(p);
		}
		break;
	case SRV_RAW:
		if (write_full(fd, s->raw, s->raw_len))
			s->bad++;
		if (s->close_after)
			break;
		/* fall through */
	case SRV_SILENT:
		while (read(s->ctl[0], &b, 1) > 0)
			;
		break;
	}
	close(fd);
	return NULL;
}

static void srv_start(struct srv *s, int lfd, enum srv_script script)
{
	memset(s, 0, sizeof(*s));
	s->lfd = lfd;
	s->script = script;
	assert_int_equal(pipe2(s->ctl, O_CLOEXEC), 0);
}

static void srv_run(struct srv *s)
{
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_go(struct srv *s)
{
	uint8_t b = 'g';

	assert_int_equal(write(s->ctl[1], &b, 1), 1);
}

/* Tell the server to stop waiting and join it. */
static void srv_stop(struct srv *s)
{
	if (s->ctl[1] >= 0)
		close(s->ctl[1]);
	s->ctl[1] = -1;
	pthread_join(s->th, NULL);
	close(s->ctl[0]);
}

/* ---- frames ---- */

/* Frames of several sizes up to the cap go both ways whole; the name says where. */
static void test_frames_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, 4, 1000, 65536, 300000, MAX_FRAME - 1, MAX_FRAME };
	char name[160];
	int lfd = listen_here(4);
	struct cli_transport *t = transport_to(g_path, 2000);
	struct srv s;

	(void)state;
	snprintf(name, sizeof(name), "unix:%s", g_path);
	assert_string_equal(t->name, name);
	srv_start(&s, lfd, SRV_ECHO);
	srv_run(&s);
	assert_int_equal(t->ops->connect(t), CKR_OK);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *f = frame_new(sizes[i], (unsigned)i);
		uint8_t *payload = NULL;
		size_t len = 0;

		assert_int_equal(t->ops->send(t, f, CODEC_FRAME_HDR + sizes[i], now_ms() + 10000),
				 CLI_IO_OK);
		assert_int_equal(t->ops->recv(t, MAX_FRAME, now_ms() + 10000, &payload, &len),
				 CLI_IO_OK);
		assert_non_null(payload);
		assert_int_equal(len, sizes[i]);
		if (sizes[i])
			assert_memory_equal(payload, f + CODEC_FRAME_HDR, sizes[i]);
		wipe_free(payload, len);
		free(f);
	}
	assert_int_equal(t->ops->idle_check(t), 0);
	t->ops->disconnect(t);
	srv_stop(&s);
	assert_int_equal(s.frames, sizeof(sizes) / sizeof(sizes[0]));
	assert_int_equal(s.bad, 0);

	/* Connect again after disconnect, on the same transport. */
	srv_start(&s, lfd, SRV_ECHO);
	srv_run(&s);
	assert_int_equal(t->ops->connect(t), CKR_OK);
	{
		uint8_t *f = frame_new(10, 9);
		uint8_t *payload = NULL;
		size_t len = 0;

		assert_int_equal(t->ops->send(t, f, CODEC_FRAME_HDR + 10, now_ms() + 10000),
				 CLI_IO_OK);
		assert_int_equal(t->ops->recv(t, MAX_FRAME, now_ms() + 10000, &payload, &len),
				 CLI_IO_OK);
		assert_int_equal(len, 10);
		assert_memory_equal(payload, f + CODEC_FRAME_HDR, 10);
		wipe_free(payload, len);
		free(f);
	}
	t->ops->free(t); /* disconnects */
	srv_stop(&s);
	assert_int_equal(s.frames, 1);
	close(lfd);
}

/* A header announcing more than max_frame fails the read at once, before any allocation for
 * it and without waiting for the payload. */
static void test_frame_too_large(void **state)
{
	static const uint32_t announced[] = { MAX_FRAME + 1, UINT32_MAX };
	int lfd = listen_here(4);
	struct cli_transport *t = transport_to(g_path, 2000);

	(void)state;
	for (size_t i = 0; i < sizeof(announced) / sizeof(announced[0]); i++) {
		struct srv s;
		uint8_t *payload = (uint8_t *)&s;
		size_t len = 99;
		int64_t t0;
		enum cli_io io;

		srv_start(&s, lfd, SRV_RAW);
		put_be32(s.raw, announced[i]);
		s.raw_len = CODEC_FRAME_HDR;
		srv_run(&s);
		assert_int_equal(t->ops->connect(t), CKR_OK);
		t0 = now_ms();
		__atomic_store_n(&g_largest_malloc, 0, __ATOMIC_RELAXED);
		io = t->ops->recv(t, MAX_FRAME, now_ms() + 20000, &payload, &len);
		assert_int_equal(io, CLI_IO_ERROR);
		assert_true(__atomic_load_n(&g_largest_malloc, __ATOMIC_RELAXED) < 4096);
		assert_true(now_ms() - t0 < 10000);
		assert_null(payload);
		assert_int_equal(len, 0);
		t->ops->disconnect(t);
		srv_stop(&s);
	}
	/* Exactly max_frame is still fine, with a smaller cap too. */
	{
		struct srv s;
		uint8_t *payload = NULL;
		size_t len = 0;

		srv_start(&s, lfd, SRV_RAW);
		put_be32(s.raw, 40);
		memset(s.raw + CODEC_FRAME_HDR, 'x', 40);
		s.raw_len = CODEC_FRAME_HDR + 40;
		srv_run(&s);
		assert_int_equal(t->ops->connect(t), CKR_OK);
		assert_int_equal(t->ops->recv(t, 40, now_ms() + 10000, &payload, &len), CLI_IO_OK);
		assert_int_equal(len, 40);
		wipe_free(payload, len);
		t->ops->disconnect(t);
		srv_stop(&s);
	}
	t->ops->free(t);
	close(lfd);
}

/* The end of the stream, before a frame or inside one, and a reset with our request unread:
 * CLI_IO_CLOSED. Sending to a server that went away: CLI_IO_CLOSED, and no SIGPIPE (it would
 * kill this test). */
static void test_closed(void **state)
{
	int lfd = listen_here(4);
	struct cli_transport *t = transport_to(g_path, 2000);
	uint8_t *f = frame_new(100, 1);
	uint8_t *payload = NULL;
	size_t len = 0;
	struct srv s;

	(void)state;
	/* Closed before a frame. */
	srv_start(&s, lfd, SRV_RAW);
	s.close_after = 1;
	srv_run(&s);
	assert_int_equal(t->ops->connect(t), CKR_OK);
	assert_int_equal(t->ops->recv(t, MAX_FRAME, now_ms() + 10000, &payload, &len),
			 CLI_IO_CLOSED);
	assert_null(payload);
	srv_stop(&s);
	/* Now that it is gone, a send. */
	assert_int_equal(t->ops->send(t, f, CODEC_FRAME_HDR + 100, now_ms() + 10000),
			 CLI_IO_CLOSED);
	assert_int_equal(t->ops->send(t, f, CODEC_FRAME_HDR + 100, now_ms() + 10000),
			 CLI_IO_CLOSED);
	t->ops->disconnect(t);

	/* Closed inside a frame. */
	srv_start(&s, lfd, SRV_RAW);
	put_be32(s.raw, 10);
	memcpy(s.raw + CODEC_FRAME_HDR, "abc", 3);
	s.raw_len = CODEC_FRAME_HDR + 3;
	s.close_after = 1;
	srv_run(&s);
	assert_int_equal(t->ops->connect(t), CKR_OK);
	assert_int_equal(t->ops->recv(t, MAX_FRAME, now_ms() + 10000, &payload, &len),
			 CLI_IO_CLOSED);
	assert_null(payload);
	t->ops->disconnect(t);
	srv_stop(&s);

	/* Closed with our request unread (the kernel reports a reset). */
	srv_start(&s, lfd, SRV_RAW);
	s.wait_go = 1;
	s.close_after = 1;
	srv_run(&s);
	assert_int_equal(t->ops->connect(t), CKR_OK);
	assert_int_equal(t->ops->send(t, f, CODEC_FRAME_HDR + 100, now_ms() + 10000), CLI_IO_OK);
	srv_go(&s);
	assert_int_equal(t->ops->recv(t, MAX_FRAME, now_ms() + 10000, &payload, &len),
			 CLI_IO_CLOSED);
	t->ops->disconnect(t);
	srv_stop(&s);

	/* Not connected at all. */
	assert_int_equal(t->ops->send(t, f, CODEC_FRAME_HDR + 100, now_ms() + 1000), CLI_IO_CLOSED);
	assert_int_equal(t->ops->recv(t, MAX_FRAME, now_ms() + 1000, &payload, &len),
			 CLI_IO_CLOSED);
	free(f);
	t->ops->free(t);
	close(lfd);
}

/* A server that says nothing, or half a frame, costs the deadline and no more. */
static void test_deadline(void **state)
{
	int lfd = listen_here(4);
	struct cli_transport *t = transport_to(g_path, 2000);
	uint8_t *payload = NULL;
	size_t len = 0;
	int64_t t0, ms;
	struct srv s;

	(void)state;
	srv_start(&s, lfd, SRV_SILENT);
	srv_run(&s);
	assert_int_equal(t->ops->connect(t), CKR_OK);
	t0 = now_ms();
	assert_int_equal(t->ops->recv(t, MAX_FRAME, t0 + 300, &payload, &len), CLI_IO_TIMEOUT);
	ms = now_ms() - t0;
	assert_true(ms >= 290 && ms < 5000);
	assert_null(payload);
	/* A deadline already past. */
	assert_int_equal(t->ops->recv(t, MAX_FRAME, now_ms() - 1, &payload, &len), CLI_IO_TIMEOUT);
	t->ops->disconnect(t);
	srv_stop(&s);

	srv_start(&s, lfd, SRV_RAW);
	put_be32(s.raw, 10);
	memcpy(s.raw + CODEC_FRAME_HDR, "ab", 2);
	s.raw_len = CODEC_FRAME_HDR + 2;
	srv_run(&s);
	assert_int_equal(t->ops->connect(t), CKR_OK);
	t0 = now_ms();
	assert_int_equal(t->ops->recv(t, MAX_FRAME, t0 + 300, &payload, &len), CLI_IO_TIMEOUT);
	ms = now_ms() - t0;
	assert_true(ms >= 290 && ms < 5000);
	assert_null(payload);
	t->ops->disconnect(t);
	srv_stop(&s);

	/* A send the server never reads: the socket fills up, and the deadline ends it. */
	srv_start(&s, lfd, SRV_SILENT);
	srv_run(&s);
	assert_int_equal(t->ops->connect(t), CKR_OK);
	{
		uint8_t *f = frame_new(8u << 20, 3);

		t0 = now_ms();
		assert_int_equal(t->ops->send(t, f, CODEC_FRAME_HDR + (8u << 20), t0 + 300),
				 CLI_IO_TIMEOUT);
		ms = now_ms() - t0;
		assert_true(ms >= 290 && ms < 5000);
		free(f);
	}
	t->ops->disconnect(t);
	srv_stop(&s);
	t->ops->free(t);
	close(lfd);
}

struct blocked {
	struct cli_transport *t;
	int sending;
	enum cli_io io;
	int64_t ms;
};

static void *blocked_main(void *arg)
{
	struct blocked *b = arg;
	int64_t t0 = now_ms();
	uint8_t *payload = NULL;
	size_t len = 0;

	if (b->sending) {
		uint8_t *f = frame_new(8u << 20, 4);

		b->io = f ? b->t->ops->send(b->t, f, CODEC_FRAME_HDR + (8u << 20), t0 + 60000)
			  : CLI_IO_NOMEM;
		free(f);
	} else {
		b->io = b->t->ops->recv(b->t, MAX_FRAME, t0 + 60000, &payload, &len);
		wipe_free(payload, len);
	}
	b->ms = now_ms() - t0;
	return NULL;
}

/* interrupt() from another thread makes a blocked recv, and a blocked send, return at once. */
static void test_interrupt(void **state)
{
	int lfd = listen_here(4);
	struct cli_transport *t = transport_to(g_path, 2000);

	(void)state;
	for (int sending = 0; sending <= 1; sending++) {
		struct blocked b = { .t = t, .sending = sending, .io = CLI_IO_OK };
		pthread_t th;
		struct srv s;

		srv_start(&s, lfd, SRV_SILENT);
		srv_run(&s);
		assert_int_equal(t->ops->connect(t), CKR_OK);
		assert_int_equal(pthread_create(&th, NULL, blocked_main, &b), 0);
		sleep_ms(200);
		t->ops->interrupt(t);
		pthread_join(th, NULL);
		assert_int_equal(b.io, CLI_IO_CLOSED);
		assert_true(b.ms < 30000);
		t->ops->disconnect(t);
		srv_stop(&s);
	}
	/* The transport connects again after an interrupted connection. */
	{
		struct srv s;

		srv_start(&s, lfd, SRV_SILENT);
		srv_run(&s);
		assert_int_equal(t->ops->connect(t), CKR_OK);
		assert_int_equal(t->ops->idle_check(t), 0);
		t->ops->disconnect(t);
		srv_stop(&s);
	}
	t->ops->free(t);
	close(lfd);
}

/* idle_check: 0 while the server is quiet; -1 once it closed, or sent what nobody asked for,
 * and when not connected. */
static int idle_check_settles(struct cli_transport *t)
{
	int r = 0;

	for (int i = 0; i < 500 && (r = t->ops->idle_check(t)) == 0; i++)
		sleep_ms(10);
	return r;
}

static void test_idle_check(void **state)
{
	int lfd = listen_here(4);
	struct cli_transport *t = transport_to(g_path, 2000);
	struct srv s;

	(void)state;
	assert_int_equal(t->ops->idle_check(t), -1); /* never connected */

	srv_start(&s, lfd, SRV_RAW);
	s.wait_go = 1;
	s.close_after = 1;
	srv_run(&s);
	assert_int_equal(t->ops->connect(t), CKR_OK);
	assert_int_equal(t->ops->idle_check(t), 0);
	srv_go(&s);
	srv_stop(&s); /* it closed */
	assert_int_equal(t->ops->idle_check(t), -1);
	t->ops->disconnect(t);

	srv_start(&s, lfd, SRV_RAW);
	s.wait_go = 1;
	s.raw[0] = 'x';
	s.raw_len = 1;
	srv_run(&s);
	assert_int_equal(t->ops->connect(t), CKR_OK);
	assert_int_equal(t->ops->idle_check(t), 0);
	srv_go(&s);
	assert_int_equal(idle_check_settles(t), -1);
	t->ops->disconnect(t);
	srv_stop(&s);

	assert_int_equal(t->ops->idle_check(t), -1); /* disconnected */
	t->ops->free(t);
	close(lfd);
}

/* ---- connecting ---- */

/* Nothing at the path, a socket file nobody listens on, a directory: CKR_DEVICE_ERROR. A server
 * whose backlog is full: CKR_DEVICE_ERROR after connect_timeout_ms, not a hang. */
static void test_connect_failures(void **state)
{
	struct cli_transport *t = transport_to(g_path, 300);
	int fds[64], n = 0, lfd;
	int64_t t0, ms;

	(void)state;
	assert_int_equal(t->ops->connect(t), CKR_DEVICE_ERROR);
	assert_int_equal(t->ops->idle_check(t), -1);

	lfd = listen_here(4);
	close(lfd); /* the file stays, refusing */
	assert_int_equal(t->ops->connect(t), CKR_DEVICE_ERROR);
	unlink(g_path);

	{
		struct cli_transport *d = transport_to(g_dir, 300);

		assert_int_equal(d->ops->connect(d), CKR_DEVICE_ERROR);
		d->ops->free(d);
	}

	/* A listener that never accepts, its backlog filled by other clients. */
	lfd = listen_here(0);
	for (n = 0; n < 64; n++) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		strcpy(sa.sun_path, g_path);
		fds[n] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(fds[n] >= 0);
		if (connect(fds[n], (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			assert_int_equal(errno, EAGAIN);
			close(fds[n]);
			break;
		}
	}
	assert_true(n < 64);
	t0 = now_ms();
	assert_int_equal(t->ops->connect(t), CKR_DEVICE_ERROR);
	ms = now_ms() - t0;
	assert_true(ms >= 290 && ms < 5000);
	/* Room again: it connects. */
	for (int i = 0; i < n; i++)
		close(fds[i]);
	close(lfd);
	lfd = listen_here(4);
	{
		struct srv s;

		srv_start(&s, lfd, SRV_SILENT);
		srv_run(&s);
		assert_int_equal(t->ops->connect(t), CKR_OK);
		t->ops->disconnect(t);
		srv_stop(&s);
	}
	close(lfd);
	t->ops->free(t);
}

/* ---- senders racing ---- */

struct sender {
	struct cli_transport *t;
	unsigned id;
	unsigned failures;
};

static size_t sender_frame_len(unsigned id, unsigned seq)
{
	if (seq % 40 == 39)
		return 250000; /* more than the socket holds: written in several pieces */
	return 9 + (seq * 7919u + id * 104729u) % 30000u;
}

static void *sender_main(void *arg)
{
	struct sender *snd = arg;

	for (unsigned seq = 0; seq < FRAMES_PER_SENDER; seq++) {
		size_t len = sender_frame_len(snd->id, seq);
		uint8_t *f = malloc(CODEC_FRAME_HDR + len);
		uint8_t *p = f + CODEC_FRAME_HDR;

		if (!f) {
			snd->failures++;
			continue;
		}
		put_be32(f, (uint32_t)len);
		p[0] = (uint8_t)snd->id;
		put_be32(p + 1, seq);
		put_be32(p + 5, (uint32_t)len);
		for (size_t i = 9; i < len; i++)
			p[i] = (uint8_t)(snd->id * 31u + seq * 7u + i);
		if (snd->t->ops->send(snd->t, f, CODEC_FRAME_HDR + len, now_ms() + 60000) !=
		    CLI_IO_OK)
			snd->failures++;
		free(f);
	}
	return NULL;
}

/* Four threads send 200 frames each at once: the server reads every frame whole, and each
 * thread's frames in its order. */
static void test_concurrent_senders(void **state)
{
	int lfd = listen_here(4);
	struct cli_transport *t = transport_to(g_path, 2000);
	struct sender snd[SENDERS];
	pthread_t th[SENDERS];
	struct srv s;

	(void)state;
	srv_start(&s, lfd, SRV_PARSE);
	srv_run(&s);
	assert_int_equal(t->ops->connect(t), CKR_OK);
	for (unsigned i = 0; i < SENDERS; i++) {
		snd[i] = (struct sender){ .t = t, .id = i, .failures = 0 };
		assert_int_equal(pthread_create(&th[i], NULL, sender_main, &snd[i]), 0);
	}
	for (unsigned i = 0; i < SENDERS; i++)
		pthread_join(th[i], NULL);
	t->ops->disconnect(t); /* the server sees the end of the stream */
	srv_stop(&s);
	for (unsigned i = 0; i < SENDERS; i++) {
		assert_int_equal(snd[i].failures, 0);
		assert_int_equal(s.next_seq[i], FRAMES_PER_SENDER);
	}
	assert_int_equal(s.frames, SENDERS * FRAMES_PER_SENDER);
	assert_int_equal(s.bad, 0);
	t->ops->free(t);
	close(lfd);
}

/* ---- the RPC layer on top ---- */

/* cli_rpc over the Unix transport: Hello, then calls answered by their own ids. */
static void test_rpc_over_unix(void **state)
{
	int lfd = listen_here(4);
	struct cli_rpc *r = cli_rpc_new(transport_to(g_path, 2000));
	const struct cli_rpc_opts unbound = { 0 };
	struct srv s;

	(void)state;
	assert_non_null(r);
	srv_start(&s, lfd, SRV_RPC);
	srv_run(&s);
	for (uint64_t session = 1; session <= 3; session++) {
		Teehsm__Request q = TEEHSM__REQUEST__INIT;
		Teehsm__GenerateRandomRequest g = TEEHSM__GENERATE_RANDOM_REQUEST__INIT;
		Teehsm__Response *a = NULL;
		uint64_t conn = 0;

		g.session = session;
		g.length = 16;
		q.call_case = TEEHSM__REQUEST__CALL_GENERATE_RANDOM;
		q.generate_random = &g;
		assert_int_equal(cli_rpc_call(r, &q, TEEHSM__RESPONSE__RESULT_GENERATE_RANDOM,
					      &unbound, &conn, &a),
				 CKR_OK);
		assert_int_equal(conn, 1);
		assert_non_null(a);
		assert_int_equal(a->generate_random->data.len, 16);
		assert_int_equal(a->generate_random->data.data[15], session);
		codec_response_free(a);
	}
	cli_rpc_free(r); /* disconnects: the server sees the end of the stream */
	srv_stop(&s);
	assert_int_equal(s.hellos, 1);
	assert_int_equal(s.calls, 3);
	assert_int_equal(s.bad, 0);
	close(lfd);
}

/* ---- the client config's unix: lines ---- */

static int load(const char *body, struct cli_conf **out)
{
	char path[160];
	FILE *f = NULL;

	snprintf(path, sizeof(path), "%s/client.conf", g_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(body, f);
	fclose(f);
	*out = NULL;
	return cli_conf_load(path, out);
}

static void test_conf_unix(void **state)
{
	char body[512], path[200];
	struct cli_conf *c = NULL;
	struct cli_transport *t = NULL;

	(void)state;
	/* Unix sockets alone need no CA bundle, and take no server_name of their own. */
	assert_int_equal(load("server = unix:/run/teehsm/teehsmd.sock\n", &c), 0);
	assert_int_equal(c->n_servers, 1);
	assert_string_equal(c->servers[0].unix_path, "/run/teehsm/teehsmd.sock");
	assert_null(c->servers[0].host);
	assert_null(c->servers[0].port);
	assert_null(c->servers[0].server_name);
	assert_int_equal(c->servers[0].line, 1);
	assert_null(c->ca);
	assert_int_equal(cli_unix_transport_new(c, 0, &t), CKR_OK);
	assert_string_equal(t->name, "unix:/run/teehsm/teehsmd.sock");
	assert_int_equal(t->call_timeout_ms, 60000);
	t->ops->free(t);
	cli_conf_free(c);

	/* With TCP servers, ca is required for them as before. */
	assert_int_equal(load("server = unix:/run/a.sock\nserver = 127.0.0.1:5705\n", &c), -1);
	assert_null(c);
	assert_int_equal(load("server_name = hsm.example\n"
			      "server = unix:/run/a.sock\n"
			      "server = 127.0.0.1:5705\n"
			      "ca = ca.pem\n",
			      &c),
			 0);
	assert_int_equal(c->n_servers, 2);
	assert_string_equal(c->servers[0].unix_path, "/run/a.sock");
	assert_null(c->servers[1].unix_path);
	assert_string_equal(c->servers[1].host, "127.0.0.1");
	assert_string_equal(c->servers[1].server_name, "hsm.example");
	assert_non_null(c->ca);
	assert_int_equal(cli_unix_transport_new(c, 1, &t), CKR_ARGUMENTS_BAD);
	assert_null(t);
	cli_conf_free(c);

	/* A CA bundle with Unix sockets alone is accepted (and unused). */
	assert_int_equal(load("ca = ca.pem\nserver = unix:/run/a.sock\n", &c), 0);
	cli_conf_free(c);

	/* Relative or empty paths, a server name, two of the same socket: refused. */
	assert_int_equal(load("server = unix:run/teehsmd.sock\n", &c), -1);
	assert_int_equal(load("server = unix:./teehsmd.sock\n", &c), -1);
	assert_int_equal(load("server = unix:\n", &c), -1);
	assert_int_equal(load("server = unix:/run/a.sock hsm.example\n", &c), -1);
	assert_int_equal(load("server = unix:/run/a.sock\nserver = unix:/run/a.sock\n", &c), -1);
	assert_int_equal(load("server = unix:/run/a.sock\nserver = a:1\nserver = unix:/run/a.sock\n"
			      "ca = ca.pem\n",
			      &c),
			 -1);
	assert_null(c);
	/* Two different sockets are two servers. */
	assert_int_equal(load("server = unix:/run/a.sock\nserver = unix:/run/b.sock\n", &c), 0);
	assert_int_equal(c->n_servers, 2);
	cli_conf_free(c);

	/* The path must fit sun_path with its NUL: 107 bytes on Linux. */
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[SUN_PATH_LEN - 1] = '\0';
	snprintf(body, sizeof(body), "server = unix:%s\n", path);
	assert_int_equal(load(body, &c), 0);
	assert_int_equal(strlen(c->servers[0].unix_path), SUN_PATH_LEN - 1);
	assert_int_equal(cli_unix_transport_new(c, 0, &t), CKR_OK);
	t->ops->free(t);
	cli_conf_free(c);
	c = NULL;
	path[SUN_PATH_LEN - 1] = 'a';
	path[SUN_PATH_LEN] = '\0';
	snprintf(body, sizeof(body), "server = unix:%s\n", path);
	assert_int_equal(load(body, &c), -1);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_frames_round_trip, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_frame_too_large, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_closed, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_deadline, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_interrupt, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_idle_check, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_connect_failures, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_senders, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_rpc_over_unix, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_conf_unix, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
