#!/usr/bin/env bash
# bench/websocket.sh: WebSocket echo round trips through h3relay, nginx, HAProxy and Caddy, side by side.
#
#   load (N sessions, one message in flight each) ──ws://──► h3relay ─┐
#                                                     ──────► nginx   ─┼─h1 Upgrade─► one echo endpoint
#                                                     ──────► HAProxy ─┤
#                                                     ──────► Caddy   ─┘
#                                                     ──────► direct (the endpoint itself)
#
# WebSockets over HTTP/1.1 (plaintext) to every target: the peers' common ground (nginx has no WebSocket
# over h2, HAProxy none over h3). The load runs in rounds of short slices, the targets in a different
# order every round (the first target of a round becomes the last of the next), so a drift in machine
# speed spreads over all of them; reported per target: the median of its slices' messages/s and the
# median p50/p99 round trip, and h3relay's messages/s over the best peer's; then, against each peer, the median
# of the rounds' own ratios (messages/s, p99) with a bootstrap 95% interval.
# Load generator and endpoint: Node's `ws` library (bench/node: ws_bench.js, ws_echo_server.js; installed
# there with `npm ci` on first use) by default, or Python `websockets` (ws_load.py, websocket_endpoint.py)
# with --load python / --endpoint python. Either can be the bottleneck: the `direct` row shows the ceiling,
# and the CPU table (cpu.tsv: each slice's CPU time of the proxy, the endpoint and the load generator, per
# message) shows which process a target's rate is bound by (one near a whole core per message rate, or the
# proxy and the endpoint sharing CPU 0 between them).
# Usage: bench/websocket.sh [--sessions N] [--rounds R] [--slice S] [--warmup S] [--size BYTES]
#          [--load node|python] [--endpoint node|python] [--install]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SESSIONS=100
ROUNDS=10
SLICE=5        # seconds per slice
WARMUP=20      # seconds of load on h3relay before the rounds (the JIT), in 2 s slices
SIZE=32
LOAD=node
ENDPOINT=node
INSTALL=0
usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --sessions) SESSIONS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --slice) SLICE="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    --load) LOAD="$2"; shift 2 ;;
    --endpoint) ENDPOINT="$2"; shift 2 ;;
    --install) INSTALL=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "websocket.sh: unknown argument: $1" >&2; usage 2 ;;
  esac
done
for v in SESSIONS ROUNDS SLICE WARMUP SIZE; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "websocket.sh: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((SESSIONS >= 1 && SESSIONS <= 2000 && ROUNDS >= 1 && ROUNDS <= 200 && SLICE >= 1 && SLICE <= 120 \
  && WARMUP <= 600 && SIZE >= 1 && SIZE <= 1048576)) \
  || { echo "websocket.sh: --sessions 1-2000, --rounds 1-200, --slice 1-120, --warmup 0-600, --size 1-1MiB" >&2; exit 2; }

[[ "$LOAD" =~ ^(node|python)$ && "$ENDPOINT" =~ ^(node|python)$ ]] \
  || { echo "websocket.sh: --load and --endpoint take node or python" >&2; exit 2; }

BENCH_NAME=websocket.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
check_tools nginx:nginx-light haproxy:haproxy caddy:caddy curl:curl mvn:maven ss:iproute2 python3:python3
PY=/usr/bin/python3
"$PY" -c 'import websockets' 2>/dev/null || die "/usr/bin/python3 lacks websockets (apt-get install python3-websockets)"
if [[ "$LOAD" == node || "$ENDPOINT" == node ]]; then
  check_tools node:nodejs npm:npm
  if [[ ! -f "$ROOT/bench/node/node_modules/ws/package.json" ]]; then
    log "installing the ws library into bench/node (npm ci)"
    (cd "$ROOT/bench/node" && npm ci --no-audit --no-fund --silent) || die "npm ci in bench/node failed"
  fi
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"
if (($(nproc) >= 2)); then PIN_TARGET=(taskset -c 0) PIN_LOAD=(taskset -c 1); else PIN_TARGET=() PIN_LOAD=(); fi

prepare_run websocket- nginx/tmp haproxy caddy

wait_port() {  # wait_port PORT NAME PID: until something accepts TCP on 127.0.0.1:PORT, at most 60 s
  for _ in $(seq 600); do
    kill -0 "$3" 2>/dev/null || die "$2 exited while starting; see $OUT/$2.log"
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  die "$2 did not listen on $1 within 60 s; see $OUT/$2.log"
}

