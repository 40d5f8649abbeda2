#!/usr/bin/env bash
# The development PKI scripts: certs/mkpki.sh gives the CA (CA:TRUE, keyCertSign + cRLSign, both
# critical, 10 years), a server certificate (serverAuth only; localhost, 127.0.0.1, ::1 and each
# --server-name; 2 years, within the CA's) and a client certificate (clientAuth only), EC P-256
# keys in mode 0600, SKI and AKI; refuses bad --server-name values before writing anything and
# never overwrites a PKI without --force. certs/mkpeer.sh issues client peers with uri:, dns: and
# ip: SANs and --days, and with --server server peers (serverAuth, a dns: or ip: SAN required);
# bad names are refused. Last, a teehsmd with a --server-name PKI presents a certificate that
# openssl s_client and libteehsm.so accept for that name, and not for another.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MKPEER="$TEEHSM_SRC/certs/mkpeer.sh"
[ -e "$MKPEER" ] || die "$MKPEER is missing"

# --- Helpers -----------------------------------------------------------------------------------

# ext CERT EXT: EXT_HEAD, the header line of extension EXT (it ends in ": critical" when it is),
# and EXT_VAL, its value with its lines joined by a space; both "" when CERT lacks EXT.
ext() {
	local lines=() l
	mapfile -t lines < <(openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null)
	EXT_HEAD=${lines[0]:-} EXT_VAL=""
	for l in "${lines[@]:1}"; do
		l="${l#"${l%%[! ]*}"}"
		EXT_VAL+="${EXT_VAL:+ }${l%"${l##*[! ]}"}"
	done
}
ext_val() {
	ext "$1" "$2"
	echo "$EXT_VAL"
}

# expect WHAT GOT WANT: fail unless GOT is WANT.
expect() {
	[ "$2" = "$3" ] || die "$1 is '$2', expected '$3'"
}

# expect_ext CERT EXT WANT [critical]: the value of an extension (and that it is critical).
expect_ext() {
	local cert=$1 name=$2 want=$3
	ext "$cert" "$name"
	expect "$(basename "$cert") $name" "$EXT_VAL" "$want"
	[ "${4:-}" != critical ] || [[ "$EXT_HEAD" == *": critical" ]] ||
		die "$(basename "$cert") $name is not critical: $EXT_HEAD"
}

# cn CERT: the subject's common name.
cn() { openssl x509 -in "$1" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= //p'; }

# dates CERT: NB and NA, its notBefore and notAfter in seconds since the epoch.
dates() {
	local out
	out="$(openssl x509 -in "$1" -noout -startdate -enddate | sed 's/^[^=]*=//' |
		date -f - +%s)" || die "cannot read the dates of $1"
	NB=${out%%$'\n'*} NA=${out##*$'\n'}
	[[ "$NB" =~ ^[0-9]+$ && "$NA" =~ ^[0-9]+$ ]] || die "the dates of $1: $out"
}

# expect_days CERT MIN MAX: notAfter - notBefore is MIN to MAX days.
expect_days() {
	local days
	dates "$1"
	days=$(((NA - NB) / 86400))
	{ [ "$days" -ge "$2" ] && [ "$days" -le "$3" ]; } ||
		die "$(basename "$1") is valid for $days days, expected $2 to $3"
	log "$(basename "$1"): valid $days days"
}

# expect_within CERT CA: CERT's validity lies inside CA's.
expect_within() {
	local nb na
	dates "$1"
	nb=$NB na=$NA
	dates "$2"
	[ "$na" -le "$NA" ] || die "$(basename "$1") outlives its CA: notAfter $(date -ud "@$na")" \
		"after $(date -ud "@$NA")"
	[ "$nb" -ge "$NB" ] || die "$(basename "$1") is valid before its CA is"
}

# expect_key KEY CERT: KEY is an EC P-256 key of mode 0600 and CERT holds its public key.
expect_key() {
	local mode
	mode="$(stat -c %a "$1")"
	expect "the mode of $(basename "$1")" "$mode" 600
	openssl pkey -in "$1" -noout -text 2>/dev/null | grep -q "NIST CURVE: P-256" ||
		die "$(basename "$1") is not an EC P-256 key"
	[ "$(openssl pkey -in "$1" -pubout)" = "$(openssl x509 -in "$2" -noout -pubkey)" ] ||
		die "$(basename "$2") does not hold the public key of $(basename "$1")"
}

# expect_ski_aki CERT CA: CERT has a subjectKeyIdentifier and an authorityKeyIdentifier naming
# CA's subjectKeyIdentifier.
expect_ski_aki() {
	local ski aki
	ski="$(ext_val "$1" subjectKeyIdentifier)"
	[ -n "$ski" ] || die "$(basename "$1") has no subjectKeyIdentifier"
	aki="$(ext_val "$1" authorityKeyIdentifier)"
	[ -n "$aki" ] || die "$(basename "$1") has no authorityKeyIdentifier"
	[[ "$aki" == *"$(ext_val "$2" subjectKeyIdentifier)"* ]] ||
		die "$(basename "$1")'s authorityKeyIdentifier ($aki) is not its CA's key identifier"
}

# verifies CA CERT ARGS...: openssl verify CERT against CA with ARGS (-purpose, -verify_*).
verifies() {
	local ca=$1 cert=$2
	shift 2
	openssl verify -x509_strict -CAfile "$ca" "$@" "$cert" >"$T/verify.out" 2>&1
}
must_verify() {
	verifies "$@" ||
		die "openssl verify ${*:3} $(basename "$2") failed: $(tr '\n' ' ' <"$T/verify.out")"
}
# must_not_verify REASON-REGEX CA CERT ARGS...: the verification fails, for the reason expected.
must_not_verify() {
	local why=$1
	shift
	! verifies "$@" || die "openssl verify ${*:3} $(basename "$2") passed, expected it to fail"
	grep -Eq "$why" "$T/verify.out" ||
		die "openssl verify ${*:3} $(basename "$2") failed, but not with /$why/:" \
			"$(tr '\n' ' ' <"$T/verify.out")"
}
PURPOSE_ERR="unsuitable certificate purpose"

# refused WHAT MESSAGE-REGEX CMD...: CMD exits 1 with MESSAGE-REGEX on stderr.
refused() {
	local what=$1 want=$2 rc=0
	shift 2
	"$@" >"$T/refused.out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || die "$what: exited $rc, expected 1: $(tr '\n' ' ' <"$T/refused.out")"
	grep -Eq -- "$want" "$T/refused.out" ||
		die "$what: the message is not /$want/: $(tr '\n' ' ' <"$T/refused.out")"
	log "refused $what: $(tail -n 1 "$T/refused.out")"
}

SRV_EKU="TLS Web Server Authentication"
CLI_EKU="TLS Web Client Authentication"
LOOPBACK_SANS="DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"

# --- mkpki.sh: the default PKI -------------------------------------------------------------------
A="$T/a"
"$MKPKI" "$A" --cn-prefix pkitest >"$T/mkpki-a.out" 2>&1 ||
	{ cat "$T/mkpki-a.out" >&2; die "mkpki.sh $A failed"; }

# The CA.
expect "the CA's CN" "$(cn "$A/ca.pem")" "pkitest CA"
expect_ext "$A/ca.pem" basicConstraints "CA:TRUE" critical
expect_ext "$A/ca.pem" keyUsage "Certificate Sign, CRL Sign" critical
expect "the CA's extendedKeyUsage" "$(ext_val "$A/ca.pem" extendedKeyUsage)" ""
[ -n "$(ext_val "$A/ca.pem" subjectKeyIdentifier)" ] || die "the CA has no subjectKeyIdentifier"
names="$(openssl x509 -in "$A/ca.pem" -noout -subject -issuer -nameopt RFC2253)"
subject=${names%%$'\n'*} issuer=${names#*$'\n'}
expect "the CA's issuer" "${issuer#issuer=}" "${subject#subject=}"
must_verify "$A/ca.pem" "$A/ca.pem" -check_ss_sig
expect_days "$A/ca.pem" 3640 3660
expect_key "$A/ca.key" "$A/ca.pem"

# The server certificate.
expect "the server's CN" "$(cn "$A/server.pem")" "pkitest-server"
expect_ext "$A/server.pem" basicConstraints "CA:FALSE" critical
expect_ext "$A/server.pem" keyUsage "Digital Signature" critical
expect_ext "$A/server.pem" extendedKeyUsage "$SRV_EKU"
expect_ext "$A/server.pem" subjectAltName "$LOOPBACK_SANS"
expect_ski_aki "$A/server.pem" "$A/ca.pem"
must_verify "$A/ca.pem" "$A/server.pem" -purpose sslserver -verify_hostname localhost
must_verify "$A/ca.pem" "$A/server.pem" -purpose sslserver -verify_ip 127.0.0.1
must_verify "$A/ca.pem" "$A/server.pem" -purpose sslserver -verify_ip ::1
must_not_verify "hostname mismatch" "$A/ca.pem" "$A/server.pem" -purpose sslserver \
	-verify_hostname device-7.fleet.test
must_not_verify "$PURPOSE_ERR" "$A/ca.pem" "$A/server.pem" -purpose sslclient
expect_days "$A/server.pem" 729 731
expect_within "$A/server.pem" "$A/ca.pem"
expect_key "$A/server.key" "$A/server.pem"

# The client certificate.
expect "the client's CN" "$(cn "$A/client.pem")" "pkitest-client"
expect_ext "$A/client.pem" basicConstraints "CA:FALSE" critical
expect_ext "$A/client.pem" keyUsage "Digital Signature" critical
expect_ext "$A/client.pem" extendedKeyUsage "$CLI_EKU"
expect_ski_aki "$A/client.pem" "$A/ca.pem"
must_verify "$A/ca.pem" "$A/client.pem" -purpose sslclient
must_not_verify "$PURPOSE_ERR" "$A/ca.pem" "$A/client.pem" -purpose sslserver
expect_days "$A/client.pem" 729 731
expect_within "$A/client.pem" "$A/ca.pem"
expect_key "$A/client.key" "$A/client.pem"
for f in ca server client; do
	expect "the mode of $f.pem" "$(stat -c %a "$A/$f.pem")" 644
done
[ -z "$(find "$A" -name '.mkpki.*')" ] || die "mkpki.sh left its scratch directory in $A"
log "mkpki.sh: CA, server and client certificates are as they should be"

# Again without --force: refused, nothing changed.
sha256sum "$A"/* >"$T/a.sha256"
refused "mkpki.sh on an existing PKI" "already exists; refusing to overwrite" \
	"$MKPKI" "$A" --cn-prefix pkitest
sha256sum -c --quiet "$T/a.sha256" || die "mkpki.sh changed the PKI in $A without --force"
expect "the files in $A" "$(find "$A" -mindepth 1 | sort | tr '\n' ' ')" \
	"$(awk '{ print $2 }' "$T/a.sha256" | sort | tr '\n' ' ')"
# With --force, a new PKI replaces it.
"$MKPKI" "$A" --cn-prefix pkitest --force >"$T/mkpki-a.out" 2>&1 ||
	{ cat "$T/mkpki-a.out" >&2; die "mkpki.sh --force failed"; }
! sha256sum -c --quiet "$T/a.sha256" >/dev/null 2>&1 || die "mkpki.sh --force changed nothing"
must_verify "$A/ca.pem" "$A/server.pem" -purpose sslserver -verify_hostname localhost

# --- mkpki.sh --server-name ----------------------------------------------------------------------
# Bad values are refused while the options are parsed: DIR stays as it was (here, empty).
mkdir "$T/bad"
for v in 'dns:*.fleet.test' dns:under_score.test dns:-lead.test dns:a..b dns:trailing.dot. \
	dns:192.0.2.7 'dns:a,IP:10.0.0.1' dns: ip:999.1.1.1 ip:foo ip:1.2.3 ip:01.2.3.4 \
	ip:fe80::1%eth0 ip:1::2::3 ip:12345::1 ip: host:x; do
	case "$v" in
	dns:*) want="is not a host name" ;;
	ip:*) want="is not an IPv4 or IPv6 address" ;;
	*) want="takes dns:NAME or ip:ADDR" ;;
	esac
	refused "mkpki.sh --server-name $v" "$want" \
		"$MKPKI" "$T/bad" --server-name dns:fine.fleet.test --server-name "$v"
	[ -z "$(ls -A "$T/bad")" ] || die "mkpki.sh --server-name $v wrote into $T/bad: $(ls -A "$T/bad")"
done
refused "mkpki.sh --server-name without a value" "needs a value" "$MKPKI" "$T/bad" --server-name
[ ! -e "$T/bad2" ] || die "$T/bad2 exists"
refused "mkpki.sh --server-name=ip:foo" "is not an IPv4 or IPv6 address" \
	"$MKPKI" "$T/bad2" --server-name=ip:foo
[ ! -e "$T/bad2" ] || die "a refused mkpki.sh created $T/bad2"

# The PKI the server below uses ($T/pki, CN prefix "integ" as lib.sh's policy expects).
P="$T/pki"
"$MKPKI" "$P" --cn-prefix integ --server-name dns:device-7.fleet.test --server-name ip:192.0.2.7 \
	--server-name=ip:2001:db8::7 --server-name dns:LOCALHOST >"$T/mkpki.out" 2>&1 ||
	{ cat "$T/mkpki.out" >&2; die "mkpki.sh --server-name failed"; }
want="$LOOPBACK_SANS, DNS:device-7.fleet.test, IP Address:192.0.2.7"
want+=", IP Address:2001:DB8:0:0:0:0:0:7" # as openssl prints 2001:db8::7
expect_ext "$P/server.pem" subjectAltName "$want"
expect_ext "$P/server.pem" extendedKeyUsage "$SRV_EKU"
expect_ext "$P/client.pem" extendedKeyUsage "$CLI_EKU"
expect "the client's CN" "$(cn "$P/client.pem")" "integ-client"
for args in "-verify_hostname device-7.fleet.test" "-verify_hostname localhost" \
	"-verify_ip 192.0.2.7" "-verify_ip 2001:db8::7" "-verify_ip 127.0.0.1"; do
	# shellcheck disable=SC2086 # the option and its value
	must_verify "$P/ca.pem" "$P/server.pem" -purpose sslserver $args
done
must_not_verify "hostname mismatch" "$P/ca.pem" "$P/server.pem" -purpose sslserver \
	-verify_hostname device-8.fleet.test
must_not_verify "IP address mismatch" "$P/ca.pem" "$P/server.pem" -purpose sslserver \
	-verify_ip 192.0.2.8
must_not_verify "$PURPOSE_ERR" "$P/ca.pem" "$P/server.pem" -purpose sslclient
expect_days "$P/server.pem" 729 731
expect_within "$P/server.pem" "$P/ca.pem"
grep -q "server names: DNS:localhost IP:127.0.0.1 IP:::1 DNS:device-7.fleet.test" "$T/mkpki.out" ||
	die "mkpki.sh did not list the server's names: $(cat "$T/mkpki.out")"
log "mkpki.sh --server-name: the server certificate names the device"

# --- mkpeer.sh -----------------------------------------------------------------------------------
"$MKPEER" "$P" build-01 --san uri:spiffe://fleet/build-01 --san dns:build-01.fleet.test \
	--san ip:10.1.2.3 --san ip:fd00::5 --days 45 >>"$T/mkpki.out" 2>&1 ||
	{ cat "$T/mkpki.out" >&2; die "mkpeer.sh build-01 failed"; }
C="$P/build-01.pem"
expect "build-01's CN" "$(cn "$C")" "build-01"
expect_ext "$C" basicConstraints "CA:FALSE" critical
expect_ext "$C" keyUsage "Digital Signature" critical
expect_ext "$C" extendedKeyUsage "$CLI_EKU"
want="URI:spiffe://fleet/build-01, DNS:build-01.fleet.test, IP Address:10.1.2.3"
want+=", IP Address:FD00:0:0:0:0:0:0:5"
expect_ext "$C" subjectAltName "$want"
expect_ski_aki "$C" "$P/ca.pem"
expect_days "$C" 45 45
expect_key "$P/build-01.key" "$C"
must_verify "$P/ca.pem" "$C" -purpose sslclient
must_not_verify "$PURPOSE_ERR" "$P/ca.pem" "$C" -purpose sslserver

"$MKPEER" "$P" hsm-2 --server --san dns:hsm-2.fleet.test --san ip:192.0.2.20 \
	>>"$T/mkpki.out" 2>&1 || { cat "$T/mkpki.out" >&2; die "mkpeer.sh --server hsm-2 failed"; }
S="$P/hsm-2.pem"
expect "hsm-2's CN" "$(cn "$S")" "hsm-2"
expect_ext "$S" basicConstraints "CA:FALSE" critical
expect_ext "$S" keyUsage "Digital Signature" critical
expect_ext "$S" extendedKeyUsage "$SRV_EKU"
expect_ext "$S" subjectAltName "DNS:hsm-2.fleet.test, IP Address:192.0.2.20"
expect_ski_aki "$S" "$P/ca.pem"
expect_days "$S" 729 731
expect_within "$S" "$P/ca.pem"
expect_key "$P/hsm-2.key" "$S"
must_verify "$P/ca.pem" "$S" -purpose sslserver -verify_hostname hsm-2.fleet.test
must_verify "$P/ca.pem" "$S" -purpose sslserver -verify_ip 192.0.2.20
must_not_verify "hostname mismatch" "$P/ca.pem" "$S" -purpose sslserver -verify_hostname localhost
must_not_verify "$PURPOSE_ERR" "$P/ca.pem" "$S" -purpose sslclient
log "mkpeer.sh: a client peer and a --server peer are as they should be"

# Refusals: nothing is written.
refused "mkpeer.sh --server without a SAN" \
	"--server needs at least one --san dns:NAME or --san ip:ADDR" \
	"$MKPEER" "$P" hsm-3 --server
refused "mkpeer.sh --server with a URI SAN only" "--server needs at least one" \
	"$MKPEER" "$P" hsm-3 --server --san uri:spiffe://fleet/hsm-3
for v in ip:999.1.1.1 ip:foo ip:1.2.3.4.5 ip:fe80::1%eth0; do
	refused "mkpeer.sh --san $v" "is not an IPv4 or IPv6 address" \
		"$MKPEER" "$P" hsm-3 --server --san dns:hsm-3.fleet.test --san "$v"
done
for v in 'dns:*.fleet.test' dns:bad_name.test dns:-x.test dns:a..b dns:; do
	refused "mkpeer.sh --san $v" "is not a host name" "$MKPEER" "$P" hsm-3 --san "$v"
done
refused "mkpeer.sh --san with a ',' in a URI" "a URI here must be" \
	"$MKPEER" "$P" hsm-3 --san "uri:spiffe://fleet/x,DNS:evil.test"
refused "mkpeer.sh --san x:y" "--san takes uri:URI, dns:NAME or ip:ADDR" \
	"$MKPEER" "$P" hsm-3 --san x:y
{ [ ! -e "$P/hsm-3.pem" ] && [ ! -e "$P/hsm-3.key" ]; } || die "a refused mkpeer.sh wrote hsm-3"
[ -z "$(find "$P" -name '.mkpeer.*')" ] || die "mkpeer.sh left its scratch directory in $P"
sha256sum "$P/build-01.pem" "$P/build-01.key" >"$T/b.sha256"
refused "mkpeer.sh over an existing peer" "already exists; refusing to overwrite" \
	"$MKPEER" "$P" build-01 --san dns:other.fleet.test
sha256sum -c --quiet "$T/b.sha256" || die "mkpeer.sh replaced build-01"

# --- On the wire: teehsmd presents the certificate naming the device ----------------------------
server_conf srv
server_init_token srv
server_start srv
port=${SRV_PORT[srv]}

# s_client NAME: a TLS handshake with the server, checking that its certificate carries NAME.
s_client() {
	timeout 20 openssl s_client -connect "127.0.0.1:$port" -servername "$1" -verify_hostname "$1" \
		-CAfile "$P/ca.pem" -cert "$P/client.pem" -key "$P/client.key" -verify_return_error \
		</dev/null >"$T/s_client.out" 2>&1
}
s_client device-7.fleet.test || die "s_client -verify_hostname device-7.fleet.test failed:" \
	"$(tr '\n' ' ' <"$T/s_client.out")"
grep -q "Verify return code: 0 (ok)" "$T/s_client.out" ||
	die "s_client did not accept the server for device-7.fleet.test: $(tr '\n' ' ' <"$T/s_client.out")"
expect "the certificate teehsmd presents" \
	"$(openssl x509 -in "$T/s_client.out" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in "$P/server.pem" -noout -fingerprint -sha256)"
! s_client device-8.fleet.test || die "s_client accepted the server for device-8.fleet.test"
grep -q "hostname mismatch" "$T/s_client.out" ||
	die "s_client refused device-8.fleet.test, but not for its name: $(tr '\n' ' ' <"$T/s_client.out")"
log "openssl s_client: the server's certificate verifies for device-7.fleet.test, not device-8"

# libteehsm.so itself, connecting to 127.0.0.1 and checking the name device-7.fleet.test.
client_conf "$T/d7.conf" srv "$P" "server_name = device-7.fleet.test"
drive "$T/d7.conf" e2e
client_conf "$T/d8.conf" srv "$P" "server_name = device-8.fleet.test"
log "p11drive expect-refused (TEEHSM_CONF=d8.conf, TEEHSM_DEBUG=1)"
TEEHSM_DEBUG=1 TEEHSM_CONF="$T/d8.conf" timeout "$CMD_TIMEOUT" "$P11DRIVE" expect-refused \
	"$MODULE" >"$T/d8.out" 2>&1 || { cat "$T/d8.out" >&2; die "p11drive expect-refused failed"; }
grep -q "the server certificate does not carry the name 'device-8.fleet.test'" "$T/d8.out" ||
	{ cat "$T/d8.out" >&2; die "libteehsm.so refused device-8.fleet.test, but not for its name"; }
log "libteehsm.so: server_name device-7.fleet.test is accepted, device-8.fleet.test refused"
server_stop srv
