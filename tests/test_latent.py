"""The latent space (issue: a latent space to play with): encode -> noise -> back, reconstruction against the prior,
interpolation endpoints, variations, and lf_sample --interpolate / --vary on a music run and a text run, with clear errors."""
import shutil
import numpy as np
import pytest, torch
from conftest import run
from latent_flows.cli import load_demo_model, demo_weights
from latent_flows.data import load_dataset, roll_to_midi
from latent_flows.latent import encode, to_noise, from_noise, reconstruct, interpolate, vary, fit_length, slerp, _batch
from latent_flows.train import preset, train

@pytest.fixture(scope='module')
def music():
    return load_demo_model(device='cpu')[0], load_dataset('chorales', 'test')

def test_noise_round_trip_and_reconstruction_beats_the_prior(music):
    model, test = music
    x, mask = _batch(model, fit_length(test.seqs[:8], 40))
    z = encode(model, x, mask)
    torch.testing.assert_close(from_noise(model, to_noise(model, z, mask), mask), z, atol=1e-3, rtol=1e-3)
    with torch.no_grad():
        rec = -model.emission.log_prob(x, z, mask).sum() / mask.sum()
        torch.manual_seed(0); z_prior, _ = model.prior.sample(mask.sum(1))
        prior = -model.emission.log_prob(x, z_prior, mask).sum() / mask.sum()
    assert rec < prior / 2, (rec, prior)                           # the latent carries the piece
    xr, nll = reconstruct(model, x, mask)
    assert xr.shape == x.shape and (nll[~mask] == 0).all()

def test_interpolation_ends_are_the_pieces_own_noise(music):
    model, test = music
    a, b = test.seqs[0], test.seqs[1]
    walk, path = interpolate(model, a, b, steps=4)
    x, mask = _batch(model, fit_length([a, b]))
    eps = to_noise(model, encode(model, x, mask), mask)
    torch.testing.assert_close(path[0], eps[0]); torch.testing.assert_close(path[-1], eps[1])
    assert walk.shape == (4, min(len(a), len(b)), 88)
    # the great circle keeps the norm of equal-norm ends
    u, v = torch.randn(100), torch.randn(100); v = v / v.norm() * u.norm()
    assert abs(slerp(u, v, 0.5).norm() - u.norm()) < 1e-4

def test_variations(music):
    model, test = music
    same = vary(model, test.seqs[2][:32], n=2, t=0.0)
    assert torch.equal(same[0], same[1])                            # t = 0: the piece's own reconstruction
    far = vary(model, test.seqs[2][:32], n=2, t=1.0, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(far[0], far[1])
    with pytest.raises(ValueError, match=r't must be in \[0, 1\]'): vary(model, test.seqs[2], t=1.5)
    with pytest.raises(ValueError, match='cannot cut'): fit_length([test.seqs[0], test.seqs[1]], 10_000)

def test_lf_sample_interpolate_and_vary_on_a_music_run(music, tmp_path):
    _, test = music
    (tmp_path / 'run').mkdir(); shutil.copy(demo_weights(), tmp_path / 'run' / 'best.pt')   # the shipped model as a run
    for i in (0, 1): roll_to_midi(test.seqs[i].numpy(), tmp_path / f'{i}.mid')
    r = run('lf_sample', tmp_path / 'run', '--interpolate', tmp_path / '0.mid', tmp_path / '1.mid', '--steps', 3, '--out', tmp_path / 'o')
    assert (tmp_path / 'o' / 'walk.mid').stat().st_size > 0 and (tmp_path / 'o' / 'walk.png').stat().st_size > 10_000, r.stdout
    run('lf_sample', tmp_path / 'run', '--vary', tmp_path / '0.mid', '--batch', 2, '--temperature', 0.3, '--out', tmp_path / 'o')
    assert (tmp_path / 'o' / 'variations.mid').exists()
    (tmp_path / 'bad.mid').write_text('not midi'); roll_to_midi(np.zeros((4, 88), np.uint8) + 0, tmp_path / 'empty.mid')
    for bad, msg in (('bad.mid', 'not a readable MIDI file'), ('empty.mid', 'no notes'), ('none.mid', 'no such MIDI file')):
        r = run('lf_sample', tmp_path / 'run', '--vary', tmp_path / bad, ok=False)
        assert r.returncode == 2 and msg in r.stderr and 'Traceback' not in r.stderr, r.stderr
    r = run('lf_sample', tmp_path / 'run', '--vary', tmp_path / '0.mid', '--temperature', 2, ok=False)
    assert r.returncode == 2 and 'in [0, 1]' in r.stderr

def test_lf_sample_interpolate_on_a_text_run(tmp_path):
    tiny = dict(zsize=4, emb_size=16, rnn_size=16, rnn_layers=1, pos_dim=4, prior_units=8, prior_lstm_size=16, prior_layers=2)
    train(preset('ptb', 'AF/SCF', max_steps=2, batch_size=8, elbo_samples=1, sizes=tiny, device='cpu'), tmp_path / 'run', progress=False, log=lambda s: None)
    r = run('lf_sample', tmp_path / 'run', '--interpolate', 'the cat sat', 'a dog ran off', '--steps', 4)
    lines = r.stdout.splitlines()
    assert len(lines) == 4 and all(len(l) == len('the cat sat') for l in lines), lines   # both cut to the shorter length
    r = run('lf_sample', tmp_path / 'run', '--vary', 'the cät', ok=False)
    assert r.returncode == 2 and "unknown character 'ä'" in r.stderr