EP_PORT=$(free_port) RELAY=$(free_port) RELAY_ADMIN=$(free_port) NGINX_PORT=$(free_port) HAPROXY_PORT=$(free_port)
CADDY_PORT=$(free_port)

# ---------------------------------------------------------------- the endpoint
if [[ "$ENDPOINT" == node ]]; then
  "${PIN_TARGET[@]}" node "$ROOT/bench/node/ws_echo_server.js" 0 >"$OUT/endpoint.out" 2>"$OUT/endpoint.log" &
else
  # The Python endpoint stops when its stdin closes: a FIFO this script holds open (fd 7) until it exits.
  mkfifo "$OUT/endpoint.stdin"
  exec 7<>"$OUT/endpoint.stdin"
  "${PIN_TARGET[@]}" "$PY" -u "$ROOT/h3relay-testing/src/main/resources/io/h3relay/testing/websocket_endpoint.py" \
    >"$OUT/endpoint.out" 2>"$OUT/endpoint.log" <&7 &
fi
EP_PID=$!; STARTED+=("$EP_PID")
for _ in $(seq 200); do grep -q '^PORT ' "$OUT/endpoint.out" 2>/dev/null && break; sleep 0.1; done
EP_PORT="$(awk '/^PORT / {print $2; exit}' "$OUT/endpoint.out")"
[[ -n "$EP_PORT" ]] || die "the $ENDPOINT endpoint did not start; see $OUT/endpoint.log"
log "endpoint on 127.0.0.1:$EP_PORT (pid $EP_PID)"

# ---------------------------------------------------------------- h3relay
cat >"$OUT/h3relay.yaml" <<YAML
# generated by bench/websocket.sh
admin:
  address: 127.0.0.1:$RELAY_ADMIN
listeners:
  - name: plain
    address: 127.0.0.1:$RELAY
    protocols: [http1]
    limits: { websocket_idle_timeout: 1h }
$(relay_routes_yaml off)
YAML
"${PIN_TARGET[@]}" "$ROOT/h3relay" serve -c "$OUT/h3relay.yaml" >"$OUT/h3relay.log" 2>&1 &
RELAY_PID=$!; STARTED+=("$RELAY_PID")
wait_port "$RELAY" h3relay "$RELAY_PID"

# ---------------------------------------------------------------- nginx
N="$OUT/nginx"
cat >"$N/nginx.conf" <<CONF
# generated by bench/websocket.sh
worker_processes 1;
pid $N/nginx.pid;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $N/tmp/client;
  proxy_temp_path $N/tmp/proxy;
  fastcgi_temp_path $N/tmp/fastcgi;
  uwsgi_temp_path $N/tmp/uwsgi;
  scgi_temp_path $N/tmp/scgi;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://127.0.0.1:$EP_PORT;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_read_timeout 1h;
    }
  }
}
CONF
"$NGINX" -t -q -c "$N/nginx.conf" -e "$N/error.log" 2>"$N/test.log" || { cat "$N/test.log" >&2; die "nginx rejected its config"; }
"${PIN_TARGET[@]}" "$NGINX" -c "$N/nginx.conf" -e "$N/error.log" -g 'daemon off;' >"$OUT/nginx.log" 2>&1 &
NGINX_PID=$!; STARTED+=("$NGINX_PID")
wait_port "$NGINX_PORT" nginx "$NGINX_PID"

# ---------------------------------------------------------------- HAProxy
H="$OUT/haproxy"
cat >"$H/haproxy.cfg" <<CONF
# generated by bench/websocket.sh
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
frontend ws
  bind 127.0.0.1:$HAPROXY_PORT
  default_backend endpoint
backend endpoint
  server ep 127.0.0.1:$EP_PORT
CONF
"$HAPROXY" -c -q -f "$H/haproxy.cfg" >"$H/check.log" 2>&1 || { cat "$H/check.log" >&2; die "haproxy rejected its config"; }
"${PIN_TARGET[@]}" "$HAPROXY" -db -f "$H/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 &
HAPROXY_PID=$!; STARTED+=("$HAPROXY_PID")
wait_port "$HAPROXY_PORT" haproxy "$HAPROXY_PID"

# ---------------------------------------------------------------- Caddy
C="$OUT/caddy"
cat >"$C/Caddyfile" <<CONF
# generated by bench/websocket.sh
{
	admin off
	auto_https off
	log {
		level ERROR
	}
}
http://127.0.0.1:$CADDY_PORT {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:$EP_PORT
}
CONF
CADDY_ENV=(env HOME="$C" XDG_DATA_HOME="$C/data" XDG_CONFIG_HOME="$C/config" GOMAXPROCS=1)
"${CADDY_ENV[@]}" caddy adapt --config "$C/Caddyfile" --adapter caddyfile >"$C/caddy.json" 2>"$C/adapt.log" \
  || { cat "$C/adapt.log" >&2; die "caddy rejected its Caddyfile"; }
