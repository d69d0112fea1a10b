"The console scripts end to end, as a user runs them: train -> evaluate -> sample, the benchmark, help and bad values."
import json, shutil, os, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import console_script, run

TINY = 'zsize=4,emb_size=16,rnn_size=16,rnn_layers=1,pos_dim=4,prior_units=8,prior_lstm_size=16,prior_layers=2'
REQUIRED = {'dataset', 'model', 'split', 'nll', 'unit', 'recon', 'kl', 'K', 'epochs', 'train_wall_s', 'hardware', 'git_commit', 'seed', 'config'}

@pytest.fixture(scope='module')
def jsb_run(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp('cli') / 'jsb-afscf'
    run('lf_train', '--dataset', 'jsb', '--model', 'AF/SCF', '--out', out, '--epochs', 1, '--batch_size', 32, '--quiet',
        '--sizes', TINY, '--set', 'kl_warmup_epochs=0,kl_anneal_epochs=1,eval_K=2')
    return out

def test_train_evaluate_writes_the_results_file(jsb_run, tmp_path):
    res = tmp_path / 'res.json'
    r = run('lf_evaluate', jsb_run, '--split', 'valid', '--K', 3, '--limit', 10, '--out', res)
    assert 'nats/step' in r.stdout
    rec = json.loads(res.read_text())
    assert REQUIRED <= rec.keys(), REQUIRED - rec.keys()
    assert rec['dataset'] == 'jsb' and rec['model'] == 'AF/SCF' and rec['unit'] == 'nats/step' and rec['K'] == 3
    assert rec['sequences'] == 10 and rec['subset'] == dict(sequences=10, of=76, seed=0)
    assert rec['epochs'] == 1 and len(rec['history']) == 1 and rec['nll'] > 0
    assert rec['config']['sizes']['zsize'] == 4
    assert rec['normaliser'] == 'T+1'
    assert rec['train_git_commits'][0] == rec['train_git_commit']       # every sitting's code, first to last
    assert [s['git_commit'] for s in rec['train_sittings']] == [rec['train_git_commit']] and rec['train_sittings'][0]['hardware'] == rec['train_hardware']

def test_an_unfinished_run_is_evaluated_as_it_stands_and_says_so(shared_data, tmp_path):
    "A run stopped or killed before it ended (no train_summary.json, or one an earlier sitting left) is evaluated from its checkpoints; its results file takes the epochs, steps, wall time and sittings from last.pt and says `unfinished`."
    out, res = tmp_path / 'run', tmp_path / 'res.json'
    train_args = ['--dataset', 'jsb', '--model', 'AF/SCF', '--out', out, '--batch_size', 32, '--quiet', '--sizes', TINY,
                  '--set', 'kl_warmup_epochs=0,kl_anneal_epochs=1,eval_K=2']
    def evaluate():
        r = run('lf_evaluate', out, '--split', 'valid', '--K', 2, '--limit', 5, '--out', res)
        return json.loads(res.read_text()), r.stdout
    run('lf_train', *train_args, '--epochs', 1)
    done, stdout = evaluate()
    assert done['budget']['stopped_by'] == 'epochs' and done['epochs'] == 1 and 'not finished' not in stdout
    first_summary = (out / 'train_summary.json').read_text()
    run('lf_train', *train_args, '--epochs', 2, '--resume')
    (out / 'train_summary.json').write_text(first_summary)      # as if the second sitting had been killed before it wrote its own
    rec, stdout = evaluate()
    assert rec['budget']['stopped_by'] == 'unfinished' and 'has not finished training (2 epochs so far)' in stdout
    assert rec['epochs'] == 2 and rec['steps'] == 2 * done['steps'] and rec['train_wall_s'] > done['train_wall_s']
    assert len(rec['train_sittings']) == 2 and rec['train_hardware'] == rec['train_sittings'][-1]['hardware']
    (out / 'train_summary.json').unlink()                        # killed before any sitting ended
    assert evaluate()[0]['budget']['stopped_by'] == 'unfinished'

def test_sample_music_writes_midi_and_png(jsb_run, tmp_path):
    run('lf_sample', jsb_run, '--batch', 2, '--length', 12, '--out', tmp_path / 's')
    for i in range(2):
        assert (tmp_path / 's' / f'sample_{i}.mid').stat().st_size > 0 and (tmp_path / 's' / f'sample_{i}.png').stat().st_size > 1000

def test_bench_writes_a_results_file(tmp_path):
    run('lf_bench', '--suite', 'sampling', '--lengths', '4,8', '--batches', '2', '--sizes', TINY, '--out_dir', tmp_path)
    rec = json.loads((tmp_path / 'bench_sampling_cpu.json').read_text())
    assert len(rec['rows']) == 2 and all(r['speedup'] > 0 for r in rec['rows']) and rec['sizes']['zsize'] == 4

@pytest.mark.parametrize('name', ['lf_train', 'lf_evaluate', 'lf_sample', 'lf_bench', 'lf_demo'])
def test_help_explains_every_option(name):
    text = run(name, '--help').stdout
    opts = [l.split()[0] for l in text.split('options:')[1].splitlines() if l.strip().startswith('--') and not l.strip().startswith('--help')]
    assert opts, text
    # every option has a description: argparse prints it on the option's line or the next one
    body = text.split('options:')[1]
    for opt in opts:
        after = body.split(opt, 1)[1].split('\n  --', 1)[0]
        assert len(after.strip().split()) >= 2, f'{name} {opt} has no explanation'

@pytest.mark.parametrize('args, msg', [
    (['lf_train', '--dataset', 'mnist'], 'TrainConfig.dataset must be one of'),
    (['lf_train', '--set', 'warmup=3'], "unknown TrainConfig field 'warmup'"),
    (['lf_train', '--set', 'lr=fast'], 'lr'),
    (['lf_train', '--sizes', 'zsize=0'], 'ModelConfig.zsize must be >= 1'),
    (['lf_evaluate', '/nonexistent/run'], '/nonexistent/run'),
    (['lf_sample', '/nonexistent/run', '--batch', '0'], '--batch must be >= 1'),
    (['lf_evaluate', '/nonexistent/run', '--limit', '0'], '--limit must be >= 1'),
    (['lf_bench', '--suite', 'everything'], 'suite must be nlsq, flows, lstm_steps, step_chunk, sampling, serial, training, positions, batching or projection'),
])
def test_bad_values_are_clear_errors(args, msg, tmp_path):
    r = run(args[0], *args[1:], cwd=tmp_path, ok=False)
    assert r.returncode == 2 and msg in r.stderr, (r.returncode, r.stderr[-2000:])


def test_run_model_script_trains_evaluates_samples_and_resumes(shared_data, tmp_path):
    "scripts/run_model.sh (what equal_budget.sh runs for every model): results file and samples; a rerun only re-evaluates, to the same number."
    script = Path(__file__).parents[1] / 'scripts' / 'run_model.sh'
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'PATH': f"{Path(console_script('lf_train')).parent}{os.pathsep}{os.environ['PATH']}"}
    args = ['bash', script, 'jsb', 'AF/SCF', tmp_path / 'run', tmp_path / 'res', '--sizes', TINY, '--epochs', '1', '--', '--K', '2', '--limit', '5']
    recs = []
    for _ in range(2):
        r = subprocess.run(list(map(str, args)), capture_output=True, text=True, env=env, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
        recs.append(json.loads((tmp_path / 'res' / 'jsb_AF-SCF_test.json').read_text()))
    assert REQUIRED <= recs[0].keys() and recs[0]['subset']['sequences'] == 5
    assert recs[0]['steps'] == recs[1]['steps'] and recs[0]['nll'] == recs[1]['nll']   # not retrained; evaluation seeded
    assert sorted(p.name for p in (tmp_path / 'res' / 'samples' / 'jsb_AF-SCF').iterdir()) == ['sample_0.mid', 'sample_0.png', 'sample_1.mid', 'sample_1.png']
    # LF_SAMPLES=0 (a machine without music21, such as the lent GPU's): the results file, no samples
    args[5] = tmp_path / 'res2'
    r = subprocess.run(list(map(str, args)), capture_output=True, text=True, env={**env, 'LF_SAMPLES': '0'}, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / 'res2' / 'jsb_AF-SCF_test.json').exists() and not (tmp_path / 'res2' / 'samples').exists()

def test_music_per_T_plus_1_converts_exactly_once(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location('conv', Path(__file__).parents[1] / 'scripts' / 'music_per_T_plus_1.py')
    conv = importlib.util.module_from_spec(spec); spec.loader.exec_module(conv)
    f = tmp_path / 'r.json'
    f.write_text(json.dumps(dict(dataset='jsb', unit='nats/step', nll=2.0, recon=1.5, kl=0.75, elbo_nll=2.5, events=8, sequences=2,
                                 git_commit='abcdef1234', history=[])))
    assert conv.convert(f)
    r = json.loads(f.read_text())
    assert [r[k] for k in ('nll', 'recon', 'kl', 'elbo_nll')] == pytest.approx([1.6, 1.2, 0.6, 2.0])    # x * 8 / 10
    assert r['events'] == 10 and r['normaliser'] == 'T+1'
    assert not conv.convert(f) and json.loads(f.read_text()) == r          # a second run changes nothing
    text = tmp_path / 't.json'; text.write_text(json.dumps(dict(unit='bits/char', nll=1.5, events=10, sequences=2)))
    assert not conv.convert(text)                                           # text was always per T+1

def test_train_says_what_it_trains_and_ends_with_json(shared_data, tmp_path):
    "A header line (model, data set, device, budget, run folder) before training; stdout's last line is valid JSON (null, not Infinity, when no epoch ended)."
    out = tmp_path / 'run'
    r = run('lf_train', '--dataset', 'jsb', '--model', 'AF/SCF', '--out', out, '--quiet', '--sizes', TINY, '--set', 'max_steps=1')
    assert f'lf_train: AF/SCF on jsb, device cpu, budget up to 100 epochs, 1 steps, run folder {out}' in r.stderr, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1], parse_constant=lambda c: pytest.fail(f'{c} is not JSON'))
    assert summary['best_val'] is None and summary['steps'] == 1

