# bench/lib.sh: what the bench/ scripts share. Sourced, not run.
# The caller sets ROOT, BENCH_NAME (for messages) and INSTALL (1: apt-get install missing packages),
# and later OUT (its results folder).

# Benchmarks compare steady states: no AOT cache training (./h3relay trains one on a first `serve`) in a measured run.
export H3RELAY_AOT="${H3RELAY_AOT:-0}"

log() { printf '[%s %s] %s\n' "$BENCH_NAME" "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; exit 1; }

# check_tools COMMAND:PACKAGE...: dies naming the missing Debian packages, or installs them with --install.
check_tools() {
  local missing=() p cmd
  for p in "$@"; do
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

# ---------------------------------------------------------------- processes and cleanup
STARTED=()   # pids of every process started here
AT_EXIT=()   # commands (function names) cleanup runs after the processes have stopped, e.g. removing a worktree
stop() {  # stop one started process (TERM, then KILL after 5 s)
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {  # TERM to all first, so they stop side by side
  local pid
  for pid in "${STARTED[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${STARTED[@]}"; do stop "$pid"; done
  local f
  for f in "${AT_EXIT[@]}"; do "$f" || true; done
}
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
    # Fields after the parenthesised command name: state is $1, utime $12, stime $13.
    t=$((t + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  echo "$t"
}

# prepare_build: builds h3relay if needed, the test fixtures' classpath (CLASSPATH_TESTING) and a
# certificate for localhost (CRT, KEY) in $OUT.
prepare_run() {  # prepare_run PREFIX [SUBDIR...]: the JDK (JAVA, JAVA_HOME_FOUND), the results folder
                 # bench/results/<PREFIX><UTC stamp> (OUT, STAMP) with its subfolders, then prepare_build
  JAVA="$(find_java)"
  JAVA_HOME_FOUND="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"
  STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
  OUT="$ROOT/bench/results/$1$STAMP"
  shift
  mkdir -p "$OUT"
  local d
  for d in "$@"; do mkdir -p "$OUT/$d"; done
  log "results in $OUT"
  prepare_build
}
prepare_build() {
  log "building h3relay (if needed)"
  "$ROOT/h3relay" --version >"$OUT/h3relay-version.txt" 2>"$OUT/build.log" \
    || { cat "$OUT/build.log" >&2; die "build failed"; }
  # compile with -am: h3relay-testing's classpath then names h3relay-client's target/classes (a
  # reactor module, not taken from ~/.m2); the output file of the last module, h3relay-testing, wins.
  (cd "$ROOT" && JAVA_HOME="$JAVA_HOME_FOUND" mvn -q -B compile dependency:build-classpath -pl h3relay-testing -am \
    -Dmdep.includeScope=runtime -Dmdep.outputFile="$OUT/classpath.txt") >>"$OUT/build.log" 2>&1 \
    || { cat "$OUT/build.log" >&2; die "mvn dependency:build-classpath failed"; }
  CLASSPATH_TESTING="$ROOT/h3relay-testing/target/classes:$(cat "$OUT/classpath.txt")"
  mkdir -p "$OUT/certs"
  "$ROOT/h3relay" cert --host localhost --host 127.0.0.1 --out "$OUT/certs" >"$OUT/cert.log" 2>&1
  CRT="$OUT/certs/localhost.crt" KEY="$OUT/certs/localhost.key"
}

# start_endpoint PORT: the shared test endpoint (EP_PID), up and answering. A caller may set PIN_ENDPOINT
# to a command prefix such as (taskset -c 0), and PIN_LOAD (pair_load's load generator) the same way.
PIN_ENDPOINT=() PIN_LOAD=()
start_endpoint() {
  "${PIN_ENDPOINT[@]}" "$JAVA" -cp "$CLASSPATH_TESTING" io.h3relay.testing.TestEndpointMain --port "$1" --name bench \
    >"$OUT/endpoint.log" 2>&1 &
  EP_PID=$!; STARTED+=("$EP_PID")
  wait_http "http://127.0.0.1:$1/" endpoint "$EP_PID"
  log "endpoint on 127.0.0.1:$1 (pid $EP_PID)"
}

# target_pids TARGET: the processes of a compared target, from the start_* functions' *_PID variables (nginx: its
# master and its workers); nothing for direct or an unknown name.
target_pids() {
  case "$1" in
    h3relay) echo "${RELAY_PID:-}" ;;
    nginx) echo "${NGINX_PID:-} $(pgrep -P "${NGINX_PID:-0}" | tr '\n' ' ')" ;;
    haproxy) echo "${HAPROXY_PID:-}" ;;
    caddy) echo "${CADDY_PID:-}" ;;
  esac
}

