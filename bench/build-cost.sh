#!/usr/bin/env bash
# bench/build-cost.sh: this tree's h3relay against an older build of it (--baseline REV), in req/s and
# proxy CPU per request, measured as many short back-to-back pairs (the method of telemetry-cost.sh).
#
#   load generator ──► old  (REV, built in a detached worktree)  ─┐
#                  ──► new  (this tree, as ./h3relay builds it)   ├► the same TestEndpoint
#
# Both run with the same JVM options (the launcher's, plus $H3RELAY_JAVA_OPTS) and the same config (the h1
# and TLS listeners of run.sh, metrics and access log off), warmed up alike; then pairs of short slices,
# the two right after each other, the order swapped every pair. Reports per protocol the median of the
# pairs' ratios new/old (req/s, proxy CPU per request) with bootstrap 95% intervals. Everything listens
# on 127.0.0.1 only; every process started here and the baseline's worktree are removed on exit.
# Usage: bench/build-cost.sh --baseline REV [--pairs N] [--slice S] [--warmup S] [--protocols "h1 h2"]
#          [--connections N] [--h2-clients N] [--h2-streams N] [--profile] [--install]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASELINE=""      # the old build's commit (anything git rev-parse takes)
PAIRS=40         # pairs of slices per protocol
SLICE=3          # seconds of load per slice
WARMUP=40        # seconds of load per proxy and protocol before its pairs (the JIT needs 20-30 s)
PROTOCOLS="h1 h2"
CONNECTIONS=50   # wrk connections (h1, plaintext)
H2_CLIENTS=10    # h2load connections (h2 over TLS)
H2_STREAMS=10    # h2load concurrent streams per connection
PROFILE=0        # 1: record both with JFR (the same overhead on each side) and list their hot methods
INSTALL=0

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --baseline) BASELINE="$2"; shift 2 ;;
    --pairs) PAIRS="$2"; shift 2 ;;
    --slice) SLICE="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --protocols) PROTOCOLS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --h2-clients) H2_CLIENTS="$2"; shift 2 ;;
    --h2-streams) H2_STREAMS="$2"; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --install) INSTALL=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "build-cost.sh: unknown argument: $1" >&2; usage 2 ;;
  esac
done
[[ -n "$BASELINE" ]] || { echo "build-cost.sh: --baseline REV is needed" >&2; usage 2; }
for v in PAIRS SLICE WARMUP CONNECTIONS H2_CLIENTS H2_STREAMS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "build-cost.sh: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((PAIRS >= 1 && PAIRS <= 500)) || { echo "build-cost.sh: --pairs must be 1-500" >&2; exit 2; }
((SLICE >= 1 && SLICE <= 60)) || { echo "build-cost.sh: --slice must be 1-60 seconds" >&2; exit 2; }
((WARMUP <= 600)) || { echo "build-cost.sh: --warmup must be 0-600 seconds" >&2; exit 2; }
for p in $PROTOCOLS; do
  [[ "$p" == h1 || "$p" == h2 ]] || { echo "--protocols takes h1 and/or h2, got '$p'" >&2; exit 2; }
done
OLD_REV="$(git -C "$ROOT" rev-parse --verify -q "$BASELINE^{commit}")" \
  || { echo "build-cost.sh: --baseline '$BASELINE' is not a commit of this repository" >&2; exit 2; }
NEW_REV="$(git -C "$ROOT" rev-parse HEAD)"
# The new build is this tree as it is: say so when its sources differ from HEAD.
NEW_DIRTY="$(git -C "$ROOT" status --porcelain -- pom.xml 'h3relay-*/pom.xml' 'h3relay-*/src/main' h3relay)"

BENCH_NAME=build-cost.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
check_tools wrk:wrk h2load:nghttp2-client curl:curl mvn:maven ss:iproute2 git:git

prepare_run build-   # builds this tree (./h3relay), the test endpoint's classpath, the certificate

# ---------------------------------------------------------------- the baseline: a detached worktree of REV
OLD_DIR="$OUT/baseline"
remove_baseline() {
  [[ -d "$OLD_DIR" ]] || return 0
  git -C "$ROOT" worktree remove --force "$OLD_DIR" 2>/dev/null || { rm -rf "$OLD_DIR"; git -C "$ROOT" worktree prune; }
}
BUILD_PID=""
stop_build() { if [[ -n "$BUILD_PID" ]]; then stop "$BUILD_PID"; fi; }   # when interrupted during the build
AT_EXIT+=(stop_build remove_baseline)
log "baseline: worktree of ${OLD_REV:0:7} in $OLD_DIR"
git -C "$ROOT" worktree add -q --detach "$OLD_DIR" "$OLD_REV" >"$OUT/baseline-build.log" 2>&1 \
  || { cat "$OUT/baseline-build.log" >&2; die "git worktree add failed"; }
log "baseline: mvn -B -q -o package -DskipTests (offline: dependencies from ~/.m2)"
# In the background, so that an interrupt stops it too (mvn execs its JVM); BUILD_PID is cleared once it
# has ended, so cleanup never signals a pid that may since belong to someone else.
(cd "$OLD_DIR" && exec mvn -B -q -o -Dstyle.color=never package -DskipTests) >>"$OUT/baseline-build.log" 2>&1 &
BUILD_PID=$!
BUILD_RC=0; wait "$BUILD_PID" || BUILD_RC=$?
BUILD_PID=""
((BUILD_RC == 0)) || { cat "$OUT/baseline-build.log" >&2; die "the baseline's build failed; see $OUT/baseline-build.log"; }
[[ -f "$OLD_DIR/h3relay-cli/target/h3relay.jar" ]] || die "the baseline's build made no h3relay-cli/target/h3relay.jar"
"$OLD_DIR/h3relay" --version >"$OUT/baseline-version.txt" 2>>"$OUT/baseline-build.log" \
  || { cat "$OUT/baseline-build.log" >&2; die "the baseline's h3relay --version failed"; }

