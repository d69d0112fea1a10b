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

def test_readme_status_is_a_table_from_results_files():
    "The status is the table the index notebook computes from results/music/headline/, not prose typed in."
    text = (ROOT / 'README.md').read_text()
    status = text.split('## Status', 1)[1].split('\n## ', 1)[0]
    assert '| data set | best model | ours | paper | budget |' in status, 'README status has no table'
    for name in ('JSB Chorales', 'Nottingham', 'MuseData', 'Piano-midi.de'): assert f'| {name} |' in status, name