# start_nginx PORT SERVER_BODY CHECK_PATH [PIN...]: nginx with one worker and one server on PORT (SERVER_BODY: the
# directives after `listen`), its files in $OUT/nginx (NGINX_PID), up and answering CHECK_PATH; the optional words
# after it are a command prefix (a taskset).
start_nginx() {
  local port="$1" server="$2" check="$3"; shift 3
  mkdir -p "$OUT/nginx"
  cat >"$OUT/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:$port; keepalive_requests 10000000; $server }
}
NGINX
  "$@" nginx -c "$OUT/nginx/nginx.conf" -p "$OUT/nginx" >"$OUT/nginx.log" 2>&1 &
  NGINX_PID=$!; STARTED+=("$NGINX_PID")
  wait_http "http://127.0.0.1:$port$check" nginx "$NGINX_PID"
}

# start_nginx_return200 PORT [PIN...]: nginx answering every request with a short 200 itself (start_nginx).
start_nginx_return200() {
  local port="$1"; shift
  start_nginx "$port" 'location / { return 200 "hello from nginx\n"; }' / "$@"
}

# start_nginx_file PORT BYTES [PIN...]: nginx serving /body.bin, a static file of BYTES bytes (start_nginx).
start_nginx_file() {
  local port="$1" bytes="$2"; shift 2
  mkdir -p "$OUT/nginx/www"
  head -c "$bytes" /dev/zero | tr '\0' 'x' >"$OUT/nginx/www/body.bin"
  start_nginx "$port" "root $OUT/nginx/www;" /body.bin "$@"
}

# plain_relay_yaml FILE H1_PORT ADMIN_PORT: h3relay's config for one plaintext h1 listener proxying everything to the
# endpoint on $EP_PORT, telemetry off (relay_routes_yaml off): the cost scripts' set-up.
plain_relay_yaml() {
  { printf '# generated by bench/%s\nadmin:\n  address: 127.0.0.1:%s\nlisteners:\n' "$BENCH_NAME" "$3"
    printf '  - name: plain\n    address: 127.0.0.1:%s\n    protocols: [http1]\n' "$2"
    relay_routes_yaml off; } >"$1"
}

# ---------------------------------------------------------------- shared by the report sections

# The observability block of h3relay's config: all off (like nginx's access_log off), all on, or only
# metrics / only the access log (run.sh's --telemetry both-metrics / both-access-log tell their costs apart).
# The access log goes to $ACCESS_LOG when the caller sets it, else to access.log in the results folder.
telemetry_yaml() {  # telemetry_yaml on|off|metrics|access-log
  local metrics=false log=off
  [[ "$1" == on || "$1" == metrics ]] && metrics=true
  [[ "$1" == on || "$1" == access-log ]] && log="${ACCESS_LOG:-$OUT/access.log}"
  if [[ "$log" == off ]]; then
    printf '  metrics: { enabled: %s }\n  access_log: { path: "off" }\n' "$metrics"
  else
    printf '  metrics: { enabled: %s }\n  access_log: { path: "%s", format: json }\n' "$metrics" "$log"
  fi
}

# What every benchmark's h3relay has after its listeners: one route to the endpoint on $EP_PORT, no log lines
# below warn, and the telemetry block of telemetry_yaml.
relay_routes_yaml() {  # relay_routes_yaml on|off|metrics|access-log
  cat <<EOF
routes:
  - name: all
    match: { path_prefix: / }
    cluster: endpoint
clusters:
  - name: endpoint
    endpoints:
      - address: 127.0.0.1:$EP_PORT
observability:
  logging: { level: warn }
$(telemetry_yaml "$1")
EOF
}

