#!/usr/bin/env bash
# bench/footprint.sh: h3relay's resident memory (RSS) idle and under h1 load, with the launcher's JVM defaults
# and with other JVM options, one variant after the other, plus where the memory is (NMT, smaps_rollup):
#
#   wrk -t1 -c50 (CPU 1) ──► h3relay serve, launcher defaults + the variant's options (CPU 0) ──► nginx `return 200` (CPU 1)
#
# Per variant: a fresh `./h3relay serve` (H3RELAY_AOT=0 unless --aot) with H3RELAY_JAVA_OPTS set to the
# variant's options (they come after the launcher's defaults, so they override them), VmRSS 3 s after it
# answers (idle), then --duration seconds of wrk with VmRSS sampled every --sample seconds; reported: idle,
# the high-water mark (VmHWM, the kernel's own peak, not a sample), the steady state (median of the samples of
# the last third of the load), RSS after the load (--settle seconds later), RssAnon/RssFile from
# /proc/PID/smaps_rollup at the end, req/s and proxy CPU µs per request. With --nmt every variant also gets
# -XX:NativeMemoryTracking=summary and `jcmd VM.native_memory summary` at the end of the load (nmt-NAME.txt).
# Everything listens on 127.0.0.1; every process is stopped on exit.
# Usage: bench/footprint.sh [--variant "NAME=JVM OPTIONS"]... [--rounds N] [--duration S] [--sample S]
#          [--settle S] [--connections N] [--nmt] [--aot] [--no-pin] [--install]
#        (--aot: the launcher's AOT cache; each variant's first round trains it, later rounds use it)
#        (no --variant: one, "defaults", with no options; NAME=... with env VAR=VALUE words before the options
#         sets them for the launcher, e.g. --variant "arena8=MALLOC_ARENA_MAX=8 -Xmx256m")
# Rounds alternate the variants (round 2 runs them in reverse order), so a drift of the machine falls on all.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=40 SAMPLE=1 SETTLE=10 CONNECTIONS=50 ROUNDS=1 NMT=0 AOT=0 PIN=1 INSTALL=0
VARIANTS=()
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --variant) [[ "$2" == *=* ]] || { echo "footprint.sh: --variant takes NAME=OPTIONS" >&2; exit 2; }
               VARIANTS+=("$2"); shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --sample) SAMPLE="$2"; shift 2 ;;
    --settle) SETTLE="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --nmt) NMT=1; shift ;;
    --aot) AOT=1; shift ;;
    --no-pin) PIN=0; shift ;;
    --install) INSTALL=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "footprint.sh: unknown option: $1" >&2; usage 2 ;;
  esac
