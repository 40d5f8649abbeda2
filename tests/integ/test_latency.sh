#!/usr/bin/env bash
# Production readiness (issue 5): while one client generates a 4096-bit RSA key, another
# client's C_GenerateRandom calls keep answering, each well under 100 ms: the server's event loop
# is never blocked by crypto.
#
# Two processes, so two connections: "loadgen random-latency" calls C_GenerateRandom(32 bytes)
# every 2 ms and prints each call's CLOCK_MONOTONIC start and duration; "loadgen keygen-rsa4096"
# generates an RSA-4096 token key pair and prints the start and end of C_GenerateKeyPair on the
# same clock. Then:
#   - every random call that overlaps the keygen at all must have taken less than MAX_MS: a
#     call the server could not answer while it generated the key took about as long as the
#     rest of the keygen;
#   - at least MIN_INSIDE random calls must lie entirely inside the keygen, proof that they did
#     overlap. If the keygen was too quick for that, it is repeated (up to ATTEMPTS keygens).
# Every random call must return CKR_OK.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOADGEN="$TEEHSM_BUILD/tests/loadgen"
[ -x "$LOADGEN" ] || die "$LOADGEN is missing: build first"

MAX_MS=100
MIN_INSIDE=20
ATTEMPTS=5

server_conf srv
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv

# The random client runs until $T/stop exists; stopped here or on any exit. lib.sh's cleanup
# runs after and must see the script's status: this returns it, and set +e (which stays in
# effect, as in lib.sh's own cleanup) keeps errexit from ending the trap there.
RND_PID=""
_random_stop() {
	local rc=$?
	set +e
	if [ -n "$RND_PID" ]; then
		touch "$T/stop"
		_wait_exit "$RND_PID" 30 || kill -KILL "$RND_PID" 2>/dev/null || true
		wait "$RND_PID" 2>/dev/null || true
		RND_PID=""
	fi
	return "$rc"
}
trap '_random_stop; _lib_cleanup' EXIT

log "loadgen random-latency: C_GenerateRandom(32) every 2 ms on its own connection"
TEEHSM_CONF="$T/client.conf" "$LOADGEN" random-latency "$MODULE" 600 "$T/stop" \
	>"$T/random.out" 2>"$T/random.err" &
RND_PID=$!
for ((i = 0; i < START_TIMEOUT * 10; i++)); do
	grep -qx ready "$T/random.out" && break
	_pid_alive "$RND_PID" || break
	sleep 0.1
done
grep -qx ready "$T/random.out" || { cat "$T/random.err" >&2; die "the random client never got ready"; }

# stats START END: for the random calls so far, relative to the interval [START, END] (ms):
# "INSIDE INSIDE_MAX INSIDE_MEDIAN OVERLAPPING OVERLAPPING_MAX ERRORS".
stats() {
	local s=$1 e=$2 med
	med="$(awk -v s="$s" -v e="$e" '$1 == "random" && $2 >= s && $2 + $3 <= e { print $3 }' \
		"$T/random.out" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
		      else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
	awk -v s="$s" -v e="$e" -v med="$med" '
		$1 != "random" { next }
		$4 != "0x0" { err++ }
		$2 >= s && $2 + $3 <= e { n++; if ($3 > max) max = $3 }
		$2 < e && $2 + $3 > s { o++; if ($3 > omax) omax = $3 }
		END { printf "%d %.3f %s %d %.3f %d\n", n, max, med, o, omax, err }' "$T/random.out"
}

passed=0
for ((a = 1; a <= ATTEMPTS; a++)); do
	log "keygen $a: loadgen keygen-rsa4096 on another connection"
	rc=0
	TEEHSM_CONF="$T/client.conf" timeout "$CMD_TIMEOUT" "$LOADGEN" keygen-rsa4096 "$MODULE" \
		"latency-rsa-$a" >"$T/keygen-$a.out" 2>>"$T/keygen.err" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$T/keygen.err" >&2; die "loadgen keygen-rsa4096 failed (exit $rc)"; }
	read -r _ start end <"$T/keygen-$a.out" || die "no keygen interval in keygen-$a.out"
	# Wait until the random client has reported a call that started after the keygen ended:
	# then every call that overlapped it is in random.out.
	for ((i = 0; i < 300; i++)); do
		awk -v e="$end" '$1 == "random" && $2 > e { f = 1 } END { exit !f }' \
			"$T/random.out" && break
		_pid_alive "$RND_PID" || die "the random client exited (see random.err)"
		sleep 0.1
	done
	read -r inside imax imed over omax errors <<<"$(stats "$start" "$end")"
	keygen_ms="$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", e - s }')"
	log "keygen $a took $keygen_ms ms; $over random calls overlapped it (slowest $omax ms)," \
		"$inside lie entirely inside (max $imax ms, median $imed ms)"
	[ "$errors" -eq 0 ] || die "$errors C_GenerateRandom calls failed (see random.out)"
	if awk -v m="$omax" -v lim="$MAX_MS" 'BEGIN { exit !(m >= lim) }'; then
		die "a C_GenerateRandom call overlapping the RSA-4096 keygen ($keygen_ms ms) took" \
			"$omax ms, not under $MAX_MS ms: the server did not answer while it generated" \
			"the key (crypto on the event loop, or a lock held over the keygen)"
	fi
	if [ "$inside" -ge "$MIN_INSIDE" ]; then
		passed=1
		break
	fi
	log "fewer than $MIN_INSIDE random calls inside the keygen: generating again"
done
[ "$passed" = 1 ] ||
	die "in $ATTEMPTS keygens, never $MIN_INSIDE random calls inside one: no proof of overlap"
log "$inside random calls answered during the keygen: slowest $imax ms, median $imed ms" \
	"(bound $MAX_MS ms)"

touch "$T/stop"
rc=0
wait "$RND_PID" || rc=$?
RND_PID=""
cat "$T/random.err" >&2
[ "$rc" -eq 0 ] || die "the random client failed (exit $rc)"
assert_alive srv
server_stop srv
