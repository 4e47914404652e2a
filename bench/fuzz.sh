#!/usr/bin/env bash
# bench/fuzz.sh: fuzz each Jazzer target (issue 18) for a while, one Maven run per target.
#
#   bench/fuzz.sh [--runs N] [--target NAME]... [--nice N]
#
# Targets are the @FuzzTest methods in h3relay-core's tests (NAME = Class or Class#method; default: all).
# The reactor builds h3relay-core and what it needs (the build's JDK toolchain applies). Each runs with JAZZER_FUZZ=1 for --duration (libFuzzer's -max_total_time), mutating its seed corpus
# (src/test/resources/<package>/<Class>Inputs/<method>/). A crash or hang fails the run; Jazzer writes the
# input as crash-<sha1> (or timeout-<sha1>) into that Inputs folder, so after the fix it stays as a
# regression input that `mvn verify` replays. Inputs that found new coverage go to
# h3relay-core/.cifuzz-corpus/ (not committed). The summary (execs, coverage, findings per target) is
# printed and written to bench/results/fuzz-<time>/summary.tsv.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH_NAME=fuzz
INSTALL=0
source "$ROOT/bench/lib.sh"

RUNS=0
NICE=10
TARGETS=()
ALL_TARGETS=(
  io.h3relay.config.ConfigFuzzTest
  io.h3relay.proxy.Http1HeadFuzzTest
  io.h3relay.listener.h2.Http2FramesFuzzTest
  io.h3relay.proxy.HeaderPathsFuzzTest
  io.h3relay.telemetry.AccessLogFuzzTest
  io.h3relay.it.Http3StreamFuzzTest
)
while (($#)); do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --target) TARGETS+=("$2"); shift 2 ;;
    --nice) NICE="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
((${#TARGETS[@]})) || TARGETS=("${ALL_TARGETS[@]}")

[[ "$RUNS" =~ ^[0-9]+$ ]] || die "bad --runs: $RUNS"

OUT="$ROOT/bench/results/fuzz-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
printf 'target\tseconds\texecs\tcoverage\tresult\n' > "$OUT/summary.tsv"
failed=0
for t in "${TARGETS[@]}"; do
  [[ "$t" == *.* ]] || t="$(printf '%s\n' "${ALL_TARGETS[@]}" | grep -m1 "\.${t%%#*}$")${t#"${t%%#*}"}"
  name="${t##*.}"
  log "fuzzing $name ($( ((RUNS)) && echo "$RUNS inputs or " )10 minutes at most)"
  # jazzer.internal.arg.N are extra libFuzzer arguments.
  # The suite's 3-minute limit per test method (junit-platform.properties) would end the fuzzing at 3 minutes as a
  # "finding" (an InterruptedException, the input then in flight saved as a crash); a campaign may take its 10.
  extra=(-Djazzer.internal.arg.0=-print_final_stats=1 -Djunit.jupiter.execution.timeout.testable.method.default=15m)
  ((RUNS)) && extra+=(-Djazzer.internal.arg.1=-runs="$RUNS")
  # The config loader compiles the file's route and header regexes by design; junit-platform.properties'
  # custom_hook_excludes keeps the regex-injection sanitizer out of io.h3relay.config in regression mode
  # only, so in fuzzing mode that hook is not loaded at all (the JVM runs this one target).
  [[ "$name" == ConfigFuzzTest ]] && extra+=(-Djazzer.disabled_hooks=com.code_intelligence.jazzer.sanitizers.RegexInjection)
  rc=0
  (cd "$ROOT" && JAZZER_FUZZ=1 nice -n "$NICE" mvn -B -o test -pl h3relay-core -am \
      -Dtest="$t" -Dsurefire.failIfNoSpecifiedTests=false \
      "${extra[@]}") \
      > "$OUT/$name.log" 2>&1 || rc=$?
  # libFuzzer's last status line: "#123456 DONE cov: 812 ft: 2400 corp: ..." (or the line before a crash).
  execs="$(grep -aoE '^#[0-9]+' "$OUT/$name.log" | tail -1 | tr -d '#' || true)"
  secs="$(grep -aoE 'Done [0-9]+ runs in [0-9]+ second' "$OUT/$name.log" | tail -1 | grep -oE '[0-9]+ second' | grep -oE '[0-9]+' || true)"
  runs="$(grep -aoE 'stat::number_of_executed_units: *[0-9]+' "$OUT/$name.log" | tail -1 | grep -oE '[0-9]+$' || true)"
  cov="$(grep -aoE 'cov: [0-9]+' "$OUT/$name.log" | tail -1 | grep -oE '[0-9]+' || true)"
  result=ok
  if ((rc != 0)); then
    result="FAILED (see $OUT/$name.log)"; failed=1
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "${secs:-?}" "${runs:-${execs:-?}}" "${cov:-?}" "$result" >> "$OUT/summary.tsv"
  log "$name: execs ${runs:-${execs:-?}}, coverage ${cov:-?}: $result"
done
column -t -s $'\t' "$OUT/summary.tsv"
exit "$failed"
