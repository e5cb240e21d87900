"""
fastopt's compiled kernels; use the fastopt package, not this module.
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
import typing_extensions
__all__: list[str] = ['GlmDesign', 'GlmProblem', 'SvmlightParser', 'active_isa', 'adadelta_step', 'adagrad_step', 'adam_step', 'adamax_step', 'augment_images', 'available_isas', 'cholesky', 'cholesky_solve', 'csr_to_csc', 'dfo_bit_flip', 'dfo_blend', 'dfo_coordinate_move', 'dfo_gaussian_mutation', 'dfo_inversion_mutation', 'dfo_metropolis', 'dfo_order_crossover', 'dfo_pmx', 'dfo_point_crossover', 'dfo_polynomial_mutation', 'dfo_sbx', 'dfo_swap_mutation', 'dfo_tournament', 'dfo_uniform_crossover', 'dfo_uniform_draws', 'dropout', 'ftrl_num_globals', 'ftrl_pass', 'ftrl_pass_many', 'gaussian_noise', 'get_num_threads', 'grad_stats', 'gram_cd', 'hash_rows', 'hash_table', 'lamb_step', 'lazy_sgd_num_globals', 'lazy_sgd_pass', 'lazy_sgd_pass_many', 'lbfgs_block', 'lbfgs_direction', 'lbfgs_dot', 'lbfgs_gradient', 'lbfgs_max_history', 'lbfgs_pair', 'lbfgs_trial', 'lion_step', 'max_threads', 'metrics_average_precision', 'metrics_binary_curve', 'metrics_confusion_counts', 'metrics_log_loss', 'metrics_roc_auc', 'mix_rows', 'murmurhash3_32', 'nadam_step', 'newton_cd', 'newton_cd_violation', 'openmp_enabled', 'owlqn_project_direction', 'owlqn_pseudo_gradient', 'owlqn_trial', 'philox_blocks', 'prox_box', 'prox_elastic_net', 'prox_group', 'prox_l1', 'prox_l2', 'prox_nonneg', 'radam_step', 'rmsprop_step', 'roofline', 'roofline_read', 'select_isa', 'set_num_threads', 'sgd_step', 'svmlight_format_rows']
class GlmDesign:
    """
    A validated view of a design matrix X that references, never copies, the caller's arrays.
    """
    def __init__(self, layout: str, n_rows: typing.SupportsInt | typing.SupportsIndex, n_cols: typing.SupportsInt | typing.SupportsIndex, data: typing.Any, indptr: typing.Any = None, indices: typing.Any = None) -> None:
        """
        Check X: layout 'dense_c' or 'dense_f' takes the 2-D array as data; 'csr' and 'csc' take the scipy.sparse data, indptr and indices arrays (int32 or int64, one dtype for both). Raises ValueError on a malformed structure or a non-finite value.
        """
    def gram(self, d: typing.Any, fit_intercept: bool, out: typing.Any = None) -> numpy.ndarray:
        """
        Return G = X^T diag(d) X as a full symmetric float64 (m, m) array, m = n_cols + fit_intercept; with fit_intercept the last row and column hold the column sums of diag(d) X and sum(d). Written into out when given. Raises ValueError when G would need more than 256 MiB. The result does not depend on the thread count.
        """
    def matvec(self, w: typing.Any, n_outputs: typing.SupportsInt | typing.SupportsIndex, fit_intercept: bool, out: typing.Any) -> None:
        """
        Write the margins X coef^T + intercept, (n, K) row-major, into out; w is the flat parameter vector.
        """
    def rmatvec(self, r: typing.Any, n_outputs: typing.SupportsInt | typing.SupportsIndex, fit_intercept: bool, out: typing.Any, squared: bool = False) -> None:
        """
        Write r^T X (r^T (X * X) when squared) into out in the flat parameter layout, followed by the column sums of r when fit_intercept.
        """
    @property
    def layout(self) -> str:
        """
        Storage layout of X.
        """
    @property
    def n_cols(self) -> int:
        """
        Features in X.
        """
    @property
    def n_rows(self) -> int:
        """
        Samples in X.
        """
    @property
    def nbytes(self) -> int:
        """
        Bytes of X read per pass.
        """
    @property
    def nnz(self) -> int:
        """
        Stored values read per pass (n_rows * n_cols when dense).
        """
class GlmProblem:
    """
    The data term of a GLM objective on a GlmDesign: labels, normalized sample weights and loss.
    """
    def __init__(self, design: typing.Any, y: typing.Any, sample_weight: typing.Any, loss: str, n_outputs: typing.SupportsInt | typing.SupportsIndex, fit_intercept: bool, huber_delta: typing.SupportsFloat | typing.SupportsIndex) -> None:
        """
        y is float64 (class indices for multinomial); sample_weight is None or float64 weights summing to 1.
        """
    def dual_cd_epochs(self, upper: typing.Any, row_sqnorm: typing.Any, dual: typing.Any, complement: typing.Any, w: typing.Any, rng_state: typing.SupportsInt | typing.SupportsIndex, inner_tol: typing.SupportsFloat | typing.SupportsIndex, inner_tol_min: typing.SupportsFloat | typing.SupportsIndex, max_epochs: typing.SupportsInt | typing.SupportsIndex, stop_estimate: typing.SupportsFloat | typing.SupportsIndex) -> tuple:
        """
        Run up to max_epochs epochs of dual coordinate descent for L2-regularized logistic regression without an intercept, on X in layout 'csr' or 'dense_c', updating dual, complement (upper - dual) and w = X^T (dual * y) in place. Stop after an epoch whose estimate is at most stop_estimate. Return (epochs, newton_steps, estimate, rng_state, inner_tol).
        """
    def hessp(self, curvature: typing.Any, v: typing.Any, out: typing.Any) -> None:
        """
        Write the Hessian of the data term times v into out, from the curvature that loss() wrote at the same margins.
        """
    def loss(self, z: typing.Any, dz: typing.Any = None, step: typing.SupportsFloat | typing.SupportsIndex = 0.0, residual: typing.Any = None, curvature: typing.Any = None) -> float:
        """
        Return the data term at margins z + step * dz without reading X; write the residuals s_i dloss/dz and the curvature when given.
        """
    def value_grad(self, w: typing.Any, grad: typing.Any = None, margins: typing.Any = None) -> float:
        """
        Return the data term at w; write its gradient into grad and the margins into margins when given. One pass over row layouts, two over column layouts.
        """
    @property
    def curvature_size(self) -> int:
        """
        Length of the curvature array that loss() writes and hessp() reads.
        """
    @property
    def n_params(self) -> int:
        """
        Length of the flat w.
        """
class SvmlightParser:
    """
    Incremental SVMlight / LIBSVM parser; use fastopt.datasets.load_svmlight.
    """
    def __init__(self, source: str, multilabel: bool, zero_based: bool, float32: bool, max_index: typing.SupportsInt | typing.SupportsIndex = -1, n_features: typing.SupportsInt | typing.SupportsIndex = 0, threads: typing.SupportsInt | typing.SupportsIndex = 0) -> None:
        """
        threads: parser threads, 0 for fastopt's setting at each call.
        """
    def feed(self, data: typing_extensions.Buffer, max_lines: typing.SupportsInt | typing.SupportsIndex = -1) -> int:
        """
        Parse the complete lines of a block; return how many bytes were used.
        """
    def finish(self) -> None:
        """
        Parse a last line that has no final newline.
        """
    def set_position(self, position: typing.SupportsInt | typing.SupportsIndex) -> None:
        """
        Set the byte position of the next byte fed.
        """
    def set_stop(self, position: typing.SupportsInt | typing.SupportsIndex) -> None:
        """
        Skip lines that start after this byte position.
        """
    def take(self, shift: typing.SupportsInt | typing.SupportsIndex, int32_indices: bool) -> dict:
        """
        Move the rows parsed so far into a dict of arrays.
        """
    @property
    def lines(self) -> int:
        ...
    @property
    def max_index(self) -> int:
        ...
    @property
    def min_index(self) -> int:
        ...
    @property
    def n_rows(self) -> int:
        ...
    @property
    def nnz(self) -> int:
        ...
    @property
    def position(self) -> int:
        ...
    @property
    def stopped(self) -> bool:
        ...
def active_isa() -> str:
    """
    Instruction set of the kernels in use.
    """
def adadelta_step(params: typing.Any, grads: typing.Any, square_avgs: typing.Any, acc_deltas: typing.Any, steps: typing.Any, *, lr: typing.SupportsFloat | typing.SupportsIndex, rho: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, grad_factor: typing.SupportsFloat | typing.SupportsIndex = 1.0, validate_only: bool = False) -> None:
    """
    Fused Adadelta step over lists of arrays, updated in place.
    """
def adagrad_step(params: typing.Any, grads: typing.Any, state_sums: typing.Any, steps: typing.Any, *, lr: typing.SupportsFloat | typing.SupportsIndex, lr_decay: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, grad_factor: typing.SupportsFloat | typing.SupportsIndex = 1.0, validate_only: bool = False) -> None:
    """
    Fused Adagrad step over lists of arrays, updated in place.
    """
def adam_step(params: typing.Any, grads: typing.Any, exp_avgs: typing.Any, exp_avg_sqs: typing.Any, max_exp_avg_sqs: typing.Any, steps: typing.Any, *, lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, amsgrad: bool, decoupled: bool, grad_factor: typing.SupportsFloat | typing.SupportsIndex = 1.0, validate_only: bool = False) -> None:
    """
    Fused Adam/AdamW step over lists of arrays, updated in place.
    """
def adamax_step(params: typing.Any, grads: typing.Any, exp_avgs: typing.Any, exp_infs: typing.Any, steps: typing.Any, *, lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, grad_factor: typing.SupportsFloat | typing.SupportsIndex = 1.0, validate_only: bool = False) -> None:
    """
    Fused Adamax step over lists of arrays, updated in place.
    """
def augment_images(images: typing.Any, out: typing.Any, params: typing.Any, padding: typing.SupportsInt | typing.SupportsIndex, warp: bool, color: bool, fill: typing.SupportsFloat | typing.SupportsIndex, mean: typing.Any = None, std: typing.Any = None) -> None:
    """
    Crop, flip, warp, color-jitter and normalize a batch (N, H, W, C) into out with the per-image parameters params (N, 9), reading each image once.
    """
def available_isas() -> list[str]:
    """
    Instruction sets compiled in and supported by this CPU.
    """
def cholesky(A: typing.Any) -> bool:
    """
    Factor a symmetric positive definite float64 (m, m) C-contiguous array in place: its upper triangle becomes U with A = U^T U and the rest zeros. Returns False, with A partly overwritten, when a pivot is not positive and finite. Only the upper triangle of A is read. The result does not depend on the thread count.
    """
def cholesky_solve(U: typing.Any, b: typing.Any) -> None:
    """
    Solve U^T U x = b for a factor U from cholesky, writing x into the float64 vector b.
    """
def csr_to_csc(data: typing.Any, indices: typing.Any, indptr: typing.Any, n_cols: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
    """
    Return the CSC arrays (data, indices, indptr, sorted_rows) of a CSR matrix, each column in row order as scipy's tocsc gives them, or None when the structure is malformed. sorted_rows: every CSR row's indices strictly increase (no duplicates).
    """
def dfo_bit_flip(x: typing.Any, prob: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Bit-flip mutation of uint8 rows, in place.
    """
