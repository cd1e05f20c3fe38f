"""Shared pieces of the command line: one-line errors, console, JSON output."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import typer
from rich.console import Console

from superatom.errors import SuperatomError

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on one line to stderr and return the exit to raise."""
    err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def handle_errors(func: F) -> F:
    """Turn :class:`SuperatomError` (and a few common ones) into one-line messages, exit 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SuperatomError as err:
            raise fail(str(err)) from None
        except FileNotFoundError as err:
            raise fail(f"file not found: {err.filename or err}") from None
        except KeyboardInterrupt:
            raise fail("interrupted: finished results are kept in the store") from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as err:
            if os.environ.get("SUPERATOM_DEBUG"):
                raise
            raise fail(unexpected_error(err)) from None

    return wrapper  # type: ignore[return-value]


def unexpected_error(err: BaseException) -> str:
    """One line for an exception that is not a :class:`SuperatomError`.

    Examples
    --------
    >>> import sqlite3
    >>> unexpected_error(sqlite3.DatabaseError("file is not a database"))
    'the store cannot be read (file is not a database): give another --db or restore it'
    """
    import sqlite3

    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if isinstance(err, sqlite3.DatabaseError):
        return f"the store cannot be read ({first}): give another --db or restore it"
    if isinstance(err, PermissionError):
        return f"permission denied: {err.filename or first}: check the path and its rights"
    if isinstance(err, OSError):
        return f"cannot use {err.filename or 'a file'}: {err.strerror or first}"
    if isinstance(err, OverflowError):
        return f"a number is too large ({first}): check the input values"
    return (f"unexpected {type(err).__name__}: {first} (set SUPERATOM_DEBUG=1 for the "
            "traceback and report it)")


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def print_json(data: Any) -> None:
    """Print plain JSON (no colour codes) to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=_default) + "\n")
