#!/usr/bin/env bash
# End-to-end tests of the cache and forwarding (stub) mode: rootwalk on
# loopback forwarding to a real Unbound on another loopback address (its
# query log counts what reached the upstream), a scripted upstream for
# faults (delays, REFUSED, garbage...), and real stub clients: dig, kdig,
# glibc's getent inside `unshare -m` with a bind-mounted resolv.conf, and a
# c-ares program. Everything binds 127.0.0.x only and stops by itself.
# Usage: forward.sh PATH/TO/rootwalk PATH/TO/ares_client
set -u
RW=${1:?usage: forward.sh rootwalk ares_client}
ARES_CLIENT=${2:?usage: forward.sh rootwalk ares_client}
ADDR=127.0.0.77          # rootwalk
UP=127.0.0.78            # Unbound, the upstream resolver
FAKE=127.0.0.80          # the scripted upstream
PORT=$((20000 + $$ % 20000))
UPORT=$((PORT + 1))
NAME=forward
. "$(dirname "$0")/lib.sh"
need dig kdig unbound unshare getent curl
need_root

D() { dig +time=3 +tries=1 -p "$PORT" @"$ADDR" "$@" 2>&1; }
K() { kdig +time=3 +retry=0 -p "$PORT" @"$ADDR" "$@" 2>&1; }
# upstream_count NAME TYPE: queries the Unbound upstream received for it
upstream_count() { grep -ci " $1\. $2 IN\$" "$WORK/unbound.log"; }
fake_count() { grep -ci "^$1 $2\$" "$WORK/fake.log"; }

# --- the upstream world ---------------------------------------------------
{
	cat <<CONF
server:
  interface: $UP@$UPORT
  port: $UPORT
  do-ip6: no
  chroot: ""
  username: ""
  directory: "$WORK"
  pidfile: "$WORK/unbound.pid"
  use-syslog: no
  logfile: "$WORK/unbound.log"
  log-queries: yes
  verbosity: 0
  do-daemonize: no
  num-threads: 1
  # Never recurse: these machines must not send a packet off loopback.
  # Everything outside up.example is refused, and the outgoing interface
  # is loopback so nothing could leave even if it tried.
  local-zone: "." refuse
  outgoing-interface: $UP
  local-zone: "up.example." static
  local-data: "up.example. 3600 IN SOA ns.up.example. host.up.example. 1 3600 900 86400 60"
  local-data: "www.up.example. 300 IN A 192.0.2.1"
  local-data: "www.up.example. 300 IN A 192.0.2.2"
  local-data: "short.up.example. 3 IN A 192.0.2.3"
  local-data: "alias.up.example. 300 IN CNAME www.up.example."
  local-data: "mx.up.example. 300 IN MX 10 www.up.example."
  local-data: 'txt.up.example. 300 IN TXT "hello upstream"'
  local-data: "burst.up.example. 300 IN A 192.0.2.50"
  local-data: "getent.up.example. 300 IN A 192.0.2.60"
  local-data: "ares.up.example. 300 IN A 192.0.2.61"
  # the cluster's reverse zones (issue 13): a service, a pod, a node
  local-zone: "10.in-addr.arpa." static
  local-data-ptr: "10.96.0.10 kube-dns.kube-system.svc.cluster.local."
  local-data-ptr: "10.244.1.5 10-244-1-5.default.pod.cluster.local."
  local-zone: "168.192.in-addr.arpa." static
  local-data-ptr: "192.168.1.10 node-1.cluster.example."
CONF
	for i in $(seq 1 60); do echo "  local-data: \"big.up.example. 300 IN A 10.0.0.$i\""; done
	echo "remote-control:"
	echo "  control-enable: no"
} >"$WORK/unbound.conf"
unbound -d -c "$WORK/unbound.conf" >"$WORK/unbound.out" 2>&1 &
UPID=$!; PIDS+=("$UPID")
$PY "$HERE/fakeup.py" "$FAKE" "$UPORT" "$WORK/fake.log" 120 &
PIDS+=("$!")
for _ in $(seq 50); do
	dig +time=1 +tries=1 -p "$UPORT" @"$UP" up.example SOA +short 2>/dev/null | grep -q ns.up.example && break
	sleep 0.1
done
: >"$WORK/fake.log"

# Budget: 300 ms per try, 2 tries on one server = 300 + 600 ms.
ARGS=(--listen "$ADDR:$PORT" --threads 2 --forward "$UP:$UPORT"
	--forward-zone "fault.example=$FAKE:$UPORT" --upstream-timeout-ms 300 --upstream-tries 2)
if ! start_daemon "$WORK/daemon.log" "${ARGS[@]}"; then
	bad "daemon starts in forwarding mode" "$(cat "$WORK/daemon.log")"
	echo "$pass passed, $fail failed"; exit 1
fi
ok "daemon starts in forwarding mode"
MAIN_PID=$DPID