def dfo_blend(parents: typing.Any, lower: typing.Any, upper: typing.Any, alpha: typing.SupportsFloat | typing.SupportsIndex, prob: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> numpy.ndarray:
    """
    BLX-alpha crossover of float64 parent pairs.
    """
def dfo_coordinate_move(x: typing.Any, step: typing.Any, lower: typing.Any, upper: typing.Any, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.int64]]:
    """
    One-coordinate annealing moves of float64 rows: (candidates, moved coordinates).
    """
def dfo_gaussian_mutation(x: typing.Any, lower: typing.Any, upper: typing.Any, sigma: typing.SupportsFloat | typing.SupportsIndex, prob: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Gaussian mutation of float64 rows, in place.
    """
def dfo_inversion_mutation(x: typing.Any, prob: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Inversion mutation of int64 permutation rows, in place.
    """
def dfo_metropolis(f: typing.Any, candidate_f: typing.Any, temperature: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.bool]:
    """
    Metropolis acceptance; accepted rows take candidate_f into f. Returns the mask.
    """
def dfo_order_crossover(parents: typing.Any, prob: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> numpy.ndarray:
    """
    Order crossover (OX) of int64 permutation pairs.
    """
def dfo_pmx(parents: typing.Any, prob: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> numpy.ndarray:
    """
    Partially mapped crossover (PMX) of int64 permutation pairs.
    """
def dfo_point_crossover(parents: typing.Any, points: typing.SupportsInt | typing.SupportsIndex, prob: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> numpy.ndarray:
    """
    One- or two-point crossover of float64 or uint8 parent pairs.
    """
def dfo_polynomial_mutation(x: typing.Any, lower: typing.Any, upper: typing.Any, eta: typing.SupportsFloat | typing.SupportsIndex, prob: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Polynomial mutation of float64 rows, in place.
    """
def dfo_sbx(parents: typing.Any, lower: typing.Any, upper: typing.Any, eta: typing.SupportsFloat | typing.SupportsIndex, prob: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> numpy.ndarray:
    """
    Simulated binary crossover of float64 parent pairs.
    """
def dfo_swap_mutation(x: typing.Any, prob: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Swap mutation of int64 permutation rows, in place.
    """
def dfo_tournament(fitness: typing.Any, num_select: typing.SupportsInt | typing.SupportsIndex, size: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.int64]:
    """
    Indices of num_select tournament winners (smallest fitness) among size candidates.
    """
def dfo_uniform_crossover(parents: typing.Any, prob: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> numpy.ndarray:
    """
    Uniform crossover of float64 or uint8 parent pairs.
    """
def dfo_uniform_draws(seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, rows: typing.SupportsInt | typing.SupportsIndex, num_draws: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Draws of the operators' generator: element [r, k] is draw k of row r, in [0, 1).
    """
def dropout(x: typing.Any, out: typing.Any, p: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, offset: typing.SupportsInt | typing.SupportsIndex, mask: typing.Any = None, mask_out: typing.Any = None) -> None:
    """
    Write x * m into out (which may be x): m_i = 1 / (1 - p) for a kept element, 0 for a dropped one. The mask comes from the Philox stream (seed, offset) or, when given, from the bit-packed `mask`; `mask_out` receives the generated mask packed 8 elements a byte.
    """
def ftrl_pass(data: typing.Any, indices: typing.Any, indptr: typing.Any, y: typing.Any, sample_weight: typing.Any, order: typing.Any, z: typing.Any, n: typing.Any, globals: typing.Any, t: typing.Any, *, loss: typing.SupportsInt | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex, beta: typing.SupportsFloat | typing.SupportsIndex, l1: typing.SupportsFloat | typing.SupportsIndex, l2: typing.SupportsFloat | typing.SupportsIndex, epsilon: typing.SupportsFloat | typing.SupportsIndex, fit_intercept: bool, compute_loss: bool = True) -> float:
    """
    One FTRL-Proximal pass over CSR rows in the given order (None: every row in turn), updating (z, n) in place; returns the sum of the losses measured before each row's update (with compute_loss=False: 0, or NaN when a margin was not finite).
    """
def ftrl_pass_many(data: typing.Any, indices: typing.Any, indptr: typing.Any, Y: typing.Any, sample_weight: typing.Any, order: typing.Any, states: typing.Any, *, loss: typing.SupportsInt | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex, beta: typing.SupportsFloat | typing.SupportsIndex, l1: typing.SupportsFloat | typing.SupportsIndex, l2: typing.SupportsFloat | typing.SupportsIndex, epsilon: typing.SupportsFloat | typing.SupportsIndex, fit_intercept: bool, compute_loss: bool = True) -> numpy.typing.NDArray[numpy.float64]:
    """
    ftrl_pass for several independent solvers with the same settings over the same rows: Y[k] holds the targets of states[k], a tuple (z, n, globals, t). The solvers run in parallel over fastopt's threads; each result equals its single-solver pass. Returns the loss sums.
    """
def gaussian_noise(x: typing.Any, out: typing.Any, sigma: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, offset: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Write x + sigma * z into out (which may be x), z standard normal from the Philox stream (seed, offset) by the Box-Muller transform.
    """
def get_num_threads() -> int:
    """
    Threads used by fastopt's kernels.
    """
def grad_stats(grads: typing.Any) -> tuple:
    """
    Return (sum of squares, all finite) over a list of gradient arrays.
    """
def gram_cd(H: typing.Any, q: typing.Any, w: typing.Any, step: typing.Any, hd: typing.Any, *, a1: typing.SupportsFloat | typing.SupportsIndex, a2: typing.SupportsFloat | typing.SupportsIndex, tol: typing.SupportsFloat | typing.SupportsIndex, max_passes: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    Cyclic coordinate descent on min_D q.D + D.H.D / 2 + a1 |w + D|_1 + a2/2 |w + D|^2 with a dense symmetric H (m, m): updates step (D) and hd (H D, which must equal H times the given step) in place and returns (passes, violation), the largest model violation of the last sweep over all coordinates.
    """
def hash_rows(rows: collections.abc.Iterable, n_bits: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, alternate_sign: bool) -> tuple:
    """
    Hash rows of tokens or dicts; returns (indptr int64, indices int32, data float64).
    """
def hash_table(rows: collections.abc.Iterable, names: collections.abc.Sequence[str], kinds: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], label_index: typing.SupportsInt | typing.SupportsIndex, n_bits: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, alternate_sign: bool, source: str, row_lines: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> tuple:
    """
    Hash rows of str fields by column kind; returns (indptr, indices, data, labels). row_lines[i], the line where row i starts, goes into error messages.
    """
def lamb_step(params: typing.Any, grads: typing.Any, exp_avgs: typing.Any, exp_avg_sqs: typing.Any, steps: typing.Any, *, lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, bias_correction: bool, grad_factor: typing.SupportsFloat | typing.SupportsIndex = 1.0, validate_only: bool = False) -> None:
    """
    Fused two-pass LAMB step over lists of arrays, updated in place.
    """
def lazy_sgd_pass(data: typing.Any, indices: typing.Any, indptr: typing.Any, y: typing.Any, sample_weight: typing.Any, order: typing.Any, coef: typing.Any, l1_applied: typing.Any, state1: typing.Any, state2: typing.Any, average_offset: typing.Any, globals: typing.Any, t: typing.Any, *, loss: typing.SupportsInt | typing.SupportsIndex, method: typing.SupportsInt | typing.SupportsIndex, learning_rate: typing.SupportsInt | typing.SupportsIndex, power_t: typing.SupportsFloat | typing.SupportsIndex, optimal_t0: typing.SupportsFloat | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex, l1: typing.SupportsFloat | typing.SupportsIndex, l2: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, epsilon: typing.SupportsFloat | typing.SupportsIndex, fit_intercept: bool, average_start: typing.SupportsInt | typing.SupportsIndex, intercept_decay: typing.SupportsFloat | typing.SupportsIndex = 1.0, compute_loss: bool = True, n_jobs: typing.SupportsInt | typing.SupportsIndex = 1, block_rows: typing.SupportsInt | typing.SupportsIndex = 1024) -> float:
    """
    One lazy SGD/Adagrad/Adam pass over CSR rows in the given order (None: every row in turn), updating the state in place; returns the sum of the losses measured before each row's update (with compute_loss=False: 0, or NaN when a margin was not finite). n_jobs > 1 runs plain SGD in blocks of block_rows visits split into n_jobs parts that start from the block's model, with results that depend on n_jobs and block_rows only.
    """
def lazy_sgd_pass_many(data: typing.Any, indices: typing.Any, indptr: typing.Any, Y: typing.Any, sample_weight: typing.Any, order: typing.Any, states: typing.Any, *, loss: typing.SupportsInt | typing.SupportsIndex, method: typing.SupportsInt | typing.SupportsIndex, learning_rate: typing.SupportsInt | typing.SupportsIndex, power_t: typing.SupportsFloat | typing.SupportsIndex, optimal_t0: typing.SupportsFloat | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex, l1: typing.SupportsFloat | typing.SupportsIndex, l2: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, epsilon: typing.SupportsFloat | typing.SupportsIndex, fit_intercept: bool, average_start: typing.SupportsInt | typing.SupportsIndex, intercept_decay: typing.SupportsFloat | typing.SupportsIndex = 1.0, compute_loss: bool = True, n_jobs: typing.SupportsInt | typing.SupportsIndex = 1, block_rows: typing.SupportsInt | typing.SupportsIndex = 1024) -> numpy.typing.NDArray[numpy.float64]:
    """
    lazy_sgd_pass for several independent solvers with the same settings over the same rows: Y[k] holds the targets of states[k], a tuple (coef, l1_applied, state1, state2, average_offset, globals, t). The solvers run in parallel over fastopt's threads (with n_jobs > 1 and several solvers, each thread runs every part of its solvers' blocks); each result equals its single-solver pass. Returns the loss sums.
    """
def lbfgs_direction(s: typing.Any, y: typing.Any, order: typing.Any, new_slot: typing.SupportsInt | typing.SupportsIndex, sy: typing.Any, yy: typing.Any, gamma: typing.SupportsFloat | typing.SupportsIndex, g: typing.Any, d: typing.Any, work: typing.Any) -> float:
    """
    Write the L-BFGS direction d = -H g from the pairs in `order` (oldest first); with new_slot >= 0, first fill that slot's column of the cached sy and yy matrices. Return g'd, summed as lbfgs_dot(g, d) sums it.
    """
def lbfgs_dot(a: typing.Any, b: typing.Any) -> float:
    """
    Return a'b summed in float64 in an order that does not depend on the thread count.
    """
def lbfgs_gradient(g: typing.Any, out: typing.Any, d: typing.Any = None) -> tuple:
    """
    Copy g into out (g may be out) and return (g'd, max |g_i|, all finite) from the same pass; g'd is 0.0 without d. The sums do not depend on the thread count.
    """
def lbfgs_pair(x_new: typing.Any, x: typing.Any, g_new: typing.Any, g: typing.Any, s: typing.Any, y: typing.Any, work: typing.Any) -> tuple:
    """
    Write s = x_new - x and y = g_new - g; return (s'y, y'y, s's).
    """
def lbfgs_trial(x: typing.Any, d: typing.Any, step: typing.SupportsFloat | typing.SupportsIndex, out: typing.Any, lower: typing.Any = None, upper: typing.Any = None) -> None:
    """
    Write out = x + step * d in the arrays' dtype, clipped to [lower, upper] when given.
    """
def lion_step(params: typing.Any, grads: typing.Any, exp_avgs: typing.Any, *, lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, grad_factor: typing.SupportsFloat | typing.SupportsIndex = 1.0, validate_only: bool = False) -> None:
    """
    Fused Lion step over lists of arrays, updated in place.
    """
def max_threads() -> int:
    """
    Threads the OpenMP runtime offers.
    """
def metrics_average_precision(scores: typing.Any, column: typing.SupportsInt | typing.SupportsIndex, positive: typing.Any, weight: typing.Any) -> tuple[float, float, float, int]:
    """
    Average precision of one binary problem, returned like metrics_roc_auc.
    """
def metrics_binary_curve(scores: typing.Any, column: typing.SupportsInt | typing.SupportsIndex, positive: typing.Any, weight: typing.Any) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64], int]:
    """
    Distinct scores in decreasing order with cumulative false and true positive weights, and the first non-finite score index or -1.
    """
def metrics_confusion_counts(true_codes: typing.Any, pred_codes: typing.Any, weight: typing.Any, num_labels: typing.SupportsInt | typing.SupportsIndex) -> numpy.ndarray:
    """
    Confusion matrix over codes in [0, num_labels): int64 counts without weights, float64 sums of weights otherwise. Samples with another code are skipped.
    """
def metrics_log_loss(prob: typing.Any, positive: typing.Any, true_codes: typing.Any, weight: typing.Any) -> tuple[float, float, int, int]:
    """
    Log loss sums: (sum of weighted losses, sum of weights, first invalid row or -1, rows not summing to one).
    """
def metrics_roc_auc(scores: typing.Any, column: typing.SupportsInt | typing.SupportsIndex, positive: typing.Any, weight: typing.Any) -> tuple[float, float, float, int]:
    """
    ROC AUC of one binary problem: (auc, positive weight, negative weight, first non-finite score index or -1).
    """
def mix_rows(x: typing.Any, out: typing.Any, partner: typing.Any, lam: typing.Any) -> None:
    """
    Write lam[i] * x[i] + (1 - lam[i]) * x[partner[i]] into row i of out (2-D, not x).
    """
def murmurhash3_32(key: typing.Any, seed: typing.SupportsInt | typing.SupportsIndex = 0) -> int:
    """
    MurmurHash3 (x86, 32-bit) of the UTF-8 bytes of a str or of a bytes-like key, as an unsigned integer.
    """
def nadam_step(params: typing.Any, grads: typing.Any, exp_avgs: typing.Any, exp_avg_sqs: typing.Any, mu_products: typing.Any, steps: typing.Any, *, lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, momentum_decay: typing.SupportsFloat | typing.SupportsIndex, decoupled: bool, grad_factor: typing.SupportsFloat | typing.SupportsIndex = 1.0, validate_only: bool = False) -> typing.Any:
    """
    Fused NAdam step over lists of arrays, updated in place; returns the new mu_products (None with validate_only).
    """
def newton_cd(X_data: typing.Any, X_indices: typing.Any, X_indptr: typing.Any, num_samples: typing.SupportsInt | typing.SupportsIndex, num_features: typing.SupportsInt | typing.SupportsIndex, y: typing.Any, sample_weight: typing.Any, w: typing.Any, *, loss: str, alpha: typing.SupportsFloat | typing.SupportsIndex, l1_ratio: typing.SupportsFloat | typing.SupportsIndex, fit_intercept: bool, huber_delta: typing.SupportsFloat | typing.SupportsIndex, tol: typing.SupportsFloat | typing.SupportsIndex, max_iter: typing.SupportsInt | typing.SupportsIndex, callback: typing.Any = None) -> dict:
    """
    Minimize the L1 / elastic-net penalized GLM objective by working-set proximal Newton with coordinate descent, updating w (float64, coef then intercept) in place. X is CSC (X_data, X_indices, X_indptr) or a Fortran-order X_data with X_indices = X_indptr = None. Return a dict with n_iter, violation, violation0, objective, converged and status. Use fastopt.linear_model._newton_cd.newton_cd instead of calling this.
    """
def newton_cd_violation(grad_smooth: typing.Any, w: typing.Any, alpha: typing.SupportsFloat | typing.SupportsIndex, l1_ratio: typing.SupportsFloat | typing.SupportsIndex, num_coef: typing.SupportsInt | typing.SupportsIndex) -> float:
    """
    Return the infinity norm of the minimum-norm subgradient, as the newton-cd kernel computes it: the first num_coef entries are penalized coefficients, the rest are intercepts.
    """
def openmp_enabled() -> bool:
    """
    Return whether the module was built with OpenMP.
    """
def owlqn_project_direction(pg: typing.Any, l1: typing.Any, d: typing.Any) -> None:
    """
    Set d_i = 0 where l1_i > 0 and d_i pg_i >= 0.
    """
def owlqn_pseudo_gradient(x: typing.Any, g: typing.Any, l1: typing.Any, pg: typing.Any) -> float:
    """
    Write the pseudo-gradient of f + sum_i l1_i |x_i| into pg; return its inf-norm.
    """
def owlqn_trial(x: typing.Any, d: typing.Any, alpha: typing.SupportsFloat | typing.SupportsIndex, pg: typing.Any, l1: typing.Any, out: typing.Any) -> None:
    """
    Write x + alpha d into out, with 0 where a penalized coordinate leaves the orthant of x (of -pg where x_i = 0).
    """
def philox_blocks(seed: typing.SupportsInt | typing.SupportsIndex, offset: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, count: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.uint32]:
    """
    Philox4x32-10 blocks [first, first + count) of the stream (seed, offset): counter (block low, block high, offset low, offset high), key (seed low, seed high). The active instruction set's generator computes them.
    """
def prox_box(x: typing.Any, out: typing.Any, lower: typing.Any, upper: typing.Any, grad: typing.Any = None, step: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> None:
    """
    Write v clipped to [lower, upper] into out, v = x - t grad (or x).
    """
def prox_elastic_net(x: typing.Any, out: typing.Any, l1: typing.Any, l2: typing.Any, grad: typing.Any = None, step: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> None:
    """
    Write soft_threshold(v, t l1) / (1 + t l2) into out, v = x - t grad (or x).
    """
def prox_group(x: typing.Any, out: typing.Any, groups: typing.Any, threshold: typing.SupportsFloat | typing.SupportsIndex, weights: typing.Any = None, grad: typing.Any = None, step: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> None:
    """
    Write max(0, 1 - t threshold w_g / ||v_g||) v_g into out for each group g given by int64 offsets, v = x - t grad (or x).
    """
def prox_l1(x: typing.Any, out: typing.Any, l1: typing.Any, grad: typing.Any = None, step: typing.SupportsFloat | typing.SupportsIndex = 1.0, name: str = 'l1') -> None:
    """
    Write prox_{t h}(x - t grad) for h = sum_i l1_i |x_i| into out (soft-thresholding by t l1); without grad, prox_{t h}(x). l1 is a float or an array of x's dtype and shape; messages call it `name`.
    """
def prox_l2(x: typing.Any, out: typing.Any, l2: typing.Any, grad: typing.Any = None, step: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> None:
    """
    Write v / (1 + t l2) into out, v = x - t grad (or x).
    """
def prox_nonneg(x: typing.Any, out: typing.Any, grad: typing.Any = None, step: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> None:
    """
    Write max(v, 0) into out, v = x - t grad (or x).
    """
def radam_step(params: typing.Any, grads: typing.Any, exp_avgs: typing.Any, exp_avg_sqs: typing.Any, steps: typing.Any, *, lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, decoupled: bool, grad_factor: typing.SupportsFloat | typing.SupportsIndex = 1.0, validate_only: bool = False) -> None:
    """
    Fused RAdam step over lists of arrays, updated in place.
    """
def rmsprop_step(params: typing.Any, grads: typing.Any, square_avgs: typing.Any, momentum_buffers: typing.Any, grad_avgs: typing.Any, steps: typing.Any, *, lr: typing.SupportsFloat | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex, centered: bool, grad_factor: typing.SupportsFloat | typing.SupportsIndex = 1.0, validate_only: bool = False) -> None:
    """
    Fused RMSprop step over lists of arrays, updated in place.
    """
def roofline(read_only: typing.Any, read_write: typing.Any) -> None:
    """
    Move the bytes of an update over the arrays with no arithmetic.
    """
def roofline_read(arrays: typing.Any) -> float:
    """
    Read every element of the arrays once (their sum, for timing only).
    """
def select_isa(isa: str) -> None:
    """
    Switch kernels to another instruction set.
    """
def set_num_threads(num_threads: typing.Any) -> None:
    """
    Set the threads used by fastopt's kernels.
    """
def sgd_step(params: typing.Any, grads: typing.Any, momentum_buffers: typing.Any, steps: typing.Any, *, lr: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex, dampening: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, nesterov: bool, grad_factor: typing.SupportsFloat | typing.SupportsIndex = 1.0, validate_only: bool = False) -> None:
    """
    Fused SGD step (optionally with momentum) over lists of arrays, updated in place.
    """
def svmlight_format_rows(row_begin: typing.SupportsInt | typing.SupportsIndex, row_end: typing.SupportsInt | typing.SupportsIndex, columns: typing.SupportsInt | typing.SupportsIndex, indptr: typing.Annotated[numpy.typing.ArrayLike, numpy.int64] | None, indices: typing.Annotated[numpy.typing.ArrayLike, numpy.int64] | None, values_f: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, values_i: typing.Annotated[numpy.typing.ArrayLike, numpy.int64] | None, labels_f: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, labels_i: typing.Annotated[numpy.typing.ArrayLike, numpy.int64] | None, label_indptr: typing.Annotated[numpy.typing.ArrayLike, numpy.int64] | None, label_columns: typing.Annotated[numpy.typing.ArrayLike, numpy.int64] | None, qids: typing.Annotated[numpy.typing.ArrayLike, numpy.int64] | None, index_offset: typing.SupportsInt | typing.SupportsIndex) -> bytes:
    """
    Format rows of a matrix and their labels as SVMlight lines (bytes).
    """
ftrl_num_globals: int = 2
lazy_sgd_num_globals: int = 8
lbfgs_block: int = 8192
lbfgs_max_history: int = 256
