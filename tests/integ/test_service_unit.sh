#!/usr/bin/env bash
# deploy/teehsmd.service is a valid, hardened systemd unit: `systemd-analyze verify` accepts it
# (with the real teehsmd as ExecStart) and rejects deliberately broken copies of it; its
# exposure score from `systemd-analyze security --offline=yes` stays below MAX_EXPOSURE; the
# directives the deployment depends on are present with their values. deploy/teehsm.sysusers
# and deploy/teehsm.tmpfiles create the user and the directories the unit expects (in a scratch
# root, never on this machine). Skips (exit 0) where systemd-analyze is not installed; needs no
# running systemd, no teehsm user and no network.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

UNIT="$TEEHSM_SRC/deploy/teehsmd.service"
SYSUSERS="$TEEHSM_SRC/deploy/teehsm.sysusers"
TMPFILES="$TEEHSM_SRC/deploy/teehsm.tmpfiles"
# The path the unit runs the daemon from (the install prefix of the README).
UNIT_BIN=/usr/local/bin/teehsmd
# systemd-analyze security's overall exposure (0.0 best .. 10.0 worst) must be below 2.0; the
# unit scores 1.2 with systemd 252. --threshold takes tenths and fails when exposure > it.
MAX_EXPOSURE_TENTHS=19

if ! command -v systemd-analyze >/dev/null; then
	log "SKIP: systemd-analyze is not installed (apt-get install systemd); nothing checked"
	exit 0
fi
SD_VERSION="$(systemd-analyze --version | awk 'NR == 1 { print $2; exit }')"
log "systemd-analyze $SD_VERSION"
[[ "$SD_VERSION" =~ ^[0-9]+$ ]] || die "cannot read the version of systemd-analyze"
[ -r "$UNIT" ] || die "$UNIT is missing"

