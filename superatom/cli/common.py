"""Shared pieces of the command line: options, one-line errors, stores, listings.

Short options mean one thing in every command (``tests/test_cli_conventions.py`` checks it):
``-h`` help, ``-V`` version, ``-o`` output file or folder, ``-d`` store (``--db``), ``-p``
settings preset, ``-P`` jobflow-remote project, ``-w`` worker, ``-q`` charge, ``-m``
multiplicity, ``-s`` setting override, ``-n`` number of units, ``-f`` formula, ``-e`` element,
``-c`` system class, ``-O`` builder option, ``-v`` verbose, ``-l`` log file.

Examples
--------
>>> split_method("RKS-PBE0/def2-svp DF C-PCM(eps=78.36)")
'PBE0/def2-svp PCM'
>>> split_method("UKS-B3LYP/sto-3g")
'UKS-B3LYP/sto-3g'
>>> png_path(None) is None
True
"""

from __future__ import annotations

import csv
import errno
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from superatom.errors import InputError, SuperatomError

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
MAX_MESSAGE = 600  # characters of an error line

# optional dependencies by top-level module, and the extra that installs them
EXTRAS = {"jobflow_remote": "hpc", "qtoolkit": "hpc", "mongomock": "hpc",
          "gpu4pyscf": "gpu", "cupy": "gpu"}


def db_option() -> Any:
    """The ``--db/-d`` option shared by every command that touches the store."""
    return typer.Option(None, "--db", "-d", help="Store folder or mongodb:// URI.")


def charge_option() -> Any:
    """The ``--charge/-q`` option of the commands that compute a structure."""
    return typer.Option(None, "--charge", "-q", help="Total charge.")


def multiplicity_option() -> Any:
    return typer.Option(None, "--multiplicity", "-m", help="Spin multiplicity 2S+1.")


def preset_option() -> Any:
    return typer.Option("screening", "--preset", "-p",
                        help="Settings preset: screening, production, gas, fast.")


def set_option() -> Any:
    return typer.Option(None, "--set", "-s", help="Override a setting: key=value.")


def json_option() -> Any:
    return typer.Option(False, "--json", help="Print JSON.")


