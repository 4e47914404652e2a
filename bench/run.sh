#!/usr/bin/env bash
# bench/run.sh: one benchmark run of h3relay against nginx, both proxying the same test endpoint.
#
#   load generator ──► direct:  TestEndpoint (h1, 127.0.0.1)
#                  ──► h3relay ─┐
#                  ──► nginx ───┴► the same TestEndpoint process
#
#                  ──► HAProxy ─┘   (with --haproxy)
#
# wrk measures h1 (plaintext), h2load measures h2 over TLS. Every target gets the same warm-up,
# duration and concurrency, one after the other in this run, in interleaved rounds (the table shows
# the median of the rounds); ratios are to nginx. Everything listens on 127.0.0.1 only; every
# process started here is stopped on exit.
# Usage: bench/run.sh [--duration S] [--warmup S] [--rounds N] [--connections N]
#          [--h2-clients N] [--h2-streams N] [--profile] [--telemetry on|off|both|both-metrics|both-access-log]
#          [--pin] [--endpoint-with-proxy] [--haproxy] [--aot] [--settle S] [--install]    (see bench/README.md)
#          [--same-headers]   nginx and HAProxy add the request headers h3relay adds (X-Forwarded-*, Forwarded, Via,
#                             X-Request-Id, the client's Host), so that all do the same work per request
#          [--size BYTES]     every request asks the endpoint for a body of BYTES bytes (/bytes?n=BYTES) instead of
#                             its 14-byte answer to /
#          [--pairs N [--slice S]]   instead of the rounds: N pairs of S s slices (default 3), h3relay and each peer
#                                    back to back, the order swapped every pair; CPU/req ratios with 95% intervals
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=10      # seconds measured per target and protocol
WARMUP=20        # seconds of h1 and of h2 load (alternating slices) before round 1: the JIT needs 15-30 s
ROUNDS=3         # rounds over all targets; a busy neighbour then hurts every target alike
CONNECTIONS=50   # wrk connections (one wrk thread)
H2_CLIENTS=10    # h2load connections
H2_STREAMS=10    # h2load concurrent streams per connection
PROFILE=0        # 1: run h3relay under JFR and summarise the hot methods
TELEMETRY=off    # on: Prometheus metrics and the JSON access log (to a file) on, to measure their cost
INSTALL=0        # 1: apt-get install missing packages (root only)
PIN=0            # 1: proxies on CPU 0, set up for one core; load generators and the endpoint on CPU 1
ENDPOINT_CPU=1   # with --pin: the endpoint's CPU (--endpoint-with-proxy: 0, the layout before 2026-12-06 23:30)
HAPROXY_ON=0     # 1: HAProxy as a third target (h1 and h2 over TLS, one thread per core), with CPU/req ratios to it
AOT=0            # 1: h3relay with the launcher's AOT cache, trained first by a run of its own under the warm-up load
SETTLE=0         # seconds: after the warm-ups, all targets idle this long at once, then 3 s of h1 and of h2 load each
PAIRS=0          # N > 0: instead of the rounds, N pairs of short slices of h3relay and each peer (lib.sh's pair_run)
SLICE=3          # seconds per slice with --pairs
SAME_HEADERS=0   # 1: the peers add h3relay's forwarding headers and request id too
SIZE=0           # > 0: response bodies of SIZE bytes (/bytes?n=SIZE)

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while (($#)); do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --h2-clients) H2_CLIENTS="$2"; shift 2 ;;
    --h2-streams) H2_STREAMS="$2"; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --telemetry) TELEMETRY="$2"; shift 2 ;;
    --install) INSTALL=1; shift ;;
    --pin) PIN=1; shift ;;
    --endpoint-with-proxy) ENDPOINT_CPU=0; shift ;;
    --haproxy) HAPROXY_ON=1; shift ;;
    --aot) AOT=1; shift ;;
    --settle) SETTLE="$2"; shift 2 ;;
    --pairs) PAIRS="$2"; shift 2 ;;
    --same-headers) SAME_HEADERS=1; shift ;;
    --size) SIZE="$2"; shift 2 ;;
    --slice) SLICE="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage 2 ;;
  esac
done
[[ "$TELEMETRY" =~ ^(on|off|both|both-metrics|both-access-log)$ ]] \
  || { echo "--telemetry must be on, off, both, both-metrics or both-access-log" >&2; exit 2; }