# Same JVM options: each build runs through its own launcher; their JVM option lines must be the same.
jvm_lines() { grep -E '^(JVM_OPTS=|\(\( \$\(java_major|exec )' "$1"; }
if ! diff <(jvm_lines "$ROOT/h3relay") <(jvm_lines "$OLD_DIR/h3relay") >"$OUT/launcher-jvm-options.diff"; then
  die "the two launchers start the JVM differently (see $OUT/launcher-jvm-options.diff); the comparison would not be like for like"
fi

# ---------------------------------------------------------------- endpoint and the two proxies
EP_PORT=$(free_port) OLD_H1=$(free_port) OLD_TLS=$(free_port) OLD_ADMIN=$(free_port)
NEW_H1=$(free_port) NEW_TLS=$(free_port) NEW_ADMIN=$(free_port)
start_endpoint "$EP_PORT"

tcp_relay_yaml "$OLD_H1" "$OLD_TLS" "$OLD_ADMIN" off >"$OUT/old.yaml"
tcp_relay_yaml "$NEW_H1" "$NEW_TLS" "$NEW_ADMIN" off >"$OUT/new.yaml"
# The older CLI must take the generated config as it is (the same format): check before starting it.
for side in old new; do
  launcher="$ROOT/h3relay"; [[ "$side" == old ]] && launcher="$OLD_DIR/h3relay"
  "$launcher" validate "$OUT/$side.yaml" >"$OUT/$side-validate.txt" 2>&1 \
    || { cat "$OUT/$side-validate.txt" >&2; die "the $side build does not accept $OUT/$side.yaml"; }
done
H3RELAY_JAVA_OPTS="$(jfr_opts old)" "$OLD_DIR/h3relay" serve -c "$OUT/old.yaml" >"$OUT/old.log" 2>&1 &
OLD_PID=$!; STARTED+=("$OLD_PID")
H3RELAY_JAVA_OPTS="$(jfr_opts new)" "$ROOT/h3relay" serve -c "$OUT/new.yaml" >"$OUT/new.log" 2>&1 &
NEW_PID=$!; STARTED+=("$NEW_PID")
wait_http "http://127.0.0.1:$OLD_H1/" old "$OLD_PID"
wait_http "http://127.0.0.1:$NEW_H1/" new "$NEW_PID"
log "old (${OLD_REV:0:7}; pid $OLD_PID) and new (${NEW_REV:0:7}${NEW_DIRTY:+ + uncommitted changes}; pid $NEW_PID) up"

url_of() {  # url_of TARGET PROTO
  case "$1:$2" in
    old:h1) echo "http://127.0.0.1:$OLD_H1/" ;;
    old:h2) echo "https://127.0.0.1:$OLD_TLS/" ;;
    new:h1) echo "http://127.0.0.1:$NEW_H1/" ;;
    new:h2) echo "https://127.0.0.1:$NEW_TLS/" ;;
  esac
}
pid_of() { [[ "$1" == old ]] && echo "$OLD_PID" || echo "$NEW_PID"; }

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
pair_init
for proto in $PROTOCOLS; do
  pair_run "$proto" old new
done

# ---------------------------------------------------------------- report
pair_profiles old new
{
  echo "| proto | pairs | req/s new/old: median of pairs [95% interval] | pairs with new slower | req/s old -> new (medians) | proxy CPU µs/req old -> new (medians) | proxy CPU/req new/old: median of pairs [95% interval] | pairs with more CPU/req in new | endpoint CPU/req new/old (control) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for proto in $PROTOCOLS; do
    pair_row "$proto" old new ratio
  done
} >"$OUT/summary.md"

cat >"$OUT/run.txt" <<EOF
date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
command: bench/build-cost.sh --baseline $BASELINE --pairs $PAIRS --slice $SLICE --warmup $WARMUP --protocols "$PROTOCOLS" --connections $CONNECTIONS --h2-clients $H2_CLIENTS --h2-streams $H2_STREAMS$( ((PROFILE)) && echo " --profile")
old: $OLD_REV ($(tail -1 "$OUT/baseline-version.txt"))
new: $NEW_REV ($(tail -1 "$OUT/h3relay-version.txt"))${NEW_DIRTY:+ plus uncommitted changes to:
$NEW_DIRTY}
load: h1 wrk -t1 -c$CONNECTIONS (plaintext); h2 h2load -t1 -c$H2_CLIENTS -m$H2_STREAMS (TLS)
nproc: $(nproc)
cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
kernel: $(uname -r)
java: $("$JAVA" -version 2>&1 | head -1)
H3RELAY_JAVA_OPTS: ${H3RELAY_JAVA_OPTS:-(none)}
load average before the warm-up: $LOAD_BEFORE
load average at end: $(cut -d' ' -f1-3 /proc/loadavg)
slices: $SLICES
EOF
echo
cat "$OUT/run.txt"
echo
cat "$OUT/summary.md"
