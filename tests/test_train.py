"Training end to end: exact kill-and-resume, the NaN guard, overfitting a tiny set, the loss average, two-process DDP, bad configs."
import json, os, signal, subprocess, sys, time
from dataclasses import replace
from pathlib import Path
import pytest, torch
from conftest import console_script
from latent_flows.train import preset, train, load_checkpoint, save_atomic, TrainConfig, NonFiniteError, evaluate, load_run
from latent_flows.data import SequenceData
from latent_flows.core import hardware_info

TINY = dict(zsize=4, emb_size=16, rnn_size=16, rnn_layers=1, pos_dim=4, prior_units=8, prior_lstm_size=16, prior_layers=2)
quiet = dict(progress=False, log=lambda s: None)


def _cfg(model='AF/SCF', **kw):
    # the CPU even where a GPU is present: bit-identical resume needs deterministic kernels, and cuDNN's LSTM backward is not
    base = dict(batch_size=32, epochs=2, kl_warmup_epochs=0.5, kl_anneal_epochs=1, eval_K=2, checkpoint_every=1, sizes=TINY, device='cpu')
    base.update(kw)
    return preset('jsb', model, **base)


def _params(run):
    return load_checkpoint(Path(run) / 'last.pt')['model']


def _same(a, b):
    assert a.keys() == b.keys()
    for k in a: assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize('model', ['AF/SCF', 'IAF/SCF'])
def test_resume_is_exact(shared_data, tmp_path, model):
    "Stopping after k steps and resuming gives bit-identical parameters to an uninterrupted run (crossing an epoch end)."
    n = 12                                                      # JSB: 229 train sequences, 8 batches of 32 per epoch
    train(_cfg(model, max_steps=n), tmp_path / 'full', **quiet)
    train(_cfg(model, max_steps=5), tmp_path / 'cut', **quiet)
    train(_cfg(model, max_steps=n), tmp_path / 'cut', resume=True, **quiet)
    _same(_params(tmp_path / 'full'), _params(tmp_path / 'cut'))
    st = load_checkpoint(tmp_path / 'cut' / 'last.pt')['state']
    assert st['step'] == n and st['epoch'] == 1
    # each sitting is on record, with where it started and the machine it ran on
    assert [(s['epoch'], s['step']) for s in st['sittings']] == [(0, 0), (0, 5)]
    assert st['sittings'][1]['wall_s'] > 0 and st['sittings'][1]['hardware'] == hardware_info()


def test_resumes_a_checkpoint_from_before_sittings_were_recorded(shared_data, tmp_path):
    "Older checkpoints kept only each sitting's commit; resuming one keeps those and records the new sitting in full."
    train(_cfg(max_steps=2), tmp_path / 'r', **quiet)
    ck = load_checkpoint(tmp_path / 'r' / 'last.pt')
    st = ck['state']; st['commits'] = ['0' * 40, '1' * 40]; del st['sittings']
    save_atomic(ck, tmp_path / 'r' / 'last.pt')
    summary = train(_cfg(max_steps=3), tmp_path / 'r', resume=True, **quiet)
    assert summary['git_commits'][:2] == ['0' * 40, '1' * 40] and len(summary['sittings']) == 3
    assert summary['sittings'][-1]['step'] == 2 and summary['sittings'][-1]['hardware'] == hardware_info()


