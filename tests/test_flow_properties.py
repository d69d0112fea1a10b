"Property tests of the flows over many random configurations (the notebooks test hand-picked cases)."
import random
import pytest, torch
from latent_flows.core import lengths_to_mask, std_normal_log_prob
from latent_flows.scalar import NLSq, nlsq_solve_bisect, NLSQ_E_MAX, nlsq_params
from latent_flows.flows import HiddenAF, SCF, AF, IAF, PRIORS, build_prior

def random_flow(rng: random.Random):
    "A random flow, sizes, context width and weight scale."
    H, C = rng.choice([2, 4, 6]), rng.choice([0, 3])
    transform, explicit = rng.choice(['affine', 'nlsq']), rng.choice(['density', 'sample'])
    kind = rng.choice(['HiddenAF', 'SCF', 'AF', 'IAF'])
    if kind == 'HiddenAF': flow = HiddenAF(H, C, hidden=8, transform=transform, reverse=rng.random() < 0.5, explicit=explicit)
    elif kind == 'SCF': flow = SCF(H, C, hidden=8, transform=transform, swap=rng.random() < 0.5, explicit=explicit)
    else:
        make = AF if kind == 'AF' else IAF
        flow = make(H, hidden=rng.choice(['AF', 'SCF']), n_hidden_layers=rng.choice([1, 2]), context_dim=C, hidden_units=8,
                    transform=transform, explicit=explicit, lstm_size=8, lstm_layers=rng.choice([1, 2]))
    return flow, H, C, f'{kind}/{transform}/{explicit}/H={H}/C={C}'

def perturbed(flow, scale, seed):
    "Flows start as the identity (zero last layers); random weights make the tests mean something."
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in flow.parameters(): p.add_(torch.randn_like(p) * scale)
    return flow.eval()

@pytest.mark.parametrize('seed', range(24))
def test_random_flow_properties(seed):
    rng = random.Random(seed)
    flow, H, C, name = random_flow(rng)
    flow = perturbed(flow.double(), rng.choice([0.1, 0.3]), seed)   # larger random weights overflow exp(scale) in affine stacks
    B, T = rng.randint(1, 4), rng.randint(1, 6)
    lengths = torch.tensor([T] + [rng.randint(1, T) for _ in range(B - 1)])
    mask = lengths_to_mask(lengths, T)
    ctx = torch.randn(B, T, C, dtype=torch.float64) if C else None
    eps = torch.randn(B, T, H, dtype=torch.float64) * 2
    z, ld_f = flow(eps, mask, ctx)
    back, ld_i = flow.inverse(z, mask, ctx)
    valid = mask[..., None].expand_as(eps)
    assert torch.allclose(back[valid], eps[valid], atol=1e-9), f'{name}: round trip'
    assert torch.allclose(ld_f, -ld_i, atol=1e-9), f'{name}: forward logdet != -inverse logdet'
    assert torch.equal(z[~valid], eps[~valid]), f'{name}: padded steps must pass unchanged'
    # log-determinant of one (the longest) sequence against autograd's Jacobian
    J = torch.autograd.functional.jacobian(lambda e: flow(e.view(1, T, H), mask[:1], None if ctx is None else ctx[:1])[0].flatten(), eps[0].flatten())
    assert torch.allclose(torch.linalg.slogdet(J)[1], ld_f[0], atol=1e-8), f'{name}: logdet vs autograd'

@pytest.mark.parametrize('name', PRIORS)
def test_prior_float32_round_trip_and_density(name):
    prior = perturbed(build_prior(name, zsize=6, max_len=16, pos_dim=4, hidden_units=16, lstm_size=16, n_hidden_layers=2), 0.3, 0)
    mask = lengths_to_mask(torch.tensor([7, 5, 1]))
    eps = torch.randn(3, 7, 6) * mask[..., None]
    ctx = prior.context(mask)
    z, ld = prior.flow(eps, mask, ctx)
    back, _ = prior.flow.inverse(z, mask, ctx)
    assert (back - eps).abs().max() < 1e-4
    assert torch.allclose(prior.log_prob(z, mask), std_normal_log_prob(eps, mask) - ld, atol=1e-3)

def test_nlsq_monotone_for_any_raw_parameters():
    "Raw parameters of any size give a valid NLSq: |e| within the bound and a strictly increasing f."
    g = torch.Generator().manual_seed(0)
    raw = torch.randn(2000, 1, 5, generator=g, dtype=torch.float64) * torch.tensor([1, 3, 30, 3, 10], dtype=torch.float64)
    _, _, e, _, _ = nlsq_params(raw)
    assert e.abs().max() <= NLSQ_E_MAX
    x = torch.linspace(-50, 50, 20001, dtype=torch.float64).expand(2000, -1)
    y, log_slope = NLSq().apply(x, raw.expand(-1, x.shape[1], -1))
    assert (y.diff(dim=1) > 0).all() and torch.isfinite(log_slope).all()

def test_nlsq_inverse_accuracy_on_a_million_inputs():
    "The closed-form inverse against bisection, 10^6 inputs with |x| up to 10^3 (the issue's acceptance test)."
    g = torch.Generator().manual_seed(1)
    n = 10 ** 6
    raw = torch.randn(n, 5, generator=g, dtype=torch.float64) * 2
    x = (torch.rand(n, generator=g, dtype=torch.float64) * 2 - 1) * 10 ** (torch.rand(n, generator=g, dtype=torch.float64) * 5 - 2)
    y = NLSq().apply(x, raw)[0]
    x_closed = NLSq().solve(y, raw)[0]
    assert ((x_closed - x).abs() / x.abs().clamp(min=1)).max() < 1e-9
    x32 = NLSq().solve(y.float(), raw.float())[0].double()
    assert ((x32 - x).abs() / x.abs().clamp(min=1)).max() < 1e-3

@pytest.mark.parametrize('seed', range(24))
def test_sampling_by_fixed_point_passes_is_the_serial_answer(seed):
    """Without autograd the flows sample their hidden AF layers by fixed-point passes: the reference path's numbers, up to
    the rounding of elementwise functions on a row against a strided column (one ulp, seen in float64)."""
    from latent_flows.flows import eager_serial
    rng = random.Random(1000 + seed); torch.manual_seed(seed)
    flow, H, C, name = random_flow(rng)
    dtype = rng.choice([torch.float32, torch.float64])
    flow = perturbed(flow.to(dtype), rng.choice([0.1, 0.3]), seed)
    B, T = rng.randint(1, 4), rng.randint(1, 6)
    mask = lengths_to_mask(torch.tensor([T] + [rng.randint(1, T) for _ in range(B - 1)]), T)
    ctx = torch.randn(B, T, C, dtype=dtype) if C else None
    eps = torch.randn(B, T, H, dtype=dtype)
    with torch.no_grad():
        fast = flow(eps, mask, ctx)
        with eager_serial(): ref = flow(eps, mask, ctx)
    for a, b in zip(fast, ref):
        torch.testing.assert_close(a, b, equal_nan=True, msg=lambda m: f'{name}: {m}')
