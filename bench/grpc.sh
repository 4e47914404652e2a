#!/usr/bin/env bash
# bench/grpc.sh: gRPC unary calls through h3relay, nginx (grpc_pass), HAProxy (proto h2) and Caddy (h2c
# upstream), all in front of the same grpc-java server, measured as many short back-to-back pairs.
#
#   h2load (h2, TLS, a framed gRPC body) ──► h3relay ─┐
#                                        ──► nginx   ─┼─► grpc-java (bench.Echo/Unary, h2c)
#                                        ──► HAProxy ─┤
#                                        ──► Caddy   ─┘
#   h3relay bench --grpc --http3         ──► h3relay (and, with --h3-peers caddy, Caddy's h3 listener)
#
# Every peer is paired with h3relay (h3relay and the peer right after each other, order swapped every pair,
# as in telemetry-cost.sh), so a drift in the cores' speed falls on both; the summary has one row per peer:
# the median of the pairs' req/s ratios (peer / h3relay) with a bootstrap 95% interval, and CPU per call.
# Before measuring, every target must answer one call with grpc-status 0 (`h3relay request --grpc`): a
# peer that breaks gRPC would otherwise be measured answering errors. Everything listens on 127.0.0.1 only;
# every process started here is stopped on exit. No peer is paired with h3relay over h3 by default: nginx and
# HAProxy have no h3 listener in Debian's builds, and Caddy 2's h3 listener answers gRPC without the trailers
# (no grpc-status: its check fails), so h3 is h3relay's own slices (req/s, CPU per call).
# Usage: bench/grpc.sh [--pairs N] [--slice S] [--warmup S] [--message-size BYTES] [--peers "nginx haproxy caddy"]
#          [--h3-peers "caddy"] [--h2-clients N] [--h2-streams N] [--no-h3] [--profile] [--install]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PAIRS=20         # pairs of slices per peer and protocol
SLICE=3          # seconds of load per slice
WARMUP=30        # seconds of load per target and protocol before its pairs (the JIT needs 20-30 s)
MESSAGE_SIZE=64  # bytes of the request message (the reply is the same message)
PEERS="nginx haproxy caddy"
H3_PEERS=""
H2_CLIENTS=10    # h2load / h3relay bench connections
H2_STREAMS=10    # concurrent calls per connection
H3=1
PROFILE=0
INSTALL=0

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --pairs) PAIRS="$2"; shift 2 ;;
    --slice) SLICE="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --message-size) MESSAGE_SIZE="$2"; shift 2 ;;
    --peers) PEERS="$2"; shift 2 ;;
    --h3-peers) H3_PEERS="$2"; shift 2 ;;
    --h2-clients) H2_CLIENTS="$2"; shift 2 ;;
    --h2-streams) H2_STREAMS="$2"; shift 2 ;;
    --no-h3) H3=0; shift ;;
    --profile) PROFILE=1; shift ;;
    --install) INSTALL=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "grpc.sh: unknown argument: $1" >&2; usage 2 ;;
  esac
done
for v in PAIRS SLICE WARMUP MESSAGE_SIZE H2_CLIENTS H2_STREAMS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "grpc.sh: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((PAIRS >= 1 && PAIRS <= 500)) || { echo "grpc.sh: --pairs must be 1-500" >&2; exit 2; }
((SLICE >= 1 && SLICE <= 60)) || { echo "grpc.sh: --slice must be 1-60 seconds" >&2; exit 2; }
((WARMUP <= 600)) || { echo "grpc.sh: --warmup must be 0-600 seconds" >&2; exit 2; }
((MESSAGE_SIZE <= 4194304)) || { echo "grpc.sh: --message-size must be at most 4 MiB" >&2; exit 2; }
for p in $PEERS $H3_PEERS; do
  [[ "$p" =~ ^(nginx|haproxy|caddy)$ ]] || { echo "grpc.sh: peers are nginx, haproxy, caddy; got '$p'" >&2; exit 2; }