def test_without_the_data_offline_the_test_command_stops_at_once(tmp_path):
    "The README's test command offline and without the data: lf_data and pytest each stop within a minute with one message naming LATENT_FLOWS_DATA."
    env = {'LATENT_FLOWS_DATA': '', 'XDG_CACHE_HOME': str(tmp_path), 'LATENT_FLOWS_MIRROR': 'http://127.0.0.1:9'}   # nothing listens there
    t = time.time(); r = run('lf_data', ok=False, env=env)
    lines = r.stderr.strip().splitlines()
    assert time.time() - t < 60 and r.returncode == 2 and len(lines) == 1 and 'LATENT_FLOWS_DATA' in lines[0], r.stderr
    t = time.time()
    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', str(Path(__file__).parent / 'test_readme.py')], capture_output=True, text=True,
                       cwd=tmp_path, env={**os.environ, **env}, timeout=120)
    assert time.time() - t < 60 and r.returncode == 2, (r.returncode, r.stdout[-2000:])
    assert 'the tests need the benchmark data' in r.stdout + r.stderr and 'LATENT_FLOWS_DATA' in r.stdout + r.stderr

def test_data_check_passes_with_the_data(shared_data):
    r = run('lf_data')
    assert 'data files verified' in r.stdout

def test_bench_projection_writes_one_bill_per_data_set(shared_data, tmp_path):
    run('lf_bench', '--suite', 'projection', '--dataset', 'jsb', '--sizes', TINY, '--out_dir', tmp_path)
    rec = json.loads((tmp_path / 'bench_projection_jsb_cpu.json').read_text())
    assert [r['model'] for r in rec['rows']] == ['AF/AF', 'AF/SCF', 'IAF/SCF', 'independent', 'lstm']
    for r in rec['rows']:   # JSB's preset: batches of 5 (the LSTM: 15) of 229 training chorales
        assert r['steps_per_epoch'] >= -(-229 // r['batch']) and r['hours_per_run'] > 0
        assert r['hours_per_run'] == pytest.approx(r['hours_per_epoch'] * r['epochs'])

def test_bench_serial_times_a_trained_run(jsb_run, tmp_path):
    "The serial suite on a run folder: the reference path and the library's give the same samples, and the file names the run."
    run('lf_bench', '--suite', 'serial', '--run', jsb_run, '--lengths', '6', '--batches', '2', '--out_dir', tmp_path)
    rec = json.loads((tmp_path / 'bench_serial_cpu.json').read_text())
    assert rec['run'] == str(jsb_run) and len(rec['rows']) == 1
    row = rec['rows'][0]
    assert row['model'] == 'AF/SCF, trained on JSB Chorales' and row['same_samples'] and row['max_abs_diff_z'] == 0
    assert row['fast_passes'] is None      # AF/SCF has no hidden AF layer: nothing to count

def test_sample_density_records_samples_and_reconstructions_by_length(jsb_run, tmp_path):
    "scripts/sample_density.py: per length asked for, roll statistics of the cut test pieces, their reconstructions and the prior's samples, reproducible by seed, with the run's record."
    out = tmp_path / 'density.json'
    r = subprocess.run([sys.executable, str(Path(__file__).parents[1] / 'scripts' / 'sample_density.py'), str(jsb_run), str(out), '--lengths', '8', '16', '--n', '3'],
                       capture_output=True, text=True, env=os.environ)
    assert r.returncode == 0, r.stderr
    rec = json.loads(out.read_text())
    assert (rec['dataset'], rec['model'], rec['epochs'], rec['seed']) == ('jsb', 'AF/SCF', 1, 0) and rec['checkpoint'] == dict(which='best', epoch=0)
    assert [row['length'] for row in rec['rows']] == [8, 16] and all(row['samples']['n'] == 3 and 0 <= row['samples']['notes_at_once'] <= 88 for row in rec['rows'])
    assert rec['test_pieces']['pieces'] == 77 and 3 < rec['test_pieces']['notes_at_once'] < 5   # JSB's four voices, a rest now and then
    assert all(row['test_cut']['pieces'] == 77 and 3 < row['test_cut']['notes_at_once'] < 5 and 0 <= row['reconstructed']['notes_at_once'] <= 88 for row in rec['rows'])
    assert rec['budget'] == dict(stopped_by='epochs') and {'hardware', 'git_commit', 'date'} <= rec.keys() and 'jsb AF/SCF, 16 steps: notes at once' in r.stdout
    import importlib.util
    spec = importlib.util.spec_from_file_location('sample_density', Path(__file__).parents[1] / 'scripts' / 'sample_density.py')
    sd = importlib.util.module_from_spec(spec); spec.loader.exec_module(sd)
    assert sd.sample_density(jsb_run, (8, 16), 3)['rows'] == rec['rows']   # the same seed draws the same samples and reconstructions
    assert sd.sample_density(jsb_run, (8,), 3, seed=1)['rows'] != rec['rows'][:1]
    with pytest.raises(ValueError, match='beyond the longest sequence'): sd.sample_density(jsb_run, (10 ** 6,), 1)

def test_unfinished_records_are_written_and_refreshed_from_their_run_folders(jsb_run, tmp_path, monkeypatch, capsys):
    "scripts/unfinished_record.py: a record names its run folder, epochs and command; `--refresh` rereads every run folder it finds, keeps each command and note, and keeps a restarted run's earlier progress as lost."
    import importlib.util
    spec = importlib.util.spec_from_file_location('unfinished_record', Path(__file__).parents[1] / 'scripts' / 'unfinished_record.py')
    ur = importlib.util.module_from_spec(spec); spec.loader.exec_module(ur)
    monkeypatch.setattr(ur, 'RECORDS', tmp_path)
    ur.write(jsb_run, 'lf_train ... --resume', 'a note')
    rec_file = tmp_path / f'jsb_{jsb_run.name}.json'
    rec = json.loads(rec_file.read_text())
    assert rec['status'] == 'unfinished' and rec['epochs_done'] == 1 and rec['last_epoch']['epoch'] == 0 and rec['model'] == 'AF/SCF'
    assert [h['epoch'] for h in rec['history']] == [0] and rec['history'][0]['val_elbo_nll'] == rec['last_epoch']['val_elbo_nll']   # the curve so far, for the figures
    rec['epochs_done'], rec['note'] = 99, 'kept'
    rec_file.write_text(json.dumps(rec))
    gone = dict(rec, run_dir='/nowhere/at/all (outside the work tree)', epochs_done=7,
                history=[dict(epoch=e, kl_weight=w, val_elbo_nll=v) for e, w, v in ((4, 0.5, 6.0), (5, 1.0, 7.1), (6, 1.0, 7.2))])
    (tmp_path / 'jsb_gone.json').write_text(json.dumps(gone))
    ur.refresh()
    fresh = json.loads(rec_file.read_text())
    assert fresh['epochs_done'] == 1 and fresh['note'] == 'kept' and fresh['command'] == 'lf_train ... --resume'
    assert [(l['epochs_done'], l['last_epoch']['epoch']) for l in fresh['lost']] == [(99, 0)]   # fewer epochs than recorded: started again
    assert json.loads((tmp_path / 'jsb_gone.json').read_text())['epochs_done'] == 7 and 'not on this machine' in capsys.readouterr().out
    ur.refresh()
    assert len(json.loads(rec_file.read_text())['lost']) == 1   # a second refresh of the same run loses nothing more
    # --lost, on a new machine: a started record whose folder is gone (a paused run is never restarted) lists its progress as lost
    ur.mark_lost(); ur.mark_lost()
    g = json.loads((tmp_path / 'jsb_gone.json').read_text())
    assert (g['epochs_done'], g['train_hours'], g['history'], [l['epochs_done'] for l in g['lost']]) == (0, 0.0, [], [7])   # once, however often it runs
    assert g['lost'][0]['best_val_bound'] == dict(epoch=5, val_elbo_nll=7.1) and [e['epoch'] for e in g['lost'][0]['history']] == [4, 5, 6]   # its curve and best bound at KL weight 1 are kept
    assert len(json.loads(rec_file.read_text())['lost']) == 1   # a run with its checkpoint here loses nothing
    # --resume starts each record's command from the repository root, detached, logging beside the runs; none past max_runs
    monkeypatch.setattr(ur, 'LOGS', tmp_path / 'logs')
    marker = tmp_path / 'started'
    (tmp_path / 'jsb_gone.json').write_text(json.dumps(dict(gone, command=f'pwd > {marker}')))
    ur.resume(['jsb_gone'], max_runs=0)
    assert 'waits' in capsys.readouterr().out and not marker.exists()
    # another record's run in training holds a core too: naming a record does not start it past max_runs
    busy_dir = tmp_path / 'busy'
    (tmp_path / 'jsb_busy.json').write_text(json.dumps(dict(gone, run_dir=f'{busy_dir} (outside the work tree)')))
    stand_in = subprocess.Popen(['bash', '-c', f'exec -a "lf_train --out {busy_dir}" sleep 60'])   # reads as lf_train training into it
    try:
        for _ in range(100):
            if ur.running(busy_dir): break
            time.sleep(0.1)
        ur.resume(['jsb_gone'], max_runs=1)
        assert 'waits (1 runs training)' in capsys.readouterr().out and not marker.exists()
    finally: stand_in.kill(); (tmp_path / 'jsb_busy.json').unlink()
    ur.resume(['jsb_gone'])
    for _ in range(100):
        if marker.exists() and marker.read_text(): break
        time.sleep(0.1)
    assert marker.read_text().strip() == str(Path(__file__).resolve().parents[1]) and (tmp_path / 'logs' / 'jsb_gone.log').exists()
    # --pause marks a record (its run, if training, is stopped): a --resume of all passes it by, a refresh keeps the mark,
    # and naming it resumes it
    marker.unlink(); ur.pause('jsb_gone', 'cores go elsewhere')
    assert json.loads((tmp_path / 'jsb_gone.json').read_text())['paused'] == 'cores go elsewhere'
    ur.write(jsb_run, 'true', 'a note', paused='kept too'); ur.refresh()
    assert json.loads(rec_file.read_text())['paused'] == 'kept too'
    capsys.readouterr(); ur.resume()
    assert 'started' not in capsys.readouterr().out and not marker.exists()
    ur.resume(['jsb_gone'])
    for _ in range(100):
        if marker.exists() and marker.read_text(): break
        time.sleep(0.1)
    assert marker.exists() and 'paused' not in json.loads((tmp_path / 'jsb_gone.json').read_text())

def test_queued_runs_wait_their_turn_and_finished_runs_are_passed_by(jsb_run, tmp_path, monkeypatch, capsys):
    "scripts/unfinished_record.py --queue: a run not started yet gets a `queued` record with its run_model.sh command and config; `--resume` starts started runs first, then the queue in order, and passes by a run that has finished and been evaluated."
    import importlib.util
    spec = importlib.util.spec_from_file_location('unfinished_record', Path(__file__).parents[1] / 'scripts' / 'unfinished_record.py')
    ur = importlib.util.module_from_spec(spec); spec.loader.exec_module(ur)
    recs, res = tmp_path / 'records', tmp_path / 'res'
    monkeypatch.setattr(ur, 'RECORDS', recs); monkeypatch.setattr(ur, 'LOGS', tmp_path / 'logs')
    ur.queue('jsb', 'IAF/SCF', tmp_path / 'runs' / 'IAF-SCF', res, ['--batch_size', '4', '--set', 'kl_warmup_epochs=2'], 'next')
    q = json.loads((recs / 'jsb_IAF-SCF.json').read_text())
    assert q['status'] == 'queued' and q['epochs_done'] == 0 and q['note'] == 'next' and q['last_epoch'] is None
    assert (q['config']['model'], q['config']['batch_size'], q['config']['kl_warmup_epochs']) == ('IAF/SCF', 4, 2)   # lf_train's options, read as lf_train reads them
    assert q['command'].startswith('OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 bash scripts/run_model.sh jsb IAF/SCF ')
    assert q['command'].endswith("--batch_size 4 --set kl_warmup_epochs=2") and ur.results_file_of(q) == res / 'jsb_IAF-SCF_test.json'
    with pytest.raises(SystemExit, match='record of that run already'): ur.queue('jsb', 'AF/AF', tmp_path / 'runs' / 'IAF-SCF', res)
    with pytest.raises(ValueError, match='unknown TrainConfig field'): ur.queue('jsb', 'AF/AF', tmp_path / 'runs' / 'x', res, ['--set', 'lrr=1'])
    ur.refresh()
    assert 'is not started yet' in capsys.readouterr().out and json.loads((recs / 'jsb_IAF-SCF.json').read_text())['status'] == 'queued'
    early = tmp_path / 'runs' / 'early'; early.mkdir(parents=True); shutil.copy(jsb_run / 'last.pt', early)   # a checkpoint, no epoch's metrics
    ur.queue('jsb', 'AF/SCF', early, res); ur.refresh()   # a queued run that has written last.pt has started
    assert json.loads((recs / 'jsb_early.json').read_text())['status'] == 'unfinished'; (recs / 'jsb_early.json').unlink()
    time.sleep(1.1); ur.queue('jsb', 'independent', tmp_path / 'runs' / 'independent', res)   # queued later: starts later
    # a started run whose training ended and whose results file is newer than its best checkpoint is passed by
    ur.write(jsb_run, f'bash scripts/run_model.sh jsb AF/SCF {jsb_run} {res}')
    done = res / 'jsb_AF-SCF_test.json'; done.parent.mkdir(exist_ok=True); done.write_text('{}')
    marks = {n: tmp_path / f'started-{n}' for n in ('IAF-SCF', 'independent')}
    for n, m in marks.items():   # the queued commands stand in for training by leaving a mark
        f = recs / f'jsb_{n}.json'; f.write_text(json.dumps(dict(json.loads(f.read_text()), command=f'echo {n} > {m}')))
    capsys.readouterr(); ur.resume(max_runs=1)
    out = capsys.readouterr().out
    assert 'finished and evaluated' in out and 'jsb_IAF-SCF: started' in out and 'jsb_independent: waits' in out
    for _ in range(100):
        if marks['IAF-SCF'].exists(): break
        time.sleep(0.1)
    assert marks['IAF-SCF'].exists() and not marks['independent'].exists()
    done.unlink(); ur.resume(['jsb_' + jsb_run.name], max_runs=0)   # without its results file the run is not passed by
    assert 'waits' in capsys.readouterr().out

def test_follow_does_not_restart_a_run_that_failed(tmp_path, monkeypatch, capsys):
    "scripts/unfinished_record.py --follow: a run it started that stops without finishing is not started again on the next round."
    import importlib.util
    spec = importlib.util.spec_from_file_location('unfinished_record', Path(__file__).parents[1] / 'scripts' / 'unfinished_record.py')
    ur = importlib.util.module_from_spec(spec); spec.loader.exec_module(ur)
    monkeypatch.setattr(ur, 'RECORDS', tmp_path / 'records'); monkeypatch.setattr(ur, 'LOGS', tmp_path / 'logs')
    ur.queue('jsb', 'AF/AF', tmp_path / 'runs' / 'AF-AF', tmp_path / 'res')
    f, count = tmp_path / 'records' / 'jsb_AF-AF.json', tmp_path / 'starts'
    f.write_text(json.dumps(dict(json.loads(f.read_text()), command=f'echo started >> {count}; exit 1')))   # a run that dies at once
    started, failed = set(), set()
    ur.follow_step(started, failed)
    assert started == {'jsb_AF-AF'} and not failed
    for _ in range(100):
        if count.exists() and not ur.running(tmp_path / 'runs' / 'AF-AF'): break
        time.sleep(0.1)
    time.sleep(0.2); capsys.readouterr()
    ur.follow_step(started, failed); ur.follow_step(started, failed)
    assert failed == {'jsb_AF-AF'} and 'stopped without finishing' in capsys.readouterr().out
    time.sleep(0.5); assert count.read_text().count('started') == 1
    (tmp_path / 'records' / 'jsb_AF-AF.json').unlink(); ur.follow_step({'jsb_AF-AF'}, set())   # a record removed meanwhile (its results committed) is let go
