#!/usr/bin/env bash
# A real PKCS#11 application, OpenSC's pkcs11-tool, through libteehsm.so against a running
# teehsmd: list the token, generate an EC key, sign (ECDSA-SHA256 and raw ECDSA), export the
# public key and verify with OpenSSL, list the objects.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

server_conf srv
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv
C="$T/client.conf"

log "pkcs11-tool -L"
p11tool "$C" -L >"$T/L.out" || { cat "$T/L.out" >&2; die "pkcs11-tool -L failed"; }
cat "$T/L.out"
grep -Eq "token label *: *$TEST_TOKEN_LABEL *\$" "$T/L.out" || die "-L does not show the token label"

log "pkcs11-tool -M"
p11tool "$C" -M >"$T/M.out" || { cat "$T/M.out" >&2; die "pkcs11-tool -M failed"; }
cat "$T/M.out"
for m in ECDSA ECDSA-SHA256 ECDSA-KEY-PAIR-GEN; do
	grep -Eq "^ *$m([ ,]|\$)" "$T/M.out" || die "-M does not list $m"
done

log "pkcs11-tool --keypairgen"
p11tool "$C" --login --pin "$TEST_USER_PIN" --keypairgen --key-type EC:prime256v1 \
	--label t1 --id 0a01 >"$T/gen.out" 2>&1 || { cat "$T/gen.out" >&2; die "--keypairgen failed"; }
cat "$T/gen.out"

# A wrong PIN is refused.
if p11tool "$C" --login --pin wrong-pin-9999 -O >"$T/bad.out" 2>&1; then
	die "pkcs11-tool logged in with a wrong PIN"
fi
grep -q "CKR_PIN_INCORRECT" "$T/bad.out" || { cat "$T/bad.out" >&2; die "a wrong PIN did not give CKR_PIN_INCORRECT"; }

log "pkcs11-tool --sign -m ECDSA-SHA256"
head -c 3000 /dev/urandom >"$T/data" # more than pkcs11-tool's single-part buffer
echo "a short message" >"$T/short"
for f in short data; do
	p11tool "$C" --login --pin "$TEST_USER_PIN" --sign -m ECDSA-SHA256 \
		--signature-format openssl --label t1 -i "$T/$f" -o "$T/$f.sig" >"$T/sign.out" 2>&1 ||
		{ cat "$T/sign.out" >&2; die "--sign -m ECDSA-SHA256 of $f failed"; }
done

log "pkcs11-tool --sign -m ECDSA (raw, over a SHA-256 digest)"
openssl dgst -sha256 -binary "$T/short" >"$T/short.hash"
p11tool "$C" --login --pin "$TEST_USER_PIN" --sign -m ECDSA --signature-format openssl \
	--id 0a01 -i "$T/short.hash" -o "$T/short.rawsig" >"$T/sign.out" 2>&1 ||
	{ cat "$T/sign.out" >&2; die "--sign -m ECDSA failed"; }

log "export the public key and verify with OpenSSL"
p11tool "$C" --read-object --type pubkey --label t1 -o "$T/pub.der" >"$T/read.out" 2>&1 ||
	{ cat "$T/read.out" >&2; die "--read-object --type pubkey failed"; }
openssl pkey -pubin -inform DER -in "$T/pub.der" -out "$T/pub.pem" ||
	die "the exported public key is not a DER SubjectPublicKeyInfo"
openssl pkey -pubin -in "$T/pub.pem" -noout -text | grep -q "prime256v1" ||
	die "the exported public key is not on P-256"
for f in short data; do
	openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/$f.sig" "$T/$f" ||
		die "the ECDSA-SHA256 signature of $f does not verify"
done
openssl pkeyutl -verify -pubin -inkey "$T/pub.pem" -in "$T/short.hash" \
	-sigfile "$T/short.rawsig" || die "the raw ECDSA signature does not verify"
echo tampered >>"$T/short"
if openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/short.sig" "$T/short" >/dev/null; then
	die "a signature verified over a tampered message"
fi

log "pkcs11-tool -O"
p11tool "$C" --login --pin "$TEST_USER_PIN" -O >"$T/O.out" 2>&1 ||
	{ cat "$T/O.out" >&2; die "pkcs11-tool -O failed"; }
cat "$T/O.out"
grep -q "Private Key Object; EC" "$T/O.out" || die "-O does not list the private key"
grep -q "Public Key Object; EC" "$T/O.out" || die "-O does not list the public key"
[ "$(grep -Ec "label: *t1\$" "$T/O.out")" -eq 2 ] || die "-O does not show two objects labelled t1"
# Without login only the public key is visible.
p11tool "$C" -O >"$T/O-public.out" 2>&1 || { cat "$T/O-public.out" >&2; die "pkcs11-tool -O without login failed"; }
if grep -q "Private Key Object" "$T/O-public.out"; then
	die "the private key is listed without login"
fi

# A certificate for the key, written to the token and read back byte for byte. The token
# parses subject, issuer and serial from it (shown by -O).
log "pkcs11-tool --write-object / --read-object of a certificate"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$T/cert.key" -subj "/CN=teehsm-cert-test/O=teehsm" -days 30 \
	-outform DER -out "$T/cert.der" 2>/dev/null || die "openssl req -x509 failed"
p11tool "$C" --login --pin "$TEST_USER_PIN" --write-object "$T/cert.der" --type cert \
	--label t1-cert --id 7401 >"$T/wcert.out" 2>&1 ||
	{ cat "$T/wcert.out" >&2; die "pkcs11-tool --write-object --type cert failed"; }
p11tool "$C" --read-object --type cert --label t1-cert -o "$T/cert.back.der" >"$T/rcert.out" 2>&1 ||
	{ cat "$T/rcert.out" >&2; die "pkcs11-tool --read-object --type cert failed"; }
cmp -s "$T/cert.der" "$T/cert.back.der" || die "the certificate read back differs from the one written"
p11tool "$C" -O >"$T/O-cert.out" 2>&1 || { cat "$T/O-cert.out" >&2; die "pkcs11-tool -O failed"; }
grep -q "Certificate Object; type = X.509 cert" "$T/O-cert.out" || { cat "$T/O-cert.out" >&2; die "-O does not list the certificate"; }
grep -q "subject:.*teehsm-cert-test" "$T/O-cert.out" || { cat "$T/O-cert.out" >&2; die "-O does not show the certificate's subject"; }
# Deleting it sticks.
p11tool "$C" --login --pin "$TEST_USER_PIN" --delete-object --type cert --label t1-cert \
	>"$T/dcert.out" 2>&1 || { cat "$T/dcert.out" >&2; die "pkcs11-tool --delete-object --type cert failed"; }
p11tool "$C" -O >"$T/O-nocert.out" 2>&1 || die "pkcs11-tool -O failed"
if grep -q "Certificate Object" "$T/O-nocert.out"; then
	die "the certificate is still listed after --delete-object"
fi

assert_alive srv
server_stop srv
