#!/usr/bin/env bash
# `teehsm enroll` (issue 6) against a real teehsmd: a device key enrolled with a two-level test
# PKI (root stored as trusted with the SO PIN, leaf issued by an intermediate through a --ca-cmd
# that reads the CSR on stdin), verified, listed; enrolling again changes nothing; --renew
# replaces key and certificate; the enrolled key authenticates a TLS 1.3 client (OpenSSL's
# pkcs11 engine, the URI enroll printed) to an openssl s_server that checks the chain. Chain
# failures are reported with exit 3 and the reason in words (expired, wrong intermediate,
# untrusted root, key mismatch); imports of foreign leaves are refused; a failing CA command,
# an empty or foreign answer and a failed verification leave no key pair behind, and a failed
# --renew leaves the old identity as it was.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integ/ca/cli.sh
. "$TEEHSM_SRC/tests/integ/ca/cli.sh"

ENGINE=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so
[ -e "$ENGINE" ] || openssl engine pkcs11 >/dev/null 2>&1 ||
	die "the OpenSSL pkcs11 engine is not installed (apt-get install libengine-pkcs11-openssl)"

server_conf srv
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv
C="$T/client.conf"

printf '%s\n' "$TEST_USER_PIN" >"$T/user-pin"
printf '%s\n' "$TEST_SO_PIN" >"$T/so-pin"
printf '%s' "$TEST_USER_PIN" >"$T/engine-pin" # libp11 reads the whole file: no newline
chmod 600 "$T/user-pin" "$T/so-pin" "$T/engine-pin"
P=(--pin-file "$T/user-pin")
SO=(--so-pin-file "$T/so-pin")
SUBJ=(--subject '/CN=device-1/O=Fleet' --san dns:device-1.example)

# The fleet's PKI: root → "Fleet Issuing CA". Another root with an intermediate of the same
# name, for the wrong-intermediate cases.
mkca root "$T/root" "Fleet Root CA"
mkca sub "$T/int" "Fleet Issuing CA" "$T/root"
mkca root "$T/root2" "Other Root CA"
mkca sub "$T/int2" "Fleet Issuing CA" "$T/root2"
ROOT="$T/root/root.pem"

# objects: pkcs11-tool's listing of the token's objects (logged in), parsed, in $T/objects.
objects() {
	p11tool "$C" --login --pin "$TEST_USER_PIN" -O >"$T/objects.raw" 2>&1 ||
		{ cat "$T/objects.raw" >&2; die "pkcs11-tool -O failed"; }
	p11_list_parse "$T/objects.raw" >"$T/objects"
}
# no_objects LABEL WHAT: the token holds nothing labelled LABEL or LABEL.renew.
no_objects() {
	objects
	if awk -F'|' -v l="$1" '$2 == l || $2 == l ".renew" { found = 1 } END { exit !found }' "$T/objects"; then
		cat "$T/objects.raw" >&2
		die "$2: objects labelled $1 are left on the token"
	fi
}
# one_identity LABEL: exactly one private key, one public key and one certificate labelled
# LABEL, all with the same CKA_ID, and nothing labelled LABEL.renew; sets ID.
one_identity() {
	objects
	local k
	for k in privkey pubkey cert; do
		[ "$(p11_count "$T/objects" "$k" "$1")" = 1 ] ||
			{ cat "$T/objects.raw" >&2; die "the token does not hold exactly one $k labelled $1"; }
		[ "$(p11_count "$T/objects" "$k" "$1.renew")" = 0 ] ||
			{ cat "$T/objects.raw" >&2; die "a $k labelled $1.renew is left on the token"; }
	done
	ID="$(p11_id "$T/objects" privkey "$1")"
	[ "$(p11_id "$T/objects" pubkey "$1")" = "$ID" ] && [ "$(p11_id "$T/objects" cert "$1")" = "$ID" ] ||
		{ cat "$T/objects.raw" >&2; die "the key pair and certificate labelled $1 have different ids"; }
}
# export_leaf LABEL FILE: cert export LABEL --out FILE.
export_leaf() {
	run "export.$1" cert export "$1" --out "$2" "${P[@]}"
	expect 0 "cert export $1"
}

# A CA command that also records its environment and the request, and says so on stderr.
cat >"$T/ca-env.sh" <<EOF
#!/bin/sh
printf '%s\n%s\n' "\$TEEHSM_ENROLL_LABEL" "\$TEEHSM_ENROLL_SUBJECT" >"$T/ca-env.txt"
echo "ca-cmd: issuing a certificate for \$TEEHSM_ENROLL_LABEL" >&2
exec $(ca_cmd "$T/int" --save "$T/enroll.csr")
EOF
chmod +x "$T/ca-env.sh"

# --- 1. enroll ---------------------------------------------------------------------------------
run enroll enroll --label dev1 "${SUBJ[@]}" --ca-cmd "$T/ca-env.sh" --root "$ROOT" "${P[@]}" "${SO[@]}"
expect 0 "enroll dev1"
err_has '^ca-cmd: issuing a certificate for dev1$' "the CA command's stderr passes through"
out_has 'device-1' "enroll prints the enrolled subject"
uri="$(grep -aoE 'pkcs11:[^[:space:]]+' "$(out_file enroll)" | head -n1)"
[[ "$uri" == *"token=$TEST_TOKEN_LABEL"* && "$uri" == *";object=dev1"* && "$uri" == *";type=private"* &&
	"$uri" == *";id=%"* ]] || { show; die "enroll printed no URI of dev1's private key ('$uri')"; }
