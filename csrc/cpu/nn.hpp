// Plain-C++ arguments of the regularization kernels (dropout, feature noise,
// mixup, image augmentation). The bindings (bindings/bind_nn.cpp) validate
// every array and value before they fill these.
#pragma once

#include <cstdint>

#include "cpu/tensor_group.hpp"

namespace fastopt::cpu {

// out = x * m, m_i = scale when element i is kept and 0 when dropped. The
// mask comes from the Philox stream (seed, offset) or, when mask_in is set,
// from a bit-packed mask: bit i % 8 of byte i / 8 (NumPy's
// packbits(bitorder="little")) is 1 for a kept element.
struct DropoutArgs {
  std::int64_t n = 0;
  const void* x = nullptr;
  void* out = nullptr;  // may be x (in place)
  std::uint64_t seed = 0;
  std::uint64_t offset = 0;
  std::uint32_t threshold = 0;        // philox::drop_threshold(p)
  double scale = 1.0;                 // 1 / (1 - p)
  const std::uint8_t* mask_in = nullptr;
  std::uint8_t* mask_out = nullptr;   // (n + 7) / 8 bytes, or null
};

// out = x + sigma * z, z_i standard normal from the Philox stream
// (seed, offset) by the Box-Muller transform: block b gives the normals of
// elements 2b and 2b + 1.
struct NoiseArgs {
  std::int64_t n = 0;
  const void* x = nullptr;
  void* out = nullptr;  // may be x
  std::uint64_t seed = 0;
  std::uint64_t offset = 0;
  double sigma = 0.0;
};

// out[i, :] = lam[i] * x[i, :] + (1 - lam[i]) * x[partner[i], :] over rows of
// `cols` values. out must not overlap x, because a row is read as a partner
// after it may have been written.
struct MixRowsArgs {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  const void* x = nullptr;
  void* out = nullptr;
  const std::int64_t* partner = nullptr;
  const double* lam = nullptr;
};

// Storage type of an image batch.
enum class PixelType : int { uint8 = 0, float32 = 1 };

// Per-image parameters of the augmentation pipeline, one row of
// kAugmentParamCount float64 values per image, in this column order.
enum AugmentParam : int {
  kParamHflip = 0,       // 1: mirror left-right (after the crop, before the warp)
  kParamVflip = 1,       // 1: mirror top-bottom
  kParamTop = 2,         // crop window origin in the padded image, integers
  kParamLeft = 3,
  kParamAngle = 4,       // rotation, degrees counter-clockwise as displayed
  kParamScale = 5,       // zoom factor > 0
  kParamBrightness = 6,  // factors >= 0; 1 leaves the image unchanged
  kParamContrast = 7,
  kParamSaturation = 8,
  kAugmentParamCount = 9,
};

// The whole pipeline per image: crop (with padding) -> flips -> affine warp
// (bilinear, fill outside the crop window) -> brightness -> contrast ->
// saturation -> clamp to [0, max_value] after each color step -> optional
// normalization (v / max_value - mean_c) / std_c. Input (N, H, W, C), output
// (N, out_h, out_w, C) of out_type; uint8 output is rounded to nearest.
struct AugmentArgs {
  std::int64_t n = 0, h = 0, w = 0, c = 0;
  std::int64_t out_h = 0, out_w = 0;
  std::int64_t padding = 0;
  PixelType in_type = PixelType::uint8;
  PixelType out_type = PixelType::uint8;
  const void* in = nullptr;
  void* out = nullptr;
  const double* params = nullptr;  // (n, kAugmentParamCount)
  bool warp = false;               // false: the geometry is integer moves only
  bool color = false;              // any color factor may differ from 1
  double fill = 0.0;               // in pixel units
  double max_value = 255.0;        // 255 for uint8 input, 1 for float32
  const double* mean = nullptr;    // c values, or null for no normalization
  const double* std = nullptr;
};

}  // namespace fastopt::cpu