# --- answers and the cache -------------------------------------------------
group_answers_and_the_cache() {
out=$(D www.up.example A)
expect "forwarded answer, RA set, AA clear" "$out" "status: NOERROR" "flags: qr rd ra;" \
	"ANSWER: 2," "192.0.2.1" "192.0.2.2"
out=$(D www.up.example A)
expect "second query answered" "$out" "status: NOERROR" "ANSWER: 2,"
same "second query came from the cache (upstream saw 1)" "$(upstream_count www.up.example A)" 1
out=$(D WwW.Up.ExAmPlE A)
expect "client's letter case kept in the answer" "$out" "^WwW\.Up\.ExAmPlE\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A"
out=$(K +tcp mx.up.example MX)
expect "kdig over TCP, MX forwarded" "$out" "NOERROR" "10 www.up.example."
out=$(D alias.up.example A)
expect "CNAME forwarded" "$out" "CNAME[[:space:]]+www.up.example."
out=$(D alias.up.example A)
expect "CNAME + A assembled from separately cached pieces" "$out" "ANSWER: 3," \
	"CNAME" "192.0.2.1"
same "assembled answer needed no upstream query" "$(upstream_count alias.up.example A)" 1
out=$(D txt.up.example TXT +noedns)
expect "TXT without EDNS" "$out" "hello upstream"

# TTL countdown and refetch after expiry (TTL 3 s)
ttl1=$(D short.up.example A +noall +answer | awk '{print $2}')
sleep 1.2
ttl2=$(D short.up.example A +noall +answer | awk '{print $2}')
if [ "${ttl1:-0}" -eq 3 ] && [ "${ttl2:-9}" -le 2 ]; then ok "TTL counts down ($ttl1 then $ttl2)"
else bad "TTL counts down (got '$ttl1' then '$ttl2')"; fi
same "within the TTL: one upstream query" "$(upstream_count short.up.example A)" 1
sleep 2.3
ttl3=$(D short.up.example A +noall +answer | awk '{print $2}')
same "after the TTL: fetched again" "$(upstream_count short.up.example A)" 2
same "refetched answer has a fresh TTL" "$ttl3" 3

# negative answers (RFC 2308)
out=$(D nx.up.example A)
expect "NXDOMAIN forwarded with the SOA" "$out" "status: NXDOMAIN" "SOA"
out=$(D nx.up.example AAAA)
expect "NXDOMAIN cached for every type" "$out" "status: NXDOMAIN"
same "NXDOMAIN cached (upstream saw 1 query for the name)" \
	"$(( $(upstream_count nx.up.example A) + $(upstream_count nx.up.example AAAA) ))" 1
D www.up.example AAAA >/dev/null
out=$(D www.up.example AAAA)
expect "NODATA answered" "$out" "status: NOERROR" "ANSWER: 0," "SOA"
same "NODATA cached" "$(upstream_count www.up.example AAAA)" 1

# sizes: 60 A records are ~1 KB
out=$(D big.up.example A +noedns +ignore)
expect "big answer without EDNS: TC, 512 bytes at most" "$out" "flags: qr tc rd ra;"
out=$(D big.up.example A)
expect "big answer with EDNS 1232: whole" "$out" "ANSWER: 60,"
out=$(D big.up.example A +tcp +noedns)
expect "big answer over TCP: whole" "$out" "ANSWER: 60,"
same "big answer fetched once" "$(upstream_count big.up.example A)" 1

# RD=0: only what the cache holds
out=$(D +norecurse never.up.example A)
expect "RD=0 and not cached: REFUSED, not forwarded" "$out" "status: REFUSED"
same "RD=0 sent nothing upstream" "$(upstream_count never.up.example A)" 0
}

# --- joining identical questions --------------------------------------------
group_joining_identical_questions() {
out=$($RAW burst "$ADDR" "$PORT" 50 burst.up.example)
expect "50-client burst: every client answered with its ID and case" "$out" \
	"answered 50 of 50 rcodes=\[0\] ok"
same "50-client burst: one upstream query" "$(upstream_count burst.up.example A)" 1
# Five more bursts (NXDOMAIN, cached too): a client on the other worker
# that missed the cache just before the answer landed must not ask again
# (the flight's leader looks in the cache once more before going upstream).
asked=""
for i in 1 2 3 4 5; do
	out=$($RAW burst "$ADDR" "$PORT" 50 "burst-nx$i.up.example")
	expect "50-client NXDOMAIN burst $i: all answered" "$out" "answered 50 of 50 rcodes=\[3\] ok"
	asked="$asked $(upstream_count "burst-nx$i.up.example" A)"
done
same "five NXDOMAIN bursts: one upstream query each" "$asked" " 1 1 1 1 1"
# With a slow upstream (200 ms, under the 300 ms try timeout) all 50 wait
# on the one query, across both workers.
out=$($RAW burst "$ADDR" "$PORT" 50 slow-join.fault.example)
expect "50 clients joined on a slow upstream: all answered" "$out" \
	"answered 50 of 50 rcodes=\[0\] ok"
same "joined clients: the upstream saw one query" "$(fake_count slow-join.fault.example 1)" 1
out=$($RAW tcpburst "$ADDR" "$PORT" 20 slow-tcp.fault.example)
expect "20 pipelined TCP queries joined, then half-close: all answered" "$out" \
	"answered 20 of 20 rcodes=\[0\] ok"
same "pipelined TCP joins: one upstream query" "$(fake_count slow-tcp.fault.example 1)" 1
}

# --- conditional forwarding --------------------------------------------------
group_conditional_forwarding() {
out=$(D plain.fault.example A)
expect "forward-zone: names under it go to its server" "$out" "192.0.2.98"
same "forward-zone: the default upstream never saw it" "$(upstream_count plain.fault.example A)" 0
}

# --- upstream failures: SERVFAIL in bounded time, never silence ---------------
group_upstream_failures() {
for kind in refused servfail garbage wrongq short drop; do
	t0=$(ms)
	out=$(D "$kind-1.fault.example" A)
	t=$(( $(ms) - t0 ))
	expect "upstream $kind: client gets SERVFAIL" "$out" "status: SERVFAIL"
	if [ "$t" -le 1500 ]; then ok "upstream $kind: answered in ${t} ms (budget 900)"
	else bad "upstream $kind: took ${t} ms (budget 900)"; fi
done
n=$(fake_count garbage-1.fault.example 1)
out=$(D "garbage-1.fault.example" A)
expect "a question that just failed is held (RFC 9520): SERVFAIL, EDE 13" "$out" \
	"status: SERVFAIL" "EDE: 13"
same "... and not asked upstream again" "$(fake_count garbage-1.fault.example 1)" "$n"
sleep 1.2 # the hold (1 s) is over
D "garbage-1.fault.example" A >/dev/null
[ "$(fake_count garbage-1.fault.example 1)" -gt "$n" ] &&
	ok "after the hold: asked again (nothing from garbage was cached)" ||
	bad "after the hold: asked again" "$(cat "$WORK/fake.log")"
out=$(D www.test. A)  # the built-in empty zone test.: served locally
expect "other names still served during upstream faults" "$out" "status: NXDOMAIN" "flags: qr aa"
}

