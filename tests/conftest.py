import os, subprocess, sys
from pathlib import Path
import pytest

def pytest_sessionstart(session):
    """The tests need the benchmark data, as the notebooks do: verified (and downloaded if missing) before any test runs, or
    one clear message and no test at all, rather than a long run of failures."""
    from latent_flows.data import check_data
    try: check_data(progress=False)
    except (OSError, ValueError) as e: pytest.exit(f'the tests need the benchmark data: {e}', returncode=2)

@pytest.fixture(scope='session')
def shared_data():
    "The verified benchmark data (LATENT_FLOWS_DATA, else the download folder)."
    from latent_flows.data import data_dir
    return data_dir()

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
