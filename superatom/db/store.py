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

from superatom.db.inputlock import release_input
from superatom.errors import InputError
from superatom.yamlfile import read_yaml_mapping

DATABASE_NAME = "superatom"
OUTPUTS = "outputs"
DATA = "outputs_data"
MONGO_TIMEOUT_MS = 5000  # how long a command waits for an unreachable MongoDB server


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
    the earlier one, so reruns of a campaign do not pile up identical analyses; the replacing
    document lists the replaced uuids in ``output.replaces``. An output whose settings would
    not load back is refused before anything is written, and the per-input lock of
    :mod:`superatom.db.inputlock` is released once a document is written.
    """

    def update(self, docs, key=None, save=None):
        for doc in docs if isinstance(docs, list) else [docs]:
            _check_storable(doc)  # before any write: never a document that cannot be read
        documents, held = self.docs_store, _HeldDocuments()
        arrays_only = object.__new__(type(self))  # the same connected stores, but the
        arrays_only.__dict__.update(self.__dict__, docs_store=held)  # documents held back
        super(ResultStore, arrays_only).update(docs, key=key, save=save)
        for batch, batch_key in held.batches:
            for doc in batch:
                self._link_reused_arrays(doc)
                self._note_replaced(doc)
            documents.update(batch, key=batch_key)
            for doc in batch:
                self._drop_replaced(doc)
                output = doc.get("output")
                release_input(output.get("input_hash") if isinstance(output, dict) else None)

    def _replaced_criteria(self, doc: dict) -> dict | None:
        """The other documents ``doc`` replaces, as a query (None: it replaces none).

        A reuse record replaces the earlier identical one (same result, name and campaign);
        an analysis of the same stored inputs under the same name and campaign replaces the
        earlier one.
        """
        output = doc.get("output")
        if not isinstance(output, dict):
            return None
        if output.get("reused_from"):
            keys = ("reused_from", "input_hash", "name", "campaign")
        elif output.get("doc_type") in ANALYSIS_DOC_TYPES and output.get("input_hashes") \
                and None not in output["input_hashes"]:
            keys = ("doc_type", "input_hashes", "name", "campaign")
        else:
            return None
        return {"uuid": {"$ne": doc["uuid"]}, **{f"output.{k}": output.get(k) for k in keys}}

    def _note_replaced(self, doc: dict) -> None:
        """Record in ``output.replaces`` the uuids of the documents ``doc`` replaces (and those
        they replaced), so a uuid printed by an earlier run keeps resolving."""
        criteria = self._replaced_criteria(doc)
        if criteria is None:
            return
        replaced = set(doc["output"].get("replaces") or [])
        for old in self.docs_store.query(criteria, properties=["uuid", "output.replaces"]):
            replaced.add(old["uuid"])
            replaced.update((old.get("output") or {}).get("replaces") or [])
        if replaced:
            doc["output"]["replaces"] = sorted(replaced)

    def _drop_replaced(self, doc: dict) -> None:
        """Remove the documents ``doc`` replaces (written first, so a kill in between leaves
        the old one, never none)."""
        criteria = self._replaced_criteria(doc)
        if criteria is not None:
            self.docs_store.remove_docs(criteria)

    def _link_reused_arrays(self, doc: dict) -> None:
        output = doc.get("output")
        if not isinstance(output, dict) or not output.get("reused_from"):
            return
        original = self.docs_store.query_one({"uuid": output["reused_from"]},
                                             properties=["output.orbitals"])
        arrays = ((original or {}).get("output") or {}).get("orbitals")
        if output.get("orbitals") is None and isinstance(arrays, dict) and "blob_uuid" in arrays:
            output["orbitals"] = arrays


def _check_storable(doc: Any) -> None:
    """An InputError for a job output whose settings would not load back (e.g. a memory
    that no validation saw); nothing is written then."""
    from superatom.db.reuse import settings_problem

    output = doc.get("output") if isinstance(doc, dict) else getattr(doc, "output", None)
    problem = settings_problem(output) if output is not None else None
    if problem:
        raise InputError(f"result not stored, it could not be read back: {problem}")


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


def mongo_client_options(uri: str) -> dict[str, Any]:
    """Client options: a server that cannot be reached fails after ``MONGO_TIMEOUT_MS``
    (pymongo waits 30 s), unless the URI sets ``serverSelectionTimeoutMS`` itself.

    Examples
    --------
    >>> mongo_client_options("mongodb://localhost/db")
    {'serverSelectionTimeoutMS': 5000}
    >>> mongo_client_options("mongodb://h/db?serverSelectionTimeoutMS=60000")
    {}
    """
    if "serverselectiontimeoutms" in uri.lower():
        return {}
    return {"serverSelectionTimeoutMS": MONGO_TIMEOUT_MS}


def store_location(location: str | os.PathLike | None = None) -> str:
    """Resolve the store location (folder path or MongoDB URI) as described above."""
    if location:
        return str(location)
    configured, _source = configured_location()
    return configured or str(Path(user_data_dir("superatom")) / "db")


def configured_location() -> tuple[str | None, str]:
    """The store the user configured and where (``$SUPERATOM_DB`` or the config file's
    ``db:``); ``(None, "")`` when neither is set."""
    if os.environ.get("SUPERATOM_DB"):
        return os.environ["SUPERATOM_DB"], "SUPERATOM_DB"
    configured = read_config().get("db")
    if configured:
        return str(configured), f"db: in {config_path()}"
    return None, ""


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

        client = mongo_client_options(where)
        docs = MongoStore.from_uri(where, database=database, collection_name=OUTPUTS,
                                   mongoclient_kwargs=client)
        data = MongoStore.from_uri(where, database=database, collection_name=DATA,
                                   mongoclient_kwargs=client)
    else:
        folder = store_folder(where)
        docs = LockedMontyStore(OUTPUTS, database_path=str(folder), database_name=database,
                                storage="sqlite")
        data = LockedMontyStore(DATA, database_path=str(folder), database_name=database,
                                storage="sqlite")
    return ResultStore(docs, additional_stores={"data": data})
