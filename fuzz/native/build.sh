#!/usr/bin/env bash
# Build the native libFuzzer targets of fuzz/native/ with clang into OUTDIR (default
# build/fuzz/native), with AddressSanitizer and UndefinedBehaviorSanitizer, and
# libFuzzer's runtime as a shared library for the atheris targets.
#
#   bash fuzz/native/build.sh [OUTDIR]
#
# The targets link the library's C++ sources directly, without Python. They build without
# OpenMP, so a run is deterministic; FASTOPT_SVMLIGHT_MIN_PIECE makes the parser split even
# small inputs into pieces, so the code that joins pieces is fuzzed as well.
set -euo pipefail
cd "$(dirname "$0")/../.."

out="${1:-build/fuzz/native}"
cxx="${FUZZ_CXX:-clang++}"
if ! command -v "$cxx" > /dev/null 2>&1; then
  echo "fuzz/native/build.sh: $cxx not found; install clang (Debian: apt-get install clang)" >&2
  exit 1
fi
mkdir -p "$out"
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=all -Icsrc -Icsrc/include)

"$cxx" "${flags[@]}" -DFASTOPT_SVMLIGHT_MIN_PIECE=16 \
  fuzz/native/svmlight_parser.cpp csrc/io/svmlight.cpp csrc/cpu/threads.cpp \
  -o "$out/svmlight_parser"
echo "fuzz/native/build.sh: built $out/svmlight_parser"

# libFuzzer as a shared library, for the atheris targets (.ci/fuzz preloads it): the
# fastopt._core that .ci/fuzz builds with -fsanitize=fuzzer-no-link needs clang's own
# libFuzzer, because the copy inside atheris's wheel lacks __sancov_lowest_stack, and
# it must be loaded before the module is.
runtime="$("$cxx" -print-runtime-dir)/libclang_rt.fuzzer_no_main-$(uname -m).a"
if [ ! -f "$runtime" ]; then
  echo "fuzz/native/build.sh: $runtime not found; install clang's runtimes (Debian: libclang-rt-N-dev)" >&2
  exit 1
fi
"$cxx" -shared -o "$out/libfuzzer-runtime.so" -Wl,--whole-archive "$runtime" \
  -Wl,--no-whole-archive -lpthread
echo "fuzz/native/build.sh: built $out/libfuzzer-runtime.so"
