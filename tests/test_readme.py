"README.md is generated from nbs/index.ipynb and must agree with it."
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_readme_matches_index():
    spec = importlib.util.spec_from_file_location('make_readme', ROOT / 'scripts' / 'make_readme.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    assert (ROOT / 'README.md').read_text() == mod.readme_text(), 'README.md is stale: run python scripts/make_readme.py'

def test_readme_has_the_two_commands():
    text = (ROOT / 'README.md').read_text()
    assert 'pip install . && lf_demo' in text and 'nbdev_test && pytest' in text
