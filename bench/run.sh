#!/usr/bin/env bash
# bench/run.sh: one benchmark run of h3relay against nginx, both proxying the same test endpoint.
#
#   load generator ──► direct:  TestEndpoint (h1, 127.0.0.1)
#                  ──► h3relay ─┐
#                  ──► nginx ───┴► the same TestEndpoint process
#
# wrk measures h1 (plaintext), h2load measures h2 over TLS. Every target gets the same warm-up,
# duration and concurrency, one after the other in this run, in interleaved rounds (the table shows
# the median of the rounds); ratios are to nginx. Everything listens on 127.0.0.1 only; every
# process started here is stopped on exit.
# Usage: bench/run.sh [--duration S] [--warmup S] [--rounds N] [--connections N]
#          [--h2-clients N] [--h2-streams N] [--profile] [--install]    (see bench/README.md)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=10      # seconds measured per target and protocol
WARMUP=20        # seconds of the same load before round 1: h3relay's JIT needs 15-30 s on 2 busy cores
ROUNDS=3         # rounds over all targets; a busy neighbour then hurts every target alike
CONNECTIONS=50   # wrk connections (one wrk thread)
H2_CLIENTS=10    # h2load connections
H2_STREAMS=10    # h2load concurrent streams per connection
PROFILE=0        # 1: run h3relay under JFR and summarise the hot methods
INSTALL=0        # 1: apt-get install missing packages (root only)

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while (($#)); do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --h2-clients) H2_CLIENTS="$2"; shift 2 ;;
    --h2-streams) H2_STREAMS="$2"; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --install) INSTALL=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage 2 ;;
  esac