def csv_option() -> Any:
    return typer.Option(False, "--csv", help="Print CSV.")


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on one line to stderr and return the exit to raise; a long
    message (it may echo a huge input value) is cut in the middle to ``MAX_MESSAGE``."""
    message = " ".join(str(message).split("\n"))
    if len(message) > MAX_MESSAGE:
        half = MAX_MESSAGE // 2
        message = f"{message[:half]} [...] {message[-half:]}"
    err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def missing_extra_message(module: str) -> str:
    """One line naming the pip extra that provides ``module``.

    Examples
    --------
    >>> missing_extra_message("jobflow_remote.jobs")
    "jobflow_remote is not installed: pip install 'superatom[hpc]'"
    """
    top = module.split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return f"{top} is not installed"
    return f"{top} is not installed: pip install 'superatom[{extra}]'"


#: Exit status of a command stopped by SIGTERM (128 + 15, as a shell reports it).
TERMINATED = 143


def exit_on_terminate() -> None:
    """Make SIGTERM (``kill``, ``scancel``, a queue's walltime) a normal exit with status 143.

    By default SIGTERM ends the process on the spot: PySCF's density-fitting tensor, a
    temporary file of up to tens of GB (27.5 GB for an Ln-Keggin unit), stays behind in
    ``TMPDIR`` and the next large run finds the disk full. As an exit, the stack unwinds and
    the temporary files are removed; finished results are in the store already, and a
    running SCF continues from its checkpoint when started again. Installed by the
    ``superatom`` command for its own process (main thread only). SIGKILL cannot be caught:
    after ``kill -9`` the file (``tmp*`` in ``TMPDIR``) has to be removed by hand.

    Examples
    --------
    >>> import signal
    >>> exit_on_terminate()
    >>> signal.getsignal(signal.SIGTERM).__name__
    '_terminate'
    >>> _ = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    """
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum, frame) -> None:
    sys.stderr.write("terminated (SIGTERM): finished results are kept in the store, "
                     "scratch files removed; the same command continues from the "
                     "checkpoint\n")
    raise SystemExit(TERMINATED)


def handle_errors(func: F) -> F:
    """Turn :class:`SuperatomError` (and a few common ones) into one-line messages, exit 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SuperatomError as err:
            raise fail(str(err)) from None
        except ModuleNotFoundError as err:
            raise fail(missing_extra_message(err.name or str(err))) from None
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
    first = first[:200]
    known = dependency_error(err, first)
    if known:
        return known
    if isinstance(err, sqlite3.OperationalError) and any(
            word in first.lower() for word in ("full", "disk i/o")):
        return (f"the store could not be written ({first}): free disk space, or give "
                "another --db")
    if isinstance(err, sqlite3.DatabaseError):
        return f"the store cannot be read ({first}): give another --db or restore it"
    if isinstance(err, PermissionError):
        return f"permission denied: {err.filename or first}: check the path and its rights"
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        where = f" writing {err.filename}" if err.filename else ""
        return f"no space left on the device{where}: free disk space, or give another --db"
    if isinstance(err, OSError):
        return f"cannot use {err.filename or 'a file'}: {err.strerror or first}"
    if isinstance(err, OverflowError):
        return f"a number is too large ({first}): check the input values"
    return (f"unexpected {type(err).__name__}: {first} (set SUPERATOM_DEBUG=1 for the "
            "traceback and report it)")


# errors of dependencies by class name (their modules are optional), and what to do
DEPENDENCY_ERRORS = {
    "ServerSelectionTimeoutError": "MongoDB server not reachable ({first}): start it, or check "
                                   "host and port in --db / SUPERATOM_DB",
    "InvalidURI": "malformed MongoDB URI ({first}): percent-encode '@', ':' and '/' in the user "
                  "name and password (e.g. p%40ss for p@ss)",
    "ConfigurationError": "MongoDB URI not usable ({first}): check it in --db / SUPERATOM_DB",
    "OperationFailure": "MongoDB refused the request ({first}): check user, password and "
                        "rights on the database",
    "ProjectUndefinedError": "no jobflow-remote project chosen ({first}): give -P NAME (see "
                             "'jf project list'; 'superatom hpc init --install' writes one)",
    "ProjectParsingError": "jobflow-remote project missing or unreadable ({first}): see 'jf "
                           "project list' and 'jf project check'; 'superatom hpc init "
                           "--install' writes one",
}


def dependency_error(err: BaseException, first: str) -> str | None:
    """The line for a known failure of a dependency (MongoDB, jobflow-remote), or None.

    Examples
    --------
    >>> from pymongo.errors import InvalidURI
    >>> dependency_error(InvalidURI("bad"), "bad")[:26]
    'malformed MongoDB URI (bad'
    """
    for klass in type(err).__mro__:
        if klass.__name__ in DEPENDENCY_ERRORS:
            return DEPENDENCY_ERRORS[klass.__name__].format(first=first)
    return None


def open_read_store(db: str | None):
    """Open an existing store for reading; a ``--db`` folder that is not a store is an error.

    Only ``run`` and ``screen`` create a store: a mistyped path here (``--db``,
    ``$SUPERATOM_DB`` or ``db:`` in the config file) must not silently give an empty one.
    """
    from superatom.db.store import configured_location, is_mongo_uri, open_store

    where, source = (db, "--db") if db else configured_location()
    if where and not is_mongo_uri(str(where)):
        folder = Path(where).expanduser()
        if not folder.is_dir():
            raise InputError(f"no store at '{where}': check {source} (a store is created by "
                             "'superatom run' or 'superatom screen')")
        if not (folder / "monty.storage.cfg").exists():
            raise InputError(f"'{where}' is a folder but not a superatom store: check {source}")
    return open_store(db)


def png_path(path: Path | None, option: str = "--png") -> Path | None:
    """``--png`` must name a ``.png`` file (no silent PDF/SVG under that option);
    ``--svg`` a ``.svg`` one."""
    suffix = "." + option.lstrip("-")
    if path is not None and path.suffix.lower() != suffix:
        raise InputError(f"{option} expects a file ending in {suffix}, not '{path.name}'")
    return path


def stdout_is_terminal() -> bool:
    """Whether stdout is an interactive terminal (tables and live lines) or a pipe/file."""
    return sys.stdout.isatty()


def split_method(method: str | None) -> str:
    """Short method label ``XC/basis`` from a stored method string."""
    from superatom.schemas.levels import short_method

    return short_method(method)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def print_json(data: Any) -> None:
    """Print plain JSON (no colour codes) to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=_default) + "\n")


def cell(value: Any, digits: int = 3) -> str:
    """Text of one table cell: floats with ``digits`` decimals, ``-`` for missing."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def is_numeric(rows: Iterable[dict], column: str) -> bool:
    values = [row.get(column) for row in rows if row.get(column) is not None]
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                for v in values)


