#!/usr/bin/env bash
# End-to-end tests of day-two operations: zone reload (SIGHUP, --watch-zones,
# under load, bad files), round-robin, the service-list generator, the
# ndots:5 search path through glibc, /metrics /healthz /ready, the control
# socket, access control, response rate limiting, privilege drop, logging,
# and the packaging examples. Loopback only; needs root (unshare, --user).
# Usage: ops.sh PATH/TO/rootwalk
set -u
RW=${1:?usage: ops.sh path/to/rootwalk}
ADDR=127.0.0.77
PORT=$((20000 + $$ % 20000))
HTTP=127.0.0.77:$((PORT + 1))
UPORT=$((PORT + 2))
FAKE=127.0.0.82
NAME=ops
. "$(dirname "$0")/lib.sh"
need dig curl unshare getent dnsperf
need_root
chmod 755 "$WORK"

D() { dig +time=2 +tries=1 -p "$PORT" @"$ADDR" "$@" 2>&1; }
get() { curl -s -m 3 -o /dev/null -w "%{http_code}" "http://$HTTP$1"; }
metric() { curl -s -m 3 "http://$HTTP/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
ctl() { "$RW" control --control "$WORK/ctl.sock" "$@" 2>&1; }

mkdir -p "$WORK/zones"
printf '. 1 NS a.nowhere.\na.nowhere. 1 A 127.53.255.254\n' >"$WORK/hints"
zone_v() { # VERSION: the corp.example zone with svc at 10.0.0.VERSION
	printf '$TTL 60\n@ SOA ns hm %s 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nsvc A 10.0.0.%s\n' \
		"$1" "$1" >"$WORK/zones/corp.example.zone.tmp"
	mv "$WORK/zones/corp.example.zone.tmp" "$WORK/zones/corp.example.zone"
}
zone_v 1
# the service list -> cluster.local zone (tools/svc2zone)
cat >"$WORK/services.json" <<'JSON'
{"domain": "cluster.local", "ttl": 5, "services": [
 {"name": "bookstore", "namespace": "default",
  "endpoints": ["10.0.1.11", "10.0.1.12", "10.0.1.13", "fd00::11"],
  "ports": [{"name": "http", "protocol": "tcp", "port": 80}]},
 {"name": "db", "namespace": "shop", "headless": true,
  "endpoints": [{"ip": "10.0.2.5", "hostname": "db-0"}, {"ip": "10.0.2.6", "hostname": "db-1"}],
  "ports": [{"name": "pg", "protocol": "tcp", "port": 5432}]}]}
JSON
if $PY "$TOP/tools/svc2zone" "$WORK/services.json" "$WORK/zones/cluster.local.zone" \
	--reverse-dir "$WORK/zones" 2>"$WORK/svc2zone.err"; then
	ok "svc2zone writes the service zone and its reverse zones"
else
	bad "svc2zone" "$(cat "$WORK/svc2zone.err")"
fi
echo '{"services": [{"name": "Bad_Name", "endpoints": ["10.0.0.1"]},
 {"name": "good", "endpoints": ["10.0.0.2"]}]}' >"$WORK/bad.json"
out=$($PY "$TOP/tools/svc2zone" "$WORK/bad.json" "$WORK/x.zone" 2>&1); rc=$?
expect "svc2zone: a bad service is skipped and named with its field" "$out" \
	"skipped services\[0\]\.name: 'Bad_Name' is not a DNS label" "1 services"
[ $rc -eq 0 ] && grep -q "^good.default.svc IN A 10.0.0.2" "$WORK/x.zone" &&
	ok "svc2zone: the rest is written (exit 0)" || bad "svc2zone exit code $rc" "$(cat "$WORK/x.zone")"
$PY "$TOP/tools/svc2zone" "$WORK/bad.json" "$WORK/x.zone" --strict 2>/dev/null; rc=$?
same "svc2zone --strict: exit 1 when something was skipped" "$rc" 1
echo '{"services": ' >"$WORK/broken.json"
out=$($PY "$TOP/tools/svc2zone" "$WORK/broken.json" "$WORK/y.zone" 2>&1); rc=$?
expect "svc2zone: an unreadable input names file and line, exit 2" "$out" "broken.json:2: Expecting value"
[ $rc -eq 2 ] && [ ! -e "$WORK/y.zone" ] && ok "... and writes nothing" || bad "svc2zone on broken input: rc $rc"

# The fake upstream counts what leaks out of local zones.
$PY "$HERE/fakeup.py" "$FAKE" "$UPORT" "$WORK/upstream.log" 120 &
PIDS+=("$!")

ARGS=(--listen "$ADDR:$PORT" --zones-dir "$WORK/zones" --root-hints "$WORK/hints" --threads 2
	--forward "$FAKE:$UPORT" --http "$HTTP" --control "$WORK/ctl.sock" --watch-zones --log-queries)
if ! start_daemon "$WORK/daemon.log" "${ARGS[@]}"; then
	bad "daemon starts with --http, --control, --watch-zones" "$(cat "$WORK/daemon.log")"
	echo "$pass passed, $fail failed"; exit 1
fi
ok "daemon starts with --http, --control, --watch-zones"
MAIN_PID=$DPID

# --- service discovery shapes --------------------------------------------------
group_service_discovery_shapes() {
out=$(D bookstore.default.svc.cluster.local A)
expect "service A records (several endpoints), authoritative" "$out" "flags: qr aa rd ra;" \
	"ANSWER: 3," "10\.0\.1\.11" "10\.0\.1\.12" "10\.0\.1\.13"
expect "service AAAA" "$(D bookstore.default.svc.cluster.local AAAA +short)" "fd00::11"
expect "headless service: one A per endpoint, and per pod hostname" \
	"$(D db.shop.svc.cluster.local A +short; D db-1.db.shop.svc.cluster.local A +short)" \
	"10\.0\.2\.5" "10\.0\.2\.6"
expect "SRV _port._proto" "$(D _http._tcp.bookstore.default.svc.cluster.local SRV +short)" \
	"0 100 80 bookstore\.default\.svc\.cluster\.local\."
expect "headless SRV: one target per endpoint" "$(D _pg._tcp.db.shop.svc.cluster.local SRV +short)" \
	"db-0\.db\.shop" "db-1\.db\.shop"
expect "pod-style name" "$(D 10-0-1-12.default.pod.cluster.local A +short)" "10\.0\.1\.12"
expect "reverse PTR" "$(D -x 10.0.2.6 +short)" "db-1\.db\.shop\.svc\.cluster\.local\."
firsts=$(for i in 1 2 3 4 5 6; do D bookstore.default.svc.cluster.local A +short | head -1; done | sort -u | wc -l)
[ "$firsts" -ge 3 ] && ok "round-robin: the first address rotates ($firsts different in 6 answers)" ||
	bad "round-robin: only $firsts different first addresses"
}

# --- ndots:5 search path through glibc, nothing leaks upstream -------------------
group_ndots() {
cat >"$WORK/resolv.conf" <<CONF
nameserver 127.0.0.53
search default.svc.cluster.local svc.cluster.local cluster.local
options ndots:5 timeout:2 attempts:1
CONF
cat >"$WORK/ndots.sh" <<SH
mount --bind "$WORK/resolv.conf" /etc/resolv.conf || exit 3
"$RW" --listen 127.0.0.53:53 --zones-dir "$WORK/zones" --root-hints "$WORK/hints" --threads 1 \
	--forward "$FAKE:$UPORT" --log-level warn &
pid=\$!
for _ in \$(seq 50); do dig +time=1 +tries=1 @127.0.0.53 localhost +short 2>/dev/null | grep -q 127.0.0.1 && break; sleep 0.1; done
echo "short: \$(getent hosts bookstore | head -1)"
echo "upstream-after-bookstore: \$(wc -l < "$WORK/upstream.log")"
echo "ns: \$(getent hosts db.shop | head -1)"
echo "missing: \$(getent hosts nosuchsvc; echo rc=\$?)"
kill -TERM \$pid; wait \$pid; echo "exit=\$?"
SH
: >"$WORK/upstream.log"
out=$(timeout 30 unshare -m bash "$WORK/ndots.sh" 2>&1)
expect "ndots:5: 'getent hosts bookstore' resolves through the search list" "$out" \
	"short: (10\.0\.1\.1[123]|fd00::11)[[:space:]]+bookstore\.default\.svc\.cluster\.local"
expect "ndots:5: 'getent hosts bookstore' sent nothing upstream" "$out" "upstream-after-bookstore: 0$"
expect "ndots:5: 'getent hosts db.shop' resolves" "$out" "ns: 10\.0\.2\.[56]"
refute "ndots:5: no search-list query under cluster.local reached the upstream" \
	"$(cat "$WORK/upstream.log")" "cluster\.local"
expect "ndots:5: a name missing everywhere: the search tries end locally (NXDOMAIN), only the bare name goes upstream" \
	"$(cat "$WORK/upstream.log")" "^nosuchsvc (1|28)$"
}

