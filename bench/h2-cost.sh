#!/usr/bin/env bash
# bench/h2-cost.sh: what one HTTP/2 request or one gRPC unary call costs h3relay (and, with --haproxy, HAProxy
# doing the same), in counts that do not depend on how busy the machine is: syscalls (strace -c -f), bytes
# allocated (JFR, bench/JfrAllocation.java), plus where the time goes (JFR execution samples) and proxy CPU per
# request (noisy on a shared machine).
#
#   --workload h2:   h2load over h2/TLS (CPU 1) ──► h3relay / HAProxy (CPU 0) ──► nginx `return 200` (h1)
#                    (--size N: nginx serves a static file of N bytes instead, e.g. --size 65536)
#   --workload grpc: h2load with a framed 64-byte gRPC message ──► h3relay / HAProxy ──► grpc-java (h2c)
#
# After --warmup seconds of load, counted loads of --requests each (10 connections x 10 streams): one under
# strace -c -f -p (all threads) per target, one inside a JFR recording (settings=profile, execution samples every
# 1 ms) for h3relay, read by bench/JfrAllocation.java (bytes) and bench/JfrProfile.java (where the event loop's
# samples are: inclusive and leaf methods), and one for CPU ticks.
# Everything listens on 127.0.0.1; every process is stopped on exit.
# With --size, the summary also counts per response what a client receives (`nghttp -nv -m 100`, 100 requests at
# once on one connection: DATA frames and their sizes) and, under `strace -f -yy` (reads and writes)
# for a counted load, the bytes per write to the client and per read from the endpoint.
# Usage: bench/h2-cost.sh [--workload h2|grpc] [--size BYTES] [--requests N] [--warmup S] [--haproxy] [--no-pin]
#        (extra JVM options for h3relay through H3RELAY_JAVA_OPTS)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORKLOAD=h2 SIZE=0 REQUESTS=50000 WARMUP=30 PIN=1 HAPROXY_TOO=0
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --workload) WORKLOAD="$2"; shift 2 ;;
    --requests) REQUESTS="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --haproxy) HAPROXY_TOO=1; shift ;;
    --no-pin) PIN=0; shift ;;
    -h|--help) usage 0 ;;
    *) echo "h2-cost.sh: unknown option: $1" >&2; usage 2 ;;
  esac
done
[[ "$WORKLOAD" == h2 || "$WORKLOAD" == grpc ]] || { echo "h2-cost.sh: --workload is h2 or grpc" >&2; exit 2; }
[[ "$REQUESTS" =~ ^[0-9]+$ ]] && ((REQUESTS >= 100 && REQUESTS <= 10000000)) \
  || { echo "h2-cost.sh: --requests must be 100-10000000" >&2; exit 2; }
[[ "$SIZE" =~ ^[0-9]+$ ]] && ((SIZE <= 16777216)) || { echo "h2-cost.sh: --size must be 0-16777216 bytes" >&2; exit 2; }
((SIZE == 0)) || [[ "$WORKLOAD" == h2 ]] || { echo "h2-cost.sh: --size is for --workload h2" >&2; exit 2; }
[[ "$WARMUP" =~ ^[0-9]+$ ]] && ((WARMUP <= 600)) || { echo "h2-cost.sh: --warmup must be 0-600 seconds" >&2; exit 2; }

BENCH_NAME=h2-cost.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
export H3RELAY_AOT=0
check_tools h2load:nghttp2-client nginx:nginx strace:strace curl:curl ss:iproute2 taskset:util-linux haproxy:haproxy
HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"
prepare_run "h2-cost-$WORKLOAD-" haproxy nginx
JBIN="$JAVA_HOME_FOUND/bin"
[[ -x "$JBIN/jcmd" && -x "$JBIN/jfr" ]] || die "the JDK at $JBIN has no jcmd/jfr (a JRE?): JFR needs a full JDK"
PIN_PROXY=() PIN_LOAD=()
if ((PIN)) && (($(nproc) >= 2)); then PIN_PROXY=(taskset -c 0) PIN_LOAD=(taskset -c 1); fi

