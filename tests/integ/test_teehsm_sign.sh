#!/usr/bin/env bash
# The teehsm command (issue 6) against a real teehsmd: keygen of EC P-256, RSA-3072 and Ed25519
# keys (default CKA_ID = SHA-1 of the SPKI, the RFC 7512 URI, --pubout, --id, a duplicate label
# refused, the private key sensitive and never extractable); a CSR per key that
# `openssl req -verify` accepts, with the subject, SANs and signature algorithm asked for; a
# certificate from a test CA imported and exported; detached signatures (ECDSA, RSA PKCS#1 and
# PSS, Ed25519) that plain openssl verifies, `teehsm verify`, and tampered files refused by both;
# cert trust and cert verify; list and info; --help, usage errors, not found; PIN handling (file,
# environment, a wrong PIN, no PIN) and no PIN in any output.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integ/ca/cli.sh
. "$TEEHSM_SRC/tests/integ/ca/cli.sh"

server_conf srv "allow = cn:signer read,use"
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv
C="$T/client.conf"

# The user PIN's file ends in CR LF: the first line counts, without them.
printf '%s\r\n' "$TEST_USER_PIN" >"$T/user-pin"
printf '%s\n' "$TEST_SO_PIN" >"$T/so-pin"
printf '%s\n' "wrong-pin-9999" >"$T/wrong-pin"
chmod 600 "$T/user-pin" "$T/so-pin" "$T/wrong-pin"
P=(--pin-file "$T/user-pin")

# objects: pkcs11-tool's listing of the token's objects (logged in), parsed, in $T/objects.
objects() {
	p11tool "$C" --login --pin "$TEST_USER_PIN" -O >"$T/objects.raw" 2>&1 ||
		{ cat "$T/objects.raw" >&2; die "pkcs11-tool -O failed"; }
	p11_list_parse "$T/objects.raw" >"$T/objects"
}

mkca root "$T/ca-root" "Signing Root CA"
mkca sub "$T/ca-int" "Signing Issuing CA" "$T/ca-root"
echo "release 1.2.3 of something, $(date)" >"$T/data"
cp "$T/data" "$T/tampered"
echo "one more line" >>"$T/tampered"

# --- The module found without --module, info ---------------------------------------------------
run info info "${P[@]}"
expect 0 "teehsm info"
out_has "$TEST_TOKEN_LABEL" "info names the token"
out_has '[0-9]+ mechanisms|mechanisms[^0-9]*[0-9]+' "info counts the mechanisms"
out_has '[Ll]ogin required' "info gives the token's flags in words"

