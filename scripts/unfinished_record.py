"""Write the `unfinished` record of a long run that is still training (results/music/unfinished/<dataset>_<run folder name>.json): its
epochs and hours so far, the last epoch's validation bound and learning rate, its per-epoch curve so far (metrics.csv), its config,
machine and code. Notebook 09 shows these records in its runs-in-progress table and draws their curves.

    python scripts/unfinished_record.py RUN_DIR "COMMAND THAT CONTINUES IT" [NOTE]
    python scripts/unfinished_record.py --refresh    # every record whose run folder is on this machine, same command and note
    python scripts/unfinished_record.py --lost       # on a new machine: each started record whose run folder is gone lists its progress as lost
    python scripts/unfinished_record.py --resume [RECORD ...]   # start each record's command again (at most 2 runs at a time)
    python scripts/unfinished_record.py --pause RECORD "WHY"    # stop its run; a --resume with no names passes it by
    python scripts/unfinished_record.py --queue DATASET MODEL RUN_DIR RESULTS_DIR [lf_train options] [--note NOTE]
                                        # a run to start when a slot is free: a `queued` record with its run_model.sh command
    python scripts/unfinished_record.py --follow [MINUTES]      # every MINUTES (10): --refresh, then --resume; until killed

--resume starts the commands in this shell's environment: activate the project's venv and set LATENT_FLOWS_DATA first.
It starts the records of started runs first, then the queued ones in the order they were queued, and passes by a run
that has finished and been evaluated (its results file is newer than its best checkpoint): that file is to be copied into
results/music/headline/ and the record removed, by hand, as the results are committed.

A run folder lives outside the work tree, so a session on a new machine starts without it. Rerunning the command starts
the run again from epoch 0; the next `--refresh` sees fewer epochs than the record held and keeps the old progress under
`lost` (epochs, hours, last epoch), so the CPU time a run has cost stays on the record. A paused run is not started again,
so `--lost` does the same for it (and any other started record without a checkpoint here) when the machine is known to be new.
"""
import datetime, inspect, json, os, shlex, subprocess, sys, time
from pathlib import Path
from latent_flows.train import training_history, training_summary
from latent_flows.results import best_bound

def tilde(path) -> str:
    "A path under the home folder as ~/...: records are committed, and bash expands ~ when a command runs."
    p = Path(path).expanduser()
    return f'~/{p.relative_to(Path.home())}' if p.is_relative_to(Path.home()) else str(p)

def record(run_dir: Path, command: str, note: str = '', lost: list = (), paused: str | None = None) -> dict:
    s = training_summary(run_dir)
    if not s: raise SystemExit(f"{run_dir}: no checkpoint yet (last.pt comes within `checkpoint_minutes` of training); write the record after it")
    rows = training_history(run_dir)
    last = {k: rows[-1][k] if k != 'epoch' else int(rows[-1][k]) for k in ('epoch', 'kl_weight', 'val_elbo_nll', 'lr')} if rows else None
    cfg = s['config']
    return dict(dataset=cfg['dataset'], model=cfg['model'], status='unfinished', command=command,
                run_dir=f"{tilde(run_dir)} (outside the work tree, resumed by rerunning the command)",
                epochs_done=s['epochs_done'], steps=s['steps'], train_hours=round(s['train_wall_s'] / 3600, 2), stopped_by=s['stopped_by'],
                last_epoch=last, history=rows, config=cfg, hardware=s['hardware'], git_commit=s['git_commit'],
                recorded=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'), note=note, lost=list(lost),
                **({'paused': paused} if paused else {}))

ROOT = Path(__file__).resolve().parents[1]   # the repository: commands run from here
RECORDS = ROOT / 'results' / 'music' / 'unfinished'

def write(run_dir: Path, command: str, note: str = '', lost: list = (), paused: str | None = None):
    rec = record(run_dir, command, note, lost, paused)
    out = RECORDS / f"{rec['dataset']}_{run_dir.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(json.dumps(rec, indent=1))
    print(f"{out}: {rec['epochs_done']} epochs, {rec['train_hours']} h, last epoch {rec['last_epoch']}")

