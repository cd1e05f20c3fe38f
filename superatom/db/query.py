"""Queries of stored frontier-orbital results (eV, Angstrom)."""

from __future__ import annotations

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
        criteria["output.gap_ev"] = gap
    if since:
        criteria["completed_at"] = {"$gte": since}
    return criteria


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
    return [_flatten(row) for row in rows]


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
    if doc is None and len(uuid) >= 4:
        matches = list(store.query({"uuid": {"$regex": f"^{uuid}"}}, properties=["uuid"]))
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
    return FrontierOrbitalDoc.model_validate(output)
