#!/usr/bin/env bash
# The server's operations (issue 5): --check-config; SIGHUP reloads the CRL, closes the
# connections of a peer whose certificate is now revoked, refuses it afterwards, and interrupts
# nothing else; SIGTERM finishes a call in flight (an RSA-4096 key pair) before it exits 0.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

make_pki "$T/pki"
make_peer victim
"$TEEHSM_SRC/certs/mkcrl.sh" "$T/pki" >>"$T/mkpki.out" 2>&1 || die "mkcrl.sh failed"
server_conf srv "crl = $T/pki/crl.pem" "allow = cn:victim all"
conf="$T/srv/teehsmd.conf"

# --- --check-config --------------------------------------------------------------------------
out="$("$TEEHSMD" -c "$conf" --check-config 2>&1)" || die "--check-config refused a good config: $out"
grep -q "teehsmd.conf: OK" <<<"$out" || die "--check-config printed: $out"
[ ! -e "$T/srv/store" ] || die "--check-config created the store"
check_bad() { # check_bad WHAT EXPECTED-REGEX LINE...
	local what=$1 want=$2 rc=0
	shift 2
	cp "$conf" "$T/bad.conf"
	printf '%s\n' "$@" >>"$T/bad.conf"
	out="$("$TEEHSMD" -c "$T/bad.conf" --check-config 2>&1)" || rc=$?
	[ "$rc" = 1 ] || die "--check-config with $what exited $rc, expected 1: $out"
	grep -Eq "$want" <<<"$out" || die "--check-config with $what said: $out"
	log "--check-config refuses $what: $(tail -n1 <<<"$out")"
}
check_bad "a missing CRL file" "crl = $T/nope.pem" "crl = $T/nope.pem"
printf 'not a CRL\n' >"$T/junk.pem"
check_bad "a CRL file without a CRL" "holds no PEM CRL" "crl = $T/junk.pem"
check_bad "an unknown key" "unknown key" "max_conections = 5"
check_bad "a bad unix_socket_mode" "octal mode" "unix_socket_mode = 0999"
check_bad "a zero max_calls_in_flight" "max_calls_in_flight" "max_calls_in_flight = 0"
check_bad "an allow rule with an unknown class" "bad.conf:[0-9]+: allow: .*'reed'" \
	"allow = cn:x reed"
check_bad "an allow rule for an unknown user" "allow" "allow = uid:no-such-user-here read"

# --- SIGHUP: revocation ----------------------------------------------------------------------
server_init_token srv
server_start srv
pid=${SRV_PID[srv]}
client_conf "$T/good.conf" srv
client_conf_as "$T/victim.conf" srv victim
mkdir "$T/g" "$T/v"
TEEHSM_CONF="$T/good.conf" timeout "$CMD_TIMEOUT" "$P11DRIVE" hold "$MODULE" "$T/g" \
	>"$T/g.out" 2>"$T/g.err" &
gpid=$!
TEEHSM_CONF="$T/victim.conf" timeout "$CMD_TIMEOUT" "$P11DRIVE" hold "$MODULE" "$T/v" \
	>"$T/v.out" 2>"$T/v.err" &
vpid=$!
wait_for_file "$T/g/ready" "$gpid"
wait_for_file "$T/v/ready" "$vpid"
log "both peers hold a logged-in session; revoking victim and sending SIGHUP"

# A SIGHUP with an unchanged CRL interrupts nobody.
kill -HUP "$pid"
wait_for_log srv "SIGHUP: reloaded the policy \(2 allow rules\) and the CA bundle and the CRL"
"$TEEHSM_SRC/certs/mkcrl.sh" "$T/pki" --revoke "$T/pki/victim.pem" >>"$T/mkpki.out" 2>&1 ||
	die "mkcrl.sh --revoke failed"
kill -HUP "$pid"
wait_for_log srv "victim@.*no longer verifies \(certificate revoked\): closing"
touch "$T/g/go" "$T/v/go"
wait "$gpid" || { cat "$T/g.err" >&2; die "p11drive hold (good peer) failed"; }
wait "$vpid" || { cat "$T/v.err" >&2; die "p11drive hold (victim) failed"; }
log "good peer: $(tr '\n' ' ' <"$T/g.out")"
log "victim: $(tr '\n' ' ' <"$T/v.out")"
grep -qx "old-session CKR_OK" "$T/g.out" || die "the good peer's session was disturbed"
grep -qx "slot-list CKR_OK 1" "$T/g.out" || die "the good peer lost its slot"
grep -qx "old-session CKR_DEVICE_REMOVED" "$T/v.out" ||
	die "the revoked peer's session still works"
grep -Eqx "slot-list CKR_(DEVICE_ERROR|OK) 0" "$T/v.out" ||
	die "the revoked peer could reconnect"
grep -q "certificate revoked" <(sed -n '/victim/,$p' "$T/srv.log" | grep "handshake failed") ||
	die "the server did not log the revoked peer's refused handshake"
[ "$(grep -c "good\|integ-client@.*no longer verifies" "$T/srv.log" || true)" = 0 ] ||
	die "the good peer was closed by a reload"

# A broken CRL on SIGHUP keeps the running configuration.
cp "$T/pki/crl.pem" "$T/crl.keep"
printf 'garbage\n' >"$T/pki/crl.pem"
kill -HUP "$pid"
wait_for_log srv "SIGHUP: .*holds no PEM CRL.*stays in force"
cp "$T/crl.keep" "$T/pki/crl.pem"
drive "$T/good.conf" e2e
assert_alive srv

# --- SIGTERM: a call in flight finishes ------------------------------------------------------
# The RSA-4096 generation must still be running when SIGTERM arrives; the server says so
# ("finishing N calls in flight"). A generation can be quick: try a few times.
done_ok=0
for attempt in 1 2 3 4 5; do
	rm -rf "$T/i"
	mkdir "$T/i"
	[ -n "${SRV_PID[srv]:-}" ] || server_start srv
	client_conf "$T/i.conf" srv
	TEEHSM_CONF="$T/i.conf" timeout "$CMD_TIMEOUT" "$P11DRIVE" inflight "$MODULE" "$T/i" \
		>"$T/i.out" 2>"$T/i.err" &
	ipid=$!
	wait_for_file "$T/i/ready" "$ipid"
	sleep 0.3
	before=$(grep -c "finishing 1 calls in flight" "$T/srv.log" || true)
	server_stop srv
	wait "$ipid" || { cat "$T/i.err" >&2; die "p11drive inflight failed"; }
	after=$(grep -c "finishing 1 calls in flight" "$T/srv.log" || true)
	log "attempt $attempt: $(tr '\n' ' ' <"$T/i.out")"
	if [ "$after" -gt "$before" ]; then
		grep -qx "keygen CKR_OK" "$T/i.out" ||
			die "the key pair generation in flight at SIGTERM did not complete"
		grep -Eqx "after CKR_(DEVICE_REMOVED|SESSION_HANDLE_INVALID)" "$T/i.out" ||
			die "the session survived the server's exit?"
		done_ok=1
		break
	fi
	log "the key pair was ready before SIGTERM; again"
done
[ "$done_ok" = 1 ] || die "no RSA-4096 generation was still running at SIGTERM in 5 attempts"
log "SIGTERM waited for the call in flight, answered it and exited 0"
