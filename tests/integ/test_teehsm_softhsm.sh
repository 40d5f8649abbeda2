#!/usr/bin/env bash
# The teehsm command with another PKCS#11 module (issue 6): SoftHSMv2, a token in $T. The same
# enrollment as with teehsm's own token (enroll with a two-level test PKI and the root stored as
# trusted by the SO, cert verify, cert export --chain, enrolling again, --renew), an RSA
# identity, Ed25519 keygen, and signatures that plain openssl verifies. SoftHSM fills in nothing
# itself: the certificates must carry CKA_SUBJECT, CKA_ISSUER and CKA_SERIAL_NUMBER from their DER.
# The token is picked by label (SoftHSM always shows a second, uninitialised token) or by slot.
#
# Needs softhsm2 (tests/run.sh installs it): a test run as root installs it when missing; the
# test is skipped only when it is missing and cannot be installed.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so
have_softhsm() { [ -e "$SOFTHSM_MODULE" ] && command -v softhsm2-util >/dev/null; }
if ! have_softhsm && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	log "softhsm2 is not installed: installing it"
	export DEBIAN_FRONTEND=noninteractive
	timeout 300 apt-get install -y --no-install-recommends softhsm2 >"$T/apt.log" 2>&1 ||
		{ timeout 300 apt-get update >>"$T/apt.log" 2>&1 &&
			timeout 300 apt-get install -y --no-install-recommends softhsm2 >>"$T/apt.log" 2>&1; } ||
		true
fi
if ! have_softhsm; then
	log "SKIP: softhsm2 is not installed and cannot be installed here" \
		"(apt-get install softhsm2, as tests/run.sh does); nothing was tested"
	exit 0
fi

CLI_CONF=-
# shellcheck source=tests/integ/ca/cli.sh
. "$TEEHSM_SRC/tests/integ/ca/cli.sh"

# SoftHSM is not built with ASan: in an ASan build, teehsm (an ASan program) dlopen()s it as it
# is. SoftHSM 2.6.1 leaks by itself (C_SignInit with an Ed25519 key leaves the ASN.1 string it
# decoded the key from): leaks allocated through libsofthsm2.so, and only those, are suppressed;
# leaks in teehsm's own code still fail the test. The suppression matches on the stack, so
# stacks are unwound in full (the fast unwinder stops inside libcrypto, above SoftHSM's frames).
if [ "$TEEHSM_SANITIZE" = 1 ]; then
	printf '%s\n' "# SoftHSMv2's own leaks (an uninstrumented library dlopen()ed by teehsm)" \
		"leak:libsofthsm2.so" >"$T/softhsm-lsan.supp"
	export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$T/softhsm-lsan.supp:print_suppressions=0"
	export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
fi

SO_PIN="fleet-so-pin-5678"
USER_PIN="fleet-user-pin-1234"
export SOFTHSM2_CONF="$T/softhsm2.conf"
mkdir -p "$T/tokens"
printf '%s\n' "directories.tokendir = $T/tokens" "objectstore.backend = file" "log.level = ERROR" \
	"slots.removable = false" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label fleet --so-pin "$SO_PIN" --pin "$USER_PIN" >"$T/init.out" 2>&1 ||
	{ cat "$T/init.out" >&2; die "softhsm2-util --init-token failed"; }
SLOT="$(softhsm2-util --show-slots | awk '/^Slot [0-9]+$/ { slot = $2 } /Label: *fleet *$/ { print slot; exit }')"
[ -n "$SLOT" ] || die "softhsm2-util shows no slot with the token 'fleet'"
log "SoftHSM token 'fleet' in slot $SLOT ($T/tokens)"

printf '%s\n' "$USER_PIN" >"$T/user-pin"
printf '%s\n' "$SO_PIN" >"$T/so-pin"
chmod 600 "$T/user-pin" "$T/so-pin"
M=(--module "$SOFTHSM_MODULE" --token fleet)
P=(--pin-file "$T/user-pin")

# shtool ARGS...: pkcs11-tool on SoftHSM's token 'fleet'.
shtool() {
	timeout "$CMD_TIMEOUT" pkcs11-tool --module "$SOFTHSM_MODULE" --token-label fleet "$@"
}
objects() {
	shtool --login --pin "$USER_PIN" -O >"$T/objects.raw" 2>&1 ||
		{ cat "$T/objects.raw" >&2; die "pkcs11-tool -O on SoftHSM failed"; }
	p11_list_parse "$T/objects.raw" >"$T/objects"
}