@pytest.mark.parametrize('sig', [signal.SIGKILL, signal.SIGTERM])
def test_killed_process_resumes(shared_data, tmp_path, sig):
    """Kill a training process mid-run; --resume finishes with the same parameters as an uninterrupted run. SIGKILL loses
    the steps since the last checkpoint; SIGTERM stops at the next step after saving one, and exits 128 + 15."""
    args = ['--dataset', 'jsb', '--model', 'AF/SCF', '--batch_size', '32', '--quiet', '--epochs', '2', '--device', 'cpu',
            '--sizes', ','.join(f'{k}={v}' for k, v in TINY.items()),
            '--set', 'kl_warmup_epochs=0.5,kl_anneal_epochs=1,eval_K=2,checkpoint_every=1,max_steps=14']
    cmd = [console_script('lf_train')]
    subprocess.run(cmd + args + ['--out', str(tmp_path / 'full')], check=True, capture_output=True)
    p = subprocess.Popen(cmd + args + ['--out', str(tmp_path / 'cut')], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:                              # wait for a few checkpoints, then kill without warning
        last = tmp_path / 'cut' / 'last.pt'
        if last.exists():
            try:
                if load_checkpoint(last)['state']['step'] >= 3: break
            except ValueError: pass
        time.sleep(0.05)
    p.send_signal(sig); err = p.communicate()[1]
    step_at_kill = load_checkpoint(tmp_path / 'cut' / 'last.pt')['state']['step']
    assert step_at_kill < 14, 'the run finished before it could be killed'
    if sig == signal.SIGTERM:
        assert p.returncode == 128 + signal.SIGTERM and 'stopped by SIGTERM' in err and '--resume' in err, (p.returncode, err)
        assert f'(step {step_at_kill})' in err                  # it saved the step it stopped at
    subprocess.run(cmd + args + ['--out', str(tmp_path / 'cut'), '--resume'], check=True, capture_output=True)
    _same(_params(tmp_path / 'full'), _params(tmp_path / 'cut'))


def test_existing_run_is_not_overwritten(shared_data, tmp_path):
    train(_cfg(max_steps=1), tmp_path / 'r', **quiet)
    with pytest.raises(FileExistsError, match='already holds a run'):
        train(_cfg(max_steps=1), tmp_path / 'r', **quiet)
    with pytest.raises(ValueError, match=r'different config \(lr: run 0.001, given 0.5\)'):
        train(_cfg(max_steps=2, lr=0.5), tmp_path / 'r', resume=True, **quiet)
    with pytest.raises(ValueError, match=r'sizes.pos_std: run None, given 1.0'):   # a nested field is named by its path
        train(_cfg(max_steps=2, sizes={**TINY, 'pos_std': 1.0}), tmp_path / 'r', resume=True, **quiet)
    # a longer budget, and another device (here: the default one), are not a different config
    assert train(_cfg(max_steps=2, device=None), tmp_path / 'r', resume=True, **quiet)['steps'] == 2


def test_run_saved_with_the_old_default_init(shared_data, tmp_path):
    "A run saved when PyTorch's init was every model's default (`init='default'`) resumes as it ran, and only when told so."
    for model in ('AF/SCF', 'lstm'):
        run = tmp_path / model.replace('/', '-')
        train(_cfg(model, max_steps=1, sizes={**TINY, 'init': 'pytorch'}), run, **quiet)
        ck = load_checkpoint(run / 'last.pt'); ck['config']['sizes']['init'] = 'default'; save_atomic(ck, run / 'last.pt')
        if model == 'lstm':   # PyTorch's init is still the LSTM's default: the same command continues it
            assert train(_cfg(model, max_steps=2), run, resume=True, **quiet)['steps'] == 2
            continue
        with pytest.raises(ValueError, match=r"sizes.init: run 'pytorch', given 'reference'.*or give --sizes init=pytorch"):
            train(_cfg(model, max_steps=2), run, resume=True, **quiet)
        assert train(_cfg(model, max_steps=2, sizes={**TINY, 'init': 'pytorch'}), run, resume=True, **quiet)['steps'] == 2


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / 'last.pt').write_bytes(b'garbage')
    with pytest.raises(ValueError, match='last.pt: not a readable latent_flows checkpoint'):
        load_checkpoint(tmp_path / 'last.pt')


def test_nan_guard(shared_data, tmp_path, monkeypatch):
    "A non-finite loss is reported with its batch and skipped; with nan_policy='stop' the run stops cleanly."
    import latent_flows.model as M
    orig = M.LatentFlowModel.elbo
    calls = {'n': 0}
    def poisoned(self, *a, **k):
        out = orig(self, *a, **k); calls['n'] += 1
        if calls['n'] == 2 and self.training: out['rec'] = out['rec'] * float('nan')
        return out
    monkeypatch.setattr(M.LatentFlowModel, 'elbo', poisoned); monkeypatch.setattr(M.LatentFlowModel, 'forward', poisoned)
    logs = []
    s = train(_cfg(max_steps=4), tmp_path / 'skip', progress=False, log=logs.append)
    assert s['skipped_steps'] == 1 and any('non-finite loss at epoch 0, batch 1' in l for l in logs)
    assert all(torch.isfinite(v).all() for v in _params(tmp_path / 'skip').values())
    calls['n'] = 0
    with pytest.raises(NonFiniteError, match='stopping'):
        train(_cfg(max_steps=4, nan_policy='stop'), tmp_path / 'stop', **quiet)
    assert (tmp_path / 'stop' / 'last.pt').exists()


