#!/usr/bin/env bash
# bench/h1-cost.sh: what one plain HTTP/1.1 request costs h3relay, in counts that do not depend on how busy the
# machine is: bytes allocated (JFR, bench/JfrAllocation.java), syscalls (strace -c -f), instructions where the
# machine exposes a PMU (perf stat), plus proxy CPU per request (noisy on a shared machine) and RSS.
#
#   h2load --h1 (CPU 1) ──► h3relay serve, launcher defaults (CPU 0) ──► nginx `return 200` (CPU 1)
#
# After --warmup seconds of wrk, three counted loads of --requests each (50 connections, one request at a time
# on each): one under perf stat (instructions, task-clock), one under strace -c -f -p (all threads), one inside
# a JFR recording (settings=profile). With --profile, a fourth inside a JFR recording of CPU samples (JDK 25's
# jdk.ExecutionSample every 1 ms, and on JDK 25 jdk.CPUTimeSample every 10 ms of CPU), summarized by
# bench/JfrCpu.java into cpu.txt and cpu-time.txt. Everything listens on 127.0.0.1; every process is stopped on exit.
# Usage: bench/h1-cost.sh [--requests N] [--warmup S] [--profile] [--no-pin] [--install]
#        (extra JVM options for h3relay through H3RELAY_JAVA_OPTS, e.g. -XX:NativeMemoryTracking=summary)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQUESTS=50000 WARMUP=30 PIN=1 INSTALL=0 PROFILE=0
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --requests) REQUESTS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --no-pin) PIN=0; shift ;;
    --install) INSTALL=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "h1-cost.sh: unknown option: $1" >&2; usage 2 ;;
  esac
done
[[ "$REQUESTS" =~ ^[0-9]+$ ]] && ((REQUESTS >= 100 && REQUESTS <= 10000000)) \
  || { echo "h1-cost.sh: --requests must be 100-10000000" >&2; exit 2; }
[[ "$WARMUP" =~ ^[0-9]+$ ]] && ((WARMUP <= 600)) || { echo "h1-cost.sh: --warmup must be 0-600 seconds" >&2; exit 2; }

BENCH_NAME=h1-cost.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
check_tools wrk:wrk h2load:nghttp2-client nginx:nginx strace:strace curl:curl ss:iproute2 taskset:util-linux
JAVA="$(find_java)"
JBIN="$(dirname "$(readlink -f "$JAVA")")"
[[ -x "$JBIN/jcmd" ]] || die "the JDK at $JBIN has no jcmd (a JRE?): JFR needs a full JDK"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$ROOT/bench/results/h1-cost-$STAMP"
mkdir -p "$OUT"
log "results in $OUT"
"$ROOT/h3relay" --version >"$OUT/h3relay-version.txt" 2>"$OUT/build.log" || { cat "$OUT/build.log" >&2; die "build failed"; }
PIN_PROXY=() PIN_LOAD=()
if ((PIN)) && (($(nproc) >= 2)); then PIN_PROXY=(taskset -c 0) PIN_LOAD=(taskset -c 1); fi

EP_PORT=$(free_port) H1_PORT=$(free_port) ADMIN_PORT=$(free_port)
mkdir -p "$OUT/nginx"
start_nginx_return200 "$EP_PORT" "${PIN_LOAD[@]}"

plain_relay_yaml "$OUT/h3relay.yaml" "$H1_PORT" "$ADMIN_PORT"
"${PIN_PROXY[@]}" "$ROOT/h3relay" serve -c "$OUT/h3relay.yaml" >"$OUT/h3relay.log" 2>&1 &
RELAY=$!; STARTED+=("$RELAY")
URL="http://127.0.0.1:$H1_PORT/"
wait_http "$URL" h3relay "$RELAY"
log "h3relay (pid $RELAY) in front of nginx; ${WARMUP}s of warm-up"
((WARMUP > 0)) && "${PIN_LOAD[@]}" wrk -t1 -c50 -d"${WARMUP}s" "$URL" >"$OUT/warmup.txt"

load() { "${PIN_LOAD[@]}" h2load --h1 -n "$REQUESTS" -c 50 -t 1 "$URL" >"$OUT/$1.txt"; \
  grep -q "succeeded, 0 failed, 0 errored" "$OUT/$1.txt" || log "WARNING: failed requests in $1 (see $OUT/$1.txt)"; }

