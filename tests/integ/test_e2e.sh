#!/usr/bin/env bash
# End to end through every layer: p11drive (PKCS#11 C API) -> libteehsm.so -> mutual TLS ->
# teehsmd -> token core -> sealed store. Then the keys must survive a server restart, and
# destroying them must stick.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

server_conf srv
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv

drive "$T/client.conf" e2e e2e-key
assert_alive srv
drive "$T/client.conf" init-args

# Persistence: a new server process over the same store still has the key and can sign.
server_stop srv
server_start srv
client_conf "$T/client.conf" srv
drive "$T/client.conf" sign-existing e2e-key

# Destruction is persistent too.
drive "$T/client.conf" destroy e2e-key
server_stop srv
server_start srv
client_conf "$T/client.conf" srv
# e2e refuses to start when objects with its label exist: the destroyed pair must be gone.
drive "$T/client.conf" e2e e2e-key
server_stop srv
