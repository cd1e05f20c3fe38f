"""Results database: open the JobStore and query stored frontier-orbital results.

Examples
--------
>>> import tempfile
>>> from superatom.db import open_store, query_results
>>> query_results(store=open_store(tempfile.mkdtemp()))
[]
"""

from __future__ import annotations

from superatom.db.query import load_result, query_results, results_frame
from superatom.db.store import open_store, store_location

__all__ = ["load_result", "open_store", "query_results", "results_frame", "store_location"]
