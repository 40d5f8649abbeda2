#!/usr/bin/env bash
# mkpki.sh — a development PKI for teehsm's mutual TLS.
#
#   certs/mkpki.sh DIR [--cn-prefix NAME] [--server-name dns:NAME|ip:ADDR]... [--force]
#
# Writes into DIR:
#   ca.pem, ca.key          self-signed CA (10 years; CA:TRUE, keyCertSign + cRLSign, both
#                           critical), signs the two leaves below
#   server.pem, server.key  teehsmd's certificate (2 years, extendedKeyUsage serverAuth): SAN
#                           DNS:localhost, IP:127.0.0.1, IP:::1 and each --server-name, so that a
#                           device's teehsmd reached over the network has a certificate naming it
#   client.pem, client.key  a client certificate (2 years, extendedKeyUsage clientAuth), CN
#                           "<prefix>-client"
#
# Every certificate has a subjectKeyIdentifier, the leaves an authorityKeyIdentifier too. Keys are
# EC P-256, mode 0600; serials are random. A --server-name is checked before anything is written:
# dns: takes a host name (letters, digits and '-' in dot-separated labels, no wildcard), ip: an
# IPv4 or IPv6 address. This is a development PKI: its CA key lies next to the certificates it
# signs. In production, keep the CA offline and issue real identities.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: mkpki.sh DIR [--cn-prefix NAME] [--server-name dns:NAME|ip:ADDR]... [--force]

Create a development PKI for teehsm in DIR (created if missing):
  ca.pem ca.key          self-signed CA, valid 10 years
  server.pem server.key  server certificate (serverAuth), valid 2 years, for
                         localhost/127.0.0.1/::1 and each --server-name
  client.pem client.key  client certificate (clientAuth), valid 2 years

Options:
  --cn-prefix NAME     prefix of the certificates' common names (default: teehsm-dev),
                       giving "NAME CA", "NAME-server" and "NAME-client"
  --server-name dns:NAME
                       also name the host NAME (e.g. dns:device-7.fleet.example) in the server
                       certificate; a host name, no wildcard; repeatable
  --server-name ip:ADDR
                       also name the IPv4 or IPv6 address ADDR (e.g. ip:192.0.2.7,
                       ip:2001:db8::7) in the server certificate; repeatable
  --force              replace an existing PKI in DIR (by default an existing DIR/ca.key is
                       never overwritten)
  -h, --help           this help
EOF
}

die() {
	echo "mkpki.sh: $*" >&2
	exit 1
}

# The subjectAltName checks (valid_dns, valid_ipv4, valid_ipv6), shared with mkpeer.sh.
# shellcheck source=certs/pkinames.sh
. "$(dirname "${BASH_SOURCE[0]}")/pkinames.sh"

# add_server_name dns:NAME|ip:ADDR: check it and add it to server_sans (once).
add_server_name() {
	local v=$1 san s
	case "$v" in
	dns:*)
		valid_dns "${v#dns:}" || die "--server-name $v: '${v#dns:}' is not a host name" \
			"(letters, digits and '-' in dot-separated labels of at most 63 characters;" \
			"no wildcard, no trailing dot; use ip: for an address)"
		san="DNS:${v#dns:}"
		;;
	ip:*)
		valid_ipv4 "${v#ip:}" || valid_ipv6 "${v#ip:}" ||
			die "--server-name $v: '${v#ip:}' is not an IPv4 or IPv6 address" \
				"(e.g. ip:192.0.2.7 or ip:2001:db8::7)"
		san="IP:${v#ip:}"
		;;
	*) die "--server-name takes dns:NAME or ip:ADDR, not '$v'" ;;
	esac
	for s in "${server_sans[@]}"; do
		[ "${s,,}" != "${san,,}" ] || return 0
	done
	server_sans+=("$san")
}

