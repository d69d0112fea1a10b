"""How dense a trained music run's samples are, by the length asked for: `roll_stats` (notes sounding at once, note length)
of N samples at each length, beside the same numbers for the data set's test pieces, written to a results file with the
run's record (epochs, how it stopped), the commit, the hardware and the seed.

    python scripts/sample_density.py RUN_DIR OUT.json [--lengths 64 256 1024] [--n 20] [--seed 0]

A model conditions every step on its position counted from both ends (t and T-1-t), so the length asked for can change
what it draws; the headline's samples are all 64 steps long.
"""
import argparse, datetime, json, time
from pathlib import Path
from latent_flows.cli import sample_run, roll_stats
from latent_flows.core import atomic_write, git_commit, hardware_info
from latent_flows.data import load_dataset
from latent_flows.train import load_checkpoint, training_summary

def sample_density(run_dir, lengths=(64, 256, 1024), n: int = 20, seed: int = 0) -> dict:
    "The record `OUT.json` holds: `roll_stats` of `n` samples (seed `seed`) at each length, and of the test pieces."
    run_dir = Path(run_dir)
    best = load_checkpoint(run_dir / 'best.pt')   # the checkpoint lf_sample draws from
    cfg, summary = best['config'], training_summary(run_dir)
    if cfg.get('dataset') in (None, 'ptb'): raise ValueError(f"{run_dir}: not a music run (dataset {cfg.get('dataset')!r}); sample density is counted in piano-roll notes")
    t0 = time.perf_counter()
    rows = [dict(length=int(T), samples=n, **roll_stats(sample_run(run_dir, batch=n, length=int(T), seed=seed))) for T in lengths]
    test = load_dataset(cfg['dataset'], 'test').seqs
    return dict(dataset=cfg['dataset'], model=cfg['model'], run=str(run_dir), checkpoint=dict(which='best', epoch=best['epoch']),
                epochs=summary.get('epochs_done'), stopped_by=summary.get('stopped_by'), train_wall_s=summary.get('train_wall_s'),
                seed=seed, temperature=1.0, rows=rows, test_pieces=dict(pieces=len(test), **roll_stats([s.numpy() for s in test])),
                sample_wall_s=time.perf_counter() - t0, hardware=hardware_info(), git_commit=git_commit(),
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'))

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('run'); p.add_argument('out')
    p.add_argument('--lengths', type=int, nargs='+', default=[64, 256, 1024]); p.add_argument('--n', type=int, default=20)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    rec = sample_density(a.run, a.lengths, a.n, a.seed)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(a.out) as f: f.write(json.dumps(rec, indent=1))
    for r in rec['rows']: print(f"{rec['dataset']} {rec['model']}, {r['length']} steps: {r['notes_at_once']:.2f} notes at once, {r['note_steps']:.2f} steps long")
    print(f"test pieces: {rec['test_pieces']['notes_at_once']:.2f} notes at once, {rec['test_pieces']['note_steps']:.2f} steps long -> {a.out}")