[ "$(sed -n 1p "$T/ca-env.txt")" = dev1 ] || die "the CA command did not get TEEHSM_ENROLL_LABEL=dev1"
grep -q 'device-1' <(sed -n 2p "$T/ca-env.txt") || die "the CA command did not get TEEHSM_ENROLL_SUBJECT"
openssl req -verify -in "$T/enroll.csr" -noout 2>&1 | grep -q 'verify OK' ||
	die "the CSR enroll gave the CA command does not verify"
openssl req -in "$T/enroll.csr" -noout -text >"$T/enroll.csr.txt"
grep -q 'Subject: CN *= *device-1, O *= *Fleet' "$T/enroll.csr.txt" && grep -q 'DNS:device-1.example' "$T/enroll.csr.txt" ||
	{ cat "$T/enroll.csr.txt" >&2; die "the CSR does not carry the subject and SAN asked for"; }
grep -q 'ecdsa-with-SHA256' "$T/enroll.csr.txt" || die "the default key type is not ec-p256"
export_leaf dev1 "$T/dev1.pem"
serial="$(openssl x509 -in "$T/dev1.pem" -noout -serial | cut -d= -f2)"
tr -d ':' <"$(out_file enroll)" | grep -qi -- "${serial#0}" || { show enroll; die "enroll does not print the serial $serial"; }
LAST=enroll # back to enroll's output
out_has "$(openssl x509 -in "$T/dev1.pem" -noout -enddate | grep -oE '20[0-9]{2}')" "enroll prints notAfter"
openssl x509 -in "$T/dev1.pem" -noout -ext subjectAltName | grep -q 'DNS:device-1.example' ||
	die "the enrolled certificate has no SAN"
one_identity dev1
[ "$ID" = "$(spki_sha1 "$T/dev1.pem" cert)" ] || die "dev1's CKA_ID is not the SHA-1 of its SPKI"
[[ "${uri,,}" == *";id=$(printf '%s' "$ID" | sed 's/../%&/g')"* ]] || die "the URI's id is not dev1's CKA_ID $ID"
# chain_once: the intermediate and the root are stored once each, labelled by their CN, with the
# SHA-1 of their SPKI as CKA_ID.
chain_once() {
	[ "$(p11_count "$T/objects" cert "Fleet Issuing CA")" = 1 ] && [ "$(p11_count "$T/objects" cert "Fleet Root CA")" = 1 ] ||
		{ cat "$T/objects.raw" >&2; die "the chain is not stored once each, labelled by CN"; }
	[ "$(p11_id "$T/objects" cert "Fleet Issuing CA")" = "$(spki_sha1 "$T/int/ca.pem" cert)" ] &&
		[ "$(p11_id "$T/objects" cert "Fleet Root CA")" = "$(spki_sha1 "$ROOT" cert)" ] ||
		{ cat "$T/objects.raw" >&2; die "the chain certificates' CKA_ID is not the SHA-1 of their SPKI"; }
}
chain_once
DEV1_ID=$ID

run verify.dev1 cert verify dev1 "${P[@]}"
expect 0 "cert verify dev1"
out_has '^dev1: OK: CN ?= ?device-1.* <- CN ?= ?Fleet Issuing CA.* <- CN ?= ?Fleet Root CA.*\(trusted\)$' \
	"cert verify dev1 prints the chain"

run list list "${P[@]}"
expect 0 "list"
grep -F dev1 "$(out_file list)" | grep -F 'key pair' | grep -qF ec-p256 || { show; die "list: no ec-p256 key pair dev1"; }
grep -F dev1 "$(out_file list)" | grep -F 'certificate' | grep -qF device-1 || { show; die "list: no certificate dev1"; }
grep -F 'Fleet Root CA' "$(out_file list)" | grep -q 'trusted CA' || { show; die "list: the root is not a trusted CA"; }
grep -F 'Fleet Issuing CA' "$(out_file list)" | grep -qv 'trusted' || { show; die "list: no (untrusted) CA line for the intermediate"; }

