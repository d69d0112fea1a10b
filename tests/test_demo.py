"""The README's first command (issue: first contact): the shipped chorale model scores as recorded, and `lf_demo` ends with a
sample that looks like a four-part chorale, scored against the per-key frequency baseline; the --minutes path end to end."""
import json
import pytest
from conftest import run
from latent_flows.cli import load_demo_model, demo_weights, roll_stats
from latent_flows.data import load_dataset, midi_to_roll
from latent_flows.train import evaluate

def test_shipped_weights_load_and_score_as_recorded():
    assert demo_weights().stat().st_size < 5e6                      # a few MB inside the package
    model, record = load_demo_model(device='cpu')
    res = evaluate(model, load_dataset('chorales', 'test'), K=record['test']['K'], seed=record['test']['eval_seed'])
    assert res['nll'] == pytest.approx(record['test']['nll'], abs=0.01), (res['nll'], record['test'])

def test_demo_shows_a_chorale(tmp_path):
    r = run('lf_demo', '--out', tmp_path / 'demo', cwd=tmp_path)
    rep = json.loads((tmp_path / 'demo' / 'result.json').read_text())
    nll, baseline = rep['test_nll']['nll'], rep['key_frequency_nll']
    assert nll <= 8.5 and nll <= baseline - 2, (nll, baseline)
    sample = midi_to_roll(tmp_path / 'demo' / 'sample.mid')         # the MIDI file, read back with music21
    stats = roll_stats([sample])
    assert 3 <= stats['notes_at_once'] <= 5 and stats['in_range'] >= 0.95, stats
    assert (tmp_path / 'demo' / 'sample.png').stat().st_size > 20_000
    assert f"{nll:.3f}" in r.stdout and f"{baseline:.3f}" in r.stdout

def test_demo_trains_when_asked(tmp_path):
    "The --minutes path end to end at toy size: it trains, evaluates, samples and writes the same report."
    r = run('lf_demo', '--out', tmp_path / 'demo', '--minutes', '0.05', '--length', '16', cwd=tmp_path)
    rep = json.loads((tmp_path / 'demo' / 'result.json').read_text())
    assert rep['model'].startswith('trained now') and (tmp_path / 'demo' / 'run' / 'last.pt').exists()
    assert 'trained now' in r.stdout and (tmp_path / 'demo' / 'sample.mid').exists()
