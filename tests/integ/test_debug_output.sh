#!/usr/bin/env bash
# The module's output discipline, seen through pkcs11-tool and p11drive with stdout and stderr
# captured apart: the module never writes to stdout; on stderr it writes only the reason
# C_Initialize fails (always), and everything else (connection failures, call traces) only
# with TEEHSM_DEBUG set. No message ever carries a PIN, not even a wrong one or a new one.
# Module lines look like "teehsm: error: ..." / "teehsm: debug: ..." (common/log.c).
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

unset TEEHSM_DEBUG # each run below sets it, or not, explicitly

# A line the module wrote: "teehsm: LEVEL: ..." (teehsmd's own lines start "teehsmd:").
MODULE_LINE='(^teehsm:|teehsm: (error|warn|info|debug):)'

# tool NAME DEBUG CONF ARGS...: pkcs11-tool through libteehsm.so with client config CONF,
# TEEHSM_DEBUG=1 if DEBUG is 1 and unset otherwise; stdout to $T/NAME.out, stderr to
# $T/NAME.err; its exit status in RC.
tool() {
	local name=$1 dbg=$2 conf=$3
	local -a dbg_env=(-u TEEHSM_DEBUG)
	shift 3
	[ "$dbg" = 1 ] && dbg_env=(TEEHSM_DEBUG=1)
	command -v pkcs11-tool >/dev/null || die "pkcs11-tool is not installed (apt-get install opensc)"
	RC=0
	env "${dbg_env[@]}" TEEHSM_CONF="$conf" "${TOOL_ENV[@]}" timeout "$CMD_TIMEOUT" \
		pkcs11-tool --module "$MODULE" "$@" >"$T/$name.out" 2>"$T/$name.err" || RC=$?
	if [ "$RC" -eq 124 ] || [ "$RC" -ge 128 ]; then
		show "$name"
		die "pkcs11-tool $* hung or crashed (exit $RC)"
	fi
	if grep -q "Sanitizer" "$T/$name.err"; then
		show "$name"
		die "sanitizer report from pkcs11-tool $*"
	fi
}

# show NAME: print the captured stdout and stderr of run NAME.
show() {
	echo "--- $1: stdout" >&2
	cat "$T/$1.out" >&2
	echo "--- $1: stderr" >&2
	cat "$T/$1.err" >&2
}

# tool_ok NAME DEBUG CONF ARGS...: tool, which must succeed.
tool_ok() {
	tool "$@"
	[ "$RC" -eq 0 ] || {
		show "$1"
		die "pkcs11-tool ${*:4} failed (exit $RC)"
	}
}

# quiet_on FILE WHAT: FILE must hold no line of the module.
quiet_on() {
	if grep -En "$MODULE_LINE" "$1" >&2; then
		case "$1" in *.out) die "the module wrote the lines above to stdout ($2)" ;; esac
		die "the module wrote the lines above to stderr ($2)"
	fi
}

# no_pin NAME PIN...: none of the PINs appears in run NAME's stdout or stderr, as text or in
# hex.
no_pin() {
	local name=$1 pin hex
	shift
	for pin in "$@"; do
		hex=$(printf '%s' "$pin" | od -An -tx1 | tr -d ' \n')
		for f in "$T/$name.out" "$T/$name.err"; do
			if grep -Fn -- "$pin" "$f" >&2; then
				die "the PIN '$pin' appears in $(basename "$f") (lines above)"
			fi
			if grep -Fiq -- "$hex" "$f"; then
				die "the PIN '$pin' appears in hex in $(basename "$f")"
			fi
		done
	done
}

server_conf srv
server_init_token srv
server_start srv
C="$T/client.conf"
client_conf "$C" srv

log "a working config: pkcs11-tool -L prints nothing of the module"
tool_ok L 0 "$C" -L
show L
grep -Eq "token label *: *$TEST_TOKEN_LABEL *\$" "$T/L.out" || die "-L does not show the token on stdout"
quiet_on "$T/L.out" "pkcs11-tool -L, working config"
quiet_on "$T/L.err" "pkcs11-tool -L, working config"

