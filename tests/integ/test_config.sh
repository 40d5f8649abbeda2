#!/usr/bin/env bash
# Configuration errors fail clearly and early, never silently: the server refuses unknown keys,
# missing files and bad PINs; the client module refuses a missing or bad TEEHSM_CONF in
# C_Initialize (CKR_GENERAL_ERROR) and reports an unreachable server as CKR_DEVICE_ERROR.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# server_refuses WHAT PATTERN ARGS...: teehsmd ARGS must exit non-zero, promptly, with PATTERN
# in its message and no sanitizer report.
server_refuses() {
	local what=$1 pattern=$2 rc=0
	shift 2
	log "teehsmd refuses $what"
	timeout 30 "$TEEHSMD" "$@" >"$T/refuse.out" 2>&1 || rc=$?
	cat "$T/refuse.out"
	[ "$rc" -ne 0 ] || die "teehsmd accepted $what"
	[ "$rc" -ne 124 ] || die "teehsmd hung on $what"
	[ "$rc" -lt 128 ] || die "teehsmd crashed (signal $((rc - 128))) on $what"
	grep -qi -- "$pattern" "$T/refuse.out" || die "teehsmd's message about $what does not mention '$pattern'"
	if grep -q "Sanitizer" "$T/refuse.out"; then
		die "sanitizer report on $what"
	fi
}

server_conf bad "frobnicate = 1"
server_refuses "an unknown key" frobnicate -c "$T/bad/teehsmd.conf"
server_conf bad "max_frame = lots"
server_refuses "a non-numeric max_frame" max_frame -c "$T/bad/teehsmd.conf"
server_conf bad "cert = $T/no-such-cert.pem"
server_refuses "a missing certificate file" no-such-cert -c "$T/bad/teehsmd.conf"
server_refuses "a missing config file" no-such.conf -c "$T/no-such.conf"
server_conf srv
TEEHSM_SO_PIN=123 TEEHSM_USER_PIN="$TEST_USER_PIN" \
	server_refuses "an SO PIN of 3 bytes" pin -c "$T/srv/teehsmd.conf" --init-token --label x
server_refuses "--init-token without PINs" TEEHSM_SO_PIN -c "$T/srv/teehsmd.conf" --init-token --label x

server_init_token srv
server_start srv

# client_init_fails WHAT CONF_OR_EMPTY: C_Initialize must give CKR_GENERAL_ERROR.
client_init_fails() {
	local what=$1 rc=0
	log "libteehsm.so refuses $what"
	if [ -n "$2" ]; then
		p11tool "$2" -L >"$T/init.out" 2>&1 || rc=$?
	else
		env -u TEEHSM_CONF "${TOOL_ENV[@]}" timeout "$CMD_TIMEOUT" pkcs11-tool \
			--module "$MODULE" -L >"$T/init.out" 2>&1 || rc=$?
	fi
	cat "$T/init.out"
	[ "$rc" -ne 0 ] || die "C_Initialize accepted $what"
	grep -q "C_Initialize.*CKR_GENERAL_ERROR" "$T/init.out" ||
		die "C_Initialize did not return CKR_GENERAL_ERROR for $what"
	if grep -q "Sanitizer" "$T/init.out"; then
		die "sanitizer report on $what"
	fi
}
client_init_fails "an unset TEEHSM_CONF" ""
client_init_fails "a missing config file" "$T/no-such-client.conf"
client_conf "$T/unknown.conf" srv "$T/pki" "frobnicate = 1"
client_init_fails "an unknown key" "$T/unknown.conf"
client_conf "$T/badserver.conf" srv "$T/pki" "server = 127.0.0.1:99999"
client_init_fails "a server port out of range" "$T/badserver.conf"
client_conf "$T/badhost.conf" srv "$T/pki" "server = not a server:5705"
client_init_fails "a server host with blanks" "$T/badhost.conf"

# Nothing listens on this port any more: the module initialises, then reports the device.
log "an unreachable server gives CKR_DEVICE_ERROR"
client_conf "$T/good.conf" srv
server_stop srv
drive "$T/good.conf" expect-refused
