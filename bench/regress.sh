#!/usr/bin/env bash
# bench/regress.sh: a regression guard. Builds two git revisions of h3relay (BASE, HEAD) in detached
# worktrees under /tmp and reports HEAD's proxy CPU per request relative to BASE's, with a bootstrap 95%
# interval, measured as many short back-to-back pairs (the paired method of telemetry-cost.sh):
#
#   load generator (CPU 1) ──► base (BASE's launcher and jar, CPU 0) ─┐
#                          ──► head (HEAD's launcher and jar, CPU 0) ├► the same TestEndpoint (CPU 1)
#
# Each side runs as its revision ships: its own ./h3relay launcher and JVM defaults (a changed default is
# part of what is compared; the script says when the two launchers' JVM lines differ), plus the same
# $H3RELAY_JAVA_OPTS, no AOT cache (H3RELAY_AOT=0), the same config (run.sh's h1 and TLS listeners,
# metrics and access log off). Both are warmed up (the JIT needs 20-30 s), then pairs of short slices, the
# order swapped every pair. Ratio < 1: HEAD spends less CPU per request. Everything listens on 127.0.0.1;
# every process and both worktrees are removed on exit.
# --protocols grpc adds gRPC unary calls (h2load over h2/TLS with a framed 64-byte message, as bench/grpc.sh)
# through both proxies to one grpc-java server (bench/GrpcBenchServer.java, h2c cluster, CPU 1).
# --protocols h3 adds HTTP/3 (h3relay bench --http3 from this checkout, --h3-connections x --h3-streams, 4 x 16 as
# run-h3.sh; HTTP/3 is then on for both sides' TLS listener); each slice starts a fresh client JVM: --slice 5 or more.
# --size BYTES: h1 and h2 requests ask the endpoint for a body of BYTES bytes (/bytes?n=BYTES, e.g. 65536 for the
# 64 KiB cells of compare.sh) instead of its short default answer.
# Usage: bench/regress.sh BASE HEAD [--pairs N] [--slice S] [--warmup S] [--protocols "h1 h2 h3 grpc"] [--size BYTES]
#          [--connections N] [--h2-clients N] [--h2-streams N] [--h3-connections N] [--h3-streams N] [--no-pin]
#          [--install]
#          [--base-opts "JVM OPTIONS"] [--head-opts "JVM OPTIONS"]   (after $H3RELAY_JAVA_OPTS, that side only)
#          [--this-tree]   (BASE = HEAD only: both sides run this checkout's launcher and jar, built here if
#                           stale, instead of a fresh build in /tmp: a comparison of JVM options in minutes)
# Example: bench/regress.sh main HEAD    (about 2 x (40 s + 40 x 2 x 3 s) = 9 min per protocol by default)
#          bench/regress.sh HEAD HEAD --base-opts "-Xms1g -Xmx1g"   (the launcher's heap defaults vs a large heap)
#          bench/regress.sh main HEAD --protocols h2 --size 65536   (h2 over TLS, 64 KiB responses)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE=0 PAIRS=40 SLICE=3 WARMUP=40 PROTOCOLS="h1 h2" CONNECTIONS=50 H2_CLIENTS=10 H2_STREAMS=10 H3_CONNECTIONS=4 H3_STREAMS=16 PIN=1 INSTALL=0 PROFILE=0
THIS_TREE=0
BASE_OPTS="" HEAD_OPTS=""
usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
REVS=()
while (($#)); do
  case "$1" in
    --pairs) PAIRS="$2"; shift 2 ;;
    --slice) SLICE="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --protocols) PROTOCOLS="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --h2-clients) H2_CLIENTS="$2"; shift 2 ;;
    --h2-streams) H2_STREAMS="$2"; shift 2 ;;
    --h3-connections) H3_CONNECTIONS="$2"; shift 2 ;;
    --h3-streams) H3_STREAMS="$2"; shift 2 ;;
    --no-pin) PIN=0; shift ;;
    --base-opts) BASE_OPTS="$2"; shift 2 ;;
    --head-opts) HEAD_OPTS="$2"; shift 2 ;;
    --install) INSTALL=1; shift ;;
    --this-tree) THIS_TREE=1; shift ;;
    -h|--help) usage 0 ;;
    -*) echo "regress.sh: unknown option: $1" >&2; usage 2 ;;
    *) REVS+=("$1"); shift ;;
  esac
