#!/usr/bin/env bash
# OpenSSH: `ssh-keygen -D libteehsm.so` prints the public keys of the token (an RSA 2048 and an
# EC P-256 key made with pkcs11-tool), and they are the keys the token holds: the same key
# material as the public keys pkcs11-tool exports, converted to OpenSSH's format.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v ssh-keygen >/dev/null || die "ssh-keygen is not installed (apt-get install openssh-client)"

server_conf srv
server_init_token srv
server_start srv
client_conf "$T/client.conf" srv
C="$T/client.conf"

# name, key type, id
KEYS=("s1 rsa:2048 5301" "s2 EC:prime256v1 5302")
for k in "${KEYS[@]}"; do
	read -r label type id <<<"$k"
	log "pkcs11-tool --keypairgen --key-type $type"
	p11tool "$C" --login --pin "$TEST_USER_PIN" --keypairgen --key-type "$type" \
		--label "$label" --id "$id" >"$T/gen-$label.out" 2>&1 ||
		{ cat "$T/gen-$label.out" >&2; die "--keypairgen $type failed"; }
done

# What the token holds, in OpenSSH's format: key type and base64 of the key, one per line.
: >"$T/expected"
for k in "${KEYS[@]}"; do
	read -r label type id <<<"$k"
	p11tool "$C" --read-object --type pubkey --id "$id" -o "$T/$label.der" >"$T/read.out" 2>&1 ||
		{ cat "$T/read.out" >&2; die "--read-object --type pubkey --id $id failed"; }
	openssl pkey -pubin -inform DER -in "$T/$label.der" -out "$T/$label.pem" ||
		die "the exported public key $label is not a DER SubjectPublicKeyInfo"
	ssh-keygen -i -m PKCS8 -f "$T/$label.pem" >"$T/$label.ssh" ||
		die "ssh-keygen cannot convert the public key $label"
	awk '{ print $1, $2 }' "$T/$label.ssh" >>"$T/expected"
done
grep -q '^ssh-rsa ' "$T/expected" || die "no RSA key among the exported keys"
grep -q '^ecdsa-sha2-nistp256 ' "$T/expected" || die "no P-256 key among the exported keys"

log "ssh-keygen -D"
env TEEHSM_CONF="$C" "${TOOL_ENV[@]}" timeout "$CMD_TIMEOUT" \
	ssh-keygen -D "$MODULE" >"$T/D.out" 2>"$T/D.err" ||
	{ cat "$T/D.out" "$T/D.err" >&2; die "ssh-keygen -D failed"; }
cat "$T/D.out"
awk '{ print $1, $2 }' "$T/D.out" | sort >"$T/got"
sort -o "$T/expected" "$T/expected"
if ! diff -u "$T/expected" "$T/got" >&2; then
	cat "$T/D.err" >&2
	die "ssh-keygen -D does not print exactly the token's public keys"
fi

assert_alive srv
server_stop srv