"${PIN_TARGET[@]}" "${CADDY_ENV[@]}" caddy run --config "$C/caddy.json" >"$OUT/caddy.log" 2>&1 &
CADDY_PID=$!; STARTED+=("$CADDY_PID")
wait_port "$CADDY_PORT" caddy "$CADDY_PID"
log "up: endpoint $EP_PID, h3relay $RELAY_PID, nginx $NGINX_PID, haproxy $HAPROXY_PID, caddy $CADDY_PID"

# ---------------------------------------------------------------- measuring
url_of() {
  case "$1" in
    direct) echo "ws://127.0.0.1:$EP_PORT/echo" ;;
    h3relay) echo "ws://127.0.0.1:$RELAY/echo" ;;
    nginx) echo "ws://127.0.0.1:$NGINX_PORT/echo" ;;
    haproxy) echo "ws://127.0.0.1:$HAPROXY_PORT/echo" ;;
    caddy) echo "ws://127.0.0.1:$CADDY_PORT/echo" ;;
  esac
}
slice() {  # slice TARGET SECONDS: one JSON line
  if [[ "$LOAD" == node ]]; then
    "${PIN_LOAD[@]}" node "$ROOT/bench/node/ws_bench.js" "$(url_of "$1")" "$SESSIONS" "$2" "$SIZE" || true
  else
    "${PIN_LOAD[@]}" "$PY" "$ROOT/bench/ws_load.py" "$(url_of "$1")" "$SESSIONS" "$2" "$SIZE"
  fi
}
# The warm-up is slices of at most 2 s, each opening its SESSIONS sessions anew: the JIT then compiles the
# upgrade and session set-up paths (which every measured slice runs SESSIONS times) as well as the relay's
# read path. One long slice left them cold: the measured slices then paid for their compilation, and the
# first burst of new sessions threw away the relay path compiled for tunnel reads alone (about 30
# deoptimizations and 0.4 s of compiler CPU in the first slice, 0.1 s in each one after; docs/benchmarks.md,
# "WebSocket relay cost").
if ((WARMUP > 0)); then
  log "warm-up: ${WARMUP}s on h3relay, in slices of at most 2 s (new sessions each)"
  for ((w = 0; w < WARMUP; w += 2)); do
    slice h3relay "$((WARMUP - w < 2 ? WARMUP - w : 2))" >>"$OUT/warmup.json"
  done