# --- keygen, csr, certificate, export, sign and verify, per key type ---------------------------
# label type CSR-signature-algorithm sign-mechanism(s)
for spec in "e1 ec-p256 ecdsa-with-SHA256" "r1 rsa-3072 sha256WithRSAEncryption" \
	"d1 ed25519 ED25519"; do
	read -r L type sigalg <<<"$spec"

	# keygen: the line, the id (SHA-1 of the public key's SPKI), the URI, --pubout.
	run "keygen.$L" keygen --type "$type" --label "$L" --pubout "$T/$L.pub.pem" "${P[@]}"
	expect 0 "keygen --type $type"
	out_has "^$L: $type key pair generated, id [0-9a-fA-F]{40}\$" "keygen prints what it made"
	id="$(sed -nE "s/^$L: $type key pair generated, id ([0-9a-fA-F]+)\$/\\1/p" "$(out_file "keygen.$L")" |
		tr 'A-F' 'a-f')"
	openssl pkey -pubin -in "$T/$L.pub.pem" -noout -text >"$T/$L.pub.txt" 2>&1 ||
		die "keygen --pubout $L did not write a PEM public key"
	case "$type" in
	ec-p256) grep -q 'prime256v1\|P-256' "$T/$L.pub.txt" || die "$L's public key is not on P-256" ;;
	rsa-3072) grep -q 'Public-Key: (3072 bit)' "$T/$L.pub.txt" || die "$L's public key is not RSA-3072" ;;
	ed25519) grep -q 'ED25519 Public-Key' "$T/$L.pub.txt" || die "$L's public key is not Ed25519" ;;
	esac
	[ "$id" = "$(spki_sha1 "$T/$L.pub.pem")" ] ||
		die "$L's id $id is not the SHA-1 of its SubjectPublicKeyInfo ($(spki_sha1 "$T/$L.pub.pem"))"
	uri="$(grep -aoE 'pkcs11:[^[:space:]]+' "$(out_file "keygen.$L")" | head -n1)"
	urid="$(printf '%s' "$id" | sed 's/../%&/g')"
	[[ "$uri" =~ ^pkcs11:(.*\;)?token=$TEST_TOKEN_LABEL(\;|$) ]] &&
		[[ "$uri" =~ \;object=$L(\;|$) ]] && [[ "$uri" =~ \;type=private(\;|$) ]] &&
		[[ "${uri,,}" =~ \;id=${urid}(\;|$) ]] || {
		show "keygen.$L"
		die "keygen's URI '$uri' is not pkcs11:token=$TEST_TOKEN_LABEL;object=$L;id=$urid;type=private"
	}
	objects
	[ "$(p11_count "$T/objects" privkey "$L")" = 1 ] && [ "$(p11_count "$T/objects" pubkey "$L")" = 1 ] ||
		{ cat "$T/objects.raw" >&2; die "the token does not hold one key pair labelled $L"; }
	[ "$(p11_id "$T/objects" privkey "$L")" = "$id" ] && [ "$(p11_id "$T/objects" pubkey "$L")" = "$id" ] ||
		{ cat "$T/objects.raw" >&2; die "the CKA_ID of $L's keys is not $id"; }
	access="$(awk -F'|' -v l="$L" '$1 == "privkey" && $2 == l { print $4 }' "$T/objects")"
	[[ "$access" == *sensitive* && "$access" == *"never extractable"* &&
		"${access//never extractable/}" != *extractable* ]] ||
		{ cat "$T/objects.raw" >&2; die "$L's private key is not sensitive and never extractable (Access: $access)"; }
	if [ "$type" != ed25519 ]; then
		# pkcs11-tool 0.23 reads EC and RSA public keys; its DER must be the --pubout key.
		p11tool "$C" --read-object --type pubkey --label "$L" -o "$T/$L.tokpub.der" >/dev/null 2>&1 ||
			die "pkcs11-tool cannot read $L's public key"
		[ "$(openssl pkey -pubin -inform DER -in "$T/$L.tokpub.der" -outform DER | sha1sum)" = \
			"$(openssl pkey -pubin -in "$T/$L.pub.pem" -outform DER | sha1sum)" ] ||
			die "keygen --pubout wrote a key that is not the token's public key $L"
	fi

	# csr: verifies, carries the subject, SANs, key and signature algorithm asked for.
	run "csr.$L" csr --key "$L" --subject "/CN=sign-$L/O=Teehsm Test" --san "dns:$L.example" \
		--san "uri:urn:teehsm:$L" --san ip:127.0.0.2 --out "$T/$L.csr.pem" "${P[@]}"
	expect 0 "csr --key $L"
	openssl req -verify -in "$T/$L.csr.pem" -noout >"$T/$L.csr.verify" 2>&1 || true
	grep -q 'verify OK' "$T/$L.csr.verify" ||
		{ cat "$T/$L.csr.verify" >&2; die "openssl req -verify does not accept the CSR of $L"; }
	openssl req -in "$T/$L.csr.pem" -noout -text >"$T/$L.csr.txt"
	grep -q "Signature Algorithm: $sigalg" "$T/$L.csr.txt" ||
		{ cat "$T/$L.csr.txt" >&2; die "the CSR of $L is not signed with $sigalg"; }
	grep -q "Subject: CN *= *sign-$L, O *= *Teehsm Test" "$T/$L.csr.txt" ||
		{ cat "$T/$L.csr.txt" >&2; die "the CSR of $L has the wrong subject"; }
	grep -q "DNS:$L.example, URI:urn:teehsm:$L, IP Address:127.0.0.2" "$T/$L.csr.txt" ||
		{ cat "$T/$L.csr.txt" >&2; die "the CSR of $L does not carry the SANs asked for"; }
	[ "$(spki_sha1 "$T/$L.csr.pem" req)" = "$id" ] || die "the CSR of $L carries another public key"

	# A certificate from the test CA, imported with its chain, exported as it was issued.
	# The three ways in: leaf and chain in one PEM file (e1), a PEM leaf with --chain PEM (r1),
	# a DER leaf with --chain DER (d1).
	issue "$T/ca-int" "$T/$L.csr.pem" "$T/$L.issued.pem"
	nth_cert "$T/$L.issued.pem" 1 >"$T/$L.leaf.pem"
	nth_cert "$T/$L.issued.pem" 2 >"$T/$L.int.pem"
	case "$L" in
	e1) imp=("$T/$L.issued.pem") ;;
	r1) imp=("$T/$L.leaf.pem" --chain "$T/$L.int.pem") ;;
	d1)
		openssl x509 -in "$T/$L.leaf.pem" -outform DER -out "$T/$L.leaf.der"
		openssl x509 -in "$T/$L.int.pem" -outform DER -out "$T/$L.int.der"
		imp=("$T/$L.leaf.der" --chain "$T/$L.int.der")
		;;
	esac
	run "import.$L" cert import "${imp[@]}" "${P[@]}"
	expect 0 "cert import ${imp[*]##*/}"
	out_has "$L" "cert import says what it stored"
	run "export.$L" cert export "$L" --out "$T/$L.cert.pem" "${P[@]}"
	expect 0 "cert export $L"
	[ "$(count_certs "$T/$L.cert.pem")" = 1 ] || die "cert export $L (without --chain) did not write one certificate"
	[ "$(cert_der "$T/$L.cert.pem")" = "$(nth_cert "$T/$L.issued.pem" 1 | cert_der /dev/stdin)" ] ||
		die "cert export $L gives another certificate than the one imported"
	openssl x509 -in "$T/$L.cert.pem" -pubkey -noout >"$T/$L.pub-from-cert.pem"
	[ "$(spki_sha1 "$T/$L.pub-from-cert.pem")" = "$id" ] || die "the certificate of $L has another key"
	objects
	[ "$(p11_count "$T/objects" cert "$L")" = 1 ] && [ "$(p11_id "$T/objects" cert "$L")" = "$id" ] ||
		{ cat "$T/objects.raw" >&2; die "the token has no certificate labelled $L with id $id"; }
	[ "$(p11_count "$T/objects" cert "Signing Issuing CA")" = 1 ] &&
		[ "$(p11_id "$T/objects" cert "Signing Issuing CA")" = "$(spki_sha1 "$T/ca-int/ca.pem" cert)" ] ||
		{ cat "$T/objects.raw" >&2; die "the intermediate is not on the token once, labelled by CN, id = SHA-1 of its SPKI"; }

	# Signatures, verified with the certificate's public key by plain openssl, then by teehsm.
	pub="$T/$L.pub-from-cert.pem"
	case "$type" in
	ec-p256)
		run "sign.$L" sign --key "$L" --in "$T/data" --out "$T/$L.sig" "${P[@]}"
		expect 0 "sign --key $L (ECDSA, the default)"
		openssl asn1parse -inform DER -in "$T/$L.sig" >"$T/$L.sig.asn1" 2>&1 &&
			[ "$(grep -c 'prim: INTEGER' "$T/$L.sig.asn1")" = 2 ] ||
			die "the ECDSA signature is not a DER ECDSA-Sig-Value"
		openssl dgst -sha256 -verify "$pub" -signature "$T/$L.sig" "$T/data" >"$T/v.out" 2>&1 &&
			grep -qx 'Verified OK' "$T/v.out" || { cat "$T/v.out" >&2; die "openssl does not verify $L's ECDSA signature"; }
		! openssl dgst -sha256 -verify "$pub" -signature "$T/$L.sig" "$T/tampered" >/dev/null 2>&1 ||
			die "openssl verifies $L's ECDSA signature over a tampered file"
		mech=()
		;;
	rsa-3072)
		# The default: PKCS#1 v1.5 with SHA-256.
		run "sign.$L.pkcs1" sign --key "$L" --in "$T/data" --out "$T/$L.pkcs1.sig" "${P[@]}"
		expect 0 "sign --key $L (RSA PKCS#1, the default)"
		[ "$(stat -c %s "$T/$L.pkcs1.sig")" = 384 ] || die "the RSA-3072 signature is not 384 bytes"
		openssl dgst -sha256 -verify "$pub" -signature "$T/$L.pkcs1.sig" "$T/data" >"$T/v.out" 2>&1 &&
			grep -qx 'Verified OK' "$T/v.out" || { cat "$T/v.out" >&2; die "openssl does not verify $L's PKCS#1 signature"; }
		run "verify.$L.pkcs1" verify --key "$L" --in "$T/data" --sig "$T/$L.pkcs1.sig" "${P[@]}"
		expect 0 "verify --key $L of a PKCS#1 signature"
		out_has '^Signature OK$' "verify says Signature OK"
		# PSS, salt 32.
		run "sign.$L" sign --key "$L" --in "$T/data" --out "$T/$L.sig" --mech rsa-pss-sha256 "${P[@]}"
		expect 0 "sign --key $L --mech rsa-pss-sha256"
		openssl dgst -sha256 -verify "$pub" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
			-signature "$T/$L.sig" "$T/data" >"$T/v.out" 2>&1 &&
			grep -qx 'Verified OK' "$T/v.out" || { cat "$T/v.out" >&2; die "openssl does not verify $L's PSS signature"; }
		! openssl dgst -sha256 -verify "$pub" -signature "$T/$L.sig" "$T/data" >/dev/null 2>&1 ||
			die "--mech rsa-pss-sha256 made a PKCS#1 v1.5 signature"
		! openssl dgst -sha256 -verify "$pub" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
			-signature "$T/$L.sig" "$T/tampered" >/dev/null 2>&1 ||
			die "openssl verifies $L's PSS signature over a tampered file"
		mech=(--mech rsa-pss-sha256)
		;;
	ed25519)
		run "sign.$L" sign --key "$L" --in "$T/data" --out "$T/$L.sig" "${P[@]}"
		expect 0 "sign --key $L (EdDSA, the default)"
		[ "$(stat -c %s "$T/$L.sig")" = 64 ] || die "the Ed25519 signature is not 64 bytes"
		openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$T/data" -sigfile "$T/$L.sig" \
			>"$T/v.out" 2>&1 && grep -q 'Signature Verified Successfully' "$T/v.out" ||
			{ cat "$T/v.out" >&2; die "openssl does not verify $L's Ed25519 signature"; }
		! openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$T/tampered" -sigfile "$T/$L.sig" \
			>/dev/null 2>&1 || die "openssl verifies $L's Ed25519 signature over a tampered file"
		mech=()
		;;
	esac
	run "verify.$L" verify --key "$L" --in "$T/data" --sig "$T/$L.sig" "${mech[@]}" "${P[@]}"
	expect 0 "verify --key $L"
	out_has '^Signature OK$' "verify says Signature OK"
	run "verify-tampered.$L" verify --key "$L" --in "$T/tampered" --sig "$T/$L.sig" "${mech[@]}" "${P[@]}"
	expect 3 "verify --key $L of a tampered file"
	any_has '^Signature does not verify$' "verify of a tampered file"
	log "$L ($type): keygen, csr, import, export, sign, verify: OK"