log "a working config with TEEHSM_DEBUG=1: traces on stderr, stdout unchanged"
tool_ok Ld 1 "$C" -L
quiet_on "$T/Ld.out" "pkcs11-tool -L, TEEHSM_DEBUG=1"
cmp -s "$T/L.out" "$T/Ld.out" || {
	diff "$T/L.out" "$T/Ld.out" >&2
	die "TEEHSM_DEBUG=1 changes pkcs11-tool -L's stdout"
}
grep -Eq '^teehsm: debug: ' "$T/Ld.err" || { show Ld; die "TEEHSM_DEBUG=1 gives no 'teehsm: debug:' line on stderr"; }

log "TEEHSM_DEBUG=1, log in and sign: call traces, and never the PIN"
tool_ok gen 1 "$C" --login --pin "$TEST_USER_PIN" --keypairgen --key-type EC:prime256v1 \
	--label d1 --id d101
no_pin gen "$TEST_USER_PIN"
quiet_on "$T/gen.out" "keypairgen, TEEHSM_DEBUG=1"
echo "signed while tracing" >"$T/msg"
openssl dgst -sha256 -binary "$T/msg" >"$T/msg.hash"
tool_ok sign 1 "$C" --login --pin "$TEST_USER_PIN" --sign -m ECDSA --signature-format openssl \
	--label d1 -i "$T/msg.hash" -o "$T/msg.sig"
show sign
no_pin sign "$TEST_USER_PIN"
quiet_on "$T/sign.out" "sign, TEEHSM_DEBUG=1"
grep -Eq '^teehsm: debug: .*(C_Login|[^[:alnum:]_]login[^[:alnum:]_])' "$T/sign.err" ||
	die "TEEHSM_DEBUG=1 shows no trace of the login"
grep -Eq '^teehsm: debug: .*(C_Sign|[^[:alnum:]_]sign[^[:alnum:]_])' "$T/sign.err" ||
	die "TEEHSM_DEBUG=1 shows no trace of the signature"
# The signature is real (the traced run did its work).
tool_ok read 0 "$C" --read-object --type pubkey --label d1 -o "$T/d1.der"
openssl pkey -pubin -inform DER -in "$T/d1.der" -out "$T/d1.pem" || die "d1's public key is not DER"
openssl pkeyutl -verify -pubin -inkey "$T/d1.pem" -in "$T/msg.hash" -sigfile "$T/msg.sig" ||
	die "the signature made with TEEHSM_DEBUG=1 does not verify"

log "TEEHSM_DEBUG=1, a wrong PIN: CKR_PIN_INCORRECT, and the wrong PIN appears nowhere"
WRONG_PIN="wrong-pin-7777-secret"
tool badpin 1 "$C" --login --pin "$WRONG_PIN" --list-objects
[ "$RC" -ne 0 ] || { show badpin; die "pkcs11-tool logged in with a wrong PIN"; }
grep -q CKR_PIN_INCORRECT "$T/badpin.out" "$T/badpin.err" || { show badpin; die "a wrong PIN did not give CKR_PIN_INCORRECT"; }
no_pin badpin "$WRONG_PIN" "$TEST_USER_PIN"

log "TEEHSM_DEBUG=1, change the PIN and back: neither PIN appears"
NEW_PIN="new-pin-3333-secret"
tool_ok chpin 1 "$C" --login --pin "$TEST_USER_PIN" --change-pin --new-pin "$NEW_PIN"
no_pin chpin "$TEST_USER_PIN" "$NEW_PIN"
grep -Eq '^teehsm: debug: .*(C_SetPIN|set_pin)' "$T/chpin.err" || { show chpin; die "TEEHSM_DEBUG=1 shows no trace of the PIN change"; }
tool_ok chpin2 1 "$C" --login --pin "$NEW_PIN" --change-pin --new-pin "$TEST_USER_PIN"
no_pin chpin2 "$TEST_USER_PIN" "$NEW_PIN"
tool_ok relogin 0 "$C" --login --pin "$TEST_USER_PIN" --list-objects
grep -q "Private Key Object" "$T/relogin.out" || { show relogin; die "the PIN is not back to the test PIN"; }

