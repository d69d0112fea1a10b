"README.md is generated from nbs/index.ipynb and must agree with it."
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_readme_matches_index():
    spec = importlib.util.spec_from_file_location('make_readme', ROOT / 'scripts' / 'make_readme.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    text, images = mod.readme_parts()
    assert (ROOT / 'README.md').read_text() == text, 'README.md is stale: run python scripts/make_readme.py'
    for path, png in images.items(): assert (ROOT / path).read_bytes() == png, f'{path} is stale: run python scripts/make_readme.py'

def test_readme_links_and_figures_work_on_github():
    "Every relative link and image of the README points at a file of the repository (not at a docs-site page)."
    text = (ROOT / 'README.md').read_text()
    targets = [t for t in __import__('re').findall(r'\]\(([^)#]+)\)', text) if not t.startswith(('http://', 'https://'))]
    assert targets and all((ROOT / t).exists() for t in targets), [t for t in targets if not (ROOT / t).exists()]
    assert '![' in text.split('## Install', 1)[0], 'the index figure is missing'

def test_readme_has_the_two_commands():
    text = (ROOT / 'README.md').read_text()
    assert 'pip install . && lf_demo' in text and 'lf_data && nbdev_test && pytest' in text

def test_readme_status_is_a_table_from_results_files():
    "The status is the table the index notebook computes from results/music/headline/, not prose typed in."
    text = (ROOT / 'README.md').read_text()
    status = text.split('## Status', 1)[1].split('\n## ', 1)[0]
    assert '| data set | best model | ours | paper | budget |' in status, 'README status has no table'
    for name in ('JSB Chorales', 'Nottingham', 'MuseData', 'Piano-midi.de'): assert f'| {name} |' in status, name