done

# --- Signing details ---------------------------------------------------------------------------
# A file larger than any one buffer, hashed as a stream, and the signature on stdout.
head -c 3000000 /dev/urandom >"$T/big"
run sign.big sign --key e1 --in "$T/big" "${P[@]}"
expect 0 "sign --key e1 of a 3 MB file to stdout"
openssl dgst -sha256 -verify "$T/e1.pub.pem" -signature "$(out_file sign.big)" "$T/big" >/dev/null 2>&1 ||
	die "the signature of a 3 MB file (on stdout) does not verify"
# P-256 with an explicit mechanism, and a mechanism that does not fit the key.
run sign.e1.mech sign --key e1 --in "$T/data" --out "$T/e1.sig2" --mech ecdsa-sha256 "${P[@]}"
expect 0 "sign --key e1 --mech ecdsa-sha256"
openssl dgst -sha256 -verify "$T/e1.pub.pem" -signature "$T/e1.sig2" "$T/data" >/dev/null 2>&1 ||
	die "the --mech ecdsa-sha256 signature does not verify"
run sign.e1.rsamech sign --key e1 --in "$T/data" --out "$T/e1.sig3" --mech rsa-pss-sha256 "${P[@]}"
[ "$rc" != 0 ] || die "sign --key e1 (EC) --mech rsa-pss-sha256 succeeded"
# Ed25519: the whole message goes to the token, up to 512 KiB.
head -c $((512 * 1024 + 1)) /dev/urandom >"$T/too-big"
run sign.d1.big sign --key d1 --in "$T/too-big" --out "$T/d1.big.sig" "${P[@]}"
expect 1 "sign --key d1 (Ed25519) of a file over 512 KiB"
err_has '512|large|big|KiB' "the error says the file is too large for Ed25519"
head -c $((512 * 1024)) /dev/urandom >"$T/max"
run sign.d1.max sign --key d1 --in "$T/max" --out "$T/d1.max.sig" "${P[@]}"
expect 0 "sign --key d1 (Ed25519) of a 512 KiB file"
openssl pkeyutl -verify -pubin -inkey "$T/d1.pub.pem" -rawin -in "$T/max" -sigfile "$T/d1.max.sig" \
	>/dev/null 2>&1 || die "the Ed25519 signature of a 512 KiB file does not verify"

