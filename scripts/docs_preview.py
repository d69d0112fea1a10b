"""Build a static preview of the docs site where Quarto cannot be installed.

The pipeline is nbdev's own up to the last step: refresh the sidebar, then `proc_nbs` (the processing `nbdev_docs`
gives Quarto: export and hidden cells dropped, `show_doc` rendered, front matter made). Instead of `quarto render`,
each processed notebook becomes one self-contained HTML page through Debian's `pandoc`, set up from the same
`_quarto.yml` Quarto reads (the top-level one; `nbs/_quarto.yml` links to it):

- every cell shown as Quarto shows it: `#|` options stripped, `echo: false` hides the code, and each output in
  its own form: `text/markdown` (tables, `show_doc`) as markdown, figures as images, text as an output block;
- the page's title and description from its front matter, the sidebar from `sidebar.yml`, a table of contents
  (`toc`), math with KaTeX (`html-math-method`, from Debian's `libjs-katex`), and `styles.css` (`css`);
- links to the docs site (nbdev's cross references) rewritten to the local pages.

Usage: python scripts/docs_preview.py [OUT_DIR]   (default: _docs_preview)
"""
import base64, configparser, html, json, re, shutil, subprocess, sys
from pathlib import Path
import yaml

ROOT = Path(__file__).resolve().parents[1]
KATEX = Path('/usr/share/javascript/katex')      # Debian's libjs-katex (apt-get install libjs-katex)

def process_notebooks() -> Path:
    "nbdev's docs processing without the Quarto install check; returns the `_proc` folder."
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    from nbdev.serve import proc_nbs
    refresh_quarto_yml()
    nbdev_sidebar.__wrapped__()
    return Path(proc_nbs(n_workers=1, force=True))

def quarto_config() -> dict:
    "The site's configuration as Quarto reads it: `_quarto.yml` merged with its `metadata-files` (from `nbs/`)."
    cfg = yaml.safe_load((ROOT / '_quarto.yml').read_text())
    for f in cfg.get('metadata-files', []):
        extra = yaml.safe_load((ROOT / 'nbs' / f).read_text()) or {}
        for k, v in extra.items(): cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) else v
    return cfg

def front_matter(nb: dict) -> dict:
    "The processed notebook's front matter (nbdev writes title, description and output-file into a raw cell)."
    for cell in nb['cells']:
        if cell['cell_type'] == 'raw' and (m := re.match(r'---\n(.*?)\n---', ''.join(cell['source']), re.S)):
            return yaml.safe_load(m.group(1)) or {}
    return {}

def page_name(nb_name: str) -> str: return re.sub(r'^\d+_', '', Path(nb_name).stem) + '.html'   # nbdev's output-file

# ---- cells as Quarto shows them --------------------------------------------------------------------------------
def md_cell(text: str) -> dict: return dict(cell_type='markdown', metadata={}, source=text)

def markdown(text: str) -> dict:
    "Markdown from a cell or an output, without Quarto's link attributes (show_doc's `[source](...){target=...}`), which pandoc would print."
    return md_cell(re.sub(r'\)\{[^}\n]*\}', ')', text))

def output_cells(o: dict) -> list:
    "One output as markdown cells: markdown as itself, images inline, text as a plain output block."
    data = o.get('data', {})
    if o.get('output_type') == 'stream': text = ''.join(o['text'])
    elif o.get('output_type') == 'error': text = '\n'.join(re.sub(r'\x1b\[[0-9;]*m', '', l) for l in o.get('traceback', []))
    elif 'text/markdown' in data: return [markdown(''.join(data['text/markdown']))]
    elif 'image/png' in data:
        src = ''.join(data['image/png']).replace('\n', '')
        w = (o.get('metadata', {}).get('image/png') or {}).get('width')
        return [md_cell(f'<div class="cell-output-display"><img src="data:image/png;base64,{src}"{f" width={w}" if w else ""} alt="figure"></div>')]
    elif 'image/svg+xml' in data:
        return [md_cell('<div class="cell-output-display"><img src="data:image/svg+xml;base64,'
                        + base64.b64encode(''.join(data['image/svg+xml']).encode()).decode() + '" alt="figure"></div>')]
    elif 'text/html' in data: return [md_cell('<div class="cell-output-display">' + ''.join(data['text/html']) + '</div>')]
    else: text = ''.join(data.get('text/plain', ''))
    if not text.strip(): return []
    return [md_cell('<pre class="cell-output">' + html.escape(text.rstrip('\n')) + '</pre>')]

def quarto_cells(cell: dict) -> list:
    "A processed code cell as the markdown cells Quarto would show: its source unless `echo: false`, then each output."
    lines = ''.join(cell['source']).split('\n')
    opts = dict(re.match(r'#\|\s*([\w-]+):\s*(.*)', l).groups() for l in lines if re.match(r'#\|\s*[\w-]+:', l))
    if opts.get('include') == 'false': return []
    src = '\n'.join(l for l in lines if not l.startswith('#|')).strip('\n')
    out = [md_cell(f'```python\n{src}\n```')] if src.strip() and opts.get('echo') != 'false' else []
    if opts.get('output') != 'false':
        for o in cell.get('outputs', []): out += output_cells(o)
    return out

