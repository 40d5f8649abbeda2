#!/usr/bin/env bash
# quickstart.sh — from a fresh Debian 12 to a running teehsm development server.
#
#   deploy/quickstart.sh           install, build, set up var/, then run teehsmd in the foreground
#   deploy/quickstart.sh --demo    the same, but run a demo with pkcs11-tool and stop again
#
# See the usage text below for the environment it honours.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: deploy/quickstart.sh [--demo]

Sets up a teehsm development server, from any directory:
  1. installs the Debian packages it needs (as root, with apt-get) unless already installed;
  2. builds teehsm (cmake, RelWithDebInfo) into build/;
  3. creates, when absent, var/pki (a development PKI), var/teehsmd.conf, var/store,
     var/client.conf, and a token labelled "teehsm-dev" with random development PINs saved
     in var/dev-pins;
  4. without --demo: prints commands to try from a second terminal and runs teehsmd in the
     foreground (Ctrl-C stops it);
     with --demo: starts teehsmd, generates an EC key, signs and verifies through pkcs11-tool
     and libteehsm.so, stops teehsmd, and exits 0 on success.

Environment:
  TEEHSM_VAR           state directory (default: <repo>/var)
  TEEHSM_PORT          TCP port on 127.0.0.1 and [::1] (default: 5705)
  TEEHSM_BUILD         build directory (default: <repo>/build)
  TEEHSM_SKIP_BUILD=1  use TEEHSM_BUILD as it is, do not configure or build
  TEEHSM_TOOL_PRELOAD  LD_PRELOAD for pkcs11-tool only (the sanitizer runtimes when
                       TEEHSM_BUILD is an ASan build); the tool's own leaks are then ignored
EOF
}

die() {
	echo "quickstart: error: $*" >&2
	exit 1
}
say() { echo "quickstart: $*"; }

demo=0
while [ $# -gt 0 ]; do
	case "$1" in
	--demo) demo=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
	shift
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VAR="${TEEHSM_VAR:-$ROOT/var}"
BUILD="${TEEHSM_BUILD:-$ROOT/build}"
PORT="${TEEHSM_PORT:-5705}"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
	die "TEEHSM_PORT must be a port number, not '$PORT'"
fi
mkdir -p "$VAR"
VAR="$(cd "$VAR" && pwd)"
TOKEN_LABEL="teehsm-dev"

# --- 1. Packages ------------------------------------------------------------------------------
PACKAGES=(build-essential cmake pkg-config libssl-dev openssl libprotobuf-c-dev
	protobuf-c-compiler libevent-dev libp11-kit-dev libcmocka-dev opensc)
if command -v dpkg-query >/dev/null; then
	missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		[ "$(id -u)" -eq 0 ] ||
			die "missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}"
		say "installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update
		apt-get install -y --no-install-recommends "${missing[@]}"
	fi
else
	say "not a Debian system: make sure these are installed: ${PACKAGES[*]}"
fi

# --- 2. Build ---------------------------------------------------------------------------------
if [ "${TEEHSM_SKIP_BUILD:-0}" = 1 ]; then
	say "TEEHSM_SKIP_BUILD=1: using the build in $BUILD as it is"
else
	say "building into $BUILD"
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build "$BUILD" -j"$(nproc)"
fi
TEEHSMD="$BUILD/server/teehsmd"
MODULE="$BUILD/client/libteehsm.so"
[ -x "$TEEHSMD" ] || die "$TEEHSMD is missing: the build failed?"
[ -e "$MODULE" ] || die "$MODULE is missing: the build failed?"

# --- 3. Development state in var/ -------------------------------------------------------------
chmod 700 "$VAR"
if [ ! -e "$VAR/pki/ca.key" ]; then
	say "creating a development PKI in $VAR/pki"
	"$ROOT/certs/mkpki.sh" "$VAR/pki"
fi
mkdir -p "$VAR/store"
chmod 700 "$VAR/store"

if [ ! -e "$VAR/teehsmd.conf" ]; then
	say "writing $VAR/teehsmd.conf (port $PORT)"
	{
		echo "# teehsmd development configuration, written by deploy/quickstart.sh."
		echo "# Every key is described in deploy/teehsmd.conf.example."
		echo "# Relative paths are relative to this file's directory."
		echo "listen = 127.0.0.1:$PORT"
		# Listen on IPv6 loopback too, where the machine has it.
		if grep -qi '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then
			echo "listen = [::1]:$PORT"
		fi
		echo "ca = pki/ca.pem"
		echo "cert = pki/server.pem"
		echo "key = pki/server.key"
		echo "store = store"
		echo "log_level = info"
		echo "# Every key use and management operation, one JSON line each."
		echo "audit_log = audit.log"
		echo "# Default deny: the development client certificate (pki/client.pem) may do"
		echo "# everything. See deploy/teehsmd.conf.example for narrower rules."
		echo "allow = cn:teehsm-dev-client all"
	} >"$VAR/teehsmd.conf"
