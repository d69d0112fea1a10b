"""Faults a careful user meets (issue: reliability): damaged data, crafted pickles, runs that are finished, foreign or
mistyped, diverging training, a full disk at each write of an epoch end, read-only outputs, and bad values. Each test
checks the exit status or exception, the one-line message, and that no file was changed or lost."""
import errno, json, os, pickle, shutil, warnings
from contextlib import contextmanager
from pathlib import Path
import numpy as np
import pytest, torch
from conftest import run, console_script
import latent_flows.train as T
import latent_flows.data as D
from latent_flows.train import preset, train, load_checkpoint, save_atomic, NonFiniteError
from latent_flows.data import load_dataset, REGISTRY, ChecksumError

TINY = dict(zsize=4, emb_size=16, rnn_size=16, rnn_layers=1, pos_dim=4, prior_units=8, prior_lstm_size=16, prior_layers=2)
TINY_ARG = ','.join(f'{k}={v}' for k, v in TINY.items())
quiet = dict(progress=False, log=lambda s: None)
TRAIN = ['--dataset', 'jsb', '--model', 'AF/SCF', '--batch_size', '32', '--quiet', '--device', 'cpu', '--sizes', TINY_ARG]

def _cfg(**kw):   # JSB: 229 training sequences, 8 batches of 32 per epoch
    return preset('jsb', 'AF/SCF', **{**dict(batch_size=32, epochs=2, kl_warmup_epochs=0.5, kl_anneal_epochs=1, eval_K=2, sizes=TINY, device='cpu'), **kw})

def _files(run: Path) -> dict: return {p.name: p.read_bytes() for p in Path(run).iterdir() if p.is_file()}

def _one_line_error(r, *parts, status=None):
    "A failed command: non-zero (or `status`) exit, one line on stderr starting 'error:', no traceback, each of `parts` in it."
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert r.returncode != 0 and (status is None or r.returncode == status), (r.returncode, r.stderr[-2000:])
    assert 'Traceback' not in r.stderr and lines and lines[-1].startswith('error: '), r.stderr[-2000:]
    assert sum(l.startswith('error: ') for l in lines) == 1, r.stderr[-2000:]
    for p in parts: assert str(p) in lines[-1], (p, lines[-1])


# --- data on disk -------------------------------------------------------------------------------------------------------
def _copy_ptb(shared_data, dest: Path) -> Path:
    (dest / 'ptb').mkdir(parents=True)
    for f in ('train', 'valid', 'test'): shutil.copy(shared_data / 'ptb' / f'ptb.char.{f}.txt', dest / 'ptb')
    return dest / 'ptb'