log "counted load 1: perf stat (instructions, task-clock) and CPU ticks"
TICK=$(getconf CLK_TCK)
T0=$(cpu_ticks "$RELAY")
PERF_PID=""
if command -v perf >/dev/null 2>&1; then
  perf stat -e instructions,task-clock -p "$RELAY" -o "$OUT/perf.txt" & PERF_PID=$!
  sleep 0.5
fi
load h2load-perf
[[ -n "$PERF_PID" ]] && { kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true; }
T1=$(cpu_ticks "$RELAY")
INSTR="$(awk -v n="$REQUESTS" '/instructions/ && $1 ~ /^[0-9,]+$/ {gsub(/,/, "", $1); printf "%.0f", $1 / n}' \
  "$OUT/perf.txt" 2>/dev/null || true)"
CPU_US=$(awk -v t=$((T1 - T0)) -v hz="$TICK" -v n="$REQUESTS" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')

log "counted load 2: strace -c -f"
strace -c -f -p "$RELAY" -o "$OUT/strace.txt" & STRACE_PID=$!
sleep 1
load h2load-strace
kill -INT "$STRACE_PID"; wait "$STRACE_PID" 2>/dev/null || true
SYSCALLS=$(awk -v n="$REQUESTS" '$NF == "total" {printf "%.2f", $4 / n}' "$OUT/strace.txt")

log "counted load 3: JFR allocation"
"$JBIN/jcmd" "$RELAY" JFR.start name=h1cost settings=profile filename="$OUT/alloc.jfr" >/dev/null
load h2load-jfr
"$JBIN/jcmd" "$RELAY" JFR.stop name=h1cost >/dev/null
"$JAVA" "$ROOT/bench/JfrAllocation.java" "$OUT/alloc.jfr" "$REQUESTS" 10 >"$OUT/allocation.txt"
ALLOC=$(awk '/^all threads/ {print $(NF-1)}' "$OUT/allocation.txt")
CPU_PROFILE=""
if ((PROFILE)); then
  log "counted load 4: JFR CPU samples"
  # Java code every 1 ms of a running thread (jdk.ExecutionSample); on JDK 25 also by CPU time, native code and
  # syscalls included (jdk.CPUTimeSample, every 10 ms of CPU: cpu-time.txt).
  SAMPLING=()
  "$JBIN/jfr" metadata 2>/dev/null | grep -q 'jdk.CPUTimeSample' && SAMPLING=(jdk.CPUTimeSample#enabled=true)
  "$JBIN/jcmd" "$RELAY" JFR.start name=h1cpu settings=profile method-profiling=max "${SAMPLING[@]}" \
    filename="$OUT/cpu.jfr" >/dev/null
  load h2load-cpu
  "$JBIN/jcmd" "$RELAY" JFR.stop name=h1cpu >/dev/null
  "$JAVA" "$ROOT/bench/JfrCpu.java" "$OUT/cpu.jfr" 40 - jdk.ExecutionSample >"$OUT/cpu.txt"
  ((${#SAMPLING[@]})) && "$JAVA" "$ROOT/bench/JfrCpu.java" "$OUT/cpu.jfr" 40 - jdk.CPUTimeSample >"$OUT/cpu-time.txt"
  CPU_PROFILE="$(head -1 "$OUT/cpu.txt") (cpu.txt)"
fi
RSS=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$RELAY/status")
HWM=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$RELAY/status")

{
  echo "# h1-cost $STAMP: $REQUESTS requests per counted load, ${WARMUP}s warm-up, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "bytes allocated/request: $ALLOC (all threads; breakdown in allocation.txt)"
  echo "syscalls/request: $SYSCALLS (strace.txt)"
  echo "instructions/request: ${INSTR:-not available (no PMU counters here; perf.txt)}"
  echo "proxy CPU us/request: $CPU_US (depends on the machine's load)"
  [[ -n "$CPU_PROFILE" ]] && echo "CPU profile: $CPU_PROFILE"
  echo "RSS: $RSS MiB now, high-water $HWM MiB"
  awk -v n="$REQUESTS" '$NF != "total" && $4 ~ /^[0-9]+$/ && $4 / n >= 0.01 {printf "  %s %.2f/request\n", $NF, $4 / n}' "$OUT/strace.txt"
} | tee "$OUT/summary.txt"
