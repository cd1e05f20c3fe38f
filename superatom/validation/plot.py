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
    """A panel for each kind of item the run computed: computed vs reference (``value``
    items, tolerance as error bars, y = x line) and a bar per ``order``/``below`` item
    (computed, its threshold as a black mark, the value written at its end). A run with
    nothing computed gives one panel that says so.

    Examples
    --------
    >>> from superatom.validation.references import reference
    >>> from superatom.validation.suite import Outcome
    >>> only = [Outcome(reference("dft-keggin-lumo-order"), 0.43, "pass", "", 1.0)]
    >>> [ax.get_title() for ax in parity_figure(only).axes]
    ['orderings and bounds']
    """
    done = [r for r in rows if r.computed is not None]
    numeric = [r for r in done if r.ref.kind == "value"]
    bounds = [r for r in done if r.ref.kind != "value"]
    panels = int(bool(numeric)) + int(bool(bounds))
    fig = Figure(figsize=(5.5 * max(panels, 1), 5.0))
    FigureCanvasAgg(fig)
    axes = list(np.atleast_1d(fig.subplots(1, max(panels, 1))))
    if not panels:
        axes[0].text(0.5, 0.5, "no item was computed", ha="center", va="center")
        axes[0].set_axis_off()
    if numeric:
        _parity_panel(axes.pop(0), numeric)
    if bounds:
        _bounds_panel(axes.pop(0), bounds)
    fig.tight_layout()
    return fig


def _parity_panel(ax, numeric: list[Outcome]) -> None:
    for row in numeric:
        ax.errorbar(row.ref.value, row.computed, xerr=row.ref.tolerance, fmt="o",
                    color=_COLOUR[row.status], capsize=3)
        ax.annotate(row.ref.key, (row.ref.value, row.computed), fontsize=7,
                    xytext=(4, 4), textcoords="offset points")
    values = [v for r in numeric for v in (r.ref.value, r.computed)]
    span = np.array([min(values) - 0.5, max(values) + 0.5])
    ax.plot(span, span, "k--", lw=0.8)
    ax.set(xlabel="reference (eV or V)", ylabel="computed (eV or V)",
           title="numeric references")


def _bounds_panel(ax, bounds: list[Outcome]) -> None:
    y = np.arange(len(bounds))
    ax.barh(y, [r.computed for r in bounds], height=0.5,
            color=[_COLOUR[r.status] for r in bounds])
    for k, row in enumerate(bounds):
        limit = 0.0 if row.ref.kind == "order" else row.ref.value
        ax.plot([limit, limit], [k - 0.35, k + 0.35], "k-", lw=1.5)
        ax.annotate(f"{row.computed:.3g}", (row.computed, k), fontsize=7,
                    xytext=(3, 0), textcoords="offset points", va="center")
    ax.set_yticks(y, [r.ref.key for r in bounds], fontsize=7)
    ax.set_ylim(-0.75, len(bounds) - 0.25)
    ax.axvline(0.0, color="grey", lw=0.5)
    ax.margins(x=0.12)
    ax.set(xlabel="computed (difference > 0, or ratio/eV below the black mark)",
           title="orderings and bounds")


def save_parity_plot(rows: list[Outcome], path: str | Path) -> Path:
    """Write :func:`parity_figure` to ``path`` (PNG, PDF or SVG by suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    parity_figure(rows).savefig(path, dpi=150)
    return path
