#!/usr/bin/env bash
# Several applications at once: parallel p11drive e2e runs (each its own connection, login,
# key pair and signatures) against one server, then each key is still usable; and one
# application whose 8 threads sign for 10 s at the same time over its one connection, with
# calls in flight together.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=6
server_conf srv
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv

pids=()
for ((i = 1; i <= N; i++)); do
	drive "$T/client.conf" e2e "conc-$i" >"$T/drive-$i.out" 2>&1 &
	pids+=($!)
done
failed=0
for ((i = 1; i <= N; i++)); do
	if ! wait "${pids[$((i - 1))]}"; then
		echo "----- p11drive e2e conc-$i -----" >&2
		cat "$T/drive-$i.out" >&2
		failed=1
	fi
done
[ "$failed" -eq 0 ] || die "some of the $N parallel p11drive runs failed"
assert_alive srv

for ((i = 1; i <= N; i++)); do
	drive "$T/client.conf" sign-existing "conc-$i"
done
# One application, 8 threads with a session each, signing for 10 s over the one connection.
# The module's TEEHSM_DEBUG trace says how many calls were in flight on the connection at once:
# more than one means the threads did not take turns.
log "p11drive threads conc-1 (8 threads, 10 s, TEEHSM_DEBUG=1)"
TEEHSM_DEBUG=1 TEEHSM_TEST_SECONDS=10 TEEHSM_CONF="$T/client.conf" \
	timeout "$CMD_TIMEOUT" "$P11DRIVE" threads "$MODULE" conc-1 2>"$T/threads.err" ||
	{ grep -v ': debug: ' "$T/threads.err" | tail -50 >&2; die "p11drive threads failed"; }
grep -v ': debug: ' "$T/threads.err" >&2 || true
most=$(sed -n 's/.*: \([0-9][0-9]*\) calls in flight, the most so far$/\1/p' "$T/threads.err" |
	sort -n | tail -1)
log "at most ${most:-0} calls were in flight on the connection at once"
[ "${most:-0}" -ge 2 ] || die "the threads' calls never overlapped on the connection"
if grep -q ': error: ' "$T/threads.err"; then
	grep ': error: ' "$T/threads.err" | head >&2
	die "the module reported errors during the threads run"
fi
server_stop srv
