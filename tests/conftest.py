import os, sys
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