# --- metrics, health, readiness ----------------------------------------------------
group_metrics() {
out=$(curl -s -m 3 "http://$HTTP/metrics")
expect "build and process series (issue 14)" "$out" \
	'^rootwalk_build_info\{version="[0-9.]+",commit="[0-9a-z-]+",buildtype="[a-z]+"\} 1$' \
	'^process_resident_memory_bytes [1-9][0-9]{5,}$' '^process_cpu_seconds_total [0-9]+\.[0-9]{3}$' \
	'^process_open_fds [1-9][0-9]*$' '^process_max_fds [1-9][0-9]*$' '^process_start_time_seconds 1[0-9]{9}$'
expect "--version: the commit, the build and the libraries" "$("$RW" --version)" \
	"^rootwalk [0-9]+\.[0-9]+\.[0-9]+$" "^commit: [0-9a-z-]+$" "^build: [a-z]+, (gcc|clang) " \
	"^libraries: libuv 1\.[0-9.]+, c-ares 1\.[0-9.]+, libyaml 0\.[0-9.]+$"
[ "$(get /healthz)" = 200 ] && ok "/healthz 200" || bad "/healthz"
[ "$(get /ready)" = 200 ] && ok "/ready 200" || bad "/ready"
[ "$(get /nope)" = 404 ] && ok "unknown path 404" || bad "unknown path"
out=$($PY - "$HTTP" <<'PYX'
import socket, sys
h, p = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((h, int(p)), timeout=3)
s.sendall(b"NONSENSE\r\n\r\n")
print(s.recv(100).decode(errors="replace").splitlines()[0])
PYX
)
expect "malformed request 400" "$out" "HTTP/1.1 400"
sleep 0.4
q0=$(metric 'rootwalk_queries_total{transport="udp"}')
for i in $(seq 10); do D svc.corp.example A >/dev/null; done
sleep 0.4
q1=$(metric 'rootwalk_queries_total{transport="udp"}')
[ $((q1 - q0)) -ge 10 ] && ok "metrics move with the queries sent (+$((q1 - q0)))" ||
	bad "metrics did not move: $q0 -> $q1"
m=$(curl -s -m 3 "http://$HTTP/metrics")
expect "metrics: the families the issue asks for" "$m" 'rootwalk_queries_by_type_total\{type="A"\}' \
	'rootwalk_responses_total\{rcode="NOERROR"\}' "rootwalk_cache_hits_total" \
	"rootwalk_cache_entries" "rootwalk_cache_bytes" "rootwalk_cache_evictions_total" \
	"rootwalk_upstream_queries_total" "rootwalk_upstream_timeouts_total" \
	"rootwalk_upstream_errors_total" 'rootwalk_query_duration_seconds_bucket\{source="cache",le="\+Inf"\}' \
	'rootwalk_zone_reloads_total\{result="ok"\}'
# Starvation (issue 11): 70 half-sent requests from one address, and 200
# from many: /healthz from another address is still answered at once.
hold() { # N SRC...: half-sent requests from each SRC, held for 4 s
	$PY - "$HTTP" "$@" <<'PYX'
import socket, sys, time
h, p = sys.argv[1].rsplit(":", 1)
n, socks = int(sys.argv[2]), []
for src in sys.argv[3:]:
    for _ in range(n):
        s = socket.socket()
        s.bind((src, 0))
        try:
            s.connect((h, int(p)))
            s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        except OSError:
            pass
time.sleep(4)
PYX
}
health_fast() { # NAME: 5 /healthz from 127.0.0.1: each answered within 1 s, most within 100 ms
	# (a starved endpoint answers none while the 4 s hold lasts; one slow
	# answer in five is this 2-core machine's scheduling, seen once in CI)
	local slow=0 late=0 t all=""
	for _ in 1 2 3 4 5; do
		t=$(curl -s -o /dev/null -m 2 --interface 127.0.0.1 -w '%{http_code} %{time_total}' "http://$HTTP/healthz")
		all="$all$t; "
		[[ "$t" == 200\ 0.0* ]] || slow=$((slow + 1))
		[[ "$t" == 200\ 0.* ]] || late=$((late + 1))
	done
	[ "$late" -eq 0 ] && [ "$slow" -le 1 ] &&
		ok "$1: /healthz answered 5 times within 1 s, $((5 - slow)) within 100 ms" ||
		bad "$1: /healthz: $late of 5 failed or over 1 s, $slow over 100 ms" "$all"
}
hold 70 127.0.0.2 &
hp=$!
sleep 1
health_fast "70 half-sent requests from 127.0.0.2"
wait "$hp"
hold 20 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7 127.0.0.8 127.0.0.9 127.0.0.10 127.0.0.11 127.0.0.12 &
hp=$!
sleep 1
health_fast "200 half-sent requests from 10 addresses"
wait "$hp"
m=$(curl -s -m 3 "http://$HTTP/metrics")
expect "the HTTP fairness rules are counted" "$m" \
	'rootwalk_http_closed_total\{reason="per_client"\} [1-9]' \
	'rootwalk_http_closed_total\{reason="evicted"\} [1-9]'
}