# --- a black-holed upstream group: SERVFAIL at once, probed in the background --
group_dead_upstream_group() {
stop_main || bad "main daemon stops"
# A black hole: a socket that never reads (no answer, no ICMP either).
$PY -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.81", int(sys.argv[1])))
time.sleep(30)' "$UPORT" &
PIDS+=("$!")
if start_daemon "$WORK/dead.log" --listen "$ADDR:$PORT" --threads 1 --forward "127.0.0.81:$UPORT" \
	--upstream-timeout-ms 300 --upstream-tries 1; then
	t0=$(ms); out=$(D a.dead.example A); t=$(( $(ms) - t0 ))
	expect "nothing answers upstream: SERVFAIL" "$out" "status: SERVFAIL"
	within "the first one within the upstream budget" "$t" 1500
	out=$(D b.dead.example A)
	expect "the group is held failed: another name gets SERVFAIL, EDE 13" "$out" \
		"status: SERVFAIL" "EDE: 13"
	within "... at once (dig's query time)" "$(qtime "$out")" 200
	sleep 1.5
	expect "the transition is logged at info, and the probes go on" "$(cat "$WORK/dead.log")" \
		"no upstream answers; SERVFAIL at once, probing every 1000 ms"
	stop_daemon || bad "dead-group daemon stops"
else
	bad "dead-group daemon starts" "$(cat "$WORK/dead.log")"
fi
}

# --- one dead upstream of two: asked last, not by every query ------------------
group_one_dead_upstream() {
stop_main || bad "main daemon stops"
$PY -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.81", int(sys.argv[1])))
time.sleep(float(sys.argv[2]))' "$UPORT" 8 &
local hole=$!
PIDS+=("$hole")
if ! start_daemon "$WORK/one.log" --listen "$ADDR:$PORT" --threads 1 --log-level info \
	--forward "127.0.0.81:$UPORT" --forward "$FAKE:$UPORT" --upstream-timeout-ms 300 --upstream-tries 2; then
	bad "one-dead daemon starts" "$(cat "$WORK/one.log")"; return
fi
# c-ares 1.18 alone started every other query at the dead one (300 ms each).
for i in 1 2 3 4 5 6; do
	expect "one dead upstream: name $i still answered by the live one" \
		"$(D "warm-$i.up2.example" A)" "status: NOERROR" "192\.0\.2\.98"
done
expect "after 3 timeouts in a row the dead upstream is logged at info" "$(cat "$WORK/one.log")" \
	"upstream 127\.0\.0\.81:$UPORT: no reply to 3 queries in a row; asked last"
slow=0
for i in $(seq 1 10); do
	t0=$(ms); D "fast-$i.up2.example" A >/dev/null; t=$(( $(ms) - t0 ))
	[ "$t" -gt 250 ] && slow=$((slow + 1))
done
[ "$slow" -le 1 ] && ok "then it is asked last: $slow of 10 new names paid its timeout (one may be a probe)" ||
	bad "then it is asked last: $slow of 10 new names paid its timeout"
# It comes back: something answers there now; a probe finds it.
kill "$hole" 2>/dev/null; wait "$hole" 2>/dev/null
$PY "$HERE/fakeup.py" 127.0.0.81 "$UPORT" "$WORK/back.log" 10 &
PIDS+=("$!")
for i in $(seq 1 40); do
	grep -q "answers again" "$WORK/one.log" && break
	D "back-$i.up2.example" A >/dev/null; sleep 0.2
done
expect "once it answers a probe, that is logged too" "$(cat "$WORK/one.log")" \
	"upstream 127\.0\.0\.81:$UPORT answers again"
stop_daemon || bad "one-dead daemon stops"
}

# --- DNSBomb: a client's waiting queries are capped, late replies dropped ------
group_per_client_waiting() {
stop_main || bad "main daemon stops"
if ! start_daemon "$WORK/bomb.log" --listen "$ADDR:$PORT" --threads 1 --forward "$FAKE:$UPORT" \
	--upstream-timeout-ms 1000 --upstream-tries 1 --max-waiting-per-client 10 \
	--discard-timeout-ms 100 --control "$WORK/bomb.sock"; then
	bad "per-client waiting daemon starts" "$(cat "$WORK/bomb.log")"; return
fi
ctl() { "$RW" control --control "$WORK/bomb.sock" "$@" 2>&1; }
stat() { ctl stats | sed -n "s/^$1 //p"; }
# 50 queries at once from one address for a name the upstream answers in
# 200 ms: 10 may wait, 40 are dropped at once; the 10 replies come after
# the discard timeout (100 ms), so none is sent -- no burst to release.
out=$($RAW burst "$ADDR" "$PORT" 50 slow-bomb.up.example)
expect "50 waiting queries from one address: no reply burst comes back" "$out" "^answered 0 of 50"
sleep 0.5
same "40 of them were dropped at once (--max-waiting-per-client 10), counted" \
	"$(stat rootwalk_waiting_refused_total)" 40
same "the 10 that waited were not answered after 100 ms, counted" \
	"$(stat rootwalk_replies_discarded_total)" 10
out=$(dig +time=2 +tries=1 -b 127.0.0.2 -p "$PORT" @"$ADDR" other.up.example A 2>&1)
expect "another client address is served meanwhile" "$out" "status: NOERROR" "192\.0\.2\.98"
stop_daemon || bad "per-client waiting daemon stops"
}

# --- real stub clients: glibc and c-ares via resolv.conf ---------------------
group_real_stub_clients() {
# rootwalk on 127.0.0.53:53 inside a private mount namespace whose
# /etc/resolv.conf names it; nothing outside the namespace changes.
cat >"$WORK/resolv.conf" <<CONF
nameserver 127.0.0.53
options timeout:2 attempts:1
CONF
cat >"$WORK/stub.sh" <<SH
set -u
mount --bind "$WORK/resolv.conf" /etc/resolv.conf || exit 3
"$RW" --listen 127.0.0.53:53 --threads 1 --forward "$UP:$UPORT" --log-level warn &
pid=\$!
for _ in \$(seq 50); do dig +time=1 +tries=1 @127.0.0.53 localhost +short 2>/dev/null | grep -q 127.0.0.1 && break; sleep 0.1; done
echo "getent: \$(getent hosts getent.up.example)"
echo "getent-nx: \$(getent hosts nx.up.example; echo rc=\$?)"
echo "ares: \$("$ARES_CLIENT" ares.up.example | tr '\n' ' ')"
echo "ares-nx: \$("$ARES_CLIENT" nx.up.example 2>&1; echo rc=\$?)"
kill -TERM \$pid; wait \$pid; echo "exit=\$?"
SH
out=$(timeout 30 unshare -m bash "$WORK/stub.sh" 2>&1)
expect "glibc getent hosts through rootwalk" "$out" "getent: 192.0.2.60[[:space:]]+getent.up.example"
expect "glibc getent: NXDOMAIN is 'not found' (rc 2)" "$out" "getent-nx: rc=2"
expect "c-ares client through rootwalk" "$out" "ares: 192.0.2.61"
expect "c-ares client: NXDOMAIN is an error" "$out" "ares-nx: ares_client: Domain name not found" "^rc=1"
expect "stub daemon exits cleanly" "$out" "exit=0"
}