wait_tcp() {  # wait_tcp PORT NAME PID: until PORT accepts TCP connections, at most 60 s
  for _ in $(seq 600); do
    kill -0 "$3" 2>/dev/null || die "$2 exited while starting; see $OUT/$2.log"
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  die "$2 did not listen on $1 within 60 s; see $OUT/$2.log"
}

EP_PORT=$(free_port) RELAY_PORT=$(free_port) ADMIN_PORT=$(free_port) HAPROXY_PORT=$(free_port)
# ---------------------------------------------------------------- the endpoint
if [[ "$WORKLOAD" == h2 ]]; then
  if ((SIZE > 0)); then
    start_nginx_file "$EP_PORT" "$SIZE" "${PIN_LOAD[@]}"
    PATH_PART=/body.bin
  else
    start_nginx_return200 "$EP_PORT" "${PIN_LOAD[@]}"
    PATH_PART=/
  fi
  EP_PID=$NGINX_PID
  CLUSTER_PROTOCOL=http1 HAPROXY_SERVER_PROTO=""
  LOAD_EXTRA=()
else
  (cd "$ROOT" && JAVA_HOME="$JAVA_HOME_FOUND" mvn -q -B -o compile dependency:build-classpath -pl h3relay-core -am \
    -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/grpc-classpath.txt") >>"$OUT/build.log" 2>&1 \
    || { cat "$OUT/build.log" >&2; die "cannot resolve grpc-java's class path"; }
  printf '<configuration><appender name="o" class="ch.qos.logback.core.ConsoleAppender"><encoder><pattern>%%d %%level %%logger %%msg%%n</pattern></encoder></appender><root level="WARN"><appender-ref ref="o"/></root></configuration>\n' \
    >"$OUT/grpc-logback.xml"
  UNSAFE=(); (( $(java_major "$JAVA") >= 23 )) && UNSAFE=(--sun-misc-unsafe-memory-access=allow)
  "${PIN_LOAD[@]}" "$JAVA" -Dlogback.configurationFile="$OUT/grpc-logback.xml" "${UNSAFE[@]}" \
    -cp "$(cat "$OUT/grpc-classpath.txt")" "$ROOT/bench/GrpcBenchServer.java" "$EP_PORT" >"$OUT/grpc-server.log" 2>&1 &
  EP_PID=$!; STARTED+=("$EP_PID")
  for _ in $(seq 600); do
    kill -0 "$EP_PID" 2>/dev/null || die "the gRPC server exited while starting; see $OUT/grpc-server.log"
    grep -q "gRPC bench server on" "$OUT/grpc-server.log" && break
    sleep 0.1
  done
  grep -q "gRPC bench server on" "$OUT/grpc-server.log" || die "the gRPC server did not start"
  # a 64-byte message, framed (flag 0, 4-byte length)
  { printf '\x00\x00\x00\x00\x40'; head -c 64 /dev/zero | tr '\0' 'x'; } >"$OUT/request.bin"
  CLUSTER_PROTOCOL=h2c HAPROXY_SERVER_PROTO="proto h2" PATH_PART=/bench.Echo/Unary
  LOAD_EXTRA=(-d "$OUT/request.bin" -H 'content-type: application/grpc' -H 'te: trailers')
fi
log "endpoint ($WORKLOAD) on 127.0.0.1:$EP_PORT (pid $EP_PID)"

# ---------------------------------------------------------------- h3relay
cat >"$OUT/h3relay.yaml" <<YAML
# generated by bench/h2-cost.sh
admin:
  address: 127.0.0.1:$ADMIN_PORT
listeners:
  - name: tls
    address: 127.0.0.1:$RELAY_PORT
    protocols: [http1, http2]
    tls:
      certificate: $CRT
      private_key: $KEY
routes:
  - name: all
    match: { path_prefix: / }
    cluster: endpoint
clusters:
  - name: endpoint
    protocol: $CLUSTER_PROTOCOL
    endpoints:
      - address: 127.0.0.1:$EP_PORT
observability:
  logging: { level: warn }
  metrics: { enabled: false }
  access_log: { path: "off" }
YAML
"${PIN_PROXY[@]}" "$ROOT/h3relay" serve -c "$OUT/h3relay.yaml" >"$OUT/h3relay.log" 2>&1 &
RELAY_PID=$!; STARTED+=("$RELAY_PID")
wait_tcp "$RELAY_PORT" h3relay "$RELAY_PID"

# ---------------------------------------------------------------- HAProxy (the same work)
if ((HAPROXY_TOO)); then
  cat "$CRT" "$KEY" >"$OUT/haproxy/localhost.pem"
  cat >"$OUT/haproxy/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend tls
  bind 127.0.0.1:$HAPROXY_PORT ssl crt $OUT/haproxy/localhost.pem alpn h2,http/1.1
  default_backend ep
backend ep
  server e 127.0.0.1:$EP_PORT $HAPROXY_SERVER_PROTO
EOF
  "${PIN_PROXY[@]}" "$HAPROXY" -db -f "$OUT/haproxy/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 &
  HAPROXY_PID=$!; STARTED+=("$HAPROXY_PID")
  wait_tcp "$HAPROXY_PORT" haproxy "$HAPROXY_PID"
fi

url_of() { [[ "$1" == h3relay ]] && echo "https://127.0.0.1:$RELAY_PORT$PATH_PART" || echo "https://127.0.0.1:$HAPROXY_PORT$PATH_PART"; }
pid_of() { [[ "$1" == h3relay ]] && echo "$RELAY_PID" || echo "$HAPROXY_PID"; }
load() {  # load TARGET NAME
  "${PIN_LOAD[@]}" h2load -n "$REQUESTS" -c 10 -m 10 -t 1 "${LOAD_EXTRA[@]}" "$(url_of "$1")" >"$OUT/$1-$2.txt"
  grep -q "succeeded, 0 failed, 0 errored" "$OUT/$1-$2.txt" || log "WARNING: failed requests in $1-$2 (see $OUT/$1-$2.txt)"
  grep -q "status codes: $REQUESTS 2xx" "$OUT/$1-$2.txt" || log "WARNING: not all 2xx in $1-$2"
}

TARGETS=(h3relay); ((HAPROXY_TOO)) && TARGETS+=(haproxy)
TICK=$(getconf CLK_TCK)
SUMMARY="$OUT/summary.txt"
echo "# h2-cost $STAMP, workload $WORKLOAD: $REQUESTS requests per counted load, ${WARMUP}s warm-up, load average $(cut -d' ' -f1-3 /proc/loadavg)" >"$SUMMARY"
for t in "${TARGETS[@]}"; do
  pid=$(pid_of "$t")
  log "$t: ${WARMUP}s of warm-up"
  ((WARMUP > 0)) && "${PIN_LOAD[@]}" h2load -D "$WARMUP" -c 10 -m 10 -t 1 "${LOAD_EXTRA[@]}" "$(url_of "$t")" >"$OUT/$t-warmup.txt"
  T0=$(cpu_ticks "$pid"); load "$t" cpu; T1=$(cpu_ticks "$pid")
  CPU_US=$(awk -v t=$((T1 - T0)) -v hz="$TICK" -v n="$REQUESTS" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  log "$t: strace -c -f"
  strace -c -f -p "$pid" -o "$OUT/$t-strace.txt" & STRACE_PID=$!
  sleep 1
  load "$t" strace
  kill -INT "$STRACE_PID"; wait "$STRACE_PID" 2>/dev/null || true
  SYSCALLS=$(awk -v n="$REQUESTS" '$NF == "total" {printf "%.2f", $4 / n}' "$OUT/$t-strace.txt")
  {
    echo "$t: syscalls/request $SYSCALLS; proxy CPU us/request $CPU_US (depends on the machine's load)"
    awk -v n="$REQUESTS" '$NF != "total" && $4 ~ /^[0-9]+$/ && $4 / n >= 0.01 {printf "  %s %.2f/request\n", $NF, $4 / n}' "$OUT/$t-strace.txt"
  } >>"$SUMMARY"
  if ((SIZE > 0)); then
    # What one response is made of, as the client receives it, and the I/O per response by direction.
    port=$([[ "$t" == h3relay ]] && echo "$RELAY_PORT" || echo "$HAPROXY_PORT")
    # 100 concurrent requests on one connection, with h2load's windows (-w 30 -W 30): the frames of each
    nghttp -nv -m 100 -w 30 -W 30 "$(url_of "$t")" >"$OUT/$t-nghttp.txt" 2>&1 || log "WARNING: nghttp failed for $t"
    io_requests=$((REQUESTS < 5000 ? REQUESTS : 5000))
    strace -f -qq -yy -e trace=write,writev,sendto,sendmsg,read,readv,recvfrom,recvmsg -p "$pid" \
      -o "$OUT/$t-io.txt" & STRACE_PID=$!
    sleep 1
    "${PIN_LOAD[@]}" h2load -n "$io_requests" -c 10 -m 10 -t 1 "$(url_of "$t")" >"$OUT/$t-io-load.txt"
    kill -INT "$STRACE_PID"; wait "$STRACE_PID" 2>/dev/null || true
    {
      awk '/recv DATA frame/ {match($0, /length=[0-9]+/); v = substr($0, RSTART + 7, RLENGTH - 7) + 0; n++; b += v
                              if (v < 4096) small++}
           END {printf "  100 concurrent responses on one connection (nghttp -m 100): %.1f DATA frames/response, %.0f bytes each, %.1f/response under 4 KiB\n",
                       n / 100, n ? b / n : 0, small / 100}' "$OUT/$t-nghttp.txt"
      # strace -yy names each socket "TCP...:[local:port->peer:port]": the client side by our port, the endpoint's by its
      awk -v n="$io_requests" -v cp="$port" -v ep="$EP_PORT" '
        / = [0-9]+$/ && /->/ {
          call = $2; sub(/\(.*/, "", call)
          side = ""
          if (match($0, /:[0-9]+->/) && substr($0, RSTART + 1, RLENGTH - 3) == cp) side = "client"
          else if ($0 ~ (":" ep "]>")) side = "endpoint"
          if (side == "") next
          key = side " " call; c[key]++; s[key] += $NF
        }
        END { for (k in c) printf "  %s: %.2f/response, %.0f bytes each\n", k, c[k] / n, s[k] / c[k] }' "$OUT/$t-io.txt" | sort
    } >>"$SUMMARY"
  fi
  if [[ "$t" == h3relay ]]; then
    log "h3relay: JFR (allocation, execution samples)"
    "$JBIN/jcmd" "$pid" JFR.start name=h2cost settings=profile method-profiling=max filename="$OUT/h3relay.jfr" >/dev/null
    load "$t" jfr
    "$JBIN/jcmd" "$pid" JFR.stop name=h2cost >/dev/null
    "$JAVA" "$ROOT/bench/JfrAllocation.java" "$OUT/h3relay.jfr" "$REQUESTS" 15 >"$OUT/allocation.txt"
    "$JAVA" "$ROOT/bench/JfrProfile.java" "$OUT/h3relay.jfr" 120 >"$OUT/profile.txt" 2>&1 || true
    echo "h3relay: bytes allocated/request $(awk '/^all threads/ {print $(NF-1)}' "$OUT/allocation.txt") (allocation.txt; CPU samples in profile.txt)" >>"$SUMMARY"
  fi
done
cat "$SUMMARY"
