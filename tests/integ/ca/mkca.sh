#!/usr/bin/env bash
# tests/integ/ca/mkca.sh — a small certificate authority made with openssl, for the tests of the
# teehsm command's enrollment (tests/integ/test_teehsm_*.sh). Keys are EC P-256, in software.
#
#   mkca.sh root DIR CN             a self-signed root: basicConstraints CA:TRUE (critical),
#                                   keyUsage keyCertSign+cRLSign (critical), SKI, AKI
#   mkca.sh sub DIR CN PARENT_DIR   an intermediate issued by PARENT_DIR's CA: the same, with
#                                   pathlen:0, and an AKI naming the parent's key
#
# DIR gets ca.pem and ca.key, root.pem (the root above it, or itself), issuers.pem (this CA and
# the CAs above it, without the root: what a CA hands out after a leaf), and what `openssl ca`
# needs to issue leaves with sign-with.sh (ca.cnf, index.txt, serial, newcerts/).
set -euo pipefail

usage() {
	echo "usage: mkca.sh root DIR CN | mkca.sh sub DIR CN PARENT_DIR" >&2
	exit 2
}
[ $# -ge 3 ] || usage
kind=$1 dir=$2 cn=$3 parent=${4:-}
case "$kind" in
root) [ $# -eq 3 ] || usage ;;
sub) [ $# -eq 4 ] && [ -e "$parent/ca.cnf" ] || usage ;;
*) usage ;;
esac

mkdir -p "$dir/newcerts"
dir="$(cd "$dir" && pwd)"
: >"$dir/index.txt"
# Serials are random (positive: a leading 1), so that two CAs never issue the same one.
echo "10$(openssl rand -hex 7)" >"$dir/serial"

cat >"$dir/ca.cnf" <<CNF
# written by tests/integ/ca/mkca.sh
[ ca ]
default_ca = test_ca

[ test_ca ]
dir = $dir
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
default_days = 30
policy = policy_any
# The subject as requested, in its order, and the requested extensions (the SANs) that the
# extension section below does not set itself.
preserve = yes
copy_extensions = copy
unique_subject = no
email_in_dn = no

[ policy_any ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
countryName = optional
stateOrProvinceName = optional
localityName = optional
serialNumber = optional
emailAddress = optional

[ req ]
distinguished_name = req_dn

[ req_dn ]

[ root_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ sub_ca ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth, serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF

if [ "$kind" = root ]; then
	openssl req -x509 -new -config "$dir/ca.cnf" -extensions root_ca -newkey ec \
		-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" \
		-subj "/CN=$cn/O=Teehsm Test" -days 60 2>"$dir/mkca.err" ||
		{ cat "$dir/mkca.err" >&2; exit 1; }
	cp "$dir/ca.pem" "$dir/root.pem"
	: >"$dir/issuers.pem"
else
	openssl req -new -config "$dir/ca.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/ca.key" -out "$dir/ca.csr" -subj "/CN=$cn/O=Teehsm Test" \
		2>"$dir/mkca.err" || { cat "$dir/mkca.err" >&2; exit 1; }
	openssl ca -config "$parent/ca.cnf" -batch -notext -extensions sub_ca -days 50 \
		-in "$dir/ca.csr" -out "$dir/ca.pem" 2>"$dir/mkca.err" ||
		{ cat "$dir/mkca.err" >&2; exit 1; }
	cp "$parent/root.pem" "$dir/root.pem"
	cat "$dir/ca.pem" "$parent/issuers.pem" >"$dir/issuers.pem"
fi
chmod 600 "$dir/ca.key"