# --- autopath: search paths without the storm (issue 13) -------------------------
# A pod with ndots:5 and the cluster's search list resolving an external
# name: without --autopath glibc sends 4 questions (3 search names, then
# the name); with it, one, answered with a CNAME to the name and its
# address. Either way the upstream gets one question.
group_autopath_search() {
cat >"$WORK/ap.zone" <<'ZONE'
$TTL 5
@ SOA ns hm 1 2 3 4 5
@ NS ns
ns A 10.96.0.10
127-0-0-1.default.pod A 127.0.0.1
web.default.svc A 10.0.0.1
ZONE
cat >"$WORK/resolv.conf" <<CONF
nameserver 127.0.0.53
search default.svc.cluster.local svc.cluster.local cluster.local
options timeout:2 attempts:1 ndots:5
CONF
ap_run() { # NAME FLAGS...: one getent lookup through a fresh rootwalk with FLAGS
	local name=$1; shift
	cat >"$WORK/ap.sh" <<SH
set -u
mount --bind "$WORK/resolv.conf" /etc/resolv.conf || exit 3
"$RW" --listen 127.0.0.53:53 --threads 1 --forward "$UP:$UPORT" --zone "cluster.local=$WORK/ap.zone" --log-queries $* >>"$WORK/ap.log" 2>&1 &
pid=\$!
for _ in \$(seq 50); do dig +time=1 +tries=1 @127.0.0.53 localhost +short 2>/dev/null | grep -q 127.0.0.1 && break; sleep 0.1; done
: >"$WORK/ap.log"
echo "getent: \$(getent ahostsv4 $name | head -1)"
kill -TERM \$pid; wait \$pid; echo "exit=\$?"
SH
	timeout 30 unshare -m bash "$WORK/ap.sh" 2>&1
}
local out before n
before=$(upstream_count burst.up.example A)
out=$(ap_run burst.up.example)
n=$(grep -cE "query 127\.0\.0\.1[#0-9]* udp .* A " "$WORK/ap.log")
expect "without autopath: the address" "$out" "getent: 192.0.2.50 "
same "... after 4 questions (3 search names, then the name)" "$n" 4
out=$(ap_run getent.up.example --autopath cluster.local)
n=$(grep -cE "query 127\.0\.0\.1[#0-9]* udp .* A " "$WORK/ap.log")
expect "with --autopath: the address" "$out" "getent: 192.0.2.60 "
same "... after 1 question" "$n" 1
expect "... the first search name, answered" "$(cat "$WORK/ap.log")" \
	"query 127\.0\.0\.1[#0-9]* udp getent\.up\.example\.default\.svc\.cluster\.local\. A NOERROR"
expect "... daemon exits cleanly" "$out" "exit=0"
same "each name asked upstream once" "$(( $(upstream_count burst.up.example A) + $(upstream_count getent.up.example A) - before ))" 2
out=$(ap_run web --autopath cluster.local)
expect "a service name still answers itself" "$out" "getent: 10.0.0.1 "
}

# --- node-local cache mode (issue 13) ---------------------------------------------
# The cluster DNS behind a node-local cache answers over TCP only here (an
# Unbound with do-udp: no): a forward zone with "tcp" reaches it, one
# without does not; the zone's own TTL caps shape what is cached.
group_node_local_cache() {
stop_main || bad "main daemon stops"
cat >"$WORK/tcponly.conf" <<CONF
server:
  interface: 127.0.0.86@$UPORT
  port: $UPORT
  do-ip6: no
  do-udp: no
  chroot: ""
  username: ""
  directory: "$WORK"
  pidfile: "$WORK/tcponly.pid"
  use-syslog: no
  logfile: "$WORK/tcponly.log"
  verbosity: 0
  do-daemonize: no
  num-threads: 1
  local-zone: "." refuse
  outgoing-interface: 127.0.0.86
  local-zone: "cluster.local." static
  local-data: "cluster.local. 300 IN SOA ns.dns.cluster.local. h.cluster.local. 1 3600 900 86400 300"
  local-data: "kube-dns.kube-system.svc.cluster.local. 300 IN A 10.96.0.10"
remote-control:
  control-enable: no
CONF
unbound -d -c "$WORK/tcponly.conf" >"$WORK/tcponly.out" 2>&1 &
PIDS+=("$!")
for _ in $(seq 50); do
	dig +tcp +time=1 +tries=1 -p "$UPORT" @127.0.0.86 cluster.local SOA +short 2>/dev/null | grep -q ns.dns && break
	sleep 0.1
done
local fz="cluster.local=127.0.0.86:$UPORT" out
start_daemon "$WORK/nl1.log" --listen "$ADDR:$PORT" --threads 1 --upstream-timeout-ms 300 --upstream-tries 1 \
	--forward-zone "$fz" || { bad "daemon starts" "$(cat "$WORK/nl1.log")"; return; }
expect "a TCP-only cluster DNS over UDP: nothing" "$(D kube-dns.kube-system.svc.cluster.local A)" "status: SERVFAIL"
stop_daemon || bad "it stops"
start_daemon "$WORK/nl2.log" --listen "$ADDR:$PORT" --threads 1 --upstream-timeout-ms 300 --upstream-tries 1 \
	--forward-zone "$fz tcp max-ttl=7 max-negative-ttl=3" ||
	{ bad "daemon starts with forward-zone options" "$(cat "$WORK/nl2.log")"; return; }
out=$(D kube-dns.kube-system.svc.cluster.local A +noall +answer)
expect "forward-zone ... tcp: answered over TCP" "$out" "10\.96\.0\.10"
expect "... max-ttl=7 caps the answer's TTL (300 upstream)" "$out" "[[:space:]]7[[:space:]]+IN[[:space:]]+A"
out=$(D nope.cluster.local A)
expect "... max-negative-ttl=3 caps the NXDOMAIN's" "$out" "status: NXDOMAIN" "cluster\.local\.[[:space:]]+3[[:space:]]+IN[[:space:]]+SOA"
sleep 1.2
expect "... and the cached one counts down from the cap" \
	"$(D kube-dns.kube-system.svc.cluster.local A +noall +answer)" "[[:space:]][56][[:space:]]+IN[[:space:]]+A"
stop_daemon || bad "it stops"
}

