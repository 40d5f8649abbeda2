# shellcheck shell=bash
# tests/integ/ca/cli.sh — helpers for the tests of the teehsm command (test_teehsm_*.sh), sourced
# after lib.sh: running the command with its output kept, asserting on exit codes and output,
# test CAs (mkca.sh, sign-with.sh), key fingerprints, and pkcs11-tool listings.
#
# Every run's stdout and stderr are kept in $T/cli/NAME.out and NAME.err; at the end, a test
# checks with cli_no_secrets that no PIN appears in any of them.

CA_BIN="$TEEHSM_SRC/tests/integ/ca"
TEEHSM_CLI="$TEEHSM_BUILD/certs/teehsm"
[ -x "$TEEHSM_CLI" ] || die "$TEEHSM_CLI is missing: build first (cmake -S . -B build && cmake --build build)"
command -v pkcs11-tool >/dev/null || die "pkcs11-tool is not installed (apt-get install opensc)"
mkdir -p "$T/cli"

# CLI_CONF: the client configuration the runs use ("-": none, e.g. for SoftHSM).
CLI_CONF="${CLI_CONF:-$T/client.conf}"
rc=0
LAST=""

# run NAME ARGS...: teehsm ARGS; stdout in $T/cli/NAME.out, stderr in $T/cli/NAME.err, the exit
# status in $rc. Never fails by itself.
run() {
	local name=$1
	shift
	LAST=$name
	rc=0
	teehsm_cli "$CLI_CONF" "$@" >"$T/cli/$name.out" 2>"$T/cli/$name.err" || rc=$?
	log "teehsm $* -> exit $rc"
}

# run_env NAME [VAR=VALUE | -VAR]... -- ARGS...: run with VAR set (or, -VAR, unset). The log
# names the variables only: their values may be PINs.
run_env() {
	local name=$1 names=()
	shift
	LAST=$name
	rc=0
	(
		while [ "$1" != -- ]; do
			case "$1" in
			-*) unset "${1#-}" ;;
			*) export "${1?}" ;;
			esac
			shift
		done
		shift
		teehsm_cli "$CLI_CONF" "$@"
	) >"$T/cli/$name.out" 2>"$T/cli/$name.err" || rc=$?
	while [ "$1" != -- ]; do
		names+=("${1%%=*}")
		shift
	done
	shift
	log "teehsm $* (environment: ${names[*]}) -> exit $rc"
}

# show [NAME]: print a run's output (default: the last run) on stderr.
# shellcheck disable=SC2120 # NAME is optional
show() {
	local name=${1:-$LAST}
	{
		echo "----- teehsm run '$name': stdout -----"
		if grep -qaP '[^\x09\x0a\x0d\x20-\x7e]' "$T/cli/$name.out" 2>/dev/null; then
			echo "($(wc -c <"$T/cli/$name.out") bytes of binary output)"
		else
			cat "$T/cli/$name.out"
		fi
		echo "----- teehsm run '$name': stderr -----"
		cat "$T/cli/$name.err"
		echo "-----"
	} >&2
}

# expect RC WHAT...: fail the test unless the last run exited RC.
expect() {
	local want=$1
	shift
	if [ "$rc" != "$want" ]; then
		show
		die "$*: teehsm exited $rc, expected $want"
	fi
}

# out_has REGEX WHAT... / err_has / out_lacks / err_lacks: the last run's stdout (stderr) must
# (must not) match the extended regular expression REGEX.
out_has() {
	local re=$1
	shift
	grep -aEq -- "$re" "$T/cli/$LAST.out" || {
		show
		die "$*: stdout does not match /$re/"
	}
}
err_has() {
	local re=$1
	shift
	grep -aEq -- "$re" "$T/cli/$LAST.err" || {
		show
		die "$*: stderr does not match /$re/"
	}
}
out_lacks() {
	local re=$1
	shift
	! grep -aEq -- "$re" "$T/cli/$LAST.out" || {
		show
		die "$*: stdout matches /$re/"
	}
}
err_lacks() {
	local re=$1
	shift
	! grep -aEq -- "$re" "$T/cli/$LAST.err" || {
		show
		die "$*: stderr matches /$re/"
	}
}

# any_has REGEX WHAT...: the last run's stdout or stderr matches REGEX (for result lines that the
# spec says are printed, without fixing the stream).
any_has() {
	local re=$1
	shift
	grep -aEq -- "$re" "$T/cli/$LAST.out" "$T/cli/$LAST.err" || {
		show
		die "$*: neither stdout nor stderr matches /$re/"
	}
}

# err_one_line WHAT...: the error is one line on stderr, naming the command.
err_one_line() {
	[ "$(grep -c . "$T/cli/$LAST.err")" = 1 ] && grep -Eq '^teehsm( [a-z]+)*: ' "$T/cli/$LAST.err" || {
		show
		die "$*: the error is not one line 'teehsm COMMAND: ...' on stderr"
	}
}

