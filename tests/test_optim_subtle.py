"""Small exact tests of the points where published formulas and torch.optim differ.

Each test uses hyperparameters and gradients for which the usual wrong
variant gives a clearly different number, and checks against the value
worked out by hand in float64.
"""

import math

import numpy as np

import fastopt.optim


def _one(value):
    return np.array([value], dtype=np.float64)


def test_adam_eps_after_bias_corrected_sqrt():
    # At step 1 with beta2 = 0.999, sqrt(v) / sqrt(1 - beta2) = |g| = 0.5. With
    # eps added after that, the step is lr * 0.5 / (0.5 + 0.1). With eps added
    # to sqrt(v) before the correction, it would be about lr * 0.5 / 3.66.
    p = _one(1.0)
    opt = fastopt.optim.Adam([p], lr=0.1, eps=0.1)
    opt.step([_one(0.5)])
    np.testing.assert_allclose(p, [1.0 - 0.1 * 0.5 / 0.6], rtol=1e-15)


def test_amsgrad_max_of_uncorrected_v():
    # With betas (0.5, 0.5) and g = 2 then 0, v = 2 then 1, so max(v) = 2. The
    # maximum of the corrected v_hat (2 / 0.5 = 4, then 1 / 0.75) would be 4.
    p = _one(0.0)
    opt = fastopt.optim.Adam([p], lr=1.0, betas=(0.5, 0.5), eps=1e-8, amsgrad=True)
    opt.step([_one(2.0)])
    p[...] = 0.0
    opt.step([_one(0.0)])
    state = opt.state[id(p)]
    assert state["max_exp_avg_sq"][0] == 2.0
    assert state["exp_avg_sq"][0] == 1.0
    m_hat = 0.5 / 0.75
    expected = -m_hat / (math.sqrt(2.0) / math.sqrt(0.75) + 1e-8)
    np.testing.assert_allclose(p, [expected], rtol=1e-15)


def test_adamw_decays_before_update():
    # lr * wd = 0.25, so decaying first gives 2 * 0.75 - 0.5 = 1.0. Decaying
    # after the Adam step would give (2 - 0.5) * 0.75 = 1.125.
    p = _one(2.0)
    opt = fastopt.optim.AdamW([p], lr=0.5, weight_decay=0.5, eps=1e-12)
    opt.step([_one(1.0)])
    np.testing.assert_allclose(p, [2.0 * 0.75 - 0.5 / (1.0 + 1e-12)], rtol=1e-15)


def test_sgd_first_buffer_is_gradient():
    # Dampening applies from step 2 on: torch creates the buffer as a copy of g.
    p = _one(1.0)
    opt = fastopt.optim.SGD([p], lr=0.5, momentum=0.9, dampening=0.5)
    opt.step([_one(2.0)])
    buf = opt.state[id(p)]["momentum_buffer"]
    assert buf[0] == 2.0
    assert p[0] == 0.0
    opt.step([_one(4.0)])
    assert buf[0] == 0.9 * 2.0 + 0.5 * 4.0
    assert p[0] == -0.5 * (0.9 * 2.0 + 0.5 * 4.0)


def test_sgd_nesterov_looks_ahead():
    p = _one(1.0)
    opt = fastopt.optim.SGD([p], lr=0.5, momentum=0.5, nesterov=True)
    opt.step([_one(2.0)])
    assert p[0] == 1.0 - 0.5 * (2.0 + 0.5 * 2.0)


def test_sgd_maximize_before_weight_decay():
    # g = -2 + 0.5 * 1 = -1.5, so p = 1 + 0.5 * 1.5; negating after the decay
    # term would give 1 + 0.5 * 2.5.
    p = _one(1.0)
    opt = fastopt.optim.SGD([p], lr=0.5, weight_decay=0.5, maximize=True)
    opt.step([_one(2.0)])
    assert p[0] == 1.75


def test_adam_maximize_before_weight_decay():
    # g = -2 + 1 * 1 = -1, so at step 1 m = -0.1, v = 0.001 and the step is
    # lr * m_hat / (|g| + eps) = -lr / (1 + eps). Negating after the decay
    # term would use g = -3 and step by -lr as well, so check the moments too.
    p = _one(1.0)
    opt = fastopt.optim.Adam([p], lr=0.1, weight_decay=1.0, maximize=True)
    opt.step([_one(2.0)])
    state = opt.state[id(p)]
    np.testing.assert_allclose(state["exp_avg"], [-0.1], rtol=1e-15)
    np.testing.assert_allclose(state["exp_avg_sq"], [0.001], rtol=1e-15)
    np.testing.assert_allclose(p, [1.0 + 0.1 / (1.0 + 1e-8)], rtol=1e-15)


def test_radam_unrectified_first_steps():
    # rho_t <= 5 for t <= 5 with beta2 = 0.999, so the first step is lr * m_hat = lr * g.
    p = _one(1.0)
    opt = fastopt.optim.RAdam([p], lr=0.1)
    opt.step([_one(3.0)])
    np.testing.assert_allclose(p, [1.0 - 0.1 * 3.0], rtol=1e-15)


def test_lion_sign_update():
    # c = 0.9 * 0 + 0.1 * 0.3 > 0, so p = 2 (1 - 0.1 * 0.5) - 0.1 and m = 0.01 * 0.3.
    p = _one(2.0)
    opt = fastopt.optim.Lion([p], lr=0.1, betas=(0.9, 0.99), weight_decay=0.5)
    opt.step([_one(0.3)])
    np.testing.assert_allclose(p, [2.0 * 0.95 - 0.1], rtol=1e-15)
    np.testing.assert_allclose(opt.state[id(p)]["exp_avg"], [0.01 * 0.3], rtol=1e-15)


def test_lamb_trust_ratio_per_tensor():
    # Step 1 with bias correction: r = g / (|g| + eps) = sign(g) (eps tiny), so
    # u = sign(g) + wd p and p -= lr * ||p|| / ||u|| * u.
    p = np.array([3.0, 4.0])
    g = np.array([1.0, -1.0])
    opt = fastopt.optim.LAMB([p], lr=0.1, eps=1e-12, weight_decay=0.5)
    opt.step([g])
    u = np.array([1.0, -1.0]) / (1.0 + 1e-12) + 0.5 * np.array([3.0, 4.0])
    expected = np.array([3.0, 4.0]) - 0.1 * 5.0 / np.linalg.norm(u) * u
    np.testing.assert_allclose(p, expected, rtol=1e-14)


def test_lamb_zero_param_ratio_one():
    # ||p|| = 0, so the ratio is 1 and the step is lr * g / (|g| + eps).
    p = np.zeros(3)
    g = np.array([1.0, -2.0, 0.5])
    opt = fastopt.optim.LAMB([p], lr=0.1, eps=1e-12)
    opt.step([g])
    np.testing.assert_allclose(p, -0.1 * g / (np.abs(g) + 1e-12), rtol=1e-14)


def test_adagrad_lr_decay_from_step_two():
    # clr = lr / (1 + (t - 1) lr_decay): step 1 uses lr itself.
    p = _one(0.0)
    opt = fastopt.optim.Adagrad([p], lr=1.0, lr_decay=1.0, eps=1e-10)
    opt.step([_one(2.0)])
    np.testing.assert_allclose(p, [-2.0 / (2.0 + 1e-10)], rtol=1e-15)
    q = p.copy()
    opt.step([_one(2.0)])
    np.testing.assert_allclose(p, q - 0.5 * 2.0 / (math.sqrt(8.0) + 1e-10), rtol=1e-15)
