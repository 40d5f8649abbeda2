/*
 * rawpeer — a hostile but well-authenticated peer for the limits test (tests/integ/test_limits.sh).
 *
 *   rawpeer HOST PORT CA CERT KEY noread HOLD_SECONDS
 *   rawpeer HOST PORT CA CERT KEY order
 *
 * noread: completes the mutual-TLS handshake and the Hello, opens a session, then sends
 * C_GenerateRandom requests of 64 KiB answers as fast as the connection takes them and never
 * reads an answer. Once the server has stopped taking requests (no byte written for 3 s), it
 * prints "stalled after N requests (B bytes)" and holds the connection HOLD_SECONDS more, so the
 * test can measure the server's memory, then exits 0. Exits 1 if the server never stops taking
 * requests within 60 s (it would be buffering answers without bound).
 *
 * order: opens two sessions and sends, without waiting for any answer, 100 rounds of
 * C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal on each (calls that fail if run out of
 * order), then reads every answer: all must be CKR_OK, and each session's answers must come
 * back in the order of its requests. Prints a summary and exits 0, or says what was wrong.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "proto/codec.h"

#define RANDOM_LEN   65536
#define STALL_MS     3000
#define GIVE_UP_MS   60000
#define MAX_REQUESTS 1000000

static void die(const char *what)
{
	fprintf(stderr, "rawpeer: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints, *res = NULL;
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
		die("cannot resolve the server");
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0)
		die("cannot connect");
	freeaddrinfo(res);
	return fd;
}

/* Send one request blocking. */
static void send_req(SSL *ssl, const Teehsm__Request *q)
{
	uint8_t *frame = NULL;
	size_t len = 0;

	if (codec_pack_request(q, CODEC_DEFAULT_MAX_FRAME, &frame, &len))
		die("cannot pack a request");
	if (SSL_write(ssl, frame, (int)len) != (int)len)
		die("cannot send a request");
	free(frame);
}

/* Read one response blocking. */
static Teehsm__Response *recv_resp(SSL *ssl)
{
	uint8_t hdr[CODEC_FRAME_HDR], *p = NULL;
	size_t len = 0;
	Teehsm__Response *r = NULL;

	if (SSL_read(ssl, hdr, sizeof(hdr)) != (int)sizeof(hdr))
		die("no answer");
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (len > CODEC_DEFAULT_MAX_FRAME)
		die("an answer too long");
	p = malloc(len ? len : 1);
	if (!p)
		die("out of memory");
	for (size_t got = 0; got < len;) {
		int n = SSL_read(ssl, p + got, (int)(len - got));

		if (n <= 0)
			die("the answer was cut");
		got += (size_t)n;
	}
	r = codec_unpack_response(p, len);
	free(p);
	if (!r)
		die("a malformed answer");
	return r;
}

#define ORDER_ROUNDS 100

/* Open a session (request id). */
static uint64_t open_session(SSL *ssl, uint64_t id)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__OpenSessionRequest os = TEEHSM__OPEN_SESSION_REQUEST__INIT;
	Teehsm__Response *r = NULL;
	uint64_t h;

	q.id = id;
	os.slot_id = 0;
	os.flags = 4; /* CKF_SERIAL_SESSION */
	q.call_case = TEEHSM__REQUEST__CALL_OPEN_SESSION;
	q.open_session = &os;
	send_req(ssl, &q);
	r = recv_resp(ssl);
	if (r->rv != 0 || r->result_case != TEEHSM__RESPONSE__RESULT_OPEN_SESSION)
		die("C_OpenSession refused");
	h = r->open_session->session;
	codec_response_free(r);
	return h;
}