else
	say "keeping the existing $VAR/teehsmd.conf"
	# Written before the server denied by default: let the development client in.
	if ! grep -q '^allow *=' "$VAR/teehsmd.conf"; then
		say "adding 'allow = cn:teehsm-dev-client all' to $VAR/teehsmd.conf (default deny)"
		echo "allow = cn:teehsm-dev-client all" >>"$VAR/teehsmd.conf"
	fi
fi
# The port the server really uses: the first listen entry of the (possibly older) config.
conf_port="$(sed -n 's/^[[:space:]]*listen[[:space:]]*=.*:\([0-9]*\)[[:space:]]*$/\1/p' \
	"$VAR/teehsmd.conf" | head -n 1)"
[ -n "$conf_port" ] || die "no 'listen = HOST:PORT' line in $VAR/teehsmd.conf"

if [ ! -e "$VAR/client.conf" ]; then
	say "writing $VAR/client.conf"
	{
		echo "# teehsm client (libteehsm.so) development configuration, written by"
		echo "# deploy/quickstart.sh; select it with TEEHSM_CONF=$VAR/client.conf."
		echo "# Every key is described in deploy/client.conf.example."
		echo "server = 127.0.0.1:$conf_port"
		echo "server_name = localhost"
		echo "ca = $VAR/pki/ca.pem"
		echo "cert = $VAR/pki/client.pem"
		echo "key = $VAR/pki/client.key"
	} >"$VAR/client.conf"
else
	say "keeping the existing $VAR/client.conf"
fi

# The token, initialised once with random PINs that are kept in var/dev-pins.
if [ ! -e "$VAR/dev-pins" ]; then
	say "initialising the token '$TOKEN_LABEL'"
	so_pin="$(openssl rand -hex 8)"
	user_pin="$(openssl rand -hex 8)"
	TEEHSM_SO_PIN="$so_pin" TEEHSM_USER_PIN="$user_pin" \
		"$TEEHSMD" -c "$VAR/teehsmd.conf" --init-token --label "$TOKEN_LABEL" ||
		die "token initialisation failed (if $VAR/store already holds a token, remove $VAR to start over)"
	(
		umask 077
		printf 'TEEHSM_SO_PIN=%s\nTEEHSM_USER_PIN=%s\n' "$so_pin" "$user_pin" >"$VAR/dev-pins.tmp"
	)
	mv -f "$VAR/dev-pins.tmp" "$VAR/dev-pins"
fi
chmod 600 "$VAR/dev-pins"
so_pin="$(sed -n 's/^TEEHSM_SO_PIN=//p' "$VAR/dev-pins")"
user_pin="$(sed -n 's/^TEEHSM_USER_PIN=//p' "$VAR/dev-pins")"
if [ -z "$so_pin" ] || [ -z "$user_pin" ]; then
	die "$VAR/dev-pins is damaged; remove $VAR to start over"
fi

cat <<EOF

  !!! DEVELOPMENT ONLY !!!
  These PINs were generated for a development token and are stored in clear in
  $VAR/dev-pins. Never use this setup (PINs, PKI, emulated TEE root key) for real keys.

    token label : $TOKEN_LABEL
    SO PIN      : $so_pin
    user PIN    : $user_pin

EOF

