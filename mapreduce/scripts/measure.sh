#!/usr/bin/env bash
# Measure Lab 1 (release build):
#  1. wall time of test-mr.sh's seven tests on the real binaries, on the
#     default suite's quick clock and on Go's (the ignored *_go_clock tests),
#     all at once (the default) and one at a time;
#  2. wc on 8 generated files of ~500 KB: mrsequential against 1, 2 and 3
#     workers, in one mrbench run so the ratios compare like with like.
# Usage: mapreduce/scripts/measure.sh [mrbench flags, e.g. --repeat 3]
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "== building (release)"
cargo build --release -q -p mapreduce -p mrtools --bins --tests

for threads in default 1; do
    if [ "$threads" = default ]; then args=(); label="all at once"; else args=(--test-threads=1); label="one at a time"; fi
    echo "== the seven real-process tests, $label"
    start=$(date +%s.%N)
    cargo test --release -q -p mapreduce --test real_mr -- \
        --include-ignored --skip bad_input:: --nocapture "${args[@]}" 2>&1 \
        | grep -oE 'TIMING .*|test result.*' | sed 's/^TIMING /  /'
    end=$(date +%s.%N)
    echo "  total wall $(echo "$end - $start" | bc) s"
done

echo "== wc: sequential vs workers"
cargo run --release -q -p mrtools --bin mrbench -- "$@"