done
for p in $H3_PEERS; do
  [[ "$p" == caddy ]] || { echo "grpc.sh: only caddy serves h3 here (--h3-peers)" >&2; exit 2; }
done

BENCH_NAME=grpc.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
check_tools h2load:nghttp2-client nginx:nginx-light haproxy:haproxy caddy:caddy curl:curl mvn:maven ss:iproute2
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"

prepare_run grpc- nginx/tmp haproxy caddy
cat "$CRT" "$KEY" >"$OUT/haproxy/localhost.pem"

# grpc-java's class path: h3relay-core's test scope (with -am the last module's file, h3relay-core's, wins)
(cd "$ROOT" && JAVA_HOME="$JAVA_HOME_FOUND" mvn -q -B -o compile dependency:build-classpath -pl h3relay-core -am \
  -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/grpc-classpath.txt") >>"$OUT/build.log" 2>&1 \
  || (cd "$ROOT" && JAVA_HOME="$JAVA_HOME_FOUND" mvn -q -B compile dependency:build-classpath -pl h3relay-core -am \
  -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/grpc-classpath.txt") >>"$OUT/build.log" 2>&1 \
  || { cat "$OUT/build.log" >&2; die "cannot resolve grpc-java's class path"; }

# The request: MESSAGE_SIZE bytes of message, framed for h2load (flag 0, 4-byte length); h3relay frames its own.
head -c "$MESSAGE_SIZE" /dev/zero | tr '\0' 'x' >"$OUT/message.bin"
{ printf '\x00'; printf "\\x$(printf %02x $((MESSAGE_SIZE >> 24 & 255)))\\x$(printf %02x $((MESSAGE_SIZE >> 16 & 255)))"
  printf "\\x$(printf %02x $((MESSAGE_SIZE >> 8 & 255)))\\x$(printf %02x $((MESSAGE_SIZE & 255)))"
  cat "$OUT/message.bin"; } >"$OUT/request.bin"
[[ "$(stat -c %s "$OUT/request.bin")" == $((MESSAGE_SIZE + 5)) ]] || die "framing the request failed"

GRPC_PORT=$(free_port) RELAY=$(free_port) RELAY_ADMIN=$(free_port)
NGINX_TLS=$(free_port) HAPROXY_TLS=$(free_port) CADDY_TLS=$(free_port)

# ---------------------------------------------------------------- the gRPC server
# logback is on that class path: without a file of its own it logs every frame at DEBUG (most of the server's CPU)
printf '<configuration><appender name="o" class="ch.qos.logback.core.ConsoleAppender"><encoder><pattern>%%d %%level %%logger %%msg%%n</pattern></encoder></appender><root level="WARN"><appender-ref ref="o"/></root></configuration>\n' \
  >"$OUT/grpc-logback.xml"
UNSAFE=(); (( $(java_major "$JAVA") >= 23 )) && UNSAFE=(--sun-misc-unsafe-memory-access=allow)   # Netty's fast paths
"$JAVA" -Dlogback.configurationFile="$OUT/grpc-logback.xml" "${UNSAFE[@]}" \
  -cp "$(cat "$OUT/grpc-classpath.txt")" "$ROOT/bench/GrpcBenchServer.java" "$GRPC_PORT" >"$OUT/grpc-server.log" 2>&1 &
EP_PID=$!; STARTED+=("$EP_PID")
for _ in $(seq 600); do
  kill -0 "$EP_PID" 2>/dev/null || die "the gRPC server exited while starting; see $OUT/grpc-server.log"
  grep -q "gRPC bench server on" "$OUT/grpc-server.log" && break
  sleep 0.1
done
grep -q "gRPC bench server on" "$OUT/grpc-server.log" || die "the gRPC server did not start; see $OUT/grpc-server.log"
log "gRPC server on 127.0.0.1:$GRPC_PORT (pid $EP_PID)"

