#!/usr/bin/env bash
# The token's mechanisms with parameters through a real PKCS#11 application, OpenSC's
# pkcs11-tool, via libteehsm.so against a running teehsmd; every result is checked with OpenSSL:
# RSA-PSS (SHA256-RSA-PKCS-PSS, MGF1-SHA256, salt 32), RSA-OAEP-SHA256 (OpenSSL encrypts, the
# token decrypts), AES-256-CBC-PAD both ways, ECDH1-DERIVE with an OpenSSL peer, Ed25519 EDDSA.
# A step is skipped (with the reason logged) only when this OpenSC version cannot do it.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

server_conf srv
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv
C="$T/client.conf"
PIN=(--login --pin "$TEST_USER_PIN")

run_tool() { # run_tool NAME ARGS...: pkcs11-tool through libteehsm.so, output in $T/NAME.out
	local name=$1
	shift
	log "pkcs11-tool $*"
	if ! p11tool "$C" "$@" >"$T/$name.out" 2>&1; then
		cat "$T/$name.out" >&2
		die "pkcs11-tool $name failed"
	fi
}

HELP="$(pkcs11-tool --help 2>&1 || true)"
has_opt() { grep -q -- "$1" <<<"$HELP"; }
for o in --hash-algorithm --mgf --salt-len --derive --iv --encrypt --decrypt --keygen; do
	has_opt "$o" || die "pkcs11-tool lacks $o (OpenSC too old for this test)"
done
pubkey_pem() { # pubkey_pem ID OUT: export the token's public key with that id as PEM
	run_tool "read-$1" --read-object --type pubkey --id "$1" -o "$T/$1.pub.der"
	# pkcs11-tool 0.23 writes RSA and EC keys as DER but an Ed25519 key as PEM
	openssl pkey -pubin -inform DER -in "$T/$1.pub.der" -out "$2" 2>/dev/null ||
		openssl pkey -pubin -inform PEM -in "$T/$1.pub.der" -out "$2" ||
		die "the public key $1 is not a SubjectPublicKeyInfo"
}

head -c 1500 /dev/urandom >"$T/msg"

# --- RSA-PSS ---------------------------------------------------------------------------------
log "RSA-2048 with SHA256-RSA-PKCS-PSS, verified by OpenSSL"
run_tool gen-rsa "${PIN[@]}" --keypairgen --key-type rsa:2048 --label mech-rsa --id 6a01 \
	--usage-sign --usage-decrypt
pubkey_pem 6a01 "$T/rsa.pub.pem"
run_tool sign-pss "${PIN[@]}" --id 6a01 --sign -m SHA256-RSA-PKCS-PSS --mgf MGF1-SHA256 --salt-len 32 -i "$T/msg" -o "$T/msg.pss"
[ "$(stat -c %s "$T/msg.pss")" -eq 256 ] || die "the PSS signature is not 256 bytes"
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 \
	-sigopt rsa_mgf1_md:sha256 -verify "$T/rsa.pub.pem" -signature "$T/msg.pss" "$T/msg" ||
	die "OpenSSL does not verify the token's RSA-PSS signature"
# the salt really is 32 bytes: OpenSSL with that exact length accepts, with 20 refuses
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
	-verify "$T/rsa.pub.pem" -signature "$T/msg.pss" "$T/msg" >/dev/null ||
	die "the PSS salt is not 32 bytes"
if openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:20 \
	-verify "$T/rsa.pub.pem" -signature "$T/msg.pss" "$T/msg" >/dev/null 2>&1; then
	die "OpenSSL accepted the PSS signature with the wrong salt length (the check is void)"
fi
# RSA-PKCS-PSS over a SHA-256 digest (the hash named with --hash-algorithm)
openssl dgst -sha256 -binary "$T/msg" >"$T/msg.sha256"
run_tool sign-pss-raw "${PIN[@]}" --id 6a01 --sign -m RSA-PKCS-PSS --hash-algorithm SHA256 \
	--mgf MGF1-SHA256 --salt-len 32 -i "$T/msg.sha256" -o "$T/msg.pssraw"
