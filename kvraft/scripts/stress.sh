#!/usr/bin/env bash
# Runs every kvraft test (or those matching a filter) once per seed in
# FIRST..LAST, JOBS at a time, straight from the built test binaries, and
# prints each failure as "FAIL <test> <seed>" followed by a summary.
#   kvraft/scripts/stress.sh [filter] [first] [last]
#   e.g. PROFILE=release JOBS=2 kvraft/scripts/stress.sh _3 1 100
# PROFILE is "test" (the default: cargo test's profile) or "release".
# Replay a failure with: LAB_SEED=<seed> cargo test -p kvraft -- --exact <test>
set -u
filter=${1:-_3}
first=${2:-1}
last=${3:-100}
jobs=${JOBS:-2}
profile=${PROFILE:-test}
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-kv}
flags=()
[ "$profile" = release ] && flags=(--release)
bins=$(cargo test "${flags[@]}" -p kvraft --no-run --message-format=json 2>/dev/null |
  grep -o '"executable":"[^"]*kvraft_3[ab][^"]*"' | cut -d'"' -f4 | sort -u)
out=$(mktemp -d)
for bin in $bins; do
  for t in $("$bin" --list 2>/dev/null | grep ': test$' | sed 's/: test$//' | grep -- "$filter"); do
    for s in $(seq "$first" "$last"); do echo "$bin $t $s"; done
  done
done > "$out/runs"
# One line per run: "<status> <test> <seed> <wall seconds>".
xargs -P "$jobs" -L 1 sh -c '
  start=$(date +%s.%N)
  if LAB_SEED=$2 "$0" --exact "$1" -q >/dev/null 2>&1; then st=ok; else st=FAIL; fi
  echo "$st $1 $2 $(echo "$(date +%s.%N) - $start" | bc)"
' < "$out/runs" | tee "$out/results" | grep --line-buffered '^FAIL'
awk '{ n[$2]++; t[$2]+=$4; if ($1=="FAIL") f[$2]++ }
     END { for (k in n) printf "%-70s %4d runs %3d failed %6.2f s mean wall\n", k, n[k], f[k], t[k]/n[k] }' \
  "$out/results" | sort
echo "runs=$(wc -l < "$out/results") failures=$(grep -c '^FAIL' "$out/results") (results in $out/results)"
