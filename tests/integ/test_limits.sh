#!/usr/bin/env bash
# The server's limits against greedy and hostile peers (issue 5): one peer past the connection
# caps (per identity, then in total) is refused while the others keep working; a peer that
# sends requests but never reads the answers is throttled, and the server's memory stays
# bounded while it does. (test_refusal covers the silent peer dropped after handshake_timeout
# and the 4 GiB length prefix.)
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RAWPEER="$TEEHSM_BUILD/tests/rawpeer"
[ -x "$RAWPEER" ] || die "$RAWPEER is missing"
make_pki "$T/pki"
make_peer other
server_conf srv "allow = cn:other all" "max_connections = 4" \
	"max_connections_per_identity = 2" "max_calls_in_flight = 8" "write_watermark = 262144"
server_init_token srv
server_start srv
port=${SRV_PORT[srv]}
client_conf "$T/c.conf" srv
client_conf_as "$T/o.conf" srv other

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# hold_tls PEER: an authenticated, idle TLS connection held open in the background ($! is it).
hold_tls() {
	# -quiet implies -ign_eof: s_client stays connected after stdin's EOF; timeout passes the
	# test's kill on to it.
	timeout 600 openssl s_client -connect "127.0.0.1:$port" -CAfile "$T/pki/ca.pem" \
		-cert "$T/pki/$1.pem" -key "$T/pki/$1.key" -quiet </dev/null >/dev/null 2>&1 &
}

# --- connection caps --------------------------------------------------------------------------
# A live session of integ-client (a real client) that must not notice anything.
mkdir "$T/h"
TEEHSM_CONF="$T/c.conf" timeout "$CMD_TIMEOUT" "$P11DRIVE" hold "$MODULE" "$T/h" \
	>"$T/h.out" 2>"$T/h.err" &
hpid=$!
wait_for_file "$T/h/ready" "$hpid"
hold_tls client # integ-client's second connection
h2=$!
hold_tls other
h3=$!
wait_for_log srv ": connected .*3 open" 10

# A third integ-client connection: over max_connections_per_identity.
TEEHSM_CONF="$T/c.conf" timeout "$CMD_TIMEOUT" "$P11DRIVE" expect-refused "$MODULE" \
	>"$T/r1.out" 2>&1 || { cat "$T/r1.out" >&2; die "a third integ-client connection was not refused"; }
grep -q "refused: cn=integ-client already has 2 connections open (max_connections_per_identity)" \
	"$T/srv.log" || die "the per-identity refusal was not logged"
log "a third connection of one identity is refused (max_connections_per_identity = 2)"

# other's second connection fills max_connections; a fifth is refused at accept.
hold_tls other
h4=$!
wait_for_log srv "other@.*: connected .*4 open" 10
TEEHSM_CONF="$T/o.conf" timeout "$CMD_TIMEOUT" "$P11DRIVE" expect-refused "$MODULE" \
	>"$T/r2.out" 2>&1 || { cat "$T/r2.out" >&2; die "a fifth connection was not refused"; }
grep -q "refused: 4 connections open (max_connections)" "$T/srv.log" ||
	die "the max_connections refusal was not logged"
log "a fifth connection is refused (max_connections = 4)"

touch "$T/h/go"
wait "$hpid" || { cat "$T/h.err" >&2; die "p11drive hold failed"; }
grep -qx "old-session CKR_OK" "$T/h.out" || die "the live session was disturbed by the refusals"
log "the live session kept working: $(tr '\n' ' ' <"$T/h.out")"
kill "$h2" "$h3" "$h4" 2>/dev/null || true
wait "$h2" "$h3" "$h4" 2>/dev/null || true
wait_for_log srv "\(0 open\)" 10
assert_alive srv

# --- ordering: one session's calls in order, sessions in parallel -------------------------------
"$RAWPEER" 127.0.0.1 "$port" "$T/pki/ca.pem" "$T/pki/client.pem" "$T/pki/client.key" order \
	>"$T/order.out" 2>"$T/order.err" || { cat "$T/order.err" >&2; die "pipelined calls were reordered"; }
log "rawpeer: $(cat "$T/order.out")"
wait_for_log srv "\(0 open\)" 10

# --- a peer that never reads its answers -------------------------------------------------------
before=$(rss_kib "${SRV_PID[srv]}")
"$RAWPEER" 127.0.0.1 "$port" "$T/pki/ca.pem" "$T/pki/client.pem" "$T/pki/client.key" \
	noread 4 >"$T/raw.out" 2>"$T/raw.err" &
rpid=$!
for ((i = 0; i < 900; i++)); do
	[ -s "$T/raw.out" ] && break
	_pid_alive "$rpid" || break
	sleep 0.1
done
[ -s "$T/raw.out" ] || { cat "$T/raw.err" >&2; die "the server kept taking requests from a peer that reads nothing"; }
during=$(rss_kib "${SRV_PID[srv]}")
log "rawpeer: $(cat "$T/raw.out"); server RSS ${before} KiB before, ${during} KiB while it is stalled"
# The bound: the write watermark (256 KiB) plus 8 answers in flight of 64 KiB, plus the
# kernel-side and TLS buffers; allocator slack makes it 32 MiB.
bound=$((32 * 1024))
[ $((during - before)) -le "$bound" ] ||
	die "the server grew by $((during - before)) KiB for one peer that does not read (bound $bound KiB)"
# Meanwhile, others are served.
drive "$T/o.conf" e2e limits-1
wait "$rpid" || { cat "$T/raw.err" >&2; die "rawpeer failed"; }
grep -q "max_calls_in_flight reached: pausing reads\|answers not read (write_watermark): pausing reads" \
	"$T/srv.log" || die "the server never paused the peer's reads"
assert_alive srv
server_stop srv

# --- idle_timeout: a quiet connection goes, a quiet application with sessions stays -----------
server_conf idle "idle_timeout = 1"
server_init_token idle
server_start idle
client_conf "$T/idle.conf" idle
mkdir "$T/q"
TEEHSM_CONF="$T/idle.conf" timeout "$CMD_TIMEOUT" "$P11DRIVE" hold "$MODULE" "$T/q" \
	>"$T/q.out" 2>"$T/q.err" &
qpid=$!
wait_for_file "$T/q/ready" "$qpid"
port=${SRV_PORT[idle]}
hold_tls other
h5=$!
wait_for_log idle "other@.*idle for 1 s: closing" 10
sleep 2.5
touch "$T/q/go"
wait "$qpid" || { cat "$T/q.err" >&2; die "p11drive hold failed"; }
grep -qx "old-session CKR_OK" "$T/q.out" ||
	die "a quiet application with an open session lost it to idle_timeout"
grep -q "integ-client@.*idle for 1 s with open sessions: keeping it" "$T/idle.log" ||
	die "the idle connection with sessions was not noticed"
log "idle_timeout closed a quiet connection without sessions and kept one with a session"
kill "$h5" 2>/dev/null || true
wait "$h5" 2>/dev/null || true
server_stop idle
