"""Write README.md from nbs/index.ipynb (nbdev_readme needs Quarto): the notebook's markdown cells, in order.

Run `python scripts/make_readme.py`; `tests/test_readme.py` checks that README.md is up to date."""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTICE = '<!-- generated from nbs/index.ipynb by scripts/make_readme.py: edit the notebook, not this file -->\n\n'

def readme_text(nb_path=ROOT / 'nbs' / 'index.ipynb') -> str:
    cells = json.loads(Path(nb_path).read_text())['cells']
    parts = [''.join(c['source']).strip() for c in cells if c['cell_type'] == 'markdown']
    text = '\n\n'.join(parts)
    # nbdev's "> description" line becomes the page subtitle; in the README it is a plain quote
    return NOTICE + text + '\n'

if __name__ == '__main__':
    out = ROOT / 'README.md'
    out.write_text(readme_text())
    print(f'wrote {out}')
