# shellcheck shell=bash
# tests/integ/lib.sh — helpers for the integration tests, sourced by tests/integ/test_*.sh.
#
# Each test gets its own temporary directory ($T, removed on exit; keep it with
# TEEHSM_KEEP_TMP=1), its own PKIs and its own teehsmd instances listening on 127.0.0.1 with a
# port the kernel picks (listen = 127.0.0.1:0, reported through --port-file). Servers are started
# and stopped by PID only. A server that does not exit 0 on SIGTERM (a crash, or a leak report
# under ASan) fails the test. When a test fails, the servers' logs are printed.
#
# ctest passes TEEHSM_SRC, TEEHSM_BUILD and TEEHSM_SANITIZE; run by hand, the defaults are the
# source tree this file is in and its build/ directory.
set -euo pipefail

TEEHSM_SRC="${TEEHSM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TEEHSM_BUILD="${TEEHSM_BUILD:-$TEEHSM_SRC/build}"
TEEHSM_SANITIZE="${TEEHSM_SANITIZE:-0}"
case "$TEEHSM_SANITIZE" in 1 | ON | on | TRUE | true | YES | yes) TEEHSM_SANITIZE=1 ;; *) TEEHSM_SANITIZE=0 ;; esac
export TEEHSM_SRC TEEHSM_BUILD TEEHSM_SANITIZE

TEEHSMD="$TEEHSM_BUILD/server/teehsmd"
MODULE="$TEEHSM_BUILD/client/libteehsm.so"
P11DRIVE="$TEEHSM_BUILD/tests/p11drive"
MKPKI="$TEEHSM_SRC/certs/mkpki.sh"
TEST_NAME="$(basename "$0" .sh)"

# The token every test initialises, and the PINs p11drive reads from the environment.
TEST_TOKEN_LABEL="integ-token"
TEST_SO_PIN="so-pin-0000-test"
TEST_USER_PIN="user-pin-1111-test"
export TEEHSM_TEST_LABEL="$TEST_TOKEN_LABEL" TEEHSM_TEST_PIN="$TEST_USER_PIN"

# Bounds: how long a server may take to start listening or to exit, and any one client call.
START_TIMEOUT=15
STOP_TIMEOUT=20
CMD_TIMEOUT=120
if [ "$TEEHSM_SANITIZE" = 1 ]; then
	START_TIMEOUT=30
	CMD_TIMEOUT=300
fi

log() { echo "[$TEST_NAME] $*" >&2; }
die() {
	log "FAIL: $*"
	exit 1
}

for f in "$TEEHSMD" "$MODULE" "$P11DRIVE" "$MKPKI"; do
	[ -e "$f" ] || die "$f is missing: build first (cmake -S . -B build && cmake --build build)"
done
command -v openssl >/dev/null || die "openssl is not installed"

# --- Temporary directory and cleanup ---------------------------------------------------------
T="$(mktemp -d "${TMPDIR:-/tmp}/teehsm-$TEST_NAME.XXXXXX")"
declare -A SRV_PID=() SRV_PORT=()

