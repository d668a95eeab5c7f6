#!/usr/bin/env bash
# End-to-end tests: the real daemon on loopback, queried with dig and kdig
# (and a raw-socket helper for what dig cannot send). Each case: start,
# query, compare, and everything is stopped on every exit path.
# Usage: run.sh PATH/TO/rootwalk        Prints "N passed, M failed".
set -u
RW=${1:?usage: run.sh path/to/rootwalk}
ADDR=127.0.0.77
PORT=$((20000 + $$ % 20000))
NAME=system
. "$(dirname "$0")/lib.sh"
need dig kdig

D() { dig +time=2 +tries=1 -p "$PORT" @"$ADDR" "$@" 2>&1; }
K() { kdig +time=2 +retry=0 -p "$PORT" @"$ADDR" "$@" 2>&1; }

mkdir -p "$WORK/zones"
# Never the real root servers: these tests use local zones only, and any
# name outside them goes to a "root" on loopback where nothing listens.
cat >"$WORK/hints" <<HINTS
.                3600000 NS a.nowhere.
a.nowhere.       3600000 A  127.53.255.254
HINTS
cp "$HERE/test.example.zone" "$HERE/big.inc" "$WORK/zones/"

COMMON=(--root-hints "$WORK/hints" --zones-dir "$WORK/zones" --listen "$ADDR:$PORT" --listen "[::1]:$PORT"
	--threads 2 --tcp-idle-timeout-ms 800 --tcp-max-connections 8)

if ! start_daemon "$WORK/daemon.log" "${COMMON[@]}"; then
	bad "daemon starts" "$(cat "$WORK/daemon.log")"
	echo "$pass passed, $fail failed"
	exit 1
fi
ok "daemon starts and answers"
MAIN_PID=$DPID

# --- answers over UDP and TCP, dig and kdig ------------------------------
group_answers_over_udp_and_tcp() {
out=$(D www.test.example A)
expect "UDP A answer, AA set" "$out" "status: NOERROR" "flags: qr aa rd ra;" \
	"ANSWER: 2," "www.test.example.\s+300\s+IN\s+A\s+192.0.2.1" "udp: 1232"
out=$(D www.test.example AAAA +tcp)
expect "TCP AAAA answer" "$out" "status: NOERROR" "IN\s+AAAA\s+2001:db8::1" "\(TCP\)"
out=$(K www.test.example A +tcp)
expect "kdig over TCP" "$out" "NOERROR" "192.0.2.2" "TCP"
out=$(K @::1 -p "$PORT" www.test.example A)
expect "kdig over UDP to [::1]" "$out" "NOERROR" "192.0.2.1"
out=$(D WwW.TeSt.ExAmPlE A)
expect "question echoed in the client's case" "$out" "^;WwW.TeSt.ExAmPlE.\s+IN\s+A"
out=$(D +norec www.test.example A)
expect "RD copied (clear)" "$out" "flags: qr aa ra;"
out=$(D mx.test.example MX)
expect "MX with additional A/AAAA" "$out" "IN\s+MX\s+10 www.test.example." "ADDITIONAL: 4"
out=$(D _sip._udp.test.example SRV)
expect "SRV" "$out" "IN\s+SRV\s+0 5 5060 www.test.example."
out=$(D unknown.test.example TYPE65280)
expect "unknown type as RFC 3597 data" "$out" "TYPE65280\s+\\\\# 4 DEADBEEF"
out=$(D caa.test.example CAA)
expect "CAA" "$out" 'CAA\s+0 issue "ca.example.net"'
out=$(D localhost A)
expect "built-in localhost zone" "$out" "status: NOERROR" "localhost.\s+10800\s+IN\s+A\s+127.0.0.1"
out=$(D -x 127.0.0.1)
expect "built-in loopback reverse" "$out" "PTR\s+localhost."
out=$(D anything.invalid A)
expect "built-in invalid. is NXDOMAIN" "$out" "status: NXDOMAIN" "flags: qr aa"
}

