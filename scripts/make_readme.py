"""Write README.md from nbs/index.ipynb (nbdev_readme needs Quarto): the notebook's markdown cells, in order, with the
outputs of its `echo: false` cells in their place: markdown (the status table) as text, a figure as images/index_<n>.png.
Links to the docs pages (`core.html`) become links to the notebooks (`nbs/00_core.ipynb`), which GitHub renders.

Run `python scripts/make_readme.py` after executing the notebook; `tests/test_readme.py` checks that README.md and the
images are up to date."""
import base64, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTICE = '<!-- generated from nbs/index.ipynb by scripts/make_readme.py: edit the notebook, not this file -->\n\n'

def page_name(nb_name: str) -> str: return re.sub(r'^\d+_', '', Path(nb_name).stem) + '.html'   # nbdev's page for a notebook

def readme_parts(nb_path=ROOT / 'nbs' / 'index.ipynb'):
    "(README text, {image path relative to the root: PNG bytes})."
    cells = json.loads(Path(nb_path).read_text())['cells']
    texts, images = [], {}
    for c in cells:
        if c['cell_type'] == 'markdown': texts.append(''.join(c['source']).strip()); continue
        if c['cell_type'] != 'code' or '#| echo: false' not in ''.join(c['source']): continue
        for o in c.get('outputs', []):
            data = o.get('data', {})
            if 'text/markdown' in data: texts.append(''.join(data['text/markdown']).strip())
            elif 'image/png' in data:
                path = f'images/index_{len(images) + 1}.png'
                images[path] = base64.b64decode(''.join(data['image/png']))
                alt = re.search(r'#\| fig-alt: (.*)', ''.join(c['source']))   # Quarto's alt-text option, for the docs too
                texts.append(f"![{alt[1].strip() if alt else 'figure'}]({path})")
    pages = {page_name(p.name): f'nbs/{p.name}' for p in (ROOT / 'nbs').glob('[0-9]*.ipynb')}
    text = re.sub(r'\]\(([\w-]+\.html)\)', lambda m: f'](' + pages.get(m[1], m[1]) + ')', '\n\n'.join(t for t in texts if t))
    return NOTICE + text + '\n', images

def readme_text(nb_path=ROOT / 'nbs' / 'index.ipynb') -> str: return readme_parts(nb_path)[0]

if __name__ == '__main__':
    text, images = readme_parts()
    for path, png in images.items():
        (ROOT / path).parent.mkdir(exist_ok=True); (ROOT / path).write_bytes(png)
    (ROOT / 'README.md').write_text(text)
    print(f"wrote README.md and {len(images)} image(s)")
