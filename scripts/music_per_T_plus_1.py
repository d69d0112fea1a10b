"""Convert music results files written before commit 055b264 from NLL per T to NLL per T+1.

Until 055b264, `evaluate` divided a music corpus's total by the number of time steps, sum_x T_x. The reference code
divides by sum_x (T_x + 1) for every data set it conditions on T (music included), and so does ours since. Every
per-event number in a results file is a corpus total divided by an event count, and the file stores the counts
(`events` = sum_x T_x and `sequences`), so the conversion is exact: value * sum T / (sum T + sequences). The
per-epoch `history` is converted the same way with the counts of its own split (train for the training terms,
valid for the validation bound), read from the data. Converted files say so in `normaliser_note`; a file that
already names its `normaliser` is left alone, so running this twice changes nothing.

    python scripts/music_per_T_plus_1.py results/music/**/*_test.json
"""
import json, sys
from pathlib import Path
from latent_flows.data import load_dataset

TOTALS = ('nll', 'recon', 'kl', 'elbo_nll')
TRAIN_TERMS, VALID_TERMS = ('train_loss', 'train_rec', 'train_kl'), ('val_elbo_nll',)

def ratio(dataset: str, split: str) -> float:
    "sum T / sum (T+1) over a whole split."
    lengths = load_dataset(dataset, split).lengths
    return float(lengths.sum() / (lengths.sum() + len(lengths)))

def convert(path: Path) -> bool:
    r = json.loads(path.read_text())
    if 'normaliser' in r or r.get('unit') != 'nats/step': return False
    steps = r['events']
    f = steps / (steps + r['sequences'])
    r.update({k: r[k] * f for k in TOTALS if r.get(k) is not None})
    r['events'] = steps + r['sequences']
    if r.get('history'):
        ft, fv = ratio(r['dataset'], 'train'), ratio(r['dataset'], 'valid')
        for row in r['history']:
            row.update({k: row[k] * ft for k in TRAIN_TERMS if k in row})
            row.update({k: row[k] * fv for k in VALID_TERMS if k in row})
    r['normaliser'] = 'T+1'
    r['normaliser_note'] = (f'written per T by commit {r["git_commit"][:8]}; converted to per T+1 by '
                            f'scripts/music_per_T_plus_1.py (exact: x * {steps} / {steps + r["sequences"]})')
    path.write_text(json.dumps(r, indent=1))
    return True

if __name__ == '__main__':
    for p in map(Path, sys.argv[1:]):
        print(('converted ' if convert(p) else 'unchanged ') + str(p))
