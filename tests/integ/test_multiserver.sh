#!/usr/bin/env bash
# Several servers behind one module: two teehsmd, each with its own token (different labels),
# named on two `server` lines of one client config. The tokens of the first server are in slot
# 0, those of the second in slot 65536 (0x10000). Checked with real tools: pkcs11-tool lists
# both slots and labels; GnuTLS's p11tool shows both tokens' URIs and token=LABEL selects the
# right one; keys made on one token are not seen on the other; signatures made on each token
# verify against that token's exported public key. A stopped server's slot disappears while
# the other keeps working, and with no server left C_GetSlotList fails. The same server twice
# is refused in C_Initialize; a wrong per-server name leaves only that server out.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

unset TEEHSM_DEBUG # the module's debug output is asked for explicitly below
LABEL_A="integ-token-a"
LABEL_B="integ-token-b"

# Both servers use the lib's one PKI: its server certificate names 127.0.0.1 (and localhost),
# which the default name of a `server = 127.0.0.1:PORT` line (its host) verifies against.
server_conf a
server_conf b
server_init_token a "$LABEL_A"
server_init_token b "$LABEL_B"
server_start a
server_start b
PORT_A=${SRV_PORT[a]}
PORT_B=${SRV_PORT[b]}
[ "$PORT_A" != "$PORT_B" ] || die "both servers listen on port $PORT_A"
C="$T/client.conf"
client_conf "$C" a "$T/pki" "server = 127.0.0.1:$PORT_B"
[ "$(grep -c '^server = ' "$C")" -eq 2 ] || die "$C does not have two server lines"

# list_slots CONF OUT: pkcs11-tool -L into OUT (stdout and stderr); fails like the tool.
list_slots() {
	p11tool "$1" -L >"$2" 2>&1
}

# slot_ids FILE: the slot IDs pkcs11-tool -L printed ("Slot N (0xID): ..."), one per line.
slot_ids() {
	sed -n 's/^Slot [0-9][0-9]* (\(0x[0-9a-fA-F]*\)).*/\1/p' "$1"
}

# label_of_slot FILE SLOT_HEX: the token label -L printed for that slot.
label_of_slot() {
	awk -v want="($2):" '
		/^Slot / { cur = $3 }
		cur == want && /token label/ { sub(/^[^:]*: */, ""); sub(/ *$/, ""); print; exit }
	' "$1"
}

# expect_slots FILE WHAT HEX...: FILE lists exactly the slots HEX... (in that order).
expect_slots() {
	local f=$1 what=$2 got want
	shift 2
	got="$(slot_ids "$f" | tr '\n' ' ')"
	want="$* "
	[ "$got" = "$want" ] || { cat "$f" >&2; die "$what: -L lists slots '${got% }', expected '${want% }'"; }
}

log "pkcs11-tool -L with both servers"
list_slots "$C" "$T/L.out" || { cat "$T/L.out" >&2; die "pkcs11-tool -L failed with both servers up"; }
cat "$T/L.out"
expect_slots "$T/L.out" "both servers up" 0x0 0x10000
[ "$(label_of_slot "$T/L.out" 0x0)" = "$LABEL_A" ] ||
	die "slot 0 does not show token '$LABEL_A' (got '$(label_of_slot "$T/L.out" 0x0)')"
[ "$(label_of_slot "$T/L.out" 0x10000)" = "$LABEL_B" ] ||
	die "slot 65536 does not show token '$LABEL_B' (got '$(label_of_slot "$T/L.out" 0x10000)')"

log "a key pair on each token: ka on slot 0, kb on slot 65536"
p11tool "$C" --slot 0 --login --pin "$TEST_USER_PIN" --keypairgen --key-type EC:prime256v1 \
	--label ka --id 0a0a >"$T/gen-a.out" 2>&1 ||
	{ cat "$T/gen-a.out" >&2; die "--keypairgen on slot 0 failed"; }
p11tool "$C" --slot 65536 --login --pin "$TEST_USER_PIN" --keypairgen --key-type EC:prime256v1 \
	--label kb --id 0b0b >"$T/gen-b.out" 2>&1 ||
	{ cat "$T/gen-b.out" >&2; die "--keypairgen on slot 65536 failed"; }

