"""Build a static preview of the docs site where Quarto cannot be installed.

The pipeline is nbdev's own up to the last step: refresh `_quarto.yml` and the sidebar, then `proc_nbs`
(the processing `nbdev_docs` gives Quarto: export cells hidden, `show_doc` rendered, front matter made).
Instead of `quarto render`, each processed notebook goes through Debian's `pandoc` to one self-contained
HTML page (math as MathML, which the browser draws with no script and no network), and an index page
links them all. Usage: python scripts/docs_preview.py [OUT_DIR]   (default: _docs_preview)
"""
import html, json, re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def process_notebooks() -> Path:
    "nbdev's docs processing without the Quarto install check; returns the `_proc` folder."
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    from nbdev.serve import proc_nbs
    refresh_quarto_yml()
    nbdev_sidebar.__wrapped__()
    return Path(proc_nbs(n_workers=1, force=True))

def front_matter(nb_path: Path, key: str, default: str) -> str:
    "A field of the processed notebook's front matter (nbdev writes `title` and `output-file` there)."
    for cell in json.loads(nb_path.read_text())['cells']:
        m = re.search(rf'^{key}:\s*(.+)$', ''.join(cell['source']), re.M)
        if m: return m.group(1).strip().strip('"\'')
    return default

def nav_html(pages, current: str) -> str:
    items = ''.join(f'<li{" class=current" if page == current else ""}><a href="{page}">{html.escape(title)}</a></li>'
                    for page, title in pages)
    return f'<nav class="site-nav"><a class="home" href="index.html">latent_flows</a><ul>{items}</ul></nav>\n'

CSS = """body{max-width:60rem;margin:auto;padding:1rem 2rem;font-family:system-ui,sans-serif;line-height:1.5}
nav.site-nav{border-bottom:1px solid #ccc;margin-bottom:1rem;font-size:.9rem}
nav.site-nav ul{display:flex;flex-wrap:wrap;gap:.3rem 1rem;list-style:none;padding:0}
nav.site-nav .current a{font-weight:bold}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto} img{max-width:100%} math[display=block]{margin:.8rem 0}
table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:.2rem .5rem}"""

def quarto_cell(cell: dict) -> dict:
    "What Quarto would show of a code cell: `#|` options stripped; `echo: false` shows only the output."
    src = ''.join(cell['source']).split('\n')
    opts = [l for l in src if l.startswith('#|')]
    cell['source'] = '\n'.join(l for l in src if not l.startswith('#|')).strip('\n')
    for o in cell.get('outputs', []):     # pandoc 2.x wants an integer count (nbdev leaves them null)
        if 'execution_count' in o and o['execution_count'] is None: o['execution_count'] = 0
    if any(re.match(r'#\|\s*echo:\s*false', l) for l in opts):
        md = [''.join(o['data']['text/markdown']) for o in cell.get('outputs', []) if 'text/markdown' in o.get('data', {})]
        if md: return dict(cell_type='markdown', metadata={}, source='\n\n'.join(md))
        cell['source'] = ''
    return cell

def pandoc_ready(nb: Path) -> Path:
    "A copy of the processed notebook as Quarto would show it, in a form pandoc 2.x reads."
    d = json.loads(nb.read_text())
    d['cells'] = [quarto_cell(c) if c['cell_type'] == 'code' else c for c in d['cells']]
    for c in d['cells']:       # Quarto link attributes (show_doc's `[source](...){target=...}`) mean nothing to pandoc
        if c['cell_type'] == 'markdown': c['source'] = re.sub(r'\)\{[^}\n]*\}', ')', ''.join(c['source']))
    fixed = nb.with_suffix('.pandoc.ipynb')
    fixed.write_text(json.dumps(d))
    return fixed

def render(nb: Path, out: Path, nav: str, title: str, build: Path):
    before = build / f'{nb.stem}.nav.html'
    before.write_text(nav)
    nb = pandoc_ready(nb)
    subprocess.run(['pandoc', str(nb), '-f', 'ipynb', '-t', 'html5', '--standalone', '--self-contained', '--mathml',
                    '--metadata', f'pagetitle={title}', '--css', str(build / 'preview.css'),
                    '--include-before-body', str(before), '-o', str(out)], check=True, cwd=nb.parent)
    before.unlink(); nb.unlink()

def build(out_dir='_docs_preview') -> Path:
    out = ROOT / out_dir
    shutil.rmtree(out, ignore_errors=True); out.mkdir(parents=True)
    proc = process_notebooks()
    (out / 'preview.css').write_text(CSS)
    nbs = sorted(p for p in proc.glob('*.ipynb') if p.stem != 'index')
    # pages named as Quarto names them (nbdev's `output-file`: 00_core.ipynb -> core.html), so links in the text work
    pages = [(front_matter(p, 'output-file', p.stem + '.html'), front_matter(p, 'title', p.stem)) for p in nbs]
    for p, (page, title) in zip(nbs, pages): render(p, out / page, nav_html(pages, page), title, out)
    render(proc / 'index.ipynb', out / 'index.html', nav_html(pages, 'index.html'), 'latent_flows', out)
    (out / 'preview.css').unlink()
    print(f'docs preview: {len(pages) + 1} pages in {out}')
    return out

if __name__ == '__main__': build(*sys.argv[1:])
