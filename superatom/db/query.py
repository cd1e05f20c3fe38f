"""Queries of stored frontier-orbital results (eV, Angstrom)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from jobflow import JobStore
from pymatgen.core import Composition

from superatom.db.reuse import with_arrays
from superatom.errors import InputError
from superatom.schemas.documents import FrontierOrbitalDoc
from superatom.schemas.registry import doc_type_of

SUMMARY_FIELDS = [
    "uuid", "completed_at", "output.name", "output.formula", "output.reduced_formula",
    "output.formula_pretty", "output.formula_alphabetical", "output.chemsys",
    "output.elements", "output.charge", "output.multiplicity",
    "output.method", "output.preset", "output.settings.xc", "output.settings.basis",
    "output.homo_ev", "output.lumo_ev", "output.gap_ev", "output.e_tot_ha",
    "output.converged", "output.system_class", "output.campaign", "output.n_units",
    "output.device", "output.created_at", "output.input_hash", "output.reused_from",
    "output.aliases",
]
_AGES = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _connected(store: JobStore | None) -> JobStore:
    from superatom.db.store import open_store

    store = store or open_store()
    store.connect()
    return store


def parse_composition(formula: str) -> Composition:
    """A formula in any element order (``CH4``, ``H4C``, ``C1 H4``) as a Composition."""
    try:
        comp = Composition(formula)
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"cannot read formula '{formula}': write it like CH4 or PW12O40 "
                         f"({err})") from None
    if not comp.valid or not len(comp):
        raise InputError(f"cannot read formula '{formula}': write it like CH4 or PW12O40")
    return comp


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """Start of a time window: ISO date/time, ``today``, ``yesterday`` or an age like ``7d``.

    Ages take ``m`` (minutes), ``h``, ``d`` or ``w``. Naive times are local time, as jobflow
    writes ``completed_at``.

    Examples
    --------
    >>> now = datetime(2026, 11, 23, 15, 0)
    >>> parse_since("7d", now).isoformat()
    '2026-11-16T15:00:00'
    >>> parse_since("today", now).isoformat()
    '2026-11-23T00:00:00'
    >>> parse_since("2026-11-01", now).isoformat()
    '2026-11-01T00:00:00'
    """
    now = now or datetime.now()
    word = text.strip().lower()
    if word == "today":
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    if word == "yesterday":
        return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([mhdw])", word)
    if match:
        return now - timedelta(seconds=float(match[1]) * _AGES[match[2]])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"cannot read date '{text}': use an ISO date (2026-11-01), "
                         "'today', 'yesterday' or an age such as 7d or 12h") from None
    return _local_naive(when)


def _local_naive(when: datetime) -> datetime:
    """``when`` as a naive local time (aware times are converted, naive ones kept)."""
    return when.astimezone().replace(tzinfo=None) if when.tzinfo else when


def _stored_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return _local_naive(value)
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return _local_naive(when)


def build_filter(
    formula: str | None = None,
    system_class: str | None = None,
    campaign: str | None = None,
    elements: list[str] | None = None,
    chemsys: str | None = None,
    functional: str | None = None,
    basis: str | None = None,
    preset: str | None = None,
    n_units: int | None = None,
    gap_min: float | None = None,
    gap_max: float | None = None,
    since: str | None = None,
) -> dict[str, Any]:
    """Mongo-style pre-filter on frontier-orbital documents; every argument is optional.

    Formulas, element sets, methods and dates are matched exactly afterwards by
    :func:`matches` (any element order, case-insensitive methods, parsed dates).

    Examples
    --------
    >>> build_filter(formula="CH4", gap_min=1.0)["output.gap_ev"]
    {'$gte': 1.0}
    >>> build_filter(formula="CH4")["output.elements"]
    {'$all': ['C', 'H']}
    """
    # results of one system: frontier-orbital and xTB documents (not TDA excitations or
    # energy decompositions)
    criteria: dict[str, Any] = {"output.input_hash": {"$exists": True},
                                "output.doc_type": {"$nin": ["tda", "eda"]}}
    wanted = set(elements or [])
    if formula:
        wanted |= {el.symbol for el in parse_composition(formula)}
    if chemsys:
        wanted |= _chemsys_set(chemsys)
    if wanted:
        criteria["output.elements"] = {"$all": sorted(wanted)}
    if system_class:
        criteria["output.system_class"] = system_class
    if campaign:
        criteria["output.campaign"] = campaign
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
    return criteria


def _chemsys_set(chemsys: str) -> set[str]:
    from pymatgen.core import Element

    symbols = {s.strip() for s in re.split(r"[-,\s]+", chemsys) if s.strip()}
    for symbol in symbols:
        if not Element.is_valid_symbol(symbol):
            raise InputError(f"unknown element '{symbol}' in '{chemsys}': write e.g. P-W-O")
    return symbols


def matches(row: dict[str, Any], formula: str | None = None, chemsys: str | None = None,
            functional: str | None = None, basis: str | None = None,
            since: str | None = None, **_: Any) -> bool:
    """Whether a flattened summary row matches the formula, element set, method and date.

    ``formula`` matches the full composition in any element order, on the new
    ``formula_alphabetical``/``formula_pretty`` fields when stored and on ``formula``
    otherwise; ``chemsys`` is the exact element set; ``functional`` and ``basis`` ignore case.

    Examples
    --------
    >>> row = {"formula": "H4C1", "elements": ["H", "C"], "settings": {"xc": "PBE0"}}
    >>> matches(row, formula="CH4", functional="pbe0"), matches(row, formula="C2H8")
    (True, False)
    >>> matches(row, chemsys="C-H"), matches(row, chemsys="C-H-O")
    (True, False)
    """
    return _row_matches(row, *_parsed(formula, chemsys, since), functional, basis)


def _parsed(formula: str | None, chemsys: str | None,
            since: str | None) -> tuple[Composition | None, set[str] | None, datetime | None]:
    """The formula, element set and start time of :func:`matches`, read once (None: unset)."""
    return (parse_composition(formula) if formula else None,
            _chemsys_set(chemsys) if chemsys else None,
            parse_since(since) if since else None)


def _row_matches(row: dict[str, Any], composition: Composition | None,
                 elements: set[str] | None, start: datetime | None,
                 functional: str | None, basis: str | None) -> bool:
    """:func:`matches` on already parsed filters."""
    settings = row.get("settings") or {}
    if composition is not None:
        stored = row.get("formula_alphabetical") or row.get("formula")
        if not stored or Composition(stored) != composition:
            return False
    if elements is not None:
        stored_set = set((row.get("chemsys") or "").split("-")) - {""} or set(
            row.get("elements") or [])
        if stored_set != elements:
            return False
    if functional and str(settings.get("xc", "")).lower() != functional.lower():
        return False
    if basis and str(settings.get("basis", "")).lower() != basis.lower():
        return False
    if start is not None:
        when = _stored_time(row.get("completed_at") or row.get("created_at"))
        if when is None or when < start:
            return False
    return True


def _flatten(doc: dict[str, Any]) -> dict[str, Any]:
    out = {"uuid": doc.get("uuid"), "completed_at": doc.get("completed_at")}
    out.update({k: v for k, v in (doc.get("output") or {}).items()})
    return out


def query_results(store: JobStore | None = None, **filters: Any) -> list[dict[str, Any]]:
    """Summary rows (uuid, formula, method, HOMO/LUMO/gap in eV, ...) newest first.

    Keyword arguments are those of :func:`build_filter`.
    """
    # read once for every row; a bad date is an error even on an empty store
    parsed = _parsed(filters.get("formula"), filters.get("chemsys"), filters.get("since"))
    store = _connected(store)
    rows = store.query(
        build_filter(**filters), properties=SUMMARY_FIELDS, sort={"completed_at": -1}
    )
    return unique_results([
        row for row in map(_flatten, rows)
        if _row_matches(row, *parsed, filters.get("functional"), filters.get("basis"))
    ])


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
    return newest_by(rows, ("input_hash", "name", "campaign"))


def newest_by(rows: list[dict[str, Any]], key: tuple[str, ...]) -> list[dict[str, Any]]:
    """The first row of every value of the ``key`` fields, in the order of ``rows`` (the
    newest row when they arrive newest first).

    Examples
    --------
    >>> rows = [{"n": "a", "t": 2}, {"n": "b", "t": 2}, {"n": "a", "t": 1}]
    >>> newest_by(rows, ("n",))
    [{'n': 'a', 't': 2}, {'n': 'b', 't': 2}]
    """
    seen: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(tuple(row.get(k) for k in key), row)
    return list(seen.values())


def results_frame(store: JobStore | None = None, **filters: Any):
    """The rows of :func:`query_results` as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame(query_results(store, **filters))


