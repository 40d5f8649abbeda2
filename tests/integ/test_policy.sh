#!/usr/bin/env bash
# Authorization by identity (issue 5), with real clients (pkcs11-tool) over TLS and over the
# Unix socket: a build-signer that may sign with release-* keys and nothing else, a
# fleet-enroller that may generate and import but not sign, an unknown identity that sees
# nothing, id= and token= narrowing, the admin class, uid: rules on the Unix socket, a policy
# reloaded by SIGHUP, and the audit log those calls leave (never a PIN).
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v pkcs11-tool >/dev/null || die "pkcs11-tool is not installed (apt-get install opensc)"
make_pki "$T/pki"
for p in build-signer fleet-enroller stranger id-user other-token pin-admin; do make_peer "$p"; done
uid=$(id -u)
server_conf srv \
	"allow = cn:build-signer read" \
	"allow = cn:build-signer use label=release-*" \
	"allow = cn:fleet-enroller read,manage" \
	"allow = cn:id-user use id=0a*" \
	"allow = cn:other-token all token=some-other-token" \
	"allow = cn:pin-admin read,admin" \
	"allow = uid:$uid read,use,manage label=release-*" \
	"unix_socket = $T/srv/teehsmd.sock" \
	"unix_socket_mode = 0600" \
	"audit_log = $T/srv/audit.log"
server_init_token srv
server_start srv
[ -S "$T/srv/teehsmd.sock" ] || die "teehsmd made no Unix socket"
[ "$(stat -c %a "$T/srv/teehsmd.sock")" = 600 ] || die "the Unix socket's mode is not 0600"

client_conf "$T/admin.conf" srv
for p in build-signer fleet-enroller stranger id-user other-token pin-admin; do
	client_conf_as "$T/$p.conf" srv "$p"
done
printf 'server = unix:%s\n' "$T/srv/teehsmd.sock" >"$T/local.conf"

# tool CONF ARGS...: pkcs11-tool logged in as the user, output in $T/out; returns its status.
tool() {
	local conf=$1
	shift
	p11tool "$T/$conf.conf" --login --pin "$TEST_USER_PIN" "$@" >"$T/out" 2>&1
}
# allowed WHO WHAT ARGS...: the call must succeed.
allowed() {
	local who=$1 what=$2
	shift 2
	tool "$who" "$@" || { cat "$T/out" >&2; die "$who: $what was refused"; }
	log "$who: $what: allowed"
}
# refused WHO WHAT ARGS...: the call must fail with CKR_ACTION_PROHIBITED.
refused() {
	local who=$1 what=$2
	shift 2
	if tool "$who" "$@"; then
		cat "$T/out" >&2
		die "$who: $what was allowed"
	fi
	grep -Eq "CKR_ACTION_PROHIBITED|0x1b\b|0x0000001b" "$T/out" ||
		{ cat "$T/out" >&2; die "$who: $what failed, but not with CKR_ACTION_PROHIBITED"; }
	log "$who: $what: refused with CKR_ACTION_PROHIBITED"
}
echo "release 7 of something" >"$T/data"

# The keys, made by the administrator (allow = cn:integ-client all). pkcs11-tool --sign picks
# its key by --id (it ignores --label there).
allowed admin "make release-1" --keypairgen --key-type EC:prime256v1 --label release-1 --id 0a01
allowed admin "make test-1" --keypairgen --key-type EC:prime256v1 --label test-1 --id 0b01

# --- build-signer: sign with release-* and nothing else ---------------------------------------
allowed build-signer "sign with release-1" --sign -m ECDSA-SHA256 --id 0a01 \
	--input-file "$T/data" --output-file "$T/sig"
refused build-signer "sign with test-1" --sign -m ECDSA-SHA256 --id 0b01 \
	--input-file "$T/data" --output-file "$T/sig2"
refused build-signer "generate a key" --keypairgen --key-type EC:prime256v1 --label release-2
refused build-signer "delete release-1" --delete-object --type privkey --label release-1
tool build-signer --list-objects || { cat "$T/out" >&2; die "build-signer cannot list"; }
grep -q "release-1" "$T/out" && grep -q "test-1" "$T/out" ||
	{ cat "$T/out" >&2; die "build-signer (read) does not see both keys"; }
refused build-signer "change the PIN (admin)" --change-pin --new-pin "$TEST_USER_PIN"

# --- admin: PIN management ---------------------------------------------------------------------
allowed pin-admin "change the user PIN (admin)" --change-pin --new-pin "$TEST_USER_PIN-2"
allowed pin-admin "change it back (admin)" --pin "$TEST_USER_PIN-2" --change-pin \
	--new-pin "$TEST_USER_PIN"
refused pin-admin "sign (no use class)" --sign -m ECDSA-SHA256 --id 0a01 \
	--input-file "$T/data" --output-file "$T/sig0"

# --- fleet-enroller: generate and import, never sign -------------------------------------------
allowed fleet-enroller "generate device-1" --keypairgen --key-type EC:prime256v1 \
	--label device-1 --id 0c01
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=device-1 \
	-keyout "$T/dev.key" -out "$T/dev.pem" -days 2 2>/dev/null
openssl x509 -in "$T/dev.pem" -outform DER -out "$T/dev.der"
allowed fleet-enroller "import a certificate" --write-object "$T/dev.der" --type cert \
	--label device-1 --id 0c01
refused fleet-enroller "sign with device-1" --sign -m ECDSA-SHA256 --id 0c01 \
	--input-file "$T/data" --output-file "$T/sig3"