mkca root "$T/root" "Fleet Root CA"
mkca sub "$T/int" "Fleet Issuing CA" "$T/root"
ROOT="$T/root/root.pem"
echo "firmware image 4.2, $(date)" >"$T/data"
cp "$T/data" "$T/tampered"
echo "with a backdoor" >>"$T/tampered"

# --- The module and token ------------------------------------------------------------------------
run info "${M[@]}" info
expect 0 "teehsm --module libsofthsm2.so --token fleet info"
out_has 'SoftHSM' "info names the module"
out_has 'fleet' "info names the token"
run info.slot --module "$SOFTHSM_MODULE" --slot "$SLOT" info
expect 0 "teehsm --slot $SLOT info"
out_has 'fleet' "the token in slot $SLOT is 'fleet'"

# --- enroll, verify, export, sign -----------------------------------------------------------------
run enroll "${M[@]}" enroll --label dev1 --subject '/CN=device-1/O=Fleet' --san dns:device-1.example \
	--ca-cmd "$(ca_cmd "$T/int")" --root "$ROOT" "${P[@]}" --so-pin-file "$T/so-pin"
expect 0 "enroll dev1 on SoftHSM"
out_has 'device-1' "enroll prints the subject"
out_has 'pkcs11:[^ ]*object=dev1' "enroll prints the key's URI"
run verify "${M[@]}" cert verify dev1 "${P[@]}"
expect 0 "cert verify dev1 on SoftHSM"
out_has '^dev1: OK: CN ?= ?device-1.* <- CN ?= ?Fleet Issuing CA.* <- CN ?= ?Fleet Root CA.*\(trusted\)$' \
	"cert verify prints the chain"
run export.chain "${M[@]}" cert export dev1 --chain --out "$T/chain.pem" "${P[@]}"
expect 0 "cert export dev1 --chain"
[ "$(count_certs "$T/chain.pem")" = 3 ] || die "cert export --chain did not give leaf, intermediate and root"
[ "$(nth_cert "$T/chain.pem" 2 | cert_der /dev/stdin)" = "$(cert_der "$T/int/ca.pem")" ] &&
	[ "$(nth_cert "$T/chain.pem" 3 | cert_der /dev/stdin)" = "$(cert_der "$ROOT")" ] ||
	die "cert export --chain is not leaf, intermediate, root"
run export.der "${M[@]}" cert export dev1 --der --out "$T/dev1.der" "${P[@]}"
expect 0 "cert export dev1 --der"
[ "$(cert_der "$T/dev1.der" DER)" = "$(nth_cert "$T/chain.pem" 1 | cert_der /dev/stdin)" ] ||
	die "cert export --der is not the chain's leaf"
openssl x509 -inform DER -in "$T/dev1.der" -out "$T/dev1.pem"
openssl verify -CAfile "$ROOT" -untrusted "$T/int/ca.pem" "$T/dev1.pem" >/dev/null ||
	die "openssl does not verify the enrolled certificate"
openssl x509 -in "$T/dev1.pem" -noout -pubkey >"$T/dev1.pub.pem"

# What SoftHSM holds: one key pair and its certificate under dev1 (same CKA_ID, the SPKI's
# SHA-1), the chain labelled by CN, and the certificate attributes SoftHSM does not derive.
objects
for k in privkey pubkey cert; do
	[ "$(p11_count "$T/objects" "$k" dev1)" = 1 ] || { cat "$T/objects.raw" >&2; die "SoftHSM does not hold one $k dev1"; }
	[ "$(p11_id "$T/objects" "$k" dev1)" = "$(spki_sha1 "$T/dev1.pem" cert)" ] ||
		{ cat "$T/objects.raw" >&2; die "the CKA_ID of $k dev1 is not the SHA-1 of the SPKI"; }
done
[ "$(p11_count "$T/objects" cert "Fleet Issuing CA")" = 1 ] && [ "$(p11_count "$T/objects" cert "Fleet Root CA")" = 1 ] ||
	{ cat "$T/objects.raw" >&2; die "the chain is not on SoftHSM, labelled by CN"; }