def resolve_uuid(uuid: str, store: JobStore | None = None) -> str:
    """The full job uuid of a stored result given by its uuid or a unique prefix of it."""
    store = _connected(store)
    if store.query_one({"uuid": uuid}, properties=["uuid"]) is not None:
        return uuid
    if len(uuid) >= 4 and re.fullmatch(r"[0-9a-fA-F-]+", uuid):
        matches = list(store.query({"uuid": {"$regex": f"^{re.escape(uuid)}"}},
                                   properties=["uuid"]))
        if len(matches) > 1:
            raise InputError(f"uuid prefix '{uuid}' matches {len(matches)} results: give more")
        if matches:
            return matches[0]["uuid"]
    raise InputError(f"no stored result with uuid '{uuid}': list them with 'superatom query'")


def load_result(uuid: str, store: JobStore | None = None) -> FrontierOrbitalDoc:
    """Full document of one job, arrays from the ``data`` store included.

    A unique prefix of the uuid is accepted.
    """
    store = _connected(store)
    doc = store.query_one({"uuid": resolve_uuid(uuid, store)}, load=True)
    output = doc["output"]
    kind = doc_type_of(output)
    if kind != "frontier_orbitals":
        what = {"xtb_frontier": "a GFN2-xTB levels-only result (no orbitals)"}.get(
            kind, f"a '{kind}' document")
        raise InputError(f"result '{uuid}' is {what}: analyze and compare need a DFT "
                         "frontier-orbital result (tier dft)")
    return FrontierOrbitalDoc.model_validate(with_arrays(store, output))