# CKA_TRUSTED and CKA_CERTIFICATE_CATEGORY as another PKCS#11 application (GnuTLS) reads them:
# the root a trusted authority, the intermediate an authority only, the leaf neither.
if command -v p11tool >/dev/null; then
	env TEEHSM_CONF="$C" GNUTLS_PIN="$TEST_USER_PIN" "${TOOL_ENV[@]}" timeout "$CMD_TIMEOUT" \
		p11tool --provider "$MODULE" --login --list-all-certs "pkcs11:token=$TEST_TOKEN_LABEL" \
		>"$T/gnutls.out" 2>&1 || { cat "$T/gnutls.out" >&2; die "GnuTLS p11tool --list-all-certs failed"; }
	# gnutls_flags LABEL: the Flags line of the certificate labelled LABEL ("" when it has none).
	gnutls_flags() {
		awk -v l="$1" '/^Object [0-9]+:/ { lab = ""; fl = "" } /^\tLabel: / { sub(/^\tLabel: /, ""); lab = $0 }
			/^\tFlags: / { fl = $0 } /^\tID: / && lab == l { print fl " |"; exit }' "$T/gnutls.out"
	}
	f="$(gnutls_flags "Fleet Root CA")"
	[[ "$f" == *"CKA_CERTIFICATE_CATEGORY=CA"* && "$f" == *CKA_TRUSTED* ]] ||
		{ cat "$T/gnutls.out" >&2; die "the root is not an authority with CKA_TRUSTED ('$f')"; }
	f="$(gnutls_flags "Fleet Issuing CA")"
	[[ "$f" == *"CKA_CERTIFICATE_CATEGORY=CA"* && "$f" != *CKA_TRUSTED* ]] ||
		{ cat "$T/gnutls.out" >&2; die "the intermediate is not an (untrusted) authority ('$f')"; }
	f="$(gnutls_flags dev1)"
	[[ "$f" == " |" || ("$f" != *"CATEGORY=CA"* && "$f" != *TRUSTED*) ]] && [ -n "$f" ] ||
		{ cat "$T/gnutls.out" >&2; die "the leaf dev1 is missing or marked as an authority ('$f')"; }
	log "GnuTLS sees the root trusted, the intermediate an authority, the leaf neither"
else
	log "p11tool (gnutls-bin) is not installed: CKA_TRUSTED not checked by another application"
fi

# --- 2. enrolling again changes nothing ------------------------------------------------------------
sort "$T/objects" >"$T/objects.before"
rm -f "$T/ca-env.txt"
run enroll.again enroll --label dev1 "${SUBJ[@]}" --ca-cmd "$T/ca-env.sh" --root "$ROOT" "${P[@]}" "${SO[@]}"
expect 0 "enroll dev1 a second time"
out_has '^dev1: already enrolled as .*device-1.*serial.*valid until' "enroll again says already enrolled"
[ ! -e "$T/ca-env.txt" ] || die "enroll of an enrolled label ran the CA command"
objects
sort "$T/objects" | diff "$T/objects.before" - >&2 || die "enroll of an enrolled label changed the token"

# --- 3. TLS client authentication with the key in the token ---------------------------------------
# A server certificate from the same root, for 127.0.0.1.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/srv.key" \
	-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -out "$T/srv.csr" 2>/dev/null
issue "$T/root" "$T/srv.csr" "$T/srv.pem" --leaf-only
S_PID=""
# On exit, s_server (if running) goes too, then lib.sh's cleanup runs with the test's status in
# $? (set +e first: under errexit, `(exit 1)` would end the trap before the servers are stopped).
# shellcheck disable=SC2154 # rc_ is set by the trap itself
trap 'rc_=$?; set +e; [ -z "$S_PID" ] || { kill "$S_PID"; wait "$S_PID"; } 2>/dev/null; (exit $rc_); _lib_cleanup' EXIT

# s_server_start ARGS...: openssl s_server ARGS, TLS 1.3, one connection, on a free port of
# 127.0.0.1 (in $port) with the token's client configuration and engine environment, its
# standard input a FIFO that never ends (s_server stops at EOF on it); returns once it accepts.
s_server_start() {
	local i
	port=$(free_port)
	rm -f "$T/s_server.in"
	mkfifo "$T/s_server.in"
	exec 7<>"$T/s_server.in"
	env TEEHSM_CONF="$C" PKCS11_MODULE_PATH="$MODULE" "${TOOL_ENV[@]}" timeout 60 \
		openssl s_server -accept "127.0.0.1:$port" -tls1_3 -naccept 1 "$@" <&7 >"$T/s_server.out" 2>&1 &
	S_PID=$!
	for ((i = 0; i < 150; i++)); do
		grep -q '^ACCEPT' "$T/s_server.out" && break
		_pid_alive "$S_PID" || { cat "$T/s_server.out" >&2; die "openssl s_server exited"; }
		sleep 0.1
	done
	grep -q '^ACCEPT' "$T/s_server.out" || die "openssl s_server does not accept on port $port"
}
# s_server_finish LINE: wait (10 s at most) for s_server to have received LINE, then for it to
# exit; the caller checks what it received.
s_server_finish() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qxF "$1" "$T/s_server.out" && break
		sleep 0.1
	done
	_wait_exit "$S_PID" 10 || kill "$S_PID" 2>/dev/null || true
	wait "$S_PID" 2>/dev/null || true
	S_PID=""
	exec 7>&-
}

