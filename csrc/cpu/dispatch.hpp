// Runtime choice among the kernel builds for each instruction set, made once
// when the module loads (as NumPy and PyTorch do), so one portable wheel runs
// AVX2 or AVX-512 code where the CPU has it.
#pragma once

#include <string>
#include <vector>

#include "cpu/kernel_list.hpp"
#include "cpu/nn_kernel_list.hpp"

namespace fastopt::cpu {

struct KernelTable {
#define FASTOPT_TABLE_FIELD(ret, name, args) ret(*name) args;
  FASTOPT_KERNELS(FASTOPT_TABLE_FIELD)
  FASTOPT_NN_KERNELS(FASTOPT_TABLE_FIELD)
#undef FASTOPT_TABLE_FIELD
};

const KernelTable& kernels();

// Name of the instruction set in use: "baseline", "avx2" or "avx512".
const std::string& active_isa();

// Instruction sets compiled in and supported by this CPU, best last.
std::vector<std::string> available_isas();

// Switches to another available instruction set; returns false if `name` is
// not available. Intended for tests and benchmarks.
bool select_isa(const std::string& name);

}  // namespace fastopt::cpu
