"""One computation of an input at a time: a file lock per input hash, held from the start of
a job until its result is in the store.

Two ``superatom screen`` runs of one campaign on one store would otherwise both compute
every system and store the arrays twice. The job that finds no stored result takes the lock
of its input hash; an identical job elsewhere waits for it and then reuses the stored
result. :class:`superatom.db.store.ResultStore` releases the lock once the document is
written; a job that fails releases it itself, and a killed process loses it with its file
descriptors.

Examples
--------
>>> import tempfile
>>> from superatom.db import open_store
>>> store = open_store(tempfile.mkdtemp())
>>> hold_input(store, "abc")
>>> sorted(HELD)
['abc']
>>> release_input("abc"); sorted(HELD)
[]
"""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock
from platformdirs import user_cache_dir

HELD: dict[str, FileLock] = {}  # input hash -> the lock this process holds for it
WAIT_S = 7 * 24 * 3600.0  # an identical job may run for days


def lock_folder(store) -> Path:
    """``.input-locks`` in a folder store; the user cache folder for MongoDB (jobs on one
    machine)."""
    path = getattr(getattr(store, "docs_store", None), "database_path", None)
    folder = Path(path) / ".input-locks" if path else Path(
        os.environ.get("SUPERATOM_CHECKPOINT_DIR") or user_cache_dir("superatom")) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def hold_input(store, digest: str, timeout_s: float = WAIT_S) -> None:
    """Take the lock of ``digest`` (waiting while another process holds it)."""
    lock = HELD.get(digest) or FileLock(str(lock_folder(store) / f"{digest}.lock"),
                                        timeout=timeout_s)
    lock.acquire()
    HELD[digest] = lock


def release_input(digest: str | None) -> None:
    """Release the lock of ``digest`` if this process holds it."""
    lock = HELD.pop(digest, None) if digest else None
    if lock is not None:
        lock.release(force=True)
