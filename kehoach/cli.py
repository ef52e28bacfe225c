"""Command line: ``kehoach extract|add|list|show|registry|search|who|serve|legal|eval ...``.

Each stage registers its own subcommands (``register(subparsers)``); this module
only holds the global options and the error policy: one clear line per error,
a traceback only with ``--debug``.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from kehoach import __version__
from kehoach.errors import KehoachError, printable

# modules that add subcommands; each has ``register(subparsers)``
COMMAND_MODULES = [
    "kehoach.extract.cli",
    "kehoach.corpus.cli",
    "kehoach.corpus.legal.cli",
    "kehoach.search.cli",
    "kehoach.eval.cli",
]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kehoach", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"kehoach {__version__}")
    p.add_argument("--home", help="corpus home directory (default: $KEHOACH_HOME, else the user data directory)")
    p.add_argument("--store", metavar="URL",
                   help="the corpus store: postgresql://USER@HOST/DB (default: $KEHOACH_STORE, else SQLite in the "
                        "corpus home; with PostgreSQL the home keeps only local derived files, in a folder per store)")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        if getattr(args, "store", None):      # every command (and the processes it starts) opens this store
            from kehoach.corpus.backend import STORE_ENV, store_url
            os.environ[STORE_ENV] = store_url(args.store) or ""
        return int(args.func(args) or 0)
    except KehoachError as e:
        if args.debug:
            raise
        print(f"kehoach: error: {printable(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kehoach: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # unexpected: still one line unless --debug
        if args.debug:
            raise
        print(f"kehoach: error: {type(e).__name__}: {printable(e)} (run with --debug for details)", file=sys.stderr)
        return 1