def queue(dataset: str, model: str, run_dir: Path, results_dir: Path, options=(), note: str = ''):
    """Queue a run not started yet: a record with status `queued`, the `scripts/run_model.sh` command that trains it on one thread
    (then evaluates it and writes samples), and the config `lf_train`'s `options` give, so the results notebook can place it.
    Its first `--refresh` after its first checkpoint (`checkpoint_minutes` into training at the latest) makes it an ordinary record."""
    from fastcore.script import anno_parser
    from latent_flows.cli import lf_train, train_config
    if any(c.isspace() for c in tilde(run_dir) + tilde(results_dir)): raise SystemExit('run and results folders without spaces, please')
    ns = vars(anno_parser(lf_train.__wrapped__).parse_args(['--dataset', dataset, '--model', model, '--out', str(run_dir), *options]))
    cfg = train_config(**{k: ns[k] for k in inspect.signature(train_config).parameters})   # a bad option fails here, not hours later
    command = ' '.join(['OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 bash scripts/run_model.sh', shlex.quote(dataset), shlex.quote(model),
                        tilde(run_dir), tilde(results_dir), *map(shlex.quote, options)])
    rec = dict(dataset=cfg.dataset, model=cfg.model, status='queued', command=command,
               run_dir=f"{tilde(run_dir)} (outside the work tree, started by the command)", epochs_done=0, steps=0, train_hours=0.0,
               stopped_by=None, last_epoch=None, history=[], config=cfg.to_dict(), hardware=None, git_commit=None,
               recorded=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'), note=note, lost=[])
    out = RECORDS / f"{cfg.dataset}_{Path(run_dir).name}.json"
    if out.exists(): raise SystemExit(f'{out}: there is a record of that run already')
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(json.dumps(rec, indent=1))
    print(f"{out}: queued: {command}")

def results_file_of(rec: dict) -> Path | None:
    "The results file a record's `run_model.sh` command writes (RESULTS_DIR/<dataset>_<model>_test.json), or None for another command."
    words = shlex.split(rec['command'])
    if 'scripts/run_model.sh' not in words: return None
    ds, model, _, res = words[words.index('scripts/run_model.sh') + 1:][:4]
    return Path(res).expanduser() / f"{ds}_{model.replace('/', '-')}_test.json"

def finished(rec: dict) -> bool:
    "Whether a record's run has ended its training and been evaluated: its results file is newer than its best checkpoint."
    best, res = run_dir_of(rec) / 'best.pt', results_file_of(rec)
    return bool(res and res.exists() and best.exists() and res.stat().st_mtime > best.stat().st_mtime
                and (training_summary(run_dir_of(rec)) or {}).get('stopped_by') not in (None, 'unfinished'))

def record_file(name: str) -> Path: return RECORDS / (name if name.endswith('.json') else f'{name}.json')   # a record by its name

def run_dir_of(rec: dict) -> Path:
    "The run folder a record names (its `run_dir` without the explanation in brackets), on this machine."
    return Path(rec['run_dir'].split(' (')[0]).expanduser()

def lost_attempt(rec: dict) -> dict:
    """What a record's run had reached when its folder was lost: epochs, hours, last epoch, when it was recorded, its code, its
    per-epoch curve (the results page draws it) and the best validation bound at KL weight 1 with its epoch (None during the KL warm-up)."""
    best = best_bound(rec.get('history'))
    return {k: rec[k] for k in ('epochs_done', 'train_hours', 'last_epoch', 'recorded', 'git_commit')} | dict(
        history=rec.get('history') or [], best_val_bound=best and dict(epoch=int(best['epoch']), val_elbo_nll=best['val_elbo_nll']))

def refresh():
    """Rewrite every record from its run folder, keeping its command, note and lost attempts; a record whose folder is gone
    is left as it is, and one whose run has fewer epochs than it held (started again) keeps the old progress under `lost`;
    a paused record stays paused, and a queued one becomes an ordinary record once its run has written a checkpoint."""
    for f in sorted(RECORDS.glob('*.json')):
        old = json.loads(f.read_text())
        run_dir, lost = run_dir_of(old), old.get('lost', [])
        if not training_summary(run_dir):   # a run that has written last.pt is started, even within its first epoch
            where = 'has no checkpoint yet' if run_dir.exists() else 'is not started yet' if old.get('status') == 'queued' else 'is not on this machine'
            print(f"{f}: {run_dir} {where}; left as it is"); continue
        if training_summary(run_dir)['epochs_done'] < old['epochs_done']:
            lost = lost + [lost_attempt(old)]
        write(run_dir, old['command'], old['note'], lost, old.get('paused'))

def mark_lost():
    """On a new machine: every started record whose run folder holds no checkpoint here moves its progress under `lost` and starts
    again from 0 epochs, so a paused run (which `--refresh` never sees restart) does not claim epochs that no machine holds.
    Run it only where the runs' machine is known to be gone: `--refresh` alone leaves such a record as it is."""
    for f in sorted(RECORDS.glob('*.json')):
        old = json.loads(f.read_text())
        if old.get('status') == 'queued' or not old['epochs_done'] or training_summary(run_dir_of(old)): continue
        lost = old.get('lost', []) + [lost_attempt(old)]
        f.write_text(json.dumps(dict(old, epochs_done=0, steps=0, train_hours=0.0, stopped_by=None, last_epoch=None, history=[], lost=lost,
                                     recorded=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')), indent=1))
        print(f"{f.stem}: {old['epochs_done']} epochs, {old['train_hours']} h lost with the machine; starts again from epoch 0")

def _training(run_dir: Path) -> str: return f'[l]f_train .*--out {run_dir}( |$)'   # [l]: not a shell's line that waits on it

def running(run_dir: Path) -> bool:
    """Whether a process on this machine works on `run_dir`: `lf_train` training into it, or the `run_model.sh` that trained it
    and is evaluating it or writing samples."""
    pattern = f'{_training(run_dir)}|[r]un_model.sh .* {run_dir}( |$)'
    return subprocess.run(['pgrep', '-f', pattern], capture_output=True).returncode == 0

def pause(name: str, why: str):
    """Stop the run of record `name` (SIGTERM: lf_train saves a checkpoint at its next step and stops) and mark the record
    paused, saying `why`: a `--resume` with no names passes it by, and naming it resumes it."""
    f = record_file(name); rec = json.loads(f.read_text())
    subprocess.run(['pkill', '-TERM', '-f', _training(run_dir_of(rec))])
    f.write_text(json.dumps(dict(rec, paused=why), indent=1)); print(f"{f.stem}: paused ({why})")

LOGS = Path(os.environ.get('LATENT_FLOWS_RUNS', Path.home() / 'lf_runs')) / 'logs'

def resume(names=(), max_runs: int = 2, skip=()) -> list:
    """Start the command of each record (those named, in that order, else all but the paused: started runs first, then the queued in
    the order they were queued) whose run is not under way already nor finished and evaluated, detached from this shell, its
    output appended to LOGS/<record>.log; at most `max_runs` runs train at a time (2 on the 2-core machine), counting every record's run, named or not. A paused record
    named here is resumed and no longer paused. Records named in `skip` are passed by. Returns the names of the records started."""
    every = sorted(RECORDS.glob('*.json'))
    files = [record_file(n) for n in names] or every
    recs = [(f, json.loads(f.read_text())) for f in files]
    if not names: recs.sort(key=lambda fr: (fr[1].get('status') == 'queued', fr[1]['recorded'] if fr[1].get('status') == 'queued' else ''))
    for f, r in recs:
        if names and r.pop('paused', None): f.write_text(json.dumps(r, indent=1))
    recs = [(f, r) for f, r in recs if not r.get('paused')]
    dirs = {f: run_dir_of(r) for f, r in recs}
    busy = sum(running(run_dir_of(json.loads(f.read_text()))) for f in every)   # every record's run holds a core, named here or not
    started = []
    LOGS.mkdir(parents=True, exist_ok=True)
    for f, r in recs:
        if f.stem in skip: continue
        if running(dirs[f]): print(f"{f.stem}: training already"); continue
        if finished(r): print(f"{f.stem}: finished and evaluated ({results_file_of(r)}): commit its results and remove the record"); continue
        if busy >= max_runs: print(f"{f.stem}: waits ({busy} runs training)"); continue
        log = LOGS / f'{f.stem}.log'
        with open(log, 'a') as out:   # bash expands the command's ~ and its VAR=value prefixes
            subprocess.Popen(['bash', '-c', r['command']], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        busy += 1; started.append(f.stem); print(f"{f.stem}: started, log {log}")
    return started

def follow_step(started: set, failed: set):
    """One round of `follow`: `refresh`, then `resume` all but the `failed`. A run this loop `started` that has stopped without
    finishing failed (a session's end kills the runs and this loop together; `--pause` marks its record, which is passed by anyway): it is added to `failed` and
    not started again, so a run that cannot go on does not take a core over and over; its log says why."""
    refresh()
    for name in sorted(started - failed):
        if not record_file(name).exists(): started.discard(name); continue   # its results committed and the record removed
        rec = json.loads(record_file(name).read_text())
        if not running(run_dir_of(rec)) and not finished(rec):
            failed.add(name); print(f"{name}: stopped without finishing; not started again (see {LOGS / name}.log)")
    started.update(resume(skip=failed)); sys.stdout.flush()

def follow(minutes: float = 10):
    "Keep the training slots full until killed: every `minutes`, `refresh` the records, then `resume` (the next queued run takes a freed slot)."
    started, failed = set(), set()
    while True: follow_step(started, failed); time.sleep(60 * minutes)

if __name__ == '__main__':
    if sys.argv[1:] == ['--refresh']: refresh()
    elif sys.argv[1:] == ['--lost']: mark_lost()
    elif sys.argv[1:2] == ['--follow'] and len(sys.argv) <= 3: follow(*map(float, sys.argv[2:]))
    elif sys.argv[1:2] == ['--queue'] and len(sys.argv) >= 6:
        args, note = sys.argv[2:], ''
        if '--note' in args: i = args.index('--note'); args, note = args[:i] + args[i + 2:], args[i + 1]
        queue(args[0], args[1], Path(args[2]).expanduser(), Path(args[3]).expanduser(), args[4:], note)
    elif sys.argv[1:2] == ['--resume']: resume(sys.argv[2:])
    elif sys.argv[1:2] == ['--pause'] and len(sys.argv) == 4: pause(sys.argv[2], sys.argv[3])
    elif len(sys.argv) in (3, 4) and not sys.argv[1].startswith('--'): write(Path(sys.argv[1]).expanduser(), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else '')
    else: raise SystemExit(__doc__)