fi
TARGETS=(direct h3relay nginx haproxy caddy)
TICK=$(getconf CLK_TCK)
: >"$OUT/slices.tsv"
printf 'round\ttarget\tproxy_ticks\tendpoint_ticks\tload_cpu_s\n' >"$OUT/cpu.tsv"
for ((r = 0; r < ROUNDS; r++)); do
  for ((i = 0; i < ${#TARGETS[@]}; i++)); do
    t="${TARGETS[$(((i + r) % ${#TARGETS[@]}))]}"
    pids="$(target_pids "$t")"
    # shellcheck disable=SC2086 # several pids on purpose
    p0=$(cpu_ticks $pids); e0=$(cpu_ticks "$EP_PID")
    # the load generator's CPU: bash's `time` of the slice (user + system of the children it waited for)
    { TIMEFORMAT='%U %S'; time slice "$t" "$SLICE" >"$OUT/slice.json" 2>>"$OUT/load.log"; } 2>"$OUT/slice.time"
    # shellcheck disable=SC2086
    p1=$(cpu_ticks $pids); e1=$(cpu_ticks "$EP_PID")
    printf '%s\t%s\t%s\n' "$r" "$t" "$(tail -1 "$OUT/slice.json")" >>"$OUT/slices.tsv"
    printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$t" "$((p1 - p0))" "$((e1 - e0))" \
      "$(awk '{print $1 + $2; exit}' "$OUT/slice.time")" >>"$OUT/cpu.tsv"
  done
  log "round $((r + 1))/$ROUNDS done"
done

# ---------------------------------------------------------------- report
"$PY" - "$OUT/slices.tsv" "$OUT/cpu.tsv" "$TICK" >"$OUT/summary.md" <<'PY'
import json, statistics, sys
rows = {}
cpu = {}
for line in open(sys.argv[1]):
    r, target, js = line.rstrip("\n").split("\t", 2)
    rows.setdefault(target, []).append(json.loads(js))
    cpu[(r, target)] = rows[target][-1]
tick = float(sys.argv[3])
per_msg = {}  # target -> lists of µs per message: proxy, endpoint, load; and each process's share of a core
for line in list(open(sys.argv[2]))[1:]:
    r, target, pt, et, ls = line.rstrip("\n").split("\t")
    row = cpu.get((r, target))
    m, secs = (row["messages"], row["seconds"] or 1) if row else (0, 1)
    if m:
        d = per_msg.setdefault(target, ([], [], [], [], [], []))
        for k, v in enumerate((int(pt) / tick, int(et) / tick, float(ls))):
            d[k].append(v * 1e6 / m)
            d[k + 3].append(v / secs)
med = lambda xs: statistics.median(xs) if xs else float("nan")
summary = {}
for t, rs in rows.items():
    summary[t] = (med([r["msgs_per_s"] for r in rs]), med([r["p50_ms"] or 0 for r in rs]),
                  med([r["p99_ms"] or 0 for r in rs]), sum(r["errors"] for r in rs), len(rs))
peers = [t for t in ("nginx", "haproxy", "caddy") if t in summary]
best = max(peers, key=lambda t: summary[t][0]) if peers else None
print("| target | slices | messages/s (median) | p50 ms | p99 ms | errors |")
print("|---|---:|---:|---:|---:|---:|")
for t in ("direct", "h3relay", "nginx", "haproxy", "caddy"):
    if t in summary:
        m, p50, p99, e, n = summary[t]
        print(f"| {t} | {n} | {m:.0f} | {p50:.2f} | {p99:.2f} | {e} |")
print()
print("CPU per message (µs; median of the slices) and each process's busy share of a core during its slices:")
print()
print("| target | proxy µs/msg | endpoint µs/msg | load µs/msg | proxy + endpoint µs/msg | proxy core | endpoint core | load core |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for t in ("direct", "h3relay", "nginx", "haproxy", "caddy"):
    if t in per_msg:
        d = per_msg[t]
        both = [a + b for a, b in zip(d[0], d[1])]
        print(f"| {t} | {med(d[0]):.1f} | {med(d[1]):.1f} | {med(d[2]):.1f} | {med(both):.1f} | "
              f"{med(d[3]):.2f} | {med(d[4]):.2f} | {med(d[5]):.2f} |")
if best and "h3relay" in summary:
    print()
    print(f"h3relay / best peer ({best}): messages/s {summary['h3relay'][0] / summary[best][0]:.2f}, "
          f"p99 {summary['h3relay'][2] / summary[best][2]:.2f} (lower is better)")
    # Each round measures every target back to back, so a round's own ratio shares the machine's window: the
    # median of those ratios with a bootstrap 95% interval (2,000 resamples, fixed seed) says whether a
    # difference is more than the rounds' spread.
    import random
    random.seed(1)
    def per_round(peer, key):
        return [cpu[(r, "h3relay")][key] / cpu[(r, peer)][key] for (r, t) in cpu
                if t == "h3relay" and (r, peer) in cpu and cpu[(r, peer)][key]]
    def interval(xs):
        meds = sorted(statistics.median(random.choices(xs, k=len(xs))) for _ in range(2000))
        return meds[49], meds[1949]
    for peer in peers:
        rate, p99 = per_round(peer, "msgs_per_s"), per_round(peer, "p99_ms")
        if len(rate) >= 2 and len(p99) >= 2:
            (rl, rh), (pl, ph) = interval(rate), interval(p99)
            print(f"h3relay / {peer}, the rounds' own ratios ({len(rate)} rounds): messages/s "
                  f"{statistics.median(rate):.3f} [{rl:.3f}, {rh:.3f}], p99 {statistics.median(p99):.3f} "
                  f"[{pl:.3f}, {ph:.3f}] (median [95% interval])")
PY
cat >"$OUT/run.txt" <<RUN
date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
command: bench/websocket.sh --sessions $SESSIONS --rounds $ROUNDS --slice $SLICE --warmup $WARMUP --size $SIZE --load $LOAD --endpoint $ENDPOINT
load: $LOAD; endpoint: $ENDPOINT; node: $(node --version 2>/dev/null || echo none)
nproc: $(nproc)
cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
h3relay: $(tail -1 "$OUT/h3relay-version.txt") ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'))
nginx: $("$NGINX" -v 2>&1); haproxy: $("$HAPROXY" -v | head -1); caddy: $(caddy version)
RUN
cat "$OUT/summary.md"