access="$(awk -F'|' '$1 == "privkey" && $2 == "dev1" { print $4 }' "$T/objects")"
[[ "$access" == *sensitive* && "$access" == *"never extractable"* && "${access//never extractable/}" != *extractable* ]] ||
	{ cat "$T/objects.raw" >&2; die "dev1's private key is not sensitive and never extractable ($access)"; }
# The certificate dev1's block of pkcs11-tool's listing.
awk 'function flush() { if (blk ~ /^Certificate Object/ && blk ~ /\n  label: *dev1\n/) printf "%s", blk; blk = "" }
	/Object;/ { flush() } { blk = blk $0 "\n" } END { flush() }' "$T/objects.raw" >"$T/dev1.obj"
grep -q 'subject: *DN: CN=device-1, O=Fleet' "$T/dev1.obj" ||
	{ cat "$T/objects.raw" >&2; die "the certificate on SoftHSM has no CKA_SUBJECT"; }
serial="$(openssl x509 -in "$T/dev1.pem" -noout -serial | cut -d= -f2)"
grep -qi "serial: *0*${serial#0}" "$T/dev1.obj" ||
	{ cat "$T/objects.raw" >&2; die "the certificate on SoftHSM has no CKA_SERIAL_NUMBER $serial"; }
shtool --read-object --type cert --label dev1 -o "$T/dev1.read.der" >/dev/null 2>&1 ||
	die "pkcs11-tool cannot read the certificate dev1"
cmp -s "$T/dev1.read.der" "$T/dev1.der" || die "CKA_VALUE of the certificate dev1 is not its DER"

run sign "${M[@]}" sign --key dev1 --in "$T/data" --out "$T/dev1.sig" "${P[@]}"
expect 0 "sign --key dev1 on SoftHSM"
openssl dgst -sha256 -verify "$T/dev1.pub.pem" -signature "$T/dev1.sig" "$T/data" >"$T/v.out" 2>&1 &&
	grep -qx 'Verified OK' "$T/v.out" || { cat "$T/v.out" >&2; die "openssl does not verify SoftHSM's ECDSA signature"; }
! openssl dgst -sha256 -verify "$T/dev1.pub.pem" -signature "$T/dev1.sig" "$T/tampered" >/dev/null 2>&1 ||
	die "openssl verifies the signature over a tampered file"
run verify.sig "${M[@]}" verify --key dev1 --in "$T/data" --sig "$T/dev1.sig" "${P[@]}"
expect 0 "teehsm verify on SoftHSM"
out_has '^Signature OK$' "verify says Signature OK"
run verify.tampered "${M[@]}" verify --key dev1 --in "$T/tampered" --sig "$T/dev1.sig" "${P[@]}"
expect 3 "teehsm verify of a tampered file on SoftHSM"

# Again: nothing changes. --renew: a new key, the old one gone.
old_id="$(p11_id "$T/objects" privkey dev1)"
run enroll.again "${M[@]}" enroll --label dev1 --subject '/CN=device-1/O=Fleet' --san dns:device-1.example \
	--ca-cmd "$(ca_cmd "$T/int")" --root "$ROOT" "${P[@]}" --so-pin-file "$T/so-pin"
expect 0 "enroll dev1 again on SoftHSM"
out_has '^dev1: already enrolled as ' "enroll again says already enrolled"
run enroll.renew "${M[@]}" enroll --label dev1 --subject '/CN=device-1/O=Fleet' --san dns:device-1.example \
	--ca-cmd "$(ca_cmd "$T/int")" --renew "${P[@]}"
expect 0 "enroll dev1 --renew on SoftHSM"
objects
for k in privkey pubkey cert; do
	[ "$(p11_count "$T/objects" "$k" dev1)" = 1 ] && [ "$(p11_count "$T/objects" "$k" dev1.renew)" = 0 ] ||
		{ cat "$T/objects.raw" >&2; die "after --renew, SoftHSM does not hold one $k dev1 (and no dev1.renew)"; }
done
[ "$(p11_id "$T/objects" privkey dev1)" != "$old_id" ] || die "--renew on SoftHSM kept the old key"
! grep -q "|$old_id|" "$T/objects" || { cat "$T/objects.raw" >&2; die "objects of the old key are left after --renew"; }
run verify.renewed "${M[@]}" cert verify dev1 "${P[@]}"
expect 0 "cert verify dev1 after --renew on SoftHSM"

