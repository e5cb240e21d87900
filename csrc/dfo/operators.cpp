// The genetic algorithm's operators and simulated annealing's steps; the
// formulas and draw layouts are documented in dfo.hpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "dfo/dfo.hpp"
#include "dfo/random.hpp"

namespace fastopt::dfo {
namespace {

// Runs body(r) for r in [0, rows) on up to num_threads threads. Each row
// reads only its own draws, so the split does not change any result.
template <typename Body>
void for_rows(std::int64_t rows, int num_threads, Body body) {
#pragma omp parallel for schedule(static) num_threads(num_threads) if (num_threads > 1)
  for (std::int64_t r = 0; r < rows; ++r) body(r);
}

inline double clip(double v, double lo, double hi) { return std::min(std::max(v, lo), hi); }

// Runs body(u, row) for each row of the C-order (rows, genes) array x, with
// u reading that row's draws.
template <typename T, typename Body>
void for_each_row(T* x, std::int64_t rows, std::int64_t genes, Draws draws, int num_threads,
                  Body body) {
  for_rows(rows, num_threads, [&](std::int64_t r) {
    const RowDraws u(draws, r);
    body(u, x + r * genes);
  });
}

// Copies each parent pair p into its children. When the pair recombines
// (draw 0 < prob), it then runs body(u, c1, c2, p1): c1 and c2 = c1 + genes
// are the children, p1 and p1 + genes the parents, and u reads row p's draws.
template <typename T, typename Body>
void for_pairs(const T* parents, std::int64_t pairs, std::int64_t genes, double prob, Draws draws,
               T* children, int num_threads, Body body) {
  for_rows(pairs, num_threads, [&](std::int64_t p) {
    const RowDraws u(draws, p);
    const T* p1 = parents + 2 * p * genes;
    T* c1 = children + 2 * p * genes;
    std::copy(p1, p1 + 2 * genes, c1);
    if (u(0) < prob) body(u, c1, c1 + genes, p1);
  });
}

}  // namespace

void uniform_draws(Draws draws, std::int64_t rows, std::int64_t num_draws, double* out,
                   int num_threads) {
  for_each_row(out, rows, num_draws, draws, num_threads, [&](const RowDraws& u, double* row) {
    for (std::int64_t k = 0; k < num_draws; ++k) row[k] = u(k);
  });
}

void tournament(const double* fitness, std::int64_t n, std::int64_t num_select, std::int64_t size,
                Draws draws, std::int64_t* winners, int num_threads) {
  for_rows(num_select, num_threads, [&](std::int64_t i) {
    const RowDraws u(draws, i);
    std::int64_t best = u.index(0, n);
    for (std::int64_t j = 1; j < size; ++j) {
      const std::int64_t c = u.index(j, n);
      // A number beats a NaN incumbent, and NaN candidates never win.
      if (fitness[c] < fitness[best] || (std::isnan(fitness[best]) && !std::isnan(fitness[c]))) {
        best = c;
      }
    }
    winners[i] = best;
  });
}

void sbx(const double* parents, std::int64_t pairs, std::int64_t genes, const double* lower,
         const double* upper, double eta, double prob, Draws draws, double* children,
         int num_threads) {
  const double exponent = 1.0 / (eta + 1.0);
  for_pairs(parents, pairs, genes, prob, draws, children, num_threads,
            [&](const RowDraws& u, double* c1, double* c2, const double*) {
    for (std::int64_t j = 0; j < genes; ++j) {
      if (u(1 + 3 * j) >= 0.5) continue;
      const double v = u(2 + 3 * j);
      const double beta = v <= 0.5 ? std::pow(2.0 * v, exponent)
                                   : std::pow(1.0 / (2.0 * (1.0 - v)), exponent);
      const double x1 = c1[j];
      const double x2 = c2[j];
      double y1 = 0.5 * ((1.0 + beta) * x1 + (1.0 - beta) * x2);
      double y2 = 0.5 * ((1.0 - beta) * x1 + (1.0 + beta) * x2);
      if (u(3 + 3 * j) < 0.5) std::swap(y1, y2);
      c1[j] = clip(y1, lower[j], upper[j]);
      c2[j] = clip(y2, lower[j], upper[j]);
    }
  });
}

void blend(const double* parents, std::int64_t pairs, std::int64_t genes, const double* lower,
           const double* upper, double alpha, double prob, Draws draws, double* children,
           int num_threads) {
  for_pairs(parents, pairs, genes, prob, draws, children, num_threads,
            [&](const RowDraws& u, double* c1, double* c2, const double*) {
    for (std::int64_t j = 0; j < genes; ++j) {
      const double lo = std::min(c1[j], c2[j]);
      const double d = std::abs(c1[j] - c2[j]);
      const double start = lo - alpha * d;
      const double width = (1.0 + 2.0 * alpha) * d;
      c1[j] = clip(start + u(1 + 2 * j) * width, lower[j], upper[j]);
      c2[j] = clip(start + u(2 + 2 * j) * width, lower[j], upper[j]);
    }
  });
}

template <typename T>
void uniform_crossover(const T* parents, std::int64_t pairs, std::int64_t genes, double prob,
                       Draws draws, T* children, int num_threads) {
  for_pairs(parents, pairs, genes, prob, draws, children, num_threads,
            [&](const RowDraws& u, T* c1, T* c2, const T*) {
    for (std::int64_t j = 0; j < genes; ++j) {
      if (u(1 + j) < 0.5) std::swap(c1[j], c2[j]);
    }
  });
}

template <typename T>
void point_crossover(const T* parents, std::int64_t pairs, std::int64_t genes, int points,
                     double prob, Draws draws, T* children, int num_threads) {
  for_pairs(parents, pairs, genes, prob, draws, children, num_threads,
            [&](const RowDraws& u, T* c1, T* c2, const T*) {
    std::int64_t a = 0;
    std::int64_t b = genes;
    if (points == 1) {
      a = genes > 1 ? 1 + u.index(1, genes - 1) : genes;
    } else {
      a = u.index(1, genes + 1);
      b = u.index(2, genes + 1);
      if (a > b) std::swap(a, b);
    }
    std::swap_ranges(c1 + a, c1 + b, c2 + a);
  });
}

template void uniform_crossover<double>(const double*, std::int64_t, std::int64_t, double, Draws,
                                        double*, int);
template void uniform_crossover<std::uint8_t>(const std::uint8_t*, std::int64_t, std::int64_t,
                                              double, Draws, std::uint8_t*, int);
template void point_crossover<double>(const double*, std::int64_t, std::int64_t, int, double,
                                      Draws, double*, int);
template void point_crossover<std::uint8_t>(const std::uint8_t*, std::int64_t, std::int64_t, int,
                                            double, Draws, std::uint8_t*, int);

namespace {

void segment(const RowDraws& u, std::int64_t n, std::int64_t* a, std::int64_t* b) {
  *a = u.index(1, n);
  *b = u.index(2, n);
  if (*a > *b) std::swap(*a, *b);
}

// One child of order crossover: keeps `keep`'s segment [a, b], fills the
// rest from `other` in its order from position b + 1 on.
void order_child(const std::int64_t* keep, const std::int64_t* other, std::int64_t n,
                 std::int64_t a, std::int64_t b, std::vector<char>& taken, std::int64_t* child) {
  std::fill(taken.begin(), taken.end(), 0);
  for (std::int64_t i = a; i <= b; ++i) {
    child[i] = keep[i];
    taken[keep[i]] = 1;
  }
  std::int64_t pos = (b + 1) % n;
  for (std::int64_t k = 0; k < n; ++k) {
    const std::int64_t g = other[(b + 1 + k) % n];
    if (taken[g]) continue;
    child[pos] = g;
    pos = (pos + 1) % n;
  }
}

// One child of PMX; position_in_keep[g] is g's position in `keep`.
void pmx_child(const std::int64_t* keep, const std::int64_t* other, std::int64_t n, std::int64_t a,
               std::int64_t b, std::vector<std::int64_t>& position_in_keep, std::int64_t* child) {
  for (std::int64_t i = 0; i < n; ++i) position_in_keep[keep[i]] = i;
  for (std::int64_t i = 0; i < n; ++i) {
    if (i >= a && i <= b) {
      child[i] = keep[i];
      continue;
    }
    std::int64_t g = other[i];
    // Follows the mapping keep[k] -> other[k] out of the segment; it ends
    // because both parents are permutations.
    for (std::int64_t k = position_in_keep[g]; k >= a && k <= b; k = position_in_keep[g]) {
      g = other[k];
    }
    child[i] = g;
  }
}

}  // namespace

void order_crossover(const std::int64_t* parents, std::int64_t pairs, std::int64_t n, double prob,
                     Draws draws, std::int64_t* children, int num_threads) {
  for_pairs(parents, pairs, n, prob, draws, children, num_threads,
            [&](const RowDraws& u, std::int64_t* c1, std::int64_t* c2, const std::int64_t* p1) {
    std::int64_t a = 0, b = 0;
    segment(u, n, &a, &b);
    std::vector<char> taken(static_cast<std::size_t>(n));
    order_child(p1, p1 + n, n, a, b, taken, c1);
    order_child(p1 + n, p1, n, a, b, taken, c2);
  });
}

void pmx(const std::int64_t* parents, std::int64_t pairs, std::int64_t n, double prob, Draws draws,
         std::int64_t* children, int num_threads) {
  for_pairs(parents, pairs, n, prob, draws, children, num_threads,
            [&](const RowDraws& u, std::int64_t* c1, std::int64_t* c2, const std::int64_t* p1) {
    std::int64_t a = 0, b = 0;
    segment(u, n, &a, &b);
    std::vector<std::int64_t> position(static_cast<std::size_t>(n));
    pmx_child(p1, p1 + n, n, a, b, position, c1);
    pmx_child(p1 + n, p1, n, a, b, position, c2);
  });
}

void polynomial_mutation(double* x, std::int64_t rows, std::int64_t genes, const double* lower,
                         const double* upper, double eta, double prob, Draws draws,
                         int num_threads) {
  const double exponent = 1.0 / (eta + 1.0);
  for_each_row(x, rows, genes, draws, num_threads, [&](const RowDraws& u, double* row) {
    for (std::int64_t j = 0; j < genes; ++j) {
      const double range = upper[j] - lower[j];
      if (u(2 * j) >= prob || !(range > 0.0)) continue;
      const double v = u(2 * j + 1);
      const double y = row[j];
      double dq = 0.0;
      if (v < 0.5) {
        const double d1 = (y - lower[j]) / range;
        const double val = 2.0 * v + (1.0 - 2.0 * v) * std::pow(1.0 - d1, eta + 1.0);
        dq = std::pow(val, exponent) - 1.0;
      } else {
        const double d2 = (upper[j] - y) / range;
        const double val = 2.0 * (1.0 - v) + 2.0 * (v - 0.5) * std::pow(1.0 - d2, eta + 1.0);
        dq = 1.0 - std::pow(val, exponent);
      }
      row[j] = clip(y + dq * range, lower[j], upper[j]);
    }
  });
}

void gaussian_mutation(double* x, std::int64_t rows, std::int64_t genes, const double* lower,
                       const double* upper, double sigma, double prob, Draws draws,
                       int num_threads) {
  constexpr double kTwoPi = 6.283185307179586;
  for_each_row(x, rows, genes, draws, num_threads, [&](const RowDraws& u, double* row) {
    for (std::int64_t j = 0; j < genes; ++j) {
      if (u(3 * j) >= prob) continue;
      // 1 - u lies in (0, 1], so the logarithm is finite.
      const double radius = std::sqrt(-2.0 * std::log(1.0 - u(3 * j + 1)));
      const double z = radius * std::cos(kTwoPi * u(3 * j + 2));
      row[j] = clip(row[j] + sigma * (upper[j] - lower[j]) * z, lower[j], upper[j]);
    }
  });
}

void bit_flip(std::uint8_t* x, std::int64_t rows, std::int64_t genes, double prob, Draws draws,
              int num_threads) {
  for_each_row(x, rows, genes, draws, num_threads, [&](const RowDraws& u, std::uint8_t* row) {
    for (std::int64_t j = 0; j < genes; ++j) {
      if (u(j) < prob) row[j] = static_cast<std::uint8_t>(row[j] ? 0 : 1);
    }
  });
}

void swap_mutation(std::int64_t* x, std::int64_t rows, std::int64_t n, double prob, Draws draws,
                   int num_threads) {
  for_each_row(x, rows, n, draws, num_threads, [&](const RowDraws& u, std::int64_t* row) {
    if (u(0) >= prob) return;
    std::swap(row[u.index(1, n)], row[u.index(2, n)]);
  });
}

void inversion_mutation(std::int64_t* x, std::int64_t rows, std::int64_t n, double prob,
                        Draws draws, int num_threads) {
  for_each_row(x, rows, n, draws, num_threads, [&](const RowDraws& u, std::int64_t* row) {
    if (u(0) >= prob) return;
    std::int64_t a = 0, b = 0;
    segment(u, n, &a, &b);
    std::reverse(row + a, row + b + 1);
  });
}

void coordinate_move(const double* x, std::int64_t rows, std::int64_t genes, const double* step,
                     const double* lower, const double* upper, Draws draws, double* out,
                     std::int64_t* moved, int num_threads) {
  constexpr double kPi = 3.141592653589793;
  for_rows(rows, num_threads, [&](std::int64_t r) {
    const RowDraws u(draws, r);
    const std::int64_t c = u.index(0, genes);
    std::copy(x + r * genes, x + (r + 1) * genes, out + r * genes);
    double v = x[r * genes + c] + step[r * genes + c] * std::tan(kPi * (u(1) - 0.5));
    if (!(v >= lower[c] && v <= upper[c])) v = lower[c] + u(2) * (upper[c] - lower[c]);
    out[r * genes + c] = clip(v, lower[c], upper[c]);
    moved[r] = c;
  });
}

void metropolis(double* f, const double* candidate_f, std::int64_t rows, double temperature,
                Draws draws, std::uint8_t* accepted, int num_threads) {
  for_rows(rows, num_threads, [&](std::int64_t r) {
    const RowDraws u(draws, r);
    const double fc = candidate_f[r];
    bool accept = false;
    if (!std::isnan(fc)) {
      // A NaN current value is replaced by any candidate that is a number.
      accept = !(fc > f[r]) || u(0) < std::exp(-(fc - f[r]) / temperature);
    }
    accepted[r] = accept ? 1 : 0;
    if (accept) f[r] = fc;
  });
}

}  // namespace fastopt::dfo
