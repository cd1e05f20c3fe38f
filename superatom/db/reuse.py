"""Find a stored, complete result of an identical input (same input hash) and record who
reuses it.

A reusing job stores a small document of its own (its labels, campaign, ``reused_from``) whose
arrays are a link to the original's (see :class:`superatom.db.store.ResultStore`); the
original keeps the list of labels it was reused under in ``output.aliases``.
"""

from __future__ import annotations

import contextlib
from typing import Any


def arrays_present(store, output: dict[str, Any]) -> bool:
    """True when every array blob the output document points to is in its data store."""
    for value in output.values():
        if isinstance(value, dict) and "blob_uuid" in value:
            data = store.additional_stores.get(value.get("store", "data"))
            if data is None or data.query_one({"blob_uuid": value["blob_uuid"]},
                                              properties=["blob_uuid"]) is None:
                return False
    return True


def settings_problem(output: Any) -> str | None:
    """Why the DFT settings stored with ``output`` (model or dict) would not load, or None.

    xTB results (no basis) and documents without settings have none to check.

    Examples
    --------
    >>> settings_problem({"settings": {"xc": "PBE0", "basis": "sto-3g", "max_memory_mb": -4000}})
    "invalid setting 'max_memory_mb': Input should be greater than or equal to 100"
    >>> settings_problem({"settings": {"xc": "GFN2-xTB", "basis": None}}) is None
    True
    """
    from superatom.calc_settings import CalcSettings, settings_from_dict
    from superatom.errors import InputError

    settings = output.get("settings") if isinstance(output, dict) else getattr(
        output, "settings", None)
    if not isinstance(settings, dict) or settings.get("basis") is None:
        return None
    try:
        settings_from_dict({k: v for k, v in settings.items() if k in CalcSettings.model_fields})
    except InputError as err:
        return str(err)
    return None


def output_problem(output: dict[str, Any]) -> str | None:
    """Why a stored output (arrays not loaded) would not load into its model, or None."""
    from pydantic import ValidationError

    from superatom.schemas.registry import doc_model

    try:
        model = doc_model(output)
    except KeyError:
        return None
    blobs = {k: None for k, v in output.items() if isinstance(v, dict) and "blob_uuid" in v}
    try:
        model.model_validate({**output, **blobs})
    except ValidationError as err:
        first = err.errors()[0]
        return f"{'.'.join(str(x) for x in first['loc'])}: {first['msg']}"
    return settings_problem(output)


def find_reusable(store, digest: str, extra: dict[str, Any] | None = None) -> dict | None:
    """Newest stored, computed (not itself reused) and complete output with this input hash.

    Returns ``{"uuid": ..., "output": {...}}`` with the output as stored (arrays not loaded,
    they stay in the data store) or None. A document whose arrays are missing (written by an
    older version that was killed between the two writes) or that would not load (settings
    or fields this version refuses) is never returned.
    """
    if store is None:
        return None
    candidates = store.query(
        {"output.input_hash": digest, "output.reused_from": None, **(extra or {})},
        properties=["uuid", "output"],
        sort={"completed_at": -1},
    )
    for candidate in candidates:
        output = candidate.get("output") or {}
        if output_problem(output) is None and arrays_present(store, output):
            return candidate
    return None


def record_alias(store, uuid: str, label: str | None) -> None:
    """Add ``label`` to ``output.aliases`` of the stored result ``uuid`` (no arrays copied)."""
    if store is None or not label:
        return
    docs = store.docs_store
    lock = docs._write_lock() if hasattr(docs, "_write_lock") else contextlib.nullcontext()
    with lock:
        docs._collection.update_one({"uuid": uuid, "output.name": {"$ne": label}},
                                    {"$addToSet": {"output.aliases": label}})


def with_arrays(store, doc: Any) -> Any:
    """``doc`` (model or dict) with its arrays: a reused result without them gets those of
    the result it reuses, loaded from ``store``."""
    get = doc.get if isinstance(doc, dict) else lambda key: getattr(doc, key, None)
    if store is None or get("orbitals") is not None or not get("reused_from"):
        return doc
    original = store.query_one({"uuid": get("reused_from")}, properties=["output"], load=True)
    arrays = ((original or {}).get("output") or {}).get("orbitals")
    if isinstance(doc, dict):
        return {**doc, "orbitals": arrays}
    return type(doc)(**{**doc.model_dump(), "orbitals": arrays})


def reuse_record(model, previous: dict[str, Any], labels: dict[str, Any], store,
                 job_uuid: str | None):
    """This job's own small document for the stored result ``previous``.

    It takes the stored values, but the labels (name, class, campaign, n_units, tags) of the
    job that reuses it (``labels`` from ``model.describe``), never those of the earlier run;
    no arrays (the store links the original's), and the new name is recorded as an alias of
    the original.

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> from superatom.schemas.documents import SystemRecord
    >>> h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
    >>> stored = {**SystemRecord.describe(h2, {"name": "old"}), "input_hash": "x"}
    >>> new = SystemRecord.describe(h2, {"name": "new"})
    >>> reuse_record(SystemRecord, {"uuid": "u1", "output": stored}, new, None, "j2").name
    'new'
    """
    from superatom.schemas.documents import LABEL_KEYS

    stored = {k: v for k, v in previous["output"].items() if k not in ("orbitals", "aliases")}
    own = {k: labels[k] for k in (*LABEL_KEYS, "tags")}
    doc = model.model_validate({**stored, **own})
    doc.reused_from = previous["uuid"]
    doc.job_uuid = job_uuid
    record_alias(store, previous["uuid"], doc.name)
    return doc