dir=""
prefix="teehsm-dev"
force=0
server_sans=("DNS:localhost" "IP:127.0.0.1" "IP:::1")
while [ $# -gt 0 ]; do
	case "$1" in
	--cn-prefix)
		[ $# -ge 2 ] || { usage >&2; die "--cn-prefix needs a value"; }
		prefix="$2"
		shift 2
		;;
	--cn-prefix=*)
		prefix="${1#--cn-prefix=}"
		shift
		;;
	--server-name)
		[ $# -ge 2 ] || { usage >&2; die "--server-name needs a value"; }
		add_server_name "$2"
		shift 2
		;;
	--server-name=*)
		add_server_name "${1#--server-name=}"
		shift
		;;
	--force)
		force=1
		shift
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
		[ -z "$dir" ] || { usage >&2; die "only one DIR, please (got '$dir' and '$1')"; }
		dir="$1"
		shift
		;;
	esac
done
[ -n "$dir" ] || { usage >&2; exit 2; }
case "$prefix" in
"" | */* | *[![:print:]]*) die "--cn-prefix must be printable, non-empty and contain no '/'" ;;
esac
command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"

if [ -e "$dir/ca.key" ] && [ "$force" -ne 1 ]; then
	die "$dir/ca.key already exists; refusing to overwrite it (use --force to replace the PKI)"
fi

mkdir -p "$dir"
# Build everything in a scratch directory inside DIR and move it into place at the end, so an
# interrupted run never leaves a half-made PKI (and keys never exist with a laxer mode).
umask 077
work="$(mktemp -d "$dir/.mkpki.XXXXXX")"
trap 'rm -rf "$work"' EXIT

days_ca=3650
days_leaf=730 # under the 825 days that TLS clients accept for leaf certificates

# Run openssl quietly, showing its chatter only when it fails.
ossl() {
	openssl "$@" 2>"$work/stderr" || {
		cat "$work/stderr" >&2
		die "failed: openssl $*"
	}
}

genkey() {
	ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-pkeyopt ec_param_enc:named_curve -out "$1"
	chmod 600 "$1"
}

# A positive random serial of at most 20 octets (RFC 5280 §4.1.2.2): 0x01 then 15 random bytes.
serial() {
	echo "0x01$(openssl rand -hex 15)"
}

cat >"$work/ca.ext" <<'EOF'
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
# The server's names were checked by add_server_name: none holds a ',', '#' or '$' that the
# extension file's syntax would misread.
cat >"$work/server.ext" <<EOF
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $(
	IFS=,
	echo "${server_sans[*]}"
)
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF
cat >"$work/client.ext" <<'EOF'
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF

# The CA: a CSR self-signed with the CA extensions (x509 -req lets us set a random serial).
genkey "$work/ca.key"
ossl req -new -key "$work/ca.key" -subj "/O=teehsm development/CN=$prefix CA" \
	-out "$work/ca.csr"
ossl x509 -req -in "$work/ca.csr" -signkey "$work/ca.key" -sha256 -days "$days_ca" \
	-set_serial "$(serial)" -extfile "$work/ca.ext" -out "$work/ca.pem"

leaf() { # leaf NAME CN PURPOSE
	genkey "$work/$1.key"
	ossl req -new -key "$work/$1.key" -subj "/O=teehsm development/CN=$2" \
		-out "$work/$1.csr"
	ossl x509 -req -in "$work/$1.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -sha256 \
		-days "$days_leaf" -set_serial "$(serial)" -extfile "$work/$1.ext" \
		-out "$work/$1.pem"
	openssl verify -x509_strict -purpose "$3" -CAfile "$work/ca.pem" "$work/$1.pem" >/dev/null ||
		die "the new $1 certificate does not verify (-purpose $3) against the new CA"
}
leaf server "$prefix-server" sslserver
leaf client "$prefix-client" sslclient

chmod 644 "$work"/*.pem
for f in ca server client; do
	mv -f "$work/$f.key" "$dir/$f.key"
	mv -f "$work/$f.pem" "$dir/$f.pem"
done

echo "mkpki.sh: development PKI written to $dir:"
for f in ca server client; do
	printf '  %-11s %s\n' "$f.pem" "$(openssl x509 -in "$dir/$f.pem" -noout -subject -enddate |
		tr '\n' ' ')"
done
echo "  server names: ${server_sans[*]}"
