#!/usr/bin/env bash
# Runs each libFuzzer target in fuzz/ for a while (FUZZ_SECONDS each, 30 by default): the audit
# chain check with both folds, and the IP rules with the country table. The machine's one stable
# toolchain builds them (cargo fuzz without sanitizers: Rust's own checks catch what a sanitizer
# would in this safe code). A crash fails the run and leaves its input in fuzz/artifacts/.
#   scripts/fuzz.sh                 # every target, 30 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh chain_check
source "$(dirname "$0")/lib.sh"
cd "$ROOT/fuzz"
seconds="${FUZZ_SECONDS:-30}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
mkdir -p target
for t in "${targets[@]}"; do
  say "Fuzzing $t for ${seconds}s"
  mkdir -p "corpus/$t"
  set +e
  cargo fuzz run --sanitizer none "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"target/$t.log" 2>&1
  rc=$?
  set -e
  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|panicked|ERROR|SUMMARY|Test unit written" \
    "target/$t.log" || true
  if [ $rc != 0 ]; then
    tail -40 "target/$t.log"
    die "fuzz target $t failed (exit $rc); inputs that fail are in fuzz/artifacts/$t/"
  fi
done