for v in DURATION WARMUP ROUNDS CONNECTIONS H2_CLIENTS H2_STREAMS SETTLE PAIRS SLICE SIZE; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "run.sh: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((DURATION >= 1 && DURATION <= 600)) || { echo "run.sh: --duration must be 1-600 seconds" >&2; exit 2; }
((ROUNDS >= 1 && ROUNDS <= 20)) || { echo "run.sh: --rounds must be 1-20" >&2; exit 2; }
((WARMUP <= 600)) || { echo "run.sh: --warmup must be 0-600 seconds" >&2; exit 2; }
((SETTLE <= 600)) || { echo "run.sh: --settle must be 0-600 seconds" >&2; exit 2; }
((PAIRS <= 500)) || { echo "run.sh: --pairs must be 0-500" >&2; exit 2; }
((SLICE >= 1 && SLICE <= 60)) || { echo "run.sh: --slice must be 1-60 seconds" >&2; exit 2; }
[[ "$PAIRS" == 0 || "$TELEMETRY" != both* ]] || { echo "run.sh: --pairs measures one h3relay: not with --telemetry both*" >&2; exit 2; }
((SIZE <= 16777216)) || { echo "run.sh: --size must be 0-16777216 bytes" >&2; exit 2; }
BODY_PATH=/; ((SIZE > 0)) && BODY_PATH="/bytes?n=$SIZE"
WARMUP_ASKED=$WARMUP

BENCH_NAME=run.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
check_tools wrk:wrk h2load:nghttp2-client nginx:nginx-light curl:curl mvn:maven ss:iproute2 taskset:util-linux
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
if ((HAPROXY_ON)); then
  check_tools haproxy:haproxy
  HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"
fi
# --pin: issue 19's method. The proxies get CPU 0 (nginx one worker; h3relay's JVM sees one CPU, so one event
# loop; HAProxy one thread), the load generator and the endpoint CPU 1, so a proxy's rate is what its own core
# allows and the endpoint's work (which differs with how a proxy batches its upstream requests) is not charged
# to the proxy's core. --endpoint-with-proxy puts the endpoint on CPU 0 with the proxies instead (the layout of
# the earlier runs in docs/benchmarks.md: the load generator alone on CPU 1).
PIN_TARGET=() PIN_LOAD=() PIN_ENDPOINT=() WORKERS=$(nproc)
if ((PIN)); then
  (($(nproc) >= 2)) || die "--pin needs at least 2 CPUs"
  PIN_TARGET=(taskset -c 0) PIN_LOAD=(taskset -c 1) PIN_ENDPOINT=(taskset -c "$ENDPOINT_CPU") WORKERS=1
fi

# ---------------------------------------------------------------- build and prepare
prepare_run "" nginx/tmp haproxy

EP_PORT=$(free_port) RELAY_H1=$(free_port) RELAY_TLS=$(free_port) RELAY_ADMIN=$(free_port)
TEL_H1=$(free_port) TEL_TLS=$(free_port) TEL_ADMIN=$(free_port)
NGINX_H1=$(free_port) NGINX_TLS=$(free_port) HAPROXY_H1=$(free_port) HAPROXY_TLS=$(free_port)

# ---------------------------------------------------------------- the endpoint
start_endpoint "$EP_PORT"

# warm_up TARGET H1_URL [H2_URL]: before round 1, $WARMUP s of h1 load and $WARMUP s of h2 load in three alternating
# slices of each, so that h3relay's JIT has compiled the code h1 and h2 share for both before anything is measured.
# (One long h1 warm-up and then one long h2 warm-up, as before 2026-12-06 23:40, left the first rounds recompiling
# after each switch of protocol: h3relay's h1 p99 in rounds 1 and 2 of the 23:23 run was twice that of round 3.)
warm_up() {
  local target="$1" h1="$2" h2="${3:-}" slice i
  ((WARMUP > 0)) || return 0
  slice=$(((WARMUP + 2) / 3))
  for i in 1 2 3; do
    "${PIN_LOAD[@]}" wrk -t1 -c"$CONNECTIONS" -d"${slice}s" "$h1" >>"$OUT/$target-warmup.txt" 2>&1
    if [[ -n "$h2" ]]; then
      "${PIN_LOAD[@]}" h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" -t1 -D"$slice" "$h2" >>"$OUT/$target-warmup.txt" 2>&1
    fi
  done
}

