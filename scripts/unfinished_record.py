"""Write the `unfinished` record of a long run that is still training (results/music/unfinished/<dataset>_<run folder name>.json): its
epochs and hours so far, the last epoch's validation bound and learning rate, its config, machine and code. Notebook 09
shows these records in its runs-in-progress table.

    python scripts/unfinished_record.py RUN_DIR "COMMAND THAT CONTINUES IT" [NOTE]
    python scripts/unfinished_record.py --refresh    # every record whose run folder is on this machine, same command and note
    python scripts/unfinished_record.py --resume [RECORD ...]   # start each record's command again (at most 2 runs at a time)
    python scripts/unfinished_record.py --pause RECORD "WHY"    # stop its run; a --resume with no names passes it by

--resume starts the commands in this shell's environment: activate the project's venv and set LATENT_FLOWS_DATA first.

A run folder lives outside the work tree, so a session on a new machine starts without it. Rerunning the command starts
the run again from epoch 0; the next `--refresh` sees fewer epochs than the record held and keeps the old progress under
`lost` (epochs, hours, last epoch), so the CPU time a run has cost stays on the record.
"""
import csv, datetime, json, os, subprocess, sys
from pathlib import Path
from latent_flows.train import training_summary

def record(run_dir: Path, command: str, note: str = '', lost: list = (), paused: str | None = None) -> dict:
    s = training_summary(run_dir)
    if not s: raise SystemExit(f"{run_dir}: no checkpoint yet (last.pt comes at the first epoch's end); write the record after it")
    rows = list(csv.DictReader((run_dir / 'metrics.csv').read_text().splitlines())) if (run_dir / 'metrics.csv').exists() else []
    last = {k: float(rows[-1][k]) if k != 'epoch' else int(rows[-1][k]) for k in ('epoch', 'kl_weight', 'val_elbo_nll', 'lr')} if rows else None
    cfg = s['config']
    return dict(dataset=cfg['dataset'], model=cfg['model'], status='unfinished', command=command,
                run_dir=f"{str(run_dir).replace(str(Path.home()), '~')} (outside the work tree, resumed by rerunning the command)",
                epochs_done=s['epochs_done'], steps=s['steps'], train_hours=round(s['train_wall_s'] / 3600, 2), stopped_by=s['stopped_by'],
                last_epoch=last, config=cfg, hardware=s['hardware'], git_commit=s['git_commit'],
                recorded=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'), note=note, lost=list(lost),
                **({'paused': paused} if paused else {}))

ROOT = Path(__file__).resolve().parents[1]   # the repository: commands run from here
RECORDS = ROOT / 'results' / 'music' / 'unfinished'

def write(run_dir: Path, command: str, note: str = '', lost: list = (), paused: str | None = None):
    rec = record(run_dir, command, note, lost, paused)
    out = RECORDS / f"{rec['dataset']}_{run_dir.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(json.dumps(rec, indent=1))
    print(f"{out}: {rec['epochs_done']} epochs, {rec['train_hours']} h, last epoch {rec['last_epoch']}")

def record_file(name: str) -> Path: return RECORDS / (name if name.endswith('.json') else f'{name}.json')   # a record by its name

def run_dir_of(rec: dict) -> Path:
    "The run folder a record names (its `run_dir` without the explanation in brackets), on this machine."
    return Path(rec['run_dir'].split(' (')[0]).expanduser()

def refresh():
    """Rewrite every record from its run folder, keeping its command, note and lost attempts; a record whose folder is gone
    is left as it is, and one whose run has fewer epochs than it held (started again) keeps the old progress under `lost`;
    a paused record stays paused."""
    for f in sorted(RECORDS.glob('*.json')):
        old = json.loads(f.read_text())
        run_dir, lost = run_dir_of(old), old.get('lost', [])
        if not (run_dir / 'metrics.csv').exists():
            print(f"{f}: {run_dir} {'has no finished epoch yet' if run_dir.exists() else 'is not on this machine'}; left as it is"); continue
        if training_summary(run_dir)['epochs_done'] < old['epochs_done']:
            lost = lost + [{k: old[k] for k in ('epochs_done', 'train_hours', 'last_epoch', 'recorded', 'git_commit')}]
        write(run_dir, old['command'], old['note'], lost, old.get('paused'))

def _training(run_dir: Path) -> str: return f'[l]f_train .*--out {run_dir}( |$)'   # [l]: not a shell's line that waits on it

def running(run_dir: Path) -> bool:
    "Whether an `lf_train` process on this machine is training into `run_dir`."
    return subprocess.run(['pgrep', '-f', _training(run_dir)], capture_output=True).returncode == 0

def pause(name: str, why: str):
    """Stop the run of record `name` (SIGTERM: lf_train saves a checkpoint at its next step and stops) and mark the record
    paused, saying `why`: a `--resume` with no names passes it by, and naming it resumes it."""
    f = record_file(name); rec = json.loads(f.read_text())
    subprocess.run(['pkill', '-TERM', '-f', _training(run_dir_of(rec))])
    f.write_text(json.dumps(dict(rec, paused=why), indent=1)); print(f"{f.stem}: paused ({why})")

LOGS = Path(os.environ.get('LATENT_FLOWS_RUNS', Path.home() / 'lf_runs')) / 'logs'

def resume(names=(), max_runs: int = 2):
    """Start the command of each record (those named, in that order, else all but the paused) whose run is not training already,
    detached from this shell, its output appended to LOGS/<record>.log; at most `max_runs` runs train at a time (2 on the 2-core
    machine). A paused record named here is resumed and no longer paused."""
    files = [record_file(n) for n in names] or sorted(RECORDS.glob('*.json'))
    recs = [(f, json.loads(f.read_text())) for f in files]
    for f, r in recs:
        if names and r.pop('paused', None): f.write_text(json.dumps(r, indent=1))
    recs = [(f, r) for f, r in recs if not r.get('paused')]
    dirs = {f: run_dir_of(r) for f, r in recs}
    busy = sum(running(d) for d in dirs.values())
    LOGS.mkdir(parents=True, exist_ok=True)
    for f, r in recs:
        if running(dirs[f]): print(f"{f.stem}: training already"); continue
        if busy >= max_runs: print(f"{f.stem}: waits ({busy} runs training)"); continue
        log = LOGS / f'{f.stem}.log'
        with open(log, 'a') as out:   # bash expands the command's ~ and its VAR=value prefixes
            subprocess.Popen(['bash', '-c', r['command']], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        busy += 1; print(f"{f.stem}: started, log {log}")

if __name__ == '__main__':
    if sys.argv[1:] == ['--refresh']: refresh()
    elif sys.argv[1:2] == ['--resume']: resume(sys.argv[2:])
    elif sys.argv[1:2] == ['--pause'] and len(sys.argv) == 4: pause(sys.argv[2], sys.argv[3])
    else: write(Path(sys.argv[1]).expanduser(), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else '')