# --- every client query counted; CoreDNS's families (issue 14) ----------------------------
# A daemon of its own with --metrics-format both and JSON query logs: a
# known mix of local, cached, upstream and failed-then-held answers over
# UDP and TCP must move every count by exactly that mix (no sampling;
# cache hits and misses per client query); the exposition must be valid;
# the series CoreDNS's dashboards and alerts read must exist with their
# labels; the per-forwarder series must see the forwarder.
group_metrics_coredns() {
stop_main || bad "main daemon stops"
local h2="$ADDR:$((PORT + 5))" pc=(timeout 10 "$PY" "$HERE/promcheck.py")
start_daemon "$WORK/mc.log" --listen "$ADDR:$PORT" --threads 2 --root-hints "$WORK/hints" \
	--zones-dir "$WORK/zones" --forward "$FAKE:$UPORT" --http "$h2" --metrics-format both \
	--log-queries --log-format json --upstream-tries 1 ||
	{ bad "daemon starts" "$(cat "$WORK/mc.log")"; return; }
local sel=(rootwalk_query_duration_seconds_count
	'rootwalk_query_duration_seconds_count{source="local"}'
	'rootwalk_query_duration_seconds_count{source="cache"}'
	'rootwalk_query_duration_seconds_count{source="upstream"}'
	coredns_dns_request_duration_seconds_count coredns_dns_requests_total
	'coredns_dns_requests_total{proto="tcp"}'
	'coredns_cache_hits_total{type="success"}' 'coredns_cache_hits_total{type="denial"}'
	coredns_cache_misses_total coredns_cache_requests_total
	"coredns_forward_requests_total{to=\"$FAKE:$UPORT\"}"
	'coredns_forward_responses_total{rcode="SERVFAIL"}'
	"rootwalk_forward_server_responses_total{to=\"$FAKE:$UPORT\",rcode=\"NOERROR\"}")
sleep 0.6
"${pc[@]}" "http://$h2/metrics" "${sel[@]}" >"$WORK/m0" 2>&1
local i
for i in 1 2 3 4 5; do D svc.corp.example A >/dev/null; done
D mc1.up.example A >/dev/null
for i in 1 2 3 4; do D mc1.up.example A >/dev/null; done
D servfail-mc.up.example A >/dev/null
D servfail-mc.up.example A >/dev/null
D +tcp svc.corp.example A >/dev/null
D +tcp svc.corp.example A >/dev/null
sleep 0.6
"${pc[@]}" "http://$h2/metrics" "${sel[@]}" >"$WORK/m1" 2>&1
expect "/metrics with both families: a valid exposition" "$(head -1 "$WORK/m1")" \
	"^promcheck: [0-9]+ families, [0-9]+ samples, 0 problems$"
local got
got=$(paste -d' ' <(tail -n +2 "$WORK/m0") <(tail -n +2 "$WORK/m1") |
	awk '{print $1, $NF - $3}')
expect "14 client queries: every count moved by exactly the mix (no sampling)" "$got" \
	"^rootwalk_query_duration_seconds_count 14$" \
	'^rootwalk_query_duration_seconds_count\{source="local"\} 7$' \
	'^rootwalk_query_duration_seconds_count\{source="cache"\} 5$' \
	'^rootwalk_query_duration_seconds_count\{source="upstream"\} 2$' \
	"^coredns_dns_request_duration_seconds_count 14$" "^coredns_dns_requests_total 14$" \
	'^coredns_dns_requests_total\{proto="tcp"\} 2$'
expect "cache hits and misses per client query: 4 success, 1 denial (the failure held), 2 misses" "$got" \
	'^coredns_cache_hits_total\{type="success"\} 4$' '^coredns_cache_hits_total\{type="denial"\} 1$' \
	"^coredns_cache_misses_total 2$" "^coredns_cache_requests_total 7$"
expect "per-forwarder series: its queries and replies by rcode" "$got" \
	"^coredns_forward_requests_total\\{to=\"$FAKE:$UPORT\"\\} 2$" \
	'^coredns_forward_responses_total\{rcode="SERVFAIL"\} 1$' \
	"^rootwalk_forward_server_responses_total.* 1$"
local m
m=$(curl -s -m 3 "http://$h2/metrics")
# The series CoreDNS's mixin dashboard and alerts query, with their labels.
expect "the series CoreDNS's dashboards and alerts read" "$m" \
	'^coredns_dns_requests_total\{server="dns://[^"]+",zone="\.",view="",proto="udp",family="1",type="A"\} [0-9]+$' \
	'^coredns_dns_responses_total\{server="[^"]+",zone="\.",view="",rcode="SERVFAIL",plugin="forward"\} 1$' \
	'^coredns_dns_request_duration_seconds_bucket\{server="[^"]+",zone="\.",view="",type="A",le="0\.00025"\} [0-9]+$' \
	'^coredns_dns_request_duration_seconds_bucket\{.*le="8\.192"\}' \
	'^coredns_dns_request_size_bytes_bucket\{.*proto="udp",le="511"\}' \
	'^coredns_dns_response_size_bytes_bucket\{.*proto="tcp",le="\+Inf"\} 2$' \
	'^coredns_dns_do_requests_total\{' '^coredns_cache_entries\{.*type="success"\} [1-9]' \
	'^coredns_forward_request_duration_seconds_bucket\{to="[^"]+",rcode="NOERROR",le="\+Inf"\} 1$' \
	'^coredns_proxy_request_duration_seconds_bucket\{proxy_name="forward",' \
	'^coredns_forward_healthcheck_failures_total\{to=' '^coredns_forward_healthcheck_broken_total ' \
	'^coredns_build_info\{version="rootwalk-' '^coredns_panics_total 0$' \
	'^coredns_plugin_enabled\{.*name="cache"\} 1$'
expect "rootwalk's own: latency by source, sizes, answers by source and rcode, forwarder health" "$m" \
	'^rootwalk_query_duration_seconds_bucket\{source="upstream",le="0\.00025"\}' \
	'^rootwalk_response_size_bytes_count\{transport="tcp"\} [1-9]' \
	'^rootwalk_answers_total\{source="cache",rcode="SERVFAIL"\} 1$' \
	"^rootwalk_forward_server_up\\{zone=\"\\.\",to=\"$FAKE:$UPORT\"\\} 1$" \
	'^rootwalk_cache_lookups_total\{result="hit"\}'
# The JSON query log: real fields, one object per line.
got=$(grep '"msg":"query"' "$WORK/mc.log" | tail -n 14 | $PY -c '
import json, sys
for ln in sys.stdin:
    o = json.loads(ln)
    print(o["client"].split("#")[0], o["transport"], o["name"], o["type"], o["class"], o["rcode"],
          o["flags"], o["source"], "dur" if float(o["duration_s"]) > 0 else "nodur", o["size"] > 0,
          o.get("upstream", "-"))' 2>&1)
expect "JSON query log: time, level, client, transport, name, type, class, rcode, flags, source, duration, size, upstream" "$got" \
	"^127\.0\.0\.1 udp svc\.corp\.example\. A IN NOERROR qr aa rd ra local dur True -$" \
	"^127\.0\.0\.1 udp mc1\.up\.example\. A IN NOERROR qr rd ra upstream dur True $FAKE:$UPORT$" \
	"^127\.0\.0\.1 udp mc1\.up\.example\. A IN NOERROR qr rd ra cache dur True -$" \
	"^127\.0\.0\.1 udp servfail-mc\.up\.example\. A IN SERVFAIL qr rd ra cache dur True -$" \
	"^127\.0\.0\.1 tcp svc\.corp\.example\. A IN NOERROR qr aa rd ra local dur True -$"
same "... every line has ts and level" "$(grep '"msg":"query"' "$WORK/mc.log" | grep -c '^{"ts":"[0-9T:.-]*Z","level":"info",')" \
	"$(grep -c '"msg":"query"' "$WORK/mc.log")"
# Under load, answers that waited upstream leave in the same sendmmsg
# batches as local ones: each reply is still timed exactly once.
for i in $(seq 200); do echo "slow-mc$i.up.example A"; for _ in 1 2 3 4; do echo "svc.corp.example A"; done; done \
	>"$WORK/mix.txt"
timeout 20 dnsperf -s "$ADDR" -p "$PORT" -d "$WORK/mix.txt" -n 1 -c 8 -q 64 -t 3 >"$WORK/mix.out" 2>&1
sleep 0.6
got=$("${pc[@]}" "http://$h2/metrics" rootwalk_query_duration_seconds_count rootwalk_answers_total \
	coredns_dns_request_duration_seconds_count 'rootwalk_query_duration_seconds_count{source="upstream"}')
local timed answered
timed=$(awk '$1 == "rootwalk_query_duration_seconds_count" {print $3}' <<<"$got")
answered=$(awk '$1 == "rootwalk_answers_total" {print $3}' <<<"$got")
[ -n "$timed" ] && [ "$timed" = "$answered" ] &&
	expect "under a dnsperf mix of local and upstream answers, every reply timed once ($timed)" \
		"$got" "^coredns_dns_request_duration_seconds_count = $timed$" \
		'^rootwalk_query_duration_seconds_count\{source="upstream"\} = (2[0-9][0-9]|1[0-9][0-9])$' ||
	bad "replies timed ($timed) and replies counted ($answered) differ" "$got
$(tail -5 "$WORK/mix.out")"
stop_daemon || bad "it stops"
start_daemon "$WORK/mc2.log" --listen "$ADDR:$PORT" --threads 1 --root-hints "$WORK/hints" \
	--http "$h2" --metrics-format coredns ||
	{ bad "daemon starts (coredns)" "$(cat "$WORK/mc2.log")"; return; }
D localhost A >/dev/null
sleep 0.4
m=$(curl -s -m 3 "http://$h2/metrics")
refute "--metrics-format coredns: no rootwalk_ family" "$m" "^rootwalk_"
expect "... CoreDNS's and the process's" "$m" "^coredns_dns_requests_total" "^process_cpu_seconds_total"
expect "... valid" "$("${pc[@]}" "http://$h2/metrics")" "0 problems$"
stop_daemon || bad "it stops"
out=$("$RW" --metrics-format prometheus --check-config 2>&1)
expect "--metrics-format: a bad value names the flag and the choices" "$out" \
	"metrics-format: expected rootwalk, coredns or both, got 'prometheus'"
}

# --- the sample configuration and the README's reference (issue 14) ---------------------
# Both are made from the settings table (--sample-config,
# --config-reference); the committed copies must be what the binary makes,
# the sample must load as it is and with every setting uncommented (each
# set to its example), and the README's YAML example must load.
group_sample_config() {
local ex="$TOP/tools/packaging/rootwalk.yaml.example" d="$WORK/sample" out
if diff -u "$ex" <("$RW" --sample-config) >"$WORK/sample.diff"; then
	ok "rootwalk.yaml.example is what --sample-config makes from the settings table"
else
	bad "rootwalk.yaml.example is stale: regenerate it with rootwalk --sample-config" "$(head -20 "$WORK/sample.diff")"
fi
expect "--check-config accepts the sample as it is" "$("$RW" --config "$ex" --check-config 2>&1)" \
	"configuration OK"
mkdir -p "$d/zones"
printf '$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n' >"$d/example.zone"
printf '. 1 NS a.nowhere.\na.nowhere. 1 A 127.53.255.254\n' >"$d/root.hints"
sed 's/^#\([a-z][a-z0-9-]*\): /\1: /' "$ex" >"$d/all.yaml"
local n
n=$(grep -cE '^[a-z][a-z0-9-]*: ' "$d/all.yaml")
out=$("$RW" --config "$d/all.yaml" --check-config 2>&1)
expect "... and with all $n settings uncommented, each at its example" "$out" "configuration OK"
[ "$n" -ge 60 ] && ok "the sample documents every file setting ($n)" || bad "only $n settings in the sample"
printf 'threads: lots\n' >"$d/bad.yaml"
expect "an error names the file, the line and the setting" \
	"$("$RW" --config "$d/bad.yaml" --check-config 2>&1)" "bad\.yaml:1: threads: "
# The README: its YAML example loads; its reference table is the binary's.
awk '/^```yaml$/ {y = 1; next} /^```$/ {y = 0} y' "$TOP/README.md" >"$d/readme.yaml"
mkdir -p "$d/zones"
out=$("$RW" --config "$d/readme.yaml" --check-config 2>&1)
expect "the README's YAML example loads" "$out" "configuration OK"
awk '/<!-- settings:begin -->/ {r = 1; next} /<!-- settings:end -->/ {r = 0} r' "$TOP/README.md" >"$d/ref.md"
if diff -u "$d/ref.md" <("$RW" --config-reference) >"$WORK/ref.diff"; then
	ok "the README's configuration reference is what --config-reference makes"
else
	bad "README configuration reference is stale: regenerate it with rootwalk --config-reference" "$(head -20 "$WORK/ref.diff")"
fi
# --listen without a port: port 53, and it says so; a flag's error names the flag
stop_main || bad "main daemon stops"
if PORT=53 start_daemon "$WORK/p53.log" --listen "$ADDR" --threads 1 --root-hints "$WORK/hints"; then
	expect "--listen ADDR without a port: it says it took 53, and answers there" \
		"$(cat "$WORK/p53.log"; dig +time=2 +tries=1 -p 53 @"$ADDR" localhost A +short)" \
		"listen $ADDR: no port given, so port 53" "^127\.0\.0\.1$"
	stop_daemon || bad "it stops"
else
	bad "--listen $ADDR starts on port 53" "$(cat "$WORK/p53.log")"
fi
expect "a bad flag value: the error names the --flag" "$("$RW" --threads lots 2>&1)" \
	"^rootwalk: --threads: expected a number 1-256, got 'lots'$"
}

# --- dnstap (issue 14) ----------------------------------------------------------------
# To a file, read back with BIND's dnstap-read: client queries and replies
# (UDP and TCP, local, cached and forwarded) and the forwarder's query and
# reply; to a collector's socket (fstrm_capture) that starts after rootwalk
# and is found once it is there; counted in /metrics.
group_dnstap() {
command -v dnstap-read >/dev/null && command -v fstrm_capture >/dev/null ||
	{ skip_group "dnstap-read or fstrm_capture is not installed"; return; }
stop_main || bad "main daemon stops"
local h2="$ADDR:$((PORT + 5))" out
start_daemon "$WORK/dt.log" --listen "$ADDR:$PORT" --threads 2 --root-hints "$WORK/hints" \
	--zones-dir "$WORK/zones" --forward "$FAKE:$UPORT" --dnstap "file:$WORK/out.dnstap" \
	--identity dns-7.example --http "$h2" ||
	{ bad "daemon with --dnstap file: starts" "$(cat "$WORK/dt.log")"; return; }
D svc.corp.example A >/dev/null
D dt1.up.example A >/dev/null
D dt1.up.example A >/dev/null
D +tcp svc.corp.example TXT >/dev/null
sleep 0.4
expect "dnstap messages counted in /metrics" "$(curl -s -m 3 "http://$h2/metrics")" \
	'^rootwalk_dnstap_messages_total\{result="sent"\} (1[0-9]|[2-9][0-9])$' \
	'^rootwalk_dnstap_messages_total\{result="dropped"\} 0$'
stop_daemon || bad "it stops"
out=$(dnstap-read "$WORK/out.dnstap" 2>&1)
expect "dnstap-read: client queries and replies, over UDP and TCP" "$out" \
	"CQ 127\.0\.0\.1:[0-9]+ -> \? UDP [0-9]+b svc\.corp\.example/IN/A" \
	"CR 127\.0\.0\.1:[0-9]+ <- \? UDP [0-9]+b svc\.corp\.example/IN/A" \
	"CQ 127\.0\.0\.1:[0-9]+ -> \? TCP [0-9]+b svc\.corp\.example/IN/TXT" \
	"CR 127\.0\.0\.1:[0-9]+ <- \? TCP [0-9]+b svc\.corp\.example/IN/TXT"
expect "... and the forwarder's query and reply, once (the second answer was cached)" "$out" \
	"FQ \? -> $FAKE:$UPORT UDP [0-9]+b dt1\.up\.example/IN/A" \
	"FR \? <- $FAKE:$UPORT UDP [0-9]+b dt1\.up\.example/IN/A"
same "... 5 client queries, 5 replies, 1 forwarded" \
	"$(grep -c ' CQ ' <<<"$out") $(grep -c ' CR ' <<<"$out") $(grep -c ' FQ ' <<<"$out")" "5 5 1"
expect "... with the identity and version" "$(dnstap-read -y "$WORK/out.dnstap" | head -3)" \
	"^identity: dns-7\.example$" "^version: rootwalk [0-9.]+$"
# A collector that is not there yet: found once it is.
start_daemon "$WORK/dt2.log" --listen "$ADDR:$PORT" --threads 1 --root-hints "$WORK/hints" \
	--zones-dir "$WORK/zones" --dnstap "unix:$WORK/dnstap.sock" ||
	{ bad "daemon with --dnstap unix: starts" "$(cat "$WORK/dt2.log")"; return; }
D svc.corp.example A >/dev/null
timeout 20 fstrm_capture -t protobuf:dnstap.Dnstap -u "$WORK/dnstap.sock" -w "$WORK/cap.dnstap" \
	>"$WORK/cap.log" 2>&1 &
local cp=$!
PIDS+=("$cp")
sleep 2.5 # the writer tries again every second
D late.corp.example A >/dev/null
sleep 0.5
stop_daemon || bad "it stops"
kill -INT "$cp"; wait "$cp" 2>/dev/null
expect "--dnstap unix:: a collector started later gets what comes after it" \
	"$(dnstap-read "$WORK/cap.dnstap" 2>&1)" "CQ .* late\.corp\.example/IN/A" "CR .* late\.corp\.example/IN/A"
out=$("$RW" --dnstap tcp:1.2.3.4 --check-config 2>&1)
expect "--dnstap: a bad value names the setting and the forms" "$out" \
	"dnstap: expected unix:PATH or file:PATH, got 'tcp:1\.2\.3\.4'"
}

# --- reloads ----------------------------------------------------------------------
group_reloads() {
expect "before reload" "$(D svc.corp.example A +short)" "^10\.0\.0\.1$"
zone_v 2
sleep 1
expect "--watch-zones: a changed file is served within a second" "$(D svc.corp.example A +short)" "^10\.0\.0\.2$"
zone_v 3
kill -HUP "$DPID"; sleep 0.3
expect "SIGHUP reload" "$(D svc.corp.example A +short)" "^10\.0\.0\.3$"
printf '$TTL 60\n@ SOA ns hm 9 2 3 4 5\n@ NS ns\nsvc A 10.0.0.999\n' >"$WORK/zones/corp.example.zone"
kill -HUP "$DPID"; sleep 1
expect "bad zone file: the old data keeps serving" "$(D svc.corp.example A +short)" "^10\.0\.0\.3$"
expect "bad zone file: the error names file, line and problem" "$(cat "$WORK/daemon.log")" \
	"reload .* failed, still serving the previous configuration and zones: $WORK/zones/corp.example.zone:4: A record: bad IPv4 address"
sleep 0.3
f=$(metric 'rootwalk_zone_reloads_total{result="failed"}')
[ "${f:-0}" -ge 1 ] && ok "failed reloads counted ($f)" || bad "failed reload counter: '$f'"
[ "$(get /ready)" = 200 ] && ok "/ready stays ready after a bad reload" || bad "/ready after bad reload"
zone_v 4
# reload under load: a bounded dnsperf run while the zone is swapped 5 times
printf 'svc.corp.example A\nbookstore.default.svc.cluster.local A\n' >"$WORK/perf.q"
dnsperf -s "$ADDR" -p "$PORT" -d "$WORK/perf.q" -l 4 -c 4 -q 20 -Q 4000 >"$WORK/perf.out" 2>&1 &
perf=$!
for v in 5 6 7 8 9; do sleep 0.6; zone_v "$v"; kill -HUP "$DPID"; done
wait "$perf"
out=$(cat "$WORK/perf.out")
expect "reload under load: dnsperf ran" "$out" "Queries completed: +[1-9]"
expect "reload under load: zero queries lost" "$out" "Queries lost: +0 "
expect "reload under load: every response NOERROR" "$out" "NOERROR [0-9]+ \(100\.00%\)"
expect "after the swaps the last zone is served" "$(D svc.corp.example A +short)" "^10\.0\.0\.9$"
}

# --- reloading the configuration (issue 12) ----------------------------------------------
# The config file is read again on SIGHUP and control reload: forwarders,
# forward zones, ACLs, rate limits, TTL clamps, serve-stale, log level and
# format apply at once; listen and threads are reported as needing a
# restart; a bad file keeps everything as it was; the cache stays; and a
# reload that flips the forwarders under dnsperf load loses nothing.
group_reload_config() {
stop_main || bad "main daemon stops"
local FAKE2=127.0.0.83 cfg=$WORK/rw.yaml
$PY "$HERE/fakeup.py" "$FAKE2" "$UPORT" "$WORK/upstream2.log" 120 &
PIDS+=("$!")
conf() { # FORWARDER ALLOW EXTRA-LINES...: the config file
	local fwd=$1 allow=$2; shift 2
	{
		printf 'listen: ["%s:%s"]\nthreads: 2\nroot-hints: %s\nzones-dir: %s\n' \
			"$ADDR" "$PORT" "$WORK/hints" "$WORK/zones"
		printf 'forward: ["%s:%s"]\nallow: [%s]\ncontrol: %s\n' "$fwd" "$UPORT" "$allow" "$WORK/ctl.sock"
		printf '%s\n' "$@"
	} >"$cfg.tmp"
	mv "$cfg.tmp" "$cfg"
}
conf "$FAKE" "127.0.0.0/8"
if ! start_daemon "$WORK/rc.log" -c "$cfg" --http "$HTTP"; then
	bad "daemon starts from a config file" "$(cat "$WORK/rc.log")"; return
fi
hup() { kill -HUP "$DPID"; sleep 0.5; }
count() { grep -c "^$1 " "$2" 2>/dev/null; }
expect "before: forwarded to the first upstream" "$(D a1.up.example A +short)" "^192\.0\.2\.98$"
same "before: the first upstream was asked" "$(count a1.up.example "$WORK/upstream.log")" 1
expect "before: 127.0.0.5 is allowed" "$(D -b 127.0.0.5 a1.up.example A)" "status: NOERROR"
expect "before: TTL as the upstream gave it" "$(D a2.up.example A +noall +answer)" "[[:space:]]300[[:space:]]"
# one reload: another forwarder, a narrower ACL, a TTL clamp, JSON logs,
# a forward zone, a rate limit, serve-stale off
conf "$FAKE2" "127.0.0.1/32" "max-ttl: 60" "log-format: json" "rate-limit: 20" "serve-stale-s: 0" \
	"forward-zone: [\"fz.example=$FAKE:$UPORT\"]"
hup
expect "SIGHUP: what changed is logged, in the new log format" "$(cat "$WORK/rc.log")" \
	'"msg":"configuration reloaded \(SIGHUP\): config: 7 settings changed \(allow, rate-limit, log-format, max-ttl, forward, forward-zone, serve-stale-s\)'
refute "SIGHUP: nothing needs a restart" "$(cat "$WORK/rc.log")" "needs a restart"
expect "after: forwarded to the new upstream" "$(D b1.up.example A +short)" "^192\.0\.2\.98$"
same "after: the new upstream was asked" "$(count b1.up.example "$WORK/upstream2.log")" 1
same "after: the old one was not" "$(count b1.up.example "$WORK/upstream.log")" 0
expect "after: a forward zone added by the reload" "$(D x.fz.example A +short)" "^192\.0\.2\.98$"
same "after: ... went to its own upstream" "$(count x.fz.example "$WORK/upstream.log")" 1
expect "after: the cache was kept" "$(D a1.up.example A +short)" "^192\.0\.2\.98$"
same "after: a cached name was not asked again" "$(count a1.up.example "$WORK/upstream2.log")" 0
expect "after: 127.0.0.5 is refused" "$(D -b 127.0.0.5 a1.up.example A)" "status: REFUSED"
expect "after: max-ttl 60 applies" "$(D c1.up.example A +noall +answer)" "[[:space:]]60[[:space:]]"
out=$($PY - "$ADDR" "$PORT" <<'PYX'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(0.5)
q = lambda i: struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + b"\x03svc\x04corp\x07example\x00\x00\x01\x00\x01"
for i in range(200):
    s.sendto(q(i), (sys.argv[1], int(sys.argv[2])))
n = 0
try:
    while True:
        r = s.recv(2000)
        if not r[2] & 0x02: n += 1
except socket.timeout:
    pass
print(n)
PYX
)
[ "${out:-0}" -le 60 ] && ok "after: rate-limit 20 applies ($out of 200 answered in full)" ||
	bad "rate limit after reload: $out of 200 answered in full"
# settings a reload cannot apply are named, the rest still applies
sleep 1.2
conf "$FAKE2" "127.0.0.1/32" "max-ttl: 60" "log-format: json" "serve-stale-s: 0" \
	"forward-zone: [\"fz.example=$FAKE:$UPORT\"]" "log-level: debug"
sed -i "s/^threads: 2/threads: 3/; s/^listen: .*/listen: [\"$ADDR:$((PORT + 9))\"]/" "$cfg"
out=$(ctl reload)
expect "control reload: names what takes a restart" "$out" \
	"^ok: reloaded: config: 2 settings changed \(rate-limit, log-level\); needs a restart: listen, threads \(running as before\)"
expect "... and logs it as a warning" "$(cat "$WORK/rc.log")" '"level":"warn","msg":"configuration reloaded \(control\), but some settings take a restart: listen, threads'
expect "... still answering where it listened" "$(D d1.up.example A +short)" "^192\.0\.2\.98$"
sleep 0.3
same "restart pending in /metrics" "$(metric rootwalk_config_restart_pending)" 1
same "configurations applied in /metrics" "$(metric rootwalk_config_generation)" 2
# a bad file: an error with file:line, everything stays, the failure counted
printf 'rate-limit: lots\n' >>"$cfg"
hup
expect "bad config: file, line and problem logged" "$(cat "$WORK/rc.log")" \
	"reload \(SIGHUP\) failed, still serving the previous configuration and zones: $cfg:[0-9]+: rate-limit"
expect "bad config: still forwarding to the second upstream" "$(D e1.up.example A +short)" "^192\.0\.2\.98$"
same "bad config: ... which was asked" "$(count e1.up.example "$WORK/upstream2.log")" 1
expect "bad config: still refusing 127.0.0.5" "$(D -b 127.0.0.5 e1.up.example A)" "status: REFUSED"
sleep 0.3
same "bad config: counted as failed" "$(metric 'rootwalk_config_reloads_total{result="failed"}')" 1
same "bad config: the good ones counted" "$(metric 'rootwalk_config_reloads_total{result="ok"}')" 2
expect "bad config: control reload says so" "$(ctl reload)" "^error: $cfg:[0-9]+: rate-limit"
# a reload under load that flips the forwarders: nothing lost
conf "$FAKE" "127.0.0.0/8"
hup
for i in $(seq 4000); do echo "n$i.up.example A"; done >"$WORK/names.q"
dnsperf -s "$ADDR" -p "$PORT" -d "$WORK/names.q" -n 1 -l 6 -c 4 -q 50 -Q 1000 >"$WORK/rperf.out" 2>&1 &
local perf=$!
for k in 1 2 3 4 5 6; do
	sleep 0.6
	if [ $((k % 2)) = 1 ]; then conf "$FAKE2" "127.0.0.0/8"; else conf "$FAKE" "127.0.0.0/8"; fi
	kill -HUP "$DPID"
done
wait "$perf"
out=$(cat "$WORK/rperf.out")
expect "forwarders flipped 6 times under load: dnsperf ran" "$out" "Queries completed: +[1-9]"
expect "... zero queries lost" "$out" "Queries lost: +0 "
expect "... every response NOERROR" "$out" "NOERROR [0-9]+ \(100\.00%\)"
expect "log-level debug applied (the next reload's zone loads are logged at debug)" \
	"$(cat "$WORK/rc.log")" '"level":"debug","msg":"loaded zone '
a=$(grep -c "^n[0-9]*\.up\.example " "$WORK/upstream.log"); b=$(grep -c "^n[0-9]*\.up\.example " "$WORK/upstream2.log")
[ "$a" -gt 0 ] && [ "$b" -gt 0 ] && ok "... both upstreams took queries ($a and $b)" || bad "upstream split: $a / $b"
stop_daemon || bad "reload daemon stops cleanly"
}

# --- Kubernetes' own objects (issue 13) -----------------------------------------------
# A recorded `kubectl get services,endpointslices,pods -A -o json` of a small but
# realistic cluster (tests/system/k8s/cluster.json: dual-stack and IPv6-only,
# headless with and without hostnames, not-ready endpoints, unnamed ports,
# ExternalName, two broken services) through tools/k8s-zones (a fake
# kubectl) and tools/svc2zone, then served: checked record by record
# against the Kubernetes DNS specification v1.1.0.
group_k8s_objects() {
stop_main || bad "main daemon stops"
local k=$WORK/k8s out
mkdir -p "$k" "$WORK/bin"
cat >"$WORK/bin/kubectl" <<SH
#!/bin/sh
[ -e "$WORK/kubectl.down" ] && { echo "connection refused" >&2; exit 1; }
case "\$*" in
"get services,endpointslices,pods --all-namespaces -o json") cat "$HERE/k8s/cluster.json" ;;
"create configmap rootwalk-zones "*" --dry-run=client -o yaml") echo "kind: ConfigMap # \$*" ;;
"apply -f "*) cat "\$3" >>"$WORK/applied" ;;
*) echo "unexpected: \$*" >&2; exit 1 ;;
esac
SH
chmod +x "$WORK/bin/kubectl"
out=$("$TOP/tools/k8s-zones" "$k" --iterations 2 --interval 0.2 --kubectl "$WORK/bin/kubectl" \
	--reverse-prefix 10.96.0.0/12 --reverse-prefix 10.244.0.0/16 --reverse-prefix fd00:10::/32 2>&1)