# Each token holds its own key only.
# objects SLOT NAME: pkcs11-tool -O (logged in) of SLOT into $T/O-NAME.out.
objects() {
	p11tool "$C" --slot "$1" --login --pin "$TEST_USER_PIN" --list-objects >"$T/O-$2.out" 2>&1 ||
		{ cat "$T/O-$2.out" >&2; die "--list-objects on slot $1 failed"; }
}
objects 0 a
objects 65536 b
cat "$T/O-a.out" "$T/O-b.out"
[ "$(grep -Ec 'label: *ka$' "$T/O-a.out")" -eq 2 ] || die "slot 0 does not list the two objects of ka"
[ "$(grep -Ec 'label: *kb$' "$T/O-b.out")" -eq 2 ] || die "slot 65536 does not list the two objects of kb"
if grep -Eq 'label: *kb$' "$T/O-a.out"; then die "slot 0 (token $LABEL_A) lists kb, made on slot 65536"; fi
if grep -Eq 'label: *ka$' "$T/O-b.out"; then die "slot 65536 (token $LABEL_B) lists ka, made on slot 0"; fi

# Select by label too: pkcs11-tool --token-label finds each token wherever it is.
p11tool "$C" --token-label "$LABEL_B" --list-objects >"$T/O-tl.out" 2>&1 ||
	{ cat "$T/O-tl.out" >&2; die "--token-label $LABEL_B --list-objects failed"; }
grep -Eq 'label: *kb$' "$T/O-tl.out" || die "--token-label $LABEL_B does not show kb's public key"
if grep -Eq 'label: *ka$' "$T/O-tl.out"; then die "--token-label $LABEL_B shows ka"; fi

log "sign on each token with pkcs11-tool, verify with OpenSSL"
echo "signed on two servers" >"$T/msg"
openssl dgst -sha256 -binary "$T/msg" >"$T/msg.hash"
# sign_on SLOT KEY OUT: raw ECDSA over $T/msg.hash with key KEY on SLOT, OpenSSL format.
sign_on() {
	p11tool "$C" --slot "$1" --login --pin "$TEST_USER_PIN" --sign -m ECDSA \
		--signature-format openssl --label "$2" -i "$T/msg.hash" -o "$3" >"$T/sign.out" 2>&1 ||
		{ cat "$T/sign.out" >&2; die "--sign -m ECDSA with $2 on slot $1 failed"; }
}
# pubkey_of SLOT KEY PEM: export KEY's public key from SLOT as PEM.
pubkey_of() {
	p11tool "$C" --slot "$1" --read-object --type pubkey --label "$2" -o "$T/$2.der" \
		>"$T/read.out" 2>&1 || { cat "$T/read.out" >&2; die "--read-object $2 on slot $1 failed"; }
	openssl pkey -pubin -inform DER -in "$T/$2.der" -out "$3" ||
		die "the public key of $2 is not a DER SubjectPublicKeyInfo"
}
# verifies PEM SIG: 0 if SIG is a valid signature of $T/msg.hash under PEM.
verifies() {
	openssl pkeyutl -verify -pubin -inkey "$1" -in "$T/msg.hash" -sigfile "$2" >/dev/null 2>&1
}
pubkey_of 0 ka "$T/pub-a.pem"
pubkey_of 65536 kb "$T/pub-b.pem"
cmp -s "$T/pub-a.pem" "$T/pub-b.pem" && die "ka and kb have the same public key"
sign_on 0 ka "$T/a.sig"
sign_on 65536 kb "$T/b.sig"
verifies "$T/pub-a.pem" "$T/a.sig" || die "the signature made on slot 0 does not verify with ka"
verifies "$T/pub-b.pem" "$T/b.sig" || die "the signature made on slot 65536 does not verify with kb"
if verifies "$T/pub-b.pem" "$T/a.sig"; then die "the signature made with ka verifies with kb"; fi
if verifies "$T/pub-a.pem" "$T/b.sig"; then die "the signature made with kb verifies with ka"; fi

