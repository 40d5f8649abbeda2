#!/usr/bin/env bash
# More real PKCS#11 applications through libteehsm.so: GnuTLS's p11tool (loads the module
# through p11-kit) and OpenSSL's pkcs11 engine (libp11). A key made with pkcs11-tool is found
# by PKCS#11 URI, signs, and the signatures verify with the exported public key.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

server_conf srv
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv
C="$T/client.conf"
URI="pkcs11:token=$TEST_TOKEN_LABEL"

p11tool "$C" --login --pin "$TEST_USER_PIN" --keypairgen --key-type EC:prime256v1 \
	--label c1 --id c101 >"$T/gen.out" 2>&1 || { cat "$T/gen.out" >&2; die "--keypairgen failed"; }
p11tool "$C" --read-object --type pubkey --label c1 -o "$T/pub.der" >/dev/null 2>&1 ||
	die "--read-object --type pubkey failed"
openssl pkey -pubin -inform DER -in "$T/pub.der" -out "$T/pub.pem"
echo "signed by an engine" >"$T/msg"
openssl dgst -sha256 -binary "$T/msg" >"$T/msg.hash"

# gnutls_tool ARGS...: GnuTLS's p11tool with libteehsm.so as its only provider.
gnutls_tool() {
	env TEEHSM_CONF="$C" GNUTLS_PIN="$TEST_USER_PIN" "${TOOL_ENV[@]}" timeout "$CMD_TIMEOUT" \
		p11tool --provider "$MODULE" "$@"
}

if command -v p11tool >/dev/null; then
	log "p11tool --list-tokens"
	gnutls_tool --list-tokens >"$T/tokens.out" 2>&1 || { cat "$T/tokens.out" >&2; die "p11tool --list-tokens failed"; }
	cat "$T/tokens.out"
	grep -q "token=$TEST_TOKEN_LABEL" "$T/tokens.out" || die "p11tool does not list the token"

	# RFC 7512: the token's URI names it by model, manufacturer, serial and label, and the
	# full URI selects it; one serial off selects nothing.
	full=$(sed -n "s/^[[:space:]]*URL: \(pkcs11:.*token=$TEST_TOKEN_LABEL\)\$/\1/p" "$T/tokens.out" | head -1)
	log "the token's URI: $full"
	for attr in "model=teehsm-emu" "manufacturer=teehsm" "token=$TEST_TOKEN_LABEL"; do
		case ";${full#pkcs11:};" in *";$attr;"*) ;; *) die "the token URI lacks $attr" ;; esac
	done
	serial=$(printf '%s\n' "$full" | tr ';' '\n' | sed -n 's/^serial=//p')
	[[ "$serial" =~ ^[0-9a-f]{16}$ ]] || die "the token URI's serial '$serial' is not 16 hex digits"
	gnutls_tool --login --test-sign "$full;object=c1;type=private" >"$T/fullsign.out" 2>&1 ||
		{ cat "$T/fullsign.out" >&2; die "p11tool --test-sign with the token's full URI failed"; }
	[ "$(grep -c '\.\.\. ok' "$T/fullsign.out")" -ge 2 ] || die "--test-sign with the full URI did not verify"
	# (--list-privkeys rather than a failing --test-sign: GnuTLS's p11tool can hang in exit()
	# after a failed --test-sign under the sanitizer preload.)
	other="$(printf '%s' "$serial" | tr '0-9a-f' '1-9a-f0')"
	gnutls_tool --login --list-privkeys "${full/serial=$serial/serial=$other}" \
		>"$T/otherlist.out" 2>&1 || true
	if grep -q "object=c1" "$T/otherlist.out"; then
		cat "$T/otherlist.out" >&2
		die "a URI with another serial selected the token"
	fi
	gnutls_tool --login --list-privkeys "$full" >"$T/fulllist.out" 2>&1 ||
		{ cat "$T/fulllist.out" >&2; die "p11tool --list-privkeys with the full URI failed"; }
	grep -q "object=c1" "$T/fulllist.out" || die "the full URI does not list the key c1"

	log "p11tool --login --list-all"
	gnutls_tool --login --list-all "$URI" >"$T/all.out" 2>&1 ||
		{ cat "$T/all.out" >&2; die "p11tool --list-all failed"; }
	cat "$T/all.out"
	grep -q "object=c1;type=private" "$T/all.out" || die "p11tool --list-all does not list the private key"
	grep -q "object=c1;type=public" "$T/all.out" || die "p11tool --list-all does not list the public key"

	log "p11tool --login --list-privkeys"
	gnutls_tool --login --list-privkeys "$URI" >"$T/privkeys.out" 2>&1 ||
		{ cat "$T/privkeys.out" >&2; die "p11tool --list-privkeys failed"; }
	cat "$T/privkeys.out"
	grep -q "object=c1;type=private" "$T/privkeys.out" || die "p11tool does not list the private key"

	log "p11tool --test-sign"
	gnutls_tool --login --test-sign "$URI;object=c1;type=private" >"$T/testsign.out" 2>&1 ||
		{ cat "$T/testsign.out" >&2; die "p11tool --test-sign failed"; }
	cat "$T/testsign.out"
	[ "$(grep -c '\.\.\. ok' "$T/testsign.out")" -ge 2 ] || die "p11tool --test-sign did not verify"
else
	log "p11tool (gnutls-bin) is not installed: skipping the GnuTLS checks"
fi

ENGINE=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so
if [ -e "$ENGINE" ] || openssl engine pkcs11 >/dev/null 2>&1; then
	log "openssl with the pkcs11 engine: dgst -sign and pkeyutl -sign"
	KEY="$URI;object=c1;type=private;pin-value=$TEST_USER_PIN"
	env TEEHSM_CONF="$C" PKCS11_MODULE_PATH="$MODULE" "${TOOL_ENV[@]}" timeout "$CMD_TIMEOUT" \
		openssl dgst -sha256 -engine pkcs11 -keyform engine -sign "$KEY" -out "$T/msg.sig" \
		"$T/msg" >"$T/engine.out" 2>&1 || { cat "$T/engine.out" >&2; die "openssl dgst -engine pkcs11 -sign failed"; }
	openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/msg.sig" "$T/msg" ||
		die "the engine's ECDSA-SHA256 signature does not verify"
	env TEEHSM_CONF="$C" PKCS11_MODULE_PATH="$MODULE" "${TOOL_ENV[@]}" timeout "$CMD_TIMEOUT" \
		openssl pkeyutl -engine pkcs11 -keyform engine -inkey "$KEY" -sign -in "$T/msg.hash" \
		-out "$T/msg.rawsig" >"$T/engine.out" 2>&1 || { cat "$T/engine.out" >&2; die "openssl pkeyutl -engine pkcs11 -sign failed"; }
	openssl pkeyutl -verify -pubin -inkey "$T/pub.pem" -in "$T/msg.hash" -sigfile "$T/msg.rawsig" ||
		die "the engine's raw ECDSA signature does not verify"
else
	log "the OpenSSL pkcs11 engine (libengine-pkcs11-openssl) is not installed: skipping"
fi

assert_alive srv
server_stop srv