# --- negative answers, CNAME, wildcard -----------------------------------
group_negative_answers() {
out=$(D nope.test.example A)
expect "NXDOMAIN with SOA, negative TTL = min(SOA TTL, MINIMUM)" "$out" "status: NXDOMAIN" \
	"AUTHORITY: 1" "test.example.\s+60\s+IN\s+SOA"
out=$(D www.test.example MX)
expect "NODATA with SOA" "$out" "status: NOERROR" "ANSWER: 0," "IN\s+SOA"
out=$(D b.ent.test.example TXT)
expect "empty non-terminal is NODATA" "$out" "status: NOERROR" "ANSWER: 0," "AUTHORITY: 1"
out=$(D chain.test.example A)
expect "CNAME chain followed" "$out" "chain.test.example.\s+300\s+IN\s+CNAME\s+alias.test.example." \
	"alias.test.example.\s+300\s+IN\s+CNAME\s+www.test.example." "ANSWER: 4,"
out=$(D broken.test.example A)
expect "CNAME to a missing name is NXDOMAIN" "$out" "status: NXDOMAIN" "CNAME\s+missing.test.example." "IN\s+SOA"
out=$(D x.y.wild.test.example A)
expect "wildcard synthesis" "$out" "x.y.wild.test.example.\s+300\s+IN\s+A\s+192.0.2.99"
out=$(D x.b.ent.test.example A)
expect "no wildcard: NXDOMAIN" "$out" "status: NXDOMAIN"
out=$(D example.org A)
expect "names not served locally are resolved (no root here: SERVFAIL + EDE)" "$out" \
	"status: SERVFAIL" "EDE: 22"
out=$(D +norecurse example.org A)
expect "RD=0 and not cached: REFUSED" "$out" "status: REFUSED"
}

# --- EDNS sizes and truncation -------------------------------------------
group_edns_sizes_and_truncation() {
out=$(D big.test.example TXT +noedns +ignore)
expect "no EDNS: 512 limit, TC set, no partial RRset" "$out" "flags: qr aa tc" "ANSWER: 0," "MSG SIZE  rcvd: ([0-9]|[0-9][0-9]|[1-4][0-9][0-9]|50[0-9]|51[0-2])$"
out=$(D big.test.example TXT +bufsize=4096 +ignore)
expect "EDNS 4096 asked, 1232 served: TC" "$out" "flags: qr aa tc" "udp: 1232"
refute "EDNS reply not over 1232" "$out" "MSG SIZE  rcvd: (12[4-9][0-9]|1[3-9][0-9][0-9]|[2-9][0-9][0-9][0-9])$"
out=$(D big.test.example TXT)
expect "dig retries TC over TCP and gets all 80" "$out" "ANSWER: 80," "\(TCP\)"
out=$(D www.test.example A +bufsize=100)
expect "EDNS size below 512 treated as 512" "$out" "status: NOERROR" "ANSWER: 2,"
out=$(D www.test.example A +dnssec)
expect "DO bit echoed" "$out" "flags: do;"
out=$(D www.test.example A +edns=1 +noednsneg)
expect "EDNS version 1: BADVERS" "$out" "status: BADVERS" "EDNS: version: 0"
}

# --- opcodes, classes, meta types ----------------------------------------
group_opcodes() {
out=$(D www.test.example A +opcode=status)
expect "opcode STATUS: NOTIMP" "$out" "opcode: STATUS, status: NOTIMP"
out=$(D www.test.example A +opcode=notify)
expect "opcode NOTIFY: NOTIMP" "$out" "status: NOTIMP"
out=$(D www.test.example TXT CH)
expect "class CH, not an identity name: REFUSED" "$out" "status: REFUSED"
out=$(D www.test.example A -c HS)
expect "class HS: REFUSED" "$out" "status: REFUSED"
out=$(D www.test.example ANY)
expect "ANY: minimal RFC 8482 answer" "$out" "ANSWER: 1," 'HINFO\s+"RFC8482" ""'
out=$(D test.example AXFR)
refute "AXFR never dumps the zone" "$out" "www.test.example..*IN.*A"
out=$(K test.example AXFR)
expect "kdig AXFR refused" "$out" "REFUSED"
out=$(D www.test.example MAILA)
expect "MAILA: NOTIMP" "$out" "status: NOTIMP"
}

