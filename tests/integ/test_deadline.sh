#!/usr/bin/env bash
# Deadlines (issue 4): a server that never answers gives CKR_DEVICE_ERROR within the configured
# timeouts, not a hang. Two silent servers:
#  - openssl s_server completes the mutual TLS handshake and then only reads: the call timeout;
#  - a socket that listens but never accepts (p11drive opens it itself: nothing in the base
#    packages does that from a shell): the TCP connect succeeds, the TLS handshake never
#    starts, so the connect timeout.
# The bound checked (MAX_MS) only guards against a hang; it is not a performance test.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MAX_MS=5000
[ "$TEEHSM_SANITIZE" = 1 ] && MAX_MS=10000
make_pki "$T/pki"

# client_conf needs a started server's port; these servers are not teehsmd.
silent_conf() { # FILE PORT
	{
		echo "server = 127.0.0.1:$2"
		echo "ca = $T/pki/ca.pem"
		echo "cert = $T/pki/client.pem"
		echo "key = $T/pki/client.key"
		echo "connect_timeout_ms = 1500"
		echo "call_timeout_ms = 1500"
	} >"$1"
}

# 1. TLS completes, no answer ever. s_server's stdin is a FIFO held open read-write, so it never
#    sees EOF there (and never closes the connection because of it).
port="$(free_port)"
mkfifo "$T/sserver.in"
exec 3<>"$T/sserver.in"
openssl s_server -accept "127.0.0.1:$port" -cert "$T/pki/server.pem" -key "$T/pki/server.key" \
	-CAfile "$T/pki/ca.pem" -Verify 1 -tls1_3 -quiet <&3 >"$T/s_server.log" 2>&1 &
SSERVER_PID=$!
# Stopped by PID, here or on any exit. lib.sh's cleanup runs after and must see the script's
# status: this returns it, and set +e (which stays in effect) keeps errexit from ending the trap.
_ssrv_stop() {
	local rc=$?
	set +e
	if [ -n "${SSERVER_PID:-}" ]; then
		kill -TERM "$SSERVER_PID" 2>/dev/null
		wait "$SSERVER_PID" 2>/dev/null
		SSERVER_PID=""
	fi
	return "$rc"
}
trap '_ssrv_stop; _lib_cleanup' EXIT
for ((i = 0; i < 100; i++)); do
	ss -Htln 2>/dev/null | awk '{ print $4 }' | grep -Eq "[:.]$port\$" && break
	_pid_alive "$SSERVER_PID" || die "openssl s_server exited early (see s_server.log)"
	sleep 0.1
done
log "openssl s_server (pid $SSERVER_PID) listening on 127.0.0.1:$port"
silent_conf "$T/client-tls.conf" "$port"
drive "$T/client-tls.conf" deadline "$MAX_MS"
# The handshake must have happened: otherwise this was the connect timeout, not the call one.
_pid_alive "$SSERVER_PID" || die "openssl s_server died during the test (see s_server.log)"
_ssrv_stop
set -e # _ssrv_stop leaves errexit off (for the trap)
exec 3>&-

# 2. TCP accepted by the kernel, no TLS handshake ever.
port="$(free_port)"
silent_conf "$T/client-tcp.conf" "$port"
drive "$T/client-tcp.conf" deadline "$MAX_MS" "$port"
