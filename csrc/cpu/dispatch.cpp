#include "cpu/dispatch.hpp"

#include <cstdlib>

#define FASTOPT_DECLARE_KERNEL(ret, name, args) ret name args;

namespace fastopt::cpu::baseline {
FASTOPT_KERNELS(FASTOPT_DECLARE_KERNEL)
FASTOPT_NN_KERNELS(FASTOPT_DECLARE_KERNEL)
}
#ifdef FASTOPT_HAVE_AVX2
namespace fastopt::cpu::avx2 {
FASTOPT_KERNELS(FASTOPT_DECLARE_KERNEL)
FASTOPT_NN_KERNELS(FASTOPT_DECLARE_KERNEL)
}
#endif
#ifdef FASTOPT_HAVE_AVX512
namespace fastopt::cpu::avx512 {
FASTOPT_KERNELS(FASTOPT_DECLARE_KERNEL)
FASTOPT_NN_KERNELS(FASTOPT_DECLARE_KERNEL)
}
#endif

namespace fastopt::cpu {
namespace {

#define FASTOPT_FILL_FIELD(ret, name, args) table.name = &isa_ns::name;

KernelTable make_baseline() {
  KernelTable table;
  namespace isa_ns = baseline;
  FASTOPT_KERNELS(FASTOPT_FILL_FIELD)
  FASTOPT_NN_KERNELS(FASTOPT_FILL_FIELD)
  return table;
}

#ifdef FASTOPT_HAVE_AVX2
KernelTable make_avx2() {
  KernelTable table;
  namespace isa_ns = avx2;
  FASTOPT_KERNELS(FASTOPT_FILL_FIELD)
  FASTOPT_NN_KERNELS(FASTOPT_FILL_FIELD)
  return table;
}
#endif

#ifdef FASTOPT_HAVE_AVX512
KernelTable make_avx512() {
  KernelTable table;
  namespace isa_ns = avx512;
  FASTOPT_KERNELS(FASTOPT_FILL_FIELD)
  FASTOPT_NN_KERNELS(FASTOPT_FILL_FIELD)
  return table;
}
#endif

bool cpu_has(const std::string& name) {
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  // libgcc's and compiler-rt's feature bits include the OS check (XGETBV), so
  // a kernel that disabled AVX state is not selected.
  if (name == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (name == "avx512")
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
#endif
  return name == "baseline";
}

struct Dispatch {
  KernelTable table;
  std::string isa;
};

bool load(Dispatch& d, const std::string& name) {
  if (!cpu_has(name)) return false;
  if (name == "baseline") {
    d.table = make_baseline();
#ifdef FASTOPT_HAVE_AVX2
  } else if (name == "avx2") {
    d.table = make_avx2();
#endif
#ifdef FASTOPT_HAVE_AVX512
  } else if (name == "avx512") {
    d.table = make_avx512();
#endif
  } else {
    return false;
  }
  d.isa = name;
  return true;
}

Dispatch& state() {
  static Dispatch d = [] {
    Dispatch init;
    load(init, "baseline");
    for (const std::string& name : available_isas()) load(init, name);
    // FASTOPT_ISA caps the choice, for benchmarks and for reproducing a
    // report from a machine with fewer instruction sets.
    if (const char* forced = std::getenv("FASTOPT_ISA")) load(init, forced);
    return init;
  }();
  return d;
}

}  // namespace

const KernelTable& kernels() { return state().table; }

const std::string& active_isa() { return state().isa; }

std::vector<std::string> available_isas() {
  std::vector<std::string> names{"baseline"};
#ifdef FASTOPT_HAVE_AVX2
  if (cpu_has("avx2")) names.push_back("avx2");
#endif
#ifdef FASTOPT_HAVE_AVX512
  if (cpu_has("avx512")) names.push_back("avx512");
#endif
  return names;
}

bool select_isa(const std::string& name) {
  for (const std::string& available : available_isas())
    if (available == name) return load(state(), name);
  return false;
}

}  // namespace fastopt::cpu