# ---------------------------------------------------------------- h3relay
RELAY_OPTS="${H3RELAY_JAVA_OPTS:-}"
((PROFILE)) && RELAY_OPTS+=" -XX:StartFlightRecording=filename=$OUT/h3relay.jfr,settings=profile"
tcp_relay_yaml "$RELAY_H1" "$RELAY_TLS" "$RELAY_ADMIN" "$([[ $TELEMETRY == on ]] && echo on || echo off)" >"$OUT/h3relay.yaml"
# --aot: h3relay as the launcher ships it, with its AOT cache (classes loaded and linked, and method profiles, from
# an earlier run: the launcher's default for `serve` on JDK 25+). A production server has one from its previous
# run; here a training run of its own makes it: the same launcher, options, pinning and config, the warm-up load,
# then TERM (the JVM writes the cache as it exits). The measured h3relay then starts with it. Without --aot
# (lib.sh: H3RELAY_AOT=0) h3relay starts with no cache, its JIT profiling from nothing.
if ((AOT)); then
  export H3RELAY_AOT=1 H3RELAY_AOT_DIR="$OUT/aot"
  H3RELAY_JAVA_OPTS="$RELAY_OPTS" "${PIN_TARGET[@]}" "$ROOT/h3relay" serve -c "$OUT/h3relay.yaml" >"$OUT/h3relay-training.log" 2>&1 &
  TRAIN_PID=$!; STARTED+=("$TRAIN_PID")
  wait_http "http://127.0.0.1:$RELAY_H1/" h3relay-training "$TRAIN_PID"
  log "h3relay: AOT cache training run (pid $TRAIN_PID): the warm-up load, then the cache is written as it exits"
  warm_up h3relay-training "http://127.0.0.1:$RELAY_H1$BODY_PATH" "https://127.0.0.1:$RELAY_TLS$BODY_PATH"
  kill -TERM "$TRAIN_PID"
  for _ in $(seq 3000); do kill -0 "$TRAIN_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$TRAIN_PID" 2>/dev/null && die "the AOT training run did not exit within 300 s; see $OUT/h3relay-training.log"
  wait "$TRAIN_PID" 2>/dev/null || true
  compgen -G "$OUT/aot/h3relay-*.aot" >/dev/null || die "the AOT training run wrote no cache; see $OUT/h3relay-training.log"
  log "h3relay: AOT cache $(ls -s --block-size=M "$OUT"/aot/h3relay-*.aot | cut -d' ' -f1) written"
fi
H3RELAY_JAVA_OPTS="$RELAY_OPTS" "${PIN_TARGET[@]}" "$ROOT/h3relay" serve -c "$OUT/h3relay.yaml" >"$OUT/h3relay.log" 2>&1 &
RELAY_PID=$!; STARTED+=("$RELAY_PID")
wait_http "http://127.0.0.1:$RELAY_H1/" h3relay "$RELAY_PID"
log "h3relay on 127.0.0.1:$RELAY_H1 (h1), 127.0.0.1:$RELAY_TLS (TLS h1+h2) (pid $RELAY_PID)"
if ((AOT)); then  # the JVM starts without a cache it refuses (another JDK, other options): check that it mapped it
  grep -q "$OUT/aot/h3relay-.*\.aot" "/proc/$RELAY_PID/maps" || die "h3relay did not map its AOT cache; see $OUT/h3relay.log"
  log "h3relay runs with the AOT cache of the training run"
fi
TEL_PID=""
if [[ "$TELEMETRY" == both* ]]; then
  TEL_PART=on
  [[ "$TELEMETRY" == both-metrics ]] && TEL_PART=metrics
  [[ "$TELEMETRY" == both-access-log ]] && TEL_PART=access-log
  tcp_relay_yaml "$TEL_H1" "$TEL_TLS" "$TEL_ADMIN" "$TEL_PART" >"$OUT/h3relay-tel.yaml"
  H3RELAY_AOT=0 "${PIN_TARGET[@]}" "$ROOT/h3relay" serve -c "$OUT/h3relay-tel.yaml" >"$OUT/h3relay-tel.log" 2>&1 &
  TEL_PID=$!; STARTED+=("$TEL_PID")
  wait_http "http://127.0.0.1:$TEL_H1/" h3relay-tel "$TEL_PID"
  log "h3relay-tel ($TEL_PART) on 127.0.0.1:$TEL_H1 (h1), 127.0.0.1:$TEL_TLS (pid $TEL_PID)"