# P-384: ecdsa-sha384 by default, and its CSR signed with ecdsa-with-SHA384.
run keygen.e3 keygen --type ec-p384 --label e3 --pubout "$T/e3.pub.pem" "${P[@]}"
expect 0 "keygen --type ec-p384"
openssl pkey -pubin -in "$T/e3.pub.pem" -noout -text | grep -q 'secp384r1\|P-384' || die "e3 is not on P-384"
run sign.e3 sign --key e3 --in "$T/data" --out "$T/e3.sig" "${P[@]}"
expect 0 "sign --key e3 (P-384)"
openssl dgst -sha384 -verify "$T/e3.pub.pem" -signature "$T/e3.sig" "$T/data" >/dev/null 2>&1 ||
	die "the P-384 signature is not an ECDSA-SHA384 signature openssl verifies"
run csr.e3 csr --key e3 --subject /CN=e3 --out "$T/e3.csr.pem" "${P[@]}"
expect 0 "csr --key e3"
openssl req -in "$T/e3.csr.pem" -noout -text | grep -q 'Signature Algorithm: ecdsa-with-SHA384' ||
	die "the P-384 CSR is not signed with ecdsa-with-SHA384"
openssl req -verify -in "$T/e3.csr.pem" -noout 2>&1 | grep -q 'verify OK' || die "the P-384 CSR does not verify"