def test_overfits_tiny_data(shared_data, tmp_path, monkeypatch):
    "On 8 short chorale snippets the model learns to reconstruct them almost perfectly."
    import latent_flows.train as T
    from latent_flows.data import load_music
    jsb = load_music('jsb', 'train')
    tiny = SequenceData('jsb', 'train', [s[:12] for s in jsb.seqs[:8]])
    monkeypatch.setattr(T, 'load_data', lambda cfg: (tiny, tiny))
    # 600 steps: at 300 the reconstruction still depended on the random draws (0.01 to 0.6 nats by seed); at 600 every seed tried reached 0.002
    cfg = _cfg('AF/SCF', epochs=600, batch_size=8, lr=3e-3, kl_start=1e-4, kl_warmup_epochs=1000, elbo_samples=1,
               sizes=dict(TINY, zsize=8, rnn_size=32, emb_size=32), checkpoint_every=1000)
    train(cfg, tmp_path / 'o', **quiet)
    model, _, _ = load_run(tmp_path / 'o', 'last')      # 'best' is judged by the full ELBO, which the KL dominates here
    res = evaluate(model, tiny, K=1)
    # reconstruction error per step, in nats over 88 keys: near zero when x is recovered from z
    assert res['recon'] < 0.1, res


def test_loss_average(shared_data, tmp_path, monkeypatch):
    "Averaging per sequence (the reference's) takes the same steps as per event when every sequence has the same length, other steps when not."
    import latent_flows.train as T
    from latent_flows.data import load_music
    jsb = load_music('jsb', 'train')
    for name, cut in (('equal', lambda i: 12), ('unequal', lambda i: 6 + i)):
        data = SequenceData('jsb', 'train', [s[:cut(i)] for i, s in enumerate(jsb.seqs[:8])])
        monkeypatch.setattr(T, 'load_data', lambda cfg: (data, data))
        for how in ('events', 'sequences'):
            train(_cfg('AF/SCF', batch_size=8, max_steps=3, loss_average=how), tmp_path / name / how, **quiet)
    equal, unequal = [[_params(tmp_path / n / h) for h in ('events', 'sequences')] for n in ('equal', 'unequal')]
    for k in equal[0]: torch.testing.assert_close(equal[0][k], equal[1][k], rtol=1e-4, atol=1e-6)
    assert any(not torch.allclose(unequal[0][k], unequal[1][k], rtol=1e-4, atol=1e-6) for k in unequal[0])


def test_two_process_ddp_matches_one(shared_data, tmp_path):
    "torchrun with 2 gloo processes takes the same steps as 1 process with the same global batch (no dropout: its masks differ per process)."
    args = ['--dataset', 'jsb', '--model', 'lstm', '--batch_size', '16', '--quiet', '--epochs', '1', '--device', 'cpu',
            '--sizes', 'emb_size=16,rnn_size=16,rnn_layers=1,lstm_dropout=0', '--set', 'max_steps=6,optimizer=adam,lr=0.01']
    env = dict(os.environ, OMP_NUM_THREADS='1')
    subprocess.run([console_script('lf_train')] + args + ['--out', str(tmp_path / 'one')], check=True, capture_output=True, env=env)
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', console_script('lf_train')] + args
                       + ['--out', str(tmp_path / 'two')], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = _params(tmp_path / 'one'), _params(tmp_path / 'two')
    for k in a: torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('bad, msg', [(dict(batch_size=0), 'TrainConfig.batch_size must be positive'),
                                      (dict(optimizer='lbfgs'), "TrainConfig.optimizer must be 'adam'"),
                                      (dict(nan_policy='ignore'), "TrainConfig.nan_policy must be 'skip' or 'stop'"),
                                      (dict(loss_average='tokens'), "TrainConfig.loss_average must be 'events' or 'sequences'"),
                                      (dict(checkpoint_minutes=0), 'TrainConfig.checkpoint_minutes must be positive'),
                                      (dict(sizes=dict(zsize=0)), 'ModelConfig.zsize must be >= 1'),
                                      (dict(sizes=dict(kind='video')), "ModelConfig.kind must be 'text' or 'music'")])
def test_bad_configs(bad, msg):
    with pytest.raises(ValueError, match=msg.replace('(', r'\(')):
        preset('jsb', 'AF/AF', **bad)


def test_mixed_precision_trains_like_float32(shared_data, tmp_path):
    "amp=True (bfloat16 autocast, on the GPU when there is one, else the CPU): training improves the ELBO as much as float32 does."
    from latent_flows.data import load_dataset
    from latent_flows.model import build_model
    from latent_flows.train import _sizes_for, load_data
    valid = load_dataset('jsb', 'valid')
    def val_nll(model): torch.manual_seed(0); return evaluate(model, valid, K=1)['elbo_nll']
    cfg = _cfg(epochs=3, seed=3, device=None)
    train_data, _ = load_data(cfg)
    before = val_nll(build_model(_sizes_for(cfg, train_data), train_data.lengths))
    after = {}
    for amp in (False, True):
        s = train(replace(cfg, amp=amp), tmp_path / f'amp{amp}', **quiet)
        assert s['skipped_steps'] == 0
        after[amp] = val_nll(load_run(tmp_path / f'amp{amp}', 'last')[0])
    gain = before - after[False]
    assert gain > 1.0, (before, after)                        # float32 training clearly helps ...
    assert abs(after[True] - after[False]) < 0.1 * gain, (before, after)   # ... and bfloat16 gets the same benefit