openssl pkeyutl -verify -pubin -inkey "$T/rsa.pub.pem" -pkeyopt digest:sha256 \
	-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 -pkeyopt rsa_mgf1_md:sha256 \
	-in "$T/msg.sha256" -sigfile "$T/msg.pssraw" ||
	die "OpenSSL does not verify the token's raw RSA-PKCS-PSS signature"
# the token verifies its own signature, and refuses a tampered one
run_tool verify-pss "${PIN[@]}" --id 6a01 --verify -m SHA256-RSA-PKCS-PSS --mgf MGF1-SHA256 \
	--salt-len 32 -i "$T/msg" --signature-file "$T/msg.pss"
grep -q "Signature is valid" "$T/verify-pss.out" || die "the token did not verify its PSS signature"
cp "$T/msg.pss" "$T/bad.pss"
printf '\x55' | dd of="$T/bad.pss" bs=1 seek=100 conv=notrunc status=none
if p11tool "$C" "${PIN[@]}" --id 6a01 --verify -m SHA256-RSA-PKCS-PSS --mgf MGF1-SHA256 \
	--salt-len 32 -i "$T/msg" --signature-file "$T/bad.pss" >"$T/vbad.out" 2>&1 &&
	grep -q "Signature is valid" "$T/vbad.out"; then
	die "the token accepted a tampered PSS signature"
fi
grep -q "Invalid signature" "$T/vbad.out" || { cat "$T/vbad.out" >&2; die "a tampered PSS signature was not reported invalid"; }
# pkcs11-tool prints no return code for it: the server's log has the token's answer
grep -Eq "C_Verify(Final)? -> 0xc0\$" "$T/srv.log" ||
	die "a tampered PSS signature did not give CKR_SIGNATURE_INVALID (0xc0) in the server's log"

# --- RSA-OAEP --------------------------------------------------------------------------------
log "RSA-PKCS-OAEP (SHA-256): OpenSSL encrypts, the token decrypts"
head -c 64 /dev/urandom >"$T/secret"
openssl pkeyutl -encrypt -pubin -inkey "$T/rsa.pub.pem" -pkeyopt rsa_padding_mode:oaep \
	-pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in "$T/secret" -out "$T/secret.oaep"
run_tool decrypt-oaep "${PIN[@]}" --id 6a01 --decrypt -m RSA-PKCS-OAEP --hash-algorithm SHA256 \
	--mgf MGF1-SHA256 -i "$T/secret.oaep" -o "$T/secret.back"
cmp "$T/secret" "$T/secret.back" || die "the OAEP round trip changed the data"
# OpenSSL's OAEP with SHA-1 is not what the token was asked for: it must refuse it
openssl pkeyutl -encrypt -pubin -inkey "$T/rsa.pub.pem" -pkeyopt rsa_padding_mode:oaep \
	-in "$T/secret" -out "$T/secret.oaep1"
if p11tool "$C" "${PIN[@]}" --id 6a01 --decrypt -m RSA-PKCS-OAEP --hash-algorithm SHA256 \
	--mgf MGF1-SHA256 -i "$T/secret.oaep1" -o "$T/secret.back1" >"$T/dbad.out" 2>&1; then
	die "the token decrypted OAEP-SHA1 data as OAEP-SHA256"
fi
# pkcs11-tool 0.23 retries a failed C_Decrypt multi-part (which RSA is not, so that fails too
# with CKR_FUNCTION_NOT_SUPPORTED): the token's answer to C_Decrypt is in the server's log
grep -Eq "C_Decrypt -> 0x40\$" "$T/srv.log" ||
	die "a wrong OAEP hash did not give CKR_ENCRYPTED_DATA_INVALID (0x40) in the server's log"

# --- AES-CBC-PAD -----------------------------------------------------------------------------
log "AES-256 key generation, AES-CBC-PAD both ways, compared with openssl enc"
run_tool gen-aes "${PIN[@]}" --keygen --key-type AES:32 --label mech-aes --id 6a02 \
	--usage-decrypt --extractable
IV=000102030405060708090a0b0c0d0e0f
head -c 1000 /dev/urandom >"$T/plain" # not a multiple of the block size
run_tool enc-cbc "${PIN[@]}" --id 6a02 --encrypt -m AES-CBC-PAD --iv "$IV" -i "$T/plain" \
	-o "$T/plain.enc"
