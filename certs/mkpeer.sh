#!/usr/bin/env bash
# certs/mkpeer.sh — issue a client certificate for one more peer identity from a development PKI
# made by mkpki.sh. The server's policy names peers by this certificate: its subject CN
# (allow = cn:NAME ...) or its subjectAltName URIs and DNS names (allow = uri:... / dns:...).
#
#   certs/mkpeer.sh DIR NAME [--san uri:URI|dns:NAME]... [--days N]
#
# Writes DIR/NAME.pem (certificate, CN=NAME, extendedKeyUsage clientAuth) and DIR/NAME.key
# (EC P-256, mode 0600). An existing DIR/NAME.key is never overwritten.
set -euo pipefail

die() {
	echo "mkpeer.sh: $*" >&2
	exit 1
}
usage() {
	cat <<'EOF'
usage: mkpeer.sh DIR NAME [--san uri:URI|dns:NAME]... [--days N]

Issue a TLS client certificate for the peer NAME (its subject CN) from the development CA in
DIR (made by certs/mkpki.sh). Writes DIR/NAME.pem and DIR/NAME.key.

  --san uri:URI    add a subjectAltName URI (e.g. uri:spiffe://fleet/build-01); repeatable
  --san dns:NAME   add a subjectAltName DNS name; repeatable
  --days N         validity in days (default 730)
  -h, --help       this help
EOF
}

dir="" name="" days=730
sans=()
while [ $# -gt 0 ]; do
	case "$1" in
	--san)
		[ $# -ge 2 ] || die "--san needs a value"
		case "$2" in
		uri:?*) sans+=("URI:${2#uri:}") ;;
		dns:?*) sans+=("DNS:${2#dns:}") ;;
		*) die "--san takes uri:URI or dns:NAME, not '$2'" ;;
		esac
		shift 2
		;;
	--days)
		[ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]{0,4}$ ]] || die "--days needs a number"
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
[ -n "$dir" ] && [ -n "$name" ] || {
	usage >&2
	exit 2
}
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] ||
	die "NAME must be 1 to 64 letters, digits, '.', '_' or '-' (it is also a file name)"
[ -e "$dir/ca.key" ] && [ -e "$dir/ca.pem" ] || die "$dir holds no CA (run certs/mkpki.sh $dir)"
[ ! -e "$dir/$name.key" ] || die "$dir/$name.key already exists; refusing to overwrite it"
command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"

umask 077
work="$(mktemp -d "$dir/.mkpeer.XXXXXX")"
trap 'rm -rf "$work"' EXIT
{
	echo "basicConstraints = critical, CA:false"
	echo "keyUsage = critical, digitalSignature"
	echo "extendedKeyUsage = clientAuth"
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
openssl verify -x509_strict -purpose sslclient -CAfile "$dir/ca.pem" "$work/peer.pem" >/dev/null ||
	die "the new certificate does not verify against $dir/ca.pem"
chmod 644 "$work/peer.pem"
mv "$work/peer.key" "$dir/$name.key"
mv "$work/peer.pem" "$dir/$name.pem"
echo "mkpeer.sh: $dir/$name.pem: $(openssl x509 -in "$dir/$name.pem" -noout -subject -enddate |
	tr '\n' ' ')"
