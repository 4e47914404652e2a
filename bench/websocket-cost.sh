#!/usr/bin/env bash
# bench/websocket-cost.sh: what one relayed WebSocket message costs h3relay, next to nginx and HAProxy relaying
# the same messages, in counts that do not depend on how busy the machine is: syscalls per message (perf stat
# on the raw_syscalls tracepoint, and strace -c -f for the breakdown), and for h3relay bytes allocated per
# message and a CPU profile (one JFR recording, settings=profile: bench/JfrAllocation.java, `jfr view`).
#
#   ws_bench.js (N sessions, one message in flight each) ──ws://──► h3relay ─┐
#                                                          ──────► nginx   ─┼─h1 Upgrade─► ws_echo_server.js
#                                                          ──────► HAProxy ─┘
#
# The setup of bench/websocket.sh (Node `ws` endpoint and load, plaintext h1, the same peer configs, the same
# warm-up in 2 s slices). After --warmup seconds of load on h3relay, each target gets counted slices of
# --seconds: perf stat, strace, perf record on the software clock (CPU per message on the kernel, user code,
# libc and the JIT's compiler threads), and (h3relay only) JFR. A "message" is one echo round trip: the proxy
# relays 2 WebSocket frames for it (one each way). Connection set-up of the slice's sessions is in the counts
# (100 upgrades against tens of thousands of messages: below 0.1 syscall per message). Epoll batching depends
# on load (more ready sockets per epoll_wait when busier), so compare targets measured in the same run.
# --compare DIR: instead, this tree's h3relay against another build of it (DIR holds its h3relay launcher and
# h3relay-cli/target/h3relay.jar, e.g. a copy of main's), both in front of the same endpoint, in --pairs pairs
# of alternating --slice-second slices after --warmup seconds on each (the paired method of
# bench/telemetry-cost.sh): this tree's CPU per message over DIR's, the median of the pairs' own ratios with a
# bootstrap 95% interval, and messages/s and p99 the same way (pairs.md).
# Usage: bench/websocket-cost.sh [--sessions N] [--seconds S] [--warmup S] [--size BYTES]
#          [--targets "h3relay nginx haproxy"] [--no-pin] [--install]
#          [--compare DIR [--pairs N] [--slice S]]
#        (extra JVM options for h3relay through H3RELAY_JAVA_OPTS)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SESSIONS=100 SECONDS_=5 WARMUP=20 SIZE=32 PIN=1 INSTALL=0 COMPARE="" PAIRS=10 SLICE=3
TARGETS="h3relay nginx haproxy"
usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --sessions) SESSIONS="$2"; shift 2 ;;
    --seconds) SECONDS_="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    --targets) TARGETS="$2"; shift 2 ;;
    --no-pin) PIN=0; shift ;;
    --compare) COMPARE="$2"; shift 2 ;;
    --pairs) PAIRS="$2"; shift 2 ;;
    --slice) SLICE="$2"; shift 2 ;;
    --install) INSTALL=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "websocket-cost.sh: unknown argument: $1" >&2; usage 2 ;;
  esac
done
for v in SESSIONS SECONDS_ WARMUP SIZE PAIRS SLICE; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "websocket-cost.sh: ${v%_} must be a whole number, got '${!v}'" >&2; exit 2; }
done
((SESSIONS >= 1 && SESSIONS <= 2000 && SECONDS_ >= 1 && SECONDS_ <= 120 && WARMUP <= 600 && SIZE >= 1 \
  && SIZE <= 1048576)) || { echo "websocket-cost.sh: --sessions 1-2000, --seconds 1-120, --warmup 0-600, --size 1-1MiB" >&2; exit 2; }
