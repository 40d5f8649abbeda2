#!/usr/bin/env bash
# Real clients, part two (issue 4): GnuTLS's p11tool generates keys on the token and exports
# their public keys; OpenSSL's pkcs11 engine (libp11) makes CSRs that `openssl req -verify`
# accepts and decrypts with the token's RSA key (PKCS#1 v1.5 and OAEP); and the "Remote
# signing from a build server" commands of README.md run here end to end, word for word.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

server_conf srv "allow = cn:build-server use,manage label=release-*"
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv
C="$T/client.conf"
URI="pkcs11:token=$TEST_TOKEN_LABEL"

# pubhash FILE [DER|PEM]: SHA-256 of the DER SubjectPublicKeyInfo of public key FILE.
pubhash() {
	openssl pkey -pubin -inform "${2:-PEM}" -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

# token_pubhash LABEL: the same for the public key pkcs11-tool reads from the token.
token_pubhash() {
	p11tool "$C" --read-object --type pubkey --label "$1" -o "$T/$1.tokpub.der" >/dev/null 2>&1 ||
		die "pkcs11-tool --read-object --type pubkey --label $1 failed"
	pubhash "$T/$1.tokpub.der" DER
}

# gnutls_tool ARGS...: GnuTLS's p11tool with libteehsm.so as its only provider.
gnutls_tool() {
	env TEEHSM_CONF="$C" GNUTLS_PIN="$TEST_USER_PIN" "${TOOL_ENV[@]}" timeout "$CMD_TIMEOUT" \
		p11tool --provider "$MODULE" "$@"
}

# engine ARGS...: openssl with the pkcs11 engine loading libteehsm.so.
engine() {
	env TEEHSM_CONF="$C" PKCS11_MODULE_PATH="$MODULE" "${TOOL_ENV[@]}" timeout "$CMD_TIMEOUT" \
		openssl "$@"
}

# --- 1. GnuTLS p11tool: generate, export the public key, test-sign -----------------------------
if command -v p11tool >/dev/null; then
	for spec in "g1 ecdsa --curve secp256r1" "g2 rsa --bits 2048"; do
		read -r label type extra <<<"$spec"
		log "p11tool --generate-privkey $type $extra --label $label"
		# shellcheck disable=SC2086
		gnutls_tool --login --generate-privkey "$type" $extra --label "$label" "$URI" \
			>"$T/$label.gen.out" 2>&1 || { cat "$T/$label.gen.out" >&2; die "p11tool --generate-privkey $type failed"; }
		gnutls_tool --login --export-pubkey "$URI;object=$label;type=private" \
			>"$T/$label.gnutls.pem" 2>"$T/$label.export.err" ||
			{ cat "$T/$label.export.err" >&2; die "p11tool --export-pubkey $label failed"; }
		grep -q -- '-----BEGIN PUBLIC KEY-----' "$T/$label.gnutls.pem" ||
			die "p11tool --export-pubkey $label did not print a PEM public key"
		[ "$(pubhash "$T/$label.gnutls.pem")" = "$(token_pubhash "$label")" ] ||
			die "p11tool's exported public key of $label differs from the token's"
		log "p11tool --test-sign $label"
		gnutls_tool --login --test-sign "$URI;object=$label;type=private" >"$T/$label.ts.out" 2>&1 ||
			{ cat "$T/$label.ts.out" >&2; die "p11tool --test-sign $label failed"; }
		cat "$T/$label.ts.out"
		[ "$(grep -c '\.\.\. ok' "$T/$label.ts.out")" -ge 2 ] || die "p11tool --test-sign $label did not verify"
		! grep -qi 'fail' "$T/$label.ts.out" || die "p11tool --test-sign $label reports a failure"
	done
else
	log "p11tool (gnutls-bin) is not installed: skipping the GnuTLS checks"
fi

# --- 2. OpenSSL's pkcs11 engine: CSRs, RSA decryption ---------------------------------------
ENGINE=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so
if [ -e "$ENGINE" ] || openssl engine pkcs11 >/dev/null 2>&1; then
	p11tool "$C" --login --pin "$TEST_USER_PIN" --keypairgen --key-type EC:prime256v1 \
		--label e1 --id e101 >"$T/e1.gen.out" 2>&1 || { cat "$T/e1.gen.out" >&2; die "EC --keypairgen failed"; }
	p11tool "$C" --login --pin "$TEST_USER_PIN" --keypairgen --key-type rsa:2048 \
		--label r1 --id 7101 >"$T/r1.gen.out" 2>&1 || { cat "$T/r1.gen.out" >&2; die "RSA --keypairgen failed"; }

	for label in e1 r1; do
		log "openssl req -new -engine pkcs11 with $label"
		engine req -new -engine pkcs11 -keyform engine \
			-key "$URI;object=$label;type=private;pin-value=$TEST_USER_PIN" \
			-subj /CN=teehsm-test -out "$T/$label.req.pem" >"$T/$label.req.out" 2>&1 ||
			{ cat "$T/$label.req.out" >&2; die "openssl req -new -engine pkcs11 ($label) failed"; }
		openssl req -verify -in "$T/$label.req.pem" -noout >"$T/$label.verify.out" 2>&1 || true
		cat "$T/$label.verify.out"
		grep -qx 'verify OK\|Certificate request self-signature verify OK' "$T/$label.verify.out" ||
			die "openssl req -verify does not accept the CSR of $label"
		openssl req -in "$T/$label.req.pem" -noout -pubkey >"$T/$label.csrpub.pem"
		[ "$(pubhash "$T/$label.csrpub.pem")" = "$(token_pubhash "$label")" ] ||
			die "the CSR of $label carries a public key that is not the token's"
		openssl req -in "$T/$label.req.pem" -noout -subject | grep -q 'CN *= *teehsm-test' ||
			die "the CSR of $label has the wrong subject"
	done

	openssl pkey -pubin -inform DER -in "$T/r1.tokpub.der" -out "$T/rsa_pub.pem"
	echo "a secret for the token's RSA key" >"$T/secret"
	for pad in pkcs1 oaep; do
		log "openssl pkeyutl -decrypt -engine pkcs11, padding $pad"
		opt=()
		[ "$pad" = oaep ] && opt=(-pkeyopt rsa_padding_mode:oaep)
		openssl pkeyutl -encrypt -pubin -inkey "$T/rsa_pub.pem" "${opt[@]}" -in "$T/secret" \
			-out "$T/ct.$pad"
		engine pkeyutl -decrypt -engine pkcs11 -keyform engine \
			-inkey "$URI;object=r1;type=private;pin-value=$TEST_USER_PIN" "${opt[@]}" \
			-in "$T/ct.$pad" -out "$T/pt.$pad" >"$T/dec.$pad.out" 2>&1 ||
			{ cat "$T/dec.$pad.out" >&2; die "openssl pkeyutl -decrypt -engine pkcs11 ($pad) failed"; }
		cmp -s "$T/secret" "$T/pt.$pad" || die "the engine's $pad decryption does not give the message back"
	done
else
	log "the OpenSSL pkcs11 engine (libengine-pkcs11-openssl) is not installed: skipping"
fi

# --- 3. README.md "Remote signing from a build server", as documented -------------------------
# The README's commands are extracted from README.md and run here, so the two cannot drift
# apart. The build server has its own client certificate ($T/buildpki, same CA as the server's
# other clients) and its PIN in a file; "anyone" verifies with nothing but openssl.
if [ -e "$ENGINE" ] || openssl engine pkcs11 >/dev/null 2>&1; then
	log "README: remote signing from a build server"
	mkdir -p "$T/build-server" "$T/anyone"
	# A client certificate of its own for the build server, from the CA the server trusts.
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=build-server \
		-keyout "$T/build-server/client.key" -out "$T/build-server/client.csr" 2>/dev/null
	printf 'extendedKeyUsage = clientAuth\nkeyUsage = digitalSignature\n' >"$T/build-server/ext"
	openssl x509 -req -in "$T/build-server/client.csr" -CA "$T/pki/ca.pem" -CAkey "$T/pki/ca.key" \
		-CAcreateserial -days 2 -extfile "$T/build-server/ext" -out "$T/build-server/client.pem" 2>/dev/null
	{
		echo "server = 127.0.0.1:${SRV_PORT[srv]}"
		echo "ca = $T/pki/ca.pem"
		echo "cert = $T/build-server/client.pem"
		echo "key = $T/build-server/client.key"
	} >"$T/build-server/client.conf"
	printf '%s' "$TEST_USER_PIN" >"$T/build-server/user-pin"
	chmod 600 "$T/build-server/user-pin" "$T/build-server/client.key"
	echo "release 1.0 of something" >"$T/build-server/artifact"

	# The README's shell blocks under the section, with the placeholders filled in.
	awk '/^## Remote signing from a build server/ { on = 1; next }
		on && /^## / { exit }
		on && /^```sh/ { code = 1; next }
		on && /^```/ { code = 0; print ""; next }
		on && code' "$TEEHSM_SRC/README.md" >"$T/readme.sh"
	[ "$(grep -c 'openssl dgst' "$T/readme.sh")" -ge 2 ] ||
		die "README.md has no 'Remote signing from a build server' section with its commands"
	echo "set -euo pipefail" >"$T/readme-run.sh"
	# The README's paths and token label, which depend on the installation.
	sed -e "s|/etc/teehsm/build-server.conf|$T/build-server/client.conf|g" \
		-e "s|/etc/teehsm/user-pin|$T/build-server/user-pin|g" \
		-e "s|build/client/libteehsm.so|$MODULE|g" \
		-e "s|^teehsm |$TEEHSM_BUILD/certs/teehsm |" \
		-e "s|token=teehsm-dev;|token=$TEST_TOKEN_LABEL;|g" \
		"$T/readme.sh" >>"$T/readme-run.sh"
	cat "$T/readme-run.sh" >&2
	(cd "$T/build-server" && env "${TOOL_ENV[@]}" timeout "$CMD_TIMEOUT" \
		bash "$T/readme-run.sh") >"$T/readme.out" 2>&1 ||
		{ cat "$T/readme.out" >&2; die "the README's build-server commands failed"; }
	cat "$T/readme.out"
	[ "$(grep -cx 'Verified OK' "$T/readme.out")" = 2 ] ||
		die "the README's two verifications (engine, teehsm sign) did not both say Verified OK"
	# Anyone else: only the artifact, its signature and the public key, plain openssl.
	cp "$T/build-server/artifact" "$T/build-server/artifact.sig" "$T/build-server/release-key.pem" "$T/anyone/"
	(cd "$T/anyone" && openssl dgst -sha256 -verify release-key.pem -signature artifact.sig artifact) \
		>"$T/anyone.out" 2>&1 || { cat "$T/anyone.out" >&2; die "the artifact's signature does not verify elsewhere"; }
	grep -qx 'Verified OK' "$T/anyone.out" || die "openssl dgst -verify did not say Verified OK"
	echo "tampered" >>"$T/anyone/artifact"
	! (cd "$T/anyone" && openssl dgst -sha256 -verify release-key.pem -signature artifact.sig artifact) \
		>/dev/null 2>&1 || die "a tampered artifact verifies"
	[ "$(pubhash "$T/build-server/release-key.pem")" = "$(token_pubhash release-key)" ] ||
		die "release-key.pem is not the token's public key"
fi

assert_alive srv
server_stop srv