# tls_client_auth LABEL URI: openssl s_client authenticates with the token's key (URI) and the
# exported certificate and chain; s_server (-Verify, -verify_return_error) must have verified
# the client's certificate to the root and received the line the client sent.
tls_client_auth() {
	local L=$1 uri=$2 port line="hello from $1 $RANDOM$RANDOM"
	run "tls.chain.$L" cert export "$L" --chain --out "$T/tls.chain.pem" "${P[@]}"
	expect 0 "cert export $L --chain"
	export_leaf "$L" "$T/tls.leaf.pem"
	[ "$(count_certs "$T/tls.chain.pem")" = 3 ] || die "cert export $L --chain did not give leaf, intermediate, root"
	[ "$(nth_cert "$T/tls.chain.pem" 1 | cert_der /dev/stdin)" = "$(cert_der "$T/tls.leaf.pem")" ] ||
		die "cert export --chain does not start with the leaf"
	[ "$(nth_cert "$T/tls.chain.pem" 2 | cert_der /dev/stdin)" = "$(cert_der "$T/int/ca.pem")" ] ||
		die "cert export --chain: the second certificate is not the leaf's issuer"
	[ "$(nth_cert "$T/tls.chain.pem" 3 | cert_der /dev/stdin)" = "$(cert_der "$ROOT")" ] ||
		die "cert export --chain: the third certificate is not the root"
	run "tls.issuers.$L" cert export "$L" --issuers --out "$T/tls.issuers.pem" "${P[@]}"
	expect 0 "cert export $L --issuers"
	[ "$(count_certs "$T/tls.issuers.pem")" = 2 ] &&
		[ "$(nth_cert "$T/tls.issuers.pem" 1 | cert_der /dev/stdin)" = "$(cert_der "$T/int/ca.pem")" ] &&
		[ "$(nth_cert "$T/tls.issuers.pem" 2 | cert_der /dev/stdin)" = "$(cert_der "$ROOT")" ] ||
		die "cert export $L --issuers did not give the intermediate, then the root"

	s_server_start -Verify 1 -verify_return_error -CAfile "$ROOT" -cert "$T/srv.pem" -key "$T/srv.key"
	log "openssl s_client -engine pkcs11 -key '$uri' (to s_server on port $port)"
	echo "$line" | env TEEHSM_CONF="$C" PKCS11_MODULE_PATH="$MODULE" "${TOOL_ENV[@]}" \
		timeout "$CMD_TIMEOUT" openssl s_client -connect "127.0.0.1:$port" -tls1_3 \
		-engine pkcs11 -keyform engine -key "$uri;pin-source=file:$T/engine-pin" \
		-cert "$T/tls.leaf.pem" -cert_chain "$T/tls.issuers.pem" -CAfile "$ROOT" \
		-verify_return_error >"$T/s_client.out" 2>&1 ||
		{ cat "$T/s_client.out" "$T/s_server.out" >&2; die "openssl s_client with the token's key $L failed"; }
	s_server_finish "$line"
	grep -qxF "$line" "$T/s_server.out" ||
		{ cat "$T/s_client.out" "$T/s_server.out" >&2; die "s_server did not receive the client's line"; }
	grep -qx 'depth=0 CN = device-1, O = Fleet' "$T/s_server.out" &&
		grep -qx 'subject=CN = device-1, O = Fleet' "$T/s_server.out" &&
		! grep -q 'verify error' "$T/s_server.out" ||
		{ cat "$T/s_server.out" >&2; die "s_server did not verify the client certificate of $L"; }
	awk '/^Client certificate$/ { on = 1; next } on { print } /^-----END CERTIFICATE-----$/ && on { exit }' \
		"$T/s_server.out" >"$T/s_server.client.pem"
	[ "$(cert_der "$T/s_server.client.pem")" = "$(cert_der "$T/tls.leaf.pem")" ] ||
		die "the client certificate s_server saw is not $L's"
	grep -q 'Verify return code: 0 (ok)' "$T/s_client.out" || die "s_client did not verify the server"
	log "TLS 1.3 client authentication with $L's key in the token: OK"
}
tls_client_auth dev1 "$uri"

# --- 3b. A device's TLS server identity from an enrollment ----------------------------------------
# The README's "fleet device" recipe: enroll with the device's names as SANs, then a TLS server on
# the device (here openssl s_server) serves with the token's key through the pkcs11 engine, and a
# client that trusts only the fleet root verifies the chain and the device's name and IP.
run enroll.srv enroll --label tls-server --subject '/CN=device-1.fleet.test/O=Fleet' \
	--san dns:device-1.fleet.test --san ip:127.0.0.1 --ca-cmd "$(ca_cmd "$T/int")" "${P[@]}"
expect 0 "enroll tls-server"
suri="$(grep -aoE 'pkcs11:[^[:space:]]+' "$(out_file enroll.srv)" | head -n1)"
[ -n "$suri" ] || { show; die "enroll tls-server printed no URI"; }
export_leaf tls-server "$T/srv.leaf.pem"
run issuers.srv cert export tls-server --issuers --out "$T/srv.issuers.pem" "${P[@]}"
expect 0 "cert export tls-server --issuers"
run issuers.der cert export tls-server --issuers --der --out "$T/srv.issuers.der" "${P[@]}"
expect 2 "cert export --issuers --der"
err_has 'not with --issuers' "the refusal names --issuers"
openssl x509 -in "$T/srv.leaf.pem" -noout -ext extendedKeyUsage | grep -q 'TLS Web Server Authentication' ||
	die "the CA command issued tls-server no serverAuth EKU"
log "openssl s_server -engine pkcs11 -key '$suri'"
s_server_start -engine pkcs11 -keyform engine -key "$suri;pin-source=file:$T/engine-pin" \
	-cert "$T/srv.leaf.pem" -cert_chain "$T/srv.issuers.pem"
