# shellcheck shell=bash
# certs/pkinames.sh — the checks of the names mkpki.sh and mkpeer.sh put in subjectAltName,
# sourced by both: a value refused here never reaches openssl's extension file.

# valid_dns NAME: 0 if NAME is a host name: dot-separated labels of 1 to 63 letters, digits and
# '-' (not first or last), 253 characters at most, the last label not all digits (that would be
# an IPv4 address: use ip:). No wildcard, no trailing dot.
valid_dns() {
	local label='[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
	[ "${#1}" -le 253 ] && [[ "$1" =~ ^$label(\.$label)*$ ]] && [[ ! "${1##*.}" =~ ^[0-9]+$ ]]
}

# valid_ipv4 ADDR: 0 if ADDR is a dotted-quad IPv4 address (no leading zeros: 010 is ambiguous).
valid_ipv4() {
	local octet='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
	[[ "$1" =~ ^$octet(\.$octet){3}$ ]]
}

# v6_groups S: print how many colon-separated groups of 1 to 4 hex digits S holds (0 for ""); fail
# if any group is empty or malformed.
v6_groups() {
	local s=$1 n=0
	if [ -n "$s" ]; then
		while :; do
			[[ "${s%%:*}" =~ ^[0-9A-Fa-f]{1,4}$ ]] || return 1
			n=$((n + 1))
			[[ "$s" == *:* ]] || break
			s=${s#*:}
		done
	fi
	echo "$n"
}

# valid_ipv6 ADDR: 0 if ADDR is an IPv6 address in RFC 4291 text form: eight groups, or fewer
# with one "::", the last 32 bits possibly as an IPv4 address. No zone (%eth0), no brackets.
valid_ipv6() {
	local a=$1 head tail
	[[ "$a" == *:* && "$a" =~ ^[0-9A-Fa-f:.]+$ ]] || return 1
	if [[ "$a" == *.* ]]; then
		valid_ipv4 "${a##*:}" || return 1
		a="${a%:*}:0:0"
	fi
	if [[ "$a" == *::* ]]; then
		[[ "$a" != *::*::* ]] || return 1
		head="$(v6_groups "${a%%::*}")" && tail="$(v6_groups "${a#*::}")" || return 1
		[ $((head + tail)) -le 7 ]
	else
		[ "$(v6_groups "$a")" = 8 ]
	fi
}
