// Image augmentation of a batch in one read of each input image and one
// write of each output image. Per image, a thread:
//   1. maps every output pixel through one affine map (crop offset, flips,
//      rotation and scale composed in float64) to a source position and
//      samples it bilinearly, with `fill` outside the crop window. It writes
//      the samples, times the brightness factor, into a float32 tile private
//      to the thread and sums their grayscale for the contrast step;
//   2. applies contrast, saturation and normalization to the tile and writes
//      the output image.
// An image is processed by one thread from start to end, so results do not
// depend on the thread count.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "cpu/nn_kernel_list.hpp"
#include "cpu/threads.hpp"

namespace fastopt::cpu::FASTOPT_ISA {
namespace {

// ITU-R BT.601 luma weights, the grayscale of Pillow's "L" conversion and of
// torchvision's rgb_to_grayscale (which rounds the red weight to 0.2989).
constexpr float kLumaR = 0.299f;
constexpr float kLumaG = 0.587f;
constexpr float kLumaB = 0.114f;

// Output pixel (x, y) reads source position (a00 x + a01 y + b0,
// a10 x + a11 y + b1). Taps outside [x_lo, x_hi) x [y_lo, y_hi) read fill.
struct SourceMap {
  double a00, a01, b0, a10, a11, b1;
  std::int64_t x_lo, x_hi, y_lo, y_hi;
};

SourceMap source_map(const AugmentArgs& a, const double* p) {
  const double cx = 0.5 * static_cast<double>(a.out_w - 1);
  const double cy = 0.5 * static_cast<double>(a.out_h - 1);

  // Rotation and scale about the centre of the crop frame, inverted: the
  // output is the frame turned counter-clockwise by angle (as displayed, y
  // down) and magnified by scale, so the output reads R(-angle) / scale.
  double r00 = 1.0, r01 = 0.0, r10 = 0.0, r11 = 1.0;
  if (a.warp) {
    const double theta = p[kParamAngle] * (3.14159265358979323846 / 180.0);
    const double inv_s = 1.0 / p[kParamScale];
    const double cs = std::cos(theta) * inv_s;
    const double sn = std::sin(theta) * inv_s;
    r00 = cs;
    r01 = -sn;
    r10 = sn;
    r11 = cs;
  }

  // Frame position u = r (x - c) + c, flipped: u -> (out_w - 1) - u.
  double a00 = r00, a01 = r01, b0 = cx - r00 * cx - r01 * cy;
  double a10 = r10, a11 = r11, b1 = cy - r10 * cx - r11 * cy;
  if (p[kParamHflip] != 0.0) {
    a00 = -a00;
    a01 = -a01;
    b0 = static_cast<double>(a.out_w - 1) - b0;
  }
  if (p[kParamVflip] != 0.0) {
    a10 = -a10;
    a11 = -a11;
    b1 = static_cast<double>(a.out_h - 1) - b1;
  }

  // The crop frame starts at (left - padding, top - padding) in the image.
  const auto left = static_cast<std::int64_t>(p[kParamLeft]) - a.padding;
  const auto top = static_cast<std::int64_t>(p[kParamTop]) - a.padding;
  SourceMap m{a00, a01, b0 + static_cast<double>(left), a10, a11, b1 + static_cast<double>(top),
              std::max<std::int64_t>(0, left), std::min(a.w, left + a.out_w),
              std::max<std::int64_t>(0, top), std::min(a.h, top + a.out_h)};
  return m;
}

template <typename In>
struct Image {
  const In* data;
  std::int64_t w, c;
  const SourceMap* m;
  float fill;

