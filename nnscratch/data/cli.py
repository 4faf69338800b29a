"""``python -m nnscratch.datasets``: fetch and verify the dataset files.

Exit status 0 on success, 2 on any error (one ``error: ...`` line per problem on stderr), 130 if interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from ..core.errors import DatasetError
from .checksum import verify_file
from .files import ENV_MIRROR, KNOWN_FILES, expand_names
from .paths import ENV_DATA, data_dir, find_file

_NAMES_HELP = f"files ({', '.join(KNOWN_FILES)}) or datasets (cat, mnist); default: all files"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage errors: one line, status 2
        self.exit(2, f"error: {message} (see --help)\n")


FETCH_HELP = "download (or copy with --from) the files, checksum-verified"
FETCH_DESCRIPTION = ("Download the files from public mirrors (or copy them from a folder), keeping each only if its "
                     "SHA-256 matches. Files already present and correct are skipped.")
VERIFY_HELP = "check the files' SHA-256"
VERIFY_DESCRIPTION = (f"Check each file against its known SHA-256 (default folders: ${ENV_DATA}, the checkout's "
                      "datasets/, the user cache).")


def add_fetch_arguments(fetch: argparse.ArgumentParser) -> None:
    """The arguments of ``fetch``: names, ``--from DIR``, ``--dest DIR``, ``--mirror URL``."""
    fetch.add_argument("names", nargs="*", help=_NAMES_HELP)
    fetch.add_argument("--from", dest="source", metavar="DIR", help="copy from this folder instead of downloading")
    fetch.add_argument("--dest", metavar="DIR", help=f"destination folder (default: {data_dir()})")
    fetch.add_argument("--mirror", action="append", metavar="URL",
                       help=f"base URL to download from, repeatable (default: ${ENV_MIRROR} or built-in mirrors)")


def add_verify_arguments(verify: argparse.ArgumentParser) -> None:
    """The arguments of ``verify``: names, ``--data-dir DIR``."""
    verify.add_argument("names", nargs="*", help=_NAMES_HELP)
    verify.add_argument("--data-dir", metavar="DIR", help="only look in this folder")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m nnscratch.datasets", description="Get and check nnscratch's dataset files.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    add_fetch_arguments(commands.add_parser("fetch", help=FETCH_HELP, description=FETCH_DESCRIPTION))
    add_verify_arguments(commands.add_parser("verify", help=VERIFY_HELP, description=VERIFY_DESCRIPTION))
    return parser


def fetch_files(names: list[str], source: str | None, dest: str | None, mirrors: list[str] | None) -> int:
    """Fetch (or copy from ``source``) each file into ``dest``, checksum-verified; 0, or 2 if one failed."""
    from .download import copy_verified, download  # urllib and http.client: loaded when a file is fetched

    if source is not None and not Path(source).is_dir():
        raise DatasetError(f"--from {source}: no such folder")
    folder = Path(dest) if dest is not None else data_dir()
    failed = 0
    for name in names:
        target = folder / name
        try:
            if target.is_file():
                try:
                    verify_file(target)
                    print(f"{name}: already present and verified in {folder}")
                    continue
                except DatasetError as exc:
                    print(f"{name}: replacing ({exc})", file=sys.stderr)
            if source is not None:
                path, how = copy_verified(name, source, folder), f"copied from {source}"
            else:
                path, how = download(name, folder, mirrors=mirrors), "downloaded"
            print(f"{name}: {how}, SHA-256 verified: {path}")
        except DatasetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    return 2 if failed else 0


def verify_files(names: list[str], data_dir_arg: str | None) -> int:
    """Check each file's SHA-256 where it is found; 0, or 2 if one is missing or wrong."""
    if data_dir_arg is not None and not Path(data_dir_arg).is_dir():
        raise DatasetError(f"--data-dir {data_dir_arg}: no such folder")
    failed = 0
    for name in names:
        try:
            path = verify_file(find_file(name, data_dir_arg), name)
            print(f"OK {name}: {path}")
        except DatasetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    return 2 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    args = _parser().parse_args(argv)
    try:
        names = expand_names(args.names)
        if args.command == "fetch":
            return fetch_files(names, args.source, args.dest, args.mirror)
        return verify_files(names, args.data_dir)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
