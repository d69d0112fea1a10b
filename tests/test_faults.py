"Faults a careful user meets: budgets that are already spent, bad config values (issue: reliability)."
from pathlib import Path
import pytest, torch
from latent_flows.train import preset, train, load_checkpoint

TINY = dict(zsize=4, emb_size=16, rnn_size=16, rnn_layers=1, pos_dim=4, prior_units=8, prior_lstm_size=16, prior_layers=2)
quiet = dict(progress=False, log=lambda s: None)

def _cfg(**kw):
    return preset('jsb', 'AF/SCF', **{**dict(batch_size=32, epochs=2, kl_warmup_epochs=0.5, kl_anneal_epochs=1, eval_K=2, sizes=TINY, device='cpu'), **kw})

def _files(run: Path) -> dict: return {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.name != 'train_summary.json'}

@pytest.mark.parametrize('budget', [dict(max_steps=3), dict(max_steps=10)])   # stopped inside an epoch, and after an epoch end
def test_resuming_a_spent_budget_trains_nothing(shared_data, tmp_path, budget):
    "Resuming a run whose step budget is spent, twice, leaves its checkpoints, metrics and step count as they were."
    run = tmp_path / 'run'
    first = train(_cfg(**budget), run, **quiet)
    assert first['steps'] == budget['max_steps'] and first['stopped_by'] == 'budget'
    before = _files(run)
    for _ in range(2):
        again = train(_cfg(**budget), run, resume=True, **quiet)
        assert again['steps'] == budget['max_steps'] and again['stopped_by'] == 'budget'
    assert _files(run) == before, 'a resumed sitting with its budget spent rewrote the run'
    assert load_checkpoint(run / 'last.pt')['state']['step'] == budget['max_steps']

def test_resuming_with_more_budget_goes_on(shared_data, tmp_path):
    run = tmp_path / 'run'
    train(_cfg(max_steps=3), run, **quiet)
    assert train(_cfg(max_steps=5), run, resume=True, **quiet)['steps'] == 5

def test_max_steps_must_be_positive():
    with pytest.raises(ValueError, match='max_steps must be >= 1'): _cfg(max_steps=0)