expect "controller: two polls, the second writes nothing" "$out" \
	"svc2zone: 7 services, 36 records, 3 reverse zones; written; 3 problems" \
	"svc2zone: 7 services, 36 records, 3 reverse zones; unchanged, nothing written"
expect "... broken services skipped and named" "$out" \
	"skipped Service default/Bad_Name metadata.name: 'Bad_Name' is not a DNS label" \
	"skipped Service default/broken spec.clusterIPs: '10.96.999.1' is not an IP address" \
	"no --reverse-prefix holds 192.168.1.10"
out=$("$TOP/tools/k8s-zones" "$WORK/k8s2" --iterations 2 --interval 0.2 --kubectl "$WORK/bin/kubectl" \
	--configmap rootwalk-zones 2>&1)
expect "controller --configmap: the zone files published as a ConfigMap" "$out" \
	"ConfigMap rootwalk-zones updated \(11 zone files\)"
same "... once: the second poll changed nothing" "$(grep -c "kind: ConfigMap" "$WORK/applied")" 1
expect "... from every zone file" "$(cat "$WORK/applied")" "--from-file=$WORK/k8s2/cluster.local.zone"
touch "$WORK/kubectl.down"
out=$("$TOP/tools/k8s-zones" "$k" --iterations 1 --kubectl "$WORK/bin/kubectl" 2>&1)
expect "... the API server away: logged, the zones kept" "$out" "kubectl failed \(the zones stay as they are\): connection refused"
same "... the reverse zones written" "$(cd "$k" && printf '%s ' *)" \
	"0.1.0.0.0.0.d.f.ip6.arpa.zone 10.in-addr.arpa.zone 244.10.in-addr.arpa.zone cluster.local.zone "
