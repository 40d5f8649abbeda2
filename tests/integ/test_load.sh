#!/usr/bin/env bash
# Production readiness (issue 5): 100 concurrent client connections make mixed calls for 20 s
# against one server, with zero unexpected errors, every signature verified, and the server's
# resident memory after the run within a stated bound of what it was before.
#
# loadgen forks one process per connection (a process that loads libteehsm.so multiplexes all
# its threads over one connection per server). Every child connects, opens a session and logs
# in before the clock starts; then each signs with the token's ECDSA P-256 and RSA-2048 keys
# (each signature verified with OpenSSL), calls C_GenerateRandom, C_FindObjects*,
# C_GetAttributeValue and C_Digest (compared with OpenSSL's SHA-256). The server side is
# checked too: the number of established connections to its port is sampled during the run.
#
# Memory: a 2 s warm-up run with as many connections comes first (the token's keys, the
# allocator's pools and arenas, OpenSSL's caches exist after it); VmRSS is read after it and
# again after the main run, once every connection has closed and 2 s have passed. Under ASan
# the allocator's quarantine holds freed memory: it is capped at 16 MiB for every process of the
# test and the bound is larger.
#
# TEEHSM_LOAD_SECONDS overrides the 20 s; TEEHSM_LOAD_CONNECTIONS the 100 connections.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOADGEN="$TEEHSM_BUILD/tests/loadgen"
[ -x "$LOADGEN" ] || die "$LOADGEN is missing: build first"

N="${TEEHSM_LOAD_CONNECTIONS:-100}"
RUN_SECONDS="${TEEHSM_LOAD_SECONDS:-20}"
WARMUP_SECONDS=2
# How much the server's VmRSS may grow over the main run, in MiB.
RSS_BOUND_MIB=32
if [ "$TEEHSM_SANITIZE" = 1 ]; then
	RSS_BOUND_MIB=64
	export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=16"
	log "ASAN_OPTIONS=$ASAN_OPTIONS (for teehsmd and loadgen alike)"
fi

# Room for every connection, and the per-identity limit raised where this server knows that key
# (all the test's connections present the same client certificate; an unknown key is a config
# error): its --help, the example config or, failing both, the binary's table of keys names it.
# Debug logging would write a line per call: info is enough, loadgen reports every failed call
# with its CK_RV.
conf=("max_connections = 256" "max_connections_per_identity = 256" "log_level = info")
server_conf srv "${conf[@]}"
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv "$T/pki" "connect_timeout_ms = 30000"
pid="${SRV_PID[srv]}"
port_hex="$(printf '%04X' "${SRV_PORT[srv]}")"

# rss_kib: the server's VmRSS in KiB.
rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"
}

# conns: established TCP connections whose local end is the server's port.
conns() {
	awk -v p=":$port_hex" 'substr($2, length($2) - 4) == p && $4 == "01" { n++ }
		END { print n + 0 }' /proc/net/tcp
}

# wait_no_conns: until the server's connections are gone (bounded).
wait_no_conns() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(conns)" -eq 0 ] && return 0
		sleep 0.1
	done
	die "$(conns) connections to the server are still established"
}

# load SECONDS NAME: run loadgen with N children in the background, sampling the server's
# established connections; the most seen at once is in $MOST.
load() {
	local secs=$1 name=$2 lg c rc=0
	log "loadgen load: $N connections for $secs s ($name)"
	TEEHSM_CONF="$T/client.conf" timeout "$CMD_TIMEOUT" "$LOADGEN" load "$MODULE" "$N" \
		"$secs" >"$T/$name.out" 2>"$T/$name.err" &
	lg=$!
	MOST=0
	while _pid_alive "$lg"; do
		c="$(conns)"
		[ "$c" -gt "$MOST" ] && MOST=$c
		sleep 0.2
	done
	wait "$lg" || rc=$?
	cat "$T/$name.out" >&2
	if [ "$rc" -ne 0 ]; then
		tail -n 50 "$T/$name.err" >&2
		die "loadgen ($name) failed (exit $rc)"
	fi
	assert_alive srv
	log "at most $MOST connections to the server were established at once ($name)"
	[ "$MOST" -ge "$N" ] || die "never $N connections established at once ($name)"
}

load "$WARMUP_SECONDS" warmup
wait_no_conns
sleep 2
before=$(rss_kib)
log "server VmRSS after the warm-up: $((before / 1024)) MiB ($before KiB)"

load "$RUN_SECONDS" run
cps="$(sed -n 's/.* calls_per_second=\([0-9]*\) .*/\1/p' "$T/run.out")"
wait_no_conns
sleep 2
after=$(rss_kib)
peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
growth=$(((after - before) / 1024))
log "$N connections for $RUN_SECONDS s: ${cps:-?} calls per second"
log "server VmRSS: $((before / 1024)) MiB before, $((after / 1024)) MiB after" \
	"(growth $growth MiB, bound $RSS_BOUND_MIB MiB), peak $((peak / 1024)) MiB"
[ "$((after - before))" -le "$((RSS_BOUND_MIB * 1024))" ] ||
	die "the server's VmRSS grew by $growth MiB over the run, more than $RSS_BOUND_MIB MiB"
server_stop srv