fi

# ---------------------------------------------------------------- nginx
# --same-headers: what h3relay adds to every request it forwards (docs/configuration.md: X-Forwarded-For, -Proto,
# -Host, Forwarded, Via, X-Request-Id, and the client's Host kept), added by nginx and HAProxy too.
NGINX_SAME_HEADERS="" HAPROXY_SAME_HEADERS=""
if ((SAME_HEADERS)); then
  NGINX_SAME_HEADERS='
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header Forwarded "for=$remote_addr;host=\"$http_host\";proto=$scheme";
      proxy_set_header Via "1.1 nginx";
      proxy_set_header X-Request-Id $request_id;'
  HAPROXY_SAME_HEADERS='
  option forwardfor
  http-request set-header X-Forwarded-Proto https if { ssl_fc }
  http-request set-header X-Forwarded-Proto http unless { ssl_fc }
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  http-request set-header Forwarded "for=%[src];host=\"%[req.hdr(host)]\";proto=%[req.hdr(x-forwarded-proto)]"
  http-request set-header Via "1.1 haproxy"
  http-request set-header X-Request-Id %[uuid]'
fi
N="$OUT/nginx"
cat >"$N/nginx.conf" <<EOF
# generated by bench/run.sh; worker_processes = the cores h3relay uses (its event loops = the CPUs it sees)
worker_processes $WORKERS;
pid $N/nginx.pid;
error_log $N/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $N/tmp/client;
  proxy_temp_path $N/tmp/proxy;
  fastcgi_temp_path $N/tmp/fastcgi;
  uwsgi_temp_path $N/tmp/uwsgi;
  scgi_temp_path $N/tmp/scgi;
  # nginx closes a keep-alive connection after 1000 requests by default; h3relay does not.
  keepalive_requests 1000000;
  upstream endpoint {
    server 127.0.0.1:$EP_PORT;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$NGINX_H1;
    location / {
      proxy_pass http://endpoint;
      proxy_http_version 1.1;
      proxy_set_header Connection "";$NGINX_SAME_HEADERS
    }
  }
  server {
    listen 127.0.0.1:$NGINX_TLS ssl http2;
    ssl_certificate $CRT;
    ssl_certificate_key $KEY;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://endpoint;
      proxy_http_version 1.1;
      proxy_set_header Connection "";$NGINX_SAME_HEADERS
    }
  }
}
EOF
"$NGINX" -t -q -c "$N/nginx.conf" -e "$N/error.log" 2>"$N/test.log" || { cat "$N/test.log" >&2; die "nginx rejected $N/nginx.conf"; }
"${PIN_TARGET[@]}" "$NGINX" -c "$N/nginx.conf" -e "$N/error.log" -g 'daemon off;' >"$OUT/nginx.log" 2>&1 &
NGINX_PID=$!; STARTED+=("$NGINX_PID")
wait_http "http://127.0.0.1:$NGINX_H1/" nginx "$NGINX_PID"
log "nginx on 127.0.0.1:$NGINX_H1 (h1), 127.0.0.1:$NGINX_TLS (TLS h1+h2) (pid $NGINX_PID)"

# ---------------------------------------------------------------- HAProxy (--haproxy)
# One thread per core h3relay uses (as nginx's workers), keep-alive connections to the endpoint shared by all
# clients (http-reuse always, like the others' pools), h2 and http/1.1 by ALPN on the TLS port.
HAPROXY_PID=""
if ((HAPROXY_ON)); then
  H="$OUT/haproxy"
  cat "$CRT" "$KEY" >"$H/localhost.pem"   # HAProxy wants certificate and key in one file
  cat >"$H/haproxy.cfg" <<EOF
# generated by bench/run.sh
global
  nbthread $WORKERS
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend plain
  bind 127.0.0.1:$HAPROXY_H1
  default_backend endpoint
