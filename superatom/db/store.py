"""Where results live: a jobflow ``JobStore`` on montydb (default) or MongoDB.

Location, in order: the ``location`` argument, ``$SUPERATOM_DB``, ``db:`` in the config file
(``$SUPERATOM_CONFIG`` or ``<user config dir>/superatom/config.yaml``), then
``<user data dir>/superatom/db``. A value starting with ``mongodb://`` or ``mongodb+srv://``
selects MongoDB; anything else is a folder for the embedded montydb (sqlite) store.

Examples
--------
>>> import tempfile
>>> store = open_store(tempfile.mkdtemp())
>>> type(store.docs_store).__name__, sorted(store.additional_stores)
('LockedMontyStore', ['data'])
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from filelock import FileLock
from jobflow import JobStore
from maggma.stores import MontyStore
from platformdirs import user_config_dir, user_data_dir

from superatom.errors import InputError
from superatom.yamlfile import read_yaml_mapping

DATABASE_NAME = "superatom"
OUTPUTS = "outputs"
DATA = "outputs_data"


class _ReadOnlyAwareSqlite:
    """``sqlite3`` as montydb calls it, but a database file in a folder this process cannot
    write is opened ``immutable`` (read without the locks and journal files it cannot make)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(sqlite3, name)

    def connect(self, database, **kwargs):
        path = str(database)
        if os.path.exists(path) and not os.access(os.path.dirname(path) or ".", os.W_OK):
            return sqlite3.connect(f"file:{quote(path)}?immutable=1", uri=True, **kwargs)
        return sqlite3.connect(database, **kwargs)


class LockedMontyStore(MontyStore):
    """montydb (sqlite) store whose writes are serialised across processes by a file lock.

    sqlite already locks the file; the extra lock keeps a long write (orbital arrays of a big
    cluster) from running into another process's busy timeout, and two processes opening a new
    store at once from racing on its config file, so two ``superatom`` runs on one store never
    lose a result.
    """

    def _write_lock(self) -> FileLock:
        return FileLock(str(Path(self.database_path) / ".superatom-write.lock"), timeout=600)

    def connect(self, force_reset: bool = False):
        # montydb writes its storage config file and creates tables on connect: two
        # processes opening a new store at the same moment must not interleave that
        folder = Path(self.database_path)
        if (folder / "monty.storage.cfg").exists() and not os.access(folder, os.W_OK):
            if not self._coll or force_reset:  # read-only: no config rewrite, no lock file
                import montydb.storage.sqlite
                from montydb import MontyClient

                montydb.storage.sqlite.sqlite3 = _ReadOnlyAwareSqlite()
                client = MontyClient(self.database_path, **self.client_kwargs)
                self._coll = client[self.database_name][self.collection_name]
            return None
        folder.mkdir(parents=True, exist_ok=True)
        with self._write_lock():
            return super().connect(force_reset=force_reset)

    def update(self, docs, key=None):
        with self._write_lock():
            return super().update(docs, key=key)

    def remove_docs(self, criteria):
        with self._write_lock():
            return super().remove_docs(criteria)


ANALYSIS_DOC_TYPES = ("interaction", "chain_scaling")


class _HeldDocuments:
    """Stands in for the documents store while :class:`ResultStore` writes the arrays."""

    def __init__(self) -> None:
        self.batches: list[tuple[list[dict], Any]] = []

    def update(self, docs, key=None) -> None:
        self.batches.append((docs if isinstance(docs, list) else [docs], key))


