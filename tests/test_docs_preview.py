"The docs preview (scripts/docs_preview.py) opened in headless Chromium: title, links, equations, figures."
import html, json, os, re, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.stem for p in (ROOT / 'nbs').glob('[0-9][0-9]_*.ipynb'))
def page(nb: str) -> str: return re.sub(r'^\d+_', '', nb) + '.html'     # nbdev's output-file: 00_core -> core.html
HELPER_PAGES = {'12_results'}   # reading results files: helpers with their tests, nothing to derive or plot
CHROME_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run']

def chromium():
    exe = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
    if exe is None:
        if os.environ.get('LATENT_FLOWS_REQUIRE_DOCS'): pytest.fail('chromium is not installed (CI installs it: apt-get install chromium)')
        pytest.skip('chromium is not installed')
    return exe

@pytest.fixture(scope='module')
def site():
    "The preview: the one .ci/run built (LATENT_FLOWS_DOCS_PREVIEW), else built now."
    if not shutil.which('pandoc'):
        if os.environ.get('LATENT_FLOWS_REQUIRE_DOCS'): pytest.fail('pandoc is not installed (CI installs it: apt-get install pandoc)')
        pytest.skip('pandoc is not installed')
    built = os.environ.get('LATENT_FLOWS_DOCS_PREVIEW')
    if built: return Path(built)
    subprocess.run([sys.executable, str(ROOT / 'scripts' / 'docs_preview.py')], check=True, cwd=ROOT)
    return ROOT / '_docs_preview'