frontend tls
  bind 127.0.0.1:$HAPROXY_TLS ssl crt $H/localhost.pem alpn h2,http/1.1
  default_backend endpoint
backend endpoint
  server ep 127.0.0.1:$EP_PORT$HAPROXY_SAME_HEADERS
EOF
  "$HAPROXY" -c -q -f "$H/haproxy.cfg" >"$H/check.log" 2>&1 || { cat "$H/check.log" >&2; die "haproxy rejected its config"; }
  "${PIN_TARGET[@]}" "$HAPROXY" -db -f "$H/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 &
  HAPROXY_PID=$!; STARTED+=("$HAPROXY_PID")
  wait_http "http://127.0.0.1:$HAPROXY_H1/" haproxy "$HAPROXY_PID"
  log "haproxy on 127.0.0.1:$HAPROXY_H1 (h1), 127.0.0.1:$HAPROXY_TLS (TLS h1+h2) (pid $HAPROXY_PID)"
fi

if ((SAME_HEADERS)); then  # the record of what each one sends upstream (the endpoint's /headers echoes them)
  for tp in "h3relay:$RELAY_H1" "nginx:$NGINX_H1" ${HAPROXY_PID:+"haproxy:$HAPROXY_H1"}; do
    curl -sS --max-time 10 -o "$OUT/headers-${tp%%:*}.json" "http://127.0.0.1:${tp#*:}/headers" \
      || die "${tp%%:*} did not answer /headers"
  done
  log "--same-headers: what each proxy sends upstream is in $OUT/headers-*.json"
fi

proxy_pids() {  # the processes doing a target's work (nginx: master and workers)
  case "$1" in
    direct) echo "$EP_PID" ;;
    h3relay) echo "$RELAY_PID" ;;
    h3relay-tel) echo "$TEL_PID" ;;
    nginx) echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')" ;;
    haproxy) echo "$HAPROXY_PID" ;;
  esac
}

# ---------------------------------------------------------------- runs
RESULTS="$OUT/results.tsv"   # one line per round, target and protocol
printf 'round\ttarget\tproto\treq_s\tp50_ms\tp99_ms\terrors\tproxy_cpu_us_per_req\tendpoint_cpu_us_per_req\tloadavg1\n' >"$RESULTS"
TICK=$(getconf CLK_TCK)

measure() {  # measure ROUND TARGET PROTO URL
  local round="$1"; shift
  local target="$1" proto="$2" url="$3" raw="$OUT/$1-$2-r$round" pids p0 e0 p1 e1 rps p50 p99 errors total
  # shellcheck disable=SC2207
  pids=($(proxy_pids "$target"))
  if [[ "$proto" == h1 ]]; then
    p0=$(cpu_ticks "${pids[@]}"); e0=$(cpu_ticks "$EP_PID")
    "${PIN_LOAD[@]}" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url" >"$raw.txt" 2>&1
    p1=$(cpu_ticks "${pids[@]}"); e1=$(cpu_ticks "$EP_PID")
    read -r rps total errors < <(load_result h1 "$raw.txt")
    read -r p50 p99 < <(load_percentiles h1 "$raw.txt")
  else
    p0=$(cpu_ticks "${pids[@]}"); e0=$(cpu_ticks "$EP_PID")
    "${PIN_LOAD[@]}" h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" -t1 -D"$DURATION" --log-file="$raw.log.tsv" "$url" >"$raw.txt" 2>&1
    p1=$(cpu_ticks "${pids[@]}"); e1=$(cpu_ticks "$EP_PID")
    read -r rps total errors < <(load_result h2 "$raw.txt")
    read -r p50 p99 < <(load_percentiles h2 "$raw.log.tsv")
  fi
  [[ -n "$rps" && -n "$total" && "$total" -gt 0 ]] || die "no result for $target $proto; see $raw.txt"
  local pcpu ecpu
  pcpu=$(awk -v a="$p0" -v b="$p1" -v t="$TICK" -v n="$total" 'BEGIN { printf "%.1f", (b - a) / t * 1e6 / n }')
  ecpu=$(awk -v a="$e0" -v b="$e1" -v t="$TICK" -v n="$total" 'BEGIN { printf "%.1f", (b - a) / t * 1e6 / n }')
  [[ "$target" == direct ]] && pcpu="-"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$proto" "$rps" "$p50" "$p99" "$errors" \
    "$pcpu" "$ecpu" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RESULTS"
  log "round $round: $target $proto: $rps req/s, p50 ${p50} ms, p99 ${p99} ms, errors $errors"
}

