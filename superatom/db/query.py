"""Queries of stored frontier-orbital results (eV, Angstrom)."""

from __future__ import annotations

import re
from typing import Any

from jobflow import JobStore

from superatom.errors import InputError
from superatom.schemas.documents import FrontierOrbitalDoc
from superatom.schemas.registry import doc_type_of

SUMMARY_FIELDS = [
    "uuid", "output.name", "output.formula", "output.charge", "output.multiplicity",
    "output.method", "output.preset", "output.homo_ev", "output.lumo_ev", "output.gap_ev",
    "output.e_tot_ha",
    "output.converged", "output.system_class", "output.campaign", "output.n_units",
    "output.device", "output.created_at", "output.input_hash", "output.reused_from",
    "output.aliases",
]


def _connected(store: JobStore | None) -> JobStore:
    from superatom.db.store import open_store

    store = store or open_store()
    store.connect()
    return store


def build_filter(
    formula: str | None = None,
    system_class: str | None = None,
    campaign: str | None = None,
    elements: list[str] | None = None,
    functional: str | None = None,
    basis: str | None = None,
    preset: str | None = None,
    n_units: int | None = None,
    gap_min: float | None = None,
    gap_max: float | None = None,
    since: str | None = None,
) -> dict[str, Any]:
    """Mongo-style filter on frontier-orbital documents; every argument is optional.

    Examples
    --------
    >>> build_filter(formula="H2O1", gap_min=1.0)["output.gap_ev"]
    {'$gte': 1.0}
    """
    # results of one system: frontier-orbital and xTB documents (not TDA excitations)
    criteria: dict[str, Any] = {"output.input_hash": {"$exists": True},
                                "output.doc_type": {"$ne": "tda"}}
    if formula:
        criteria["$or"] = [{"output.formula": formula}, {"output.reduced_formula": formula}]
    if system_class:
        criteria["output.system_class"] = system_class
    if campaign:
        criteria["output.campaign"] = campaign
    if elements:
        criteria["output.elements"] = {"$all": list(elements)}
    if functional:
        criteria["output.settings.xc"] = functional
    if basis:
        criteria["output.settings.basis"] = basis.lower()
    if preset:
        criteria["output.preset"] = preset
    if n_units is not None:
        criteria["output.n_units"] = n_units
    gap: dict[str, float] = {}
    if gap_min is not None:
        gap["$gte"] = gap_min
    if gap_max is not None:
        gap["$lte"] = gap_max
    if gap:
        if gap_min is not None and gap_max is not None and gap_min > gap_max:
            raise InputError(f"gap range {gap_min} to {gap_max} eV is empty: give the smaller "
                             "value as --gap-min")
        criteria["output.gap_ev"] = gap
    if since:
        criteria["completed_at"] = {"$gte": parse_since(since)}
    return criteria


def parse_since(text: str) -> str:
    """An ISO date or date-time as the ISO text jobflow stores in ``completed_at``.

    Examples
    --------
    >>> parse_since("2026-11-01")
    '2026-11-01T00:00:00'
    """
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=None).isoformat()
    except ValueError:
        raise InputError(f"--since '{text}' is not an ISO date: write it as YYYY-MM-DD or "
                         "YYYY-MM-DDTHH:MM") from None


def _flatten(doc: dict[str, Any]) -> dict[str, Any]:
    out = {"uuid": doc.get("uuid")}
    out.update({k: v for k, v in (doc.get("output") or {}).items()})
    return out


def query_results(store: JobStore | None = None, **filters: Any) -> list[dict[str, Any]]:
    """Summary rows (uuid, formula, method, HOMO/LUMO/gap in eV, ...) newest first.

    Keyword arguments are those of :func:`build_filter`.
    """
    store = _connected(store)
    rows = store.query(
        build_filter(**filters), properties=SUMMARY_FIELDS, sort={"completed_at": -1}
    )
    return unique_results([_flatten(row) for row in rows])


def unique_results(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest row of every (input hash, name, campaign): a result reused under the same
    label (``superatom run`` twice) is listed once; another label is its own row.

    Examples
    --------
    >>> rows = [{"uuid": "b", "input_hash": "h", "name": "w"}, {"uuid": "a", "input_hash": "h",
    ...         "name": "w"}, {"uuid": "c", "input_hash": "h", "name": "x"}]
    >>> [row["uuid"] for row in unique_results(rows)]
    ['b', 'c']
    """
    seen: set[tuple] = set()
    unique = []
    for row in rows:
        key = (row.get("input_hash"), row.get("name"), row.get("campaign"))
        if key in seen:
            continue
        seen.add(key)
        unique.append(row)
    return unique


def results_frame(store: JobStore | None = None, **filters: Any):
    """The rows of :func:`query_results` as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame(query_results(store, **filters))


def load_result(uuid: str, store: JobStore | None = None) -> FrontierOrbitalDoc:
    """Full document of one job, arrays from the ``data`` store included.

    A unique prefix of the uuid is accepted.
    """
    store = _connected(store)
    doc = store.query_one({"uuid": uuid}, load=True)
    if doc is None and len(uuid) >= 4 and re.fullmatch(r"[0-9a-fA-F-]+", uuid):
        matches = list(store.query({"uuid": {"$regex": f"^{re.escape(uuid)}"}},
                                   properties=["uuid"]))
        if len(matches) > 1:
            raise InputError(f"uuid prefix '{uuid}' matches {len(matches)} results: give more")
        if matches:
            doc = store.query_one({"uuid": matches[0]["uuid"]}, load=True)
    if doc is None:
        raise InputError(f"no stored result with uuid '{uuid}': list them with 'superatom query'")
    output = doc["output"]
    kind = doc_type_of(output)
    if kind != "frontier_orbitals":
        what = {"xtb_frontier": "a GFN2-xTB levels-only result (no orbitals)"}.get(
            kind, f"a '{kind}' document")
        raise InputError(f"result '{uuid}' is {what}: analyze and compare need a DFT "
                         "frontier-orbital result (tier dft)")
    if output.get("orbitals") is None and output.get("reused_from"):
        from superatom.db.reuse import with_arrays

        output = with_arrays(store, output)
    return FrontierOrbitalDoc.model_validate(output)