# --- keygen: --id, a duplicate label -----------------------------------------------------------
run keygen.i1 keygen --type ec-p256 --label i1 --id 0A0B0C "${P[@]}"
expect 0 "keygen --id 0A0B0C"
out_has '^i1: ec-p256 key pair generated, id (0a0b0c|0A0B0C)$' "keygen --id reports the id given"
objects
[ "$(p11_id "$T/objects" privkey i1)" = 0a0b0c ] && [ "$(p11_id "$T/objects" pubkey i1)" = 0a0b0c ] ||
	{ cat "$T/objects.raw" >&2; die "keygen --id 0A0B0C did not set CKA_ID 0a0b0c on both keys"; }
run keygen.dup keygen --type ec-p256 --label e1 "${P[@]}"
expect 1 "keygen of a label that exists (e1)"
err_has 'e1' "the refusal names the label"
objects
[ "$(p11_count "$T/objects" privkey e1)" = 1 ] && [ "$(p11_count "$T/objects" pubkey e1)" = 1 ] ||
	{ cat "$T/objects.raw" >&2; die "after a refused keygen, e1 is not one key pair"; }
# Private keys are private: not even listed without login.
p11tool "$C" -O >"$T/objects-public.raw" 2>&1 || die "pkcs11-tool -O without login failed"
! grep -q 'Private Key Object' "$T/objects-public.raw" || die "a private key is listed without login"