done
((${#REVS[@]} == 2)) || { echo "regress.sh: give two revisions, BASE and HEAD" >&2; usage 2; }
for v in SIZE PAIRS SLICE WARMUP CONNECTIONS H2_CLIENTS H2_STREAMS H3_CONNECTIONS H3_STREAMS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "regress.sh: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((SIZE <= 16777216)) || { echo "regress.sh: --size must be 0-16777216 bytes" >&2; exit 2; }
((PAIRS >= 1 && PAIRS <= 500)) || { echo "regress.sh: --pairs must be 1-500" >&2; exit 2; }
((SLICE >= 1 && SLICE <= 60)) || { echo "regress.sh: --slice must be 1-60 seconds" >&2; exit 2; }
((WARMUP <= 600)) || { echo "regress.sh: --warmup must be 0-600 seconds" >&2; exit 2; }
for p in $PROTOCOLS; do
  [[ "$p" == h1 || "$p" == h2 || "$p" == h3 || "$p" == grpc ]] \
    || { echo "--protocols takes h1, h2, h3 and/or grpc, got '$p'" >&2; exit 2; }
done
BASE_REV="$(git -C "$ROOT" rev-parse --verify -q "${REVS[0]}^{commit}")" \
  || { echo "regress.sh: '${REVS[0]}' is not a commit of this repository" >&2; exit 2; }
HEAD_REV="$(git -C "$ROOT" rev-parse --verify -q "${REVS[1]}^{commit}")" \
  || { echo "regress.sh: '${REVS[1]}' is not a commit of this repository" >&2; exit 2; }

BENCH_NAME=regress.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
export H3RELAY_AOT=0
check_tools wrk:wrk h2load:nghttp2-client curl:curl mvn:maven ss:iproute2 git:git taskset:util-linux

prepare_run regress-   # this tree: the endpoint's classpath and the certificate (the proxies come from BASE and HEAD)
PIN_PROXY=() PIN_LOAD=()
if ((PIN)) && (($(nproc) >= 2)); then
  PIN_PROXY=(taskset -c 0) PIN_LOAD=(taskset -c 1) PIN_ENDPOINT=(taskset -c 1)
fi

# ---------------------------------------------------------------- the two builds: detached worktrees under /tmp
WORK="$(mktemp -d /tmp/h3relay-regress.XXXXXX)"
BUILD_PID=""
stop_build() { if [[ -n "$BUILD_PID" ]]; then stop "$BUILD_PID"; fi; }
remove_worktrees() {
  local side
  for side in base head; do
    [[ -d "$WORK/$side" && ! -L "$WORK/$side" ]] && { git -C "$ROOT" worktree remove --force "$WORK/$side" 2>/dev/null || true; }
  done
  rm -rf "$WORK"; git -C "$ROOT" worktree prune
}
AT_EXIT+=(stop_build remove_worktrees)
build_side() {  # build_side base|head REV
  local dir="$WORK/$1" rc=0
  log "$1: worktree of ${2:0:7} in $dir; mvn -B -q -o package -DskipTests"
  git -C "$ROOT" worktree add -q --detach "$dir" "$2" >"$OUT/$1-build.log" 2>&1 \
    || { cat "$OUT/$1-build.log" >&2; die "git worktree add failed"; }
  (cd "$dir" && exec mvn -B -q -o -Dstyle.color=never package -DskipTests) >>"$OUT/$1-build.log" 2>&1 &
  BUILD_PID=$!; wait "$BUILD_PID" || rc=$?; BUILD_PID=""
  ((rc == 0)) || { tail -30 "$OUT/$1-build.log" >&2; die "the $1 build failed; see $OUT/$1-build.log"; }
  "$dir/h3relay" --version >"$OUT/$1-version.txt" 2>>"$OUT/$1-build.log" || die "$1: h3relay --version failed"
}
if ((THIS_TREE)); then
  [[ "$HEAD_REV" == "$BASE_REV" ]] || die "--this-tree compares JVM options of one revision: give the same BASE and HEAD"
  mkdir -p "$WORK"
  ln -s "$ROOT" "$WORK/base"; ln -s "$ROOT" "$WORK/head"
  "$ROOT/h3relay" --version >"$OUT/base-version.txt" 2>"$OUT/base-build.log" || die "this tree's h3relay --version failed"
  cp "$OUT/base-version.txt" "$OUT/head-version.txt"
  log "--this-tree: both sides run $ROOT's launcher and jar"
else
build_side base "$BASE_REV"
fi
if ((THIS_TREE)); then
  :
elif [[ "$HEAD_REV" == "$BASE_REV" ]]; then
  # The same revision on both sides (a comparison of JVM options): one build, two processes of its jar.
  ln -s "$WORK/base" "$WORK/head"
  cp "$OUT/base-version.txt" "$OUT/head-version.txt"
else
  build_side head "$HEAD_REV"
fi
jvm_lines() { grep -E '^(JVM_OPTS|  -|export MALLOC|exec )' "$1" || true; }
LAUNCHERS=same
if ! diff <(jvm_lines "$WORK/base/h3relay") <(jvm_lines "$WORK/head/h3relay") >"$OUT/launcher-jvm-options.diff"; then
  LAUNCHERS="different (see launcher-jvm-options.diff): the JVM defaults are part of the comparison"
  log "note: the two launchers start the JVM differently; each side runs with its own defaults"
fi

# ---------------------------------------------------------------- endpoint and the two proxies
EP_PORT=$(free_port) B_H1=$(free_port) B_TLS=$(free_port) B_ADMIN=$(free_port)
H_H1=$(free_port) H_TLS=$(free_port) H_ADMIN=$(free_port)
start_endpoint "$EP_PORT"
GRPC_PID=""
if [[ " $PROTOCOLS " == *" grpc "* ]]; then
  # grpc-java's class path: h3relay-core's test scope (with -am the last module's file, h3relay-core's, wins)
  (cd "$ROOT" && JAVA_HOME="$JAVA_HOME_FOUND" mvn -q -B -o compile dependency:build-classpath -pl h3relay-core -am \
    -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/grpc-classpath.txt") >>"$OUT/build.log" 2>&1 \
    || { cat "$OUT/build.log" >&2; die "cannot resolve grpc-java's class path"; }
  printf '<configuration><appender name="o" class="ch.qos.logback.core.ConsoleAppender"><encoder><pattern>%%d %%level %%logger %%msg%%n</pattern></encoder></appender><root level="WARN"><appender-ref ref="o"/></root></configuration>\n' \
    >"$OUT/grpc-logback.xml"
  GRPC_PORT=$(free_port)
  UNSAFE=(); (( $(java_major "$JAVA") >= 23 )) && UNSAFE=(--sun-misc-unsafe-memory-access=allow)
  "${PIN_ENDPOINT[@]}" "$JAVA" -Dlogback.configurationFile="$OUT/grpc-logback.xml" "${UNSAFE[@]}" \
    -cp "$(cat "$OUT/grpc-classpath.txt")" "$ROOT/bench/GrpcBenchServer.java" "$GRPC_PORT" >"$OUT/grpc-server.log" 2>&1 &
  GRPC_PID=$!; STARTED+=("$GRPC_PID")
  for _ in $(seq 600); do
    kill -0 "$GRPC_PID" 2>/dev/null || die "the gRPC server exited while starting; see $OUT/grpc-server.log"
    grep -q "gRPC bench server on" "$OUT/grpc-server.log" && break
    sleep 0.1
  done
  grep -q "gRPC bench server on" "$OUT/grpc-server.log" || die "the gRPC server did not start; see $OUT/grpc-server.log"
  head -c 64 /dev/zero | tr '\0' 'x' >"$OUT/message.bin"
  { printf '\x00\x00\x00\x00\x40'; cat "$OUT/message.bin"; } >"$OUT/request.bin"   # framed: flag 0, length 64
  log "gRPC server on 127.0.0.1:$GRPC_PORT (pid $GRPC_PID)"
fi
relay_yaml() {  # relay_yaml H1 TLS ADMIN: run.sh's config, plus (with grpc) a route of /bench.Echo/ to the gRPC server,
  # and (with h3) HTTP/3 on the TLS listener's port
  if [[ -z "$GRPC_PID" ]]; then tcp_relay_yaml "$1" "$2" "$3" off | with_h3; return; fi
  tcp_relay_yaml "$1" "$2" "$3" off | with_h3 | awk -v g="$GRPC_PORT" '
    {print}
    /^routes:$/ {print "  - name: grpc"; print "    match: { path_prefix: /bench.Echo/ }"; print "    cluster: grpc"}
    /^clusters:$/ {print "  - name: grpc"; print "    protocol: h2c"; print "    endpoints:"; print "      - address: 127.0.0.1:" g}'
}
with_h3() {  # the TLS listener also speaks HTTP/3 when h3 is measured (only then: it adds Alt-Svc to h2 answers)
  if [[ " $PROTOCOLS " == *" h3 "* ]]; then sed 's/protocols: \[http1, http2\]/protocols: [http1, http2, http3]/'; else cat; fi
}
relay_yaml "$B_H1" "$B_TLS" "$B_ADMIN" >"$OUT/base.yaml"
relay_yaml "$H_H1" "$H_TLS" "$H_ADMIN" >"$OUT/head.yaml"
for side in base head; do
  "$WORK/$side/h3relay" validate "$OUT/$side.yaml" >"$OUT/$side-validate.txt" 2>&1 \
    || { cat "$OUT/$side-validate.txt" >&2; die "the $side build does not accept $OUT/$side.yaml"; }
done
H3RELAY_JAVA_OPTS="${H3RELAY_JAVA_OPTS:-} $BASE_OPTS" "${PIN_PROXY[@]}" "$WORK/base/h3relay" serve -c "$OUT/base.yaml" \
  >"$OUT/base.log" 2>&1 &
BASE_PID=$!; STARTED+=("$BASE_PID")
H3RELAY_JAVA_OPTS="${H3RELAY_JAVA_OPTS:-} $HEAD_OPTS" "${PIN_PROXY[@]}" "$WORK/head/h3relay" serve -c "$OUT/head.yaml" \
  >"$OUT/head.log" 2>&1 &
HEAD_PID=$!; STARTED+=("$HEAD_PID")
wait_http "http://127.0.0.1:$B_H1/" base "$BASE_PID"
wait_http "http://127.0.0.1:$H_H1/" head "$HEAD_PID"
log "base (${BASE_REV:0:7}; pid $BASE_PID) and head (${HEAD_REV:0:7}; pid $HEAD_PID) up"

BODY_PATH=/; ((SIZE > 0)) && BODY_PATH="/bytes?n=$SIZE"
url_of() {  # url_of TARGET PROTO
  case "$1:$2" in
    base:h1) echo "http://127.0.0.1:$B_H1$BODY_PATH" ;;
    base:h2) echo "https://127.0.0.1:$B_TLS$BODY_PATH" ;;
    head:h1) echo "http://127.0.0.1:$H_H1$BODY_PATH" ;;
    head:h2) echo "https://127.0.0.1:$H_TLS$BODY_PATH" ;;
    base:h3) echo "https://127.0.0.1:$B_TLS$BODY_PATH" ;;
    head:h3) echo "https://127.0.0.1:$H_TLS$BODY_PATH" ;;
    base:grpc) echo "https://127.0.0.1:$B_TLS/bench.Echo/Unary" ;;
    head:grpc) echo "https://127.0.0.1:$H_TLS/bench.Echo/Unary" ;;
  esac
}
pid_of() { [[ "$1" == base ]] && echo "$BASE_PID" || echo "$HEAD_PID"; }

