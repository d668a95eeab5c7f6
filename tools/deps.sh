# shellcheck shell=bash
# Sourced by tools/run and tools/test: installs missing Debian packages.
# usage: need_packages PKG...   (uses apt-get; sudo when not root)
need_packages() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "installing: ${missing[*]}" >&2
	$sudo apt-get update -q >&2 || return 1
	# Packages such as unbound would start their service on install, and a
	# resolver started on its defaults may reach for the internet: forbid
	# service starts during the install (policy-rc.d exit 101), unless the
	# machine already has a policy of its own.
	local policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy"
	fi
	local rc=0
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2 || rc=$?
	[ -z "$policy" ] || $sudo rm -f "$policy"
	return $rc
}

# Packages to build and run the daemon.
BUILD_PACKAGES=(gcc libc6-dev pkg-config meson ninja-build python3 libuv1-dev libc-ares-dev libfstrm-dev
	libyaml-dev)