log "TEEHSM_DEBUG=1, p11drive e2e: traces, never the PIN"
rc=0
env TEEHSM_DEBUG=1 TEEHSM_CONF="$C" timeout "$CMD_TIMEOUT" "$P11DRIVE" e2e "$MODULE" drv1 \
	>"$T/drive.out" 2>"$T/drive.err" || rc=$?
[ "$rc" -eq 0 ] || { show drive; die "p11drive e2e with TEEHSM_DEBUG=1 failed (exit $rc)"; }
no_pin drive "$TEST_USER_PIN"
quiet_on "$T/drive.out" "p11drive e2e, TEEHSM_DEBUG=1"
grep -Eq '^teehsm: debug: .*[^[:alnum:]_]login[^[:alnum:]_]' "$T/drive.err" ||
	{ show drive; die "p11drive e2e with TEEHSM_DEBUG=1: no trace of the login"; }

log "a config error: reported on stderr without TEEHSM_DEBUG, nothing on stdout"
client_conf "$T/unknown.conf" srv "$T/pki" "frobnicate = 1"
bad_line=$(grep -n '^frobnicate = 1$' "$T/unknown.conf" | cut -d: -f1)
[ -n "$bad_line" ] || die "cannot find the unknown key in unknown.conf"
for dbg in 0 1; do
	tool cfg$dbg $dbg "$T/unknown.conf" -L
	show cfg$dbg
	[ "$RC" -ne 0 ] || die "C_Initialize accepted an unknown key (TEEHSM_DEBUG=$dbg)"
	grep -Fq "teehsm: error: $T/unknown.conf:$bad_line:" "$T/cfg$dbg.err" ||
		die "no 'teehsm: error: unknown.conf:$bad_line:' line on stderr (TEEHSM_DEBUG=$dbg)"
	[ "$(grep -Fc "unknown.conf:$bad_line:" "$T/cfg$dbg.err")" -eq 1 ] ||
		die "the config error is not reported exactly once (TEEHSM_DEBUG=$dbg)"
	grep -q "frobnicate" "$T/cfg$dbg.err" || die "the config error does not name the key (TEEHSM_DEBUG=$dbg)"
	quiet_on "$T/cfg$dbg.out" "a config error, TEEHSM_DEBUG=$dbg"
done
# Without TEEHSM_DEBUG, the reason is the module's only line.
[ "$(grep -Ec "$MODULE_LINE" "$T/cfg0.err")" -eq 1 ] ||
	die "without TEEHSM_DEBUG the module wrote more than the config error"

log "an unreachable server: silent without TEEHSM_DEBUG, 'cannot connect' with it"
PORT=${SRV_PORT[srv]}
server_stop srv
tool down0 0 "$C" -L
show down0
[ "$RC" -ne 0 ] || die "pkcs11-tool -L succeeded with the server down"
grep -q CKR_DEVICE_ERROR "$T/down0.out" "$T/down0.err" || die "-L with the server down did not give CKR_DEVICE_ERROR"
quiet_on "$T/down0.out" "server down"
quiet_on "$T/down0.err" "server down, no TEEHSM_DEBUG"
tool down1 1 "$C" -L
show down1
[ "$RC" -ne 0 ] || die "pkcs11-tool -L succeeded with the server down (TEEHSM_DEBUG=1)"
grep -Eq "^teehsm: .*cannot connect.*127\.0\.0\.1:${PORT}([^0-9]|\$)" "$T/down1.err" ||
	die "TEEHSM_DEBUG=1 does not report 'cannot connect' to 127.0.0.1:$PORT on stderr"
quiet_on "$T/down1.out" "server down, TEEHSM_DEBUG=1"