# --- local aliases of outside names (issue 13) ------------------------------------
# An ExternalName-style service (a CNAME in a local zone to a name outside
# it) and a local chain ending outside: the client gets the chain and the
# target's addresses, through glibc getent and Python, as with CoreDNS.
group_external_names() {
cat >"$WORK/cluster.local.zone" <<'ZONE'
$TTL 5
@ SOA ns hm 1 2 3 4 5
@ NS ns
ns A 10.96.0.10
db.prod.svc CNAME getent.up.example.
web.prod.svc CNAME front.prod.svc
front.prod.svc CNAME www.up.example.
ZONE
cat >"$WORK/resolv.conf" <<CONF
nameserver 127.0.0.53
search prod.svc.cluster.local svc.cluster.local cluster.local
options timeout:2 attempts:1 ndots:5
CONF
cat >"$WORK/ext.sh" <<SH
set -u
mount --bind "$WORK/resolv.conf" /etc/resolv.conf || exit 3
"$RW" --listen 127.0.0.53:53 --threads 1 --forward "$UP:$UPORT" --zone "cluster.local=$WORK/cluster.local.zone" --log-level warn &
pid=\$!
for _ in \$(seq 50); do dig +time=1 +tries=1 @127.0.0.53 localhost +short 2>/dev/null | grep -q 127.0.0.1 && break; sleep 0.1; done
echo "getent: \$(getent hosts db.prod.svc.cluster.local)"
echo "getent-search: \$(getent ahostsv4 db | head -1)"
echo "python: \$(/usr/bin/python3 -c 'import socket; print(socket.gethostbyname("db.prod.svc.cluster.local"))')"
echo "python-chain: \$(/usr/bin/python3 -c 'import socket; print(sorted({a[4][0] for a in socket.getaddrinfo("web.prod.svc.cluster.local", 80, socket.AF_INET)}))')"
echo "dig: \$(dig +time=2 +tries=1 @127.0.0.53 web.prod.svc.cluster.local A +noall +answer | awk '{print \$4, \$5}' | tr '\n' ' ')"
echo "dig-flags: \$(dig +time=2 +tries=1 @127.0.0.53 db.prod.svc.cluster.local A | grep -o 'flags: [a-z ]*')"
kill -TERM \$pid; wait \$pid; echo "exit=\$?"
SH
local before out
before=$(upstream_count getent.up.example A)
out=$(timeout 30 unshare -m bash "$WORK/ext.sh" 2>&1)
expect "ExternalName through glibc getent: the target's address" "$out" \
	"getent: 192.0.2.60[[:space:]]+getent.up.example[[:space:]]+db.prod.svc.cluster.local"
expect "... through the search path (ndots:5)" "$out" "getent-search: 192.0.2.60 "
expect "... through Python" "$out" "python: 192.0.2.60$"
expect "a local chain ending outside, through Python" "$out" "python-chain: \['192.0.2.1', '192.0.2.2'\]"
expect "dig: the chain, then the target's records" "$out" \
	"dig: CNAME front.prod.svc.cluster.local. CNAME www.up.example. A 192.0.2.[12] A 192.0.2.[12]"
expect "... authoritative for the local name, recursion available" "$out" "dig-flags: flags: qr aa rd ra"
expect "... daemon exits cleanly" "$out" "exit=0"
same "... the target asked upstream once, then cached" "$(( $(upstream_count getent.up.example A) - before ))" 1
}

# --- upstream gone --------------------------------------------------------------
group_upstream_gone() {
D www.up.example A >/dev/null # cached while the upstream is up
kill -TERM "$UPID"; wait "$UPID" 2>/dev/null
out=$(D www.up.example A)
expect "upstream stopped: cached name still answered" "$out" "status: NOERROR" "192.0.2.1"
t0=$(ms)
out=$(D uncached.up.example A)
t=$(( $(ms) - t0 ))
expect "upstream stopped: uncached name gets SERVFAIL" "$out" "status: SERVFAIL"
if [ "$t" -le 1500 ]; then ok "upstream stopped: SERVFAIL in ${t} ms (budget 900)"
else bad "upstream stopped: SERVFAIL took ${t} ms (budget 900)"; fi
}

