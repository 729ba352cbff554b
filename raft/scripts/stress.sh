#!/usr/bin/env bash
# Runs every Raft test (or those matching $1) over seeds $FIRST..$LAST and
# prints each failure as "FAIL <test> <seed>". Usage:
#   raft/scripts/stress.sh [filter] [first] [last]
# e.g. raft/scripts/stress.sh 2c 1 500. Uses the test profile's binaries.
set -u
filter=${1:-_2}
first=${2:-1}
last=${3:-200}
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-raft}
cargo test -p raft --no-run --message-format=json 2>/dev/null |
  grep -o '"executable":"[^"]*raft_2[a-d][^"]*"' | cut -d'"' -f4 | sort -u > /tmp/raft-stress-bins.$$
fails=0
runs=0
while read -r bin; do
  for t in $("$bin" --list 2>/dev/null | grep ': test$' | sed 's/: test$//' | grep -- "$filter"); do
    for s in $(seq "$first" "$last"); do
      runs=$((runs + 1))
      if ! LAB_SEED=$s "$bin" --exact "$t" -q >/dev/null 2>&1; then
        echo "FAIL $t $s"
        fails=$((fails + 1))
      fi
    done
    echo "done $t"
  done
done < /tmp/raft-stress-bins.$$
rm -f /tmp/raft-stress-bins.$$
echo "runs=$runs failures=$fails"
