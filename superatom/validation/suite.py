"""Run the validation items of a level and judge them against their references.

With a store, each system's result is stored and reused by input hash, and each finished
item's row is appended to the rows file (:mod:`.rows`): a rerun prints a stored row of the
same item and reference instead of recomputing it (``recompute=True`` derives it again, from
the stored results where they exist).

Examples
--------
>>> rows = run_validation("quick", keys=["xtb-lindqvist-gap-order"])
>>> rows[0].status, rows[0].reference_text, rows[0].stored
('pass', '> 0', False)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from superatom.errors import InputError, SuperatomError
from superatom.validation.checks import CHECKS, Calculations
from superatom.validation.references import REFERENCES, Reference, judge, reference
from superatom.validation.rows import append_row, latest_rows, machine, read_rows

__all__ = ["Outcome", "outcome_from_row", "reference_text", "run_validation", "select",
           "stored_outcomes"]

@dataclass
class Outcome:
    """One validation item after its run: ``status`` is pass, fail, error or not run.

    ``wall_s`` is the wall time of this run of the item; ``compute_s`` the wall time the SCF
    results it uses took when they were computed (shared ones counted in each item);
    ``stored`` says the row was read from the rows file instead of computed now.
    """

    ref: Reference
    computed: float | None
    status: str
    detail: str
    wall_s: float
    compute_s: float | None = None
    systems: list[dict[str, Any]] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    finished_at: str | None = None
    stored: bool = False

    @property
    def reference_text(self) -> str:
        return reference_text(self.ref)

    @property
    def scf_computed(self) -> int:
        """How many of the item's systems were computed (not reused) by its own run."""
        return sum(1 for s in self.systems if not s.get("reused"))

    def to_row(self) -> dict[str, Any]:
        """The row as stored and printed with ``--json``."""
        return {
            "key": self.ref.key, "level": self.ref.level, "title": self.ref.title,
            "method": self.ref.method, "computed": self.computed, "unit": self.ref.unit,
            "kind": self.ref.kind, "reference": self.ref.value,
            "tolerance": self.ref.tolerance, "reference_text": self.reference_text,
            "status": self.status, "detail": self.detail, "wall_s": self.wall_s,
            "compute_s": self.compute_s, "scf_computed": self.scf_computed,
            "scf_reused": len(self.systems) - self.scf_computed, "systems": self.systems,
            "machine": self.machine, "versions": self.versions,
            "finished_at": self.finished_at, "stored": self.stored,
        }

    def record(self) -> dict[str, Any]:
        """The row as written to a rows file (``stored`` is how a row was read, not part of
        it)."""
        row = self.to_row()
        del row["stored"]
        return row


def outcome_from_row(row: dict[str, Any]) -> Outcome | None:
    """The stored row as an Outcome of today's reference, or None when the item is gone or
    its reference (kind, value, tolerance, unit) has changed since the row was computed."""
    try:
        ref = reference(row["key"])
    except InputError:
        return None
    same = [row.get(name) == getattr(ref, name) for name in ("kind", "tolerance", "unit")]
    if not all(same) or row.get("reference") != ref.value:
        return None
    return Outcome(ref, row.get("computed"), row.get("status", "error"), row.get("detail", ""),
                   float(row.get("wall_s") or 0.0), row.get("compute_s"),
                   row.get("systems") or [], row.get("machine") or {},
                   row.get("versions") or {}, row.get("finished_at"), stored=True)


def stored_outcomes(*paths) -> dict[str, Outcome]:
    """The newest usable row of each item over the rows files ``paths`` (later files win
    ties), as Outcomes marked ``stored``."""
    rows = [row for path in paths for row in read_rows(path)]
    found = {}
    for key, row in latest_rows(rows).items():
        outcome = outcome_from_row(row)
        if outcome is not None:
            found[key] = outcome
    return found


def reference_text(ref: Reference) -> str:
    """The reference as a short string: ``> 0``, ``<= 0.25`` or ``1.83 +- 0.3``."""
    if ref.kind == "order":
        return "> 0"
    if ref.kind == "below":
        return f"<= {ref.value:g}"
    return f"{ref.value:g} +- {ref.tolerance:g}"


def select(level: str, keys: Sequence[str] | None = None) -> list[Reference]:
    """The references of ``level`` (``quick``, ``full`` = quick + full items, or one ``key``)."""
    if level not in ("quick", "full"):
        raise InputError(f"unknown validation level '{level}': use quick or full")
    if keys:
        return [reference(k) for k in keys]
    return [r for r in REFERENCES if level == "full" or r.level == "quick"]


def _versions(systems: list[dict[str, Any]]) -> dict[str, str]:
    from superatom.schemas.documents import analysis_versions

    versions = dict(analysis_versions())
    for system in systems:
        versions.update(system.get("versions") or {})
    return versions


def _compute_s(systems: list[dict[str, Any]]) -> float | None:
    """Sum of the wall times of the (distinct) results an item uses."""
    known = [s["total_s"] for s in systems if s.get("total_s") is not None]
    return float(sum(known)) if known else None


def _run_one(ref: Reference, calc: Calculations) -> Outcome:
    calc.used = []
    start = time.perf_counter()
    try:
        value, detail, extra_ok = CHECKS[ref.key](calc)
        computed, status = float(value), ("pass" if judge(ref, value) and extra_ok else "fail")
    except SuperatomError as err:
        computed, status, detail = None, "error", str(err)
    first_use = {}  # one entry per distinct result: was it computed by this item's first use
    for use in calc.used:
        first_use.setdefault(use.get("input_hash") or use["system"], use)
    systems = [{k: v for k, v in s.items() if k != "versions"} for s in first_use.values()]
    host = machine()
    devices = sorted({s["device"] for s in systems if s.get("device")})
    gpus = sorted({s["device_name"] for s in systems
                   if s.get("device") == "gpu" and s.get("device_name")})
    host.update(device=",".join(devices) or "cpu", gpu=", ".join(gpus) or None)
    return Outcome(ref, computed, status, detail, time.perf_counter() - start,
                   _compute_s(systems), systems, host, _versions(calc.used),
                   datetime.now(UTC).isoformat(timespec="seconds"))


def run_validation(level: str = "quick", keys: Sequence[str] | None = None,
                   device: str = "auto",
                   progress: Callable[[Reference], None] | None = None,
                   store=None, rows_file: str | os.PathLike | None = None,
                   recompute: bool = False) -> list[Outcome]:
    """Compute and judge every item of ``level`` (or just ``keys``); failures of one item
    (an SCF that does not converge) are reported as ``error`` and the rest still run.

    ``store``: a jobflow ``JobStore`` where each system's result is stored and reused.
    ``rows_file``: each finished row is appended there, and a pass/fail row of the same item
    and reference already there is returned (``stored``) instead of computed again, unless
    ``recompute``. Rows that ended in ``error`` are always computed again.
    """
    calc = Calculations(device=device, store=store)
    done = {} if rows_file is None or recompute else stored_outcomes(rows_file)
    rows = []
    for ref in select(level, keys):
        previous = done.get(ref.key)
        if previous is not None and previous.status in ("pass", "fail"):
            rows.append(previous)
            continue
        if progress is not None:
            progress(ref)
        outcome = _run_one(ref, calc)
        if rows_file is not None:
            append_row(rows_file, outcome.record())
        rows.append(outcome)
    return rows