line="hello device $RANDOM$RANDOM"
echo "$line" | timeout "$CMD_TIMEOUT" openssl s_client -connect "127.0.0.1:$port" -tls1_3 \
	-CAfile "$ROOT" -verify_hostname device-1.fleet.test -verify_ip 127.0.0.1 -verify_return_error \
	>"$T/s_client.srv.out" 2>&1 ||
	{ cat "$T/s_client.srv.out" "$T/s_server.out" >&2; die "s_client refused the device's enrolled server identity"; }
s_server_finish "$line"
grep -q 'Verify return code: 0 (ok)' "$T/s_client.srv.out" ||
	{ cat "$T/s_client.srv.out" >&2; die "s_client did not verify the device's chain and name"; }
grep -q 'depth=2 CN *= *Fleet Root CA' "$T/s_client.srv.out" &&
	grep -q 'depth=0 CN *= *device-1.fleet.test' "$T/s_client.srv.out" ||
	{ cat "$T/s_client.srv.out" >&2; die "s_client did not see leaf, intermediate and root"; }
grep -qxF "$line" "$T/s_server.out" || { cat "$T/s_server.out" >&2; die "s_server did not receive the line"; }
awk '/^Server certificate$/ { on = 1; next } on { print } /^-----END CERTIFICATE-----$/ && on { exit }' \
	"$T/s_client.srv.out" >"$T/s_client.server.pem"
[ "$(cert_der "$T/s_client.server.pem")" = "$(cert_der "$T/srv.leaf.pem")" ] ||
	die "the server certificate s_client saw is not the enrolled one"
# The same server identity with a name it does not carry is refused by the client.
! openssl verify -CAfile "$ROOT" -untrusted "$T/srv.issuers.pem" -purpose sslserver \
	-verify_hostname other.fleet.test "$T/srv.leaf.pem" >/dev/null 2>&1 ||
	die "the enrolled server certificate verifies for a name it does not carry"
log "TLS 1.3 server authentication with the enrolled key in the token: OK"

# --- 3c. The README's fleet CA script and profile, word for word ----------------------------------
# README.md "Enrolling a fleet device": the fleet-ca-sign script and device.ext, extracted from the
# README (so the two cannot drift apart), with /etc/fleet-ca pointing at the test's intermediate.
awk '/^```sh$/ { getline l; if (l == "#!/bin/sh -e") { on = 1; print l; next } }
	on && /^```$/ { exit } on' "$TEEHSM_SRC/README.md" >"$T/fleet-ca-sign.readme"
mkdir -p "$T/fleet-ca"
awk 'index($0, "`/etc/fleet-ca/device.ext`:") { want = 1; next }
	want && /^```$/ { if (on) exit; on = 1; next } on' "$TEEHSM_SRC/README.md" >"$T/fleet-ca/device.ext"
grep -q 'openssl x509 -req' "$T/fleet-ca-sign.readme" && grep -q 'extendedKeyUsage' "$T/fleet-ca/device.ext" ||
	die "README.md has no fleet-ca-sign script and device.ext profile"
cp "$T/int/ca.pem" "$T/fleet-ca/issuing.pem"
cp "$T/int/ca.key" "$T/fleet-ca/issuing.key"
sed "s|/etc/fleet-ca|$T/fleet-ca|g" "$T/fleet-ca-sign.readme" >"$T/fleet-ca-sign"
chmod +x "$T/fleet-ca-sign"
run enroll.readme enroll --label device-identity --subject '/CN=device-0042.fleet.example/O=Fleet' \
	--san dns:device-0042.fleet.example --ca-cmd "$T/fleet-ca-sign" "${P[@]}"
expect 0 "enroll with the README's fleet-ca-sign"
run verify.readme cert verify device-identity "${P[@]}"
expect 0 "cert verify of the identity the README's CA script issued"
export_leaf device-identity "$T/readme-dev.pem"
openssl x509 -in "$T/readme-dev.pem" -noout -text >"$T/readme-dev.txt"
grep -q 'DNS:device-0042.fleet.example' "$T/readme-dev.txt" &&
	grep -q 'TLS Web Server Authentication, TLS Web Client Authentication' "$T/readme-dev.txt" &&
	[ "$(grep -c 'X509v3 Basic Constraints' "$T/readme-dev.txt")" = 1 ] ||
	{ cat "$T/readme-dev.txt" >&2; die "the README's CA script issued no SAN, no serverAuth+clientAuth, or twice the same extension"; }
openssl verify -CAfile "$ROOT" -untrusted "$T/int/ca.pem" -purpose sslserver \
	-verify_hostname device-0042.fleet.example "$T/readme-dev.pem" >/dev/null ||
	die "the README's device certificate does not verify as a TLS server for its name"
log "the README's fleet-ca-sign and device.ext enroll a device that verifies"

# --- 4. --renew ------------------------------------------------------------------------------------
# Objects that carry the label but are not the identity (a secret key, a data object) are not
# enroll's: the renewal leaves them.
p11tool "$C" --login --pin "$TEST_USER_PIN" --keygen --key-type AES:32 --label dev1 >"$T/aes.out" 2>&1 ||
	{ cat "$T/aes.out" >&2; die "pkcs11-tool could not make a secret key labelled dev1"; }
