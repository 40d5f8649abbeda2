#!/usr/bin/env bash
# PIN failure counting through the whole stack: a correct PIN resets the counter, consecutive
# wrong PINs lock the user PIN (max_pin_failures), the lock survives a server restart, and the
# SO can set a new user PIN (C_InitPIN) to unlock it.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

server_conf srv "max_pin_failures = 3"
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv
C="$T/client.conf"

# login_as PIN EXPECT: a user login with PIN must give EXPECT (OK or a CKR_ name).
login_as() {
	local pin=$1 want=$2 rc=0
	p11tool "$C" --login --pin "$pin" -O >"$T/login.out" 2>&1 || rc=$?
	if [ "$want" = OK ]; then
		[ "$rc" -eq 0 ] || { cat "$T/login.out" >&2; die "login with the right PIN failed"; }
	else
		[ "$rc" -ne 0 ] || die "login succeeded, expected $want"
		grep -q "$want" "$T/login.out" || { cat "$T/login.out" >&2; die "login did not give $want"; }
	fi
}

log "two wrong PINs, then the right one: the counter resets"
login_as wrong-pin-1 CKR_PIN_INCORRECT
login_as wrong-pin-2 CKR_PIN_INCORRECT
login_as "$TEST_USER_PIN" OK
login_as wrong-pin-3 CKR_PIN_INCORRECT
login_as wrong-pin-4 CKR_PIN_INCORRECT
login_as "$TEST_USER_PIN" OK

log "three wrong PINs in a row lock the user PIN"
login_as wrong-pin-5 CKR_PIN_INCORRECT
login_as wrong-pin-6 CKR_PIN_INCORRECT
login_as wrong-pin-7 CKR_PIN_
login_as "$TEST_USER_PIN" CKR_PIN_LOCKED
p11tool "$C" -L >"$T/L.out" 2>&1 || { cat "$T/L.out" >&2; die "pkcs11-tool -L failed"; }
grep -q "user PIN locked" "$T/L.out" || { cat "$T/L.out" >&2; die "the token flags do not show CKF_USER_PIN_LOCKED"; }

log "the lock survives a restart"
server_stop srv
server_start srv
client_conf "$T/client.conf" srv
login_as "$TEST_USER_PIN" CKR_PIN_LOCKED

log "the SO sets a new user PIN (C_InitPIN), which unlocks it"
NEW_PIN="new-user-pin-2222"
p11tool "$C" --login --login-type so --so-pin "$TEST_SO_PIN" --init-pin --new-pin "$NEW_PIN" \
	>"$T/initpin.out" 2>&1 || { cat "$T/initpin.out" >&2; die "C_InitPIN by the SO failed"; }
login_as "$TEST_USER_PIN" CKR_PIN_INCORRECT
login_as "$NEW_PIN" OK

assert_alive srv
server_stop srv
