#!/usr/bin/env bash
# p11-kit: a module config like deploy/teehsm.module, with the path of this build's module,
# registers libteehsm.so for one user, and `p11-kit list-modules` shows the module and its token.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v p11-kit >/dev/null || die "p11-kit is not installed (apt-get install p11-kit)"

server_conf srv
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv

# The shipped config, with the build's module in place of the installed path. p11-kit merges
# the user's ~/.config/pkcs11/modules/ into the system's registry (user-config: merge is the
# default), so a HOME of our own registers teehsm without touching the system. p11-kit ignores
# user configs when run as root (CI is), so then it runs as nobody, on files nobody can read:
# $T becomes traversable, and the client gets a readable copy of its (throwaway) key.
P="$T/p11kit"
H="$P/home"
mkdir -p "$P"
chmod 755 "$P"
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null || die "setpriv is not installed (apt-get install util-linux)"
	RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	chmod 711 "$T"
	cp "$T/pki/client.pem" "$T/pki/client.key" "$P/"
	chmod 644 "$P/client.key"
	client_conf "$P/client.conf" srv "$P"
else
	cp "$T/client.conf" "$P/client.conf"
fi
mkdir -p "$H/.config/pkcs11/modules"
grep -Eq '^module: /.*/libteehsm\.so$' "$TEEHSM_SRC/deploy/teehsm.module" ||
	die "deploy/teehsm.module has no 'module:' line naming libteehsm.so"
sed "s|^module: .*|module: $MODULE|" "$TEEHSM_SRC/deploy/teehsm.module" \
	>"$H/.config/pkcs11/modules/teehsm.module"

log "p11-kit list-modules"
env HOME="$H" XDG_CONFIG_HOME="$H/.config" TEEHSM_CONF="$P/client.conf" "${TOOL_ENV[@]}" \
	timeout "$CMD_TIMEOUT" "${RUN_AS[@]}" p11-kit list-modules >"$T/list.out" 2>"$T/list.err" ||
	{ cat "$T/list.out" "$T/list.err" >&2; die "p11-kit list-modules failed"; }
cat "$T/list.out"
# Only our module's stanza: from "teehsm:" to the next module.
awk '/^[^ \t]/ { on = ($0 ~ /^teehsm:/) } on' "$T/list.out" >"$T/teehsm.out"
[ -s "$T/teehsm.out" ] || { cat "$T/list.err" >&2; die "list-modules does not show the teehsm module"; }
[ "$(head -n 1 "$T/teehsm.out")" = "teehsm: $MODULE" ] || die "the teehsm module has the wrong path"
grep -Eq "^ +library-manufacturer: +teehsm\$" "$T/teehsm.out" ||
	die "the teehsm module's manufacturer is not teehsm"
grep -Eq "^ +token: +$TEST_TOKEN_LABEL\$" "$T/teehsm.out" ||
	die "list-modules does not show the token '$TEST_TOKEN_LABEL'"
grep -Eq "^ +manufacturer: +teehsm\$" "$T/teehsm.out" ||
	die "the token's manufacturer is not teehsm"

assert_alive srv
server_stop srv