@pytest.mark.parametrize('where', ['LATENT_FLOWS_DATA', 'download cache'])
@pytest.mark.parametrize('damage', ['one changed byte', 'truncated'])
def test_a_damaged_data_file_is_refused_with_both_hashes(shared_data, tmp_path, monkeypatch, where, damage):
    if where == 'LATENT_FLOWS_DATA': root = tmp_path / 'data'; monkeypatch.setenv('LATENT_FLOWS_DATA', str(root))
    else: root = tmp_path / 'xdg' / 'latent_flows'; monkeypatch.delenv('LATENT_FLOWS_DATA'); monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    ptb = _copy_ptb(shared_data, root)
    assert len(load_dataset('ptb', 'test')) > 0                     # intact: accepted (and remembered)
    f = ptb / 'ptb.char.train.txt'; data = f.read_bytes()
    f.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:] if damage == 'one changed byte' else data[: len(data) // 2])
    with pytest.raises(ChecksumError) as e: load_dataset('ptb', 'train')
    msg = str(e.value)
    assert str(f) in msg and REGISTRY['ptb/ptb.char.train.txt'].sha256 in msg and D.sha256_file(f) in msg and 'delete it' in msg
    assert f.read_bytes() != data                                   # nothing was downloaded over it either

def test_a_changed_file_is_hashed_again_even_after_it_was_verified(shared_data, tmp_path):
    ptb = _copy_ptb(shared_data, tmp_path)
    assert D.fetch('ptb/ptb.char.valid.txt', tmp_path)              # verified once, remembered by size and mtime
    f = ptb / 'ptb.char.valid.txt'; f.write_text(f.read_text().replace('a', 'e', 1))
    with pytest.raises(ChecksumError, match='ptb.char.valid.txt'): D.fetch('ptb/ptb.char.valid.txt', tmp_path)

def test_ptb_errors_name_the_real_line_and_the_vocabulary_is_fixed(tmp_path, monkeypatch):
    f = tmp_path / 'valid.txt'
    f.write_text(' '.join('x' * 300) + '\n a _ b\n c * ä\n')       # line 1 is dropped by the length filter; line 3 is bad
    monkeypatch.setattr(D, 'fetch', lambda name, root=None: f)
    with pytest.raises(ValueError, match=r"valid.txt, line 3: unknown character 'ä'"): D.load_ptb('valid')
    assert len(D.ptb_vocab()) == 49 and D.ptb_vocab().itos == sorted(D.PTB_SYMBOLS)

class Exploit:   # what a crafted pickle does when it is unpickled: run code (here, create a file)
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (Path.touch, (Path(self.marker),))

def test_a_crafted_pickle_never_runs(shared_data, tmp_path):
    marker = tmp_path / 'pwned'
    # as the JSB pickle in the data folder: its hash is checked before anything is unpickled
    (tmp_path / 'music').mkdir(); bad = tmp_path / 'music' / 'jsb_chorales_pitches.pkl'
    bad.write_bytes(pickle.dumps({'train': Exploit(marker)}))
    with pytest.raises(ChecksumError): load_dataset('jsb', 'train', str(tmp_path), form='pickle')
    # as a checkpoint: weights-only loading refuses it
    train(_cfg(max_steps=1), tmp_path / 'run', **quiet)
    for name in ('last.pt', 'best.pt'):
        torch.save({'model': Exploit(marker)}, tmp_path / 'run' / name)
    r = run('lf_train', *TRAIN, '--out', tmp_path / 'run', '--resume', ok=False)
    _one_line_error(r, 'last.pt: not a readable latent_flows checkpoint')
    r = run('lf_evaluate', tmp_path / 'run', '--K', 1, '--out', tmp_path / 'r.json', ok=False)
    _one_line_error(r, 'best.pt: not a readable latent_flows checkpoint')
    assert not marker.exists()

def test_an_unreadable_chorale_cache_is_rebuilt(tmp_path, monkeypatch):
    "A damaged or crafted derived cache (.npz) is never trusted: it is rebuilt with a warning naming it, and no code runs."
    good = load_dataset('chorales', 'valid')                         # builds or reads the real cache
    real_cache = next(D.cache_dir().glob('chorales-*.npz'))
    monkeypatch.setenv('LATENT_FLOWS_CACHE', str(tmp_path))
    rebuilt = []
    monkeypatch.setattr(D, '_build_chorale_cache', lambda cache, grid, seed: (rebuilt.append(cache), shutil.copy(real_cache, cache)))
    marker = tmp_path / 'pwned'
    for damage in (b'not a zip', pickle.dumps(Exploit(marker))):
        bad = tmp_path / real_cache.name; bad.write_bytes(damage)
        with pytest.warns(UserWarning, match=f'{bad}: unreadable chorale cache'):
            again = load_dataset('chorales', 'valid')
        assert [len(s) for s in again.seqs] == [len(s) for s in good.seqs] and rebuilt[-1] == bad
    np.savez(bad, rolls=np.array([Exploit(marker)], dtype=object), lengths=np.array([1]), split=np.array(['valid']))
    with pytest.warns(UserWarning, match='unreadable chorale cache'): load_dataset('chorales', 'valid')
    assert len(rebuilt) == 3 and not marker.exists()


# --- run folders ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('budget', [dict(max_steps=3), dict(max_steps=10), dict(epochs=1)])   # inside an epoch, after one, finished
def test_resuming_a_finished_or_spent_run_trains_nothing(shared_data, tmp_path, budget):
    "Resuming a run whose budget is spent (or that finished its epochs), twice, changes no file, and says so."
    run_dir = tmp_path / 'run'
    first = train(_cfg(**budget), run_dir, **quiet)
    before = _files(run_dir)
    for _ in range(2):
        logs = []
        again = train(_cfg(**budget), run_dir, resume=True, progress=False, log=logs.append)
        assert again['steps'] == first['steps'] and again['stopped_by'] == first['stopped_by']
        assert any('nothing left to train' in l for l in logs), logs
    assert _files(run_dir) == before, 'a resumed sitting with nothing to do rewrote the run'
    r = run('lf_train', '--out', run_dir, '--resume', *(['--epochs', 1] if 'epochs' in budget else ['--set', f"max_steps={budget['max_steps']}"]))
    assert json.loads(r.stdout.splitlines()[-1])['steps'] == first['steps'] and _files(run_dir) == before

def test_resuming_with_more_budget_goes_on(shared_data, tmp_path):
    train(_cfg(max_steps=3), tmp_path / 'run', **quiet)
    assert train(_cfg(max_steps=5), tmp_path / 'run', resume=True, **quiet)['steps'] == 5
    # `lf_train --out RUN --resume` alone continues with the run's own config; a budget may be given
    r = run('lf_train', '--out', tmp_path / 'run', '--resume', '--set', 'max_steps=7')
    assert json.loads(r.stdout.splitlines()[-1])['steps'] == 7

def test_a_folder_of_another_run_is_refused(shared_data, tmp_path):
    run_dir = tmp_path / 'run'
    train(_cfg(max_steps=2), run_dir, **quiet)
    before = _files(run_dir)
    r = run('lf_train', *TRAIN[:2], '--model', 'AF/AF', *TRAIN[4:], '--out', run_dir, ok=False)
    _one_line_error(r, 'already holds a run', f'lf_train --out {run_dir} --resume', status=2)
    r = run('lf_train', *TRAIN[:2], '--model', 'AF/AF', *TRAIN[4:], '--out', run_dir, '--resume', ok=False)
    _one_line_error(r, "model: run 'AF/SCF', given 'AF/AF'", '--model AF/SCF', status=2)
    (run_dir / 'last.pt').unlink(); before.pop('last.pt')             # best.pt and metrics.csv of a run, without its last.pt
    for extra in ([], ['--resume'], ['--auto_resume']):
        r = run('lf_train', *TRAIN, '--out', run_dir, *extra, ok=False)
        _one_line_error(r, str(run_dir), status=2)
    assert _files(run_dir) == before                                 # refused: nothing written or replaced

def test_a_mistyped_resume_is_an_error(tmp_path):
    r = run('lf_train', *TRAIN, '--out', tmp_path / 'no-such-run', '--resume', ok=False)
    _one_line_error(r, 'no run to resume', status=2)
    assert not (tmp_path / 'no-such-run').exists()
    r = run('lf_train', '--out', tmp_path / 'no-such-run', '--resume', ok=False)   # alone: it would read the run's config
    _one_line_error(r, 'no-such-run: no run here', status=2)


# --- diverging runs ------------------------------------------------------------------------------------------------------
def _all_finite(path: Path) -> bool:
    return all(torch.isfinite(v).all() for v in load_checkpoint(path)['model'].values())

@pytest.mark.parametrize('setting', ['lr=inf,max_steps=3', 'lr=1e8,max_steps=14'])
def test_a_diverging_run_fails_honestly(shared_data, tmp_path, setting):
    r = run('lf_train', *TRAIN, '--out', tmp_path / 'run', '--set', setting, ok=False)
    _one_line_error(r, 'non-finite', status=1)
    for name in ('last.pt', 'best.pt'):
        if (tmp_path / 'run' / name).exists(): assert _all_finite(tmp_path / 'run' / name), name
    summary = tmp_path / 'run' / 'train_summary.json'
    if summary.exists(): assert json.loads(summary.read_text())['stopped_by'] == 'non-finite'

def test_nan_policy_stop_is_one_line(shared_data, tmp_path):
    r = run('lf_train', *TRAIN, '--out', tmp_path / 'run', '--set', 'lr=inf,nan_policy=stop,max_steps=5', ok=False)
    _one_line_error(r, 'non-finite', status=1)


# --- a full disk at each write of an epoch end ----------------------------------------------------------------------------
@pytest.mark.parametrize('target', [('last.pt', 3), ('best.pt', 1), ('metrics.csv', 1)])   # with checkpoint_every=3, the epoch end's last.pt is its 3rd
def test_a_full_disk_at_an_epoch_end_loses_and_duplicates_nothing(shared_data, tmp_path, monkeypatch, target):
    cfg = _cfg(epochs=2, checkpoint_every=3)
    straight = train(cfg, tmp_path / 'straight', **quiet)
    orig, seen = T.atomic_write, {}
    @contextmanager
    def full_disk(path, mode='w'):
        with orig(path, mode) as f:
            seen[Path(path).name] = seen.get(Path(path).name, 0) + 1
            if (Path(path).name, seen[Path(path).name]) == target:
                f.write(b'x' if 'b' in mode else 'x'); raise OSError(errno.ENOSPC, 'No space left on device', str(path))
            yield f
    monkeypatch.setattr(T, 'atomic_write', full_disk)
    with pytest.raises(OSError, match='No space left'): train(cfg, tmp_path / 'crash', **quiet)
    monkeypatch.setattr(T, 'atomic_write', orig)
    assert not list((tmp_path / 'crash').glob('.*.tmp'))              # no half-written file left behind
    train(cfg, tmp_path / 'crash', resume=True, **quiet)
    rows = lambda d: [l.rsplit(',', 1)[0] for l in (d / 'metrics.csv').read_text().splitlines()]   # all but the wall time
    assert [l.split(',')[0] for l in rows(tmp_path / 'crash')] == ['epoch', '0', '1']   # each epoch once
    assert rows(tmp_path / 'crash') == rows(tmp_path / 'straight')
    a, b = (load_checkpoint(tmp_path / d / 'last.pt') for d in ('straight', 'crash'))
    for k in a['model']: assert torch.equal(a['model'][k], b['model'][k]), k
    assert load_checkpoint(tmp_path / 'crash' / 'best.pt')['epoch'] == b['state']['best_epoch'] == a['state']['best_epoch']

def test_train_metrics_after_a_mid_epoch_resume_cover_the_whole_epoch(shared_data, tmp_path):
    train(_cfg(epochs=1), tmp_path / 'straight', **quiet)
    train(_cfg(epochs=1, max_steps=3), tmp_path / 'cut', **quiet)
    train(_cfg(epochs=1), tmp_path / 'cut', resume=True, **quiet)
    row = lambda d: (d / 'metrics.csv').read_text().splitlines()[1].split(',')[:5]   # epoch, step, train loss, rec, kl
    assert row(tmp_path / 'cut') == row(tmp_path / 'straight')


# --- outputs and bad values -----------------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def tiny_run(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp('faults') / 'run'
    train(_cfg(epochs=1), out, **quiet)
    return out

def test_evaluate_checks_its_output_first_and_needs_only_best(tiny_run, tmp_path):
    (tmp_path / 'file').write_text('')
    r = run('lf_evaluate', tiny_run, '--K', 1, '--out', tmp_path / 'file' / 'r.json', ok=False)
    _one_line_error(r, str(tmp_path / 'file'))
    run_dir = tmp_path / 'copy'; shutil.copytree(tiny_run, run_dir)
    (run_dir / 'last.pt').write_bytes(b'damaged')
    r = run('lf_evaluate', run_dir, '--K', 1, '--out', tmp_path / 'r.json')
    assert json.loads((tmp_path / 'r.json').read_text())['checkpoint'] == 'best' and 'NLL' in r.stdout

@pytest.mark.parametrize('args, msg', [
    (['lf_train', '--set', 'sizes=x'], '--set sizes=...'),
    (['lf_train', '--set', 'dataset=jsb'], '--set dataset=...'),
    (['lf_train', '--set', 'model=AF/AF'], '--set model=...'),
    (['lf_train', '--lr', '0.1', '--set', 'lr=0.2'], '--set lr=...'),
    (['lf_train', '--device', 'gpu9'], "device 'gpu9'"),
    (['lf_train', '--set', 'max_len=0'], 'max_len must be >= 1'),
    (['lf_train', '--dataset', 'jsb', '--sizes', 'kind=text'], "ModelConfig.kind must be 'music' for jsb"),
    (['lf_bench', '--batches', '0'], '--batches: every value must be >= 1'),
    (['lf_bench', '--lengths', 'ten'], '--lengths: expected comma-separated whole numbers'),
    (['lf_evaluate', 'RUN', '--K', '0'], '--K must be >= 1'),
    (['lf_evaluate', 'RUN', '--K', '-2'], '--K must be >= 1'),
    (['lf_sample', 'RUN', '--length', '100000'], 'beyond the longest sequence this model knows'),
    (['lf_sample', 'RUN', '--temperature', '0'], '--temperature must be > 0'),
])
def test_bad_values_are_one_line_errors(tiny_run, tmp_path, args, msg):
    args = [str(tiny_run) if a == 'RUN' else a for a in args]
    r = run(args[0], *args[1:], '--out' if args[0] == 'lf_train' else '--device', tmp_path / 'run' if args[0] == 'lf_train' else 'cpu',
            cwd=tmp_path, ok=False)
    _one_line_error(r, msg, status=2)
    assert not (tmp_path / 'run').exists()                              # nothing was started

@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the message on a machine without a GPU')
def test_cuda_without_a_gpu_is_one_line(tmp_path):
    _one_line_error(run('lf_train', '--device', 'cuda', '--out', tmp_path / 'run', ok=False), 'no CUDA device', status=2)

def test_max_steps_must_be_positive():
    with pytest.raises(ValueError, match='max_steps must be >= 1'): _cfg(max_steps=0)

def test_evaluating_sequences_longer_than_the_model_is_an_error(tiny_run):
    model, cfg, _ = T.load_run(tiny_run)
    data = load_dataset('jsb', 'test'); data.seqs = [torch.zeros(model.cfg.max_len + 1, 88, dtype=torch.uint8)]
    with pytest.raises(ValueError, match='longer than the model knows'): T.evaluate(model, data, K=1)

def test_a_step_that_would_overrun_the_minutes_is_not_started(shared_data, tmp_path, monkeypatch):
    "With --minutes, training stops before a step that its measured step time says would end past the budget."
    import time as _time
    clock = {'t': 1000.0}
    monkeypatch.setattr(T.time, 'time', lambda: clock['t'])
    orig = T.batch_loss
    def slow(*a, **k): clock['t'] += 25.0; return orig(*a, **k)   # every step takes 25 s of (fake) wall time
    monkeypatch.setattr(T, 'batch_loss', slow)
    s = train(_cfg(max_minutes=1.0), tmp_path / 'run', **quiet)    # 60 s: two steps (50 s) fit, a third would end at 75 s
    assert s['steps'] == 2 and s['stopped_by'] == 'budget' and s['train_wall_s'] <= 60, s

def test_demo_into_a_folder_of_another_run_is_one_line(shared_data, tmp_path):
    train(_cfg(max_steps=1), tmp_path / 'demo' / 'run', **quiet)   # a JSB run where lf_demo --minutes keeps its own
    before = _files(tmp_path / 'demo' / 'run')
    r = run('lf_demo', '--out', tmp_path / 'demo', '--minutes', '0.05', ok=False)
    _one_line_error(r, 'different config', status=2)
    assert _files(tmp_path / 'demo' / 'run') == before

def test_slow_steps_are_checkpointed_by_the_clock_too(shared_data, tmp_path, monkeypatch):
    "A run whose steps are slow writes last.pt every `checkpoint_minutes` as well as every `checkpoint_every` steps: a kill loses no more."
    written, orig = [], T.save_atomic
    def counted(obj, path):
        if Path(path).name == 'last.pt': written.append(obj['state']['step'])
        orig(obj, path)
    monkeypatch.setattr(T, 'save_atomic', counted)
    train(_cfg(epochs=1, checkpoint_every=1000), tmp_path / 'steps', **quiet)    # 8 steps in 10 minutes' default: the epoch end only
    assert written == [8]; written.clear()
    train(_cfg(epochs=1, checkpoint_every=1000, checkpoint_minutes=1e-9), tmp_path / 'clock', **quiet)   # every step is overdue
    assert written == [1, 2, 3, 4, 5, 6, 7, 8, 8]
    a, b = (load_checkpoint(tmp_path / d / 'last.pt')['model'] for d in ('steps', 'clock'))
    for k in a: assert torch.equal(a[k], b[k]), k                                # saving more often changes nothing it trains

def test_changing_only_checkpoint_every_on_resume_is_not_a_different_config(shared_data, tmp_path):
    train(_cfg(max_steps=2, checkpoint_every=100), tmp_path / 'run', **quiet)
    assert train(_cfg(max_steps=3, checkpoint_every=1, checkpoint_minutes=0.5), tmp_path / 'run', resume=True, **quiet)['steps'] == 3
