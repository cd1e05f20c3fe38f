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
from matplotlib.lines import Line2D

from superatom.analysis.chain import ChainScalingResult, _least_squares, chain_x

LEVEL_HALF_WIDTH = 0.3


def _axes(ax: Axes | None, size=(6.0, 5.0)) -> Axes:
    if ax is None:
        fig = Figure(figsize=size)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
    return ax


def save_figure(ax: Axes, path: str | Path, dpi: int = 300) -> Path:
    """Save the figure of ``ax`` as PNG (300 dpi by default), PDF or SVG (from the suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = ax.figure
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path


def save_png_svg(ax: Axes, stem: str | Path, dpi: int = 300) -> list[Path]:
    """Save the figure as ``stem.png`` (``dpi``) and ``stem.svg`` (vector)."""
    stem = Path(stem)
    return [save_figure(ax, stem.with_suffix(".png"), dpi=dpi),
            save_figure(ax, stem.with_suffix(".svg"))]


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
    ax = _axes(ax, (8.0, 5.5))
    xs = _columns(corr.monomers)
    cmap = colormaps.get_cmap("coolwarm")
    pos = {}
    for lev in chan.monomer_levels:
        x = xs[lev.monomer]
        colour = cmap(0.0 if x < 1 else 1.0)
        ax.hlines(lev.energy_ev, x - LEVEL_HALF_WIDTH, x + LEVEL_HALF_WIDTH, color=colour, lw=2,
                  linestyles=_style(lev.occupation))
        pos[(lev.monomer, lev.index)] = (x, lev.energy_ev)
        if lev.label in ("HOMO", "LUMO"):
            ax.annotate(lev.label, (x, lev.energy_ev), textcoords="offset points",
                        xytext=(0, 3), ha="center", fontsize=7)
    first = corr.monomers[0]
    for lev in chan.assembly_levels:
        total = sum(lev.monomer_weights.values()) or 1.0
        share = 1.0 - lev.monomer_weights.get(first, 0.0) / total
        ax.hlines(lev.energy_ev, 1 - LEVEL_HALF_WIDTH, 1 + LEVEL_HALF_WIDTH,
                  color=cmap(share), lw=2.5, linestyles=_style(lev.occupation))
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
    others = [m for m in corr.monomers if m != first]
    handles = [
        Line2D([], [], color=cmap(0.0), lw=2.5, label=f"on {first}"),
        Line2D([], [], color=cmap(1.0), lw=2.5, label=f"on {', '.join(others) or 'other'}"),
        Line2D([], [], color=cmap(0.5), lw=2.5, label="shared (assembly: colour = share)"),
        Line2D([], [], color="k", lw=2, ls="-", label="occupied"),
        Line2D([], [], color="k", lw=2, ls=(0, (2, 1)), label="virtual"),
        Line2D([], [], color="0.3", lw=0.8, ls="--", label="overlap |<phi|psi>|^2"),
    ]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0.0, title="fragment / occupation", title_fontsize=7)
    ax.set_ylabel("orbital energy (eV)")
    title = "orbital correlation" + ("" if chan.spin == "restricted" else f" ({chan.spin})")
    ax.set_title(title)
    if emin is not None or emax is not None:
        ax.set_ylim(emin, emax)
    return ax


def _style(occupation: float):
    """Solid line for occupied levels, dashed for virtual ones."""
    return "solid" if occupation > 0.01 else (0, (2, 1))


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
        curve = fit.alpha_ev + 2 * fit.tau_ev * x
        ax.plot(dense, curve, "-", color=colour, lw=1)
        band = fit_band(n, values, x)
        if band is not None:
            ax.fill_between(dense, curve - band, curve + band, color=colour, alpha=0.2, lw=0,
                            label=f"{name} fit +/- 1 sigma")
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
    if len(set(result.n)) <= 2:
        ax.text(0.5, 0.5, CHAIN_TWO_POINT_WARNING, transform=ax.transAxes, ha="center",
                va="center", fontsize=9, color="darkred", wrap=True,
                bbox={"facecolor": "white", "edgecolor": "darkred", "alpha": 0.85})
    return ax


CHAIN_TWO_POINT_WARNING = ("fit through only two chain lengths: exact, no error estimate;\n"
                           "the n -> infinity limit is an extrapolation")


def fit_band(n, levels_ev, x: np.ndarray) -> np.ndarray | None:
    """One-sigma confidence band (eV) of the least-squares line ``alpha + 2 tau x`` at
    ``x = cos(pi/(n+1))``, with the alpha-tau covariance; None with two points or fewer.

    Examples
    --------
    >>> n, e = [1, 2, 3, 4], [-6.0, -5.58, -5.41, -5.3]
    >>> band = fit_band(n, e, chain_x(np.array([1, 4, 100])))
    >>> bool(band[2] > band[1])      # wider where it extrapolates
    True
    >>> fit_band([1, 2], [-6.0, -5.6], chain_x(np.array([3]))) is None
    True
    """
    cov = _least_squares(n, levels_ev)[2]
    if cov is None:
        return None
    rows = np.column_stack([np.ones_like(x), 2.0 * np.asarray(x)])
    return np.sqrt(np.einsum("ij,jk,ik->i", rows, cov, rows))


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


def _channels_of(system: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """(energies eV, occupations) per spin channel of a stored frontier/xTB document."""
    energies = system.get("orbital_energies_ev")
    occupations = system.get("occupations")
    if not energies:
        levels = [(system.get("homo_ev"), 2.0), (system.get("lumo_ev"), 0.0)]
        levels = [(e, o) for e, o in levels if e is not None]
        return [(np.array([e for e, _ in levels]), np.array([o for _, o in levels]))]
    if np.ndim(energies[0]) == 0:
        return [(np.asarray(energies), np.asarray(occupations))]
    return [(np.asarray(e), np.asarray(o)) for e, o in zip(energies, occupations, strict=True)]


def plot_level_ladder(systems: list[dict], window_ev: float = 3.0, ax: Axes | None = None,
                      label_key: str = "label") -> Axes:
    """Frontier levels of many systems side by side, grouped by class, gaps annotated.

    ``systems`` are dicts with ``homo_ev``, ``lumo_ev``, ``gap_ev`` and, when stored,
    ``orbital_energies_ev``/``occupations`` (all levels within ``window_ev`` of the gap are
    drawn: occupied solid blue, virtual dashed red; HOMO and LUMO thick), ``system_class``
    and ``label_key`` (default ``label``, else ``name``) for the x axis.

    Examples
    --------
    >>> ax = plot_level_ladder([
    ...     {"name": "H2O", "system_class": "small", "homo_ev": -8.3, "lumo_ev": 1.8,
    ...      "gap_ev": 10.1},
    ...     {"name": "CH4", "system_class": "small", "homo_ev": -10.5, "lumo_ev": 2.6,
    ...      "gap_ev": 13.1}])
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['H2O', 'CH4']
    """
    ax = _axes(ax, (max(4.0, 1.1 * len(systems) + 2.0), 5.0))
    classes: dict[str, list[int]] = {}
    for k, system in enumerate(systems):
        classes.setdefault(system.get("system_class") or "unclassified", []).append(k)
    order = [k for members in classes.values() for k in members]
    xs, x, bounds = {}, 0.0, []
    for members in classes.values():
        start = x
        for k in members:
            xs[k] = x
            x += 1.0
        bounds.append((start, x - 1.0))
        x += 0.6  # gap between classes
    low, high = np.inf, -np.inf
    for k in order:
        system, x0 = systems[k], xs[k]
        homo, lumo = system.get("homo_ev"), system.get("lumo_ev")
        channels = _channels_of(system)
        width = 0.7 / len(channels)
        for c, (energies, occ) in enumerate(channels):
            left = x0 - 0.35 + c * width
            top = homo if homo is not None else energies.max()
            bottom = lumo if lumo is not None else energies.min()
            keep = (energies >= top - window_ev) & (energies <= bottom + window_ev)
            for energy, o in zip(energies[keep], occ[keep], strict=True):
                frontier = np.isclose(energy, homo or np.nan) or np.isclose(energy, lumo or
                                                                             np.nan)
                ax.hlines(energy, left + 0.04, left + width - 0.04,
                          color="tab:blue" if o > 0.01 else "tab:red",
                          linestyles=_style(o), lw=2.6 if frontier else 1.0)
            if keep.any():
                low, high = min(low, energies[keep].min()), max(high, energies[keep].max())
        if homo is not None and lumo is not None:
            ax.annotate("", xy=(x0, lumo), xytext=(x0, homo),
                        arrowprops={"arrowstyle": "<->", "color": "0.3", "lw": 0.8})
            ax.text(x0 + 0.05, 0.5 * (homo + lumo), f"{lumo - homo:.2f}", rotation=90,
                    va="center", ha="left", fontsize=7, color="0.2")
    for (start, end), name in zip(bounds, classes, strict=True):
        ax.axvspan(start - 0.45, end + 0.45, color="0.93", zorder=-2)
        ax.text(0.5 * (start + end), 1.01, name, transform=ax.get_xaxis_transform(),
                ha="center", va="bottom", fontsize=8, weight="bold")
    ax.set_xticks([xs[k] for k in order],
                  [systems[k].get(label_key) or systems[k].get("name", "") for k in order],
                  rotation=30 if len(systems) > 16 else 0, ha="right" if len(systems) > 16
                  else "center", fontsize=7)
    if np.isfinite(low):
        ax.set_ylim(low - 0.5, high + 0.5)
    ax.set_xlim(-0.6, max(xs.values(), default=0.0) + 0.6)
    ax.set_ylabel("orbital energy (eV)")
    ax.legend(handles=[Line2D([], [], color="tab:blue", lw=2, label="occupied"),
                       Line2D([], [], color="tab:red", lw=2, ls=(0, (2, 1)), label="virtual"),
                       Line2D([], [], color="0.3", lw=0.8, marker="$\\leftrightarrow$",
                              ls="", label="gap (eV)")],
              fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return ax


def plot_level_shifts(interactions: list[dict], ax: Axes | None = None) -> Axes:
    """Monomer vs assembly HOMO/LUMO of (e.g. GFN2-xTB) interactions, shifts annotated.

    Each dict has ``name``, ``homo_monomers_ev``, ``lumo_monomers_ev``, ``homo_assembly_ev``
    and ``lumo_assembly_ev`` (eV), as stored in interaction documents.

    Examples
    --------
    >>> ax = plot_level_shifts([{"name": "dimer", "homo_monomers_ev": [-6.0, -6.0],
    ...     "lumo_monomers_ev": [-3.0, -3.0], "homo_assembly_ev": -5.6,
    ...     "lumo_assembly_ev": -3.2}])
    >>> ax.get_ylabel()
    'orbital energy (eV)'
    """
    ax = _axes(ax, (max(4.5, 2.4 * len(interactions) + 2.0), 5.0))
    ticks, labels = [], []
    for k, doc in enumerate(interactions):
        base = 2.5 * k
        for key, colour, ls in (("homo", "tab:blue", "solid"), ("lumo", "tab:red", (0, (2, 1)))):
            monomer = [e for e in doc.get(f"{key}_monomers_ev") or [] if e is not None]
            assembly = doc.get(f"{key}_assembly_ev")
            if not monomer or assembly is None:
                continue
            mono = max(monomer) if key == "homo" else min(monomer)
            ax.hlines(mono, base - 0.35, base + 0.35, color=colour, lw=2.5, linestyles=ls)
            ax.hlines(assembly, base + 0.65, base + 1.35, color=colour, lw=2.5, linestyles=ls)
            ax.plot([base + 0.35, base + 0.65], [mono, assembly], color=colour, lw=0.8, ls="--")
            ax.annotate(f"{assembly - mono:+.2f}", (base + 1.35, assembly),
                        textcoords="offset points", xytext=(3, 0), va="center", fontsize=7,
                        color=colour)
        ticks += [base, base + 1.0]
        labels += ["monomer", f"{doc.get('name', '')}\nassembly"]
    ax.set_xticks(ticks, labels, fontsize=7)
    ax.set_ylabel("orbital energy (eV)")
    ax.set_title("level shifts on assembly (eV)", fontsize=9)
    ax.legend(handles=[Line2D([], [], color="tab:blue", lw=2, label="HOMO (occupied)"),
                       Line2D([], [], color="tab:red", lw=2, ls=(0, (2, 1)),
                              label="LUMO (virtual)")], fontsize=7, loc="center right")
    return ax


EDA_TERMS = (("e_elstat_ha", "electrostatic"), ("e_pauli_ha", "Pauli"),
             ("e_orb_ha", "orbital"), ("e_disp_ha", "dispersion"),
             ("e_solv_ha", "solvation"), ("e_int_ha", "interaction"))


def plot_eda(doc: dict, n_pairs: int = 6, ax: Axes | None = None) -> Axes:
    """Energy decomposition terms and the leading NOCV pairs' ETS energies (kcal/mol).

    ``doc`` is a stored EDA document (dict) with ``terms`` (Hartree) and ``pairs``. Each pair
    bar is labelled with its eigenvalue and the fragments it moves charge from and to.

    Examples
    --------
    >>> doc = {"name": "H3N-BH3", "terms": {"e_elstat_ha": -0.14, "e_pauli_ha": 0.14,
    ...        "e_orb_ha": -0.09, "e_int_ha": -0.09},
    ...        "pairs": [{"k": 1, "spin": "restricted", "nu": 0.47, "e_ha": -0.079,
    ...                   "from_fragments": ["NH3"], "to_fragments": ["BH3"]}]}
    >>> ax = plot_eda(doc)
    >>> ax.get_xlabel()
    'energy (kcal/mol)'
    """
    from superatom import HARTREE_TO_KCAL_MOL
    from superatom.schemas.eda import pair_route

    terms = doc["terms"]
    shown = [(label, terms[key] * HARTREE_TO_KCAL_MOL) for key, label in EDA_TERMS
             if key in terms and (terms[key] != 0.0 or key in ("e_elstat_ha", "e_pauli_ha",
                                                                "e_orb_ha", "e_int_ha"))]
    pairs = sorted(doc.get("pairs") or [], key=lambda p: p["e_ha"])[:n_pairs]
    rows = [(label, value, "tab:gray" if label == "interaction" else
             ("tab:red" if value > 0 else "tab:blue")) for label, value in shown]
    for pair in pairs:
        spin = "" if pair["spin"] == "restricted" else f" ({pair['spin'][0]})"
        route = pair_route(pair)
        rows.append((f"pair {pair['k']}{spin}: nu={pair['nu']:.2f}\n{route}",
                     pair["e_ha"] * HARTREE_TO_KCAL_MOL, "tab:green"))
    ax = _axes(ax, (6.5, 1.0 + 0.42 * len(rows)))
    y = np.arange(len(rows))[::-1].astype(float)
    y[len(shown):] -= 0.6  # a gap between the terms and the pairs
    values = [r[1] for r in rows]
    ax.barh(y, values, color=[r[2] for r in rows], height=0.7)
    ax.set_yticks(y, [r[0] for r in rows], fontsize=7)
    ax.axvline(0.0, color="black", lw=0.8)
    span = max((abs(v) for v in values), default=1.0)
    for yy, value in zip(y, values, strict=True):
        ax.annotate(f"{value:.1f}", (value, yy), textcoords="offset points",
                    xytext=(3 if value >= 0 else -3, 0), ha="left" if value >= 0 else "right",
                    va="center", fontsize=7)
    ax.set_xlim(-1.25 * span, 1.25 * span)
    ax.set_xlabel("energy (kcal/mol)")
    ets = terms.get("e_orb_ets_ha")
    note = f"; NOCV pairs sum to {ets * HARTREE_TO_KCAL_MOL:.1f}" if ets is not None else ""
    ax.set_title(f"{doc.get('name', '')}: EDA terms and leading NOCV pairs{note}", fontsize=9)
    return ax
