#!/usr/bin/env bash
# Connection loss (issue 4): the server restarts under a running client. The lost connection's
# session must answer CKR_DEVICE_REMOVED or CKR_SESSION_HANDLE_INVALID, and the next calls
# (C_GetSlotList, C_OpenSession) must reconnect without C_Finalize: log in and sign again.
# The restarted server must listen on the same port, so the port is fixed in its config
# (lib.sh's default, 127.0.0.1:0, would give it a new one; "listen" may repeat, so the line is
# replaced rather than appended).
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

port="$(free_port)"
server_conf srv
sed -i "s/^listen = .*/listen = 127.0.0.1:$port/" "$T/srv/teehsmd.conf"
server_init_token srv
server_start srv
[ "${SRV_PORT[srv]}" = "$port" ] || die "teehsmd listens on ${SRV_PORT[srv]}, not $port"
client_conf "$T/client.conf" srv

mkdir "$T/sig"
log "p11drive restart (TEEHSM_CONF=client.conf)"
TEEHSM_CONF="$T/client.conf" timeout "$CMD_TIMEOUT" "$P11DRIVE" restart "$MODULE" "$T/sig" &
drv=$!
for ((i = 0; i < CMD_TIMEOUT * 10; i++)); do
	[ -e "$T/sig/ready" ] && break
	_pid_alive "$drv" || break
	sleep 0.1
done
[ -e "$T/sig/ready" ] || { wait "$drv" || true; die "p11drive restart never got ready"; }

server_stop srv
server_start srv
[ "${SRV_PORT[srv]}" = "$port" ] || die "the restarted teehsmd listens on ${SRV_PORT[srv]}"
touch "$T/sig/restarted"
wait "$drv" || die "p11drive restart failed (exit $?)"
assert_alive srv
server_stop srv