[ "$(stat -c %s "$T/plain.enc")" -eq 1008 ] || die "the CBC-PAD ciphertext is not 1008 bytes"
run_tool dec-cbc "${PIN[@]}" --id 6a02 --decrypt -m AES-CBC-PAD --iv "$IV" -i "$T/plain.enc" \
	-o "$T/plain.back"
cmp "$T/plain" "$T/plain.back" || die "the AES-CBC-PAD round trip changed the data"
# The key was generated extractable and not sensitive: read it and check with openssl enc.
if run_tool read-aes "${PIN[@]}" --read-object --type secrkey --id 6a02 -o "$T/aes.key" 2>/dev/null; then
	[ "$(stat -c %s "$T/aes.key")" -eq 32 ] || die "the AES key value is not 32 bytes"
	openssl enc -aes-256-cbc -K "$(od -An -tx1 -v "$T/aes.key" | tr -d ' \n')" -iv "$IV" \
		-in "$T/plain" -out "$T/plain.ossl"
	cmp "$T/plain.enc" "$T/plain.ossl" || die "the token's AES-CBC-PAD differs from openssl enc"
else
	die "the generated AES key could not be read back"
fi

# --- ECDH1-DERIVE ----------------------------------------------------------------------------
log "ECDH1-DERIVE with an OpenSSL peer, compared with openssl pkeyutl -derive"
run_tool gen-ec "${PIN[@]}" --keypairgen --key-type EC:prime256v1 --label mech-ec --id 6a03 \
	--usage-derive
pubkey_pem 6a03 "$T/ec.pub.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/peer.key"
openssl pkey -in "$T/peer.key" -pubout -outform DER -out "$T/peer.der"
run_tool derive "${PIN[@]}" --id 6a03 --derive -m ECDH1-DERIVE -i "$T/peer.der" -o "$T/z.token"
openssl pkeyutl -derive -inkey "$T/peer.key" -peerkey "$T/ec.pub.pem" -out "$T/z.ossl"
[ "$(stat -c %s "$T/z.ossl")" -eq 32 ] || die "OpenSSL's shared secret is not 32 bytes"
cmp "$T/z.token" "$T/z.ossl" || die "the token's ECDH secret differs from OpenSSL's"

# --- Ed25519 / EDDSA -------------------------------------------------------------------------
log "Ed25519 key generation, EDDSA signature verified by OpenSSL"
if ! grep -q "EC:ed25519\|edwards25519" <<<"$HELP"; then
	log "SKIP Ed25519: this pkcs11-tool ($(pkcs11-tool --version 2>&1 | head -1)) has no Ed25519 key type"
else
	run_tool gen-ed "${PIN[@]}" --keypairgen --key-type EC:edwards25519 --label mech-ed \
		--id 6a04 --usage-sign
	pubkey_pem 6a04 "$T/ed.pub.pem"
	openssl pkey -pubin -in "$T/ed.pub.pem" -noout -text | grep -q "ED25519" ||
		die "the exported Ed25519 public key is not Ed25519"
	# EDDSA is single-part only; pkcs11-tool signs input under 1 KiB with one C_Sign
	head -c 700 "$T/msg" >"$T/edmsg"
	run_tool sign-ed "${PIN[@]}" --id 6a04 --sign -m EDDSA -i "$T/edmsg" -o "$T/edmsg.sig"
	[ "$(stat -c %s "$T/edmsg.sig")" -eq 64 ] || die "the EdDSA signature is not 64 bytes"
	openssl pkeyutl -verify -pubin -inkey "$T/ed.pub.pem" -rawin -in "$T/edmsg" \
		-sigfile "$T/edmsg.sig" || die "OpenSSL does not verify the token's EdDSA signature"
	echo tampered >>"$T/edmsg"
	if openssl pkeyutl -verify -pubin -inkey "$T/ed.pub.pem" -rawin -in "$T/edmsg" \
		-sigfile "$T/edmsg.sig" >/dev/null 2>&1; then
		die "an EdDSA signature verified over a tampered message"
	fi
fi

assert_alive srv
server_stop srv
log "OK"
