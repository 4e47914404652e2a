#!/usr/bin/env bash
# bench/telemetry-cost.sh: what metrics and the access log cost, measured as many short back-to-back pairs.
#
#   load generator ──► h3relay      (metrics off, access log off) ─┐
#                  ──► h3relay-tel  (metrics on, JSON access log   ├► the same TestEndpoint
#                                    to a file)                  ─┘
#
# On a shared or virtual machine the speed of the cores drifts by tens of percent from one few-second
# window to the next, more than the cost to be measured. So this runs many pairs of short slices, the two
# proxies right after each other (order swapped every pair), and reports the median of the pairs' own
# ratios with a bootstrap 95% interval. The access log file is emptied after every pair (see below).
# Everything listens on 127.0.0.1 only; every process started here is stopped on exit.
# Usage: bench/telemetry-cost.sh [--pairs N] [--slice S] [--warmup S] [--part on|metrics|access-log]
#          [--protocols "h1 h2"] [--access-log PATH] [--connections N] [--h2-clients N] [--h2-streams N]
#          [--profile] [--install]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PAIRS=40         # pairs of slices per protocol
SLICE=3          # seconds of load per slice
WARMUP=40        # seconds of load per proxy and protocol before its pairs (the JIT needs 20-30 s)
PART=on          # what h3relay-tel has on: both, only metrics, only the access log
PROTOCOLS="h1 h2"
CONNECTIONS=50   # wrk connections (h1, plaintext)
H2_CLIENTS=10    # h2load connections (h2 over TLS)
H2_STREAMS=10    # h2load concurrent streams per connection
ACCESS_LOG=""    # where h3relay-tel writes its access log (default: access.log in the results folder)
PROFILE=0        # 1: record both with JFR (the same overhead on each side) and list their hot methods
INSTALL=0

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --pairs) PAIRS="$2"; shift 2 ;;
    --slice) SLICE="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --part) PART="$2"; shift 2 ;;
    --protocols) PROTOCOLS="$2"; shift 2 ;;
    --access-log) ACCESS_LOG="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --h2-clients) H2_CLIENTS="$2"; shift 2 ;;
    --h2-streams) H2_STREAMS="$2"; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --install) INSTALL=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "telemetry-cost.sh: unknown argument: $1" >&2; usage 2 ;;
  esac
done
for v in PAIRS SLICE WARMUP CONNECTIONS H2_CLIENTS H2_STREAMS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "telemetry-cost.sh: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((PAIRS >= 1 && PAIRS <= 500)) || { echo "telemetry-cost.sh: --pairs must be 1-500" >&2; exit 2; }
((SLICE >= 1 && SLICE <= 60)) || { echo "telemetry-cost.sh: --slice must be 1-60 seconds" >&2; exit 2; }
((WARMUP <= 600)) || { echo "telemetry-cost.sh: --warmup must be 0-600 seconds" >&2; exit 2; }
[[ "$PART" =~ ^(on|metrics|access-log)$ ]] || { echo "--part must be on, metrics or access-log" >&2; exit 2; }
for p in $PROTOCOLS; do
  [[ "$p" == h1 || "$p" == h2 ]] || { echo "--protocols takes h1 and/or h2, got '$p'" >&2; exit 2; }
done

BENCH_NAME=telemetry-cost.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
check_tools wrk:wrk h2load:nghttp2-client curl:curl mvn:maven ss:iproute2

prepare_run telemetry-

EP_PORT=$(free_port) RELAY_H1=$(free_port) RELAY_TLS=$(free_port) RELAY_ADMIN=$(free_port)
TEL_H1=$(free_port) TEL_TLS=$(free_port) TEL_ADMIN=$(free_port)
start_endpoint "$EP_PORT"

tcp_relay_yaml "$RELAY_H1" "$RELAY_TLS" "$RELAY_ADMIN" off >"$OUT/h3relay.yaml"
tcp_relay_yaml "$TEL_H1" "$TEL_TLS" "$TEL_ADMIN" "$PART" >"$OUT/h3relay-tel.yaml"
H3RELAY_JAVA_OPTS="$(jfr_opts h3relay)" "$ROOT/h3relay" serve -c "$OUT/h3relay.yaml" >"$OUT/h3relay.log" 2>&1 &
RELAY_PID=$!; STARTED+=("$RELAY_PID")
H3RELAY_JAVA_OPTS="$(jfr_opts h3relay-tel)" "$ROOT/h3relay" serve -c "$OUT/h3relay-tel.yaml" >"$OUT/h3relay-tel.log" 2>&1 &
TEL_PID=$!; STARTED+=("$TEL_PID")
wait_http "http://127.0.0.1:$RELAY_H1/" h3relay "$RELAY_PID"
wait_http "http://127.0.0.1:$TEL_H1/" h3relay-tel "$TEL_PID"
log "h3relay (pid $RELAY_PID) and h3relay-tel ($PART; pid $TEL_PID) up"

url_of() {  # url_of TARGET PROTO
  case "$1:$2" in
    h3relay:h1) echo "http://127.0.0.1:$RELAY_H1/" ;;
    h3relay:h2) echo "https://127.0.0.1:$RELAY_TLS/" ;;
    h3relay-tel:h1) echo "http://127.0.0.1:$TEL_H1/" ;;
    h3relay-tel:h2) echo "https://127.0.0.1:$TEL_TLS/" ;;
  esac
}
pid_of() { [[ "$1" == h3relay ]] && echo "$RELAY_PID" || echo "$TEL_PID"; }

# After every pair: empty the log (h3relay appends, so it simply goes on at 0). A file growing by a
# gigabyte per protocol takes fresh page-cache pages all the time, and on a VM the first touch of a
# guest page costs the host a fault: writing 1 GB to a new file took 2.7 s of system time here the
# first time and 0.22 s once the pages had been used before. A server in steady state (rotated logs,
# its memory long since touched) does not pay that; the proxy's own cost is what is measured here.
empty_log() { if [[ -z "$ACCESS_LOG" ]]; then : >"$OUT/access.log"; fi; }

pair_init
for proto in $PROTOCOLS; do
  pair_run "$proto" h3relay h3relay-tel empty_log
done

# ---------------------------------------------------------------- report
pair_profiles h3relay h3relay-tel
{
  echo "| proto | pairs | fewer req/s: median of pairs [95% interval] | pairs slower with telemetry | req/s off -> on (medians) | proxy CPU µs/req off -> on (medians) | more CPU/req: median of pairs [95% interval] |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for proto in $PROTOCOLS; do
    pair_row "$proto" h3relay h3relay-tel cost
  done
} >"$OUT/summary.md"

cat >"$OUT/run.txt" <<EOF
date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
command: bench/telemetry-cost.sh --pairs $PAIRS --slice $SLICE --warmup $WARMUP --part $PART --protocols "$PROTOCOLS"${ACCESS_LOG:+ --access-log $ACCESS_LOG} --connections $CONNECTIONS --h2-clients $H2_CLIENTS --h2-streams $H2_STREAMS$( ((PROFILE)) && echo " --profile")
load: h1 wrk -t1 -c$CONNECTIONS (plaintext); h2 h2load -t1 -c$H2_CLIENTS -m$H2_STREAMS (TLS)
nproc: $(nproc)
cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
kernel: $(uname -r)
java: $("$JAVA" -version 2>&1 | head -1)
h3relay: $(tail -1 "$OUT/h3relay-version.txt") ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'))
load average at end: $(cut -d' ' -f1-3 /proc/loadavg)
slices: $SLICES
EOF
echo
cat "$OUT/run.txt"
echo
cat "$OUT/summary.md"
