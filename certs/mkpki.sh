#!/usr/bin/env bash
# mkpki.sh — a development PKI for teehsm's mutual TLS.
#
#   certs/mkpki.sh DIR [--cn-prefix NAME] [--force]
#
# Writes into DIR:
#   ca.pem, ca.key          self-signed CA (10 years), signs the two leaves below
#   server.pem, server.key  teehsmd's certificate (2 years): SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   client.pem, client.key  a client certificate (2 years), CN "<prefix>-client"
#
# Keys are EC P-256, mode 0600; serials are random. This is a development PKI: its CA key lies
# next to the certificates it signs. In production, keep the CA offline and issue real identities.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: mkpki.sh DIR [--cn-prefix NAME] [--force]

Create a development PKI for teehsm in DIR (created if missing):
  ca.pem ca.key          self-signed CA, valid 10 years
  server.pem server.key  server certificate, valid 2 years, for localhost/127.0.0.1/::1
  client.pem client.key  client certificate, valid 2 years

Options:
  --cn-prefix NAME  prefix of the certificates' common names (default: teehsm-dev),
                    giving "NAME CA", "NAME-server" and "NAME-client"
  --force           replace an existing PKI in DIR (by default an existing DIR/ca.key is
                    never overwritten)
  -h, --help        this help
EOF
}

die() {
	echo "mkpki.sh: $*" >&2
	exit 1
}

dir=""
prefix="teehsm-dev"
force=0
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
cat >"$work/server.ext" <<'EOF'
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
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

leaf() { # leaf NAME CN
	genkey "$work/$1.key"
	ossl req -new -key "$work/$1.key" -subj "/O=teehsm development/CN=$2" \
		-out "$work/$1.csr"
	ossl x509 -req -in "$work/$1.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -sha256 \
		-days "$days_leaf" -set_serial "$(serial)" -extfile "$work/$1.ext" \
		-out "$work/$1.pem"
	openssl verify -x509_strict -CAfile "$work/ca.pem" "$work/$1.pem" >/dev/null ||
		die "the new $1 certificate does not verify against the new CA"
}
leaf server "$prefix-server"
leaf client "$prefix-client"

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
