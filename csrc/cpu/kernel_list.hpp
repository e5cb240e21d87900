// Every kernel compiled once per instruction set, as an X-macro list:
// X(return type, name, parameter list). A new kernel is one line here and
// one definition inside `namespace fastopt::cpu::FASTOPT_ISA` under kernels/.
#pragma once

#include <cstdint>

#include "cpu/tensor_group.hpp"
#include "fastopt/rules/adam.hpp"
#include "fastopt/rules/lamb.hpp"
#include "fastopt/rules/lion.hpp"
#include "fastopt/rules/nadam.hpp"
#include "fastopt/rules/radam.hpp"

namespace fastopt::cpu {

// Sum of squares of every element, and whether every element is finite.
struct GradStats {
  double sumsq = 0.0;
  bool finite = true;
};

}  // namespace fastopt::cpu

#define FASTOPT_KERNELS(X)                                                          \
  X(GradStats, grad_stats, (const TensorGroup& tg, DType dtype, int num_threads))   \
  X(void, roofline, (const TensorGroup& tg, DType dtype, int num_read_only,         \
                     int num_threads))                                              \
  X(void, adam_step, (const TensorGroup& tg, const StepContext& ctx,                \
                      const AdamHyper& h, const std::int64_t* steps))               \
  X(void, nadam_step, (const TensorGroup& tg, const StepContext& ctx,               \
                       const NAdamHyper& h, const std::int64_t* steps,              \
                       const double* mu_products))                                  \
  X(void, radam_step, (const TensorGroup& tg, const StepContext& ctx,               \
                       const RAdamHyper& h, const std::int64_t* steps))             \
  X(void, lion_step, (const TensorGroup& tg, const StepContext& ctx,                \
                      const LionHyper& h))                                          \
  X(void, lamb_step, (const TensorGroup& tg, const StepContext& ctx,                \
                      const LambHyper& h, const std::int64_t* steps))