  float at(std::int64_t x, std::int64_t y, std::int64_t ch) const {
    if (x < m->x_lo || x >= m->x_hi || y < m->y_lo || y >= m->y_hi) return fill;
    return static_cast<float>(data[(y * w + x) * c + ch]);
  }
};

// Step 1: geometry (and brightness) into the tile; returns the sum of the
// tile's grayscale, which contrast needs.
template <typename In>
double sample_image(const AugmentArgs& a, const In* img, const double* p, float* tile,
                    bool need_gray) {
  const SourceMap m = source_map(a, p);
  const Image<In> src{img, a.w, a.c, &m, static_cast<float>(a.fill)};
  const std::int64_t c = a.c;
  const float brightness = static_cast<float>(p[kParamBrightness]);
  const float max_value = static_cast<float>(a.max_value);
  double gray_sum = 0.0;
  for (std::int64_t y = 0; y < a.out_h; ++y) {
    float* row = tile + y * a.out_w * c;
    if (!a.warp) {
      // Integer moves only: copy pixels, with no interpolation rounding.
      const auto sy = static_cast<std::int64_t>(m.a11 * static_cast<double>(y) + m.b1);
      for (std::int64_t x = 0; x < a.out_w; ++x) {
        const auto sx = static_cast<std::int64_t>(m.a00 * static_cast<double>(x) + m.b0);
        for (std::int64_t ch = 0; ch < c; ++ch) row[x * c + ch] = src.at(sx, sy, ch);
      }
    } else {
      for (std::int64_t x = 0; x < a.out_w; ++x) {
        const double fx = static_cast<double>(x), fy = static_cast<double>(y);
        const double sx = m.a00 * fx + m.a01 * fy + m.b0;
        const double sy = m.a10 * fx + m.a11 * fy + m.b1;
        const double x0d = std::floor(sx), y0d = std::floor(sy);
        const auto wx = static_cast<float>(sx - x0d);
        const auto wy = static_cast<float>(sy - y0d);
        // Positions far outside the image (a large rotation of a small scale)
        // are clamped before the integer conversion; they read fill anyway.
        const auto x0 = static_cast<std::int64_t>(std::clamp(x0d, -2.0, static_cast<double>(a.w)));
        const auto y0 = static_cast<std::int64_t>(std::clamp(y0d, -2.0, static_cast<double>(a.h)));
        float* dst = row + x * c;
        if (x0 >= m.x_lo && x0 + 1 < m.x_hi && y0 >= m.y_lo && y0 + 1 < m.y_hi) {
          // All four taps inside the window: read them without bounds checks.
          const In* p00 = img + (y0 * a.w + x0) * c;
          const In* p10 = p00 + a.w * c;
          for (std::int64_t ch = 0; ch < c; ++ch) {
            const auto v00 = static_cast<float>(p00[ch]), v01 = static_cast<float>(p00[c + ch]);
            const auto v10 = static_cast<float>(p10[ch]), v11 = static_cast<float>(p10[c + ch]);
            const float top = v00 + wx * (v01 - v00);
            const float bottom = v10 + wx * (v11 - v10);
            dst[ch] = top + wy * (bottom - top);
          }
          continue;
        }
        for (std::int64_t ch = 0; ch < c; ++ch) {
          const float v00 = src.at(x0, y0, ch), v01 = src.at(x0 + 1, y0, ch);
          const float v10 = src.at(x0, y0 + 1, ch), v11 = src.at(x0 + 1, y0 + 1, ch);
          const float top = v00 + wx * (v01 - v00);
          const float bottom = v10 + wx * (v11 - v10);
          dst[ch] = top + wy * (bottom - top);
        }
      }
    }
    if (a.color) {
      for (std::int64_t k = 0; k < a.out_w * c; ++k) {
        row[k] = std::clamp(row[k] * brightness, 0.0f, max_value);
      }
    }
    if (need_gray) {
      double row_sum = 0.0;
      for (std::int64_t x = 0; x < a.out_w; ++x) {
        const float* px = row + x * c;
        row_sum += c == 3 ? kLumaR * px[0] + kLumaG * px[1] + kLumaB * px[2] : px[0];
      }
      gray_sum += row_sum;
    }
  }
  return gray_sum;
}

// Step 2: contrast, saturation and normalization of the tile, then the write.
template <typename Out>
void finish_image(const AugmentArgs& a, const double* p, float* tile, double gray_mean,
                  Out* out) {
  const std::int64_t c = a.c;
  const std::int64_t pixels = a.out_h * a.out_w;
  const float max_value = static_cast<float>(a.max_value);
  if (a.color) {
    const float contrast = static_cast<float>(p[kParamContrast]);
    const float saturation = static_cast<float>(p[kParamSaturation]);
    const float mean_part = (1.0f - contrast) * static_cast<float>(gray_mean);
    for (std::int64_t k = 0; k < pixels * c; ++k) {
      tile[k] = std::clamp(contrast * tile[k] + mean_part, 0.0f, max_value);
    }
    if (c == 3) {
      for (std::int64_t i = 0; i < pixels; ++i) {
        float* px = tile + i * 3;
        const float gray = kLumaR * px[0] + kLumaG * px[1] + kLumaB * px[2];
        const float gray_part = (1.0f - saturation) * gray;
        for (int ch = 0; ch < 3; ++ch) {
          px[ch] = std::clamp(saturation * px[ch] + gray_part, 0.0f, max_value);
        }
      }
    }
  }
  if (a.mean != nullptr) {
    // (v / max_value - mean) / std as v * scale + shift, per channel.
    float scale[8], shift[8];
    std::vector<float> scale_many, shift_many;
    float* sc = scale;
    float* sh = shift;
    if (c > 8) {
      scale_many.resize(static_cast<std::size_t>(c));
      shift_many.resize(static_cast<std::size_t>(c));
      sc = scale_many.data();
      sh = shift_many.data();
    }
    for (std::int64_t ch = 0; ch < c; ++ch) {
      sc[ch] = static_cast<float>(1.0 / (a.max_value * a.std[ch]));
      sh[ch] = static_cast<float>(-a.mean[ch] / a.std[ch]);
    }
    for (std::int64_t i = 0; i < pixels; ++i) {
      for (std::int64_t ch = 0; ch < c; ++ch) {
        out[i * c + ch] = static_cast<Out>(tile[i * c + ch] * sc[ch] + sh[ch]);
      }
    }
    return;
  }
  if constexpr (std::is_same_v<Out, std::uint8_t>) {
    for (std::int64_t k = 0; k < pixels * c; ++k) {
      // Round half up; the value is already in [0, 255].
      out[k] = static_cast<std::uint8_t>(std::clamp(tile[k] + 0.5f, 0.0f, 255.0f));
    }
  } else {
    std::copy(tile, tile + pixels * c, out);
  }
}

template <typename In, typename Out>
void augment_typed(const AugmentArgs& a, int num_threads) {
  const In* in = static_cast<const In*>(a.in);
  Out* out = static_cast<Out*>(a.out);
  const std::int64_t in_size = a.h * a.w * a.c;
  const std::int64_t out_size = a.out_h * a.out_w * a.c;
  const bool need_gray = a.color;
  const int threads =
      static_cast<int>(std::min<std::int64_t>(threads_for(a.n * out_size, num_threads), a.n));
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    std::vector<float> tile(static_cast<std::size_t>(out_size));
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t i = 0; i < a.n; ++i) {
      const double* p = a.params + i * kAugmentParamCount;
      const double gray_sum = sample_image(a, in + i * in_size, p, tile.data(), need_gray);
      const double gray_mean = gray_sum / static_cast<double>(a.out_h * a.out_w);
      finish_image(a, p, tile.data(), gray_mean, out + i * out_size);
    }
  }
}

}  // namespace

void augment_images(const AugmentArgs& args, int num_threads) {
  const bool in_u8 = args.in_type == PixelType::uint8;
  const bool out_u8 = args.out_type == PixelType::uint8;
  if (in_u8 && out_u8) {
    augment_typed<std::uint8_t, std::uint8_t>(args, num_threads);
  } else if (in_u8) {
    augment_typed<std::uint8_t, float>(args, num_threads);
  } else if (out_u8) {
    augment_typed<float, std::uint8_t>(args, num_threads);
  } else {
    augment_typed<float, float>(args, num_threads);
  }
}

}  // namespace fastopt::cpu::FASTOPT_ISA