((PAIRS >= 1 && PAIRS <= 500 && SLICE >= 1 && SLICE <= 60)) || { echo "websocket-cost.sh: --pairs 1-500, --slice 1-60" >&2; exit 2; }
if [[ -n "$COMPARE" ]]; then
  COMPARE="$(cd "$COMPARE" 2>/dev/null && pwd)" && [[ -x "$COMPARE/h3relay" && -f "$COMPARE/h3relay-cli/target/h3relay.jar" ]] \
    || { echo "websocket-cost.sh: --compare takes a folder with an h3relay launcher and h3relay-cli/target/h3relay.jar" >&2; exit 2; }
  TARGETS=h3relay
  export H3RELAY_AOT=0   # as bench/regress.sh: no AOT cache on either side (one would train on its first start)
fi
for t in $TARGETS; do
  [[ "$t" =~ ^(h3relay|nginx|haproxy)$ ]] || { echo "websocket-cost.sh: unknown target $t (h3relay, nginx, haproxy)" >&2; exit 2; }
done

BENCH_NAME=websocket-cost.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
check_tools nginx:nginx-light haproxy:haproxy strace:strace perf:linux-perf node:nodejs npm:npm curl:curl \
  ss:iproute2 taskset:util-linux
if [[ ! -f "$ROOT/bench/node/node_modules/ws/package.json" ]]; then
  log "installing the ws library into bench/node (npm ci)"
  (cd "$ROOT/bench/node" && npm ci --no-audit --no-fund --silent) || die "npm ci in bench/node failed"
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"
PIN_TARGET=() PIN_LOAD=()
if ((PIN)) && (($(nproc) >= 2)); then PIN_TARGET=(taskset -c 0) PIN_LOAD=(taskset -c 1); fi

prepare_run websocket-cost- nginx/tmp haproxy
JBIN="$JAVA_HOME_FOUND/bin"
[[ -x "$JBIN/jcmd" && -x "$JBIN/jfr" ]] || die "the JDK at $JAVA_HOME_FOUND has no jcmd/jfr (a JRE?): JFR needs a full JDK"

wait_port() {  # wait_port PORT NAME PID: until something accepts TCP on 127.0.0.1:PORT, at most 60 s
  for _ in $(seq 600); do
    kill -0 "$3" 2>/dev/null || die "$2 exited while starting; see $OUT/$2.log"
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  die "$2 did not listen on $1 within 60 s; see $OUT/$2.log"
}

RELAY=$(free_port) RELAY_ADMIN=$(free_port) NGINX_PORT=$(free_port) HAPROXY_PORT=$(free_port)

"${PIN_TARGET[@]}" node "$ROOT/bench/node/ws_echo_server.js" 0 >"$OUT/endpoint.out" 2>"$OUT/endpoint.log" &
EP_PID=$!; STARTED+=("$EP_PID")
for _ in $(seq 200); do grep -q '^PORT ' "$OUT/endpoint.out" 2>/dev/null && break; sleep 0.1; done
EP_PORT="$(awk '/^PORT / {print $2; exit}' "$OUT/endpoint.out")"
[[ -n "$EP_PORT" ]] || die "the endpoint did not start; see $OUT/endpoint.log"

declare -A PID_OF URL_OF
cat >"$OUT/h3relay.yaml" <<YAML
# generated by bench/websocket-cost.sh
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
PID_OF[h3relay]=$!; STARTED+=("$!")
URL_OF[h3relay]="ws://127.0.0.1:$RELAY/echo"
wait_port "$RELAY" h3relay "${PID_OF[h3relay]}"