if ((PAIRS > 0)); then MEASURED="$PAIRS pairs of ${SLICE}s slices of h3relay and each peer"; else MEASURED="$ROUNDS x ${DURATION}s"; fi
log "h1: wrk -t1 -c$CONNECTIONS; h2: h2load -c$H2_CLIENTS -m$H2_STREAMS over TLS; ${WARMUP}s warm-up per protocol, then $MEASURED"
warm_up_all() {  # every target in turn (WARMUP=S warm_up_all: S seconds each instead)
  warm_up direct "http://127.0.0.1:$EP_PORT$BODY_PATH"
  warm_up h3relay "http://127.0.0.1:$RELAY_H1$BODY_PATH" "https://127.0.0.1:$RELAY_TLS$BODY_PATH"
  if [[ -n "$TEL_PID" ]]; then warm_up h3relay-tel "http://127.0.0.1:$TEL_H1$BODY_PATH" "https://127.0.0.1:$TEL_TLS$BODY_PATH"; fi
  warm_up nginx "http://127.0.0.1:$NGINX_H1$BODY_PATH" "https://127.0.0.1:$NGINX_TLS$BODY_PATH"
  if [[ -n "$HAPROXY_PID" ]]; then warm_up haproxy "http://127.0.0.1:$HAPROXY_H1$BODY_PATH" "https://127.0.0.1:$HAPROXY_TLS$BODY_PATH"; fi
}
warm_up_all
# --settle: what a server that has been up a while has seen besides load: a pause. After SETTLE s with no load
# (longer than the upstream pools' idle timeouts: h3relay's and nginx's 60 s, HAProxy's 5 s), the first requests
# find no pooled upstream connection and wait for a new one, a branch h3relay's JIT never saw taken under the
# warm-up's steady load: C2 deoptimizes the request path there and recompiles it on the proxy's one core
# (docs/benchmarks.md, 2026-12-07). Each target then gets a short load of both protocols, so that one-time
# recompilation happens here, before round 1, for every target alike.
if ((SETTLE > 0)); then
  log "settle: ${SETTLE}s with no load on any target, then 3 s of h1 and of h2 load on each"
  sleep "$SETTLE"
  WARMUP=3 warm_up_all
fi
log "warm-up done"

# ---------------------------------------------------------------- --pairs: h3relay against each peer, paired slices
# The rounds below measure every target for --duration s in turn: on this VM the cores' speed drifts by tens of
# percent between such windows, so one run's ratio of medians can be off by as much (h2 CPU/req against HAProxy:
# 0.93x-1.89x per round on 2026-12-07). --pairs measures each peer against h3relay in many short slices right
# after each other, the order swapped every pair (regress.sh's method), and reports the median of the pairs' own
# ratios with a bootstrap 95% interval. No p99 here (slices too short for a tail): the rounds give that.
if ((PAIRS > 0)); then
  url_of() {  # url_of TARGET PROTO
    case "$1:$2" in
      h3relay:h1) echo "http://127.0.0.1:$RELAY_H1$BODY_PATH" ;;
      h3relay:h2) echo "https://127.0.0.1:$RELAY_TLS$BODY_PATH" ;;
      nginx:h1) echo "http://127.0.0.1:$NGINX_H1$BODY_PATH" ;;
      nginx:h2) echo "https://127.0.0.1:$NGINX_TLS$BODY_PATH" ;;
      haproxy:h1) echo "http://127.0.0.1:$HAPROXY_H1$BODY_PATH" ;;
      haproxy:h2) echo "https://127.0.0.1:$HAPROXY_TLS$BODY_PATH" ;;
    esac
  }
  pid_of() { proxy_pids "$1"; }
  pair_init
  PEERS=(nginx); [[ -n "$HAPROXY_PID" ]] && PEERS+=(haproxy)
  WARMUP=0 PAIR_BASE=0   # warmed up above
  for proto in h1 h2; do
    for peer in "${PEERS[@]}"; do
      pair_run "$proto" "$peer" h3relay
      PAIR_BASE=$((PAIR_BASE + PAIRS))
    done
  done
  {
    echo "| proto vs peer | pairs | req/s h3relay/peer: median of pairs [95% interval] | pairs with h3relay slower | req/s peer -> h3relay (medians) | proxy CPU µs/req peer -> h3relay (medians) | **proxy CPU/req h3relay/peer**: median of pairs [95% interval] | pairs with more CPU/req in h3relay | endpoint CPU/req h3relay/peer (control) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for proto in h1 h2; do
      for peer in "${PEERS[@]}"; do pair_row "$proto" "$peer" h3relay ratio | sed "s/^| $proto |/| $proto vs $peer |/"; done
    done
  } >"$OUT/summary.md"
  cat >"$OUT/run.txt" <<EOF
