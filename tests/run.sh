#!/usr/bin/env bash
# tests/run.sh — everything CI runs, from any directory, on a fresh Debian 12 as root:
# installs what is missing, builds two configurations and runs all tests in both:
#   build/       RelWithDebInfo
#   build-asan/  Debug with AddressSanitizer + UndefinedBehaviorSanitizer
# Exits non-zero if anything fails. TEEHSM_JOBS sets the build and test parallelism (default 2).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS="${TEEHSM_JOBS:-2}"

say() { echo "=== tests/run.sh: $*"; }

PACKAGES=(build-essential cmake pkg-config libssl-dev openssl libprotobuf-c-dev
	protobuf-c-compiler libevent-dev libp11-kit-dev libcmocka-dev opensc gnutls-bin
	libengine-pkcs11-openssl p11-kit openssh-client softhsm2)
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "tests/run.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
		exit 1
	fi
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi

start=$(date +%s)
build() { # build DIR CMAKE_ARGS...
	local dir=$1
	shift
	say "configuring and building $dir ($*)"
	cmake -S . -B "$dir" "$@"
	cmake --build "$dir" -j"$JOBS"
}
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
build build-asan -DCMAKE_BUILD_TYPE=Debug -DTEEHSM_SANITIZE=ON

# Every test picks its own temporary directory and ports, so they may run in parallel.
failed=()
for dir in build build-asan; do
	say "testing $dir"
	ctest --test-dir "$dir" --output-on-failure -j"$JOBS" || failed+=("$dir")
done

say "done in $(($(date +%s) - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
	say "FAILED in: ${failed[*]}"
	exit 1
fi
say "all tests passed in build/ and build-asan/"