if [[ -n "$COMPARE" ]]; then
  # ---------------------------------------------------------------- --compare: this tree against DIR's build
  BASE_PORT=$(free_port) BASE_ADMIN=$(free_port)
  sed -e "s/127.0.0.1:$RELAY_ADMIN\$/127.0.0.1:$BASE_ADMIN/" -e "s/127.0.0.1:$RELAY\$/127.0.0.1:$BASE_PORT/" \
    "$OUT/h3relay.yaml" >"$OUT/base.yaml"
  "$COMPARE/h3relay" --version >"$OUT/base-version.txt" 2>&1 || die "$COMPARE/h3relay --version failed"
  "${PIN_TARGET[@]}" "$COMPARE/h3relay" serve -c "$OUT/base.yaml" >"$OUT/base.log" 2>&1 &
  BASE_PID=$!; STARTED+=("$BASE_PID")
  wait_port "$BASE_PORT" base "$BASE_PID"
  log "base ($COMPARE, pid $BASE_PID) and h3relay (this tree, pid ${PID_OF[h3relay]}) up; endpoint $EP_PID"
  url_of() { [[ "$1" == base ]] && echo "ws://127.0.0.1:$BASE_PORT/echo" || echo "ws://127.0.0.1:$RELAY/echo"; }
  pid_of() { [[ "$1" == base ]] && echo "$BASE_PID" || echo "${PID_OF[h3relay]}"; }
  pair_load() {  # pair_load ws URL SECONDS RAW_FILE; each slice's JSON line also kept in ws-slices.tsv
    if [[ "$4" == *-warmup.txt ]]; then  # the warm-up: slices of at most 2 s, new sessions each (as above)
      local w
      for ((w = 0; w < $3; w += 2)); do
        timeout 40 "${PIN_LOAD[@]}" node "$ROOT/bench/node/ws_bench.js" "$2" "$SESSIONS" "$(($3 - w < 2 ? $3 - w : 2))" \
          "$SIZE" >"$4" 2>&1
      done
      return 0
    fi
    timeout $(($3 + 30)) "${PIN_LOAD[@]}" node "$ROOT/bench/node/ws_bench.js" "$2" "$SESSIONS" "$3" "$SIZE" >"$4" 2>&1
    printf '%s\t%s\n' "$2" "$(tail -1 "$4")" >>"$OUT/ws-slices.tsv"
  }
  LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
  pair_init
  pair_run ws base h3relay
  {
    echo "# websocket-cost --compare $STAMP: this tree ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'), \
$(tail -1 "$OUT/h3relay-version.txt")) against $COMPARE ($(tail -1 "$OUT/base-version.txt"))"
    echo "# $SESSIONS sessions, $SIZE-byte messages, $PAIRS pairs of ${SLICE}s slices after ${WARMUP}s warm-up each;" \
      "load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| load | pairs | messages/s this/base [95%] | pairs with this slower | messages/s base -> this | CPU µs/message base -> this | **CPU per message this/base** [95%] | pairs with more CPU in this | endpoint CPU/message this/base |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    pair_row ws base h3relay ratio
    echo
    awk -F'\t' -v b="ws://127.0.0.1:$BASE_PORT/echo" '
      function sort(a, n,   i, j, v) { for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v } }
      function med(a, n,   s, i) { for (i = 1; i <= n; i++) s[i] = a[i]; sort(s, n); return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2 }
      { match($2, /"p99_ms":[0-9.]+/); v = substr($2, RSTART + 9, RLENGTH - 9) + 0
        match($2, /"p50_ms":[0-9.]+/); w = substr($2, RSTART + 9, RLENGTH - 9) + 0
        if ($1 == b) { nb++; pb[nb] = v; qb[nb] = w } else { nh++; ph[nh] = v; qh[nh] = w } }
      END { printf "p50 ms base -> this (median of slices): %.2f -> %.2f; p99 ms: %.2f -> %.2f\n", med(qb, nb), med(qh, nh), med(pb, nb), med(ph, nh) }' \
      "$OUT/ws-slices.tsv"
  } >"$OUT/pairs.md"
  cat "$OUT/pairs.md"
  exit 0
fi

if [[ " $TARGETS " == *" nginx "* ]]; then
  N="$OUT/nginx"
  cat >"$N/nginx.conf" <<CONF