# --- csr: stdout, --der, an escaped slash --------------------------------------------------------
run csr.stdout csr --key e1 --subject '/CN=a\/b/O=Teehsm Test' "${P[@]}"
expect 0 "csr to stdout"
out_has '^-----BEGIN CERTIFICATE REQUEST-----$' "csr writes PEM on stdout"
openssl req -in "$(out_file csr.stdout)" -noout -subject -nameopt RFC2253 >"$T/s.out" 2>&1
grep -qx 'subject=O=Teehsm Test,CN=a/b' "$T/s.out" || { cat "$T/s.out" >&2; die "'\\/' in --subject is not a slash in the CN"; }
run csr.der csr --key r1 --subject /CN=der --der --out "$T/r1.csr.der" "${P[@]}"
expect 0 "csr --der"
openssl req -inform DER -in "$T/r1.csr.der" -verify -noout 2>&1 | grep -q 'verify OK' ||
	die "csr --der did not write a DER request that verifies"

# --- cert verify and cert trust ----------------------------------------------------------------
run verify.notrust cert verify e1 "${P[@]}"
expect 3 "cert verify e1 with no trusted root on the token"
any_has '^e1: FAILED: .*trusted root' "cert verify says there is no trusted root"
run trust cert trust "$T/ca-root/root.pem" "${P[@]}" --so-pin-file "$T/so-pin"
expect 0 "cert trust ROOT (SO PIN from a file)"
for L in e1 r1 d1; do
	run "certverify.$L" cert verify "$L" "${P[@]}"
	expect 0 "cert verify $L"
	out_has "^$L: OK: CN ?= ?sign-$L.* <- CN ?= ?Signing Issuing CA.* <- CN ?= ?Signing Root CA.*\\(trusted\\)\$" \
		"cert verify $L prints the chain"
done
run export.chain cert export d1 --chain --out "$T/d1.chain.pem" "${P[@]}"
expect 0 "cert export d1 --chain"
[ "$(count_certs "$T/d1.chain.pem")" = 3 ] || die "cert export --chain did not give leaf, intermediate and root"
[ "$(nth_cert "$T/d1.chain.pem" 3 | cert_der /dev/stdin)" = "$(cert_der "$T/ca-root/root.pem")" ] ||
	die "cert export --chain does not end with the root"

# --- list ------------------------------------------------------------------------------------
# has_line FILE STRING...: some line of FILE contains every STRING (ignoring case).
has_line() {
	local lines
	lines="$(cat "$1")"
	shift
	for w in "$@"; do
		lines="$(grep -iF -- "$w" <<<"$lines")" || return 1
	done
}
run list list "${P[@]}"
expect 0 "list"
lo="$(out_file list)"
has_line "$lo" "key pair" ec-p256 e1 "$(p11_id "$T/objects" privkey e1)" || { show; die "list: no key pair line for e1 with its id"; }
has_line "$lo" "key pair" rsa-3072 r1 || { show; die "list: no key pair line for r1"; }
has_line "$lo" "key pair" ed25519 d1 || { show; die "list: no key pair line for d1"; }
has_line "$lo" certificate x509 e1 sign-e1 || { show; die "list: no certificate line for e1 with its subject"; }
has_line "$lo" "trusted CA" "Signing Root CA" || { show; die "list: no 'trusted CA' line for the root"; }
grep -F "Signing Issuing CA" "$lo" | grep -qv 'trusted' || { show; die "list: no (untrusted) CA line for the intermediate"; }
run list.keys list --keys "${P[@]}"
expect 0 "list --keys"
out_has 'key pair' "list --keys lists key pairs"
out_lacks 'certificate|x509|Signing' "list --keys lists no certificates"
run list.certs list --certs "${P[@]}"
expect 0 "list --certs"
out_has 'certificate' "list --certs lists certificates"
out_lacks 'key pair' "list --certs lists no key pairs"
# Global options before the subcommand.
run list.before "${P[@]}" list --keys
expect 0 "--pin-file before the subcommand"