if command -v p11tool >/dev/null; then
	# gnutls_tool ARGS...: GnuTLS's p11tool with libteehsm.so as its only provider.
	gnutls_tool() {
		env TEEHSM_CONF="$C" GNUTLS_PIN="$TEST_USER_PIN" "${TOOL_ENV[@]}" \
			timeout "$CMD_TIMEOUT" p11tool --provider "$MODULE" "$@"
	}
	log "p11tool --list-tokens shows both tokens"
	gnutls_tool --list-tokens >"$T/tokens.out" 2>&1 ||
		{ cat "$T/tokens.out" >&2; die "p11tool --list-tokens failed"; }
	cat "$T/tokens.out"
	for l in "$LABEL_A" "$LABEL_B"; do
		[ "$(grep -Ec "URL: pkcs11:.*;token=$l(;|\$)" "$T/tokens.out")" -eq 1 ] ||
			die "p11tool --list-tokens does not show exactly one URI with token=$l"
	done
	url_a=$(sed -n "s/^[[:space:]]*URL: \(pkcs11:.*;token=$LABEL_A\)\$/\1/p" "$T/tokens.out")
	url_b=$(sed -n "s/^[[:space:]]*URL: \(pkcs11:.*;token=$LABEL_B\)\$/\1/p" "$T/tokens.out")
	serial_a=$(printf '%s\n' "$url_a" | tr ';' '\n' | sed -n 's/^serial=//p')
	serial_b=$(printf '%s\n' "$url_b" | tr ';' '\n' | sed -n 's/^serial=//p')
	if [ -z "$serial_a" ] || [ -z "$serial_b" ]; then
		die "a token URI has no serial ('$url_a', '$url_b')"
	fi
	[ "$serial_a" != "$serial_b" ] || die "both tokens have serial $serial_a"

	log "p11tool: token=LABEL selects the right token"
	for side in a b; do
		if [ $side = a ]; then l=$LABEL_A mine=ka other=kb; else l=$LABEL_B mine=kb other=ka; fi
		gnutls_tool --login --list-privkeys "pkcs11:token=$l" >"$T/priv-$side.out" 2>&1 ||
			{ cat "$T/priv-$side.out" >&2; die "p11tool --list-privkeys pkcs11:token=$l failed"; }
		cat "$T/priv-$side.out"
		grep -q "token=$l;.*object=$mine;type=private" "$T/priv-$side.out" ||
			die "p11tool --list-privkeys pkcs11:token=$l does not list $mine"
		if grep -q "object=$other;" "$T/priv-$side.out"; then
			die "p11tool --list-privkeys pkcs11:token=$l lists $other, which is on the other token"
		fi
		gnutls_tool --login --test-sign "pkcs11:token=$l;object=$mine;type=private" \
			>"$T/tsign-$side.out" 2>&1 ||
			{ cat "$T/tsign-$side.out" >&2; die "p11tool --test-sign with $mine on token $l failed"; }
		[ "$(grep -c '\.\.\. ok' "$T/tsign-$side.out")" -ge 2 ] ||
			{ cat "$T/tsign-$side.out" >&2; die "p11tool --test-sign with $mine on token $l did not verify"; }
		# The other token's key is not found through this token's URI. (Not with a failing
		# --test-sign: under the ASan preload GnuTLS's p11tool hangs in exit() after such a
		# failure, with any module, SoftHSM too.)
		rc=0
		gnutls_tool --login --list-privkeys "pkcs11:token=$l;object=$other" \
			>"$T/priv-x.out" 2>&1 || rc=$?
		if [ "$rc" -eq 124 ] || [ "$rc" -ge 128 ]; then
			cat "$T/priv-x.out" >&2
			die "p11tool --list-privkeys pkcs11:token=$l;object=$other hung or crashed (exit $rc)"
		fi
		if grep -q "object=$other" "$T/priv-x.out"; then
			cat "$T/priv-x.out" >&2
			die "p11tool found $other through pkcs11:token=$l, where it does not exist"
		fi
		gnutls_tool --login --list-privkeys "pkcs11:token=$l;object=$mine" \
			>"$T/priv-y.out" 2>&1 ||
			{ cat "$T/priv-y.out" >&2; die "p11tool --list-privkeys pkcs11:token=$l;object=$mine failed"; }
		grep -q "object=$mine;type=private" "$T/priv-y.out" ||
			die "p11tool does not find $mine through pkcs11:token=$l;object=$mine"
	done
else
	log "p11tool (gnutls-bin) is not installed: skipping the GnuTLS checks"
fi

log "the same server twice is refused in C_Initialize"
client_conf "$T/dup.conf" a "$T/pki" "server = 127.0.0.1:$PORT_B" "server = 127.0.0.1:$PORT_A"
dup_line=$(grep -n "^server = 127.0.0.1:$PORT_A\$" "$T/dup.conf" | sed -n '2s/:.*//p')
[ -n "$dup_line" ] || die "cannot find the repeated server line in dup.conf"
rc=0
list_slots "$T/dup.conf" "$T/dup.out" || rc=$?
cat "$T/dup.out"
[ "$rc" -ne 0 ] || die "C_Initialize accepted the same server twice"
if [ "$rc" -eq 124 ] || [ "$rc" -ge 128 ]; then
	die "pkcs11-tool hung or crashed (exit $rc) on the same server twice"
fi
grep -q "C_Initialize.*CKR_GENERAL_ERROR" "$T/dup.out" ||
	die "C_Initialize did not return CKR_GENERAL_ERROR for the same server twice"
grep -Fq "$T/dup.conf:$dup_line:" "$T/dup.out" ||
	die "the message about the same server twice does not name dup.conf:$dup_line"