def pandoc_ready(nb: dict) -> dict:
    "The processed notebook as markdown cells only: what pandoc 2.x renders the way Quarto would."
    cells = []
    for c in nb['cells']:
        if c['cell_type'] == 'code': cells += quarto_cells(c)
        elif c['cell_type'] == 'markdown': cells.append(markdown(''.join(c['source'])))
    return {**nb, 'cells': cells}

# ---- the page around the content --------------------------------------------------------------------------------
def sidebar_html(entries: list, current: str) -> str:
    items = ''.join(f'<li{" class=current" if page == current else ""}><a href="{page}">{html.escape(title)}</a></li>' for page, title in entries)
    return f'<nav class="sidebar"><a class="home" href="index.html">latent_flows</a><ul>{items}</ul></nav>\n'

CSS = """body{max-width:none;margin:0;padding:0;font-family:system-ui,sans-serif;line-height:1.5;color:#222}
nav.sidebar{position:fixed;top:0;left:0;bottom:0;width:12rem;overflow-y:auto;padding:1rem;border-right:1px solid #ddd;background:#fafafa;font-size:.9rem}
nav.sidebar ul{list-style:none;padding:0} nav.sidebar li{margin:.3rem 0} nav.sidebar .current a{font-weight:bold}
nav.sidebar a.home{font-weight:bold;font-size:1.1rem;text-decoration:none}
#TOC{position:fixed;top:0;right:0;width:11rem;max-height:100vh;overflow-y:auto;padding:1rem;font-size:.85rem;border-left:1px solid #eee}
#TOC ul{padding-left:1rem} #TOC::before{content:"On this page";font-weight:bold}
header#title-block-header,main,body>*:not(nav):not(#TOC):not(header){margin-left:15rem;margin-right:14rem}
body>*{max-width:64rem} header#title-block-header{margin-top:1rem}
p.subtitle{font-size:1.1rem;color:#555}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto} pre.cell-output{background:#fff;border-left:3px solid #ddd}
img{max-width:100%;height:auto} table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem} td,th{border:1px solid #ddd;padding:.2rem .5rem}
@media (max-width:1400px){#TOC{display:none} header#title-block-header,main,body>*:not(nav):not(#TOC):not(header){margin-right:1rem}}"""

def render(nb: dict, out: Path, build: Path, sidebar: str, title: str, description: str, cfg: dict):
    fmt = cfg.get('format', {}).get('html', {})
    stem = out.stem
    (build / f'{stem}.ipynb').write_text(json.dumps(pandoc_ready(nb)))
    (build / f'{stem}.before.html').write_text(sidebar)
    # title and description as a metadata file, so that pandoc reads them as markdown (`code` in a description) as Quarto does
    (build / f'{stem}.meta.yml').write_text(yaml.safe_dump(dict(title=title, pagetitle=title, **({'subtitle': description} if description else {}))))
    args = ['pandoc', f'{stem}.ipynb', '-f', 'ipynb', '-t', 'html5', '--standalone', '--self-contained',
            '--metadata-file', f'{stem}.meta.yml', '--css', 'preview.css', '--include-before-body', f'{stem}.before.html', '-o', str(out)]
    if fmt.get('toc'): args += ['--toc', '--toc-depth=3']
    if fmt.get('css'): args += ['--css', str(ROOT / 'nbs' / fmt['css'])]
    if fmt.get('html-math-method') == 'katex':
        if not (KATEX / 'katex.min.js').exists(): sys.exit(f'{KATEX}/katex.min.js missing: apt-get install libjs-katex')
        args.append(f'--katex={KATEX}/')
    else: args.append('--mathml')
    subprocess.run(args, check=True, cwd=build)
    site = re.escape(cfg['website']['site-url'].rstrip('/') + '/')
    page = re.sub(rf'href="{site}([^"]*)"', r'href="\1"', out.read_text())   # cross references to the local pages
    out.write_text(page)

def build(out_dir='_docs_preview') -> Path:
    out = ROOT / out_dir
    shutil.rmtree(out, ignore_errors=True); out.mkdir(parents=True)
    proc = process_notebooks(); cfg = quarto_config()
    work = out / '_build'; work.mkdir(); (work / 'preview.css').write_text(CSS)
    nbs = {p.name: json.loads(p.read_text()) for p in proc.glob('*.ipynb')}
    # the sidebar in sidebar.yml's order, each entry titled by its page's front matter
    order = [e if isinstance(e, str) else e.get('href', '') for e in cfg['website']['sidebar']['contents']]
    entries = [(page_name(n), front_matter(nbs[n]).get('title', Path(n).stem)) for n in order if n in nbs and n != 'index.ipynb']
    for name, nb in nbs.items():
        fm = front_matter(nb); page = 'index.html' if name == 'index.ipynb' else fm.get('output-file', page_name(name))
        title = fm.get('title', cfg['website'].get('title', Path(name).stem))
        render(nb, out / page, work, sidebar_html(entries, page), title, fm.get('description', ''), cfg)
    shutil.rmtree(work)
    print(f'docs preview: {len(nbs)} pages in {out}')
    return out

if __name__ == '__main__': build(*sys.argv[1:])
