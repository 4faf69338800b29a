"""Search folders, checksums, atomic download/copy against a local HTTP server, and the command line."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nnscratch.data import paths as _paths
from nnscratch.data.atomic import write_verified
from nnscratch.data.cli import main
from nnscratch.data.download import mirror_urls
from nnscratch.datasets import (
    KNOWN_FILES,
    ChecksumError,
    DatasetError,
    DownloadError,
    KnownFile,
    MissingFileError,
    copy_verified,
    data_dir,
    download,
    find_file,
    search_dirs,
    verify_file,
)

REPO = Path(__file__).resolve().parents[1]
CONTENT = b"a tiny dataset file\n" * 200
NAME = "tiny.bin"
REAL_DATA = os.environ.get("NNSCRATCH_DATA")


@pytest.fixture(autouse=True)
def tiny_known_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``tiny.bin`` (``CONTENT``) a known file and clear the environment variables read by the code."""
    monkeypatch.setitem(KNOWN_FILES, NAME, KnownFile(NAME, len(CONTENT), hashlib.sha256(CONTENT).hexdigest(), "cat"))
    for var in ("NNSCRATCH_DATA", "NNSCRATCH_MIRROR"):
        monkeypatch.delenv(var, raising=False)


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes[path] = (behaviour, body)``: "ok", "drop" (half the body, then hang up); else 404."""

    def do_GET(self) -> None:
        behaviour, body = self.server.routes.get(self.path, ("404", b""))  # type: ignore[attr-defined]
        if behaviour == "404":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body if behaviour == "ok" else body[: len(body) // 2])
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes = {}  # type: ignore[attr-defined]
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def serve(server: ThreadingHTTPServer, mirror: str, behaviour: str, body: bytes = CONTENT) -> str:
    """Serve ``body`` as ``/<mirror>/tiny.bin``; return the mirror's base URL."""
    server.routes[f"/{mirror}/{NAME}"] = (behaviour, body)  # type: ignore[attr-defined]
    return f"{server.url}/{mirror}"  # type: ignore[attr-defined]


def corrupt(data: bytes) -> bytes:
    return data[:100] + bytes([data[100] ^ 1]) + data[101:]


# ---------------------------------------------------------------- where files are looked for
def test_explicit_root_is_the_only_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path / "env"))
    assert search_dirs(tmp_path) == [tmp_path]
    assert data_dir(str(tmp_path)) == tmp_path


def test_search_order_env_checkout_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / "datasets").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("")
    monkeypatch.setattr(_paths, "_REPO_ROOT", repo)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path / "env"))
    assert search_dirs() == [tmp_path / "env", repo / "datasets", tmp_path / "cache" / "nnscratch"]
    monkeypatch.delenv("NNSCRATCH_DATA")
    assert data_dir() == repo / "datasets"
    (repo / "pyproject.toml").unlink()  # not a checkout: installed package
    assert search_dirs() == [tmp_path / "cache" / "nnscratch"]


def test_cache_ignores_relative_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_paths, "_REPO_ROOT", tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_dir() == tmp_path / ".cache" / "nnscratch"


def test_find_file_takes_the_first_folder_that_has_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_paths, "_REPO_ROOT", tmp_path)
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(MissingFileError) as info:
        find_file(NAME)
    assert f"searched: {tmp_path / 'env'}, {tmp_path / 'cache' / 'nnscratch'}" in str(info.value)
    assert "python -m nnscratch.datasets fetch tiny.bin" in str(info.value)
    (tmp_path / "cache" / "nnscratch").mkdir(parents=True)
    (tmp_path / "cache" / "nnscratch" / NAME).write_bytes(CONTENT)
    assert find_file(NAME) == tmp_path / "cache" / "nnscratch" / NAME


