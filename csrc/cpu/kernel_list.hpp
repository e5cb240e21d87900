// Every kernel compiled once per instruction set, as an X-macro list:
// X(return type, name, parameter list). A new kernel is one line here and
// one definition inside `namespace fastopt::cpu::FASTOPT_ISA` under kernels/.
#pragma once

#include <cstdint>

#include "cpu/cholesky.hpp"
#include "cpu/hashing.hpp"
#include "cpu/dual_cd.hpp"
#include "cpu/glm.hpp"
#include "cpu/gram.hpp"
#include "cpu/lbfgs.hpp"
#include "cpu/online.hpp"
#include "cpu/newton_cd.hpp"
#include "cpu/owlqn.hpp"
#include "cpu/prox.hpp"
#include "cpu/tensor_group.hpp"
#include "fastopt/rules/adadelta.hpp"
#include "fastopt/rules/adagrad.hpp"
#include "fastopt/rules/adam.hpp"
#include "fastopt/rules/adamax.hpp"
#include "fastopt/rules/lamb.hpp"
#include "fastopt/rules/lion.hpp"
#include "fastopt/rules/nadam.hpp"
#include "fastopt/rules/radam.hpp"
#include "fastopt/rules/rmsprop.hpp"
#include "fastopt/rules/sgd.hpp"

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
  X(double, roofline_read, (const TensorGroup& tg, DType dtype, int num_threads))   \
  X(void, adam_step, (const TensorGroup& tg, const StepContext& ctx,                \
                      const AdamHyper& h, const std::int64_t* steps))               \
  X(void, sgd_step, (const TensorGroup& tg, const StepContext& ctx,                 \
                     const SgdHyper& h, const std::int64_t* steps))                 \
  X(void, adagrad_step, (const TensorGroup& tg, const StepContext& ctx,             \
                         const AdagradHyper& h, const std::int64_t* steps))         \
  X(void, rmsprop_step, (const TensorGroup& tg, const StepContext& ctx,             \
                         const RmspropHyper& h, const std::int64_t* steps))         \
  X(void, adadelta_step, (const TensorGroup& tg, const StepContext& ctx,            \
                          const AdadeltaHyper& h, const std::int64_t* steps))       \
  X(void, adamax_step, (const TensorGroup& tg, const StepContext& ctx,              \
                        const AdamaxHyper& h, const std::int64_t* steps))           \
  X(double, lbfgs_direction, (const LbfgsHistory& h, DType dtype, const void* g,     \
                              void* d, int num_threads))                            \
  X(LbfgsPairDots, lbfgs_pair, (std::int64_t n, DType dtype, const void* x_new,      \
                                const void* x, const void* g_new, const void* g,     \
                                void* s, void* y, double* work, int num_threads))   \
  X(void, nadam_step, (const TensorGroup& tg, const StepContext& ctx,               \
                       const NAdamHyper& h, const std::int64_t* steps,              \
                       const double* mu_products))                                  \
  X(void, radam_step, (const TensorGroup& tg, const StepContext& ctx,               \
                       const RAdamHyper& h, const std::int64_t* steps))             \
  X(void, lion_step, (const TensorGroup& tg, const StepContext& ctx,                \
                      const LionHyper& h))                                          \
  X(void, lamb_step, (const TensorGroup& tg, const StepContext& ctx,                \
                      const LambHyper& h, const std::int64_t* steps))               \
  X(double, owlqn, (OwlqnOp op, const OwlqnArgs& args, DType dtype,                  \
                    int num_threads))                                               \
  X(void, lbfgs_trial, (std::int64_t n, DType dtype, const void* x, const void* d,    \
                        double step, const void* lower, const void* upper, void* out, \
                        int num_threads))                                           \
  X(LbfgsGradientStats, lbfgs_gradient, (std::int64_t n, DType dtype, const void* g,  \
                                         void* out, const void* d, double* work,     \
                                         int num_threads))                           \
  X(double, lbfgs_dot, (std::int64_t n, DType dtype, const void* a, const void* b,    \
                        double* work, int num_threads))                            \
  X(void, prox, (const ProxArgs& args, DType dtype, int num_threads))              \
  X(CsrSummary, csr_summary, (const CsrRows& rows, std::int64_t nnz, int num_threads)) \
  X(double, lazy_sgd_pass, (const CsrRows& rows, const LazySgdHyper& h,              \
                            const LazySgdState& s))                                 \
  X(double, ftrl_pass, (const CsrRows& rows, const FtrlHyper& h, const FtrlState& s)) \
  X(void, lazy_sgd_pass_many, (const CsrRows* rows, const LazySgdHyper& h,           \
                                 const LazySgdState* states, std::int64_t count,     \
                                 double* losses, int num_threads))                   \
  X(void, ftrl_pass_many, (const CsrRows* rows, const FtrlHyper& h,                   \
                           const FtrlState* states, std::int64_t count, double* losses, \
                           int num_threads))                                         \
  X(std::int64_t, hash_rows, (const HashBatch& batch, const HashedRows& out))      \
  X(GlmStatus, glm_value_grad, (const GlmDesign& x, const GlmTarget& t, const double* w, \
                                double* grad, double* margins, const GlmWork& work,   \
                                int num_threads))                                   \
  X(GlmStatus, glm_matvec, (const GlmDesign& x, std::int64_t n_outputs,               \
                            bool fit_intercept, const double* w, double* z,           \
                            const GlmWork& work, int num_threads))                  \
  X(GlmStatus, glm_rmatvec, (const GlmDesign& x, std::int64_t n_outputs,              \
                             bool fit_intercept, const double* r, bool squared,       \
                             double* out, const GlmWork& work, int num_threads))    \
  X(GlmStatus, glm_loss, (const GlmTarget& t, std::int64_t n, const double* z0,        \
                          const double* dz, double step, double* residual,            \
                          double* curvature, double* partials, int num_threads))    \
  X(GlmStatus, glm_hessp, (const GlmDesign& x, const GlmTarget& t,                    \
                           const double* curvature, const double* v, double* out,     \
                           const GlmWork& work, int num_threads))                 \
  X(NewtonCdResult, newton_cd, (const NewtonCdArgs& args))                          \
  X(GlmStatus, glm_gram, (const GlmDesign& x, const double* d, bool fit_intercept,     \
                          double* out, double* work, int num_threads))              \
  X(GramCdResult, gram_cd, (const GramCdArgs& args))                                \
  X(bool, cholesky_factor, (std::int64_t m, double* a, int num_threads))           \
  X(void, cholesky_solve, (std::int64_t m, const double* u, double* b))             \
  X(DualCdResult, dual_cd_epochs, (const DualCdArgs& args))
