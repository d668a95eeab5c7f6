#!/usr/bin/env bash
# Zone files as operators write them (issue 14): a real-world-style zone
# with the modern types in their presentation forms (NAPTR, SSHFP, TLSA,
# SMIMEA, DS, DNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM, CDS, CDNSKEY, HTTPS,
# SVCB, URI, LOC, CERT, OPENPGPKEY, CAA) and $GENERATE, loaded by rootwalk
# and checked against two other implementations: BIND's named-compilezone
# expands and re-prints the same file, NSD serves that expansion, and for
# every owner and type in it dig must get the same answer from rootwalk
# (serving the original file) as from NSD (NSEC3, which NSD answers no
# question for: as BIND printed it). Then a file with many errors
# must be reported whole. Loopback only.
# Usage: zones.sh PATH/TO/rootwalk
set -u
RW=${1:?usage: zones.sh path/to/rootwalk}
ADDR=127.0.0.78
NSD_ADDR=127.0.0.79
PORT=$((20000 + $$ % 20000))
NAME=zones
. "$(dirname "$0")/lib.sh"
need dig nsd named-compilezone

D() { dig +time=2 +tries=1 +norec -p "$PORT" @"$1" "${@:2}" 2>&1; }

mkdir -p "$WORK/zones"
cp "$HERE/modern.example.zone" "$WORK/zones/"
printf '. 1 NS a.nowhere.\na.nowhere. 1 A 127.53.255.254\n' >"$WORK/hints"

# --- the modern types and $GENERATE, against BIND's parser and NSD ----------------
group_modern_zone_file() {
out=$(named-compilezone -k ignore -i none -o "$WORK/expanded.zone" modern.example \
	"$WORK/zones/modern.example.zone" 2>&1)
expect "BIND's named-compilezone reads the file too (the reference)" "$out" "^OK$"
cat >"$WORK/nsd.conf" <<CONF
server:
  ip-address: $NSD_ADDR
  port: $PORT
  server-count: 1
  username: ""
  chroot: ""
  database: ""
  zonesdir: "$WORK"
  pidfile: "$WORK/nsd.pid"
  xfrdfile: "$WORK/nsd.xfrd"
  zonelistfile: "$WORK/nsd.zonelist"
  xfrdir: "$WORK"
  logfile: "$WORK/nsd.log"
  do-ip6: no
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "modern.example"
  zonefile: "$WORK/expanded.zone"
CONF
timeout 120 nsd -d -c "$WORK/nsd.conf" >"$WORK/nsd.out" 2>&1 &
NSD_TIMEOUT=$!
# Not in PIDS: cleanup's kill -9 of timeout would leave NSD running (it
# did, past the end of every run). A TERM to timeout is passed on to NSD,
# which stops its server processes with it.
cleanup_hook() { kill -TERM "$NSD_TIMEOUT" 2>/dev/null; wait "$NSD_TIMEOUT" 2>/dev/null; }
if ! start_daemon "$WORK/rw.log" --listen "$ADDR:$PORT" --threads 1 --root-hints "$WORK/hints" \
	--zone "modern.example=$WORK/zones/modern.example.zone"; then
	bad "rootwalk loads the zone" "$(cat "$WORK/rw.log")"
	return
fi
ok "rootwalk loads the zone (every modern type, \$GENERATE)"
for _ in $(seq 50); do D "$NSD_ADDR" modern.example SOA +short | grep -q hostmaster && break; sleep 0.1; done
# Every owner and type of the expanded zone, asked of both.
local q n=0 diffs=0 types="" owner type got want
# (names at and under the delegation to sub. are a referral from NSD, and
# local data to rootwalk: not compared)
q=$(awk '!/^;/ && NF >= 4 && ($1 !~ /sub\.modern\.example\.$/ || $4 == "DS") {print $1, $4}' \
	"$WORK/expanded.zone" | sort -u)
while read -r owner type; do
	n=$((n + 1))
	if [ "$type" = NSEC3 ]; then # NSD answers no question for a hashed owner: BIND's text
		want=$(awk -v o="$owner" '$1 == o && $4 == "NSEC3" {$1 = $2 = $3 = $4 = ""; print}' \
			"$WORK/expanded.zone" | sed 's/^ *//; s/  */ /g' | sort)
	else
		want=$(D "$NSD_ADDR" "$owner" "$type" +short | sort)
	fi
	got=$(D "$ADDR" "$owner" "$type" +short | sort)
	if [ "$got" != "$want" ] || [ -z "$got" ]; then
		diffs=$((diffs + 1))
		[ "$diffs" -le 5 ] && bad "$owner $type: rootwalk and NSD differ" "rootwalk: $got
NSD:      $want"
	fi
	case " $types " in *" $type "*) ;; *) types="$types $type" ;; esac