static int mode_order(SSL *ssl)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__FindObjectsInitRequest fi = TEEHSM__FIND_OBJECTS_INIT_REQUEST__INIT;
	Teehsm__FindObjectsRequest fo = TEEHSM__FIND_OBJECTS_REQUEST__INIT;
	Teehsm__FindObjectsFinalRequest ff = TEEHSM__FIND_OBJECTS_FINAL_REQUEST__INIT;
	uint64_t sess[2], last_id[2] = { 0, 0 };
	const uint64_t base = 100;
	unsigned long n = 0, bad = 0, swaps = 0;
	uint64_t prev_any = 0;

	sess[0] = open_session(ssl, 10);
	sess[1] = open_session(ssl, 11);
	/* Request ids: base + 6 * round + 3 * session + step; step 0, 1, 2 = Init, Find, Final. */
	for (uint64_t round = 0; round < ORDER_ROUNDS; round++) {
		for (uint64_t k = 0; k < 2; k++) {
			q.id = base + 6 * round + 3 * k;
			fi.session = sess[k];
			q.call_case = TEEHSM__REQUEST__CALL_FIND_OBJECTS_INIT;
			q.find_objects_init = &fi;
			send_req(ssl, &q);
			q.id++;
			fo.session = sess[k];
			fo.max_count = 4;
			q.call_case = TEEHSM__REQUEST__CALL_FIND_OBJECTS;
			q.find_objects = &fo;
			send_req(ssl, &q);
			q.id++;
			ff.session = sess[k];
			q.call_case = TEEHSM__REQUEST__CALL_FIND_OBJECTS_FINAL;
			q.find_objects_final = &ff;
			send_req(ssl, &q);
		}
	}
	for (; n < 6 * ORDER_ROUNDS; n++) {
		Teehsm__Response *r = recv_resp(ssl);
		uint64_t k;

		if (r->id < base || r->id >= base + 6 * ORDER_ROUNDS) {
			fprintf(stderr, "rawpeer: an answer with the unknown id %llu\n",
				(unsigned long long)r->id);
			return 1;
		}
		k = ((r->id - base) % 6) / 3;
		if (r->rv != 0) {
			fprintf(stderr, "rawpeer: request %llu (session %llu) answered 0x%llx\n",
				(unsigned long long)r->id, (unsigned long long)sess[k],
				(unsigned long long)r->rv);
			bad++;
		}
		if (r->id <= last_id[k]) {
			fprintf(stderr, "rawpeer: session %llu: answer %llu after %llu\n",
				(unsigned long long)sess[k], (unsigned long long)r->id,
				(unsigned long long)last_id[k]);
			bad++;
		}
		last_id[k] = r->id;
		if (r->id < prev_any)
			swaps++;
		prev_any = r->id;
		codec_response_free(r);
	}
	printf("order: %lu answers over 2 sessions, %lu out of order or failed; %lu answers "
	       "overtook an earlier request of the other session\n",
	       n, bad, swaps);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__Hello hello = TEEHSM__HELLO__INIT;
	Teehsm__GenerateRandomRequest gr = TEEHSM__GENERATE_RANDOM_REQUEST__INIT;
	Teehsm__Response *r = NULL;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	uint8_t *frame = NULL;
	size_t frame_len = 0, off = 0;
	unsigned long long sent = 0, bytes = 0;
	long long last_progress, start;
	int fd, hold;

	if (!((argc == 8 && strcmp(argv[6], "noread") == 0) ||
	      (argc == 7 && strcmp(argv[6], "order") == 0))) {
		fprintf(stderr, "usage: rawpeer HOST PORT CA CERT KEY noread HOLD_SECONDS\n"
				"       rawpeer HOST PORT CA CERT KEY order\n");
		return 2;
	}
	hold = argc == 8 ? atoi(argv[7]) : 0;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_load_verify_locations(ctx, argv[3], NULL) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, argv[4]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[5], SSL_FILETYPE_PEM) != 1)
		die("cannot load the credentials");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	fd = tcp_connect(argv[1], argv[2]);
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1)
		die("the TLS handshake failed");

	q.id = 1;
	hello.protocol_version = CODEC_PROTOCOL_VERSION;
	hello.software_version = "rawpeer";
	hello.max_frame = CODEC_DEFAULT_MAX_FRAME;
	q.call_case = TEEHSM__REQUEST__CALL_HELLO;
	q.hello = &hello;
	send_req(ssl, &q);
	r = recv_resp(ssl);
	if (r->rv != 0)
		die("Hello refused");
	codec_response_free(r);
	if (argc == 7) {
		int rc = mode_order(ssl);

		SSL_free(ssl);
		close(fd);
		SSL_CTX_free(ctx);
		return rc;
	}

	gr.session = open_session(ssl, 2);

	/* From now on: write only, never read. */
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (!BIO_socket_nbio(fd, 1))
		die("cannot make the socket non-blocking");
	gr.length = RANDOM_LEN;
	q.call_case = TEEHSM__REQUEST__CALL_GENERATE_RANDOM;
	q.generate_random = &gr;
	start = last_progress = now_ms();
	while (sent < MAX_REQUESTS) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int n;

		if (!frame) {
			q.id = 3 + sent;
			if (codec_pack_request(&q, CODEC_DEFAULT_MAX_FRAME, &frame, &frame_len))
				die("cannot pack a request");
			off = 0;
		}
		n = SSL_write(ssl, frame + off, (int)(frame_len - off));
		if (n > 0) {
			off += (size_t)n;
			bytes += (unsigned long long)n;
			last_progress = now_ms();
			if (off == frame_len) {
				free(frame);
				frame = NULL;
				sent++;
			}
			continue;
		}
		if (SSL_get_error(ssl, n) != SSL_ERROR_WANT_WRITE)
			die("the server closed the connection");
		if (now_ms() - last_progress >= STALL_MS)
			break;
		if (now_ms() - start >= GIVE_UP_MS) {
			fprintf(stderr,
				"rawpeer: the server took %llu requests in %d s without "
				"stopping\n",
				sent, GIVE_UP_MS / 1000);
			return 1;
		}
		(void)poll(&pfd, 1, 200);
	}
	printf("stalled after %llu requests (%llu bytes)\n", sent, bytes);
	fflush(stdout);
	sleep((unsigned)hold);
	free(frame);
	/* No goodbye: the server sees a reset. */
	close(fd);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return 0;
}