start_daemon "$WORK/k8s.log" --listen "$ADDR:$PORT" --threads 1 --root-hints "$WORK/hints" \
	--zones-dir "$k" --forward "$FAKE:$UPORT" ||
	{ bad "daemon serves the generated zones" "$(cat "$WORK/k8s.log")"; return; }
a() { D "$@" +short | sort | tr '\n' ' '; }
same "dns-version TXT" "$(a dns-version.cluster.local TXT)" '"1.1.0" '
same "ClusterIP: A" "$(a kubernetes.default.svc.cluster.local A)" "10.96.0.1 "
same "ClusterIP: SRV per named port" "$(a _https._tcp.kubernetes.default.svc.cluster.local SRV)" \
	"0 100 443 kubernetes.default.svc.cluster.local. "
same "... UDP and TCP ports" "$(a _dns._udp.kube-dns.kube-system.svc.cluster.local SRV)$(a _dns-tcp._tcp.kube-dns.kube-system.svc.cluster.local SRV)" \
	"0 100 53 kube-dns.kube-system.svc.cluster.local. 0 100 53 kube-dns.kube-system.svc.cluster.local. "
same "dual-stack ClusterIP: A and AAAA" "$(a bookstore.default.svc.cluster.local A)$(a bookstore.default.svc.cluster.local AAAA)" \
	"10.96.12.34 fd00:10:96::1234 "
