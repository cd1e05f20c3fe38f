"""Matplotlib figures of the analysis results (every function returns Axes).

Figures are built on the Agg canvas without pyplot, so nothing here changes the backend or
opens windows; pass your own ``ax`` to draw into an interactive figure instead.

Examples
--------
>>> from superatom.analysis.chain import chain_scaling
>>> ax = plot_chain(chain_scaling([1, 2, 3], [-6.0, -5.6, -5.4], [-1.0, -1.4, -1.6]))
>>> ax.get_xlabel()
'number of units n'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from superatom.analysis.chain import ChainScalingResult, chain_x

LEVEL_HALF_WIDTH = 0.3


def _axes(ax: Axes | None, size=(6.0, 5.0)) -> Axes:
    if ax is None:
        fig = Figure(figsize=size)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
    return ax


def save_figure(ax: Axes, path: str | Path, dpi: int = 150) -> Path:
    """Save the figure of ``ax`` as PNG/PDF/SVG (format from the suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = ax.figure
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path


def _columns(monomers: list[str]) -> dict[str, float]:
    """x position of each monomer column: first left (0), second right (2), then further out."""
    out = {}
    for k, name in enumerate(monomers):
        side = -1 if k % 2 == 0 else 1
        out[name] = 1.0 + side * (1.0 + k // 2)
    return out


def plot_correlation_diagram(result, spin: int = 0, ax: Axes | None = None,
                             emin: float | None = None, emax: float | None = None) -> Axes:
    """Monomer | assembly | monomer level diagram.

    ``result`` is a :class:`CorrelationResult` or an :class:`InteractionResult`. Assembly
    levels are coloured by the share of the first monomer (blue) vs the others (red); dashed
    lines join levels with |<phi|psi>|^2 above the threshold (darker = larger); HOMO and LUMO
    are labelled.
    """
    corr = getattr(result, "correlation", result)
    chan = corr.channels[spin]
    ax = _axes(ax)
    xs = _columns(corr.monomers)
    cmap = colormaps.get_cmap("coolwarm")
    pos = {}
    for lev in chan.monomer_levels:
        x = xs[lev.monomer]
        colour = cmap(0.0 if x < 1 else 1.0)
        ax.hlines(lev.energy_ev, x - LEVEL_HALF_WIDTH, x + LEVEL_HALF_WIDTH, color=colour, lw=2)
        pos[(lev.monomer, lev.index)] = (x, lev.energy_ev)
        if lev.label in ("HOMO", "LUMO"):
            ax.annotate(lev.label, (x, lev.energy_ev), textcoords="offset points",
                        xytext=(0, 3), ha="center", fontsize=7)
    first = corr.monomers[0]
    for lev in chan.assembly_levels:
        total = sum(lev.monomer_weights.values()) or 1.0
        share = 1.0 - lev.monomer_weights.get(first, 0.0) / total
        ax.hlines(lev.energy_ev, 1 - LEVEL_HALF_WIDTH, 1 + LEVEL_HALF_WIDTH,
                  color=cmap(share), lw=2.5)
        pos[("assembly", lev.index)] = (1.0, lev.energy_ev)
        if lev.label in ("HOMO", "LUMO"):
            ax.annotate(lev.label, (1.0, lev.energy_ev), textcoords="offset points",
                        xytext=(0, 3), ha="center", fontsize=8, weight="bold")
    for link in chan.links:
        start = pos.get((link.monomer, link.monomer_orbital))
        end = pos.get(("assembly", link.assembly_orbital))
        if start is None or end is None:
            continue
        sx = start[0] + (LEVEL_HALF_WIDTH if start[0] < 1 else -LEVEL_HALF_WIDTH)
        ex = 1 - LEVEL_HALF_WIDTH if start[0] < 1 else 1 + LEVEL_HALF_WIDTH
        ax.plot([sx, ex], [start[1], end[1]], ls="--", lw=0.8, color="0.3",
                alpha=float(min(1.0, 0.2 + link.weight)))
    ax.set_xticks([*xs.values(), 1.0], [*xs.keys(), corr.assembly])
    ax.set_ylabel("orbital energy (eV)")
    title = "orbital correlation" + ("" if chan.spin == "restricted" else f" ({chan.spin})")
    ax.set_title(title)
    if emin is not None or emax is not None:
        ax.set_ylim(emin, emax)
    return ax


def plot_dos(dos, partition: str | None = "fragment", opdos=None,
             ax: Axes | None = None) -> Axes:
    """Total DOS, the PDOS of one partition (fragment/element/angular/element_angular) and
    optionally an OPDOS curve (:class:`OPDOSResult`, on a twin axis); HOMO/LUMO dotted."""
    ax = _axes(ax, (7.0, 4.0))
    energies = np.asarray(dos.energies_ev)
    ax.plot(energies, dos.total, color="k", lw=1.5, label="total")
    if partition and partition in dos.pdos:
        for name, curve in dos.pdos[partition].items():
            ax.plot(energies, curve, lw=1.0, label=name)
    ax.axvline(dos.homo_ev, color="0.5", ls=":", lw=1)
    if dos.lumo_ev is not None:
        ax.axvline(dos.lumo_ev, color="0.5", ls=":", lw=1)
    if opdos is not None:
        twin = ax.twinx()
        twin.fill_between(opdos.energies_ev, opdos.opdos, color="tab:green", alpha=0.3,
                          label=f"OPDOS {opdos.fragment_a}-{opdos.fragment_b}")
        twin.axhline(0.0, color="tab:green", lw=0.5)
        twin.set_ylabel("overlap population (bonding > 0)")
        twin.legend(loc="upper right", fontsize=7)
    ax.set_xlabel("energy (eV)")
    ax.set_ylabel(f"DOS (states/eV, sigma = {dos.sigma_ev} eV)")
    ax.legend(loc="upper left", fontsize=7)
    return ax


def plot_chain(result: ChainScalingResult, ax: Axes | None = None) -> Axes:
    """HOMO, LUMO and gap vs n with the tight-binding fits and the n -> infinity limits."""
    ax = _axes(ax)
    n = np.asarray(result.n)
    dense = np.linspace(n.min(), max(n.max(), 2) * 3, 200)
    x = chain_x(dense)
    for fit, values, colour, name in ((result.homo_fit, result.homo_ev, "tab:blue", "HOMO"),
                                      (result.lumo_fit, result.lumo_ev, "tab:red", "LUMO")):
        ax.plot(n, values, "o", color=colour, label=name)
        ax.plot(dense, fit.alpha_ev + 2 * fit.tau_ev * x, "-", color=colour, lw=1)
        ax.axhline(fit.limit_ev, color=colour, ls=":", lw=1)
    ax.plot(n, result.gap_ev, "s", color="k", label="gap")
    ax.plot(dense, (result.lumo_fit.alpha_ev + 2 * result.lumo_fit.tau_ev * x)
            - (result.homo_fit.alpha_ev + 2 * result.homo_fit.tau_ev * x), "-", color="k",
            lw=1)
    ax.axhline(result.gap_infinite_ev, color="k", ls=":", lw=1,
               label=f"gap(inf) = {result.gap_infinite_ev:.2f} eV")
    ax.set_xlabel("number of units n")
    ax.set_ylabel("energy (eV)")
    ax.legend(fontsize=7)
    return ax


def plot_angular(result, ax: Axes | None = None, kind: str = "l") -> Axes:
    """Stacked bars of the S, P, D, ... weights (``kind='m'``: sigma, pi, delta) per orbital."""
    ax = _axes(ax, (6.0, 4.0))
    rows = result.orbitals
    keys = list(rows[0].weights if kind == "l" else rows[0].m_weights) if rows else []
    bottom = np.zeros(len(rows))
    cmap = colormaps.get_cmap("tab10")
    for k, key in enumerate(keys):
        values = np.array([(o.weights if kind == "l" else o.m_weights)[key] for o in rows])
        if values.max() < 1e-3:
            continue
        ax.bar(range(len(rows)), values, bottom=bottom, color=cmap(k % 10), label=key)
        bottom += values
    ax.set_xticks(range(len(rows)), [f"{o.label}\n{o.energy_ev:.2f}" for o in rows],
                  fontsize=7)
    ax.set_ylabel("angular weight")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"angular character about {result.label or 'centre'}")
    ax.legend(fontsize=7, ncol=2)
    return ax