wait_tcp() {  # wait_tcp PORT NAME PID: until PORT accepts TCP connections, at most 60 s
  for _ in $(seq 600); do
    kill -0 "$3" 2>/dev/null || die "$2 exited while starting; see $OUT/$2.log"
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  die "$2 did not listen on $1 within 60 s; see $OUT/$2.log"
}

# ---------------------------------------------------------------- h3relay
cat >"$OUT/h3relay.yaml" <<EOF
# generated by bench/grpc.sh
admin:
  address: 127.0.0.1:$RELAY_ADMIN
listeners:
  - name: tls
    address: 127.0.0.1:$RELAY
    protocols: [http1, http2, http3]
    tls:
      certificate: certs/localhost.crt
      private_key: certs/localhost.key
routes:
  - name: all
    match: { path_prefix: / }
    cluster: grpc
clusters:
  - name: grpc
    protocol: h2c
    endpoints:
      - address: 127.0.0.1:$GRPC_PORT
observability:
  logging: { level: warn }
$(telemetry_yaml off)
EOF
H3RELAY_JAVA_OPTS="$(jfr_opts h3relay)" "$ROOT/h3relay" serve -c "$OUT/h3relay.yaml" >"$OUT/h3relay.log" 2>&1 &
RELAY_PID=$!; STARTED+=("$RELAY_PID")
wait_tcp "$RELAY" h3relay "$RELAY_PID"

# ---------------------------------------------------------------- nginx
N="$OUT/nginx"
cat >"$N/nginx.conf" <<EOF
# generated by bench/grpc.sh
worker_processes 1;
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
  keepalive_requests 1000000;
  http2_max_concurrent_streams 1000;
  upstream grpc {
    server 127.0.0.1:$GRPC_PORT;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$NGINX_TLS ssl http2;
    ssl_certificate $CRT;
    ssl_certificate_key $KEY;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      grpc_pass grpc://grpc;
    }
  }
}
EOF
"$NGINX" -t -q -c "$N/nginx.conf" -e "$N/error.log" 2>"$N/test.log" || { cat "$N/test.log" >&2; die "nginx rejected its config"; }
if [[ " $PEERS " == *" nginx "* ]]; then
  "$NGINX" -c "$N/nginx.conf" -e "$N/error.log" -g 'daemon off;' >"$OUT/nginx.log" 2>&1 &
  NGINX_PID=$!; STARTED+=("$NGINX_PID")
  wait_tcp "$NGINX_TLS" nginx "$NGINX_PID"
fi

# ---------------------------------------------------------------- HAProxy
H="$OUT/haproxy"
cat >"$H/haproxy.cfg" <<EOF
# generated by bench/grpc.sh
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
  bind 127.0.0.1:$HAPROXY_TLS ssl crt $H/localhost.pem alpn h2
  default_backend grpc
backend grpc
  server g 127.0.0.1:$GRPC_PORT proto h2
EOF
"$HAPROXY" -c -q -f "$H/haproxy.cfg" >"$H/check.log" 2>&1 || { cat "$H/check.log" >&2; die "haproxy rejected its config"; }
if [[ " $PEERS " == *" haproxy "* ]]; then
  "$HAPROXY" -db -f "$H/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 &
  HAPROXY_PID=$!; STARTED+=("$HAPROXY_PID")
  wait_tcp "$HAPROXY_TLS" haproxy "$HAPROXY_PID"
fi

