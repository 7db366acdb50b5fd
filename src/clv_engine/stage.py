"""What every stage entry point shares: argument parsing, progress lines, error exits.

A stage script is ``run_stage("ingest", add_arguments, main)``: ``main`` gets the parsed
arguments and returns a one-line summary. Progress and the summary (with the duration)
go to stderr so that stdout stays free; the summary line gives the duration and the
largest peak resident memory of its process and the worker processes it ended; a
:class:`~clv_engine.errors.UserError` ends the stage with its message and exit status 2,
and no traceback.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Callable

from .errors import UserError

__all__ = ["progress", "run_stage"]

#: The running stage's name, in the environment so that its worker processes have it too.
_STAGE_VARIABLE = "CLV_STAGE"


def progress(message: str) -> None:
    """One progress line a person can follow, prefixed with the stage name."""
    print(f"[{os.environ.get(_STAGE_VARIABLE, 'clv')}] {message}", file=sys.stderr, flush=True)


def run_stage(
    name: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    main: Callable[[argparse.Namespace], str],
    argv: list[str] | None = None,
) -> None:
    os.environ[_STAGE_VARIABLE] = name
    parser = argparse.ArgumentParser(prog=f"stages/{name}.py")
    parser.add_argument("--params", default="params.yaml", help="the params file (default params.yaml)")
    add_arguments(parser)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        summary = main(args)
    except UserError as exc:
        print(f"[{name}] error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    # The largest resident set of the stage's process and of any worker process it ended.
    peak_kb = max(
        resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    peak_mb = peak_kb / 1024  # kB on Linux
    progress(f"done in {time.perf_counter() - start:.1f} s, peak {peak_mb:,.0f} MB: {summary}")