echo "fleet notes" >"$T/notes.txt"
p11tool "$C" --login --pin "$TEST_USER_PIN" --write-object "$T/notes.txt" --type data --label dev1 \
	>"$T/data.out" 2>&1 || { cat "$T/data.out" >&2; die "pkcs11-tool could not write a data object labelled dev1"; }
cp "$T/dev1.pem" "$T/dev1.old.pem"
run enroll.renew enroll --label dev1 "${SUBJ[@]}" --ca-cmd "$(ca_cmd "$T/int")" --root "$ROOT" --renew "${P[@]}" "${SO[@]}"
expect 0 "enroll dev1 --renew"
uri="$(grep -aoE 'pkcs11:[^[:space:]]+' "$(out_file enroll.renew)" | head -n1)"
[[ "$uri" == *";object=dev1"* && "$uri" != *"dev1.renew"* ]] || { show; die "enroll --renew printed no URI of dev1 ('$uri')"; }
one_identity dev1
[ "$ID" != "$DEV1_ID" ] || die "enroll --renew kept the CKA_ID $ID: no new key"
export_leaf dev1 "$T/dev1.pem"
[ "$(spki_sha1 "$T/dev1.pem" cert)" = "$ID" ] || die "the renewed certificate is not for the renewed key"
[ "$(spki_sha1 "$T/dev1.pem" cert)" != "$(spki_sha1 "$T/dev1.old.pem" cert)" ] || die "--renew kept the public key"
! awk -F'|' -v i="$DEV1_ID" '$3 == i { found = 1 } END { exit !found }' "$T/objects" ||
	{ cat "$T/objects.raw" >&2; die "objects of the old key (id $DEV1_ID) are left after --renew"; }
grep -q '^Secret Key Object' "$T/objects.raw" && [ "$(p11_count "$T/objects" data dev1)" = 1 ] ||
	{ cat "$T/objects.raw" >&2; die "enroll --renew removed a secret key or data object labelled dev1"; }
run verify.renewed cert verify dev1 "${P[@]}"
expect 0 "cert verify dev1 after --renew"
out_has '^dev1: OK: ' "cert verify dev1 after --renew"
chain_once
tls_client_auth dev1 "$uri"
RENEWED_ID=$ID

# A --renew whose CA command fails leaves the identity as it was.
run enroll.renewfail enroll --label dev1 "${SUBJ[@]}" --ca-cmd 'echo "the CA is offline" >&2; exit 1' \
	--renew "${P[@]}"
expect 1 "enroll --renew with a failing CA command"
err_has 'the CA is offline' "the CA command's stderr passes through"
one_identity dev1
[ "$ID" = "$RENEWED_ID" ] || die "a failed --renew changed dev1"
run verify.afterfail cert verify dev1 "${P[@]}"
expect 0 "cert verify dev1 after a failed --renew"

# Importing another certificate for dev1's key: refused, dev1 stays.
run csr.dev1 csr --key dev1 --subject /CN=device-1-again --out "$T/dev1.again.csr" "${P[@]}"
expect 0 "csr --key dev1"
issue "$T/int" "$T/dev1.again.csr" "$T/dev1.again.pem" --leaf-only
run import.dup cert import "$T/dev1.again.pem" "${P[@]}"
expect 1 "cert import of a second certificate for dev1's key"
export_leaf dev1 "$T/dev1.now.pem"
[ "$(cert_der "$T/dev1.now.pem")" = "$(cert_der "$T/dev1.pem")" ] || die "a refused import replaced dev1's certificate"

# --- 4b. An interrupted renewal ------------------------------------------------------------------
# A renewal killed after the old identity went and before the new one took its label leaves a
# complete identity under L.renew and nothing under L: enroll finishes it, without the CA.
run enroll.ir1 enroll --label ir1.renew --subject /CN=ir1/O=Fleet --ca-cmd "$(ca_cmd "$T/int")" "${P[@]}"
expect 0 "enroll ir1.renew (the state an interrupted renewal leaves)"
rm -f "$T/ca-env.txt"
run enroll.ir1.resume enroll --label ir1 --subject /CN=ir1/O=Fleet --ca-cmd "$T/ca-env.sh" "${P[@]}"
expect 0 "enroll ir1 after an interrupted renewal"
out_has '^ir1: finished an interrupted renewal: enrolled as .*ir1' "enroll says it finished the renewal"
out_has '^pkcs11:.*;object=ir1;' "enroll prints the finished identity's URI"
[ ! -e "$T/ca-env.txt" ] || die "finishing an interrupted renewal ran the CA command"
one_identity ir1
run verify.ir1 cert verify ir1 "${P[@]}"
expect 0 "cert verify ir1 after the renewal was finished"
# A leftover under L.renew that is no identity (a key pair without its certificate) is removed
# by the next enrollment of L.
run keygen.ir2 keygen --type ec-p256 --label ir2.renew "${P[@]}"
expect 0 "keygen ir2.renew (a leftover)"
run enroll.ir2 enroll --label ir2 --subject /CN=ir2/O=Fleet --ca-cmd "$(ca_cmd "$T/int")" "${P[@]}"
expect 0 "enroll ir2 with a leftover ir2.renew key pair"
err_has "removing 2 object\\(s\\) labelled 'ir2.renew'" "enroll says it removes the leftover"
one_identity ir2