# --- An RSA identity (PKCS#1 and PSS), Ed25519 --------------------------------------------------------
run enroll.rsa "${M[@]}" enroll --label dev2 --type rsa-2048 --subject /CN=device-2/O=Fleet \
	--ca-cmd "$(ca_cmd "$T/int")" "${P[@]}"
expect 0 "enroll --type rsa-2048 on SoftHSM"
run export.rsa "${M[@]}" cert export dev2 --out "$T/dev2.pem" "${P[@]}"
expect 0 "cert export dev2"
openssl x509 -in "$T/dev2.pem" -noout -pubkey >"$T/dev2.pub.pem"
run sign.rsa "${M[@]}" sign --key dev2 --in "$T/data" --out "$T/dev2.sig" "${P[@]}"
expect 0 "sign --key dev2 (RSA PKCS#1) on SoftHSM"
openssl dgst -sha256 -verify "$T/dev2.pub.pem" -signature "$T/dev2.sig" "$T/data" >/dev/null 2>&1 ||
	die "openssl does not verify SoftHSM's RSA PKCS#1 signature"
run sign.pss "${M[@]}" sign --key dev2 --in "$T/data" --out "$T/dev2.pss" --mech rsa-pss-sha256 "${P[@]}"
expect 0 "sign --key dev2 --mech rsa-pss-sha256 on SoftHSM"
openssl dgst -sha256 -verify "$T/dev2.pub.pem" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
	-signature "$T/dev2.pss" "$T/data" >/dev/null 2>&1 || die "openssl does not verify SoftHSM's PSS signature"
run keygen.ed "${M[@]}" keygen --type ed25519 --label ed1 --pubout "$T/ed1.pub.pem" "${P[@]}"
expect 0 "keygen --type ed25519 on SoftHSM"
out_has '^ed1: ed25519 key pair generated, id [0-9a-fA-F]{40}$' "keygen prints what it made"
run sign.ed "${M[@]}" sign --key ed1 --in "$T/data" --out "$T/ed1.sig" "${P[@]}"
expect 0 "sign --key ed1 (EdDSA) on SoftHSM"
openssl pkeyutl -verify -pubin -inkey "$T/ed1.pub.pem" -rawin -in "$T/data" -sigfile "$T/ed1.sig" >/dev/null 2>&1 ||
	die "openssl does not verify SoftHSM's Ed25519 signature"
run csr.ed "${M[@]}" csr --key ed1 --subject /CN=ed1 --out "$T/ed1.csr" "${P[@]}"
expect 0 "csr --key ed1 on SoftHSM"
openssl req -verify -in "$T/ed1.csr" -noout 2>&1 | grep -q 'verify OK' || die "the Ed25519 CSR does not verify"

# verify --key with a certificate that has no key on the token: SoftHSM does not fill
# CKA_PUBLIC_KEY_INFO, so the public key comes from the certificate's DER.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/peer.key" \
	-subj /CN=peer -out "$T/peer.csr" 2>/dev/null
issue "$T/int" "$T/peer.csr" "$T/peer.pem" --leaf-only
run import.peer "${M[@]}" cert import "$T/peer.pem" --no-key --label peer "${P[@]}"
expect 0 "cert import --no-key on SoftHSM"
openssl dgst -sha256 -sign "$T/peer.key" -out "$T/peer.sig" "$T/data"
run verify.peer "${M[@]}" verify --key peer --in "$T/data" --sig "$T/peer.sig" "${P[@]}"
expect 0 "verify --key peer (a certificate) on SoftHSM"
echo tampered >>"$T/data"
run verify.peer.bad "${M[@]}" verify --key peer --in "$T/data" --sig "$T/peer.sig" "${P[@]}"
expect 3 "verify --key peer of a changed file on SoftHSM"

run list "${M[@]}" list "${P[@]}"
expect 0 "list on SoftHSM"
for w in dev1 dev2 ed1 'Fleet Root CA' 'Fleet Issuing CA'; do
	out_has "$w" "list on SoftHSM shows $w"
done
grep -F 'Fleet Root CA' "$(out_file list)" | grep -q 'trusted CA' || { show; die "list: the root is not a trusted CA on SoftHSM"; }

cli_no_secrets "$USER_PIN" "$SO_PIN"