done <<<"$q"
[ "$diffs" -eq 0 ] && ok "all $n owner/type pairs answered as NSD answers them" ||
	bad "$diffs of $n owner/type pairs differ from NSD"
local t
for t in NAPTR SSHFP TLSA SMIMEA DS DNSKEY RRSIG NSEC NSEC3 NSEC3PARAM CDS CDNSKEY HTTPS SVCB \
	URI LOC CERT OPENPGPKEY CAA; do
	case " $types " in *" $t "*) ;; *) bad "the zone has no $t record to compare" ;; esac
done
same "... and every type the issue names was among them" "$diffs" 0
expect "\$GENERATE: values, offsets, widths, bases, steps" \
	"$(D "$ADDR" host-20.modern.example A +short; D "$ADDR" 7.dyn.modern.example CNAME +short
	D "$ADDR" 0003.hex.modern.example TXT +short; D "$ADDR" b.rev.modern.example PTR +short)" \
	"^198\.51\.100\.20$" "^host-017\.modern\.example\.$" '^"value-3"$' "^host-11\.modern\.example\.$"
# what the cache's dump prints is presentation too: a forwarder's answer
stop_daemon || bad "it stops"
start_daemon "$WORK/rw2.log" --listen "$ADDR:$PORT" --threads 1 --root-hints "$WORK/hints" \
	--forward "$NSD_ADDR:$PORT" --control "$WORK/ctl.sock" ||
	{ bad "a forwarding rootwalk starts" "$(cat "$WORK/rw2.log")"; return; }
D "$ADDR" +rec svc.modern.example HTTPS >/dev/null
D "$ADDR" +rec geo.modern.example LOC >/dev/null
D "$ADDR" +rec modern.example NSEC3PARAM >/dev/null
out=$("$RW" control --control "$WORK/ctl.sock" dump-cache)
expect "dump-cache prints HTTPS, LOC and NSEC3PARAM in their presentation forms" "$out" \
	'svc\.modern\.example\. [0-9]+ IN HTTPS 1 \. alpn="h2,h3" port=8443 ipv4hint=192\.0\.2\.1,192\.0\.2\.2 ech=AEX\+DQBBpQAgACD/yTQ= ipv6hint=2001:db8::1' \
	'geo\.modern\.example\. [0-9]+ IN LOC 52 22 23\.000 N 4 53 32\.000 E -2\.00m 0\.00m 10000\.00m 10\.00m' \
	'modern\.example\. [0-9]+ IN NSEC3PARAM 1 0 10 AABBCCDD'
stop_daemon || bad "it stops"
}

# --- every error of a file, not just the first ----------------------------------
group_all_zone_errors() {
{
	printf '$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n'
	printf 'a A 1.2.3\nb AAAA zz\nc MX 10\nd HTTPS 1 . port=x\ne DS 1 2 3 XYZ\nf BOGUS 1\n'
	printf 'ok A 192.0.2.2\n$GENERATE 5-1 x$ A 192.0.2.$\n'
	for i in $(seq 30); do printf 'bad%s A 300.0.0.%s\n' "$i" "$i"; done
} >"$WORK/bad.zone"
local out rc
out=$("$RW" --zone "bad.example=$WORK/bad.zone" --root-hints "$WORK/hints" --check-config 2>&1); rc=$?
expect "a zone file's errors are all reported (up to 20), each with file and line" "$out" \
	"bad\.zone:5: A record: bad IPv4 address" "^37 errors in all, the first 20 shown:$" \
	"bad\.zone:6: AAAA record: bad IPv6 address$" "bad\.zone:7: MX record: too few rdata fields$" \
	"bad\.zone:8: HTTPS record: bad SVCB parameter" "bad\.zone:9: DS record: bad hex$" \
	"bad\.zone:10: unknown record type 'BOGUS'$" "bad\.zone:12: \\\$GENERATE range '5-1'"
same "... 20 lines of them" "$(grep -c 'bad\.zone:[0-9]*:' <<<"$out")" 20
[ "$rc" -ne 0 ] && ok "... and --check-config fails" || bad "--check-config exit 0"
}

run_groups "$@"
