#!/usr/bin/env bash
# bench/run-h3.sh: one HTTP/3 benchmark run of h3relay against Caddy, both proxying the same test endpoint.
#
#   bench/H3Load.java ──h3──► h3relay (TLS listener, UDP) ─┐
#                     ──h3──► caddy   (quic-go, UDP) ──────┼─h1─► the same TestEndpoint process
#   h2load ──────────h2/TLS─► h3relay (same listener, TCP) ┘
#
# Same concurrency for every target (connections x streams per connection), one after the other in this
# run, in interleaved rounds (the table shows the median of the rounds). Ratios: h3relay h3 / caddy h3
# and h3relay h3 / h3relay h2. Everything listens on 127.0.0.1 only; every process started here is
# stopped on exit.
# Usage: bench/run-h3.sh [--duration S] [--warmup S] [--round-warmup S] [--rounds N]
#          [--connections N] [--streams N] [--profile] [--install]    (see bench/README.md)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=10      # seconds measured per target
WARMUP=30        # seconds of the same load per target before round 1: h3relay's h3 path needed more than 15 s
ROUND_WARMUP=10  # seconds of load before each later measurement: H3Load is a fresh JVM every time, and its
                 # own JIT needs ~10 s (with 3 s it used twice the CPU per request and measured ~25% less)