# --- 1. The directives the deployment relies on -------------------------------------------
# service_values KEY: every value KEY is set to in [Service] of $UNIT, one a line, in order
# (blanks around '=' and the value trimmed, comments skipped).
service_values() {
	awk -v key="$1" '
		/^[ \t]*[#;]/ { next }
		/^[ \t]*\[/ { sec = $0; gsub(/[ \t]/, "", sec); next }
		sec == "[Service]" {
			i = index($0, "=")
			if (i == 0) next
			k = substr($0, 1, i - 1); v = substr($0, i + 1)
			gsub(/^[ \t]+|[ \t]+$/, "", k); gsub(/^[ \t]+|[ \t]+$/, "", v)
			if (k == key) print v
		}' "$UNIT"
}

# want_only KEY VALUE: KEY is set exactly once in [Service], to VALUE ("" for an empty list).
want_only() {
	local got
	got="$(service_values "$1")"
	if [ "$(service_values "$1" | wc -l)" -ne 1 ] || [ "$got" != "$2" ]; then
		die "teehsmd.service must set $1=$2 exactly once; it has: ${got:-(nothing)}"
	fi
}

# want_line KEY VALUE: one of the KEY lines of [Service] is KEY=VALUE (keys set more than once).
want_line() {
	service_values "$1" | grep -qxF -- "$2" ||
		die "teehsmd.service lacks $1=$2"
}

# want_absent KEY: [Service] does not set KEY.
want_absent() {
	[ -z "$(service_values "$1")" ] || die "teehsmd.service must not set $1= ($2)"
}

log "checking the required directives"
want_only Type exec
want_only ExecStart "$UNIT_BIN -c /etc/teehsm/teehsmd.conf"
want_line ExecReload "/bin/kill -HUP \$MAINPID"
want_only KillSignal SIGTERM
want_only Restart on-failure
want_only User teehsm
want_only Group teehsm
want_absent DynamicUser "the store must keep a static owner"
want_only StateDirectory teehsm
want_only StateDirectoryMode 0700
want_only ConfigurationDirectory teehsm
want_only RuntimeDirectory teehsm
want_only RuntimeDirectoryMode 0750
want_only LogsDirectory teehsm
want_only UMask 0077
want_only NoNewPrivileges yes
want_only ProtectSystem strict
want_only ProtectHome yes
want_only PrivateTmp yes
want_only PrivateDevices yes
want_only CapabilityBoundingSet ""
want_only AmbientCapabilities ""
want_only RestrictAddressFamilies "AF_INET AF_INET6 AF_UNIX"
want_only MemoryDenyWriteExecute yes
want_line SystemCallFilter @system-service
want_only SystemCallArchitectures native
for k in ProtectKernelTunables ProtectKernelModules ProtectKernelLogs ProtectControlGroups \
	ProtectClock ProtectHostname RestrictNamespaces RestrictRealtime RestrictSUIDSGID \
	LockPersonality; do
	want_only "$k" yes
done
want_absent PrivateUsers "it maps other users to nobody and breaks SO_PEERCRED on unix_socket"
# The limit must stay in force at all: the daemon's default max_connections is 256.
nofile="$(service_values LimitNOFILE)"
if ! [[ "$nofile" =~ ^[0-9]+$ ]] || [ "$nofile" -lt 1024 ]; then
	die "teehsmd.service must set LimitNOFILE= to a number >= 1024, not '${nofile}'"
fi
# Stopping must leave the daemon time to drain (shutdown_timeout defaults to 30 s).
stop="$(service_values TimeoutStopSec)"
if ! [[ "$stop" =~ ^([0-9]+)s?$ ]] || [ "${BASH_REMATCH[1]}" -le 30 ]; then
	die "teehsmd.service must set TimeoutStopSec= above 30s, not '${stop}'"
fi

# --- 2. systemd-analyze verify --------------------------------------------------------------
# verify only needs the binary of ExecStart to exist: run it on a copy that names the teehsmd
# just built. It does not resolve User=, so no teehsm user is needed (that happens when the
# service starts). Version 252 exits 0 on an unknown key or an unparsable value and only prints
# a warning naming the file, so a diagnostic about the unit counts as a failure as well.
mkdir -p "$T/unit" "$T/broken"
sed "s|$UNIT_BIN|$TEEHSMD|g" "$UNIT" >"$T/unit/teehsmd.service"
grep -qxF "ExecStart=$TEEHSMD -c /etc/teehsm/teehsmd.conf" "$T/unit/teehsmd.service" ||
	die "could not point the copy's ExecStart at $TEEHSMD"

# verify_unit FILE: 0 if systemd-analyze verify exits 0 and says nothing about FILE's unit.
# Its output goes to $T/verify.out and stderr; lines about other units are shown, not judged.
verify_unit() {
	local file=$1 name rc=0
	name="$(basename "$file")"
	(cd "$(dirname "$file")" && systemd-analyze verify --man=no "$file") >"$T/verify.out" 2>&1 ||
		rc=$?
	sed 's/^/    verify: /' "$T/verify.out" >&2
	[ "$rc" -eq 0 ] || return 1
	! grep -qF -e "$file" -e "$name" "$T/verify.out"
}

log "systemd-analyze verify deploy/teehsmd.service (ExecStart=$TEEHSMD)"
verify_unit "$T/unit/teehsmd.service" || die "systemd-analyze verify rejects deploy/teehsmd.service"

# Each of these mistakes must make verify_unit fail, or the check above proves nothing: pairs
# of a sed expression and what it breaks.
broken=(
	's/^NoNewPrivileges=/NoNewPrivilege=/' "a misspelled directive"
	's/^ProtectSystem=strict/ProtectSystem=stric/' "an invalid value"
	's/^SystemCallFilter=@system-service/SystemCallFilter=@system-servic/'
	"an unknown system call group"
	's/^RestrictAddressFamilies=.*/RestrictAddressFamilies=AF_INET AF_INET7 AF_UNIX/'
	"an unknown address family"
	"s|^ExecStart=[^ ]*|ExecStart=$T/no-such-teehsmd|" "a missing binary"
	's/^\[Service\]/[Servce]/' "a misspelled section"
)
for ((i = 0; i < ${#broken[@]}; i += 2)); do
	expr="${broken[i]}" what="${broken[i + 1]}"
	sed "$expr" "$T/unit/teehsmd.service" >"$T/broken/teehsmd.service"
	! cmp -s "$T/unit/teehsmd.service" "$T/broken/teehsmd.service" ||
		die "the broken copy with $what is unchanged (sed '$expr')"
	log "a copy with $what must fail verification"
	if verify_unit "$T/broken/teehsmd.service"; then
		die "systemd-analyze verify accepted a unit with $what"
	fi
done

# --- 3. systemd-analyze security --offline ---------------------------------------------------
# security_score FILE: run the offline review with the threshold; prints the overall exposure.
# Returns the review's status (non-zero: exposure above the threshold, or it failed).
security_score() {
	local rc=0
	systemd-analyze security --offline=yes --threshold="$MAX_EXPOSURE_TENTHS" --no-pager "$1" \
		>"$T/security.out" 2>&1 || rc=$?
	awk '/Overall exposure level/ { sub(/^[^A-Za-z]*/, ""); print }' "$T/security.out"
	return "$rc"
}

if [ "$SD_VERSION" -lt 250 ]; then
	log "SKIP the exposure check: systemd-analyze security --offline needs systemd >= 250"
else
	log "systemd-analyze security --offline=yes (exposure must be below 2.0)"
	score="$(security_score "$T/unit/teehsmd.service")" || {
		cat "$T/security.out" >&2
		die "exposure not below 2.0 (--threshold=$MAX_EXPOSURE_TENTHS): ${score:-no score}"
	}
	[ -n "$score" ] || { cat "$T/security.out" >&2; die "no overall exposure level printed"; }
	log "$score"
	# Without the capability bounding set and the system call filter the threshold must bite.
	grep -v -e '^CapabilityBoundingSet=' -e '^SystemCallFilter=' "$T/unit/teehsmd.service" \
		>"$T/broken/teehsmd.service"
	if weak="$(security_score "$T/broken/teehsmd.service")"; then
		die "the threshold passes a unit without CapabilityBoundingSet=, SystemCallFilter= ($weak)"
	fi
	log "a copy without CapabilityBoundingSet= and SystemCallFilter= fails it: $weak"
fi

# --- 4. sysusers.d and tmpfiles.d, applied to a scratch root ---------------------------------
if ! command -v systemd-sysusers >/dev/null || ! command -v systemd-tmpfiles >/dev/null; then
	log "SKIP the sysusers/tmpfiles check: systemd-sysusers or systemd-tmpfiles is missing"
elif [ "$(id -u)" -ne 0 ]; then
	log "SKIP the sysusers/tmpfiles check: chown in the scratch root needs root"
else
	R="$T/root"
	mkdir -p "$R/etc/sysusers.d" "$R/etc/tmpfiles.d"
	cp "$SYSUSERS" "$R/etc/sysusers.d/teehsm.conf"
	cp "$TMPFILES" "$R/etc/tmpfiles.d/teehsm.conf"
	log "systemd-sysusers and systemd-tmpfiles --create in a scratch root"
	systemd-sysusers --root="$R" >"$T/sysusers.out" 2>&1 ||
		{ cat "$T/sysusers.out" >&2; die "systemd-sysusers rejects deploy/teehsm.sysusers"; }
	IFS=: read -r _ _ uid gid _ home shell < <(grep '^teehsm:' "$R/etc/passwd") ||
		die "systemd-sysusers did not create the user teehsm"
	grep -q "^teehsm:x:$gid:" "$R/etc/group" || die "systemd-sysusers did not create the group teehsm"
	[ "$uid" -lt 1000 ] || die "teehsm is not a system user (uid $uid)"
	case "$shell" in */nologin | */false) ;; *) die "teehsm has a login shell: $shell" ;; esac
	log "user teehsm: uid $uid, gid $gid, home $home, shell $shell"
	systemd-tmpfiles --root="$R" --create >"$T/tmpfiles.out" 2>&1 ||
		{ cat "$T/tmpfiles.out" >&2; die "systemd-tmpfiles rejects deploy/teehsm.tmpfiles"; }
	# want_dir PATH MODE UID GID DIRECTIVE: PATH exists as made, and the unit's *DirectoryMode
	# agrees (systemd warns at every start when an existing directory's mode differs).
	want_dir() {
		local got
		got="$(stat -c '%a %u %g' "$R$1")" || die "systemd-tmpfiles did not create $1"
		[ "$got" = "${2#0} $3 $4" ] || die "$1 is '$got' (mode uid gid), want '${2#0} $3 $4'"
		[ "$(service_values "$5")" = "$2" ] ||
			die "teehsmd.service has $5=$(service_values "$5"), deploy/teehsm.tmpfiles makes $1 $2"
	}
	want_dir /etc/teehsm 0750 0 "$gid" ConfigurationDirectoryMode
	want_dir /var/lib/teehsm 0700 "$uid" "$gid" StateDirectoryMode
	want_dir /var/log/teehsm 0750 "$uid" "$gid" LogsDirectoryMode
	[ "$home" = /var/lib/teehsm ] || die "teehsm's home is $home, not its state directory"
fi
