"""``nnscratch fetch`` and ``nnscratch verify``: get the dataset files and check their SHA-256."""

from __future__ import annotations

import argparse

from ..data import cli as data_cli
from ..data.files import expand_names

FETCH, VERIFY = "fetch", "verify"


def add_fetch(commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(FETCH, help=data_cli.FETCH_HELP, description=data_cli.FETCH_DESCRIPTION, parents=parents)
    data_cli.add_fetch_arguments(p)
    p.set_defaults(handler=lambda args: data_cli.fetch_files(expand_names(args.names), args.source, args.dest,
                                                              args.mirror))


def add_verify(commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(VERIFY, help=data_cli.VERIFY_HELP, description=data_cli.VERIFY_DESCRIPTION, parents=parents)
    data_cli.add_verify_arguments(p)
    p.set_defaults(handler=lambda args: data_cli.verify_files(expand_names(args.names), args.data_dir))