# h3relay for the h1/h2 benchmarks: a plaintext h1 listener, a TLS listener (h1 + h2), one route to the
# endpoint on $EP_PORT, no log lines below warn, and the telemetry block of telemetry_yaml.
tcp_relay_yaml() {  # tcp_relay_yaml H1_PORT TLS_PORT ADMIN_PORT on|off|metrics|access-log
  cat <<EOF
# generated by bench/$BENCH_NAME
admin:
  address: 127.0.0.1:$3
listeners:
  - name: plain
    address: 127.0.0.1:$1
    protocols: [http1]
  - name: tls
    address: 127.0.0.1:$2
    protocols: [http1, http2]
    tls:
      certificate: certs/localhost.crt
      private_key: certs/localhost.key
$(relay_routes_yaml "$4")
EOF
}

# load_result h1|h2|h3|ws FILE: "req/s requests errors" from wrk's (h1), h2load's (h2), h3relay bench --json's (h3)
# or ws_bench.js's (ws) output; "nan 0 0" when the run printed no result.
load_result() {
  if [[ "$1" == ws ]]; then   # bench/node/ws_bench.js's JSON line: messages/s, messages, errors
    sed -n 's/.*"messages":\([0-9]*\).*"msgs_per_s":\([0-9.]*\).*"errors":\([0-9]*\).*/\2 \1 \3/p' "$2" | tail -1 | grep . \
      || echo "nan 0 0"
  elif [[ "$1" == h3 ]]; then   # h3relay bench --json: req_per_s, requests, error_count
    tr ',{}' '\n\n\n' <"$2" | awk -F: '$1 == "\"req_per_s\"" {r = $2} $1 == "\"requests\"" {t = $2}
      $1 == "\"error_count\"" {e = $2} END {print (r == "" ? "nan" : r), t + 0, e + 0}'
  elif [[ "$1" == h1 ]]; then
    awk '/^Requests\/sec:/ {r = $2} /requests in/ {t = $1}
      /Non-2xx/ {e += $NF} /Socket errors/ {gsub(/,/, ""); e += $4 + $6 + $8 + $10}
      END {print (r == "" ? "nan" : r), t + 0, e + 0}' "$2"
  else
    awk '/^finished in/ {gsub(/,/, ""); r = $4} /^requests:/ {gsub(/,/, ""); t = $8; e = $10 + $12 + $14}
      END {print (r == "" ? "nan" : r), t + 0, e + 0}' "$2"
  fi
}

# load_percentiles h1|h2 FILE: "p50 p99" in ms: from wrk's --latency distribution (h1: its output), or from
# h2load's per-request --log-file (h2: 3rd column, µs from request start to the end of the response; 2xx
# responses only), since h2load prints no percentiles.
load_percentiles() {
  if [[ "$1" == h1 ]]; then
    echo "$(to_ms "$(awk '$1 == "50%" {print $2}' "$2")") $(to_ms "$(awk '$1 == "99%" {print $2}' "$2")")"
  else
    awk -F'\t' '$2 >= 200 && $2 < 300 {print $3}' "$2" 2>/dev/null | sort -n | awk '
      { v[NR] = $1 } END { if (NR == 0) { print "nan nan"; exit }
        printf "%.3f %.3f\n", v[int(NR * 0.50 + 0.999999)] / 1000, v[int(NR * 0.99 + 0.999999)] / 1000 }'
  fi
}