if grep -q "Sanitizer" "$T/dup.out"; then die "sanitizer report on the same server twice"; fi

log "per-server names: the right name on the second line verifies"
client_conf "$T/named.conf" a "$T/pki" "server = 127.0.0.1:$PORT_B localhost"
list_slots "$T/named.conf" "$T/named.out" ||
	{ cat "$T/named.out" >&2; die "pkcs11-tool -L failed with 'server = 127.0.0.1:$PORT_B localhost'"; }
expect_slots "$T/named.out" "server b named localhost" 0x0 0x10000

log "per-server names: a wrong name on the second line leaves that server out"
client_conf "$T/wrong.conf" a "$T/pki" "server = 127.0.0.1:$PORT_B wrong.example"
list_slots "$T/wrong.conf" "$T/wrong.out" ||
	{ cat "$T/wrong.out" >&2; die "pkcs11-tool -L failed when only server b has a wrong name"; }
cat "$T/wrong.out"
expect_slots "$T/wrong.out" "server b named wrong.example" 0x0
[ "$(label_of_slot "$T/wrong.out" 0x0)" = "$LABEL_A" ] || die "slot 0 does not show '$LABEL_A' with server b misnamed"
if grep -q "^teehsm:" "$T/wrong.out"; then die "the module printed without TEEHSM_DEBUG (server b misnamed)"; fi
rc=0
env TEEHSM_DEBUG=1 TEEHSM_CONF="$T/wrong.conf" "${TOOL_ENV[@]}" timeout "$CMD_TIMEOUT" \
	pkcs11-tool --module "$MODULE" -L >"$T/wrong-dbg.out" 2>"$T/wrong-dbg.err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/wrong-dbg.out" "$T/wrong-dbg.err" >&2; die "pkcs11-tool -L with TEEHSM_DEBUG=1 failed (exit $rc)"; }
grep -E "^teehsm: .*127\.0\.0\.1:${PORT_B}[^0-9].*'wrong\.example'" "$T/wrong-dbg.err" ||
	{ cat "$T/wrong-dbg.err" >&2; die "TEEHSM_DEBUG=1 output does not report server b's name mismatch (wrong.example)"; }
if grep -E "^teehsm: .*127\.0\.0\.1:${PORT_A}[^0-9].*(certificate|name)" "$T/wrong-dbg.err"; then
	die "TEEHSM_DEBUG=1 output reports a certificate problem for server a, whose name is right"
fi

log "a wrong file-wide server_name is overridden by a line's own name"
client_conf "$T/fw.conf" a "$T/pki" "server = 127.0.0.1:$PORT_B 127.0.0.1" \
	"server_name = wrong.example"
list_slots "$T/fw.conf" "$T/fw.out" ||
	{ cat "$T/fw.out" >&2; die "pkcs11-tool -L failed with server_name = wrong.example and a named server b"; }
expect_slots "$T/fw.out" "server_name wrong.example, server b named 127.0.0.1" 0x10000

log "server b stops: slot 0 still works, slot 65536 is gone"
server_stop b
list_slots "$C" "$T/L1.out" || { cat "$T/L1.out" >&2; die "pkcs11-tool -L failed with server a up and b down"; }
cat "$T/L1.out"
expect_slots "$T/L1.out" "server b down" 0x0
[ "$(label_of_slot "$T/L1.out" 0x0)" = "$LABEL_A" ] || die "slot 0 does not show '$LABEL_A' with server b down"
if grep -q "$LABEL_B" "$T/L1.out"; then die "-L still shows token $LABEL_B with server b down"; fi
sign_on 0 ka "$T/a2.sig"
verifies "$T/pub-a.pem" "$T/a2.sig" || die "the signature made on slot 0 with server b down does not verify"
if p11tool "$C" --slot 65536 --list-objects >"$T/O-gone.out" 2>&1; then
	cat "$T/O-gone.out" >&2
	die "--slot 65536 --list-objects succeeded with server b down"
fi

log "both servers stop: -L fails"
server_stop a
rc=0
list_slots "$C" "$T/L0.out" || rc=$?
cat "$T/L0.out"
[ "$rc" -ne 0 ] || die "pkcs11-tool -L succeeded with no server up"
if [ "$rc" -eq 124 ] || [ "$rc" -ge 128 ]; then
	die "pkcs11-tool hung or crashed (exit $rc) with no server up"
fi
grep -q "CKR_DEVICE_ERROR" "$T/L0.out" || die "-L with no server up did not report CKR_DEVICE_ERROR"
if grep -q "Sanitizer" "$T/L0.out"; then die "sanitizer report with no server up"; fi