# out_file NAME: the path of run NAME's stdout.
out_file() { echo "$T/cli/$1.out"; }

# cli_no_secrets PIN...: no run printed any of the PINs (as text, or hex-encoded).
cli_no_secrets() {
	local pin hex
	for pin in "$@"; do
		hex="$(printf '%s' "$pin" | od -An -tx1 | tr -d ' \n')"
		if grep -rlaF -- "$pin" "$T/cli" >"$T/pin-hits" || grep -rlai -- "$hex" "$T/cli" >>"$T/pin-hits"; then
			cat "$T/pin-hits" >&2
			die "a PIN appears in the output of teehsm (files above)"
		fi
	done
	log "no PIN in the output of $(find "$T/cli" -name '*.out' | wc -l) teehsm runs"
}

# --- Test CAs -------------------------------------------------------------------------------

# mkca root DIR CN | mkca sub DIR CN PARENT_DIR: see ca/mkca.sh.
mkca() {
	"$CA_BIN/mkca.sh" "$@" >>"$T/mkca.out" 2>&1 || {
		cat "$T/mkca.out" >&2
		die "mkca.sh $* failed"
	}
}

# issue CA_DIR CSR OUT [sign-with.sh options]: a leaf for CSR from CA_DIR, with its chain, in OUT.
issue() {
	local dir=$1 csr=$2 out=$3
	shift 3
	"$CA_BIN/sign-with.sh" "$dir" "$@" <"$csr" >"$out" 2>>"$T/mkca.out" || {
		cat "$T/mkca.out" >&2
		die "sign-with.sh $dir $* failed"
	}
}

# ca_cmd CA_DIR [sign-with.sh options]: the --ca-cmd string that issues with CA_DIR.
ca_cmd() {
	local s
	s="$(printf '%q ' "$CA_BIN/sign-with.sh" "$@")"
	echo "${s% }"
}

# nth_cert FILE N: the Nth (1-based) PEM certificate of FILE on stdout.
nth_cert() {
	awk -v n="$2" '/-----BEGIN CERTIFICATE-----/ { i++ } i == n { print } /-----END CERTIFICATE-----/ && i == n { exit }' "$1"
}

# count_certs FILE: the number of PEM certificates in FILE.
count_certs() { grep -c -- '-----BEGIN CERTIFICATE-----' "$1" || true; }

# cert_der PEM_OR_DER_FILE: the certificate's DER, hex (for comparisons).
cert_der() {
	openssl x509 -in "$1" -inform "${2:-PEM}" -outform DER | od -An -tx1 | tr -d ' \n'
}

# spki_sha1 FILE [pubkey|cert|req]: SHA-1 (hex, lower case) of the SubjectPublicKeyInfo DER of a
# PEM public key, certificate or request: the default CKA_ID of the teehsm command.
spki_sha1() {
	local f=$1 kind=${2:-pubkey}
	case "$kind" in
	pubkey) openssl pkey -pubin -in "$f" -outform DER ;;
	cert) openssl x509 -in "$f" -noout -pubkey | openssl pkey -pubin -outform DER ;;
	req) openssl req -in "$f" -noout -pubkey | openssl pkey -pubin -outform DER ;;
	esac | sha1sum | cut -d' ' -f1
}

# --- pkcs11-tool listings -------------------------------------------------------------------

# p11_list_parse FILE: pkcs11-tool -O output → one line per object: "KIND|LABEL|ID|ACCESS"
# (KIND: privkey, pubkey, cert, data, other).
p11_list_parse() {
	awk '
	function flush() { if (kind != "") print kind "|" label "|" id "|" access; kind = ""; label = ""; id = ""; access = "" }
	/^[A-Za-z].*Object;/ || /^Data object/ {
		flush()
		kind = "other"
		if ($0 ~ /^Private Key Object/) kind = "privkey"
		else if ($0 ~ /^Public Key Object/) kind = "pubkey"
		else if ($0 ~ /^Certificate Object/) kind = "cert"
		else if ($0 ~ /^Data object/) kind = "data"
		next
	}
	/^  label:/ { sub(/^  label: */, ""); label = $0; if (kind == "data") gsub(/^\x27|\x27$/, "", label); next }
	/^  ID:/ { sub(/^  ID: */, ""); id = tolower($0); next }
	/^  Access:/ { sub(/^  Access: */, ""); access = $0; next }
	END { flush() }' "$1"
}

# p11_count FILE KIND LABEL: how many objects of KIND labelled LABEL the parsed listing has.
p11_count() {
	awk -F'|' -v k="$2" -v l="$3" '$1 == k && $2 == l { n++ } END { print n + 0 }' "$1"
}

# p11_id FILE KIND LABEL: the CKA_ID (hex) of the object of KIND labelled LABEL.
p11_id() {
	awk -F'|' -v k="$2" -v l="$3" '$1 == k && $2 == l { print $3; exit }' "$1"
}