_lib_cleanup() {
	local rc=$? name
	set +e
	for name in "${!SRV_PID[@]}"; do
		if [ -n "${SRV_PID[$name]}" ]; then
			kill -TERM "${SRV_PID[$name]}" 2>/dev/null
			_wait_exit "${SRV_PID[$name]}" "$STOP_TIMEOUT" || kill -KILL "${SRV_PID[$name]}" 2>/dev/null
			wait "${SRV_PID[$name]}" 2>/dev/null
		fi
	done
	if [ "$rc" -ne 0 ]; then
		for f in "$T"/*.log; do
			[ -e "$f" ] || continue
			echo "----- $(basename "$f") (last 200 lines) -----" >&2
			tail -n 200 "$f" >&2
		done
		log "FAILED (exit $rc)"
	else
		log "PASS"
	fi
	if [ "${TEEHSM_KEEP_TMP:-0}" = 1 ]; then
		log "kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _lib_cleanup EXIT
trap 'exit 130' INT TERM

# --- Sanitizers -----------------------------------------------------------------------------
# teehsmd and p11drive are ASan-built programs of their own and run with leak detection on.
# External programs (pkcs11-tool) that dlopen the ASan-built libteehsm.so need the sanitizer
# runtimes preloaded, and their own leaks are not ours to report: TOOL_ENV holds that
# environment, to be given to those tools only (never to teehsmd).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
TOOL_ENV=()
TOOL_PRELOAD=""
if [ "$TEEHSM_SANITIZE" = 1 ]; then
	# The runtimes the module was linked against; the compiler's answer as a fallback.
	asan_rt="$(ldd "$MODULE" | awk '/libasan\.so/ { print $3; exit }')"
	ubsan_rt="$(ldd "$MODULE" | awk '/libubsan\.so/ { print $3; exit }')"
	[ -n "$asan_rt" ] || asan_rt="$(gcc -print-file-name=libasan.so)"
	[ -n "$ubsan_rt" ] || ubsan_rt="$(gcc -print-file-name=libubsan.so)"
	[ -e "$asan_rt" ] || die "cannot find the ASan runtime for $MODULE"
	TOOL_PRELOAD="$asan_rt"
	[ -e "$ubsan_rt" ] && TOOL_PRELOAD="$TOOL_PRELOAD:$ubsan_rt"
	# pkcs11-tool 0.23 (Debian 12) itself reads freed buffers when it exports an EC public
	# key (read_object() frees the attribute values before EVP_PKEY_fromdata uses them; it
	# happens with any module, SoftHSM too). Only ASan's interceptors inside libcrypto see it:
	# suppress those for the tools. Our own code is instrumented and still checked.
	printf '%s\n' "# pkcs11-tool 0.23 read_object(): use after free inside libcrypto" \
		"interceptor_via_lib:libcrypto.so" >"$T/tool-asan.supp"
	TOOL_ENV=(LD_PRELOAD="$TOOL_PRELOAD"
		ASAN_OPTIONS="detect_leaks=0:suppressions=$T/tool-asan.supp")
fi
export TOOL_PRELOAD

# _wait_exit PID SECONDS: 0 once PID (our child) has exited (is gone or a zombie), 1 on timeout.
_wait_exit() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		_pid_alive "$pid" || return 0
		sleep 0.1
	done
	return 1
}

# _pid_alive PID: 0 if the process runs (not a zombie waiting to be reaped).
_pid_alive() {
	local state
	kill -0 "$1" 2>/dev/null || return 1
	state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# --- PKI and configuration -------------------------------------------------------------------

# make_pki DIR [CN_PREFIX]: a development PKI (ca, server, client) in DIR.
make_pki() {
	"$MKPKI" "$1" --cn-prefix "${2:-integ}" >"$T/mkpki.out" 2>&1 ||
		{ cat "$T/mkpki.out" >&2; die "mkpki.sh $1 failed"; }
}

# server_conf NAME [LINE...]: write $T/NAME/teehsmd.conf for a server using the PKI in $T/pki
# (made on first use), its own store, a port chosen by the kernel, and a policy that lets the
# PKI's client (CN integ-client) do everything. Extra config lines are appended (a later key
# wins; allow lines add up).
server_conf() {
	local name=$1 dir="$T/$1"
	shift
	[ -e "$T/pki/ca.pem" ] || make_pki "$T/pki"
	mkdir -p "$dir"
	{
		echo "# written by tests/integ/lib.sh"
		echo "listen = 127.0.0.1:0"
		echo "ca = $T/pki/ca.pem"
		echo "cert = $T/pki/server.pem"
		echo "key = $T/pki/server.key"
		echo "store = store"
		echo "pin_kdf_iterations = 1000"
		echo "log_level = debug"
		# The server denies by default: the tests' own client may do everything.
		echo "allow = cn:integ-client all"
		local line
		for line in "$@"; do
			echo "$line"
		done
	} >"$dir/teehsmd.conf"
}

# server_init_token NAME [LABEL]: initialise the token of server NAME (not running) with the
# test PINs.
server_init_token() {
	local name=$1 label=${2:-$TEST_TOKEN_LABEL}
	log "initialising token '$label' of server $name"
	TEEHSM_SO_PIN="$TEST_SO_PIN" TEEHSM_USER_PIN="$TEST_USER_PIN" \
		timeout "$CMD_TIMEOUT" "$TEEHSMD" -c "$T/$name/teehsmd.conf" --init-token \
		--label "$label" >>"$T/$name.log" 2>&1 ||
		die "teehsmd --init-token failed (exit $?), see $name.log"
}

# server_start NAME: start teehsmd for $T/NAME/teehsmd.conf in the background; sets
# SRV_PID[NAME] and SRV_PORT[NAME] once it listens.
server_start() {
	local name=$1 pf="$T/$1/port" pid port="" i rc
	[ -z "${SRV_PID[$name]:-}" ] || die "server $name is already running"
	rm -f "$pf"
	echo "===== $(date '+%T') starting teehsmd ($name)" >>"$T/$name.log"
	"$TEEHSMD" -c "$T/$name/teehsmd.conf" --port-file "$pf" >>"$T/$name.log" 2>&1 &
	pid=$!
	SRV_PID[$name]=$pid
	for ((i = 0; i < START_TIMEOUT * 10; i++)); do
		# read succeeds only on a whole line: the port file is complete once it ends in \n.
		if [ -s "$pf" ] && read -r port <"$pf" && [[ "$port" =~ ^[0-9]+$ ]]; then
			break
		fi
		port=""
		if ! _pid_alive "$pid"; then
			SRV_PID[$name]=""
			wait "$pid" && rc=0 || rc=$?
			die "teehsmd ($name) exited with status $rc before listening"
		fi
		sleep 0.1
	done
	if [ -z "$port" ] || [ "$port" -le 0 ] || [ "$port" -ge 65536 ]; then
		die "teehsmd ($name) did not write a port to $pf within ${START_TIMEOUT}s"
	fi
	SRV_PORT[$name]=$port
	log "teehsmd ($name) is listening on 127.0.0.1:$port, pid $pid"
}

# server_alive NAME: 0 if server NAME is still running.
server_alive() {
	[ -n "${SRV_PID[$1]:-}" ] && _pid_alive "${SRV_PID[$1]}"
}

# assert_alive NAME: fail the test unless server NAME is still running.
assert_alive() {
	server_alive "$1" || die "teehsmd ($1) is no longer running"
}

# server_stop NAME: SIGTERM by PID, wait (bounded), and fail the test unless it exited 0.
server_stop() {
	local name=$1 pid=${SRV_PID[$1]:-} rc=0
	[ -n "$pid" ] || die "server $name is not running"
	assert_alive "$name"
	kill -TERM "$pid"
	if ! _wait_exit "$pid" "$STOP_TIMEOUT"; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		SRV_PID[$name]=""
		die "teehsmd ($name) did not exit within ${STOP_TIMEOUT}s of SIGTERM"
	fi
	wait "$pid" || rc=$?
	SRV_PID[$name]=""
	echo "===== $(date '+%T') teehsmd ($name) exited with status $rc" >>"$T/$name.log"
	if [ "$rc" -ne 0 ]; then
		if [ "$rc" -gt 128 ]; then
			die "teehsmd ($name) died of signal $((rc - 128)) after SIGTERM"
		fi
		die "teehsmd ($name) exited with status $rc after SIGTERM (sanitizer report in $name.log?)"
	fi
	log "teehsmd ($name) stopped cleanly"
}

# client_conf FILE NAME [PKI_DIR|none] [LINE...]: a client config for server NAME using the
# client certificate of PKI_DIR (default $T/pki) and trusting the server's CA; "none" leaves the
# certificate out. Extra lines are appended.
client_conf() {
	local file=$1 name=$2 pki=${3:-$T/pki}
	shift 2
	if [ $# -gt 0 ]; then shift; fi
	[ -n "${SRV_PORT[$name]:-}" ] || die "server $name has no port (not started?)"
	{
		echo "# written by tests/integ/lib.sh"
		echo "server = 127.0.0.1:${SRV_PORT[$name]}"
		echo "ca = $T/pki/ca.pem"
		if [ "$pki" != none ]; then
			echo "cert = $pki/client.pem"
			echo "key = $pki/client.key"
		fi
		echo "connect_timeout_ms = 5000"
		echo "call_timeout_ms = 60000"
		local line
		for line in "$@"; do
			echo "$line"
		done
	} >"$file"
}

# make_peer NAME [--san uri:U|dns:D]...: a client certificate with CN=NAME from the test PKI
# ($T/pki/NAME.pem and .key), for the server's policy tests.
make_peer() {
	[ -e "$T/pki/ca.pem" ] || make_pki "$T/pki"
	"$TEEHSM_SRC/certs/mkpeer.sh" "$T/pki" "$@" >>"$T/mkpki.out" 2>&1 ||
		{ cat "$T/mkpki.out" >&2; die "mkpeer.sh $* failed"; }
}

# client_conf_as FILE SERVER PEER [LINE...]: like client_conf, with the certificate of peer PEER
# (made by make_peer).
client_conf_as() {
	local file=$1 name=$2 peer=$3
	shift 3
	client_conf "$file" "$name" none "cert = $T/pki/$peer.pem" "key = $T/pki/$peer.key" "$@"
}

# wait_for_file PATH [PID]: until PATH exists (bounded by CMD_TIMEOUT); fails early when PID
# (a background client) has exited.
wait_for_file() {
	local i
	for ((i = 0; i < CMD_TIMEOUT * 10; i++)); do
		[ -e "$1" ] && return 0
		if [ -n "${2:-}" ] && ! _pid_alive "$2"; then
			[ -e "$1" ] && return 0
			die "the client (pid $2) exited before $1 appeared"
		fi
		sleep 0.1
	done
	die "$1 did not appear within ${CMD_TIMEOUT}s"
}

# wait_for_log NAME REGEX [SECONDS]: until server NAME's log matches REGEX.
wait_for_log() {
	local i
	for ((i = 0; i < ${3:-30} * 10; i++)); do
		grep -Eq "$2" "$T/$1.log" && return 0
		sleep 0.1
	done
	die "server $1 never logged /$2/"
}

# --- Clients ---------------------------------------------------------------------------------

# drive CONF MODE [LABEL]: run p11drive against libteehsm.so with client config CONF.
drive() {
	local conf=$1 mode=$2
	shift 2
	log "p11drive $mode $* (TEEHSM_CONF=$(basename "$conf"))"
	TEEHSM_CONF="$conf" timeout "$CMD_TIMEOUT" "$P11DRIVE" "$mode" "$MODULE" "$@" ||
		die "p11drive $mode $* failed (exit $?)"
}

# p11tool CONF ARGS...: pkcs11-tool through libteehsm.so with client config CONF (with the
# sanitizer runtimes preloaded for an ASan build). Output goes to stdout; fails like the tool.
p11tool() {
	local conf=$1
	shift
	command -v pkcs11-tool >/dev/null || die "pkcs11-tool is not installed (apt-get install opensc)"
	env TEEHSM_CONF="$conf" "${TOOL_ENV[@]}" timeout "$CMD_TIMEOUT" \
		pkcs11-tool --module "$MODULE" "$@"
}

# free_port: a TCP port on 127.0.0.1 nothing listens on now (racy, but good enough for tests
# that cannot use port 0).
free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 40000))
		if ! command -v ss >/dev/null; then
			echo "$p"
			return 0
		fi
		if ! ss -Htln 2>/dev/null | awk '{ print $4 }' | grep -Eq "[:.]$p\$"; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

# teehsm_cli CONF ARGS...: the provisioning and signing command (build/certs/teehsm) with
# client config CONF in TEEHSM_CONF ("-" leaves the environment as it is, e.g. for another
# module). Like p11drive it is an ASan-built program of its own in an ASan build: it runs
# without TOOL_ENV, with leak detection on. Output goes to stdout and stderr; returns its status.
teehsm_cli() {
	local conf=$1 cli="$TEEHSM_BUILD/certs/teehsm"
	shift
	[ -x "$cli" ] || die "$cli is missing: build first (cmake --build $TEEHSM_BUILD)"
	if [ "$conf" = - ]; then
		timeout "$CMD_TIMEOUT" "$cli" "$@"
	else
		TEEHSM_CONF="$conf" timeout "$CMD_TIMEOUT" "$cli" "$@"
	fi
}
