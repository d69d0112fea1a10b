"The docs preview (scripts/docs_preview.py) opened in headless Chromium: title, links, equations, figures."
import os, re, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.stem for p in (ROOT / 'nbs').glob('[0-9][0-9]_*.ipynb'))
def page(nb: str) -> str: return re.sub(r'^\d+_', '', nb) + '.html'     # nbdev's output-file: 00_core -> core.html
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
