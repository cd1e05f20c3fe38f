"""The record of finished validation items: one JSON line per item, next to the store.

Each line is a whole row (computed value, reference, pass/fail, wall time, the machine, code
versions and the settings and input hashes of every system it used), appended and flushed
when the item finishes. A validation stopped halfway keeps every finished row, and a rerun
prints them instead of recomputing; a line torn by a kill is skipped when read. The file is
``validation_rows.jsonl`` in the store folder (for a MongoDB store: in the user data folder),
so the rows travel with the results they come from, and it reads without superatom.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> path = Path(tempfile.mkdtemp()) / ROWS_FILE
>>> append_row(path, {"key": "a", "status": "pass", "finished_at": "2026-01-01T00:00:00"})
>>> _ = path.open("a").write('{"key": "b", "sta')       # a line cut short by a kill
>>> [row["key"] for row in read_rows(path)]
['a']
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from filelock import FileLock
from platformdirs import user_data_dir

from superatom.db.store import is_mongo_uri, store_folder, store_location

__all__ = ["ROWS_FILE", "append_row", "latest_rows", "machine", "read_rows", "rows_path",
           "write_rows"]

ROWS_FILE = "validation_rows.jsonl"


def rows_path(db: str | None = None) -> Path:
    """The rows file of the store ``db`` (resolved as :func:`superatom.db.open_store` does)."""
    where = store_location(db)
    if is_mongo_uri(where):
        folder = Path(user_data_dir("superatom"))
        folder.mkdir(parents=True, exist_ok=True)
        return folder / ROWS_FILE
    return store_folder(where) / ROWS_FILE


def machine() -> dict[str, Any]:
    """The CPU this process runs on: model, logical cores, cores it may use, OpenMP threads.

    >>> sorted(machine())
    ['cores', 'cpu', 'omp_threads', 'platform', 'usable_cores']
    """
    from superatom.engine import device_name

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cpu": device_name("cpu").rsplit(" (", 1)[0], "cores": os.cpu_count(),
            "usable_cores": usable, "omp_threads": os.environ.get("OMP_NUM_THREADS"),
            "platform": platform.platform()}


def append_row(path: str | os.PathLike, row: dict[str, Any]) -> None:
    """Append one row as a JSON line and flush it to disk before returning."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(row, default=str, sort_keys=True)
    with FileLock(str(path) + ".lock", timeout=60), path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def write_rows(path: str | os.PathLike, rows: list[dict[str, Any]]) -> None:
    """Replace ``path`` by ``rows``, one JSON line each (written aside, then renamed)."""
    path = Path(path)
    aside = path.with_name(path.name + ".new")
    aside.write_text("".join(json.dumps(r, default=str, sort_keys=True) + "\n" for r in rows),
                     encoding="utf-8")
    aside.replace(path)


def read_rows(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Every complete row of ``path`` in file order (none if it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # torn by a kill mid-write, or hand-edited
            continue
        if isinstance(row, dict) and "key" in row:
            rows.append(row)
    return rows


def latest_rows(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The newest row of each key (by ``finished_at``; later lines win ties).

    >>> latest_rows([{"key": "a", "finished_at": "2"}, {"key": "a", "finished_at": "1"}])
    {'a': {'key': 'a', 'finished_at': '2'}}
    """
    newest: dict[str, dict[str, Any]] = {}
    for row in rows:
        known = newest.get(row["key"])
        if known is None or str(row.get("finished_at", "")) >= str(known.get("finished_at", "")):
            newest[row["key"]] = row
    return newest
