"""How dense a trained music run's samples are, by the length asked for, and whether the prior or the emission makes them so.

    python scripts/sample_density.py RUN_DIR OUT.json [--lengths 64 256 1024] [--n 20] [--seed 0]

For each length T, `roll_stats` (notes sounding at once, note length) of three sets of piano rolls: the test pieces at
least T steps long, cut to T; their reconstructions (each key drawn from p(x | z) at the inference network's mean code of
the cut piece, `latent.reconstruct`); and N samples of T steps from the prior (`lf_sample`'s draws). Reconstructions as
dense as the pieces and samples far sparser point at the prior's draws, not at the emission. The results file keeps the
run's record (checkpoint epoch, epochs, how it stopped), the commit, the hardware and the seed.
"""
import argparse, datetime, json, time
from pathlib import Path
import torch
from latent_flows.cli import sample_run, roll_stats
from latent_flows.core import atomic_write, git_commit, hardware_info, seed_everything
from latent_flows.data import collate, load_dataset
from latent_flows.latent import fit_length, reconstruct
from latent_flows.train import load_checkpoint, load_run, training_summary

def reconstructed(model, pieces, seed: int = 0) -> list:
    "Piano rolls of `pieces` (equal lengths) reconstructed by `model`: keys drawn from p(x | z) at the posterior mean code."
    seed_everything(seed)
    b = collate(list(pieces)); dev = next(model.parameters()).device
    rolls, _ = reconstruct(model, b['x'].to(dev), b['mask'].to(dev), greedy=False)
    return list(rolls.cpu().numpy())

def sample_density(run_dir, lengths=(64, 256, 1024), n: int = 20, seed: int = 0) -> dict:
    "The record `OUT.json` holds: per length, `roll_stats` of the cut test pieces, of their reconstructions and of `n` samples (seed `seed`)."
    run_dir = Path(run_dir)
    best = load_checkpoint(run_dir / 'best.pt')   # the checkpoint lf_sample draws from
    cfg, summary = best['config'], training_summary(run_dir)
    if cfg.get('dataset') in (None, 'ptb'): raise ValueError(f"{run_dir}: not a music run (dataset {cfg.get('dataset')!r}); sample density is counted in piano-roll notes")
    model, _, _ = load_run(run_dir, 'best'); model.eval()
    if not hasattr(model, 'q'): raise ValueError(f"{run_dir}: a {cfg['model']} run has no latent code to reconstruct from")
    test = load_dataset(cfg['dataset'], 'test').seqs
    t0, rows = time.perf_counter(), []
    for T in map(int, lengths):
        samples = sample_run(run_dir, batch=n, length=T, seed=seed)   # refuses a length beyond the model's max_len
        cut = fit_length([s for s in test if len(s) >= T], T) if any(len(s) >= T for s in test) else []
        rows.append(dict(length=T, samples=dict(n=n, **roll_stats(samples)),
                         test_cut=dict(pieces=len(cut), **roll_stats([s.numpy() for s in cut])) if cut else None,
                         reconstructed=roll_stats(reconstructed(model, cut, seed)) if cut else None))
    return dict(dataset=cfg['dataset'], model=cfg['model'], run=str(run_dir), checkpoint=dict(which='best', epoch=best['epoch']),
                epochs=summary.get('epochs_done'), budget=dict(stopped_by=summary.get('stopped_by')), train_wall_s=summary.get('train_wall_s'),
                seed=seed, temperature=1.0, rows=rows, test_pieces=dict(pieces=len(test), **roll_stats([s.numpy() for s in test])),
                wall_s=time.perf_counter() - t0, hardware=hardware_info(), git_commit=git_commit(),
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'))

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('run'); p.add_argument('out')
    p.add_argument('--lengths', type=int, nargs='+', default=[64, 256, 1024]); p.add_argument('--n', type=int, default=20)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    torch.set_grad_enabled(False)
    rec = sample_density(a.run, a.lengths, a.n, a.seed)
    with atomic_write(a.out) as f: f.write(json.dumps(rec, indent=1))
    at_once = lambda s: f"{s['notes_at_once']:.2f}" if s else '—'
    for r in rec['rows']:
        print(f"{rec['dataset']} {rec['model']}, {r['length']} steps: notes at once {at_once(r['test_cut'])} in the cut test pieces, "
              f"{at_once(r['reconstructed'])} reconstructed, {at_once(r['samples'])} sampled")
    print(f"-> {a.out}")
