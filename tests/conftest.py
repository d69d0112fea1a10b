import os, subprocess, sys
from pathlib import Path
import pytest

SHARED = Path(__file__).resolve().parents[1].parent / 'shared' / 'data'

@pytest.fixture(scope='session')
def shared_data():
    "The verified benchmark data beside the checkout (CI points LATENT_FLOWS_DATA there too)."
    path = Path(os.environ.get('LATENT_FLOWS_DATA', SHARED))
    if not (path / 'SHA256SUMS').exists(): pytest.skip(f'no shared data at {path}')
    return path

def console_script(name):
    "Path of an installed console script (the package must be installed, as the README's test command does)."
    path = Path(sys.executable).parent / name
    if not path.exists(): pytest.skip(f'{name} is not installed next to {sys.executable}')
    return str(path)

def run(name, *args, cwd=None, ok=True, env=None):
    "Run console script `name` as a user would; with `ok`, assert it succeeded."
    r = subprocess.run([console_script(name), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600,
                       env={**os.environ, 'MPLBACKEND': 'Agg', **(env or {})})
    if ok: assert r.returncode == 0, f'{name} {args} failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}'
    return r