# --- serve-stale: expired data answers while the upstream is gone (RFC 8767) --
# Its own Unbound (killed mid-test) with 2-second TTLs, the scripted upstream
# for a server that goes silent, and a daemon with a client-response timer
# (250 ms) shorter than its upstream budget (2 tries of 400 ms) and /metrics.
up2_start() { # CONF: a second Unbound on 127.0.0.79
	unbound -d -c "$1" >>"$WORK/unbound2.out" 2>&1 &
	UP2=$!; PIDS+=("$UP2")
	for _ in $(seq 50); do
		dig +time=1 +tries=1 -p "$UPORT" @127.0.0.79 st.example SOA +short 2>/dev/null |
			grep -q ns.st.example && return 0
		sleep 0.1
	done
	return 1
}
up2_conf() { # FILE LOCAL-DATA...
	local f=$1; shift
	{
		cat <<CONF
server:
  interface: 127.0.0.79@$UPORT
  port: $UPORT
  do-ip6: no
  chroot: ""
  username: ""
  directory: "$WORK"
  pidfile: "$WORK/unbound2.pid"
  use-syslog: no
  logfile: "$WORK/unbound2.log"
  verbosity: 0
  do-daemonize: no
  num-threads: 1
  local-zone: "." refuse
  outgoing-interface: 127.0.0.79
  local-zone: "st.example." static
  local-data: "st.example. 2 IN SOA ns.st.example. h.st.example. 1 3600 900 86400 2"
CONF
		for d in "$@"; do echo "  local-data: \"$d\""; done
		printf 'remote-control:\n  control-enable: no\n'
	} >"$f"
}
group_serve_stale() {
stop_main || bad "main daemon stops"
local hport=$((PORT + 2)) out t t0 before after slow
up2_conf "$WORK/up2a.conf" "old.st.example. 2 IN A 192.0.2.70" "flip.st.example. 2 IN A 192.0.2.71"
up2_conf "$WORK/up2b.conf" "old.st.example. 2 IN A 192.0.2.70"
up2_start "$WORK/up2a.conf" || { bad "second upstream starts" "$(cat "$WORK/unbound2.out")"; return; }
rm -f "$WORK/fake.log.down"
if ! start_daemon "$WORK/stale.log" --listen "$ADDR:$PORT" --threads 2 --forward "127.0.0.79:$UPORT" \
	--forward-zone "hole.example=$FAKE:$UPORT" --upstream-timeout-ms 400 --upstream-tries 2 \
	--serve-stale-timeout-ms 250 --http "$ADDR:$hport"; then
	bad "serve-stale daemon starts" "$(cat "$WORK/stale.log")"; return
fi
expect "warm: old.st.example" "$(D old.st.example A)" "192\.0\.2\.70"
expect "warm: flip.st.example" "$(D flip.st.example A)" "192\.0\.2\.71"
expect "warm: gone.st.example is NXDOMAIN" "$(D gone.st.example A)" "status: NXDOMAIN"
expect "warm: stale-1.hole.example (scripted upstream)" "$(D stale-1.hole.example A)" "192\.0\.2\.96"
# flip.st.example is gone upstream now: a fresh NXDOMAIN beats the stale A.
kill -TERM "$UP2"; wait "$UP2" 2>/dev/null
up2_start "$WORK/up2b.conf" || bad "second upstream restarts" "$(cat "$WORK/unbound2.out")"
sleep 2.2 # every TTL above has run out
out=$(D flip.st.example A)
expect "a refresh that gets NXDOMAIN: NXDOMAIN, not the stale A" "$out" "status: NXDOMAIN"
refute "... and no EDE 3" "$out" "EDE: 3"
# The forwarder is killed mid-test.
kill -9 "$UP2"; wait "$UP2" 2>/dev/null
t0=$(ms); out=$(D old.st.example A); t=$(( $(ms) - t0 ))
expect "forwarder killed: the expired A is answered stale, TTL 30, EDE 3" "$out" \
	"status: NOERROR" "old\.st\.example\.[[:space:]]+30[[:space:]]+IN[[:space:]]+A[[:space:]]+192\.0\.2\.70" \
	"EDE: 3"
within "... at once: the killed forwarder refuses, the refresh fails fast" "$t" 1000
out=$(D gone.st.example A)
expect "an expired NXDOMAIN is answered stale too, EDE 19" "$out" "status: NXDOMAIN" "EDE: 19"
out=$(D old.st.example A)
expect "the failed refresh is held: stale again" "$out" "192\.0\.2\.70" "EDE: 3"
within "... at once, nothing sent upstream (dig's query time)" "$(qtime "$out")" 300
# A server that goes silent: the refresh is late, the client is not.
touch "$WORK/fake.log.down"
before=$(fake_count stale-1.hole.example 1)
t0=$(ms); out=$(D stale-1.hole.example A); t=$(( $(ms) - t0 ))
expect "a silent upstream: stale answer when the refresh is late" "$out" \
	"192\.0\.2\.96" "EDE: 3"
if [ "$t" -ge 200 ] && [ "$t" -le 700 ]; then ok "... after the 250 ms client-response timer, not the 800 ms upstream budget (${t} ms)"
else bad "... after the 250 ms client-response timer (${t} ms, want 200..700)"; fi
slow=0
for i in $(seq 1 12); do
	t0=$(ms); out=$(D stale-1.hole.example A); t=$(( $(ms) - t0 ))
	grep -q "192.0.2.96" <<<"$out" || slow=$((slow + 100))
	[ "$t" -gt 300 ] && slow=$((slow + 1))
	sleep 0.25
done
same "12 more asks over 3 s: each stale at once (slow or wrong: 0)" "$slow" 0
after=$(fake_count stale-1.hole.example 1)
if [ $((after - before)) -le 2 ]; then
	ok "refreshes rate-limited: $((after - before)) upstream queries (one refresh, 2 tries) for 13 asks"
else
	bad "refreshes rate-limited: $((after - before)) upstream queries for 13 asks (want <= 2)"
fi
out=$(curl -s "http://$ADDR:$hport/metrics")
expect "counted in /metrics" "$out" "rootwalk_stale_answers_total [1-9]" \
	"rootwalk_stale_late_total [1-9]" "rootwalk_stale_refresh_failed_total [1-9]"
rm -f "$WORK/fake.log.down"
stop_daemon || bad "serve-stale daemon stops"
}

# --- prefetch and the keep-warm list (issue 12) -------------------------------
group_prefetch_and_keep_warm() {
stop_main || bad "main daemon stops"
local hport=$((PORT + 2)) out t t0 n0 n1 k
rm -f "$WORK/fake.log.down"
if ! start_daemon "$WORK/warm.log" --listen "$ADDR:$PORT" --threads 2 --forward "$UP:$UPORT" \
	--forward-zone "hole.example=$FAKE:$UPORT" --upstream-timeout-ms 300 --upstream-tries 2 \
	--keep-warm stale-kw.hole.example --http "$ADDR:$hport"; then
	bad "prefetch daemon starts" "$(cat "$WORK/warm.log")"; return
fi
# A name with TTL 10 asked for again in its last 10% (1 s) is answered
# from the cache and refreshed upstream before it expires.
expect "warm: ttl10-p.hole.example" "$(D ttl10-p.hole.example A)" "192\.0\.2\.95"
n0=$(fake_count ttl10-p.hole.example 1)
sleep 9.3
out=$(D ttl10-p.hole.example A)
expect "asked in its last 10%: answered from the cache (TTL 0)" "$out" \
	"ttl10-p\.hole\.example\.[[:space:]]+0[[:space:]]+IN[[:space:]]+A"
within "... at once (dig's query time)" "$(qtime "$out")" 150
sleep 0.2
n1=$(fake_count ttl10-p.hole.example 1)
same "... and refreshed upstream in the background, before it expired" "$((n1 - n0))" 1
sleep 0.8 # past the first answer's expiry
out=$(D ttl10-p.hole.example A)
expect "after the old expiry: a hit on the refreshed answer" "$out" \
	"ttl10-p\.hole\.example\.[[:space:]]+[89][[:space:]]+IN[[:space:]]+A"
within "... no client waited (dig's query time)" "$(qtime "$out")" 150
same "... and nothing more went upstream" "$(( $(fake_count ttl10-p.hole.example 1) - n1 ))" 0
# The keep-warm list: refreshed with no client asking (TTL 2).
sleep 4
k=$(fake_count stale-kw.hole.example 1)
[ "$k" -ge 3 ] && ok "keep-warm: stale-kw.hole.example refreshed $k times in ~15 s, nobody asking" ||
	bad "keep-warm: stale-kw.hole.example refreshed $k times in ~15 s (want >= 3)"
out=$(D stale-kw.hole.example A)
expect "... and a client gets it from the cache" "$out" "192\.0\.2\.96"
within "... at once (dig's query time)" "$(qtime "$out")" 150
expect "counted in /metrics" "$(curl -s "http://$ADDR:$hport/metrics")" \
	'rootwalk_refreshes_total\{reason="prefetch"\} [1-9]' \
	'rootwalk_refreshes_total\{reason="keep_warm"\} [1-9]'
stop_daemon || bad "prefetch daemon stops"
}