date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
command: bench/run.sh --pairs $PAIRS --slice $SLICE --warmup $WARMUP_ASKED --connections $CONNECTIONS --h2-clients $H2_CLIENTS --h2-streams $H2_STREAMS$( ((SETTLE)) && echo " --settle $SETTLE")$( ((PIN)) && echo " --pin")$( ((HAPROXY_ON)) && echo " --haproxy")$( ((AOT)) && echo " --aot")$( ((SAME_HEADERS)) && echo " --same-headers")$( ((SIZE)) && echo " --size $SIZE")
nproc: $(nproc); pinning: $( ((PIN)) && echo "proxies on CPU 0, load generator on CPU 1, endpoint on CPU $ENDPOINT_CPU" || echo none)
cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); kernel: $(uname -r)
java: $("$JAVA" -version 2>&1 | head -1)
h3relay: $(tail -1 "$OUT/h3relay-version.txt")
nginx: $("$NGINX" -v 2>&1)
haproxy: $( ((HAPROXY_ON)) && "$HAPROXY" -v 2>&1 | head -1 || echo "not run (no --haproxy)")
load: h1 wrk -t1 -c$CONNECTIONS (plaintext); h2 h2load -t1 -c$H2_CLIENTS -m$H2_STREAMS (TLS)
slices: $SLICES
load average at end: $(cut -d' ' -f1-3 /proc/loadavg)
EOF
  echo; cat "$OUT/run.txt"; echo; cat "$OUT/summary.md"
  exit 0
fi
for round in $(seq "$ROUNDS"); do
  measure "$round" direct h1 "http://127.0.0.1:$EP_PORT$BODY_PATH"
  measure_pair "$round" h1 "http://127.0.0.1:$RELAY_H1$BODY_PATH" "http://127.0.0.1:$TEL_H1$BODY_PATH"
  measure "$round" nginx h1 "http://127.0.0.1:$NGINX_H1$BODY_PATH"
  if [[ -n "$HAPROXY_PID" ]]; then measure "$round" haproxy h1 "http://127.0.0.1:$HAPROXY_H1$BODY_PATH"; fi
  measure_pair "$round" h2 "https://127.0.0.1:$RELAY_TLS$BODY_PATH" "https://127.0.0.1:$TEL_TLS$BODY_PATH"
  measure "$round" nginx h2 "https://127.0.0.1:$NGINX_TLS$BODY_PATH"
  if [[ -n "$HAPROXY_PID" ]]; then measure "$round" haproxy h2 "https://127.0.0.1:$HAPROXY_TLS$BODY_PATH"; fi
done

# ---------------------------------------------------------------- report
report_profile

MEDIANS="$OUT/medians.tsv"
: >"$MEDIANS"
TARGETS=(direct:h1 h3relay:h1 nginx:h1 h3relay:h2 nginx:h2)
[[ -n "$TEL_PID" ]] && TARGETS=(direct:h1 h3relay:h1 h3relay-tel:h1 nginx:h1 h3relay:h2 h3relay-tel:h2 nginx:h2)
if [[ -n "$HAPROXY_PID" ]]; then TARGETS+=(haproxy:h1 haproxy:h2); fi
for tp in "${TARGETS[@]}"; do
  t="${tp%:*}" p="${tp#*:}"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$p" "$(median 4 "$t" "$p")" "$(median 5 "$t" "$p")" \
    "$(median 6 "$t" "$p")" "$(awk -F'\t' -v t="$t" -v p="$p" '$2 == t && $3 == p {n += $7} END {print n + 0}' "$RESULTS")" \
    "$(median 8 "$t" "$p")" "$(median 9 "$t" "$p")" >>"$MEDIANS"