def _longest(rows: list[dict], column: str) -> int:
    """Width of the longest cell of ``column`` (1 for no rows)."""
    return max((len(cell(row.get(column))) for row in rows), default=1)


def fit_columns(rows: list[dict], columns: list[str], width: int,
                headers: dict[str, str] | None = None, keep: tuple[str, ...] = (),
                drop_first: tuple[str, ...] = ()) -> list[str]:
    """Columns that fit in ``width`` characters: ``drop_first`` ones are left out, in that
    order, while numbers and ``keep`` columns (never wrapped) would not fit; then, if still
    too wide, the last columns but the first, so a number is never cut.

    Examples
    --------
    >>> rows = [{"name": "water", "gap": 10.089, "campaign": "tiny"}]
    >>> fit_columns(rows, ["name", "gap", "campaign"], 20, drop_first=("campaign",))
    ['name', 'gap']
    >>> fit_columns(rows, ["name", "gap", "campaign"], 12)
    ['name']
    """
    headers = headers or {}
    needed: dict[str, int] = {}
    for column in columns:
        longest = _longest(rows, column)
        whole = is_numeric(rows, column) or column in keep
        needed[column] = max(len(headers.get(column, column)),
                             longest if whole else min(longest, 10))
    shown = list(columns)

    def too_wide() -> bool:
        return sum(needed[c] + 2 for c in shown) > width

    for column in drop_first:
        if not too_wide():
            break
        if column in shown:
            shown.remove(column)
    while too_wide() and len(shown) > 1:
        shown.pop()
    return shown


def rows_table(rows: list[dict], columns: list[str], title: str | None = None,
               headers: dict[str, str] | None = None,
               keep: tuple[str, ...] = ()) -> Table:
    """Rich table in which numbers (and the ``keep`` columns) never wrap and other text
    columns fold; ``headers`` renames columns for display."""
    headers = headers or {}
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        numeric = is_numeric(rows, column)
        whole = numeric or column in keep
        table.add_column(headers.get(column, column), justify="right" if numeric else "left",
                         no_wrap=whole, overflow="ellipsis" if whole else "fold",
                         min_width=None if whole else min(_longest(rows, column), 10))
    for row in rows:
        table.add_row(*[cell(row.get(c)) for c in columns])
    return table


def delimited(rows: list[dict], columns: list[str], delimiter: str) -> str:
    """CSV (``,``) or TSV (``\\t``) text with a header line; full precision."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buffer.getvalue()


def emit_rows(rows: list[dict], columns: list[str], *, as_json: bool = False,
              as_csv: bool = False, title: str | None = None,
              empty: str = "nothing to list", headers: dict[str, str] | None = None,
              keep: tuple[str, ...] = (), drop_first: tuple[str, ...] = ()) -> None:
    """Print a listing: JSON, CSV, a rich table on a terminal or TSV into a pipe.

    No rows prints ``empty`` on stderr (``[]`` with ``--json``, a header with ``--csv``).
    """
    if as_json:
        print_json(rows)
    elif as_csv:
        sys.stdout.write(delimited(rows, columns, ","))
    elif not rows:
        err_console.print(empty, markup=False, highlight=False)
    elif stdout_is_terminal():
        shown = fit_columns(rows, columns, console.width, headers, keep, drop_first)
        console.print(rows_table(rows, shown, title, headers, keep))
    else:
        sys.stdout.write(delimited(rows, columns, "\t"))