ROUNDS=3         # rounds over all targets; a busy neighbour then hurts every target alike
CONNECTIONS=4    # connections per target
STREAMS=16       # concurrent streams per connection
PROFILE=0        # 1: run h3relay under JFR and summarise the hot methods
INSTALL=0        # 1: apt-get install missing packages (root only)

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while (($#)); do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --round-warmup) ROUND_WARMUP="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --streams) STREAMS="$2"; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --install) INSTALL=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "run-h3.sh: unknown argument: $1" >&2; usage 2 ;;
  esac
done
for v in DURATION WARMUP ROUND_WARMUP ROUNDS CONNECTIONS STREAMS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "run-h3.sh: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((DURATION >= 1 && DURATION <= 600)) || { echo "run-h3.sh: --duration must be 1-600 seconds" >&2; exit 2; }
((ROUNDS >= 1 && ROUNDS <= 20)) || { echo "run-h3.sh: --rounds must be 1-20" >&2; exit 2; }
((WARMUP <= 600 && ROUND_WARMUP <= 600)) || { echo "run-h3.sh: warm-ups must be 0-600 seconds" >&2; exit 2; }
((CONNECTIONS >= 1 && CONNECTIONS <= 1000)) || { echo "run-h3.sh: --connections must be 1-1000" >&2; exit 2; }
((STREAMS >= 1 && STREAMS <= 100)) || { echo "run-h3.sh: --streams must be 1-100" >&2; exit 2; }

log() { printf '[bench-h3 %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'run-h3.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
check_tools() {
  # command:Debian package
  local pairs=(h2load:nghttp2-client caddy:caddy curl:curl mvn:maven ss:iproute2)
  local missing=() p cmd
  for p in "${pairs[@]}"; do
    cmd="${p%%:*}"
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${p#*:}")
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
# The driver's JVM gets the launcher's options (quiet native access, no leak detector, fast Unsafe paths).
DRIVER_OPTS=(--enable-native-access=ALL-UNNAMED -Dio.netty.leakDetection.level=disabled)
(( $(java_major "$JAVA") >= 23 )) && DRIVER_OPTS+=(--sun-misc-unsafe-memory-access=allow)
# shellcheck disable=SC2206
DRIVER_OPTS+=(${H3LOAD_JAVA_OPTS:-})

# ---------------------------------------------------------------- processes and cleanup
STARTED=()   # pids of every process started here
stop() {  # stop one started process (TERM, then KILL after 5 s)
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() { local pid; for pid in "${STARTED[@]}"; do stop "$pid"; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

TAKEN=" "
free_port() {  # a port free for both TCP and UDP on 127.0.0.1 in 20000-59999, not handed out before
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    [[ "$TAKEN" == *" $p "* ]] && continue
    if [[ -z "$(ss -Htuan "( sport = :$p )" 2>/dev/null)" ]]; then TAKEN+="$p "; echo "$p"; return; fi
  done
  die "no free port found"
}

wait_http() {  # wait_http URL NAME PID: until URL answers 200 (over TCP), at most 60 s
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
    t=$((t + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  echo "$t"
}

# ---------------------------------------------------------------- build and prepare
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$ROOT/bench/results/h3-$STAMP"
mkdir -p "$OUT/certs" "$OUT/caddy"
log "results in $OUT"

log "building h3relay (if needed)"
"$ROOT/h3relay" --version >"$OUT/h3relay-version.txt" 2>"$OUT/build.log" || { cat "$OUT/build.log" >&2; die "build failed"; }
if [[ ! -f "$ROOT/h3relay-testing/target/classes/io/h3relay/testing/TestEndpointMain.class" ]]; then
  (cd "$ROOT" && JAVA_HOME="$JAVA_HOME_FOUND" mvn -q -B -DskipTests install -pl h3relay-testing) >>"$OUT/build.log" 2>&1
fi
(cd "$ROOT" && JAVA_HOME="$JAVA_HOME_FOUND" mvn -q -B dependency:build-classpath -pl h3relay-testing \
  -Dmdep.includeScope=runtime -Dmdep.outputFile="$OUT/classpath.txt") >>"$OUT/build.log" 2>&1 \
  || { cat "$OUT/build.log" >&2; die "mvn dependency:build-classpath failed"; }
CLASSPATH_TESTING="$ROOT/h3relay-testing/target/classes:$(cat "$OUT/classpath.txt")"
"$ROOT/h3relay" cert --host localhost --host 127.0.0.1 --out "$OUT/certs" >"$OUT/cert.log" 2>&1
CRT="$OUT/certs/localhost.crt" KEY="$OUT/certs/localhost.key"

EP_PORT=$(free_port) RELAY_TLS=$(free_port) RELAY_ADMIN=$(free_port) CADDY_TLS=$(free_port)

# ---------------------------------------------------------------- the endpoint
"$JAVA" -cp "$CLASSPATH_TESTING" io.h3relay.testing.TestEndpointMain --port "$EP_PORT" --name bench \
  >"$OUT/endpoint.log" 2>&1 &
EP_PID=$!; STARTED+=("$EP_PID")
wait_http "http://127.0.0.1:$EP_PORT/" endpoint "$EP_PID"
log "endpoint on 127.0.0.1:$EP_PORT (pid $EP_PID)"

# ---------------------------------------------------------------- h3relay: one TLS listener, TCP (h1, h2) and UDP (h3)
cat >"$OUT/h3relay.yaml" <<EOF
# generated by bench/run-h3.sh
admin:
  address: 127.0.0.1:$RELAY_ADMIN
listeners:
  - name: tls
    address: 127.0.0.1:$RELAY_TLS
    protocols: [http1, http2, http3]
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
wait_http "https://127.0.0.1:$RELAY_TLS/" h3relay "$RELAY_PID"
log "h3relay on 127.0.0.1:$RELAY_TLS (TCP h1+h2, UDP h3) (pid $RELAY_PID)"

# ---------------------------------------------------------------- caddy: the same shape
C="$OUT/caddy"
cat >"$C/Caddyfile" <<EOF
# generated by bench/run-h3.sh
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
	reverse_proxy 127.0.0.1:$EP_PORT {
		transport http {
			keepalive_idle_conns_per_host 64
		}
	}
}
EOF
# Caddy keeps state under XDG dirs / HOME: keep it in the results dir. `env` execs caddy, so $! is
# caddy's own pid (a shell function here would put a subshell in between that `stop` cannot see past).
CADDY_ENV=(env HOME="$C" XDG_DATA_HOME="$C/data" XDG_CONFIG_HOME="$C/config")
"${CADDY_ENV[@]}" caddy adapt --config "$C/Caddyfile" --adapter caddyfile >"$C/caddy.json" 2>"$C/adapt.log" \
  || { cat "$C/adapt.log" >&2; die "caddy rejected $C/Caddyfile"; }
"${CADDY_ENV[@]}" caddy run --config "$C/caddy.json" >"$OUT/caddy.log" 2>&1 &
CADDY_PID=$!; STARTED+=("$CADDY_PID")
wait_http "https://127.0.0.1:$CADDY_TLS/" caddy "$CADDY_PID"
log "caddy on 127.0.0.1:$CADDY_TLS (TCP h1+h2, UDP h3) (pid $CADDY_PID)"

# ---------------------------------------------------------------- load generators
h3load() {  # h3load ARGS...: bench/H3Load.java with the given arguments, output on stdout
  "$JAVA" "${DRIVER_OPTS[@]}" -cp "$CLASSPATH_TESTING" "$ROOT/bench/H3Load.java" \
    --connections "$CONNECTIONS" --streams "$STREAMS" --ca "$CRT" "$@"
}

# Both proxies must answer over h3 before anything is measured (H3Load exits non-zero otherwise).
for t in "h3relay:$RELAY_TLS" "caddy:$CADDY_TLS"; do
  h3load --url "https://127.0.0.1:${t#*:}/" --duration 1 >"$OUT/${t%%:*}-h3-check.txt" 2>&1 \
    || { cat "$OUT/${t%%:*}-h3-check.txt" >&2; die "${t%%:*} does not answer over HTTP/3"; }
  grep -q ' errors=0 ' "$OUT/${t%%:*}-h3-check.txt" || { cat "$OUT/${t%%:*}-h3-check.txt" >&2; die "${t%%:*}: errors over HTTP/3"; }
done
log "both proxies answer over HTTP/3"

proxy_pid() { case "$1" in h3relay) echo "$RELAY_PID" ;; caddy) echo "$CADDY_PID" ;; esac; }

# ---------------------------------------------------------------- runs
RESULTS="$OUT/results.tsv"   # one line per round, target and protocol
printf 'round\ttarget\tproto\treq_s\tp50_ms\tp99_ms\terrors\tproxy_cpu_us_per_req\tloadgen_cpu_us_per_req\tendpoint_cpu_us_per_req\tloadavg1\n' >"$RESULTS"
TICK=$(getconf CLK_TCK)
TIMEFORMAT='%U %S'   # bash's `time` (h2load only): user and system seconds of the load generator

measure() {  # measure ROUND TARGET PROTO URL
  local round="$1" target="$2" proto="$3" url="$4" raw="$OUT/$2-$3-r$1" pid warm p0 e0 p1 e1 rps p50 p99 errors total lg pt lt et
  pid=$(proxy_pid "$target")
  warm=$ROUND_WARMUP; ((round == 1)) && warm=$WARMUP
  if [[ "$proto" == h3 ]]; then
    # The driver warms up in its own process (its JIT as well as the proxy's), then measures, and reads
    # the CPU of itself, the proxy and the endpoint at the window's edges (so not the warm-up's).
    h3load --url "$url" --warmup "$warm" --duration "$DURATION" --cpu "proxy=$pid" --cpu "endpoint=$EP_PID" \
      >"$raw.txt" 2>"$raw.err" || { cat "$raw.err" >&2; die "H3Load failed against $target; see $raw.err"; }
    read -r rps p50 p99 errors total pt lt et < <(tr ' ' '\n' <"$raw.txt" | awk -F= '{ v[$1] = $2 } END {
      print v["req_s"], v["p50_ms"], v["p99_ms"], v["errors"], v["requests"], v["cpu_ticks.proxy"], v["cpu_ticks.self"], v["cpu_ticks.endpoint"] }')
    p0=0 p1=$pt e0=0 e1=$et
    lg=$(awk -v t="$lt" -v k="$TICK" -v n="$total" 'BEGIN { printf "%.1f", t / k * 1e6 / n }')
  else
    ((warm > 0)) && h2load -c"$CONNECTIONS" -m"$STREAMS" -t1 -D"$warm" "$url" >"$raw.warmup.txt" 2>&1
    p0=$(cpu_ticks "$pid"); e0=$(cpu_ticks "$EP_PID")
    { time h2load -c"$CONNECTIONS" -m"$STREAMS" -t1 -D"$DURATION" --log-file="$raw.log.tsv" "$url" >"$raw.txt" 2>&1; } 2>"$raw.time"
    # (bash's `time`: h2load's user and system seconds, whole run = the measured window)
    p1=$(cpu_ticks "$pid"); e1=$(cpu_ticks "$EP_PID")
    rps=$(awk '/^finished in/ {gsub(/,/, ""); print $4}' "$raw.txt")
    # h2load prints no percentiles: take them from its per-request log (3rd column: microseconds from
    # request start to the end of the response), successful (2xx) requests only.
    read -r p50 p99 < <(awk -F'\t' '$2 >= 200 && $2 < 300 {print $3}' "$raw.log.tsv" | sort -n | awk '
      { v[NR] = $1 } END { if (NR == 0) { print "nan nan"; exit }
        i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
        printf "%.3f %.3f\n", v[i50] / 1000, v[i99] / 1000 }')
    total=$(awk '/^requests:/ {print $8}' "$raw.txt")
    errors=$(awk '/^requests:/ {gsub(/,/, ""); print $10 + $12 + $14}' "$raw.txt")
    lg=$(awk -v n="$total" '{ printf "%.1f", ($1 + $2) * 1e6 / n }' "$raw.time")
  fi
  [[ -n "$rps" && -n "$total" && "$total" -gt 0 ]] || die "no result for $target $proto; see $raw.txt"
  local pcpu ecpu
  pcpu=$(awk -v a="$p0" -v b="$p1" -v t="$TICK" -v n="$total" 'BEGIN { printf "%.1f", (b - a) / t * 1e6 / n }')
  ecpu=$(awk -v a="$e0" -v b="$e1" -v t="$TICK" -v n="$total" 'BEGIN { printf "%.1f", (b - a) / t * 1e6 / n }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$proto" "$rps" "$p50" "$p99" "$errors" \
    "$pcpu" "$lg" "$ecpu" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RESULTS"
  log "round $round: $target $proto: $rps req/s, p50 ${p50} ms, p99 ${p99} ms, errors $errors"
}

log "h3: H3Load, h2: h2load over TLS; $CONNECTIONS connections x $STREAMS streams; ${WARMUP}s warm-up, then $ROUNDS x ${DURATION}s (${ROUND_WARMUP}s warm-up each)"
for round in $(seq "$ROUNDS"); do
  measure "$round" h3relay h3 "https://127.0.0.1:$RELAY_TLS/"
  measure "$round" caddy h3 "https://127.0.0.1:$CADDY_TLS/"
  measure "$round" h3relay h2 "https://127.0.0.1:$RELAY_TLS/"
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
             else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
MEDIANS="$OUT/medians.tsv"
: >"$MEDIANS"
for tp in h3relay:h3 caddy:h3 h3relay:h2; do
  t="${tp%:*}" p="${tp#*:}"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$p" "$(median 4 "$t" "$p")" "$(median 5 "$t" "$p")" \
    "$(median 6 "$t" "$p")" "$(awk -F'\t' -v t="$t" -v p="$p" '$2 == t && $3 == p {n += $7} END {print n + 0}' "$RESULTS")" \
    "$(median 8 "$t" "$p")" "$(median 9 "$t" "$p")" "$(median 10 "$t" "$p")" >>"$MEDIANS"
done

{
  echo "| target | proto | load generator | req/s | p50 (ms) | p99 (ms) | errors | proxy CPU µs/req | load generator CPU µs/req | endpoint CPU µs/req |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '{ printf "| %s | %s | %s | %.0f | %.2f | %.2f | %s | %s | %s | %s |\n", $1, ($2 == "h2" ? "h2/TLS" : $2),
                 ($2 == "h3" ? "H3Load" : "h2load"), $3, $4, $5, $6, $7, $8, $9 }' "$MEDIANS"
  echo
  awk -F'\t' '{ r[$1 ":" $2] = $3; q[$1 ":" $2] = $5 }
    END {
      printf "- h3relay h3 / caddy h3: req/s **%.2fx** (target >= 1.5x), p99 %.2fx\n", r["h3relay:h3"] / r["caddy:h3"], q["h3relay:h3"] / q["caddy:h3"]
      printf "- h3relay h3 / h3relay h2: req/s **%.2fx** (target >= 0.5x), p99 %.2fx\n", r["h3relay:h3"] / r["h3relay:h2"], q["h3relay:h3"] / q["h3relay:h2"]
    }' "$MEDIANS"
  # The ratio of medians can differ from the median of the per-round ratios: show every round's.
  awk -F'\t' 'NR > 1 { r[$1, $2 ":" $3] = $4; n = ($1 > n ? $1 : n) }
    END {
      a = ""; b = ""
      for (i = 1; i <= n; i++) {
        a = a sprintf("%s%.2fx", i > 1 ? ", " : "", r[i, "h3relay:h3"] / r[i, "caddy:h3"])
        b = b sprintf("%s%.2fx", i > 1 ? ", " : "", r[i, "h3relay:h3"] / r[i, "h3relay:h2"])
      }
      printf "- per round: h3relay h3 / caddy h3 %s; h3relay h3 / h3relay h2 %s\n", a, b
    }' "$RESULTS"
} >"$OUT/summary.md"

cat >"$OUT/run.txt" <<EOF
date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
command: bench/run-h3.sh --duration $DURATION --warmup $WARMUP --round-warmup $ROUND_WARMUP --rounds $ROUNDS --connections $CONNECTIONS --streams $STREAMS$( ((PROFILE)) && echo " --profile")
nproc: $(nproc)
cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
kernel: $(uname -r)
java: $("$JAVA" -version 2>&1 | head -1)
h3relay: $(tail -1 "$OUT/h3relay-version.txt")
caddy: $(caddy version 2>&1 | head -1)
h2load: $(h2load --version 2>&1 | head -1)
tls (h2load, h3relay): $(grep -E '^(TLS Protocol|Cipher)' "$OUT/h3relay-h2-r1.txt" | tr '\n' ' ')
medians of: $ROUNDS rounds (per round: $OUT/results.tsv)
load average at end: $(cut -d' ' -f1-3 /proc/loadavg)
EOF

echo
cat "$OUT/run.txt"
echo
echo "markdown ($OUT/summary.md):"
echo
cat "$OUT/summary.md"