class ResultStore(JobStore):
    """A jobflow ``JobStore`` that never shows a result before its arrays are stored.

    jobflow writes an output document first and its large arrays (``data`` store) after it,
    so a kill between the two leaves a document whose arrays are missing. Here the arrays are
    written first and the document last. A reused result (``output.reused_from`` set, no
    arrays of its own) gets a link to the arrays of the result it reuses instead of a copy:
    loading either document gives the same arrays and the data store does not grow; it
    replaces an earlier reuse record of the same result under the same name and campaign.
    Likewise an interaction or chain analysis of the same inputs, name and campaign replaces
    the earlier one, so reruns of a campaign do not pile up identical analyses.
    """

    def update(self, docs, key=None, save=None):
        documents, held = self.docs_store, _HeldDocuments()
        arrays_only = object.__new__(type(self))  # the same connected stores, but the
        arrays_only.__dict__.update(self.__dict__, docs_store=held)  # documents held back
        super(ResultStore, arrays_only).update(docs, key=key, save=save)
        for batch, batch_key in held.batches:
            for doc in batch:
                self._link_reused_arrays(doc)
            documents.update(batch, key=batch_key)
            for doc in batch:
                self._drop_older_reuse(doc)
                self._drop_older_analysis(doc)

    def _drop_older_reuse(self, doc: dict) -> None:
        """Keep one reuse record per label: a rerun replaces the earlier identical one."""
        output = doc.get("output")
        if isinstance(output, dict) and output.get("reused_from"):
            self._drop_older_like(doc, ("reused_from", "input_hash", "name", "campaign"))

    def _drop_older_analysis(self, doc: dict) -> None:
        """An analysis of the same stored inputs under the same name and campaign replaces the
        earlier one (written first, so a kill in between leaves the old one, never none)."""
        output = doc.get("output")
        if not isinstance(output, dict) or output.get("doc_type") not in ANALYSIS_DOC_TYPES:
            return
        if output.get("input_hashes") and None not in output["input_hashes"]:
            self._drop_older_like(doc, ("doc_type", "input_hashes", "name", "campaign"))

    def _drop_older_like(self, doc: dict, keys: tuple[str, ...]) -> None:
        """Remove the other documents whose output agrees with ``doc``'s on every key."""
        self.docs_store.remove_docs({
            "uuid": {"$ne": doc["uuid"]},
            **{f"output.{key}": doc["output"].get(key) for key in keys},
        })

    def _link_reused_arrays(self, doc: dict) -> None:
        output = doc.get("output")
        if not isinstance(output, dict) or not output.get("reused_from"):
            return
        original = self.docs_store.query_one({"uuid": output["reused_from"]},
                                             properties=["output.orbitals"])
        arrays = ((original or {}).get("output") or {}).get("orbitals")
        if output.get("orbitals") is None and isinstance(arrays, dict) and "blob_uuid" in arrays:
            output["orbitals"] = arrays


def config_path() -> Path:
    """Path of the YAML config file (it need not exist)."""
    env = os.environ.get("SUPERATOM_CONFIG")
    return Path(env) if env else Path(user_config_dir("superatom")) / "config.yaml"


def read_config() -> dict[str, Any]:
    """Parsed config file, ``{}`` if absent; malformed YAML is a one-line InputError."""
    path = config_path()
    if not path.exists():
        return {}
    return read_yaml_mapping(path, "config file", "a mapping such as 'db: /path/to/folder'")


def is_mongo_uri(location: str) -> bool:
    return location.startswith(("mongodb://", "mongodb+srv://"))


def store_location(location: str | os.PathLike | None = None) -> str:
    """Resolve the store location (folder path or MongoDB URI) as described above."""
    if location:
        return str(location)
    if os.environ.get("SUPERATOM_DB"):
        return os.environ["SUPERATOM_DB"]
    configured = read_config().get("db")
    if configured:
        return str(configured)
    return str(Path(user_data_dir("superatom")) / "db")


def store_folder(where: str) -> Path:
    """The absolute folder of a montydb store, created if needed; a file or a path that
    cannot hold a folder is a one-line InputError."""
    folder = Path(where).expanduser().resolve()  # a relative --db stays where it was meant
    if folder.exists() and not folder.is_dir():
        raise InputError(f"store {folder} is a file, not a folder: give a folder for --db")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the store folder {folder} ({err.strerror}): give a "
                         "writable folder for --db") from None
    return folder


def require_writable(location: str | os.PathLike | None = None) -> None:
    """A one-line InputError, before any work, when results could not be stored there."""
    where = store_location(location)
    if is_mongo_uri(where):
        return
    folder = Path(where).expanduser().resolve()
    existing = folder if folder.exists() else next(p for p in folder.parents if p.exists())
    if not os.access(existing, os.W_OK):
        raise InputError(f"store {folder} is read-only: query it, but give a writable --db "
                         "to store new results")


def open_store(location: str | os.PathLike | None = None) -> JobStore:
    """A jobflow ``JobStore`` with a ``data`` store for large arrays (not yet connected)."""
    if location is not None and not str(location).strip():
        raise InputError("--db is empty: give a store folder or a mongodb:// URI, or leave it "
                         "out for the default store")
    where = store_location(location)
    database = read_config().get("database", DATABASE_NAME) if location is None else DATABASE_NAME
    if is_mongo_uri(where):
        from maggma.stores import MongoStore

        docs = MongoStore.from_uri(where, database=database, collection_name=OUTPUTS)
        data = MongoStore.from_uri(where, database=database, collection_name=DATA)
    else:
        folder = store_folder(where)
        docs = LockedMontyStore(OUTPUTS, database_path=str(folder), database_name=database,
                                storage="sqlite")
        data = LockedMontyStore(DATA, database_path=str(folder), database_name=database,
                                storage="sqlite")
    return ResultStore(docs, additional_stores={"data": data})
