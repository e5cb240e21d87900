#include "cpu/threads.hpp"

#include <atomic>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastopt::cpu {

int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

namespace {
std::atomic<int> g_num_threads{max_threads()};
}

int get_num_threads() { return g_num_threads.load(std::memory_order_relaxed); }

void set_num_threads(int n) { g_num_threads.store(n, std::memory_order_relaxed); }

bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

}  // namespace fastopt::cpu