# --- the cache survives a restart (issue 12) ----------------------------------
group_cache_survives_restart() {
stop_main || bad "main daemon stops"
local cf="$WORK/cache.bin" sock="$WORK/cf.sock" before after hits i out
rm -f "$cf"
cf_args=(--listen "$ADDR:$PORT" --threads 2 --forward "$UP:$UPORT"
	--forward-zone "hole.example=$FAKE:$UPORT" --cache-file "$cf" --control "$sock")
start_daemon "$WORK/cf1.log" "${cf_args[@]}" || { bad "daemon starts" "$(cat "$WORK/cf1.log")"; return; }
expect "no cache file yet: said so, starting empty" "$(cat "$WORK/cf1.log")" "no cache file yet"
for i in $(seq 1 20); do D "keep-$i.hole.example" A >/dev/null; done
stop_daemon || bad "first daemon stops"
expect "a clean exit writes the cache file" "$(cat "$WORK/cf1.log")" "cache: wrote [0-9]+ entries .* to $cf"
before=$(grep -c "^keep-" "$WORK/fake.log")
start_daemon "$WORK/cf2.log" "${cf_args[@]}" || { bad "daemon restarts" "$(cat "$WORK/cf2.log")"; return; }
expect "at start it reads it back" "$(cat "$WORK/cf2.log")" "cache: loaded [1-9][0-9]* entries from $cf"
hits=0
for i in $(seq 1 20); do
	out=$(D "keep-$i.hole.example" A)
	grep -q "192.0.2.98" <<<"$out" && hits=$((hits + 1))
done
after=$(grep -c "^keep-" "$WORK/fake.log")
same "right after the restart: 20 of 20 names answered" "$hits" 20
same "... all from the cache: nothing sent upstream" "$((after - before))" 0
out=$("$RW" control --control "$sock" dump-cache "$WORK/dump.bin" 2>&1)
expect "control dump-cache FILE writes a cache file" "$out" "^ok: wrote [0-9]+ entries"
"$RW" control --control "$sock" flush >/dev/null 2>&1
out=$("$RW" control --control "$sock" load-cache "$WORK/dump.bin" 2>&1)
expect "control load-cache FILE reads it back" "$out" "^ok: loaded [1-9][0-9]* entries"
out=$(D keep-3.hole.example A)
expect "... and answers from it" "$out" "192\.0\.2\.98"
same "... nothing sent upstream" "$(( $(grep -c "^keep-" "$WORK/fake.log") - after ))" 0
out=$("$RW" control --control "$sock" load-cache "$WORK/unbound.conf" 2>&1)
expect "a foreign file: refused, said why" "$out" "^error: .*not a rootwalk cache file; nothing loaded"
stop_daemon || bad "second daemon stops"
# A truncated file and a garbage one: a clear line, an empty cache, no crash.
truncate -s -10 "$cf"
start_daemon "$WORK/cf3.log" "${cf_args[@]}" || { bad "daemon starts on a truncated file" "$(cat "$WORK/cf3.log")"; return; }
expect "a truncated file: said so, starting empty" "$(cat "$WORK/cf3.log")" \
	"cache: $cf: checksum mismatch \(truncated or corrupt\); nothing loaded; starting empty"
stop_daemon || bad "third daemon stops"
head -c 5000 /dev/urandom >"$cf"
start_daemon "$WORK/cf4.log" "${cf_args[@]}" || { bad "daemon starts on a garbage file" "$(cat "$WORK/cf4.log")"; return; }
expect "a garbage file: said so, starting empty" "$(cat "$WORK/cf4.log")" "not a rootwalk cache file"
stop_daemon || bad "fourth daemon stops"
}