# generated by bench/websocket-cost.sh (as bench/websocket.sh)
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
  "${PIN_TARGET[@]}" "$NGINX" -c "$N/nginx.conf" -e "$N/error.log" -g 'daemon off;' >"$OUT/nginx.log" 2>&1 &
  NGINX_MASTER=$!; STARTED+=("$NGINX_MASTER")
  wait_port "$NGINX_PORT" nginx "$NGINX_MASTER"
  PID_OF[nginx]="$(pgrep -P "$NGINX_MASTER" | head -1)" # the worker relays; the master only watches it
  [[ -n "${PID_OF[nginx]}" ]] || die "no nginx worker under $NGINX_MASTER"
  URL_OF[nginx]="ws://127.0.0.1:$NGINX_PORT/echo"
fi

if [[ " $TARGETS " == *" haproxy "* ]]; then
  H="$OUT/haproxy"
  cat >"$H/haproxy.cfg" <<CONF
# generated by bench/websocket-cost.sh (as bench/websocket.sh)
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
  "${PIN_TARGET[@]}" "$HAPROXY" -db -f "$H/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 &
  PID_OF[haproxy]=$!; STARTED+=("$!")
  wait_port "$HAPROXY_PORT" haproxy "${PID_OF[haproxy]}"
  URL_OF[haproxy]="ws://127.0.0.1:$HAPROXY_PORT/echo"
fi
log "endpoint $EP_PID on $EP_PORT; targets: $(for t in $TARGETS; do printf '%s=%s ' "$t" "${PID_OF[$t]}"; done)"

slice() {  # slice TARGET SECONDS NAME: one ws_bench.js run, its JSON line in $OUT/NAME.json; prints its messages
  "${PIN_LOAD[@]}" node "$ROOT/bench/node/ws_bench.js" "${URL_OF[$1]}" "$SESSIONS" "$2" "$SIZE" >"$OUT/$3.json" || true
  local m
  m="$(sed -n 's/.*"messages":\([0-9]*\).*/\1/p' "$OUT/$3.json")"
  grep -q '"errors":0' "$OUT/$3.json" || log "WARNING: errors in $3 (see $OUT/$3.json)"
  echo "${m:-0}"
}
if ((WARMUP > 0)); then
  log "warm-up: ${WARMUP}s on h3relay, in slices of at most 2 s (new sessions each; see bench/websocket.sh)"
  for ((w = 0; w < WARMUP; w += 2)); do
    slice h3relay "$((WARMUP - w < 2 ? WARMUP - w : 2))" warmup >/dev/null
  done
fi