# ---------------------------------------------------------------- Caddy
C="$OUT/caddy"
cat >"$C/Caddyfile" <<EOF
# generated by bench/grpc.sh
{
	admin off
	auto_https off
	log {
		level ERROR
	}
	servers {
		protocols h1 h2 h3
	}
}
https://127.0.0.1:$CADDY_TLS {
	bind 127.0.0.1
	tls $CRT $KEY
	reverse_proxy h2c://127.0.0.1:$GRPC_PORT {
		flush_interval -1
	}
}
EOF
CADDY_ENV=(env HOME="$C" XDG_DATA_HOME="$C/data" XDG_CONFIG_HOME="$C/config" GOMAXPROCS=1)
"${CADDY_ENV[@]}" caddy adapt --config "$C/Caddyfile" --adapter caddyfile >"$C/caddy.json" 2>"$C/adapt.log" \
  || { cat "$C/adapt.log" >&2; die "caddy rejected its Caddyfile"; }
if [[ " $PEERS $H3_PEERS " == *" caddy "* ]]; then
  "${CADDY_ENV[@]}" caddy run --config "$C/caddy.json" >"$OUT/caddy.log" 2>&1 &
  CADDY_PID=$!; STARTED+=("$CADDY_PID")
  wait_tcp "$CADDY_TLS" caddy "$CADDY_PID"
fi

port_of() {  # port_of TARGET
  case "$1" in
    h3relay) echo "$RELAY" ;; nginx) echo "$NGINX_TLS" ;; haproxy) echo "$HAPROXY_TLS" ;; caddy) echo "$CADDY_TLS" ;;
  esac
}
url_of() { echo "https://127.0.0.1:$(port_of "$1")/bench.Echo/Unary"; }   # url_of TARGET PROTO
pid_of() { target_pids "$1"; }   # the processes of a target (lib.sh's load generators ask)

# Every target answers one call with grpc-status 0 over h2 (and h3 where measured) before anything is measured.
check_call() {  # check_call TARGET h2|h3
  local flag=--http2; [[ "$2" == h3 ]] && flag=--http3
  "$ROOT/h3relay" request --grpc "$flag" -k --max-time 10 --data "@$OUT/message.bin" -o "$OUT/check-$1-$2.bin" \
    "$(url_of "$1" "$2")" >"$OUT/check-$1-$2.txt" 2>&1 \
    || die "$1 over $2 did not answer a gRPC call with grpc-status 0; see $OUT/check-$1-$2.txt"
  cmp -s "$OUT/check-$1-$2.bin" "$OUT/message.bin" || die "$1 over $2 answered another message; see $OUT/check-$1-$2.bin"
  log "$1 over $2: grpc-status 0, message intact"
}
check_call h3relay h2
for p in $PEERS; do check_call "$p" h2; done
if ((H3)); then
  check_call h3relay h3
  for p in $H3_PEERS; do check_call "$p" h3; done
fi

# ---------------------------------------------------------------- load generators (lib.sh's, for gRPC)
# h2: h2load with the framed body and gRPC's headers (it counts HTTP statuses: the check above is what
# says the calls succeed); h3: h3relay bench --grpc, which counts a call as ok only with grpc-status 0.
pair_load() {  # pair_load PROTO URL SECONDS RAW_FILE
  if [[ "$1" == h2 ]]; then
    timeout $(($3 + 30)) h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" -t1 -D"$3" -d "$OUT/request.bin" \
      -H 'content-type: application/grpc' -H 'te: trailers' "$2" >"$4" 2>&1
  else
    timeout $(($3 + 60)) "$ROOT/h3relay" bench --grpc --http3 -k -c"$H2_CLIENTS" -m"$H2_STREAMS" -t1 -d"${3}s" \
      --data "@$OUT/message.bin" --json "$2" >"$4" 2>"$4.err" || [[ $? == 8 ]]
  fi
}
load_result() {  # load_result PROTO FILE: "req/s requests errors"
  if [[ "$1" == h2 ]]; then
    awk '/^finished in/ {gsub(/,/, ""); r = $4} /^requests:/ {gsub(/,/, ""); t = $8; e = $10 + $12 + $14}
      END {print (r == "" ? "nan" : r), t + 0, e + 0}' "$2"
  else
    local rps total errors
    rps=$(grep -o '"req_per_s":[0-9.]*' "$2" | head -1 | cut -d: -f2)
    total=$(grep -o '"requests":[0-9]*' "$2" | head -1 | cut -d: -f2)
    errors=$(grep -o '"error_count":[0-9]*' "$2" | head -1 | cut -d: -f2)
    echo "${rps:-nan} ${total:-0} ${errors:-0}"
  fi
}

