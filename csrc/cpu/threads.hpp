// The thread count used by every fastopt kernel, set from Python.
#pragma once

#include <cstdint>

namespace fastopt::cpu {

int max_threads();             // threads the OpenMP runtime offers (1 without OpenMP)
int get_num_threads();         // current fastopt setting
void set_num_threads(int n);   // n >= 1; callers validate
bool openmp_enabled();

// Below this many elements a call runs on one thread: starting a parallel
// region costs a few microseconds, more than the work it would split.
constexpr std::int64_t kParallelThreshold = 32768;

inline int threads_for(std::int64_t elements, int requested) {
  return elements < kParallelThreshold ? 1 : requested;
}

}  // namespace fastopt::cpu