same "ClusterIP PTR, IPv4 and IPv6" "$(a -x 10.96.12.34)$(a -x fd00:10:96::1234)" \
	"bookstore.default.svc.cluster.local. bookstore.default.svc.cluster.local. "
expect "an unnamed port has no SRV" "$(D _8080._tcp.bookstore.default.svc.cluster.local SRV)" "status: NXDOMAIN"
same "headless: every ready endpoint" "$(a db.shop.svc.cluster.local A)" "10.244.2.5 10.244.2.6 10.244.2.7 "
same "... by hostname" "$(a db-0.db.shop.svc.cluster.local A)" "10.244.2.5 "
same "... without one: the dashed address" "$(a 10-244-2-7.db.shop.svc.cluster.local A)" "10.244.2.7 "
expect "... not ready: not published" "$(D db-3.db.shop.svc.cluster.local A)" "status: NXDOMAIN"
same "... SRV per endpoint" "$(a _pg._tcp.db.shop.svc.cluster.local SRV)" \
	"0 33 5432 10-244-2-7.db.shop.svc.cluster.local. 0 33 5432 db-0.db.shop.svc.cluster.local. 0 33 5432 db-1.db.shop.svc.cluster.local. "
same "... PTR to the endpoint's name" "$(a -x 10.244.2.5)$(a -x 10.244.2.7)" \
	"db-0.db.shop.svc.cluster.local. 10-244-2-7.db.shop.svc.cluster.local. "
same "IPv6-only headless" "$(a cache.shop.svc.cluster.local AAAA)$(a fd00-10-244-2--9.cache.shop.svc.cluster.local AAAA)$(a -x fd00:10:244:2::9)" \
	"fd00:10:244:2::9 fd00:10:244:2::9 fd00-10-244-2--9.cache.shop.svc.cluster.local. "
same "pod names, IPv4 and IPv6" "$(a 10-244-1-11.default.pod.cluster.local A)$(a fd00-10-244-1--11.default.pod.cluster.local AAAA)" \
	"10.244.1.11 fd00:10:244:1::11 "
expect "... a not-ready pod has none" "$(D 10-244-1-12.default.pod.cluster.local A)" "status: NXDOMAIN"
same "a running pod behind no service: its name (the namespace autopath reads)" \
	"$(a 10-244-3-7.default.pod.cluster.local A)$(a fd00-10-244-3--7.default.pod.cluster.local AAAA)" \
	"10.244.3.7 fd00:10:244:3::7 "
expect "... a host-network pod: none (a node's address is no namespace's)" \
	"$(D 192-168-1-10.kube-system.pod.cluster.local A)" "status: NXDOMAIN"
same "ExternalName: a CNAME, chased" "$(a search.default.svc.cluster.local A)" "192.0.2.98 search.example.com. "
expect "broken services are absent" "$(D broken.default.svc.cluster.local A)" "status: NXDOMAIN"
stop_daemon || bad "it stops"
}

# --- systemd's readiness protocol (issue 14) ---------------------------------------------
# Type=notify: READY=1 once the sockets are bound, RELOADING=1 (with
# MONOTONIC_USEC) and READY=1 around a reload, STOPPING=1 at shutdown --
# over $NOTIFY_SOCKET, a path or an abstract name, as systemd sets it.
group_systemd_notify() {
stop_main || bad "main daemon stops"
local sock out
for sock in "$WORK/notify.sock" "@rw-notify-$$"; do
	$PY - "$sock" >"$WORK/notify.out" 2>&1 <<'PYX' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a = sys.argv[1]
s.bind("\0" + a[1:] if a.startswith("@") else a)
s.settimeout(15)
end = time.time() + 15
try:
    while time.time() < end:
        m = s.recv(4096).decode().replace("\n", " ")
        print(m, flush=True)
        if m.startswith("STOPPING=1"):
            break
except socket.timeout:
    pass
PYX
	local lis=$!
	sleep 0.3
	NOTIFY_SOCKET=$sock start_daemon "$WORK/nt.log" --listen "$ADDR:$PORT" --threads 1 \
		--root-hints "$WORK/hints" --zones-dir "$WORK/zones" ||
		{ bad "daemon starts" "$(cat "$WORK/nt.log")"; kill "$lis"; return; }
	sleep 0.2
	kill -HUP "$DPID"; sleep 0.5
	stop_daemon || bad "it stops"
	wait "$lis"
	out=$(cat "$WORK/notify.out")
	expect "NOTIFY_SOCKET=$sock: READY=1, RELOADING=1 and READY=1 around a reload, STOPPING=1" "$out" \
		"^READY=1 STATUS=serving$" "^RELOADING=1 MONOTONIC_USEC=[0-9]+$" "^STOPPING=1$"
	same "... in that order" "$(cut -d= -f1 "$WORK/notify.out" | tr '\n' ' ')" "READY RELOADING READY STOPPING "
done
}

# --- which instance answered (issue 14) -------------------------------------------------
# NSID (RFC 5001) to clients that ask, CHAOS TXT id.server./hostname.bind./
# version.bind. as BIND, Unbound and Knot answer them; each can be hidden.
group_identity() {
expect "defaults: id.server. is the host name" "$(D id.server CH TXT +short)" "^\"$(hostname)\"$"
expect "... version.bind. the version" "$(D version.bind CH TXT +short)" '^"rootwalk [0-9]+\.[0-9]+\.[0-9]+"$'
refute "... no NSID unless set" "$(D +nsid localhost A)" "NSID"
stop_main || bad "main daemon stops"
start_daemon "$WORK/id.log" --listen "$ADDR:$PORT" --threads 1 --root-hints "$WORK/hints" \
	--nsid hostname --identity dns-7.example --hide-version ||
	{ bad "daemon starts" "$(cat "$WORK/id.log")"; return; }
expect "--nsid hostname: dig +nsid shows the host name" "$(D +nsid localhost A)" "NSID: .*\(\"$(hostname)\"\)"
refute "... only to those who ask" "$(D localhost A)" "NSID"
expect "--identity: id.server. and hostname.bind." \
	"$(D id.server CH TXT +short; D hostname.bind CH TXT +short)" '^"dns-7.example"$'
expect "... authoritative" "$(D id.server CH TXT)" "flags: qr aa"
expect "--hide-version: version.bind. REFUSED" "$(D version.bind CH TXT)" "status: REFUSED"
expect "other CHAOS names: REFUSED" "$(D authors.bind CH TXT)" "status: REFUSED"
stop_daemon || bad "it stops"
}