done

{
  echo "| target | proto | req/s | p50 (ms) | p99 (ms) | errors | req/s vs nginx | p99 vs nginx | proxy CPU µs/req | endpoint CPU µs/req |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '
    { t[NR] = $1; p[NR] = $2; r[NR] = $3; a[NR] = $4; b[NR] = $5; e[NR] = $6; c[NR] = $7; d[NR] = $8
      if ($1 == "nginx") { nr[$2] = $3; n99[$2] = $5 } }
    END { for (i = 1; i <= NR; i++) {
      rr = (p[i] in nr && nr[p[i]] > 0) ? sprintf("%.2fx", r[i] / nr[p[i]]) : "-"
      rp = (p[i] in n99 && n99[p[i]] > 0) ? sprintf("%.2fx", b[i] / n99[p[i]]) : "-"
      printf "| %s | %s | %.0f | %.2f | %.2f | %s | %s | %s | %s | %s |\n", t[i], p[i], r[i], a[i], b[i], e[i], rr, rp, c[i], d[i] } }
  ' "$MEDIANS"
  if [[ -n "$TEL_PID" ]]; then
    echo
    telemetry_cost "$TEL_PART" h1 h2
  fi
  if [[ -n "$HAPROXY_PID" ]]; then
    # issue 19's h2 target is CPU per request against HAProxy's: the ratio of the medians, per protocol
    echo
    echo "| proto | h3relay CPU µs/req | HAProxy CPU µs/req | h3relay / HAProxy | h3relay req/s / HAProxy's |"
    echo "|---|---:|---:|---:|---:|"
    awk -F'\t' '$1 == "h3relay" { c[$2] = $7; r[$2] = $3 } $1 == "haproxy" { hc[$2] = $7; hr[$2] = $3 }
      END { for (p in c) if (p in hc && hc[p] > 0 && hr[p] > 0)
        printf "| %s | %s | %s | %.2fx | %.2fx |\n", p, c[p], hc[p], c[p] / hc[p], r[p] / hr[p] }' "$MEDIANS" | sort
  fi
} >"$OUT/summary.md"

cat >"$OUT/run.txt" <<EOF
date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
command: bench/run.sh --duration $DURATION --warmup $WARMUP --rounds $ROUNDS --connections $CONNECTIONS --h2-clients $H2_CLIENTS --h2-streams $H2_STREAMS --telemetry $TELEMETRY$( ((PROFILE)) && echo " --profile")$( ((PIN)) && echo " --pin")$( ((HAPROXY_ON)) && echo " --haproxy")$( ((SAME_HEADERS)) && echo " --same-headers")$( ((SETTLE)) && echo " --settle $SETTLE")$( ((AOT)) && echo " --aot")$( ((SIZE)) && echo " --size $SIZE")
nproc: $(nproc); pinning: $( ((PIN)) && echo "proxies on CPU 0, load generator on CPU 1, endpoint on CPU $ENDPOINT_CPU" || echo none)
cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
kernel: $(uname -r)
java: $("$JAVA" -version 2>&1 | head -1)
h3relay: $(tail -1 "$OUT/h3relay-version.txt")
nginx: $("$NGINX" -v 2>&1)
haproxy: $( ((HAPROXY_ON)) && "$HAPROXY" -v 2>&1 | head -1 || echo "not run (no --haproxy)")
wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)
h2load: $(h2load --version 2>&1 | head -1)
tls (h2load, h3relay): $(grep -E '^(TLS Protocol|Cipher)' "$OUT/h3relay-h2-r1.txt" | tr '\n' ' ')
tls (h2load, nginx): $(grep -E '^(TLS Protocol|Cipher)' "$OUT/nginx-h2-r1.txt" | tr '\n' ' ')
medians of: $ROUNDS rounds (per round: $OUT/results.tsv)
load average at end: $(cut -d' ' -f1-3 /proc/loadavg)
EOF

echo
cat "$OUT/run.txt"
echo
column -t -s '|' "$OUT/summary.md" | sed 's/ *$//' | grep -v -- '---'
echo
echo "markdown ($OUT/summary.md):"
echo
cat "$OUT/summary.md"
