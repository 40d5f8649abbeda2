#!/usr/bin/env bash
# certs/mkcrl.sh — the certificate revocation list of a development PKI made by mkpki.sh.
#
#   certs/mkcrl.sh DIR [--revoke CERT.pem]... [--days N]
#
# Revokes each CERT (issued by DIR's CA) and writes DIR/crl.pem, listing every certificate
# revoked so far (the record is kept in DIR/crl-db/). Point teehsmd's `crl` key at DIR/crl.pem
# and send it SIGHUP (systemctl reload teehsmd): connections of revoked peers are closed and
# they cannot connect again. Run it without --revoke to renew the list before it expires.
set -euo pipefail

die() {
	echo "mkcrl.sh: $*" >&2
	exit 1
}
usage() {
	cat <<'EOF'
usage: mkcrl.sh DIR [--revoke CERT.pem]... [--days N]

Write DIR/crl.pem, the CRL of the development CA in DIR, after revoking each CERT.

  --revoke CERT.pem  revoke this certificate (issued by DIR/ca.pem); repeatable
  --days N           the CRL's validity (nextUpdate) in days (default 30)
  -h, --help         this help
EOF
}

dir="" days=30
revoke=()
while [ $# -gt 0 ]; do
	case "$1" in
	--revoke)
		[ $# -ge 2 ] || die "--revoke needs a certificate file"
		revoke+=("$2")
		shift 2
		;;
	--days)
		[ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]{0,3}$ ]] || die "--days needs a number"
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
		[ -z "$dir" ] || die "only one DIR, please"
		dir="$1"
		shift
		;;
	esac
done
[ -n "$dir" ] || {
	usage >&2
	exit 2
}
[ -e "$dir/ca.key" ] && [ -e "$dir/ca.pem" ] || die "$dir holds no CA (run certs/mkpki.sh $dir)"
command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"

umask 077
db="$dir/crl-db"
mkdir -p "$db"
[ -e "$db/index.txt" ] || : >"$db/index.txt"
[ -e "$db/crlnumber" ] || echo 01 >"$db/crlnumber"
cat >"$db/ca.cnf" <<EOF
[ ca ]
default_ca = dev
[ dev ]
database = $db/index.txt
crlnumber = $db/crlnumber
default_md = sha256
default_crl_days = $days
EOF
ossl() {
	openssl "$@" 2>"$db/stderr" || {
		cat "$db/stderr" >&2
		die "failed: openssl $*"
	}
}
for cert in "${revoke[@]}"; do
	openssl verify -CAfile "$dir/ca.pem" "$cert" >/dev/null 2>&1 ||
		die "$cert was not issued by $dir/ca.pem (or is not a certificate)"
	serial="$(openssl x509 -in "$cert" -noout -serial)"
	if grep -q "^R.*	${serial#serial=}	" "$db/index.txt"; then
		echo "mkcrl.sh: $cert is already revoked"
		continue
	fi
	ossl ca -config "$db/ca.cnf" -keyfile "$dir/ca.key" -cert "$dir/ca.pem" -revoke "$cert"
	echo "mkcrl.sh: revoked $cert (${serial})"
done
ossl ca -config "$db/ca.cnf" -keyfile "$dir/ca.key" -cert "$dir/ca.pem" -gencrl \
	-crldays "$days" -out "$db/crl.pem.new"
chmod 644 "$db/crl.pem.new"
mv "$db/crl.pem.new" "$dir/crl.pem"
echo "mkcrl.sh: $dir/crl.pem lists $(grep -c '^R' "$db/index.txt" || true) revoked certificates"
