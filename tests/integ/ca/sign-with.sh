#!/usr/bin/env bash
# tests/integ/ca/sign-with.sh — a CA command for `teehsm enroll --ca-cmd`: reads a PKCS#10
# request (PEM) on stdin, issues a leaf certificate with the CA in DIR (made by mkca.sh), and
# prints the leaf's PEM followed by the issuing CA's chain (without the root).
#
#   sign-with.sh DIR [--expired] [--days N] [--with-root] [--leaf-only] [--save FILE]
#
# The leaf: the requested subject and SANs, basicConstraints CA:FALSE, keyUsage digitalSignature,
# extendedKeyUsage clientAuth+serverAuth, SKI/AKI. --expired issues one valid from 2020-01-01 to
# 2020-01-02 only; --with-root appends the root; --leaf-only prints the leaf alone; --save keeps
# a copy of the request in FILE. Exits non-zero, with openssl's error on stderr, when it fails.
set -euo pipefail

[ $# -ge 1 ] && [ -e "$1/ca.cnf" ] || {
	echo "usage: sign-with.sh CA_DIR [--expired] [--days N] [--with-root] [--leaf-only] [--save FILE]" >&2
	exit 2
}
dir=$1
shift
dates=(-days 30) chain=issuers save=""
while [ $# -gt 0 ]; do
	case "$1" in
	--expired) dates=(-startdate 20200101000000Z -enddate 20200102000000Z) ;;
	--days)
		dates=(-days "$2")
		shift
		;;
	--with-root) chain=all ;;
	--leaf-only) chain=none ;;
	--save)
		save=$2
		shift
		;;
	*)
		echo "sign-with.sh: unknown option $1" >&2
		exit 2
		;;
	esac
	shift
done

work="$(mktemp -d "$dir/issue.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cat >"$work/req.pem"
[ -z "$save" ] || cp "$work/req.pem" "$save"
openssl ca -config "$dir/ca.cnf" -batch -notext -extensions leaf "${dates[@]}" \
	-in "$work/req.pem" -out "$work/leaf.pem" 2>"$work/ca.err" ||
	{
		cat "$work/ca.err" >&2
		echo "sign-with.sh: openssl ca refused the request" >&2
		exit 1
	}
openssl x509 -in "$work/leaf.pem"
case "$chain" in
issuers) cat "$dir/issuers.pem" ;;
all) cat "$dir/issuers.pem" "$dir/root.pem" ;;
none) ;;
esac