to_ms() {  # wrk latency "572.00us" / "3.21ms" / "1.02s" -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

median() {  # median COLUMN TARGET PROTO over the rounds in $RESULTS
  awk -F'\t' -v c="$1" -v t="$2" -v p="$3" 'NR > 1 && $2 == t && $3 == p {print $c}' "$RESULTS" | sort -g \
    | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
             else if (v[NR / 2] == "-") print "-"; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

report_profile() {  # with --profile: stop h3relay (JFR writes its recording on exit) and list its hot methods
  ((PROFILE)) || return 0
  stop "$RELAY_PID"
  JFR="$JAVA_HOME_FOUND/bin/jfr"
  if [[ -f "$OUT/h3relay.jfr" && -x "$JFR" ]]; then
    "$JFR" view --width 200 hot-methods "$OUT/h3relay.jfr" >"$OUT/hot-methods.txt" 2>&1 || true
    "$JFR" summary "$OUT/h3relay.jfr" >"$OUT/jfr-summary.txt" 2>&1 || true
    log "profile: $OUT/h3relay.jfr, hot methods in $OUT/hot-methods.txt"
  fi
}

telemetry_cost() {  # telemetry_cost PART PROTO...: h3relay-tel vs h3relay from $RESULTS and $MEDIANS (markdown lines)
  local part="$1" p; shift
  echo "Cost of telemetry ($part), h3relay-tel vs h3relay: the ratio of the median req/s; the median of"
  echo "the rounds' own ratios (each round measures the two back to back); proxy CPU per request:"
  for p in "$@"; do
    awk -F'\t' -v p="$p" '$3 == p && $2 == "h3relay" { off[$1] = $4 } $3 == p && $2 == "h3relay-tel" { on[$1] = $4 }
      END { for (r in on) if (off[r] > 0) print 1 - on[r] / off[r] }' "$RESULTS" | sort -g | awk -v p="$p" -v m="$MEDIANS" '
      { v[NR] = $1 } END {
        while ((getline line < m) > 0) { split(line, f, "\t"); if (f[2] == p) { rps[f[1]] = f[3]; cpu[f[1]] = f[7] } }
        med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "- %s: %.1f%% fewer req/s (ratio of medians); %.1f%% (median of %d rounds, from %.1f%% to %.1f%%); CPU %s -> %s µs/req\n",
          p, (1 - rps["h3relay-tel"] / rps["h3relay"]) * 100, med * 100, NR, v[1] * 100, v[NR] * 100, cpu["h3relay"], cpu["h3relay-tel"] }'
  done
}

measure_pair() {  # measure_pair ROUND PROTO OFF_URL ON_URL: h3relay, and (when $TEL_PID is set) h3relay-tel right
  # next to it; the two swap places every round, so a drift on the machine does not always hit the same one
  local round="$1" proto="$2" off="$3" on="$4"
  if [[ -n "$TEL_PID" ]] && ((round % 2 == 0)); then
    measure "$round" h3relay-tel "$proto" "$on"
    measure "$round" h3relay "$proto" "$off"
  else
    measure "$round" h3relay "$proto" "$off"
    if [[ -n "$TEL_PID" ]]; then measure "$round" h3relay-tel "$proto" "$on"; fi
  fi
}

# ---------------------------------------------------------------- paired short slices
# telemetry-cost.sh and build-cost.sh: two proxies, A and B, measured in many pairs of short slices right after
# each other, the order swapped every pair, so a drift in the cores' speed falls on both sides of a pair.
# The caller sets PAIRS, SLICE, WARMUP, CONNECTIONS, H2_CLIENTS, H2_STREAMS, PROFILE, EP_PID and OUT (for h3 also
# H3_CONNECTIONS, H3_STREAMS and CRT), and defines url_of TARGET PROTO (the URL) and pid_of TARGET (the proxy's JVM).

jfr_opts() {  # jfr_opts NAME: $H3RELAY_JAVA_OPTS, plus with --profile a JFR recording to $OUT/NAME.jfr
  if ((PROFILE)); then echo "${H3RELAY_JAVA_OPTS:-} -XX:StartFlightRecording=filename=$OUT/$1.jfr,settings=profile"
  else echo "${H3RELAY_JAVA_OPTS:-}"; fi
}

pair_load() {  # pair_load PROTO URL SECONDS RAW_FILE: one bounded run of the protocol's load generator
  # (grpc: h2load posting the framed gRPC message the caller put in $OUT/request.bin, as regress.sh does)
  if [[ "$1" == h1 ]]; then
    timeout $(($3 + 30)) "${PIN_LOAD[@]}" wrk -t1 -c"$CONNECTIONS" -d"${3}s" "$2" >"$4" 2>&1
  elif [[ "$1" == h3 ]]; then   # h3relay's own client over HTTP/3 (as run-h3.sh): H3_CONNECTIONS x H3_STREAMS
    timeout $(($3 + 60)) "${PIN_LOAD[@]}" "$ROOT/h3relay" bench --http3 -t 1 -c "$H3_CONNECTIONS" -m "$H3_STREAMS" \
      --cacert "$CRT" --json -d "${3}s" "$2" >"$4" 2>&1
  elif [[ "$1" == grpc ]]; then
    timeout $(($3 + 30)) "${PIN_LOAD[@]}" h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" -t1 -D"$3" -d "$OUT/request.bin" \
      -H 'content-type: application/grpc' -H 'te: trailers' "$2" >"$4" 2>&1
  else
    timeout $(($3 + 30)) "${PIN_LOAD[@]}" h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" -t1 -D"$3" "$2" >"$4" 2>&1
  fi
}

pair_init() {  # the table of slices: $OUT/slices.tsv (SLICES), and the clock ticks per second (TICK)
  SLICES="$OUT/slices.tsv"
  printf 'pair\ttarget\tproto\treq_s\trequests\terrors\tproxy_cpu_us_per_req\tendpoint_cpu_us_per_req\n' >"$SLICES"
  TICK=$(getconf CLK_TCK)
}

pair_slice() {  # pair_slice PAIR TARGET PROTO: one measured slice, appended to $SLICES
  local pair="$1" target="$2" proto="$3" raw="$OUT/$2-$3-p$1.txt" pid p0 e0 p1 e1 rps total errors
  pid=$(pid_of "$target")
  # shellcheck disable=SC2086 # pid_of may name several processes (nginx's workers): split on purpose
  p0=$(cpu_ticks $pid); e0=$(cpu_ticks "$EP_PID")
  pair_load "$proto" "$(url_of "$target" "$proto")" "$SLICE" "$raw" || die "load generator failed; see $raw"
  # shellcheck disable=SC2086
  p1=$(cpu_ticks $pid); e1=$(cpu_ticks "$EP_PID")
  read -r rps total errors < <(load_result "$proto" "$raw")
  [[ -n "$rps" && "$total" -gt 0 ]] || die "no result for $target $proto; see $raw"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$pair" "$target" "$proto" "$rps" "$total" "$errors" \
    "$(awk -v a="$p0" -v b="$p1" -v t="$TICK" -v n="$total" 'BEGIN { printf "%.1f", (b - a) / t * 1e6 / n }')" \
    "$(awk -v a="$e0" -v b="$e1" -v t="$TICK" -v n="$total" 'BEGIN { printf "%.1f", (b - a) / t * 1e6 / n }')" \
    >>"$SLICES"
  rm -f "$raw"   # thousands of slices: keep only the table
}

pair_run() {  # pair_run PROTO A B [AFTER_PAIR]: $WARMUP s of load on A, then on B; then $PAIRS pairs, A first
  # in odd pairs and B first in even ones; AFTER_PAIR (a command) runs after every pair. The pairs are numbered
  # from PAIR_BASE + 1 (default 1), so that two runs sharing a target (run.sh --pairs: h3relay against nginx, then
  # against HAProxy) keep their pairs apart in $SLICES.
  local proto="$1" a="$2" b="$3" target i pair; shift 3
  for target in "$a" "$b"; do
    ((WARMUP > 0)) || continue
    log "$proto: warming up $target for ${WARMUP}s"
    pair_load "$proto" "$(url_of "$target" "$proto")" "$WARMUP" "$OUT/$target-$proto-warmup.txt"
  done
  log "$proto: $PAIRS pairs of ${SLICE}s slices"
  for i in $(seq "$PAIRS"); do
    pair=$((${PAIR_BASE:-0} + i))
    if ((i % 2)); then
      pair_slice "$pair" "$a" "$proto"; pair_slice "$pair" "$b" "$proto"
    else
      pair_slice "$pair" "$b" "$proto"; pair_slice "$pair" "$a" "$proto"
    fi
    if (($#)); then "$@"; fi
  done
}

pair_profiles() {  # with --profile: stop the given targets (JFR writes each recording on exit), list hot methods
  ((PROFILE)) || return 0
  local t
  for t in "$@"; do stop "$(pid_of "$t")"; done
  for t in "$@"; do
    "$JAVA_HOME_FOUND/bin/jfr" view --width 200 hot-methods "$OUT/$t.jfr" >"$OUT/$t-hot-methods.txt" 2>&1 || true
  done
  log "profiles: $(printf "$OUT/%s.jfr " "$@")(hot methods in $OUT/*-hot-methods.txt)"
}

# pair_row PROTO A B cost|ratio: one markdown table row from $SLICES, over the pairs that have both A and B.
# The pairs' own ratios of B to A, their median and a bootstrap 95% interval of that median (2,000 resamples):
#   cost:  | proto | pairs | fewer req/s in B [95%] | pairs with B slower | req/s A -> B | proxy CPU µs/req A -> B |
#          more CPU/req in B [95%] |                                                      (in %, telemetry-cost.sh)
#   ratio: | proto | pairs | req/s B/A [95%] | pairs with B slower | req/s A -> B | proxy CPU µs/req A -> B |
#          proxy CPU/req B/A [95%] | pairs with more CPU/req in B | endpoint CPU/req B/A [95%] |   (build-cost.sh)
# (The medians of req/s and CPU are each side's own, over the same pairs.)
pair_row() {
  awk -F'\t' -v p="$1" -v A="$2" -v B="$3" -v form="$4" '
    function sort(a, n,   i, j, v) { for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v } }
    function median(a, n,   s, i) { for (i = 1; i <= n; i++) s[i] = a[i]; sort(s, n); return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2 }
    function boot(a, n, fmt, scale,   k, i, m, r) {  # 95% bootstrap interval of the median (2000 resamples)
      for (k = 1; k <= 2000; k++) { for (i = 1; i <= n; i++) r[i] = a[int(rand() * n) + 1]; m[k] = median(r, n) }
      sort(m, 2000); return sprintf(fmt, m[50] * scale, m[1950] * scale) }
    $3 == p && $2 == A { ra[$1] = $4; ca[$1] = $7; ea[$1] = $8 }
    $3 == p && $2 == B { rb[$1] = $4; cb[$1] = $7; eb[$1] = $8 }
    END {
      srand(1)
      for (k in rb) if (k in ra) { n++
        ro[n] = ra[k]; rn[n] = rb[k]; co[n] = ca[k]; cn[n] = cb[k]
        if (rb[k] < ra[k]) slower++
        if (cb[k] > ca[k]) morecpu++
        if (form == "cost") { d[n] = 1 - rb[k] / ra[k]; c[n] = cb[k] / ca[k] - 1 }
        else { d[n] = rb[k] / ra[k]; c[n] = cb[k] / ca[k]; e[n] = ea[k] > 0 ? eb[k] / ea[k] : 0 } }
      if (n == 0) { printf "| %s | 0 | no pairs |\n", p; exit }
      if (form == "cost")
        printf "| %s | %d | **%.1f%%** [%s] | %d of %d | %.0f -> %.0f | %.1f -> %.1f | %.1f%% [%s] |\n", p, n,
          median(d, n) * 100, boot(d, n, "%.1f%% to %.1f%%", 100), slower, n, median(ro, n), median(rn, n),
          median(co, n), median(cn, n), median(c, n) * 100, boot(c, n, "%.1f%% to %.1f%%", 100)
      else
        printf "| %s | %d | **%.3f** [%s] | %d of %d | %.0f -> %.0f | %.1f -> %.1f | **%.3f** [%s] | %d of %d | %.3f [%s] |\n", p, n,
          median(d, n), boot(d, n, "%.3f, %.3f", 1), slower, n, median(ro, n), median(rn, n),
          median(co, n), median(cn, n), median(c, n), boot(c, n, "%.3f, %.3f", 1), morecpu, n,
          median(e, n), boot(e, n, "%.3f, %.3f", 1) }' "$SLICES"
}