@pytest.mark.parametrize('warm,anneal,first_decision', [(0, 0, 0), (1, 1, 2)])
def test_validation_is_seeded_and_min_lr_stops(shared_data, tmp_path, warm, anneal, first_decision):
    """A frozen model (SGD with a vanishing rate) scores exactly the same every epoch. The lr rule ignores the KL schedule's
    epochs, starts afresh at the first epoch trained wholly at KL weight 1 (which becomes best.pt), fires one epoch later
    (patience 1), and the run stops at min_lr."""
    cfg = _cfg('AF/SCF', optimizer='sgd', lr=1e-30, min_lr=0.5e-30, lr_decay=4, patience=1, epochs=10,
               kl_warmup_epochs=warm, kl_anneal_epochs=anneal)
    s = train(cfg, tmp_path / 'r', **quiet)
    hist = load_checkpoint(tmp_path / 'r' / 'last.pt')['state']['history']
    vals, lrs = [row['val_elbo_nll'] for row in hist], [row['lr'] for row in hist]
    assert s['stopped_by'] == 'min_lr' and s['epochs_done'] == first_decision + 2 and len(set(vals)) == 1, (s, vals)
    assert lrs == [1e-30] * (first_decision + 1) + [0.25e-30], lrs
    assert load_checkpoint(tmp_path / 'r' / 'best.pt')['epoch'] == first_decision
    assert train(cfg, tmp_path / 'r', resume=True, **quiet)['epochs_done'] == first_decision + 2   # a stopped run trains no more
    with pytest.raises(ValueError, match='min_lr must be >= 0 and below lr'):
        replace(cfg, min_lr=1.0)


def test_fresh_validation_noise_is_new_each_epoch_and_repeats_on_resume(shared_data, tmp_path):
    """With valid_noise='fresh' (the reference's way) a frozen model scores differently after every epoch, and a run
    stopped and resumed draws the same noise as one trained straight through."""
    cfg = _cfg('AF/SCF', optimizer='sgd', lr=1e-30, min_lr=0, patience=100, epochs=3, kl_warmup_epochs=0, kl_anneal_epochs=0,
               valid_noise='fresh')
    def vals(run): return [row['val_elbo_nll'] for row in load_checkpoint(run / 'last.pt')['state']['history']]
    train(cfg, tmp_path / 'straight', **quiet)
    train(replace(cfg, epochs=2), tmp_path / 'resumed', **quiet)
    train(cfg, tmp_path / 'resumed', resume=True, **quiet)
    assert len(set(vals(tmp_path / 'straight'))) == 3, vals(tmp_path / 'straight')
    assert vals(tmp_path / 'resumed') == vals(tmp_path / 'straight')


def test_one_padded_batch_has_the_gradient_of_accumulated_batches_of_one(shared_data, monkeypatch):
    """The paper's piano and musedata setting, 8 accumulated batches of one with each sequence's objective over its own length,
    and one padded batch of the same sequences with loss_average='sequences' have the same gradient (the noise fixed: the
    posterior mean; dropout off), which is what lets lf_bench --suite batching compare their speed alone."""
    from latent_flows.train import batch_loss, load_data, _sizes_for
    from latent_flows.data import collate
    from latent_flows.model import build_model
    monkeypatch.setattr(torch, 'randn_like', lambda t, **k: torch.zeros_like(t))
    cfg = _cfg('AF/AF', loss_average='sequences')
    data, _ = load_data(cfg)
    torch.manual_seed(0)
    model = build_model(_sizes_for(cfg, data), data.lengths).eval()
    seqs = [data.seqs[i] for i in (0, 5, 17, 40)]                  # four different lengths
    assert len({len(s) for s in seqs}) == 4
    def grads(parts, accum):
        model.zero_grad()
        for part in parts:
            b = collate(part)
            batch_loss(model, b['x'], b['mask'], replace(cfg, grad_accum=accum), beta=0.5)[0].backward()
        return [p.grad.clone() for p in model.parameters()]
    one_by_one, padded = grads([[s] for s in seqs], 4), grads([seqs], 1)
    for a, b in zip(one_by_one, padded): torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