SUMMARY="$OUT/summary.txt"
{
  echo "# websocket-cost $STAMP: $SESSIONS sessions, $SIZE-byte messages, ${SECONDS_}s per counted slice,"
  echo "# ${WARMUP}s warm-up on h3relay; h3relay $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$SUMMARY"
for t in $TARGETS; do
  pid="${PID_OF[$t]}"
  log "$t: counted slice 1, perf stat (syscalls, task-clock)"
  perf stat -e raw_syscalls:sys_enter,task-clock -p "$pid" -o "$OUT/$t-perf.txt" & PERF_PID=$!
  sleep 0.5
  m1="$(slice "$t" "$SECONDS_" "$t-perf")"
  kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true
  calls="$(awk '/raw_syscalls:sys_enter/ {gsub(/,/, "", $1); print $1}' "$OUT/$t-perf.txt")"
  cpu_ms="$(awk '/task-clock/ {gsub(/,/, "", $1); print $1}' "$OUT/$t-perf.txt")"

  log "$t: counted slice 2, strace -c -f"
  strace -c -f -p "$pid" -o "$OUT/$t-strace.txt" 2>/dev/null & STRACE_PID=$!
  sleep 1
  m2="$(slice "$t" "$SECONDS_" "$t-strace")"
  kill -INT "$STRACE_PID"; wait "$STRACE_PID" 2>/dev/null || true

  # Where the CPU goes, by thread and code: perf sampling on the software clock (no PMU needed), 1 kHz.
  log "$t: counted slice 3, perf record -e cpu-clock (kernel / user / libc / JIT compiler)"
  perf record -q -e cpu-clock -F 1000 -p "$pid" -o "$OUT/$t-cpu.data" 2>/dev/null & PREC_PID=$!
  sleep 0.5
  m4="$(slice "$t" "$SECONDS_" "$t-cpu")"
  kill -INT "$PREC_PID"; wait "$PREC_PID" 2>/dev/null || true
  perf report -i "$OUT/$t-cpu.data" --no-children -g none --sort comm,dso -F sample,comm,dso -t '|' \
    >"$OUT/$t-cpu.txt" 2>/dev/null || true

  {
    echo
    echo "## $t"
    awk -v c="${calls:-0}" -v m="$m1" -v ms="${cpu_ms:-0}" -v s="$SECONDS_" 'BEGIN {
      printf "perf stat: %d messages (%.0f/s under perf), %.2f syscalls/message, %.1f us CPU/message (CPU: load-dependent)\n",
        m, m / s, m ? c / m : 0, m ? ms * 1000 / m : 0 }'
    echo "strace -c -f ($m2 messages; strace slows the target, so batching differs from the perf slice):"
    awk -v m="$m2" '$NF == "total" {printf "  total %.2f syscalls/message\n", $4 / m}
      $NF != "total" && $4 ~ /^[0-9]+$/ && $4 / m >= 0.005 {printf "  %-16s %.3f/message\n", $NF, $4 / m}' "$OUT/$t-strace.txt"
    echo "perf record -e cpu-clock ($m4 messages; us of CPU per message, load-dependent: compare shares):"
    awk -F'|' -v m="$m4" '$1 ~ /^ *[0-9]+ *$/ {
        c = $1 + 0; comm = $2; dso = $3; sub(/ +$/, "", dso)
        if (comm ~ /^C[12] CompilerThre/) g = "JIT compiler threads"
        else if (dso == "[kernel.kallsyms]") g = "kernel"
        else if (dso ~ /^libc[.-]/) g = "libc"
        else if (dso ~ /^(\[JIT\]|\[unknown\]|nginx|haproxy)/ || dso == "") g = "user code (Java / the proxy binary)"
        else { sub(/ \(deleted\)$/, "", dso); sub(/[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]+/, "", dso); g = "other (" dso ")" }
        a[g] += c; t += c }
      END { if (!m) exit
            n = split("kernel|user code (Java / the proxy binary)|libc|JIT compiler threads", order, "|")
            for (i = 1; i <= n; i++) if (order[i] in a) { printf "  %-40s %6.2f\n", order[i], a[order[i]] * 1000 / m; delete a[order[i]] }
            for (g in a) if (a[g] * 1000 / m >= 0.05) printf "  %-40s %6.2f\n", g, a[g] * 1000 / m
            printf "  %-40s %6.2f\n", "total", t * 1000 / m }' "$OUT/$t-cpu.txt"
  } >>"$SUMMARY"

  if [[ "$t" == h3relay ]]; then
    log "$t: counted slice 4, JFR (allocation, execution samples)"
    "$JBIN/jcmd" "$pid" JFR.start name=wscost settings=profile filename="$OUT/h3relay.jfr" >/dev/null
    m3="$(slice "$t" "$SECONDS_" "$t-jfr")"
    "$JBIN/jcmd" "$pid" JFR.stop name=wscost >/dev/null
    "$JAVA" "$ROOT/bench/JfrAllocation.java" "$OUT/h3relay.jfr" "$m3" 12 >"$OUT/allocation.txt" 2>&1 || true
    "$JBIN/jfr" view --width 200 hot-methods "$OUT/h3relay.jfr" >"$OUT/hot-methods.txt" 2>&1 || true
    {
      echo "JFR ($m3 messages): $(awk '/^all threads/ {print $(NF-1)}' "$OUT/allocation.txt") bytes allocated/message"
      echo "  (breakdown: allocation.txt; profile: hot-methods.txt, h3relay.jfr)"
    } >>"$SUMMARY"
  fi
done
cat "$SUMMARY"