done
for v in DURATION WARMUP ROUNDS CONNECTIONS H2_CLIENTS H2_STREAMS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "run.sh: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((DURATION >= 1 && DURATION <= 600)) || { echo "run.sh: --duration must be 1-600 seconds" >&2; exit 2; }
((ROUNDS >= 1 && ROUNDS <= 20)) || { echo "run.sh: --rounds must be 1-20" >&2; exit 2; }
((WARMUP <= 600)) || { echo "run.sh: --warmup must be 0-600 seconds" >&2; exit 2; }

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
check_tools() {
  # command:Debian package
  local pairs=(wrk:wrk h2load:nghttp2-client nginx:nginx-light curl:curl mvn:maven ss:iproute2 taskset:util-linux)
  local missing=() p cmd
  for p in "${pairs[@]}"; do
    cmd="${p%%:*}"
    command -v "$cmd" >/dev/null 2>&1 || [[ -x "/usr/sbin/$cmd" ]] || missing+=("${p#*:}")
  done
  ((${#missing[@]} == 0)) && return 0
  if ((INSTALL)); then
    (( EUID == 0 )) || die "--install needs root; missing Debian packages: ${missing[*]}"
    log "installing: ${missing[*]}"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  else
    die "missing Debian packages: ${missing[*]} (apt-get install ${missing[*]}, or rerun as root with --install)"
  fi
}
check_tools
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

# The same search as the ./h3relay launcher: JAVA_HOME, PATH, /usr/lib/jvm; the newest JDK >= 21.
java_major() { "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}'; }
find_java() {
  local c=() j v best="" best_v=0
  [[ -n "${JAVA_HOME:-}" ]] && c+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && c+=("$(command -v java)")
  for d in /usr/lib/jvm/*/ /opt/java/*/ /usr/local/lib/jvm/*/; do [[ -x "${d}bin/java" ]] && c+=("${d}bin/java"); done
  for j in "${c[@]}"; do
    v="$(java_major "$j" 2>/dev/null || true)"
    [[ "$v" =~ ^[0-9]+$ ]] && ((v >= 21 && v > best_v)) && { best="$j"; best_v=$v; }
  done
  [[ -n "$best" ]] || die "no JDK >= 21 found (JAVA_HOME, PATH, /usr/lib/jvm)"
  echo "$best"
}
JAVA="$(find_java)"
JAVA_HOME_FOUND="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"

# ---------------------------------------------------------------- processes and cleanup
STARTED=()   # pids of every process started here
cleanup() {
  local pid
  for pid in "${STARTED[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${STARTED[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop() {  # stop one started process (TERM, then KILL after 5 s)
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

TAKEN=" "
free_port() {  # a free TCP port on 127.0.0.1 in 20000-59999, not handed out before in this run
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    [[ "$TAKEN" == *" $p "* ]] && continue
    if [[ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]]; then TAKEN+="$p "; echo "$p"; return; fi
  done
  die "no free port found"
}

wait_http() {  # wait_http URL NAME PID: until URL answers 200, at most 60 s
  local url="$1" name="$2" pid="$3"
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || die "$name exited while starting; see $OUT/$name.log"
    [[ "$(curl -sk -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)" == 200 ]] && return 0
    sleep 0.1
  done
  die "$name did not answer 200 on $url within 60 s; see $OUT/$name.log"
}

cpu_ticks() {  # utime+stime (clock ticks) of the given pids
  local t=0 pid
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    # Fields after the parenthesised command name: state is $1, utime $12, stime $13.
    t=$((t + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  echo "$t"
}

# ---------------------------------------------------------------- build and prepare
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$ROOT/bench/results/$STAMP"
mkdir -p "$OUT/certs" "$OUT/nginx/tmp"
log "results in $OUT"

log "building h3relay (if needed)"
"$ROOT/h3relay" --version >"$OUT/h3relay-version.txt" 2>"$OUT/build.log" || { cat "$OUT/build.log" >&2; die "build failed"; }
if [[ ! -f "$ROOT/h3relay-testing/target/classes/io/h3relay/testing/TestEndpointMain.class" ]]; then
  (cd "$ROOT" && JAVA_HOME="$JAVA_HOME_FOUND" mvn -q -B -DskipTests install -pl h3relay-testing) >>"$OUT/build.log" 2>&1
fi
(cd "$ROOT" && JAVA_HOME="$JAVA_HOME_FOUND" mvn -q -B dependency:build-classpath -pl h3relay-testing \
  -Dmdep.includeScope=runtime -Dmdep.outputFile="$OUT/classpath.txt") >>"$OUT/build.log" 2>&1 \
  || { cat "$OUT/build.log" >&2; die "mvn dependency:build-classpath failed"; }
CLASSPATH_ENDPOINT="$ROOT/h3relay-testing/target/classes:$(cat "$OUT/classpath.txt")"
"$ROOT/h3relay" cert --host localhost --host 127.0.0.1 --out "$OUT/certs" >"$OUT/cert.log" 2>&1
CRT="$OUT/certs/localhost.crt" KEY="$OUT/certs/localhost.key"

EP_PORT=$(free_port) RELAY_H1=$(free_port) RELAY_TLS=$(free_port) RELAY_ADMIN=$(free_port)
NGINX_H1=$(free_port) NGINX_TLS=$(free_port)

# ---------------------------------------------------------------- the endpoint
"$JAVA" -cp "$CLASSPATH_ENDPOINT" io.h3relay.testing.TestEndpointMain --port "$EP_PORT" --name bench \
  >"$OUT/endpoint.log" 2>&1 &
EP_PID=$!; STARTED+=("$EP_PID")
wait_http "http://127.0.0.1:$EP_PORT/" endpoint "$EP_PID"
log "endpoint on 127.0.0.1:$EP_PORT (pid $EP_PID)"

# ---------------------------------------------------------------- h3relay
cat >"$OUT/h3relay.yaml" <<EOF
# generated by bench/run.sh
admin:
  address: 127.0.0.1:$RELAY_ADMIN
listeners:
  - name: plain
    address: 127.0.0.1:$RELAY_H1
    protocols: [http1]
  - name: tls
    address: 127.0.0.1:$RELAY_TLS
    protocols: [http1, http2]
    tls:
      certificate: certs/localhost.crt
      private_key: certs/localhost.key
routes:
  - name: all
    match: { path_prefix: / }
    cluster: endpoint
clusters:
  - name: endpoint
    endpoints:
      - address: 127.0.0.1:$EP_PORT
observability:
  logging:
    level: warn      # the access log is logger h3relay.access at INFO: off for the run
EOF
RELAY_OPTS="${H3RELAY_JAVA_OPTS:-}"
((PROFILE)) && RELAY_OPTS+=" -XX:StartFlightRecording=filename=$OUT/h3relay.jfr,settings=profile"
H3RELAY_JAVA_OPTS="$RELAY_OPTS" "$ROOT/h3relay" serve -c "$OUT/h3relay.yaml" >"$OUT/h3relay.log" 2>&1 &
RELAY_PID=$!; STARTED+=("$RELAY_PID")
wait_http "http://127.0.0.1:$RELAY_H1/" h3relay "$RELAY_PID"
log "h3relay on 127.0.0.1:$RELAY_H1 (h1), 127.0.0.1:$RELAY_TLS (TLS h1+h2) (pid $RELAY_PID)"

# ---------------------------------------------------------------- nginx
N="$OUT/nginx"
cat >"$N/nginx.conf" <<EOF
# generated by bench/run.sh; worker_processes = the cores h3relay uses (its event loops = nproc)
worker_processes $(nproc);
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
      proxy_set_header Connection "";
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
      proxy_set_header Connection "";
    }
  }
}
EOF
"$NGINX" -t -q -c "$N/nginx.conf" -e "$N/error.log" 2>"$N/test.log" || { cat "$N/test.log" >&2; die "nginx rejected $N/nginx.conf"; }
"$NGINX" -c "$N/nginx.conf" -e "$N/error.log" -g 'daemon off;' >"$OUT/nginx.log" 2>&1 &
NGINX_PID=$!; STARTED+=("$NGINX_PID")
wait_http "http://127.0.0.1:$NGINX_H1/" nginx "$NGINX_PID"
log "nginx on 127.0.0.1:$NGINX_H1 (h1), 127.0.0.1:$NGINX_TLS (TLS h1+h2) (pid $NGINX_PID)"

proxy_pids() {  # the processes doing a target's work (nginx: master and workers)
  case "$1" in
    direct) echo "$EP_PID" ;;
    h3relay) echo "$RELAY_PID" ;;
    nginx) echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')" ;;
  esac
}

# ---------------------------------------------------------------- runs
RESULTS="$OUT/results.tsv"   # one line per round, target and protocol
printf 'round\ttarget\tproto\treq_s\tp50_ms\tp99_ms\terrors\tproxy_cpu_us_per_req\tendpoint_cpu_us_per_req\tloadavg1\n' >"$RESULTS"
TICK=$(getconf CLK_TCK)

to_ms() {  # wrk latency "572.00us" / "3.21ms" / "1.02s" -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

measure() {  # measure ROUND TARGET PROTO URL (warm-up in round 1 only)
  local round="$1"; shift
  local target="$1" proto="$2" url="$3" raw="$OUT/$1-$2-r$round" pids warm=0 p0 e0 p1 e1 rps p50 p99 errors total
  # shellcheck disable=SC2207
  pids=($(proxy_pids "$target"))
  ((round == 1)) && warm=$WARMUP
  if [[ "$proto" == h1 ]]; then
    ((warm > 0)) && wrk -t1 -c"$CONNECTIONS" -d"${warm}s" "$url" >"$raw.warmup.txt" 2>&1
    p0=$(cpu_ticks "${pids[@]}"); e0=$(cpu_ticks "$EP_PID")
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url" >"$raw.txt" 2>&1
    p1=$(cpu_ticks "${pids[@]}"); e1=$(cpu_ticks "$EP_PID")
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$raw.txt")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$raw.txt")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$raw.txt")")
    total=$(awk '/requests in/ {print $1}' "$raw.txt")
    errors=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$raw.txt")
  else
    ((warm > 0)) && h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" -t1 -D"$warm" "$url" >"$raw.warmup.txt" 2>&1
    p0=$(cpu_ticks "${pids[@]}"); e0=$(cpu_ticks "$EP_PID")
    h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" -t1 -D"$DURATION" --log-file="$raw.log.tsv" "$url" >"$raw.txt" 2>&1
    p1=$(cpu_ticks "${pids[@]}"); e1=$(cpu_ticks "$EP_PID")
    rps=$(awk '/^finished in/ {gsub(/,/, ""); print $4}' "$raw.txt")
    # h2load prints no percentiles: take them from its per-request log (3rd column: microseconds
    # from request start to the end of the response), successful (2xx) requests only.
    read -r p50 p99 < <(awk -F'\t' '$2 >= 200 && $2 < 300 {print $3}' "$raw.log.tsv" | sort -n | awk '
      { v[NR] = $1 } END { if (NR == 0) { print "nan nan"; exit }
        i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
        printf "%.3f %.3f\n", v[i50] / 1000, v[i99] / 1000 }')
    total=$(awk '/^requests:/ {print $8}' "$raw.txt")
    errors=$(awk '/^requests:/ {gsub(/,/, ""); print $10 + $12 + $14}' "$raw.txt")
    [[ -n "$rps" ]] || die "h2load produced no result for $target; see $raw.txt"
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

log "h1: wrk -t1 -c$CONNECTIONS; h2: h2load -c$H2_CLIENTS -m$H2_STREAMS over TLS; ${WARMUP}s warm-up, then $ROUNDS x ${DURATION}s"
for round in $(seq "$ROUNDS"); do
  measure "$round" direct h1 "http://127.0.0.1:$EP_PORT/"
  measure "$round" h3relay h1 "http://127.0.0.1:$RELAY_H1/"
  measure "$round" nginx h1 "http://127.0.0.1:$NGINX_H1/"
  measure "$round" h3relay h2 "https://127.0.0.1:$RELAY_TLS/"
  measure "$round" nginx h2 "https://127.0.0.1:$NGINX_TLS/"
done

# ---------------------------------------------------------------- report
if ((PROFILE)); then
  stop "$RELAY_PID"   # JFR writes the recording on exit
  JFR="$JAVA_HOME_FOUND/bin/jfr"
  if [[ -f "$OUT/h3relay.jfr" && -x "$JFR" ]]; then
    "$JFR" view --width 200 hot-methods "$OUT/h3relay.jfr" >"$OUT/hot-methods.txt" 2>&1 || true
    "$JFR" summary "$OUT/h3relay.jfr" >"$OUT/jfr-summary.txt" 2>&1 || true
    log "profile: $OUT/h3relay.jfr, hot methods in $OUT/hot-methods.txt"
  fi
fi

median() {  # median COLUMN TARGET PROTO over the rounds in $RESULTS
  awk -F'\t' -v c="$1" -v t="$2" -v p="$3" 'NR > 1 && $2 == t && $3 == p {print $c}' "$RESULTS" | sort -g \
    | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
             else if (v[NR / 2] == "-") print "-"; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
MEDIANS="$OUT/medians.tsv"
: >"$MEDIANS"
for tp in direct:h1 h3relay:h1 nginx:h1 h3relay:h2 nginx:h2; do
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
} >"$OUT/summary.md"

cat >"$OUT/run.txt" <<EOF
date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
command: bench/run.sh --duration $DURATION --warmup $WARMUP --rounds $ROUNDS --connections $CONNECTIONS --h2-clients $H2_CLIENTS --h2-streams $H2_STREAMS$( ((PROFILE)) && echo " --profile")
nproc: $(nproc)
cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
kernel: $(uname -r)
java: $("$JAVA" -version 2>&1 | head -1)
h3relay: $(tail -1 "$OUT/h3relay-version.txt")
nginx: $("$NGINX" -v 2>&1)
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