def dom(page: Path) -> str:
    "The page's DOM after Chromium has loaded and laid it out."
    r = subprocess.run([chromium(), *CHROME_FLAGS, '--dump-dom', page.as_uri()], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and '<body' in r.stdout, f'chromium could not open {page}: {r.stderr[-2000:]}'
    return r.stdout

def test_index_links_every_notebook(site):
    html = dom(site / 'index.html')
    assert re.search(r'<title>\s*latent_flows', html), 'index page title'
    assert 'latent_flows' in re.sub(r'<[^>]+>', ' ', html.split('<body', 1)[1]), 'project name in the page body'
    links = set(re.findall(r'href="([^"#]+\.html)"', html))
    missing = [page(nb) for nb in NOTEBOOKS if page(nb) not in links]
    assert not missing, f'index does not link {missing}'

@pytest.mark.parametrize('nb', NOTEBOOKS)
def test_page_has_equations_and_figures(site, nb):
    if nb in HELPER_PAGES: return
    html = dom(site / page(nb))
    maths = re.findall(r'<annotation encoding="application/x-tex">(.*?)</annotation>', html, re.S)
    assert maths, f'{page(nb)}: no equation (MathML with its LaTeX) on the page'
    assert not re.search(r'\$\$', re.sub(r'<(pre|code)\b.*?</\1>', '', html, flags=re.S)), f'{page(nb)}: unrendered $$ math'
    figures = re.findall(r'<img [^>]*src="data:image/(png|svg)', html)
    assert figures, f'{page(nb)}: no figure'

def test_screenshot(site):
    shot = site / 'screenshot_index.png'
    shot.unlink(missing_ok=True)
    subprocess.run([chromium(), *CHROME_FLAGS, '--window-size=1200,1600', f'--screenshot={shot}', (site / 'index.html').as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000, 'chromium wrote no screenshot'

# ---- what a reader would see as broken -------------------------------------------------------------------------
PAGES = ['index.html'] + [page(nb) for nb in NOTEBOOKS]
MEASURE = """<script>window.addEventListener('load', () => { const m = {
  images: [...document.images].map(i => [i.naturalWidth, i.getBoundingClientRect().width]),
  height: document.documentElement.scrollHeight,
  tables: [...document.querySelectorAll('table')].map(t => [t.getBoundingClientRect().top, /\\d\\.\\d/.test(t.innerText)]),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id)};
  const p = document.createElement('pre'); p.id = 'measured'; p.textContent = JSON.stringify(m); document.body.appendChild(p); });</script>"""

def measure(site: Path, name: str) -> dict:
    "Layout facts of a page in Chromium at 1280 x 900 (image widths, page height, tables, ids), from a copy with a measuring script."
    probe = site / f'_measure_{name}'
    probe.write_text((site / name).read_text().replace('</body>', MEASURE + '</body>'))
    try:
        r = subprocess.run([chromium(), *CHROME_FLAGS, '--window-size=1280,900', '--virtual-time-budget=10000', '--dump-dom', probe.as_uri()],
                           capture_output=True, text=True, timeout=180)
    finally: probe.unlink()
    m = re.search(r'<pre id="measured">(.*?)</pre>', r.stdout, re.S)
    assert m, f'{name}: the measuring script did not run ({r.stderr[-500:]})'
    return json.loads(html.unescape(m.group(1)))

def visible(text: str) -> str:
    "The page without its embedded data (images, fonts, scripts, styles): what a reader reads."
    text = re.sub(r'<(script|style)\b.*?</\1>', '', text, flags=re.S)
    return re.sub(r'data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+', 'data:', text)

@pytest.mark.parametrize('name', PAGES)
def test_page_reads_as_rendered(site, name):
    text = visible((site / name).read_text())
    assert 'IPython.core.display' not in text, f'{name}: an output shown as its Python repr (<IPython.core.display...>), not rendered'
    assert '{target=' not in text, f'{name}: a Quarto link attribute printed as text'
    assert not re.search(r'<p class="subtitle">[^<]*`', text), f'{name}: the description shows markdown backticks'
    title = re.search(r'<h1 class="title">(.*?)</h1>', text, re.S)
    assert title and title.group(1).strip(), f'{name}: no page title'
    for block in re.findall(r'<pre\b[^>]*>(.*?)</pre>', text, re.S):
        assert not re.search(r'^\s*\|.*\|\s*$\n^\s*\|[-:| ]+\|\s*$', block, re.M), f'{name}: a markdown table printed as raw text:\n{block[:300]}'
        assert not re.search(r'\d+%\|', block), f'{name}: progress-bar frames in an output:\n{block[:300]}'
        assert 'Warning:' not in block, f'{name}: a warning in an output:\n{block[:300]}'
    leaks = re.findall(r'(?:/work/|/home/|/root/|site-packages|' + re.escape(str(ROOT)) + r')[^\s"<]*', text)
    assert not leaks, f'{name}: paths of the build machine: {leaks[:5]}'

def test_local_links_resolve(site):
    broken = []
    for name in PAGES:
        text = visible((site / name).read_text())
        ids = set(re.findall(r'\bid="([^"]+)"', text))
        for href in re.findall(r'href="([^"]+)"', text):
            if re.match(r'[a-z]+:', href): continue            # other sites, mailto:
            target, _, anchor = href.partition('#')
            if target and not (site / target).exists(): broken.append(f'{name} -> {href}')
            elif not target and anchor and anchor not in ids: broken.append(f'{name} -> {href}')
    assert not broken, f'{len(broken)} broken local links: {broken[:10]}'

@pytest.mark.parametrize('name', PAGES)
def test_layout(site, name):
    m = measure(site, name)
    dup = sorted({i for i in m['ids'] if m['ids'].count(i) > 1})
    assert not dup, f'{name}: duplicate anchor ids {dup}'
    # a figure of text (every figure here has axes labels) shrunk to under 60% of its natural width cannot be read; one drawn
    # at double resolution (wider than 1,200 px, as Jupyter's retina figures are) may be shown at half its width
    small = [(nat, round(w)) for nat, w in m['images'] if nat > 400 and w < (0.45 if nat > 1200 else 0.6) * nat]
    assert not small, f'{name}: figures shrunk too far below their natural width to be read (natural, rendered): {small}'
    if name in ('music_results.html', 'ptb_results.html'):
        # "did it reproduce?" answered in the first screen: a table of numbers above the fold
        assert m['tables'] and m['tables'][0][0] < 900 and m['tables'][0][1], f'{name}: no table of numbers in the first screen ({m["tables"][:2]})'
    if name == 'music_results.html': assert m['height'] < 15_000, f'{name} is {m["height"]} px tall: a results page, not a lab log'

def test_quarto_yml_is_single_source():
    "The docs configuration lives in the top-level _quarto.yml; nbs/_quarto.yml (where nbdev_docs renders) is a link to it."
    link = ROOT / 'nbs' / '_quarto.yml'
    assert (ROOT / '_quarto.yml').is_file() and link.is_symlink() and link.resolve() == (ROOT / '_quarto.yml').resolve()
