"""A mongomock-backed maggma store shared by every Store object of the process.

maggma's ``MemoryStore`` opens a fresh mongomock client on each ``connect`` and wipes
it on ``close``, so the queue written by ``submit_flow`` and the one read by the
jobflow-remote Runner (each builds its own Store from the project) would never meet.
:class:`SharedMongomockStore` keeps one mongomock client per ``server`` name for the
whole process and ignores ``close``; it subclasses ``MongoStore`` because
jobflow-remote requires the queue store to be one.

Only in-process use works: the SLURM batch jobs never touch the database (the
Runner uploads the job as JSON and reads the output file back), so this is enough
for tests and for the single-process "mongomock" mode.

Examples
--------
>>> from superatom.hpc.mockstore import SharedMongomockStore, reset_shared_mongomock
>>> a = SharedMongomockStore("demo", "jobs"); a.connect()
>>> _ = a._collection.insert_one({"x": 1})
>>> b = SharedMongomockStore("demo", "jobs"); b.connect()
>>> b._collection.count_documents({})
1
>>> reset_shared_mongomock()
"""

from __future__ import annotations

import threading
from typing import Any

from maggma.stores import MongoStore

try:  # maggma itself uses mongomock_ng (maintained fork, pymongo 4 compatible)
    import mongomock_ng as _mongomock
except ImportError:  # pragma: no cover - depends on the installed maggma
    import mongomock as _mongomock

__all__ = ["SharedMongomockStore", "reset_shared_mongomock", "shared_mongomock_client"]

_CLIENTS: dict[str, Any] = {}
_LOCK = threading.Lock()


def shared_mongomock_client(server: str = "default") -> Any:
    """Return the process-wide mongomock ``MongoClient`` called ``server``."""
    with _LOCK:
        if server not in _CLIENTS:
            _CLIENTS[server] = _mongomock.MongoClient()
        return _CLIENTS[server]


def reset_shared_mongomock(server: str | None = None) -> None:
    """Forget one (or, with None, every) shared in-memory server and its data."""
    with _LOCK:
        for name in [server] if server else list(_CLIENTS):
            _CLIENTS.pop(name, None)


class SharedMongomockStore(MongoStore):
    """``MongoStore`` API on a process-wide mongomock server.

    Parameters
    ----------
    database, collection_name
        As for ``MongoStore``.
    server
        Name of the in-memory server; stores with the same name share data.
    **kwargs
        Passed to ``maggma.stores.Store`` (``key``, ``last_updated_field``...).
    """

    def __init__(
        self,
        database: str,
        collection_name: str,
        server: str = "default",
        **kwargs: Any,
    ) -> None:
        self.server = server
        super().__init__(database=database, collection_name=collection_name, **kwargs)

    @property
    def name(self) -> str:
        """Unique name of the store."""
        return f"mongomock://{self.server}/{self.database}/{self.collection_name}"

    def connect(self, force_reset: bool = False) -> None:
        """Attach to the shared client (data survive ``force_reset``)."""
        if self._coll is None or force_reset:
            client = shared_mongomock_client(self.server)
            self._coll = client[self.database][self.collection_name]

    def close(self) -> None:
        """Do nothing: closing a mongomock client would wipe the shared data."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SharedMongomockStore):
            return False
        return (self.server, self.database, self.collection_name) == (
            other.server,
            other.database,
            other.collection_name,
        )

    def __hash__(self) -> int:
        return hash((self.server, self.database, self.collection_name))