pair_init
for p in $PEERS; do
  pair_run h2 h3relay "$p"
done
if ((H3)); then
  for p in $H3_PEERS; do
    pair_run h3 h3relay "$p"
  done
  if [[ -z "$H3_PEERS" ]]; then  # h3relay alone: warm-up, then PAIRS slices
    log "h3: warming up h3relay for ${WARMUP}s"
    if ((WARMUP > 0)); then pair_load h3 "$(url_of h3relay h3)" "$WARMUP" "$OUT/h3relay-h3-warmup.txt"; fi
    log "h3: $PAIRS slices of ${SLICE}s"
    for pair in $(seq "$PAIRS"); do pair_slice "$pair" h3relay h3; done
  fi
fi

# ---------------------------------------------------------------- report
pair_profiles h3relay
{
  echo "gRPC unary, ${MESSAGE_SIZE}-byte messages; each row: h3relay (A) paired with one peer (B)."
  echo
  echo "| proto | pairs | req/s peer/h3relay: median of pairs [95% interval] | pairs with the peer slower | req/s h3relay -> peer (medians) | proxy CPU µs/call h3relay -> peer | proxy CPU/call peer/h3relay [95%] | pairs with more CPU/call in the peer | endpoint CPU/call peer/h3relay [95%] |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for p in $PEERS; do
    pair_row h2 h3relay "$p" ratio | sed "s/^| h2 |/| h2 ($p) |/"
  done
  if ((H3)); then
    for p in $H3_PEERS; do
      pair_row h3 h3relay "$p" ratio | sed "s/^| h3 |/| h3 ($p) |/"
    done
  fi
  if ((H3)) && [[ -z "$H3_PEERS" ]]; then
    echo
    awk -F'\t' '$2 == "h3relay" && $3 == "h3" { n++; r[n] = $4; c[n] = $7; e += $6 }
      function med(a, n,   i, j, v) { for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      END { if (n) printf "h3 (h3relay bench --grpc --http3 through h3relay): %d slices, median %.0f req/s, median proxy CPU %.1f µs/call, %d errors\n", n, med(r, n), med(c, n), e }' "$SLICES"
  fi
} >"$OUT/summary.md"

cat >"$OUT/run.txt" <<EOF
date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
command: bench/grpc.sh --pairs $PAIRS --slice $SLICE --warmup $WARMUP --message-size $MESSAGE_SIZE --peers "$PEERS" --h3-peers "$H3_PEERS" --h2-clients $H2_CLIENTS --h2-streams $H2_STREAMS$( ((H3)) || echo " --no-h3")$( ((PROFILE)) && echo " --profile")
load: h2 h2load -t1 -c$H2_CLIENTS -m$H2_STREAMS -d (framed body), content-type application/grpc, te trailers (TLS); h3 h3relay bench --grpc --http3 -t1 -c$H2_CLIENTS -m$H2_STREAMS
nproc: $(nproc)
cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
kernel: $(uname -r)
java: $("$JAVA" -version 2>&1 | head -1)
h3relay: $(tail -1 "$OUT/h3relay-version.txt") ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'))
nginx: $("$NGINX" -v 2>&1 | head -1)
haproxy: $("$HAPROXY" -v 2>&1 | head -1)
caddy: $(caddy version 2>&1 | head -1)
load average at end: $(cut -d' ' -f1-3 /proc/loadavg)
slices: $SLICES
EOF
echo
cat "$OUT/run.txt"
echo
cat "$OUT/summary.md"
