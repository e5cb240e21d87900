// One Adam step over a small parameter vector with fastopt's update rule, the
// element function that fastopt's CPU and CUDA kernels apply to every element.
// Prints the parameters and both moments after the step, one element per line,
// with enough digits to round-trip a double.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "fastopt/rules/adam.hpp"

int main() {
  std::vector<double> param = {0.5, -1.25, 2.0, 0.0, -0.75};
  const std::vector<double> grad = {0.1, -0.2, 0.3, -0.4, 0.5};
  std::vector<double> exp_avg(param.size(), 0.0);
  std::vector<double> exp_avg_sq(param.size(), 0.0);
  double unused_max = 0.0;  // the AMSGrad maximum, not touched without AMSGrad

  fastopt::AdamHyper hyper;
  hyper.lr = 0.01;
  hyper.weight_decay = 0.1;
  hyper.decay = fastopt::Decay::decoupled;  // AdamW

  // The coefficients depend only on the step number, so the host computes
  // them once per tensor and step; the element loop then has no pow or branch.
  const std::int64_t step = 1;
  const auto coef = fastopt::adam_coef<double>(hyper, step);
  for (std::size_t i = 0; i < param.size(); ++i) {
    fastopt::adam_update<double, fastopt::Decay::decoupled, false>(
        param[i], grad[i], exp_avg[i], exp_avg_sq[i], unused_max, coef);
  }
  for (std::size_t i = 0; i < param.size(); ++i) {
    std::printf("%.17g %.17g %.17g\n", param[i], exp_avg[i], exp_avg_sq[i]);
  }
  return 0;
}