refused fleet-enroller "sign with release-1" --sign -m ECDSA-SHA256 --id 0a01 \
	--input-file "$T/data" --output-file "$T/sig4"

# --- narrowing by id and by token ----------------------------------------------------------------
allowed id-user "sign with id 0a01" --sign -m ECDSA-SHA256 --id 0a01 \
	--input-file "$T/data" --output-file "$T/sig5"
tool id-user --list-objects || { cat "$T/out" >&2; die "id-user cannot list"; }
grep -q "release-1" "$T/out" && ! grep -q "test-1\|device-1" "$T/out" ||
	{ cat "$T/out" >&2; die "id-user (use id=0a*) does not see exactly the 0a.. objects"; }
log "id-user: lists the 0a.. objects only"
# A key it may not read is not found at all.
if tool id-user --sign -m ECDSA-SHA256 --id 0b01 --input-file "$T/data" --output-file "$T/s6"; then
	die "id-user signed with a key outside id=0a*"
fi
grep -q "not found" "$T/out" || { cat "$T/out" >&2; die "id-user: expected 'Private key not found'"; }
log "id-user: a key outside id=0a* is not even found"
for who in stranger other-token; do
	p11tool "$T/$who.conf" -L >"$T/out" 2>&1 || true
	grep -q "$TEST_TOKEN_LABEL" "$T/out" && { cat "$T/out" >&2; die "$who sees the token"; }
	if p11tool "$T/$who.conf" --slot 0 -I >/dev/null 2>&1 &&
		p11tool "$T/$who.conf" --slot 0 --list-objects >"$T/out" 2>&1; then
		cat "$T/out" >&2
		die "$who can open a session on slot 0"
	fi
	log "$who: sees no token and cannot use slot 0"
done

# --- the Unix socket: identity by uid, no certificate ----------------------------------------------
allowed local "sign with release-1 over the Unix socket" --sign -m ECDSA-SHA256 \
	--id 0a01 --input-file "$T/data" --output-file "$T/sig7"
if tool local --sign -m ECDSA-SHA256 --id 0b01 --input-file "$T/data" --output-file "$T/s8"; then
	die "local: signed with test-1"
fi
log "local: test-1 is out of reach over the Unix socket"
allowed local "generate release-2 over the Unix socket (manage)" --keypairgen \
	--key-type EC:prime256v1 --label release-2 --id 0a02
refused local "generate other-2 over the Unix socket" --keypairgen --key-type EC:prime256v1 \
	--label other-2 --id 0d02
grep -q "uid=$uid@unix:pid=[0-9]*: connected (unix socket" "$T/srv.log" ||
	die "the server did not name the local peer by its uid"

# SIGHUP: the uid rule now names another uid; the local peer sees nothing, TLS peers keep theirs.
sed -i "s/^allow = uid:$uid /allow = uid:$((uid + 4242)) /" "$T/srv/teehsmd.conf"
kill -HUP "${SRV_PID[srv]}"
wait_for_log srv "SIGHUP: reloaded the policy \(8 allow rules\)"
p11tool "$T/local.conf" -L >"$T/out" 2>&1 || true
grep -q "$TEST_TOKEN_LABEL" "$T/out" && { cat "$T/out" >&2; die "the local peer still sees the token"; }
log "local: after SIGHUP, sees no token"
allowed build-signer "sign with release-1 after SIGHUP" --sign -m ECDSA-SHA256 \
	--id 0a01 --input-file "$T/data" --output-file "$T/sig9"

# --- the audit log ---------------------------------------------------------------------------------
A="$T/srv/audit.log"
[ -s "$A" ] || die "no audit log"
[ "$(stat -c %a "$A")" = 600 ] || die "the audit log is not mode 0600"
bad=$(grep -cv '^{"time":"[0-9-]*T[0-9:.]*Z",.*}$' "$A" || true)
[ "$bad" = 0 ] || die "$bad audit lines are not one JSON object each"
grep -q '"identity":"cn=build-signer","transport":"tls".*"call":"C_SignInit".*"object_label":"release-1","object_id":"0a01","mechanism":"CKM_ECDSA_SHA256","result":"CKR_OK","rv":0' "$A" ||
	die "no audit record of build-signer's signature with release-1"
grep -q '"identity":"cn=build-signer".*"call":"C_SignInit".*"object_label":"test-1".*"result":"CKR_ACTION_PROHIBITED".*"denied":"policy"' "$A" ||
	die "no audit record of build-signer's refused signature with test-1"
grep -q '"identity":"cn=fleet-enroller".*"call":"C_GenerateKeyPair".*"object_label":"device-1".*"result":"CKR_OK"' "$A" ||
	die "no audit record of fleet-enroller's key generation"
grep -q '"identity":"cn=fleet-enroller".*"call":"C_CreateObject".*"result":"CKR_OK"' "$A" ||
	die "no audit record of fleet-enroller's import"
grep -q "\"identity\":\"uid=$uid gid=[0-9]*\",\"transport\":\"unix\".*\"call\":\"C_SignInit\".*\"result\":\"CKR_OK\"" "$A" ||
	die "no audit record of the local peer's signature"
grep -q '"call":"C_Login".*"result":"CKR_OK"' "$A" || die "logins are not audited"
! grep -q -- "$TEST_USER_PIN" "$A" || die "the audit log contains the PIN"
! grep -q "$(printf '%s' "$TEST_USER_PIN" | od -An -tx1 | tr -d ' \n')" "$A" ||
	die "the audit log contains the PIN in hex"
log "audit log: $(wc -l <"$A") lines, every refusal and key use recorded, no PIN"
server_stop srv
