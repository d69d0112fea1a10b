"Download end to end against a local HTTP server on 127.0.0.1 serving the shared files."
import functools, http.server, io, os, shutil, tarfile, threading
from pathlib import Path
import pytest
from latent_flows.data import REGISTRY, ChecksumError, DownloadError, fetch, sha256_file, load_ptb, load_music


@pytest.fixture()
def server(tmp_path):
    "Serve `tmp_path/www` on 127.0.0.1 (a free port) for the duration of one test."
    www = tmp_path / 'www'; www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True); thread.start()
    yield www, f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown(); httpd.server_close()


def _mirror(shared, www, names):
    for name in names:
        (www / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared / name, www / name)


def test_download_music_verified(shared_data, server, tmp_path):
    www, url = server
    names = [n for n in REGISTRY if n.startswith('music/')]
    _mirror(shared_data, www, names)
    root = tmp_path / 'data'
    umask = os.umask(0); os.umask(umask)
    for n in names:
        path = fetch(n, root, base_url=url, progress=False)
        assert sha256_file(path) == REGISTRY[n].sha256
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask   # as readable as a file written the plain way, not mkstemp's 0600
    assert len(load_music('jsb', 'valid', root)) == 76
    assert len(load_music('jsb', 'valid', root, form='pickle')) == 76
    assert not list(root.rglob('*.part'))


def test_download_ptb_from_tgz(shared_data, server, tmp_path):
    "PTB comes as members of Mikolov's simple-examples.tgz; we build that archive from the shared files."
    www, url = server
    with tarfile.open(www / 'simple-examples.tgz', 'w:gz') as tar:
        for split in ('train', 'valid', 'test'):
            tar.add(shared_data / f'ptb/ptb.char.{split}.txt', f'./simple-examples/data/ptb.char.{split}.txt')
    root = tmp_path / 'data'
    for split in ('train', 'valid', 'test'): fetch(f'ptb/ptb.char.{split}.txt', root, base_url=url, progress=False)
    assert len(load_ptb('valid', root)) == 3370 - 14


@pytest.mark.parametrize('damage', ['truncated', 'wrong'])
def test_bad_download_refused_and_nothing_left(shared_data, server, tmp_path, damage):
    www, url = server
    name = 'music/Nottingham.mat'
    data = (shared_data / name).read_bytes()
    bad = data[: len(data) // 2] if damage == 'truncated' else (shared_data / 'music/MuseData.mat').read_bytes()
    (www / 'music').mkdir(); (www / name).write_bytes(bad)
    root = tmp_path / 'data'
    with pytest.raises(ChecksumError, match='Nottingham.mat.*does not match the expected'):
        fetch(name, root, base_url=url, progress=False)
    assert not (root / name).exists()
    assert not list((root / 'music').iterdir())       # no temporary file left behind


def test_missing_on_server(server, tmp_path):
    www, url = server
    with pytest.raises(DownloadError, match=r'music/JSB_Chorales.mat is not in .*data and downloading it from http://127.0.0.1:\d+/music/JSB_Chorales.mat failed \(HTTP Error 404'):
        fetch('music/JSB_Chorales.mat', tmp_path / 'data', base_url=url, progress=False)
    assert not list((tmp_path / 'data' / 'music').iterdir())


def test_no_server(tmp_path):
    "Nothing listens on the port (as with no network): a DownloadError that says what to set, nothing left behind."
    import socket
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]   # a free port, closed again
    with pytest.raises(DownloadError, match=r'Nottingham.mat .*failed \(.*refused.*LATENT_FLOWS_DATA'):
        fetch('music/Nottingham.mat', tmp_path / 'data', base_url=f'http://127.0.0.1:{port}', progress=False)
    assert not list((tmp_path / 'data' / 'music').iterdir())


def test_unknown_name(tmp_path):
    with pytest.raises(KeyError, match='unknown data file'):
        fetch('music/nope.mat', tmp_path)


def test_shared_checksums_match_registry(shared_data):
    "The registry's checksums are the ones in the shared SHA256SUMS (where the data folder is the shared copy, which has one)."
    if not (shared_data / 'SHA256SUMS').exists(): pytest.skip(f'{shared_data} has no SHA256SUMS (a download folder)')
    sums = dict(reversed(l.split()) for l in (shared_data / 'SHA256SUMS').read_text().splitlines() if l.strip())
    for name, src in REGISTRY.items(): assert sums['./' + name] == src.sha256, name
