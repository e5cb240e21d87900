// The regularization kernels (dropout, feature noise, mixup, image
// augmentation), compiled once per instruction set like those of
// kernel_list.hpp and dispatched through the same table. A separate list
// keeps the optimizer kernels' translation units independent of this one.
#pragma once

#include "cpu/nn.hpp"
#include "cpu/tensor_group.hpp"

#define FASTOPT_NN_KERNELS(X)                                                      \
  X(void, dropout, (const DropoutArgs& args, DType dtype, int num_threads))        \
  X(void, philox_blocks, (std::uint64_t seed, std::uint64_t offset,                \
                          std::uint64_t first, std::int64_t count,                 \
                          std::uint32_t* words))                                   \
  X(void, gaussian_noise, (const NoiseArgs& args, DType dtype, int num_threads))   \
  X(void, mix_rows, (const MixRowsArgs& args, DType dtype, int num_threads))       \
  X(void, augment_images, (const AugmentArgs& args, int num_threads))