# --- 5. chain verification failures -------------------------------------------------------------
# keyed_leaf LABEL CA_DIR OUT [sign-with options]: keygen LABEL, csr, a certificate from CA_DIR.
keyed_leaf() {
	local L=$1 dir=$2 out=$3
	shift 3
	run "keygen.$L" keygen --type ec-p256 --label "$L" "${P[@]}"
	expect 0 "keygen $L"
	run "csr.$L" csr --key "$L" --subject "/CN=$L/O=Fleet" --out "$T/$L.csr" "${P[@]}"
	expect 0 "csr --key $L"
	issue "$dir" "$T/$L.csr" "$out" "$@"
}

# (a) An expired leaf.
keyed_leaf exp1 "$T/int" "$T/exp1.pem" --expired
run import.exp1 cert import "$T/exp1.pem" "${P[@]}"
expect 0 "cert import of an expired certificate"
run verify.exp1 cert verify exp1 "${P[@]}"
expect 3 "cert verify of an expired certificate"
any_has '^exp1: FAILED: .*expired' "cert verify says the certificate expired"
any_has '^exp1: FAILED: .*2020' "cert verify gives the expired certificate's notAfter"
any_has '^exp1: FAILED: .*exp1' "cert verify names the expired certificate"
# enroll of a label whose certificate does not verify: refused without --renew, fixed with it.
run enroll.exp1 enroll --label exp1 --subject /CN=exp1/O=Fleet --ca-cmd "$(ca_cmd "$T/int")" "${P[@]}"
expect 1 "enroll of a label whose certificate expired, without --renew"
err_has '--renew' "the refusal suggests --renew"
run enroll.exp1.renew enroll --label exp1 --subject /CN=exp1/O=Fleet --ca-cmd "$(ca_cmd "$T/int")" --renew "${P[@]}"
expect 0 "enroll --renew of a label whose certificate expired"
run verify.exp1.renewed cert verify exp1 "${P[@]}"
expect 0 "cert verify exp1 after --renew"
one_identity exp1
# enroll with a CA that issues expired certificates: exit 3, nothing left.
run enroll.exp2 enroll --label exp2 --subject /CN=exp2/O=Fleet --ca-cmd "$(ca_cmd "$T/int" --expired)" "${P[@]}"
expect 3 "enroll with a CA command that issues an expired certificate"
any_has 'expired' "enroll says why the new certificate does not verify"
no_objects exp2 "enroll whose certificate does not verify"

# (b) A leaf issued by another "Fleet Issuing CA" (under another root): alone, with its chain.
keyed_leaf wi1 "$T/int2" "$T/wi1.pem" --leaf-only
run import.wi1 cert import "$T/wi1.pem" "${P[@]}"
expect 0 "cert import of a leaf from the wrong intermediate"
run verify.wi1 cert verify wi1 "${P[@]}"
expect 3 "cert verify of a leaf from the wrong intermediate"
any_has '^wi1: FAILED: .*issuer' "cert verify says the issuer is wrong or missing"
keyed_leaf wi2 "$T/int2" "$T/wi2.pem" --with-root
run import.wi2 cert import "$T/wi2.pem" "${P[@]}"
expect 0 "cert import of a leaf with a chain to an untrusted root"
run verify.wi2 cert verify wi2 "${P[@]}"
expect 3 "cert verify of a chain to a root that is not trusted"
any_has '^wi2: FAILED: .*(issuer|trusted|self.signed)' "cert verify says the chain leads to no trusted root"
# enroll through the other intermediate: exit 3, nothing left.
run enroll.wi3 enroll --label wi3 --subject /CN=wi3/O=Fleet --ca-cmd "$(ca_cmd "$T/int2" --with-root)" "${P[@]}"
expect 3 "enroll with a CA command whose chain leads to an untrusted root"
no_objects wi3 "enroll whose chain does not verify"
# The other "Fleet Issuing CA" on the token does not disturb dev1's chain.
run verify.dev1.still cert verify dev1 "${P[@]}"
expect 0 "cert verify dev1 with a second 'Fleet Issuing CA' on the token"
run chain.dev1.still cert export dev1 --chain --out "$T/dev1.chain2.pem" "${P[@]}"
expect 0 "cert export dev1 --chain"
[ "$(nth_cert "$T/dev1.chain2.pem" 2 | cert_der /dev/stdin)" = "$(cert_der "$T/int/ca.pem")" ] ||
	die "cert export dev1 --chain picked the wrong 'Fleet Issuing CA'"

# (c) The certificate of another key stored under a key's label.
run keygen.km1 keygen --type ec-p256 --label km1 "${P[@]}"
expect 0 "keygen km1"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other.key" \
	-subj /CN=km1/O=Fleet -out "$T/other.csr" 2>/dev/null
issue "$T/int" "$T/other.csr" "$T/other.pem"
run import.other cert import "$T/other.pem" "${P[@]}"
expect 4 "cert import of a leaf that matches no key"
err_has 'no private key on the token matches this certificate.s public key' "the refusal says why"
err_has '--no-key' "the refusal suggests --no-key"
run import.nokey.nolabel cert import "$T/other.pem" --no-key "${P[@]}"
expect 2 "cert import --no-key without --label"
run import.nokey cert import "$T/other.pem" --no-key --label km1 "${P[@]}"
expect 0 "cert import --no-key --label km1"
run verify.km1 cert verify km1 "${P[@]}"
expect 3 "cert verify of a certificate whose key is not km1's"
any_has "^km1: FAILED: .*public key does not match private key km1" "cert verify says the key does not match"

