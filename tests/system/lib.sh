# shellcheck shell=bash
# Shared by the system test scripts (sourced, never run): the result
# counters, the assertions, and starting and stopping the daemon. Before
# sourcing, a script sets RW (the daemon), ADDR and PORT (where it listens)
# and NAME (for the work folder); it may define cleanup_hook to stop what
# else it started. Everything started goes into PIDS and is killed on exit.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
RAW="$PY $HERE/rawdns.py"
WORK=$(mktemp -d "/tmp/rw-$NAME.XXXXXX")
PIDS=()
pass=0; fail=0

# RW_KEEP_WORK=1 keeps a failed run's $WORK (daemon logs, the fake
# internet's query logs) and prints where it is.
cleanup() {
	exec 2>/dev/null # no "Killed" notices for the helpers stopped here
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	declare -F cleanup_hook >/dev/null && cleanup_hook
	wait 2>/dev/null
	[ -n "${RW_KEEP_WORK:-}" ] && [ "$fail" -gt 0 ] && echo "kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       /'; }
# expect NAME OUTPUT REGEX...: every regex must match the output
expect() {
	local name=$1 out=$2; shift 2
	for re in "$@"; do
		if ! grep -Eq -- "$re" <<<"$out"; then bad "$name (no /$re/)" "$out"; return; fi
	done
	ok "$name"
}
# refute NAME OUTPUT REGEX: the regex must not match
refute() { if grep -Eq -- "$3" <<<"$2"; then bad "$1 (matched /$3/)" "$2"; else ok "$1"; fi; }
# same NAME GOT WANT
same() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (got '$2', want '$3')"; fi; }
# within NAME MS LIMIT: a duration under a bound
within() { if [ "$2" -le "$3" ]; then ok "$1 (${2} ms)"; else bad "$1 (${2} ms > $3 ms)"; fi; }
ms() { date +%s%3N; }
# qtime DIG_OUTPUT: dig's "Query time" (ms from its query to the reply,
# without dig's own start-up, which a loaded machine can make long); 99999
# when dig printed none.
qtime() { local t; t=$(sed -n 's/^;; Query time: \([0-9]*\) msec$/\1/p' <<<"$1"); echo "${t:-99999}"; }

# start_daemon LOG ARGS...: starts rootwalk, waits until it answers (<= 5 s)
start_daemon() {
	local log=$1; shift
	"$RW" "$@" >"$log" 2>&1 &
	DPID=$!
	PIDS+=("$DPID")
	for _ in $(seq 50); do
		dig +time=1 +tries=1 -p "$PORT" @"$ADDR" localhost A +short 2>/dev/null |
			grep -q 127.0.0.1 && return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# stop_main: stops the script's main daemon (MAIN_PID) if it still runs,
# for a case group that starts a daemon of its own on the same port.
stop_main() {
	[ -n "${MAIN_PID:-}" ] && kill -0 "$MAIN_PID" 2>/dev/null || return 0
	DPID=$MAIN_PID
	stop_daemon
}

# stop_daemon: SIGTERM, must exit 0 within 10 s
stop_daemon() {
	kill -TERM "$DPID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$DPID" 2>/dev/null; then kill -9 "$DPID"; return 1; fi
	wait "$DPID"
}

# need CMD...: skips the whole script (exit 77, "skipped" in meson) when a
# prerequisite is missing, rather than failing; tools/test installs them all.
need() {
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "SKIP: $c is not installed"
			exit 77
		fi
	done
}
# skip_group WHY: this case group cannot run here (a prerequisite of its
# own is missing): exit 77 when it runs alone (meson: skipped), else say so
# and let the caller return.
skip_group() {
	echo "SKIP: $*"
	[ -z "${RW_GROUP:-}" ] || exit 77
}
# need_root: port 53 on 127.53.x.y, unshare and --user need root.
need_root() { [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }; }

# run_groups: runs the case group named by $RW_GROUP (each a function
# group_NAME; meson registers one test per group, so a failure names its
# group), or every group in order when RW_GROUP is unset. Then prints the
# closing line and exits 1 on any failure.
run_groups() {
	local groups
	groups=$(declare -F | sed -n 's/^declare -f group_//p')
	if [ -n "${RW_GROUP:-}" ]; then
		if ! grep -qx -- "$RW_GROUP" <<<"$groups"; then
			bad "no case group '$RW_GROUP' (have: ${groups//$'\n'/ })"
		else
			"group_$RW_GROUP"
		fi
	else
		# declare -F sorts by name: run them in the file's order instead.
		while read -r g; do "group_$g"; done < <(sed -n 's/^group_\([a-z0-9_]*\)() {$/\1/p' "$0")
	fi
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