# Paths as a user would type them from the repository root.
show() {
	case "$1" in
	"$ROOT"/*) echo "${1#"$ROOT"/}" ;;
	*) echo "$1" ;;
	esac
}

# --- 4a. Foreground server --------------------------------------------------------------------
if [ "$demo" -eq 0 ]; then
	c="$(show "$VAR/client.conf")"
	m="$(show "$MODULE")"
	cat <<EOF
teehsmd is starting on 127.0.0.1:$conf_port. From a second terminal, try:

  cd $ROOT
  export TEEHSM_CONF=$c
  pkcs11-tool --module $m -L
  pkcs11-tool --module $m --login --pin $user_pin \\
      --keypairgen --key-type EC:prime256v1 --label my-key
  echo hello > /tmp/msg
  pkcs11-tool --module $m --login --pin $user_pin \\
      --sign -m ECDSA-SHA256 --signature-format openssl --label my-key \\
      -i /tmp/msg -o /tmp/msg.sig
  pkcs11-tool --module $m --read-object --type pubkey --label my-key -o /tmp/pub.der
  openssl pkey -pubin -inform DER -in /tmp/pub.der -out /tmp/pub.pem
  openssl dgst -sha256 -verify /tmp/pub.pem -signature /tmp/msg.sig /tmp/msg

Stop the server with Ctrl-C.

EOF
	exec "$TEEHSMD" -c "$VAR/teehsmd.conf"
fi

# --- 4b. Demo ---------------------------------------------------------------------------------
command -v pkcs11-tool >/dev/null || die "pkcs11-tool is missing (apt-get install opensc)"
work="$(mktemp -d "${TMPDIR:-/tmp}/teehsm-demo.XXXXXX")"
srv_pid=""
srv_log="$VAR/teehsmd-demo.log"

alive() { # alive PID: running and not a zombie
	kill -0 "$1" 2>/dev/null || return 1
	[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# stop_server: SIGTERM by PID, bounded wait; returns the server's exit status.
stop_server() {
	local pid=$srv_pid rc=0 i
	srv_pid=""
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		echo "quickstart: teehsmd did not exit within 20 s of SIGTERM; killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" || rc=$?
	return "$rc"
}

cleanup() {
	local rc=$?
	set +e
	if [ -n "$srv_pid" ]; then
		stop_server
	fi
	if [ "$rc" -ne 0 ]; then
		echo "quickstart: demo FAILED; last lines of $srv_log:" >&2
		tail -n 40 "$srv_log" >&2
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# pkcs11-tool through libteehsm.so, with TEEHSM_TOOL_PRELOAD for this tool only.
tool() {
	local env=(TEEHSM_CONF="$VAR/client.conf")
	if [ -n "${TEEHSM_TOOL_PRELOAD:-}" ]; then
		# The tool's leaks are not ours. And pkcs11-tool 0.23 itself reads freed buffers
		# when it exports an EC public key, which ASan sees in its interceptors in libcrypto.
		printf '%s\n' "interceptor_via_lib:libcrypto.so" >"$work/tool-asan.supp"
		env+=(LD_PRELOAD="$TEEHSM_TOOL_PRELOAD"
			ASAN_OPTIONS="detect_leaks=0:suppressions=$work/tool-asan.supp")
	fi
	echo "+ pkcs11-tool --module $(show "$MODULE") $*" | sed "s/--pin [^ ]*/--pin ****/"
	env "${env[@]}" timeout 300 pkcs11-tool --module "$MODULE" "$@"
}

say "starting teehsmd in the background (log: $srv_log)"
"$TEEHSMD" -c "$VAR/teehsmd.conf" --port-file "$work/port" >"$srv_log" 2>&1 &
srv_pid=$!
port=""
for ((i = 0; i < 300; i++)); do
	if [ -s "$work/port" ] && read -r port <"$work/port" && [[ "$port" =~ ^[0-9]+$ ]]; then
		break
	fi
	port=""
	alive "$srv_pid" || die "teehsmd exited before listening"
	sleep 0.1
done
[ -n "$port" ] || die "teehsmd did not start listening within 30 s"
[ "$port" = "$conf_port" ] || die "teehsmd listens on port $port, but $VAR/client.conf expects $conf_port"
say "teehsmd (pid $srv_pid) listens on 127.0.0.1:$port"

msg="$work/message.txt"
echo "teehsm quickstart demo, $(date -u +%FT%TZ)" >"$msg"

tool -L | tee "$work/slots.txt"
grep -q "$TOKEN_LABEL" "$work/slots.txt" || die "pkcs11-tool -L does not show the token '$TOKEN_LABEL'"

# A rerun on the same var/ replaces the demo key rather than adding a second one.
for type in privkey pubkey; do
	for ((i = 0; i < 10; i++)); do
		tool --login --pin "$user_pin" --delete-object --type "$type" --label demo-key >/dev/null 2>&1 || break
	done
done

tool --login --pin "$user_pin" --keypairgen --key-type EC:prime256v1 --label demo-key
tool --login --pin "$user_pin" --sign -m ECDSA-SHA256 --signature-format openssl \
	--label demo-key -i "$msg" -o "$work/message.sig"
tool --read-object --type pubkey --label demo-key -o "$work/pub.der"
openssl pkey -pubin -inform DER -in "$work/pub.der" -out "$work/pub.pem"
echo "+ openssl dgst -sha256 -verify pub.pem -signature message.sig message.txt"
openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/message.sig" "$msg"

say "stopping teehsmd (pid $srv_pid)"
rc=0
stop_server || rc=$?
[ "$rc" -eq 0 ] || die "teehsmd exited with status $rc"
say "demo OK: an EC P-256 key generated in the token signed a file that OpenSSL verified."