# ---------------------------------------------------------------- checksums
def test_verify_file(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(CONTENT)
    assert verify_file(path) == path
    path.write_bytes(corrupt(CONTENT))
    with pytest.raises(ChecksumError, match=f"SHA-256 [0-9a-f]{{64}}, expected {KNOWN_FILES[NAME].sha256}"):
        verify_file(path)
    path.write_bytes(CONTENT[:-1])
    with pytest.raises(ChecksumError, match=r"size 3999 bytes, expected 4000 bytes \(truncated\?\)"):
        verify_file(path)
    with pytest.raises(DatasetError, match="unknown dataset file 'other.bin'"):
        verify_file(path, "other.bin")


def test_write_verified_cleans_up_when_interrupted(tmp_path: Path) -> None:
    def chunks() -> Iterator[bytes]:
        yield CONTENT[:10]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_verified(chunks(), tmp_path / NAME, "test")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- download
def test_download(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    path = download(NAME, tmp_path / "dest", mirrors=[serve(server, "good", "ok")], progress=False)
    assert path == tmp_path / "dest" / NAME and path.read_bytes() == CONTENT
    assert os.listdir(tmp_path / "dest") == [NAME]


def test_404_then_good_mirror(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    mirrors = [f"{server.url}/nothing/", serve(server, "good", "ok")]  # type: ignore[attr-defined]
    assert download(NAME, tmp_path, mirrors=mirrors).read_bytes() == CONTENT


def test_corrupt_mirror_then_good_mirror(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    mirrors = [serve(server, "bad", "ok", corrupt(CONTENT)), serve(server, "good", "ok")]
    assert download(NAME, tmp_path, mirrors=mirrors).read_bytes() == CONTENT
    assert os.listdir(tmp_path) == [NAME]


@pytest.mark.parametrize("body", [corrupt(CONTENT), CONTENT + b"extra"], ids=["corrupt", "too-long"])
def test_corrupt_download_leaves_nothing(server: ThreadingHTTPServer, tmp_path: Path, body: bytes) -> None:
    with pytest.raises(ChecksumError, match=f"could not download {NAME}.*/bad/{NAME}"):
        download(NAME, tmp_path, mirrors=[serve(server, "bad", "ok", body)])
    assert os.listdir(tmp_path) == []


def test_dropped_connection_leaves_nothing(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="connection closed after 2000 of 4000 bytes"):
        download(NAME, tmp_path, mirrors=[serve(server, "drop", "drop")])
    assert os.listdir(tmp_path) == []


def test_failed_download_keeps_the_existing_file(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    (tmp_path / NAME).write_bytes(b"old")
    with pytest.raises(ChecksumError):
        download(NAME, tmp_path, mirrors=[serve(server, "bad", "ok", corrupt(CONTENT))])
    assert os.listdir(tmp_path) == [NAME] and (tmp_path / NAME).read_bytes() == b"old"
    download(NAME, tmp_path, mirrors=[serve(server, "good", "ok")])
    assert (tmp_path / NAME).read_bytes() == CONTENT


def test_all_mirrors_fail(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(DownloadError) as info:
        download(NAME, tmp_path, mirrors=[f"{server.url}/a", closed], timeout=5)  # type: ignore[attr-defined]
    message = str(info.value)
    assert f"{server.url}/a/{NAME}: HTTP 404" in message and f"{closed}/{NAME}" in message  # type: ignore
    assert "\n" not in message
    assert os.listdir(tmp_path) == []


def test_mirror_env_var(server: ThreadingHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNSCRATCH_MIRROR", f"{server.url}/nothing {serve(server, 'good', 'ok')}")  # type: ignore
    assert download(NAME, tmp_path).read_bytes() == CONTENT


def test_default_mirrors_and_url_check() -> None:
    assert mirror_urls("train-images-idx3-ubyte.gz")[0] == (
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz")
    assert all(url.endswith("/datasets/train_catvnoncat.h5") for url in mirror_urls("train_catvnoncat.h5"))
    with pytest.raises(DatasetError, match="not an http"):
        mirror_urls(NAME, ["file:///etc"])


def test_progress_bar(server: ThreadingHTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    download(NAME, tmp_path, mirrors=[serve(server, "good", "ok")])
    assert capsys.readouterr().err == ""  # stderr is not a terminal: quiet
    download(NAME, tmp_path, mirrors=[serve(server, "good", "ok")], progress=True)
    err = capsys.readouterr().err
    assert err.startswith(f"\r{NAME} [") and "100% of 0.0 MB" in err and err.endswith("\n")


# ---------------------------------------------------------------- copy
def test_copy_verified(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / NAME).write_bytes(CONTENT)
    path = copy_verified(NAME, tmp_path / "src", tmp_path / "dest")
    assert path.read_bytes() == CONTENT and os.listdir(tmp_path / "dest") == [NAME]
    assert copy_verified(NAME, tmp_path / "dest", tmp_path / "dest") == path  # same file: only verified
    (tmp_path / "src" / NAME).write_bytes(corrupt(CONTENT))
    (tmp_path / "dest" / NAME).unlink()
    with pytest.raises(ChecksumError, match="SHA-256"):
        copy_verified(NAME, tmp_path / "src", tmp_path / "dest")
    assert os.listdir(tmp_path / "dest") == []
    with pytest.raises(MissingFileError):
        copy_verified(NAME, tmp_path / "dest", tmp_path / "dest")


# ---------------------------------------------------------------- command line
def test_cli_fetch_from_and_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / NAME).write_bytes(CONTENT)
    dest = tmp_path / "dest"
    assert main(["fetch", "--from", str(tmp_path / "src"), "--dest", str(dest), NAME]) == 0
    assert (dest / NAME).read_bytes() == CONTENT
    assert main(["fetch", "--from", str(tmp_path / "src"), "--dest", str(dest), NAME]) == 0
    assert "already present" in capsys.readouterr().out
    assert main(["verify", "--data-dir", str(dest), NAME]) == 0
    assert capsys.readouterr().out.startswith(f"OK {NAME}")
    (dest / NAME).write_bytes(corrupt(CONTENT))
    assert main(["verify", "--data-dir", str(dest), NAME]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "SHA-256" in err


def test_cli_fetch_download(server: ThreadingHTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "--mirror", serve(server, "bad", "ok", b"x"), "--dest", str(tmp_path), NAME]) == 2
    assert capsys.readouterr().err.startswith("error: could not download")
    assert os.listdir(tmp_path) == []
    assert main(["fetch", "--mirror", serve(server, "good", "ok"), "--dest", str(tmp_path), NAME]) == 0
    assert (tmp_path / NAME).read_bytes() == CONTENT


@pytest.mark.parametrize("argv", [
    ["verify", "no-such-file"],
    ["verify", "--data-dir", "/no/such/folder"],
    ["fetch", "--from", "/no/such/folder"],
])
def test_cli_user_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_cli_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2 and capsys.readouterr().err.startswith("error: argument command")


def test_python_m_entry_point(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "nnscratch.datasets", "verify", "--data-dir", str(tmp_path),
                             "cat"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: dataset file") for line in lines)


# ---------------------------------------------------------------- real files
@pytest.mark.parametrize("name", sorted(set(KNOWN_FILES) - {NAME}))
def test_real_file_checksum(name: str) -> None:
    if not REAL_DATA:  # read at import: the autouse fixture clears NNSCRATCH_DATA
        pytest.skip("real data not available: set NNSCRATCH_DATA to the folder holding the dataset files")
    path = Path(REAL_DATA) / name
    if not path.is_file():
        pytest.skip(f"real data not available: no {name} in NNSCRATCH_DATA={REAL_DATA}")
    assert verify_file(path) == path