# --- a ConfigMap volume's update (issue 13) ---------------------------------------------
# kubelet writes a new hidden folder, points a ..data_tmp symlink at it and
# renames that over ..data; the zone files are symlinks through ..data.
# The new data must be served within 2 s; a bad file keeps the old data,
# logged once; a change no event reports is found by the periodic check.
group_configmap_swap() {
stop_main || bad "main daemon stops"
local cm=$WORK/cm t0 t n1 n2
cm_zone() { # FOLDER VERSION [BAD]
	mkdir -p "$cm/$1"
	printf '$TTL 5\n@ SOA ns hm %s 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nsvc A %s\n' "$2" \
		"${3:-10.9.0.$2}" >"$cm/$1/cm.example.zone"
}
cm_swap() { # FOLDER: what kubelet does
	ln -s "$1" "$cm/..data_tmp"
	mv -T "$cm/..data_tmp" "$cm/..data"
}
mkdir -p "$cm"
cm_zone ..2026_12_01_v1 1
ln -s ..2026_12_01_v1 "$cm/..data"
ln -s ..data/cm.example.zone "$cm/cm.example.zone"
start_daemon "$WORK/cm.log" --listen "$ADDR:$PORT" --threads 1 --root-hints "$WORK/hints" \
	--zones-dir "$cm" --watch-zones --watch-interval-s 2 --http "$HTTP" ||
	{ bad "daemon starts on a ConfigMap-shaped folder" "$(cat "$WORK/cm.log")"; return; }
expect "before the update" "$(D svc.cm.example A +short)" "^10\.9\.0\.1$"
cm_zone ..2026_12_01_v2 2
t0=$(date +%s%3N)
cm_swap ..2026_12_01_v2
rm -rf "$cm/..2026_12_01_v1"
t=""
for _ in $(seq 40); do
	[ "$(D svc.cm.example A +short)" = 10.9.0.2 ] && { t=$(( $(date +%s%3N) - t0 )); break; }
	sleep 0.05
done
[ -n "$t" ] && within "the symlink swap is served within 2 s" "$t" 2000 || bad "the swap was not served in 2 s"
expect "... and logged" "$(cat "$WORK/cm.log")" "zones reloaded \(zone files changed\)"
# the same content written again: checked, not reloaded
n1=$(grep -c "zones reloaded" "$WORK/cm.log")
cm_zone ..2026_12_01_v3 2
cm_swap ..2026_12_01_v3
sleep 1
same "the same content again: no reload" "$(grep -c "zones reloaded" "$WORK/cm.log")" "$n1"
# a bad file: the old data stays, one error line naming file and line
cm_zone ..2026_12_01_v4 4 10.9.0.999
cm_swap ..2026_12_01_v4
sleep 3.5 # the event, and a periodic check or more
expect "a bad update: the old data keeps serving" "$(D svc.cm.example A +short)" "^10\.9\.0\.2$"
expect "... the error names file and line" "$(cat "$WORK/cm.log")" \
	"reload \(zone files changed\) failed, still serving the previous zones: $cm/cm.example.zone:5: A record: bad IPv4 address"
same "... logged once, not at every check" "$(grep -c "failed, still serving" "$WORK/cm.log")" 1
sleep 0.3
expect "... counted" "$(metric 'rootwalk_zone_reloads_total{result="failed"}')" "^[1-9]"
# a change no event reports (inside the hidden folder): the periodic check
n2=$(grep -c "zones reloaded (periodic check)" "$WORK/cm.log")
cm_zone ..2026_12_01_v4 5
t=""
for _ in $(seq 35); do
	[ "$(D svc.cm.example A +short)" = 10.9.0.5 ] && { t=ok; break; }
	sleep 0.1
done
[ -n "$t" ] && ok "a change no event reports: found by --watch-interval-s 2" || bad "the periodic check missed a change"
same "... logged as such" "$(grep -c "zones reloaded (periodic check)" "$WORK/cm.log")" "$((n2 + 1))"
stop_daemon || bad "it stops"
}

