#!/usr/bin/env bash
# Measure which lines of the LIBSVM parser a corpus of the native target reaches. The script
# builds the target with clang's source-based coverage and replays the corpus once. Then it
# prints llvm-cov's summary of csrc/io/svmlight.cpp and the hit count of each parser error.
#
#   bash fuzz/native/coverage.sh CORPUS_DIR...
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$#" -eq 0 ]; then
  echo "usage: bash fuzz/native/coverage.sh CORPUS_DIR..." >&2
  exit 2
fi

out="build/fuzz/native-coverage"
mkdir -p "$out"
clang++ -std=c++17 -g -O1 -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
  -Icsrc -Icsrc/include -DFASTOPT_SVMLIGHT_MIN_PIECE=16 \
  fuzz/native/svmlight_parser.cpp csrc/io/svmlight.cpp csrc/cpu/threads.cpp \
  -o "$out/svmlight_parser"
rm -f "$out"/*.profraw
LLVM_PROFILE_FILE="$out/replay.profraw" "$out/svmlight_parser" -runs=0 "$@" > "$out/replay.log" 2>&1
llvm-profdata merge -sparse "$out/replay.profraw" -o "$out/replay.profdata"
llvm-cov report "$out/svmlight_parser" -instr-profile="$out/replay.profdata" csrc/io/svmlight.cpp
# Each malformed-line message of the parser is one `error = "..."` assignment.
llvm-cov show "$out/svmlight_parser" -instr-profile="$out/replay.profdata" \
  csrc/io/svmlight.cpp > "$out/svmlight.cpp.txt"
python3 - "$out/svmlight.cpp.txt" <<'PY'
import re
import sys

hit = missed = 0
for line in open(sys.argv[1]):
    parts = line.split("|", 2)
    if len(parts) < 3 or "error = \"" not in parts[2]:
        continue
    count = parts[1].strip()
    reached = bool(count) and count != "0"
    hit += reached
    missed += not reached
    print(f"  {'hit ' if reached else 'MISS'} {count:>8} line {parts[0].strip()}: {parts[2].strip()[:70]}")
print(f"parser error messages reached: {hit} of {hit + missed}")
PY
