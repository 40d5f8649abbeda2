#!/usr/bin/env bash
# What the server must refuse, and survive: clients without a certificate or with one from an
# unrelated CA, clients that must refuse the server (wrong CA, wrong name), oversized and
# garbage frames after a good handshake, plaintext and silence instead of TLS. The one server
# keeps running throughout, and a good client works before and after.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HANDSHAKE_TIMEOUT=2
server_conf srv "handshake_timeout = $HANDSHAKE_TIMEOUT"
server_init_token srv
server_start srv
port=${SRV_PORT[srv]}
make_pki "$T/rogue" rogue

client_conf "$T/good.conf" srv
client_conf "$T/nocert.conf" srv none
client_conf "$T/rogue.conf" srv "$T/rogue"
client_conf "$T/distrust.conf" srv "$T/pki" "ca = $T/rogue/ca.pem"
client_conf "$T/wrongname.conf" srv "$T/pki" "server_name = not-the-server.example"

drive "$T/good.conf" e2e refusal-1
assert_alive srv

# The server refuses clients it cannot authenticate.
drive "$T/nocert.conf" expect-refused
assert_alive srv
drive "$T/rogue.conf" expect-refused
assert_alive srv

# The client refuses a server it cannot authenticate.
drive "$T/distrust.conf" expect-refused
assert_alive srv
drive "$T/wrongname.conf" expect-refused
assert_alive srv

# raw_frame NAME PRINTF_BYTES: complete a mutual-TLS handshake with the good client certificate,
# send the bytes, and require that the server closes the connection (s_client then exits by
# itself; a timeout means the server kept a broken connection open).
raw_frame() {
	local what=$1 bytes=$2 rc=0
	log "sending $what over an authenticated TLS connection"
	# shellcheck disable=SC2059 # the bytes are a printf format on purpose
	printf "$bytes" | timeout 20 openssl s_client -connect "127.0.0.1:$port" \
		-cert "$T/pki/client.pem" -key "$T/pki/client.key" -CAfile "$T/pki/ca.pem" \
		-verify_return_error -brief -ign_eof >"$T/s_client.out" 2>&1 || rc=$?
	[ "$rc" -ne 124 ] || { cat "$T/s_client.out" >&2; die "the server kept the connection open after $what"; }
	grep -q "CONNECTION ESTABLISHED" "$T/s_client.out" ||
		{ cat "$T/s_client.out" >&2; die "the TLS handshake with the good certificate failed"; }
	assert_alive srv
}
raw_frame "a frame length of 0xFFFFFFFF" '\377\377\377\377'
raw_frame "a frame length of 1 MiB + 1" '\000\020\000\001garbage'
raw_frame "an 8-byte frame that is not protobuf" '\000\000\000\010\007\007\007\007\007\007\007\007'

# raw_tcp WHAT PRINTF_BYTES: the same without TLS.
raw_tcp() {
	local what=$1 bytes=$2 rc=0 start end
	log "sending $what over plain TCP"
	start=$(date +%s)
	exec 3<>"/dev/tcp/127.0.0.1/$port"
	# In a subshell: the server may close (and reset) the connection before all is written,
	# and the SIGPIPE must not kill the test.
	# shellcheck disable=SC2059
	[ -z "$bytes" ] || (printf "$bytes" >&3) 2>/dev/null || true
	timeout $((HANDSHAKE_TIMEOUT + 10)) cat <&3 >/dev/null 2>&1 || rc=$?
	exec 3<&-
	end=$(date +%s)
	[ "$rc" -ne 124 ] || die "the server kept the connection open after $what"
	log "closed by the server after $((end - start))s"
	assert_alive srv
}
raw_tcp "an HTTP request instead of TLS" 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'
raw_tcp "nothing (handshake_timeout = ${HANDSHAKE_TIMEOUT}s)" ''

# Still serving, with the old key intact.
drive "$T/good.conf" e2e refusal-2
drive "$T/good.conf" sign-existing refusal-1
server_stop srv