# --- built-in zones are defaults, not walls (issue 13) ---------------------------
# PTR for a service, a pod and a node IP through forward zones, while the
# built-in RFC 6303 zones and localhost keep answering what is theirs.
group_builtin_zones_yield() {
stop_main || bad "main daemon stops"
local fz="$UP:$UPORT" out
ptrs() { for ip in 10.96.0.10 10.244.1.5 192.168.1.10; do D -x "$ip" +short; done; }
# a forward zone above built-in zones: they still answer, and the log says so
start_daemon "$WORK/bz1.log" --listen "$ADDR:$PORT" --threads 1 --forward-zone "in-addr.arpa=$fz" ||
	{ bad "daemon starts" "$(cat "$WORK/bz1.log")"; return; }
expect "forward zone above built-in zones: a warning naming them" "$(cat "$WORK/bz1.log")" \
	"forward-zone in-addr.arpa: 25 built-in zones under it answer locally \(127\.in-addr\.arpa\., 10\.in-addr\.arpa\., .*, \.\.\.\); --no-builtin-zone NAME sends one there"
expect "... and they do answer (NXDOMAIN, authoritative)" "$(D -x 10.96.0.10)" "status: NXDOMAIN" "flags: qr aa"
stop_daemon || bad "it stops"
# turned off one by one: the forward zone gets them
start_daemon "$WORK/bz2.log" --listen "$ADDR:$PORT" --threads 1 --forward-zone "in-addr.arpa=$fz" \
	--no-builtin-zone 10.in-addr.arpa --no-builtin-zone 168.192.in-addr.arpa ||
	{ bad "daemon starts" "$(cat "$WORK/bz2.log")"; return; }
out=$(ptrs)
expect "--no-builtin-zone: service, pod and node PTR forwarded" "$out" \
	"^kube-dns\.kube-system\.svc\.cluster\.local\.$" "^10-244-1-5\.default\.pod\.cluster\.local\.$" \
	"^node-1\.cluster\.example\.$"
expect "... localhost still answered" "$(D localhost A +short)" "^127\.0\.0\.1$"
expect "... and 127.0.0.1's PTR" "$(D -x 127.0.0.1 +short)" "^localhost\.$"
expect "... 172.16/12 still local" "$(D -x 172.16.0.1)" "status: NXDOMAIN" "flags: qr aa"
stop_daemon || bad "it stops"
# forward zones at and below built-in zones win without any switch
start_daemon "$WORK/bz3.log" --listen "$ADDR:$PORT" --threads 1 --forward-zone "10.in-addr.arpa=$fz" \
	--forward-zone "1.168.192.in-addr.arpa=$fz" ||
	{ bad "daemon starts" "$(cat "$WORK/bz3.log")"; return; }
out=$(ptrs)
expect "forward zones at and below built-in zones win over them" "$out" \
	"^kube-dns\." "^10-244-1-5\." "^node-1\."
expect "... the rest of 192.168/16 still local" "$(D -x 192.168.2.1)" "status: NXDOMAIN" "flags: qr aa"
refute "... no warning: nothing is shadowed" "$(cat "$WORK/bz3.log")" "built-in zones? under it"
stop_daemon || bad "it stops"
out=$("$RW" --listen "$ADDR:$PORT" --no-builtin-zone example.com 2>&1)
expect "--no-builtin-zone for a zone that is not built in: an error" "$out" \
	"no-builtin-zone: 'example.com' is not a built-in zone"
}

# --- a restart that drops nothing (--takeover) -----------------------------------
# A new rootwalk takes the running one's sockets while dnsperf sends 3,000
# q/s of cached names, names the upstream answers at once and names it
# answers after 100 ms (always some in flight): nothing is lost, nothing
# fails, the old process finishes its questions and exits 0, and the new
# one starts with the old one's cache.
group_zero_loss_restart() {
stop_main || bad "main daemon stops"
local sock="$WORK/tk.sock" cf="$WORK/tk.cache" old rc out i
local args=(--listen "$ADDR:$PORT" --threads 2 --forward "$UP:$UPORT"
	--forward-zone "hole.example=$FAKE:$UPORT" --cache-file "$cf" --control "$sock")
start_daemon "$WORK/tk1.log" "${args[@]}" || { bad "daemon starts" "$(cat "$WORK/tk1.log")"; return; }
old=$DPID
for i in $(seq 1 30); do D "warm-$i.hole.example" A >/dev/null; done
{
	for i in $(seq 1 3000); do
		echo "www.up.example A"
		echo "n$i.up.example A"
		[ $((i % 3)) = 0 ] && echo "lag5-$i.hole.example A"
	done
} >"$WORK/tk.q"
dnsperf -s "$ADDR" -p "$PORT" -d "$WORK/tk.q" -n 1 -l 5 -c 8 -q 200 -Q 3000 -t 3 >"$WORK/tk.perf" 2>&1 &
local perf=$!
sleep 1.5
"$RW" "${args[@]}" --threads 3 --takeover >"$WORK/tk2.log" 2>&1 &
DPID=$!; PIDS+=("$DPID")
wait "$perf"
wait "$old"; rc=$?
out=$(cat "$WORK/tk.perf")
expect "takeover under 3,000 q/s: dnsperf ran" "$out" "Queries completed: +[1-9]"
expect "... zero queries lost" "$out" "Queries lost: +0 "
refute "... no SERVFAIL" "$out" "SERVFAIL"
same "the old process exits 0" "$rc" 0
expect "... having handed over its sockets and drained" "$(cat "$WORK/tk1.log")" \
	"handed 5 listening sockets to a new rootwalk" "finishing [0-9]+ questions in flight" "drained in [0-9]+ ms"
refute "... leaving the cache file to the new one" "$(sed -n '/drained in/,$p' "$WORK/tk1.log")" "cache: wrote"
expect "the new one took them and started warm" "$(cat "$WORK/tk2.log")" \
	"took 5 listening sockets from pid $old \(4 DNS, no HTTP, control\)" \
	"cache: loaded [1-9][0-9]* entries" "serving on .* with 3 workers"
same "... the warm names answered from its cache" "$(for i in 1 2 3; do D "warm-$i.hole.example" A +short; done | sort -u)" \
	"192.0.2.98"
expect "... answers over TCP" "$(D +tcp www.up.example A +short)" "192\.0\.2\.[12]"
expect "... and its control socket works" "$("$RW" control --control "$sock" stats 2>&1)" "^ok"
# nothing to take over: start as usual
stop_daemon || bad "the new daemon stops"
start_daemon "$WORK/tk3.log" "${args[@]}" --takeover || { bad "--takeover with nothing running starts" "$(cat "$WORK/tk3.log")"; return; }
expect "--takeover with nothing running: says so, starts afresh" "$(cat "$WORK/tk3.log")" "no rootwalk to take over"
stop_daemon || bad "it stops"
out=$("$RW" --listen "$ADDR:$PORT" --takeover 2>&1); rc=$?
expect "--takeover without --control: a clear error" "$out" "--takeover needs --control"
same "... exit 1" "$rc" 1
}

# --- shutdown with clients still waiting --------------------------------------
group_shutdown_with_clients_still_waiting() {
( D drop-2.fault.example A >/dev/null ) &
CLIENT=$!
sleep 0.2
if stop_daemon; then ok "SIGTERM with a query in flight: clean exit 0"
else bad "SIGTERM with a query in flight" "$(tail -5 "$WORK/daemon.log")"; fi
expect "exit summary counts cache and upstream" "$(cat "$WORK/daemon.log")" \
	"cache: [0-9]+ hits" "upstream: [0-9]+ queries"
wait "$CLIENT"
}

run_groups "$@"
