#!/usr/bin/env bash
# Several applications at once: parallel p11drive e2e runs (each its own connection, login,
# key pair and signatures) against one server, then each key is still usable; and one
# application whose threads sign at the same time over its one connection.
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
drive "$T/client.conf" threads conc-1
server_stop srv