# (d) A CA whose CN holds terminal control sequences: stored under its escaped name, and no
# control byte reaches the operator's terminal.
ESC=$(printf '\033')
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/evil.key" \
	-subj "/CN=Evil${ESC}]0;pwned$(printf '\a')${ESC}[2J" -days 2 -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign -out "$T/evil.pem" 2>"$T/evil.err" ||
	{ cat "$T/evil.err" >&2; die "openssl could not make a CA with control characters in its CN"; }
run keygen.ev1 keygen --type ec-p256 --label ev1 "${P[@]}"
expect 0 "keygen ev1"
run csr.ev1 csr --key ev1 --subject /CN=ev1 --out "$T/ev1.csr" "${P[@]}"
expect 0 "csr --key ev1"
openssl x509 -req -in "$T/ev1.csr" -CA "$T/evil.pem" -CAkey "$T/evil.key" -days 2 -set_serial 7 \
	-out "$T/ev1.pem" 2>/dev/null || die "openssl could not issue ev1"
run import.ev1 cert import "$T/ev1.pem" --chain "$T/evil.pem" "${P[@]}"
expect 0 "cert import with a CA whose CN holds control characters"
out_has 'stored CA certificate' "the CA certificate is stored"
if LC_ALL=C grep -q "[[:cntrl:]]" <(tr -d '\n\t' <"$(out_file import.ev1)"; tr -d '\n' <"$T/cli/import.ev1.err"); then
	od -c "$(out_file import.ev1)" >&2
	die "cert import printed control characters from a certificate"
fi
run list.ev1 list --certs "${P[@]}"
LC_ALL=C grep -F 'Evil\x1b' "$(out_file list.ev1)" >/dev/null ||
	{ show; die "list does not show the CA's CN escaped"; }
! LC_ALL=C grep -q "$ESC" "$(out_file list.ev1)" || die "list printed an escape character"

# --- 6. enrollments that fail leave nothing behind ------------------------------------------------
run enroll.cafail enroll --label cf1 --subject /CN=cf1/O=Fleet \
	--ca-cmd 'cat >/dev/null; echo "the CA is offline" >&2; exit 1' "${P[@]}"
expect 1 "enroll with a CA command that exits 1"
err_has 'the CA is offline' "the CA command's stderr passes through"
no_objects cf1 "enroll with a failing CA command"
run list.cafail list "${P[@]}"
out_lacks '\bcf1\b' "list after a failed enroll"
# A CA command that prints more certificates than a chain holds: refused, nothing kept.
cat >"$T/ca-many.sh" <<EOF
#!/bin/sh
$(ca_cmd "$T/int") --leaf-only
for i in \$(seq 17); do cat $(printf '%q' "$T/int/ca.pem"); done
EOF
chmod +x "$T/ca-many.sh"
run enroll.many enroll --label cf4 --subject /CN=cf4/O=Fleet --ca-cmd "$T/ca-many.sh" "${P[@]}"
expect 1 "enroll with a CA command that prints 18 certificates"
err_has 'at most 16 CA certificates' "the refusal says how many are taken"
no_objects cf4 "enroll with a CA command that prints too many certificates"
run enroll.empty enroll --label cf2 --subject /CN=cf2/O=Fleet --ca-cmd 'cat >/dev/null' "${P[@]}"
expect 1 "enroll with a CA command that prints no certificate"
no_objects cf2 "enroll with a CA command that prints nothing"
run enroll.foreign enroll --label cf3 --subject /CN=cf3/O=Fleet \
	--ca-cmd "cat >/dev/null; cat $(printf '%q' "$T/other.pem")" "${P[@]}"
expect 1 "enroll with a CA command that returns a certificate for another key"
no_objects cf3 "enroll with a CA command that answers with another key's certificate"
# --root that must be stored as trusted, with no SO PIN and no terminal: nothing is made.
rc=0
LAST=enroll.nosopin
env -u TEEHSM_SO_PIN TEEHSM_CONF="$C" timeout "$CMD_TIMEOUT" setsid -w "$TEEHSM_CLI" enroll \
	--label sp1 --subject /CN=sp1 --ca-cmd "$(ca_cmd "$T/int2" --with-root)" --root "$T/root2/root.pem" \
	"${P[@]}" </dev/null >"$T/cli/enroll.nosopin.out" 2>"$T/cli/enroll.nosopin.err" || rc=$?
log "teehsm enroll --root (untrusted) with no SO PIN -> exit $rc"
expect 1 "enroll --root with no SO PIN and no terminal"
no_objects sp1 "enroll --root without an SO PIN"
run list.end list "${P[@]}"
! grep -F 'Other Root CA' "$(out_file list.end)" | grep -q 'trusted' || { show; die "Other Root CA became trusted"; }

cli_no_secrets "$TEST_USER_PIN" "$TEST_SO_PIN"
assert_alive srv
server_stop srv