# --- workers sized from the CPUs it may use (issue 13) ----------------------------------
# The affinity mask (taskset) and a cgroup CPU quota (v2 cpu.max, else
# v1's cfs quota; 0.5 CPU here) size the worker count; --threads wins.
group_worker_count() {
stop_main || bad "main daemon stops"
local a=(--listen "$ADDR:$PORT" --root-hints "$WORK/hints") cg="" out
workers_line() { # LOG: the "serving" line once it is there
	for _ in $(seq 50); do grep -q "serving on" "$1" && break; sleep 0.1; done
	grep "serving on" "$1"
}
taskset -c 0 "$RW" "${a[@]}" >"$WORK/wc1.log" 2>&1 &
DPID=$!; PIDS+=("$DPID")
expect "taskset -c 0: one worker, said why" "$(workers_line "$WORK/wc1.log")" \
	"with 1 worker \(1 CPU allowed, "
stop_daemon || bad "it stops"
if [ -w /sys/fs/cgroup/cgroup.subtree_control ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
	cg=/sys/fs/cgroup/rw-test-$$
	mkdir "$cg" && echo "50000 100000" >"$cg/cpu.max"
else
	for d in /sys/fs/cgroup/cpu /sys/fs/cgroup/cpu,cpuacct; do
		[ -w "$d/cgroup.procs" ] || continue
		cg=$d/rw-test-$$
		mkdir "$cg" && echo 50000 >"$cg/cpu.cfs_quota_us"
		break
	done
fi
if [ -z "$cg" ] || [ ! -d "$cg" ]; then
	skip_group "no writable cgroup CPU controller to test a quota with"
else
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$cg" "$RW" "${a[@]}" >"$WORK/wc2.log" 2>&1 &
	DPID=$!; PIDS+=("$DPID")
	expect "a 0.5 CPU cgroup quota: one worker, said why" "$(workers_line "$WORK/wc2.log")" \
		"with 1 worker \([0-9]+ CPUs? allowed, cgroup quota 0\.50 CPU\)"
	stop_daemon || bad "it stops"
	rmdir "$cg" || bad "cgroup removed"
fi
"$RW" "${a[@]}" --threads 3 >"$WORK/wc3.log" 2>&1 &
DPID=$!; PIDS+=("$DPID")
out=$(workers_line "$WORK/wc3.log")
expect "--threads 3 wins" "$out" "with 3 workers$"
stop_daemon || bad "it stops"
}

# --- control socket ------------------------------------------------------------------
group_control_socket() {
perm=$(stat -c %a "$WORK/ctl.sock")
[ "$perm" = 600 ] && ok "control socket mode 0600" || bad "control socket mode $perm"
expect "control stats" "$(ctl stats)" "^ok" "rootwalk_queries_total"
expect "control reload" "$(ctl reload)" "^ok: reloaded: config: 0 settings changed; [0-9]+ zones"
D www.up.example A >/dev/null # a forwarded answer, cached
expect "control dump-cache" "$(ctl dump-cache)" "^ok: [1-9][0-9]* entries" "www\.up\.example\. [0-9]+ IN A 192\.0\.2\.98"
expect "control flush NAME" "$(ctl flush www.up.example)" "^ok: flushed 1 entries for www\.up\.example"
refute "flushed name gone from the cache" "$(ctl dump-cache)" "www\.up\.example\."
D www2.up.example A >/dev/null
expect "control flush (all)" "$(ctl flush)" "^ok: flushed [1-9][0-9]* entries"
expect "control dump after flush: empty" "$(ctl dump-cache)" "^ok: 0 entries"
out=$(ctl nonsense); rc=$?
[ "$rc" -eq 2 ] && ok "control: unknown command is a usage error (exit 2)" || bad "control exit $rc" "$out"
out=$($PY - "$WORK/ctl.sock" <<'PYX'
import socket, sys
def ask(data):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(data)
    return s.recv(200).decode().strip()
print(ask(b"RWC1\x7f\x00"))
print(ask(b"RWC1\x03\x05a..bc"))
print(ask(b"RWC1\x01\x02xy"))
print(ask(b"HELLO"))
print(ask(b"RWC1\x07\x00"))
print(ask(b"RWC1\x07\x03a/b"))
PYX
)
expect "control: bad requests get 'error:' answers" "$out" "error: unknown command" \
	"error: not a domain name" "error: this command takes no argument" "error: not a rootwalk control request" \
	"error: this command needs an argument" "error: not an absolute path"
# the commands of issue 14, end to end through the client
expect "control status" "$(ctl status)" "^ok" "version: rootwalk [0-9.]+" "uptime: [0-9]+s" \
	"workers: 2" "listen: $ADDR:$PORT" "cache: [0-9]+ entries" "local zones: [1-9]" \
	"forwarders: 1" "mode: forwarding" "log level: info"
expect "control log-level debug" "$(ctl log-level debug)" "^ok: log level debug"
expect "... status says so" "$(ctl status)" "log level: debug"
ctl log-level info >/dev/null
expect "control log-level: a bad level is a usage error from the daemon" "$(ctl log-level loud)" \
	"error: not a log level"
expect "control list-forwards" "$(ctl list-forwards)" "^ok: 0 forward zones, and everything else forwarded" \
	"^\. $FAKE:$UPORT$"
expect "control list-local-zones" "$(ctl list-local-zones)" "^ok: [1-9][0-9]* local zones" \
	"^corp\.example\. [0-9]+ records$" "^localhost\. [0-9]+ records \(built in\)$"
D www.up.example A >/dev/null; D www.up.example AAAA >/dev/null; D gone-nx.up.example A >/dev/null
expect "control lookup NAME: the cached records and where a miss goes" "$(ctl lookup www.up.example)" \
	"^ok: 1 cached records" "www\.up\.example\. [0-9]+ IN A 192\.0\.2\.98" \
	"a miss goes to the forwarders: $FAKE:$UPORT"
expect "control lookup NAME TYPE" "$(ctl lookup www.up.example AAAA)" "^ok: [01] cached records"
expect "control lookup of a local name" "$(ctl lookup svc.corp.example)" "answered by a local zone"
expect "control flush-type NAME TYPE" "$(ctl flush-type www.up.example A)" "^ok: flushed 1 entries"
expect "... that entry gone" "$(ctl lookup www.up.example A)" "^ok: 0 cached records"
D a.zz.up.example A >/dev/null; D b.zz.up.example A >/dev/null
expect "control flush-zone NAME" "$(ctl flush-zone zz.up.example)" "^ok: flushed 2 entries"
expect "control flush-negative" "$(ctl flush-negative)" "^ok: flushed [0-9]+ negative entries"
out=$(ctl flush-type www.up.example); rc=$?
expect "control flush-type without a type: the daemon says so" "$out" "^error: not NAME TYPE"
same "... exit 1" "$rc" 1
# forward-add / forward-remove at run time: a second upstream takes a zone,
# a reload keeps it, removing it sends the zone back to --forward.
local fa=127.0.0.83
$PY "$HERE/fakeup.py" "$fa" "$UPORT" "$WORK/fa.log" 60 &
PIDS+=("$!")
sleep 0.3
expect "control forward-add ZONE ADDR OPTION" "$(ctl forward-add fa.example "$fa:$UPORT" max-ttl=30)" \
	"^ok: forwarding fa\.example=$fa:$UPORT max-ttl=30 \(until a restart\)"
expect "... answered through it, with the zone's TTL cap" "$(D one.fa.example A)" \
	"^one\.fa\.example\.[[:space:]]+30[[:space:]]+IN[[:space:]]+A[[:space:]]+192\.0\.2\.98$"
expect "... the new upstream was asked" "$(cat "$WORK/fa.log")" "^one\.fa\.example 1"
expect "... listed" "$(ctl list-forwards)" "^fa\.example\.? $fa:$UPORT"
expect "... kept across a reload" "$(ctl reload >/dev/null; ctl list-forwards)" "^fa\.example\.? $fa:$UPORT"
out=$(ctl forward-add bad.example 192.0.2.300); rc=$?
expect "control forward-add with a bad address: the daemon names it, nothing changes" "$out" \
	"^error: .*192\.0\.2\.300.*\(nothing changed\)"
same "... exit 1" "$rc" 1
refute "... not listed" "$(ctl list-forwards)" "bad\.example"
expect "control forward-remove ZONE" "$(ctl forward-remove fa.example)" "^ok: no longer forwarding fa\.example"
: >"$WORK/upstream.log"
D two.fa.example A >/dev/null
expect "... the zone goes to --forward again" "$(cat "$WORK/upstream.log")" "^two\.fa\.example 1"
refute "... not to the removed upstream" "$(cat "$WORK/fa.log")" "two\.fa"
expect "control forward-remove of a zone not forwarded" "$(ctl forward-remove nope.example)" \
	"^error: no forward zone nope\.example"
expect "control dump-infra (and its old name infra)" "$(ctl dump-infra; ctl infra)" "^ok: [0-9]+ server records"
expect "control flush-infra ADDR" "$(ctl flush-infra 192.0.2.1)" "^ok: forgot [0-9]+ server records of 192\.0\.2\.1"
expect "control flush-infra" "$(ctl flush-infra)" "^ok: forgot [0-9]+ server records$"
out=$(ctl flush-infra ns1.example); rc=$?
expect "control flush-infra with a name: the daemon says so" "$out" "^error: not an IP address"
}

# --- logging ------------------------------------------------------------------------
group_logging() {
D svc.corp.example A >/dev/null
sleep 0.1
expect "query log: one line per query" "$(cat "$WORK/daemon.log")" \
	"query 127\.0\.0\.1#[0-9]+ udp svc\.corp\.example\. A NOERROR"
for i in $(seq 300); do printf '\x12'; done >"$WORK/junk"
$PY - "$ADDR" "$PORT" <<'PYX'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(300):
    s.sendto(b"\x12\x34\x81\x00" + b"\x00" * 8, (sys.argv[1], int(sys.argv[2])))  # QR=1: dropped
PYX
sleep 0.3
n=$(grep -c "dropped a packet" "$WORK/daemon.log")
[ "$n" -ge 1 ] && [ "$n" -le 12 ] && ok "300 dropped packets: $n log lines (rate-limited)" ||
	bad "dropped-packet log lines: $n"

if stop_daemon; then ok "SIGTERM: clean exit 0"; else bad "SIGTERM" "$(tail -5 "$WORK/daemon.log")"; fi
}

# --- access control --------------------------------------------------------------------
group_access_control() {
stop_main || bad "main daemon stops"
zone_v 9 # svc.corp.example at 10.0.0.9
if start_daemon "$WORK/acl.log" --listen "$ADDR:$PORT" --zones-dir "$WORK/zones" --root-hints "$WORK/hints" \
	--threads 1 --forward "$FAKE:$UPORT" --allow 127.0.0.1/32 --log-format json; then
	expect "allowed client: forwarded" "$(D -b 127.0.0.1 www.up.example A)" "status: NOERROR"
	expect "client outside --allow: REFUSED (forwarded name)" "$(D -b 127.0.0.2 www.up.example A)" "status: REFUSED"
	expect "client outside --allow: REFUSED (local zone too, by default)" \
		"$(D -b 127.0.0.2 svc.corp.example A)" "status: REFUSED"
	out=$(head -1 "$WORK/acl.log")
	$PY -c 'import json,sys; json.loads(sys.argv[1])' "$out" 2>/dev/null &&
		ok "--log-format json: lines are JSON" || bad "--log-format json" "$out"
	stop_daemon || bad "acl daemon stops"
else
	bad "acl daemon starts" "$(cat "$WORK/acl.log")"
fi
if start_daemon "$WORK/acl2.log" --listen "$ADDR:$PORT" --zones-dir "$WORK/zones" --root-hints "$WORK/hints" \
	--threads 1 --forward "$FAKE:$UPORT" --allow 127.0.0.1/32 --allow-local-zones-from-any; then
	expect "--allow-local-zones-from-any: local zone answered to anyone" \
		"$(D -b 127.0.0.2 svc.corp.example A)" "status: NOERROR" "10\.0\.0\.9"
	expect "--allow-local-zones-from-any: forwarding still refused" \
		"$(D -b 127.0.0.2 www.up.example A)" "status: REFUSED"
	stop_daemon || bad "acl2 daemon stops"
else
	bad "acl2 daemon starts" "$(cat "$WORK/acl2.log")"
fi
}

# --- response rate limiting ----------------------------------------------------------------
group_response_rate_limiting() {
stop_main || bad "main daemon stops"
if start_daemon "$WORK/rl.log" --listen "$ADDR:$PORT" --zones-dir "$WORK/zones" --root-hints "$WORK/hints" \
	--threads 1 --rate-limit 20 --http "$HTTP"; then
	out=$($PY - "$ADDR" "$PORT" <<'PYX'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
q = lambda i: struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + b"\x03svc\x04corp\x07example\x00\x00\x01\x00\x01"
for i in range(200):
    s.sendto(q(i), (sys.argv[1], int(sys.argv[2])))
full = tc = 0
try:
    while True:
        r = s.recv(2000)
        if r[2] & 0x02: tc += 1
        else: full += 1
except socket.timeout:
    pass
print("full=%d tc=%d" % (full, tc))
PYX
)
	full=$(sed -n 's/full=\([0-9]*\).*/\1/p' <<<"$out"); tc=$(sed -n 's/.*tc=\([0-9]*\)/\1/p' <<<"$out")
	[ "${full:-0}" -ge 15 ] && [ "${full:-0}" -le 40 ] && [ "${tc:-0}" -ge 50 ] &&
		ok "--rate-limit 20: 200 queries -> $full answers, $tc TC=1 slips, the rest dropped" ||
		bad "rate limit: $out"
	sleep 0.4
	expect "rate limiting counted in /metrics" "$(curl -s -m 3 "http://$HTTP/metrics")" \
		'rootwalk_ratelimited_total\{action="slip"\} [1-9]' 'rootwalk_ratelimited_total\{action="drop"\} [1-9]'
	expect "a client under the limit is answered" "$(sleep 1.2; D -b 127.0.0.3 svc.corp.example A)" "status: NOERROR"
	stop_daemon || bad "rl daemon stops"
else
	bad "rate-limit daemon starts" "$(cat "$WORK/rl.log")"
fi
}

# --- privilege drop ---------------------------------------------------------------------
group_privilege_drop() {
stop_main || bad "main daemon stops"
if start_daemon "$WORK/user.log" --listen "$ADDR:$PORT" --zones-dir "$WORK/zones" --root-hints "$WORK/hints" \
	--threads 2 --user nobody; then
	uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$DPID/status")
	[ "$uid" = "65534 65534 65534 65534" ] && ok "--user nobody: every uid is nobody's ($uid)" ||
		bad "--user nobody: Uid $uid"
	expect "--user nobody: still answering" "$(D svc.corp.example A)" "status: NOERROR"
	stop_daemon || bad "user daemon stops"
else
	bad "--user daemon starts" "$(cat "$WORK/user.log")"
fi
out=$("$RW" --listen "$ADDR:$PORT" --zones-dir "$WORK/zones" --root-hints "$WORK/hints" --user nosuchuser-rw 2>&1); rc=$?
expect "--user with an unknown user: refuses to run" "$out" "no such user; refusing to run"
[ "$rc" -ne 0 ] && ok "--user failure: non-zero exit ($rc)" || bad "--user failure exit 0"
}

# --- packaging examples ------------------------------------------------------------------
group_packaging_examples() {
command -v systemd-analyze >/dev/null || { skip_group "systemd-analyze is not installed"; return; }
# the systemd unit; the native-sidecar manifest within Pod Security
# "restricted"; the Containerfile, whose build commands run on this tree
out=$(timeout 600 "$PY" "$TOP/tools/packaging/check.py" "$TOP/tools/packaging" "$RW" --build 2>&1)
expect "packaging: unit, manifest (restricted, native sidecar) and Containerfile pass" "$out" \
	"packaging: 0 checks failed"
out=$($PY "$TOP/tools/packaging/check.py" --self-test "$TOP/tools/packaging" "$RW" 2>&1)
expect "packaging: every planted violation of the manifest is caught" "$out" \
	"packaging self-test: 16 planted violations, 0 missed"
}

run_groups "$@"
