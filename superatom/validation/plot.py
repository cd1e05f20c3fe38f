"""Parity plot of a validation run: computed vs reference for the numeric items, and the
computed differences of the ordering items against their zero line.

Examples
--------
>>> from superatom.validation.references import reference
>>> from superatom.validation.suite import Outcome
>>> rows = [Outcome(reference("dft-oh-detachment"), 1.67, "pass", "", 1.0),
...         Outcome(reference("xtb-keggin-lumo-order"), 0.47, "pass", "", 1.0)]
>>> fig = parity_figure(rows)
>>> [ax.get_title() for ax in fig.axes]
['numeric references', 'orderings and bounds']
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from superatom.validation.suite import Outcome

__all__ = ["parity_figure", "save_parity_plot"]

_COLOUR = {"pass": "tab:green", "fail": "tab:red"}


def parity_figure(rows: list[Outcome]) -> Figure:
    """Two panels: computed vs reference (``value`` items, tolerance as error bars, y = x
    line) and a bar per ``order``/``below`` item (computed, with its threshold)."""
    done = [r for r in rows if r.computed is not None]
    numeric = [r for r in done if r.ref.kind == "value"]
    bounds = [r for r in done if r.ref.kind != "value"]
    fig = Figure(figsize=(11.0, 5.0))
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    for row in numeric:
        left.errorbar(row.ref.value, row.computed, xerr=row.ref.tolerance, fmt="o",
                      color=_COLOUR[row.status], capsize=3)
        left.annotate(row.ref.key, (row.ref.value, row.computed), fontsize=7,
                      xytext=(4, 4), textcoords="offset points")
    values = [v for r in numeric for v in (r.ref.value, r.computed)] or [0.0, 1.0]
    span = np.array([min(values) - 0.5, max(values) + 0.5])
    left.plot(span, span, "k--", lw=0.8)
    left.set(xlabel="reference (eV or V)", ylabel="computed (eV or V)",
             title="numeric references")
    y = np.arange(len(bounds))
    right.barh(y, [r.computed for r in bounds], color=[_COLOUR[r.status] for r in bounds])
    for k, row in enumerate(bounds):
        limit = 0.0 if row.ref.kind == "order" else row.ref.value
        right.plot([limit, limit], [k - 0.4, k + 0.4], "k-", lw=1.5)
    right.set_yticks(y, [r.ref.key for r in bounds], fontsize=7)
    right.axvline(0.0, color="grey", lw=0.5)
    right.set(xlabel="computed (difference > 0, or ratio/eV below the black mark)",
              title="orderings and bounds")
    fig.tight_layout()
    return fig


def save_parity_plot(rows: list[Outcome], path: str | Path) -> Path:
    """Write :func:`parity_figure` to ``path`` (PNG, PDF or SVG by suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    parity_figure(rows).savefig(path, dpi=150)
    return path
