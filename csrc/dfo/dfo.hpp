// Operators of fastopt.dfo: tournament selection, crossover and mutation of
// the genetic algorithm, and the move and acceptance steps of simulated
// annealing. Compiled once, not per instruction set: their cost is a few draws
// and a few flops per gene, far below the objective they feed.
//
// Every random number comes from the counter-based generator of random.hpp:
// draw k of row r of a call is a pure function of (seed, stream, r, k). Rows
// are independent, so a call gives the same result on any number of threads.
// Each operator documents which draw it reads for what. A test can then fetch
// the same numbers through uniform_draws and replay the formula.
// Callers validate shapes, bounds and probabilities and hold no GIL.
#pragma once

#include <cstdint>

namespace fastopt::dfo {

// The (seed, stream) pair that names the draws of one operator call.
struct Draws {
  std::uint64_t seed = 0;
  std::uint64_t stream = 0;
};

// out[r * num_draws + k] = draw k of row r, uniform in [0, 1).
void uniform_draws(Draws draws, std::int64_t rows, std::int64_t num_draws, double* out,
                   int num_threads);

// Tournament selection: winner i is the index of the smallest fitness among
// `size` candidates. Candidate j is floor(u_j * n) for draw j of row i. Ties
// go to the earlier candidate, and NaN loses to any number.
void tournament(const double* fitness, std::int64_t n, std::int64_t num_select, std::int64_t size,
                Draws draws, std::int64_t* winners, int num_threads);

// Crossovers read `pairs` pairs of parents from a C-order (2 * pairs, genes)
// array, pair p in rows 2p and 2p + 1. They write two children per pair in
// the same rows of `children`. Draw 0 of row p decides whether pair p recombines
// (u < prob); otherwise the children copy their parents.

// Simulated binary crossover (Deb & Agrawal 1995). Gene j recombines when
// draw 1 + 3j < 0.5. Its spread factor comes from u = draw 2 + 3j:
// beta = (2u)^(1/(eta+1)) for u <= 0.5, else (1 / (2 (1 - u)))^(1/(eta+1)).
// The children are c1 = ((1 + beta) p1 + (1 - beta) p2) / 2 and
// c2 = ((1 - beta) p1 + (1 + beta) p2) / 2. They are swapped when
// draw 3 + 3j < 0.5, then clipped to [lower, upper].
void sbx(const double* parents, std::int64_t pairs, std::int64_t genes, const double* lower,
         const double* upper, double eta, double prob, Draws draws, double* children,
         int num_threads);

// BLX-alpha (Eshelman & Schaffer 1993): child k's gene j is
// lo - alpha d + u (1 + 2 alpha) d, clipped to [lower, upper]. Here
// lo = min(p1, p2), d = |p1 - p2| and u = draw 1 + 2j + k.
void blend(const double* parents, std::int64_t pairs, std::int64_t genes, const double* lower,
           const double* upper, double alpha, double prob, Draws draws, double* children,
           int num_threads);

// Uniform crossover: gene j is exchanged when draw 1 + j < 0.5.
template <typename T>
void uniform_crossover(const T* parents, std::int64_t pairs, std::int64_t genes, double prob,
                       Draws draws, T* children, int num_threads);

// One-point (points = 1): genes from c = 1 + floor(draw1 (genes - 1)) on are
// exchanged. Two-point (points = 2): a, b = floor(draw1 (genes + 1)),
// floor(draw2 (genes + 1)) sorted, and genes in [a, b) are exchanged.
template <typename T>
void point_crossover(const T* parents, std::int64_t pairs, std::int64_t genes, int points,
                     double prob, Draws draws, T* children, int num_threads);

// Permutation crossovers over permutations of 0..n-1. The segment is
// [a, b] with a, b = floor(draw1 n), floor(draw2 n) sorted.
// Order crossover (Davis 1985): child 1 keeps parent 1's segment. It fills
// positions b+1, ..., n-1, 0, ..., a-1 with parent 2's remaining genes, in the
// order they appear from position b+1 on, wrapping around. Child 2 is built
// the same way with the parents' roles exchanged.
void order_crossover(const std::int64_t* parents, std::int64_t pairs, std::int64_t n, double prob,
                     Draws draws, std::int64_t* children, int num_threads);
// Partially mapped crossover (Goldberg & Lingle 1985): child 1 keeps parent
// 1's segment and takes parent 2's gene g elsewhere. While g lies in parent
// 1's segment, it is replaced by p2[position of g in p1].
void pmx(const std::int64_t* parents, std::int64_t pairs, std::int64_t n, double prob, Draws draws,
         std::int64_t* children, int num_threads);

// Mutations update `x` (rows, genes) in place.

// Polynomial mutation (Deb & Goyal 1996), the bounded form of Deb's NSGA-II
// code. Gene j mutates when draw 2j < prob. With u = draw 2j + 1,
// d1 = (x - l) / (u_b - l), d2 = (u_b - x) / (u_b - l) and m = 1 / (eta + 1),
// the shift is dq = (2u + (1 - 2u)(1 - d1)^(eta+1))^m - 1 for u < 0.5 and
// dq = 1 - (2(1 - u) + 2(u - 0.5)(1 - d2)^(eta+1))^m otherwise. Then
// x += dq (u_b - l), clipped to the bounds. Genes with equal bounds do not move.
void polynomial_mutation(double* x, std::int64_t rows, std::int64_t genes, const double* lower,
                         const double* upper, double eta, double prob, Draws draws,
                         int num_threads);

// Gaussian mutation: gene j mutates when draw 3j < prob. It moves by
// sigma (upper - lower) z, then is clipped. The normal z comes from
// Box-Muller: z = sqrt(-2 log(1 - draw 3j+1)) cos(2 pi draw 3j+2).
void gaussian_mutation(double* x, std::int64_t rows, std::int64_t genes, const double* lower,
                       const double* upper, double sigma, double prob, Draws draws,
                       int num_threads);

// Bit flip: gene j of a 0/1 row flips when draw j < prob.
void bit_flip(std::uint8_t* x, std::int64_t rows, std::int64_t genes, double prob, Draws draws,
              int num_threads);

// Permutation mutations: row r mutates when draw 0 < prob, at positions
// i, j = floor(draw1 n), floor(draw2 n). Swap exchanges x[i] and x[j];
// inversion reverses x[min(i, j)..max(i, j)].
void swap_mutation(std::int64_t* x, std::int64_t rows, std::int64_t n, double prob, Draws draws,
                   int num_threads);
void inversion_mutation(std::int64_t* x, std::int64_t rows, std::int64_t n, double prob,
                        Draws draws, int num_threads);

// Simulated annealing move on one coordinate per row, a Cauchy step as in
// the fast annealing of Szu & Hartley (1987). Coordinate c = floor(draw0
// genes) of row r moves to x + s tan(pi (draw1 - 0.5)), where
// s = step[r * genes + c]. When that leaves [lower, upper], it moves to
// lower + draw2 (upper - lower) instead. The other coordinates are copied
// and moved[r] receives c.
void coordinate_move(const double* x, std::int64_t rows, std::int64_t genes, const double* step,
                     const double* lower, const double* upper, Draws draws, double* out,
                     std::int64_t* moved, int num_threads);

// Metropolis acceptance: row r accepts its candidate when
// candidate_f <= f or draw 0 < exp(-(candidate_f - f) / temperature); a NaN
// candidate is never accepted. Accepted rows take candidate_f into f.
void metropolis(double* f, const double* candidate_f, std::int64_t rows, double temperature,
                Draws draws, std::uint8_t* accepted, int num_threads);

}  // namespace fastopt::dfo
