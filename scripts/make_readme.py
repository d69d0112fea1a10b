"""Write README.md from nbs/index.ipynb (nbdev_readme needs Quarto): the notebook's markdown cells, in order, with the
markdown outputs of its `echo: false` cells (the status table) in their place.

Run `python scripts/make_readme.py` after executing the notebook; `tests/test_readme.py` checks that README.md is up to date."""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTICE = '<!-- generated from nbs/index.ipynb by scripts/make_readme.py: edit the notebook, not this file -->\n\n'

def cell_text(c: dict) -> str:
    if c['cell_type'] == 'markdown': return ''.join(c['source']).strip()
    if c['cell_type'] == 'code' and '#| echo: false' in ''.join(c['source']):
        return '\n\n'.join(''.join(o['data']['text/markdown']).strip() for o in c.get('outputs', []) if 'text/markdown' in o.get('data', {}))
    return ''

def readme_text(nb_path=ROOT / 'nbs' / 'index.ipynb') -> str:
    cells = json.loads(Path(nb_path).read_text())['cells']
    return NOTICE + '\n\n'.join(t for c in cells if (t := cell_text(c))) + '\n'

if __name__ == '__main__':
    out = ROOT / 'README.md'
    out.write_text(readme_text())
    print(f'wrote {out}')
