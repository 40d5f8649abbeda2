#!/usr/bin/env bash
# deploy/quickstart.sh --demo, as a user would run it, against this build, in a temporary
# TEEHSM_VAR and on a free port. Then once more on the same var/ (reruns must work).
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

run_demo() {
	local rc=0
	TEEHSM_VAR="$T/var" TEEHSM_PORT="$port" TEEHSM_BUILD="$TEEHSM_BUILD" TEEHSM_SKIP_BUILD=1 \
		TEEHSM_TOOL_PRELOAD="$TOOL_PRELOAD" timeout 600 \
		bash "$TEEHSM_SRC/deploy/quickstart.sh" --demo >"$T/quickstart.log" 2>&1 || rc=$?
	cat "$T/quickstart.log"
	return "$rc"
}

ok=0
for attempt in 1 2 3; do
	port="$(free_port)"
	rm -rf "${T:?}/var"
	log "quickstart --demo on port $port (attempt $attempt)"
	if run_demo; then
		ok=1
		break
	fi
	# Only a port lost to a race is worth another try.
	grep -qi "address already in use" "$T/var/teehsmd-demo.log" 2>/dev/null || break
done
[ "$ok" = 1 ] || die "quickstart.sh --demo failed"

# What it left behind.
for f in pki/ca.pem pki/ca.key pki/server.pem pki/client.pem teehsmd.conf client.conf dev-pins; do
	[ -e "$T/var/$f" ] || die "quickstart did not create var/$f"
done
[ "$(stat -c %a "$T/var/dev-pins")" = 600 ] || die "var/dev-pins is not mode 0600"
[ "$(stat -c %a "$T/var/pki/ca.key")" = 600 ] || die "var/pki/ca.key is not mode 0600"
grep -q "DEVELOPMENT ONLY" "$T/quickstart.log" || die "quickstart did not warn that the PINs are for development only"
user_pin="$(sed -n 's/^TEEHSM_USER_PIN=//p' "$T/var/dev-pins")"
grep -q "user PIN *: *$user_pin" "$T/quickstart.log" || die "quickstart did not print the user PIN"
grep -q "demo OK" "$T/quickstart.log" || die "quickstart did not report success"

# A second run reuses var/ (same PKI, token and PINs) and replaces the demo key.
cp "$T/var/dev-pins" "$T/dev-pins.first"
log "quickstart --demo again on the same var/"
run_demo || die "a second quickstart.sh --demo on the same var/ failed"
cmp -s "$T/dev-pins.first" "$T/var/dev-pins" || die "the second run changed the PINs"
grep -q "keeping the existing" "$T/quickstart.log" || die "the second run did not keep the configs"