if [[ -n "$GRPC_PID" ]]; then
  # h2load counts HTTP statuses only: each side must first answer one call with grpc-status 0, message intact
  # (generous time: the first call opens the h2c connection on a cold JVM, and a busy machine is slow)
  for side in base head; do
    "$ROOT/h3relay" request --grpc --http2 -k --max-time 60 --data "@$OUT/message.bin" -o "$OUT/check-$side.bin" \
      "$(url_of "$side" grpc)" >"$OUT/check-$side.txt" 2>&1 \
      || die "$side did not answer a gRPC call with grpc-status 0; see $OUT/check-$side.txt"
    cmp -s "$OUT/check-$side.bin" "$OUT/message.bin" || die "$side answered another message; see $OUT/check-$side.bin"
  done
fi
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
pair_init
ENDPOINT_PID="$EP_PID"
for proto in $PROTOCOLS; do
  # the control column: the CPU per request of the endpoint serving this protocol's load
  if [[ "$proto" == grpc ]]; then EP_PID="$GRPC_PID"; else EP_PID="$ENDPOINT_PID"; fi
  pair_run "$proto" base head
done

# ---------------------------------------------------------------- report
{
  echo "| proto | pairs | req/s head/base: median of pairs [95% interval] | pairs with head slower | req/s base -> head (medians) | proxy CPU µs/req base -> head (medians) | **proxy CPU/req head/base**: median of pairs [95% interval] | pairs with more CPU/req in head | endpoint CPU/req head/base (control) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for proto in $PROTOCOLS; do pair_row "$proto" base head ratio; done
} >"$OUT/summary.md"
cat >"$OUT/run.txt" <<EOF
date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
command: bench/regress.sh ${REVS[0]} ${REVS[1]} --pairs $PAIRS --slice $SLICE --warmup $WARMUP --protocols "$PROTOCOLS"$( ((SIZE)) && echo " --size $SIZE") --connections $CONNECTIONS --h2-clients $H2_CLIENTS --h2-streams $H2_STREAMS --h3-connections $H3_CONNECTIONS --h3-streams $H3_STREAMS$( ((PIN)) || echo " --no-pin")
base: $BASE_REV ($(tail -1 "$OUT/base-version.txt"))
head: $HEAD_REV ($(tail -1 "$OUT/head-version.txt"))
launchers: $LAUNCHERS
pinning: $( ((${#PIN_PROXY[@]})) && echo "proxies on CPU 0, load generator and endpoint on CPU 1" || echo none)
response: $( ((SIZE)) && echo "$SIZE bytes (/bytes?n=$SIZE)" || echo "the endpoint's short answer (/)")
load: h1 wrk -t1 -c$CONNECTIONS (plaintext); h2 h2load -t1 -c$H2_CLIENTS -m$H2_STREAMS (TLS); grpc the same with a framed 64-byte message to grpc-java over h2c; h3 h3relay bench --http3 -t1 -c$H3_CONNECTIONS -m$H3_STREAMS (this tree's client)
nproc: $(nproc); cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); kernel: $(uname -r)
java: $("$JAVA" -version 2>&1 | head -1)
H3RELAY_JAVA_OPTS: ${H3RELAY_JAVA_OPTS:-(none)}; base adds: ${BASE_OPTS:-(nothing)}; head adds: ${HEAD_OPTS:-(nothing)}
load average before the warm-up: $LOAD_BEFORE; at end: $(cut -d' ' -f1-3 /proc/loadavg)
slices: $SLICES
EOF
echo; cat "$OUT/run.txt"; echo; cat "$OUT/summary.md"
