#!/usr/bin/env bash
# certs/mkpeer.sh — issue a client certificate for one more peer identity from a development PKI
# made by mkpki.sh. The server's policy names peers by this certificate: its subject CN
# (allow = cn:NAME ...) or its subjectAltName URIs and DNS names (allow = uri:... / dns:...).
# With --server it issues a server certificate instead, e.g. for another teehsmd of a fleet.
#
#   certs/mkpeer.sh DIR NAME [--server] [--san uri:URI|dns:NAME|ip:ADDR]... [--days N]
#
# Writes DIR/NAME.pem (certificate, CN=NAME, extendedKeyUsage clientAuth, or serverAuth with
# --server) and DIR/NAME.key (EC P-256, mode 0600). A server certificate needs at least one dns:
# or ip: SAN, the names its clients reach it by. dns: takes a host name (no wildcard), ip: an IPv4
# or IPv6 address; both are checked before anything is written. An existing DIR/NAME.key is never
# overwritten.
set -euo pipefail

die() {
	echo "mkpeer.sh: $*" >&2
	exit 1
}
usage() {
	cat <<'EOF'
usage: mkpeer.sh DIR NAME [--server] [--san uri:URI|dns:NAME|ip:ADDR]... [--days N]

Issue a TLS client certificate (extendedKeyUsage clientAuth) for the peer NAME (its subject CN)
from the development CA in DIR (made by certs/mkpki.sh). Writes DIR/NAME.pem and DIR/NAME.key.

  --server         issue a TLS server certificate (extendedKeyUsage serverAuth) instead; it
                   needs at least one --san dns: or ip:, the names clients reach the server by
  --san uri:URI    add a subjectAltName URI (e.g. uri:spiffe://fleet/build-01); repeatable
  --san dns:NAME   add a subjectAltName DNS name (a host name, no wildcard); repeatable
  --san ip:ADDR    add a subjectAltName IP address (IPv4 or IPv6, e.g. ip:192.0.2.7);
                   repeatable
  --days N         validity in days (default 730)
  -h, --help       this help
EOF
}

# The subjectAltName checks (valid_dns, valid_ipv4, valid_ipv6), shared with mkpki.sh.
# shellcheck source=certs/pkinames.sh
. "$(dirname "${BASH_SOURCE[0]}")/pkinames.sh"

dir="" name="" days=730 server=0
sans=()
while [ $# -gt 0 ]; do
	case "$1" in
	--san)
		[ $# -ge 2 ] || die "--san needs a value"
		case "$2" in
		uri:?*)
			# A ',' would start another SAN in the extension file, '#' a comment, '$' a
			# variable: refuse them rather than issue other names than asked.
			[[ "${2#uri:}" =~ ^[[:graph:]]+$ && "$2" != *[,#\$\"\'\\]* ]] ||
				die "--san $2: a URI here must be printable, without spaces or any of , # \$ \" ' \\"
			sans+=("URI:${2#uri:}")
			;;
		dns:*)
			valid_dns "${2#dns:}" || die "--san $2: '${2#dns:}' is not a host name (letters," \
				"digits and '-' in dot-separated labels of at most 63 characters; no" \
				"wildcard, no trailing dot; use ip: for an address)"
			sans+=("DNS:${2#dns:}")
			;;
		ip:*)
			valid_ipv4 "${2#ip:}" || valid_ipv6 "${2#ip:}" ||
				die "--san $2: '${2#ip:}' is not an IPv4 or IPv6 address" \
					"(e.g. ip:192.0.2.7 or ip:2001:db8::7)"
			sans+=("IP:${2#ip:}")
			;;
		*) die "--san takes uri:URI, dns:NAME or ip:ADDR, not '$2'" ;;
		esac
		shift 2
		;;
	--server)
		server=1
		shift
		;;
	--days)
		{ [ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]{0,4}$ ]]; } || die "--days needs a number"
		days="$2"
		shift 2
		;;
	-h | --help)
		usage
		exit 0
		;;
	-*)
		usage >&2
		die "unknown option: $1"
		;;
	*)
		if [ -z "$dir" ]; then
			dir="$1"
		elif [ -z "$name" ]; then
			name="$1"
		else
			usage >&2
			die "unexpected argument '$1'"
		fi
		shift
		;;
	esac
done
{ [ -n "$dir" ] && [ -n "$name" ]; } || {
	usage >&2
	exit 2
}
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] ||
	die "NAME must be 1 to 64 letters, digits, '.', '_' or '-' (it is also a file name)"
if [ "$server" = 1 ]; then
	eku=serverAuth purpose=sslserver kind=server
	[[ " ${sans[*]} " == *" DNS:"* || " ${sans[*]} " == *" IP:"* ]] ||
		die "--server needs at least one --san dns:NAME or --san ip:ADDR: the name its" \
			"clients reach it by (TLS clients check it)"
else
	eku=clientAuth purpose=sslclient kind=client
fi
{ [ -e "$dir/ca.key" ] && [ -e "$dir/ca.pem" ]; } ||
	die "$dir holds no CA (run certs/mkpki.sh $dir)"
[ ! -e "$dir/$name.key" ] || die "$dir/$name.key already exists; refusing to overwrite it"
command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"

umask 077
work="$(mktemp -d "$dir/.mkpeer.XXXXXX")"
trap 'rm -rf "$work"' EXIT
{
	echo "basicConstraints = critical, CA:false"
	echo "keyUsage = critical, digitalSignature"
	echo "extendedKeyUsage = $eku"
	if [ ${#sans[@]} -gt 0 ]; then
		(
			IFS=,
			echo "subjectAltName = ${sans[*]}"
		)
	fi
	echo "subjectKeyIdentifier = hash"
	echo "authorityKeyIdentifier = keyid, issuer"
} >"$work/peer.ext"
ossl() {
	openssl "$@" 2>"$work/stderr" || {
		cat "$work/stderr" >&2
		die "failed: openssl $*"
	}
}
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve \
	-out "$work/peer.key"
ossl req -new -key "$work/peer.key" -subj "/O=teehsm development/CN=$name" -out "$work/peer.csr"
ossl x509 -req -in "$work/peer.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -sha256 \
	-days "$days" -set_serial "0x01$(openssl rand -hex 15)" -extfile "$work/peer.ext" \
	-out "$work/peer.pem"
openssl verify -x509_strict -purpose "$purpose" -CAfile "$dir/ca.pem" "$work/peer.pem" \
	>/dev/null || die "the new $kind certificate does not verify (-purpose $purpose) against" \
	"$dir/ca.pem"
chmod 644 "$work/peer.pem"
mv "$work/peer.key" "$dir/$name.key"
mv "$work/peer.pem" "$dir/$name.pem"
echo "mkpeer.sh: $dir/$name.pem ($kind): $(openssl x509 -in "$dir/$name.pem" -noout -subject \
	-enddate | tr '\n' ' ')"
