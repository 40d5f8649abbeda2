#!/usr/bin/env bash
# Fork safety (issue 4): after fork() the child sees CKR_CRYPTOKI_NOT_INITIALIZED until it calls
# C_Initialize itself, then works over a connection of its own (logs in, generates a session
# key, signs); the parent's session keeps working while the child runs and after it exits.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

server_conf srv
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv

drive "$T/client.conf" fork
assert_alive srv
server_stop srv