# --- malformed packets: FORMERR or drop, and the daemon keeps serving ----
group_malformed_packets() {
hdr() { printf '%04x%04x%04x%04x%04x%04x' "$@"; }
q_www="03777777047465737407657861 6d706c6500 0001 0001"
q_www=${q_www// /}
r=$($RAW udp "$ADDR" "$PORT" "$(hdr 0x1111 0x0100 1 0 0 0)c00c00010001")
expect "pointer loop in question: FORMERR" "$r" "^11118101"
r=$($RAW udp "$ADDR" "$PORT" "$(hdr 0x2222 0x0100 1 0 0 0)40$(printf 'aa%.0s' $(seq 64))0000010001")
expect "label over 63: FORMERR" "$r" "^22228101"
r=$($RAW udp "$ADDR" "$PORT" "$(hdr 0x3333 0x0100 1 65535 0 0)$q_www")
expect "counts larger than the packet: FORMERR" "$r" "^33338101"
r=$($RAW udp "$ADDR" "$PORT" "$(hdr 0x4444 0x0100 2 0 0 0)$q_www$q_www")
expect "QDCOUNT 2: FORMERR" "$r" "^44448101"
r=$($RAW udp "$ADDR" "$PORT" "$(hdr 0x5555 0x0100 0 0 0 0)")
expect "QDCOUNT 0: FORMERR" "$r" "^55558101"
r=$($RAW udp "$ADDR" "$PORT" "$(hdr 0x6666 0x0100 1 0 0 1)${q_www}0000290200000000000008000a00ff0102")
expect "EDNS option overrunning OPT: FORMERR" "$r" "^66668101"
opt_rr="00002904d0000000000000"
r=$($RAW udp "$ADDR" "$PORT" "$(hdr 0x7777 0x0100 1 0 0 2)${q_www}${opt_rr}${opt_rr}")
expect "two OPT records: FORMERR" "$r" "^77778101"
r=$($RAW udp "$ADDR" "$PORT" "$(hdr 0x7778 0x0100 1 0 0 0)${q_www%00010001}00fb0001")
expect "IXFR over UDP: REFUSED" "$r" "^77788185"
r=$($RAW udp "$ADDR" "$PORT" "${q_www}ffffff")
expect "garbage bytes: FORMERR or dropped" "$r" "^[0-9a-f]{4}[89a-f][0-9a-f]{3}|TIMEOUT"
r=$($RAW udp "$ADDR" "$PORT" "123456")
expect "shorter than a header: dropped" "$r" "^TIMEOUT$"
r=$($RAW udp "$ADDR" "$PORT" "$(hdr 0x8888 0x8100 1 0 0 0)$q_www")
expect "QR=1 (a response): never answered" "$r" "^TIMEOUT$"
r=$($RAW udp "$ADDR" "$PORT" "$(hdr 0x9999 0x0100 1 0 0 0)${q_www}00")
expect "trailing byte: FORMERR" "$r" "^99998101"
r=$($RAW udp "$ADDR" "$PORT" "$(hdr 0x9a9a 0x0100 1 1 0 0)${q_www}c00c000100010000012c0004c0000201")
expect "an answer record in a query: FORMERR from the header, nothing parsed" "$r" "^9a9a8101"
out=$(D -y hmac-sha256:k:c2VjcmV0c2VjcmV0c2VjcmV0 www.test.example A)
expect "dig -y (TSIG, a key we do not hold): NOTAUTH, TSIG error BADKEY (RFC 8945)" "$out" \
	"status: NOTAUTH" "TSIG[[:space:]]+hmac-sha256\. [0-9]+ 300 0 [0-9]+ BADKEY"
out=$(K -y hmac-sha256:k:c2VjcmV0c2VjcmV0c2VjcmV0 www.test.example A)
expect "kdig -y: BADKEY too" "$out" "status: BADKEY"
out=$(D www.test.example A)
expect "still serving after malformed input" "$out" "status: NOERROR" "ANSWER: 2,"
}

# --- TCP: pipelining, partial reads, idle timeout, connection limit ------
group_tcp() {
r=$($RAW pipeline "$ADDR" "$PORT" 20)
expect "20 pipelined queries on one connection, in order" "$r" "^OK$"
r=$($RAW halfclose "$ADDR" "$PORT" 1000)
expect "half-closed connection still gets all 1000 large replies" "$r" "^OK$"
r=$($RAW dribble "$ADDR" "$PORT")
expect "query sent one byte at a time" "$r" "^OK$"
out=$(D +tcp +keepopen www.test.example A www.test.example AAAA nope.test.example A)
expect "several queries on one kept-open connection" "$out" "192.0.2.1" "2001:db8::1" "NXDOMAIN"
r=$($RAW idle "$ADDR" "$PORT" 3)
expect "idle TCP connection closed by the server" "$r" "^CLOSED$"
r=$($RAW conns "$ADDR" "$PORT" 12)
n=${r//[^0-9]/}
if [ -n "$n" ] && [ "$n" -le 8 ] && [ "$n" -ge 1 ]; then ok "TCP connection limit (8): $n of 12 answered"; else bad "TCP connection limit" "$r"; fi
out=$(D www.test.example A +tcp)
expect "TCP still serving after the limit was hit" "$out" "status: NOERROR"
}

# --- operations -------------------------------------------------------------
group_operations() {
out=$("$RW" --root-hints "$WORK/hints" --listen "$ADDR:$PORT" --no-builtin-zones 2>&1); rc=$?
expect "port in use: one clear line, non-zero exit ($rc)" "$out" \
	"cannot listen on $ADDR:$PORT \(UDP\): Address already in use.*try --listen 127.0.0.1:5353"
[ "$rc" -ne 0 ] && ok "port in use exits non-zero" || bad "port in use exits non-zero"

if stop_daemon; then ok "SIGTERM: clean exit 0"; else bad "SIGTERM: clean exit" "$(tail -5 "$WORK/daemon.log")"; fi
expect "shutdown logged" "$(cat "$WORK/daemon.log")" "received SIGTERM, shutting down"
refute "no handle left open" "$(cat "$WORK/daemon.log")" "left open"

printf '$TTL 60\n@ SOA ns hm 1 2 3 4 5\nwww A 300.1.1.1\n' >"$WORK/bad.zone"
out=$("$RW" --root-hints "$WORK/hints" --zone "bad.example=$WORK/bad.zone" --listen "$ADDR:$PORT" 2>&1); rc=$?
expect "bad zone at startup: file, line and problem" "$out" "$WORK/bad.zone:3: A record: bad IPv4 address"
[ "$rc" -ne 0 ] && ok "bad zone: refuses to start" || bad "bad zone: refuses to start"
out=$("$RW" --zone "bad.example=$WORK/bad.zone" --check-config 2>&1); rc=$?
[ "$rc" -ne 0 ] && ok "--check-config fails on a bad zone" || bad "--check-config on a bad zone" "$out"
out=$("$RW" --zones-dir "$TOP/zones" --check-config 2>&1); rc=$?
[ "$rc" -eq 0 ] && expect "--check-config passes on zones/" "$out" "configuration OK" || bad "--check-config zones/" "$out"
out=$("$RW" --threads 0 2>&1); rc=$?
expect "bad flag: clear error, exit 2" "$out" "threads: expected a number" && [ "$rc" -eq 2 ] || bad "exit code $rc"

cat >"$WORK/rootwalk.yaml" <<YAML
listen:
  - "$ADDR:$PORT"
threads: 1
root-hints: hints
zones-dir: zones
log-level: info
YAML
if start_daemon "$WORK/daemon2.log" -c "$WORK/rootwalk.yaml" --threads 2; then
	out=$(D www.test.example A)
	expect "YAML config (zones-dir relative to the file)" "$out" "status: NOERROR" "ANSWER: 2,"
	expect "flags override the file (--threads 2)" "$(cat "$WORK/daemon2.log")" "with 2 workers"
	stop_daemon || bad "second daemon stops"
else
	bad "daemon starts from a YAML config" "$(cat "$WORK/daemon2.log")"
fi
}

# --- TCP fairness: slow-loris clients cannot take the slots (issue 11) ------
group_tcp_fairness() {
stop_main || bad "main daemon stops"
ulimit -n 8192 2>/dev/null
ctl() { "$RW" control --control "$WORK/fair.sock" "$@" 2>&1; }
# tcp_qtime: dig's query time (ms) for a TCP query from 127.0.0.1
tcp_qtime() { qtime "$(D -b 127.0.0.1 +tcp www.test.example A)"; }
fresh_clients() { # NAME: 5 fresh TCP queries from another address, each within 100 ms
	local slow=0 t
	for _ in 1 2 3 4 5; do
		t=$(tcp_qtime)
		[ -n "$t" ] && [ "$t" -le 100 ] || slow=$((slow + 1))
	done
	[ "$slow" -eq 0 ] && ok "$1: 5 fresh dig +tcp from 127.0.0.1 answered, each within 100 ms" ||
		bad "$1: $slow of 5 fresh TCP queries unanswered or slower than 100 ms"
}
# 1,000 slow-loris connections from one address, the default limits
# (1,000 slots, a quarter of them per client).
if start_daemon "$WORK/fair.log" "${COMMON[@]}" --tcp-max-connections 1000 --tcp-max-per-client 0 \
	--tcp-idle-timeout-ms 10000 --control "$WORK/fair.sock"; then
	$RAW slowloris "$ADDR" "$PORT" 1000 6 127.0.0.2 >"$WORK/loris1.out" 2>&1 &
	lp=$!
	sleep 3
	fresh_clients "1,000 slow-loris connections from 127.0.0.2"
	wait "$lp"
	sleep 0.5 # the counters are published every 250 ms
	n=$(ctl stats | sed -n 's/^rootwalk_tcp_closed_total{reason="per_client"} //p')
	[ -n "$n" ] && [ "$n" -ge 700 ] &&
		ok "the slow-loris client held no more than its share: $n of its 1,000 turned away, counted" ||
		bad "per-client share" "per_client=$n; $(cat "$WORK/loris1.out")"
	stop_daemon || bad "fairness daemon stops"
else
	bad "fairness daemon starts" "$(cat "$WORK/fair.log")"
fi
# No per-client share at all: the slow-loris connections fill every slot,
# and a client with a whole query takes the slot of the least useful one.
if start_daemon "$WORK/fair2.log" "${COMMON[@]}" --tcp-max-connections 200 --tcp-max-per-client 1000 \
	--tcp-idle-timeout-ms 10000 --control "$WORK/fair.sock"; then
	$RAW slowloris "$ADDR" "$PORT" 400 6 127.0.0.2 >"$WORK/loris2.out" 2>&1 &
	lp=$!
	sleep 3
	fresh_clients "every slot held by slow-loris connections"
	wait "$lp"
	sleep 0.5
	expect "a full server makes room: the oldest idle connections are closed, and counted" \
		"$(ctl stats)" 'rootwalk_tcp_closed_total\{reason="evicted"\} [1-9]'
	stop_daemon || bad "fairness daemon stops"
else
	bad "fairness daemon starts (no per-client share)" "$(cat "$WORK/fair2.log")"
fi
# The idle timer restarts on whole queries only; every connection has a
# lifetime.
if start_daemon "$WORK/fair3.log" "${COMMON[@]}" --tcp-idle-timeout-ms 800 \
	--tcp-max-lifetime-ms 1500 --control "$WORK/fair.sock"; then
	r=$($RAW drip "$ADDR" "$PORT" 4)
	n=${r#CLOSED }
	if [[ "$r" == CLOSED* ]] && [ "$n" -le 1300 ]; then
		ok "a byte every 0.3 s does not keep a connection: closed after $n ms (idle 800)"
	else bad "dribbling client closed by the idle timeout" "$r"; fi
	r=$($RAW keepalive "$ADDR" "$PORT" 4)
	n=${r#CLOSED }
	if [[ "$r" == CLOSED* ]] && [ "$n" -ge 1400 ] && [ "$n" -le 2200 ]; then
		ok "a busy connection is closed at its lifetime: after $n ms (1500)"
	else bad "connection lifetime" "$r"; fi
	sleep 0.5
	expect "idle and lifetime closes are counted" "$(ctl stats)" \
		'rootwalk_tcp_closed_total\{reason="idle"\} [1-9]' \
		'rootwalk_tcp_closed_total\{reason="lifetime"\} [1-9]'
	stop_daemon || bad "fairness daemon stops"
else
	bad "fairness daemon starts (timeouts)" "$(cat "$WORK/fair3.log")"
fi
}

run_groups "$@"
