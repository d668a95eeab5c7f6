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
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2
}

# Packages to build and run the daemon.
BUILD_PACKAGES=(gcc libc6-dev pkg-config meson ninja-build python3 libuv1-dev libc-ares-dev
	libyaml-dev)
