"""Run the validation items of a level and judge them against their references.

Examples
--------
>>> rows = run_validation("quick", keys=["xtb-lindqvist-gap-order"])
>>> rows[0].status, rows[0].reference_text
('pass', '> 0')
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from superatom.errors import InputError, SuperatomError
from superatom.validation.checks import CHECKS, Calculations
from superatom.validation.references import REFERENCES, Reference, judge, reference

__all__ = ["Outcome", "reference_text", "run_validation", "select"]


@dataclass
class Outcome:
    """One validation item after its run: ``status`` is pass, fail, error or not run."""

    ref: Reference
    computed: float | None
    status: str
    detail: str
    wall_s: float

    @property
    def reference_text(self) -> str:
        return reference_text(self.ref)


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


def run_validation(level: str = "quick", keys: Sequence[str] | None = None,
                   device: str = "auto",
                   progress: Callable[[Reference], None] | None = None) -> list[Outcome]:
    """Compute and judge every item of ``level`` (or just ``keys``); failures of one item
    (an SCF that does not converge) are reported as ``error`` and the rest still run."""
    calc = Calculations(device=device)
    rows = []
    for ref in select(level, keys):
        if progress is not None:
            progress(ref)
        start = time.perf_counter()
        try:
            value, detail, extra_ok = CHECKS[ref.key](calc)
        except SuperatomError as err:
            rows.append(Outcome(ref, None, "error", str(err), time.perf_counter() - start))
            continue
        passed = judge(ref, value) and extra_ok
        rows.append(Outcome(ref, float(value), "pass" if passed else "fail", detail,
                            time.perf_counter() - start))
    return rows
