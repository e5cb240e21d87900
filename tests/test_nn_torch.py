"""The torch autograd function and module over fastopt's dropout."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fastopt.nn import dropout as np_dropout  # noqa: E402
from fastopt.torch import Dropout, DropoutFunction, dropout  # noqa: E402


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_forward_matches_numpy_api(dtype):
    x = torch.randn(33, 65, dtype=dtype)
    y = dropout(x, 0.3, seed=5, offset=2)
    np.testing.assert_array_equal(y.numpy(), np_dropout(x.numpy(), 0.3, seed=5, offset=2))


def test_backward_uses_forward_mask():
    x = torch.randn(1000, dtype=torch.float64, requires_grad=True)
    y = dropout(x, 0.4, seed=1)
    g = torch.randn(1000, dtype=torch.float64)
    y.backward(g)
    kept = y.detach() != 0
    np.testing.assert_array_equal(x.grad.numpy(), torch.where(kept, g / 0.6, 0.0).numpy())


def test_gradcheck():
    x = torch.randn(40, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: DropoutFunction.apply(t, 0.5, 3, 0), (x,))


def test_module_advances_offset_and_eval_is_identity():
    layer = Dropout(0.5, seed=7)
    x = torch.ones(256)
    a, b = layer(x), layer(x)
    assert not torch.equal(a, b)
    assert int(layer.offset) == 2
    np.testing.assert_array_equal(a.numpy(), np_dropout(x.numpy(), 0.5, seed=7, offset=0))
    layer.eval()
    assert layer(x) is x


def test_module_state_dict_restores_stream():
    layer = Dropout(0.5, seed=3)
    layer(torch.ones(10))
    # state_dict() aliases the buffers, which the next call advances in place.
    state = {k: v.clone() for k, v in layer.state_dict().items()}
    expected = layer(torch.ones(64))
    other = Dropout(0.5, seed=3)
    other.load_state_dict(state)
    assert torch.equal(other(torch.ones(64)), expected)


def test_statistics_match_torch_dropout():
    x = torch.ones(400_000)
    ours = dropout(x, 0.3, seed=0)
    theirs = torch.nn.functional.dropout(x, 0.3)
    assert abs((ours == 0).float().mean() - (theirs == 0).float().mean()) < 0.005
    assert abs(ours.mean() - theirs.mean()) < 0.01
    assert torch.allclose(ours[ours != 0], theirs[theirs != 0][:1].expand(int((ours != 0).sum())))


def test_bad_input_raises():
    with pytest.raises(ValueError, match="x: unsupported dtype torch.float16"):
        dropout(torch.ones(3, dtype=torch.float16), 0.5, seed=0)
    with pytest.raises(ValueError, match=r"p: expected a drop probability in \[0, 1\), got 1.0"):
        Dropout(1.0)