done
for v in DURATION SAMPLE SETTLE CONNECTIONS ROUNDS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "footprint.sh: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((DURATION >= 3 && DURATION <= 3600)) || { echo "footprint.sh: --duration must be 3-3600 seconds" >&2; exit 2; }
((SAMPLE >= 1 && SAMPLE <= 60)) || { echo "footprint.sh: --sample must be 1-60 seconds" >&2; exit 2; }
((ROUNDS >= 1 && ROUNDS <= 20)) || { echo "footprint.sh: --rounds must be 1-20" >&2; exit 2; }
((SETTLE <= 600)) || { echo "footprint.sh: --settle must be 0-600 seconds" >&2; exit 2; }
((${#VARIANTS[@]})) || VARIANTS=("defaults=")
for v in "${VARIANTS[@]}"; do
  [[ "${v%%=*}" =~ ^[A-Za-z0-9_.+-]+$ ]] || { echo "footprint.sh: variant name '${v%%=*}': letters, digits, _.+- only" >&2; exit 2; }
done

BENCH_NAME=footprint.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
((AOT)) && export H3RELAY_AOT=1 || export H3RELAY_AOT=0
check_tools wrk:wrk nginx:nginx curl:curl ss:iproute2 taskset:util-linux
JAVA="$(find_java)"
JBIN="$(dirname "$(readlink -f "$JAVA")")"
((NMT == 0)) || [[ -x "$JBIN/jcmd" ]] || die "the JDK at $JBIN has no jcmd (a JRE?): --nmt needs a full JDK"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$ROOT/bench/results/footprint-$STAMP"
mkdir -p "$OUT/nginx"
log "results in $OUT"
"$ROOT/h3relay" --version >"$OUT/h3relay-version.txt" 2>"$OUT/build.log" || { cat "$OUT/build.log" >&2; die "build failed"; }
PIN_PROXY=() PIN_LOAD=()
if ((PIN)) && (($(nproc) >= 2)); then PIN_PROXY=(taskset -c 0) PIN_LOAD=(taskset -c 1); fi

EP_PORT=$(free_port) H1_PORT=$(free_port) ADMIN_PORT=$(free_port)
start_nginx_return200 "$EP_PORT" "${PIN_LOAD[@]}"

plain_relay_yaml "$OUT/h3relay.yaml" "$H1_PORT" "$ADMIN_PORT"
URL="http://127.0.0.1:$H1_PORT/"
TICK=$(getconf CLK_TCK)
mib() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }
status_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
rollup_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }

RESULTS="$OUT/results.tsv"
printf 'round\tvariant\tidle_mib\tsteady_mib\tpeak_mib\tafter_mib\trss_anon_mib\trss_file_mib\treq_s\tproxy_cpu_us_per_req\tsamples_mib\n' >"$RESULTS"

run_variant() {  # run_variant ROUND NAME=OPTIONS
  local round="$1" name="${2%%=*}" spec="${2#*=}" envs=() opts=() w relay idle samples=() t0 t1 rps total i rss
  for w in $spec; do
    if ((${#opts[@]} == 0)) && [[ "$w" =~ ^[A-Z_][A-Z0-9_]*= ]]; then envs+=("$w"); else opts+=("$w"); fi
  done
  ((NMT)) && opts+=(-XX:NativeMemoryTracking=summary)
  local tag="r$round-$name"
  env "${envs[@]}" H3RELAY_JAVA_OPTS="${opts[*]}" "${PIN_PROXY[@]}" "$ROOT/h3relay" serve -c "$OUT/h3relay.yaml" \
    >"$OUT/h3relay-$tag.log" 2>&1 &
  relay=$!; STARTED+=("$relay")
  wait_http "$URL" "h3relay-$tag" "$relay"
  sleep 3
  idle=$(status_kb "$relay" VmRSS)
  log "$tag: up (pid $relay), idle $(mib "$idle") MiB; ${DURATION}s of wrk -c$CONNECTIONS"
  t0=$(cpu_ticks "$relay")
  "${PIN_LOAD[@]}" timeout $((DURATION + 30)) wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$URL" >"$OUT/wrk-$tag.txt" 2>&1 &
  local wrk=$!
  while kill -0 "$wrk" 2>/dev/null; do
    sleep "$SAMPLE"
    kill -0 "$wrk" 2>/dev/null && samples+=("$(status_kb "$relay" VmRSS)")
  done
  wait "$wrk" || true
  t1=$(cpu_ticks "$relay")
  ((NMT)) && "$JBIN/jcmd" "$relay" VM.native_memory summary >"$OUT/nmt-$tag.txt" 2>&1 || true
  cp "/proc/$relay/smaps_rollup" "$OUT/smaps_rollup-$tag.txt" 2>/dev/null || true
  local peak anon file
  peak=$(status_kb "$relay" VmHWM); anon=$(rollup_kb "$relay" Anonymous); file=$(( $(rollup_kb "$relay" Rss) - anon ))
  sleep "$SETTLE"
  local after; after=$(status_kb "$relay" VmRSS)
  if ((AOT)); then  # a training run writes its AOT cache at exit: give it time (lib.sh's stop kills after 5 s)
    kill -TERM "$relay" 2>/dev/null || true
    for _ in $(seq 900); do kill -0 "$relay" 2>/dev/null || break; sleep 0.1; done
  fi
  stop "$relay"
  read -r rps total _ < <(load_result h1 "$OUT/wrk-$tag.txt")
  # steady: the median of the samples in the last third of the load
  local n=${#samples[@]} steady
  steady=$(printf '%s\n' "${samples[@]:$((n * 2 / 3))}" | sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : 0}')
  local list; list=$(for i in "${samples[@]}"; do mib "$i"; printf ' '; done)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$(mib "$idle")" "$(mib "$steady")" "$(mib "$peak")" \
    "$(mib "$after")" "$(mib "$anon")" "$(mib "$file")" "$rps" \
    "$(awk -v a="$t0" -v b="$t1" -v t="$TICK" -v n="$total" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) / t * 1e6 / n : 0) }')" \
    "${list% }" >>"$RESULTS"
  log "$tag: steady $(mib "$steady"), peak $(mib "$peak"), after $(mib "$after") MiB; $rps req/s"
}

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  if ((round % 2)); then order=("${VARIANTS[@]}"); else order=(); for ((i = ${#VARIANTS[@]} - 1; i >= 0; i--)); do order+=("${VARIANTS[i]}"); done; fi
  for v in "${order[@]}"; do run_variant "$round" "$v"; done
done

{
  echo "# footprint $STAMP: wrk -t1 -c$CONNECTIONS -d${DURATION}s, VmRSS every ${SAMPLE}s, $ROUNDS round(s)"
  echo "h3relay: $(tail -1 "$OUT/h3relay-version.txt"); java: $("$JAVA" -version 2>&1 | head -1)"
  echo "pinning: $( ((${#PIN_PROXY[@]})) && echo "h3relay on CPU 0, wrk and nginx on CPU 1" || echo none); AOT cache: $( ((AOT)) && echo on || echo off)"
  echo "load average before: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)"
  for v in "${VARIANTS[@]}"; do echo "variant ${v%%=*}: ${v#*=}"; done
  echo
  echo "| round | variant | RSS idle | steady under load | peak (VmHWM) | ${SETTLE}s after | RssAnon / RssFile at end | req/s | proxy CPU µs/req |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' 'NR > 1 {printf "| %s | %s | %s | %s | %s | %s | %s / %s | %.0f | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10}' "$RESULTS"
} | tee "$OUT/summary.md"