# --- help, usage errors, not found -------------------------------------------------------------
run help --help
expect 0 "teehsm --help"
for w in keygen csr cert enroll sign verify list info; do
	out_has "\\b$w\\b" "teehsm --help mentions $w"
done
run version --version
expect 0 "teehsm --version"
out_has '[0-9]+\.[0-9]+' "--version prints a version"
while read -r sub opts; do
	read -r -a words <<<"$sub"
	run "help.${sub// /-}" "${words[@]}" --help
	expect 0 "teehsm $sub --help"
	[ -s "$(out_file "help.${sub// /-}")" ] || die "teehsm $sub --help printed nothing on stdout"
	for o in $opts; do
		out_has "$o\\b" "teehsm $sub --help mentions $o"
	done
done <<'EOF'
keygen --type --label --id --pubout
csr --key --subject --san --out --der
cert import --chain --label --no-key
cert export --chain --issuers --out --der
cert verify
cert trust
enroll --label --subject --san --ca-cmd --type --root --renew
sign --key --in --out --mech
verify --key --in --sig --mech
list --keys --certs
info
EOF
run usage.opt keygen --type ec-p256 --label u1 --bogus "${P[@]}"
expect 2 "an unknown option of keygen"
run usage.global --bogus-global list "${P[@]}"
expect 2 "an unknown global option"
run usage.sub frobnicate "${P[@]}"
expect 2 "an unknown subcommand"
run usage.nolabel keygen --type ec-p256 "${P[@]}"
expect 2 "keygen without --label"
run usage.type keygen --type dsa-1024 --label u2 "${P[@]}"
expect 2 "keygen --type dsa-1024"
run usage.pin sign --key e1 --in "$T/data" --out "$T/x.sig" --pin "$TEST_USER_PIN"
expect 2 "a PIN given on the command line (--pin)"
objects
[ "$(p11_count "$T/objects" privkey u1)" = 0 ] && [ "$(p11_count "$T/objects" privkey u2)" = 0 ] ||
	die "a keygen with a usage error made a key"

run usage.derchain cert export e1 --chain --der "${P[@]}"
expect 2 "cert export --chain --der"

run nf.sign sign --key nokey --in "$T/data" --out "$T/nf.sig" "${P[@]}"
expect 4 "sign --key nokey"
err_has 'nokey' "sign with a missing key names it"
err_one_line "sign with a missing key"
[ ! -s "$T/nf.sig" ] || die "sign with a missing key wrote a signature"
run nf.verify verify --key nokey --in "$T/data" --sig "$T/e1.sig" "${P[@]}"
expect 4 "verify --key nokey"
run nf.export cert export nokey "${P[@]}"
expect 4 "cert export nokey"
run nf.certverify cert verify nokey "${P[@]}"
expect 4 "cert verify nokey"
run nf.csr csr --key nokey --subject /CN=x "${P[@]}"
expect 4 "csr --key nokey"
run nf.i1 cert export i1 "${P[@]}"
expect 4 "cert export of a key with no certificate"

# --- PINs ------------------------------------------------------------------------------------
run_env pin.env TEEHSM_PIN="$TEST_USER_PIN" -- sign --key e1 --in "$T/data" --out "$T/env.sig"
expect 0 "sign with the PIN in TEEHSM_PIN"
openssl dgst -sha256 -verify "$T/e1.pub.pem" -signature "$T/env.sig" "$T/data" >/dev/null 2>&1 ||
	die "the signature made with TEEHSM_PIN does not verify"
run_env pin.wrongenv TEEHSM_PIN=wrong-pin-9999 -- sign --key e1 --in "$T/data" --out "$T/w.sig"
expect 1 "sign with a wrong PIN in TEEHSM_PIN"
err_has 'CKR_PIN_INCORRECT' "a wrong PIN gives CKR_PIN_INCORRECT"
err_one_line "a wrong PIN"
run pin.wrongfile sign --key e1 --in "$T/data" --out "$T/w.sig" --pin-file "$T/wrong-pin"
expect 1 "sign with a wrong PIN in --pin-file"
err_has 'CKR_PIN_INCORRECT' "a wrong PIN gives CKR_PIN_INCORRECT"
run_env pin.fileoverenv TEEHSM_PIN=wrong-pin-9999 -- sign --key e1 --in "$T/data" --out "$T/f.sig" "${P[@]}"
expect 0 "--pin-file wins over TEEHSM_PIN"
run pin.nofile sign --key e1 --in "$T/data" --out "$T/w.sig" --pin-file "$T/no-such-file"
expect 1 "--pin-file of a file that does not exist"
# No PIN anywhere and no terminal: an error, not a hang.
rc=0
LAST=pin.none
env -u TEEHSM_PIN TEEHSM_CONF="$C" timeout "$CMD_TIMEOUT" setsid -w "$TEEHSM_CLI" sign --key e1 \
	--in "$T/data" --out "$T/n.sig" </dev/null >"$T/cli/pin.none.out" 2>"$T/cli/pin.none.err" || rc=$?
log "teehsm sign with no PIN and no terminal -> exit $rc"
expect 1 "sign with no PIN and no terminal"
err_has '[Pp][Ii][Nn]' "the error says a PIN is needed"
# The SO PIN, missing for cert trust.
rc=0
LAST=sopin.none
mkca root "$T/ca-other" "Other Root CA"
env -u TEEHSM_SO_PIN TEEHSM_CONF="$C" timeout "$CMD_TIMEOUT" setsid -w "$TEEHSM_CLI" cert trust \
	"$T/ca-other/root.pem" "${P[@]}" </dev/null >"$T/cli/sopin.none.out" 2>"$T/cli/sopin.none.err" || rc=$?
expect 1 "cert trust with no SO PIN and no terminal"

# --- A PKCS#11 error in words: the server's policy refuses ----------------------------------------
# An identity that may read and use keys, not make them: the spec's own example line.
make_peer signer
client_conf_as "$T/signer.conf" srv signer
LAST=policy.keygen
rc=0
teehsm_cli "$T/signer.conf" keygen --type ec-p256 --label p1 "${P[@]}" \
	>"$T/cli/policy.keygen.out" 2>"$T/cli/policy.keygen.err" || rc=$?
expect 1 "keygen by an identity the policy does not allow to make keys"
grep -qx "teehsm keygen: C_GenerateKeyPair failed: CKR_ACTION_PROHIBITED (0x0000001b): the token's policy does not allow this identity to do that" \
	"$T/cli/policy.keygen.err" || { show; die "the refusal is not the one line of the spec"; }
LAST=policy.sign
rc=0
teehsm_cli "$T/signer.conf" sign --key e1 --in "$T/data" --out "$T/signer.sig" "${P[@]}" \
	>"$T/cli/policy.sign.out" 2>"$T/cli/policy.sign.err" || rc=$?
expect 0 "sign by an identity that may use keys"

assert_alive srv
server_stop srv

# --- The server is gone: CKR_DEVICE_ERROR, explained --------------------------------------------
run down.list list "${P[@]}"
expect 1 "list with the server stopped"
err_has 'CKR_DEVICE_ERROR.*cannot reach the token: is the server running\?' "the error says the server cannot be reached"
err_one_line "the server is gone"

cli_no_secrets "$TEST_USER_PIN" "$TEST_SO_PIN" wrong-pin-9999
