"""Chain scaling: fit HOMO/LUMO of n = 1..N oligomers with nearest-neighbour tight binding.

Model and sign convention
-------------------------
N identical units with on-site energy alpha and nearest-neighbour hopping t have the levels
``e_j = alpha + 2 t cos(j pi / (N + 1))``, j = 1..N, spread over
``alpha +- 2|t| cos(pi / (N + 1))`` whatever the sign of t. The HOMO of the N-mer is the *top*
of the band built from the monomer HOMOs and the LUMO the *bottom* of the band built from the
monomer LUMOs, so with ``x_N = cos(pi / (N + 1))``::

    HOMO_N = alpha_H + 2 tau_H x_N      (tau_H = +|t_H| expected: HOMO rises with N)
    LUMO_N = alpha_L + 2 tau_L x_N      (tau_L = -|t_L| expected: LUMO falls with N)

``tau`` is fitted with its sign; the coupling is ``|tau|`` (band width ``4|tau|``) and the sign
of the hopping itself cannot be told from band edges alone. A tau of the unexpected sign is
flagged as ``anomalous``. The infinite chain (x -> 1) has edges ``alpha + 2 tau`` and the gap
``(alpha_L + 2 tau_L) - (alpha_H + 2 tau_H)``; uncertainties come from the least-squares
covariance (``s^2 (X^T X)^-1``; None with fewer than three points).

Examples
--------
>>> import numpy as np
>>> n = np.arange(1, 6)
>>> x = np.cos(np.pi / (n + 1))
>>> res = chain_scaling(n, -6.0 + 2 * 0.5 * x, -1.0 - 2 * 0.4 * x)
>>> round(res.homo_fit.coupling_ev, 6), round(res.gap_infinite_ev, 6)
(0.5, 3.2)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from superatom.schemas.chain import BandFit, ChainScalingResult

__all__ = [
    "BandFit",
    "ChainScalingResult",
    "chain_scaling",
    "chain_scaling_from_docs",
    "chain_warnings",
    "chain_x",
    "fit_band_edge",
]


def chain_x(n: Sequence[int] | np.ndarray) -> np.ndarray:
    """``cos(pi / (n + 1))`` for chain lengths n."""
    return np.cos(np.pi / (np.asarray(n, dtype=float) + 1.0))


def _least_squares(n, levels_ev) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(alpha, tau)``, residuals and their covariance ``s^2 (X^T X)^-1`` (None with two
    points or fewer) of the line ``alpha + 2 tau cos(pi/(n+1))`` through ``levels_ev``."""
    n_arr = np.asarray(n, dtype=float)
    y = np.asarray(levels_ev, dtype=float)
    design = np.column_stack([np.ones_like(n_arr), 2.0 * chain_x(n_arr)])
    params, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ params
    dof = len(y) - 2
    cov = None
    if dof > 0:
        cov = float(resid @ resid) / dof * np.linalg.inv(design.T @ design)
    return params, resid, cov


def fit_band_edge(n: Sequence[int], levels_ev: Sequence[float], edge: str = "top") -> BandFit:
    """Least-squares fit of ``E_n = alpha + 2 tau cos(pi/(n+1))`` (see module docstring)."""
    if len(np.unique(np.asarray(n, dtype=float))) < 2:
        raise ValueError("a chain fit needs at least two different chain lengths")
    params, resid, cov = _least_squares(n, levels_ev)
    alpha, tau = (float(v) for v in params)
    grad = np.array([1.0, 2.0])
    return BandFit(
        edge=edge,
        alpha_ev=alpha,
        alpha_err_ev=None if cov is None else float(np.sqrt(cov[0, 0])),
        tau_ev=tau,
        tau_err_ev=None if cov is None else float(np.sqrt(cov[1, 1])),
        coupling_ev=abs(tau),
        band_width_ev=4.0 * abs(tau),
        limit_ev=alpha + 2.0 * tau,
        limit_err_ev=None if cov is None else float(np.sqrt(max(grad @ cov @ grad, 0.0))),
        rms_residual_ev=float(np.sqrt(np.mean(resid**2))),
        anomalous=(tau < 0) if edge == "top" else (tau > 0),
    )


def chain_scaling(n: Sequence[int], homo_ev: Sequence[float],
                  lumo_ev: Sequence[float]) -> ChainScalingResult:
    """Fit HOMO (band top) and LUMO (band bottom) series and extrapolate to n -> infinity.

    Parameters
    ----------
    n : sequence of int
        Number of units of each oligomer (1, 2, 3, ...).
    homo_ev, lumo_ev : sequence of float
        HOMO and LUMO energies in eV.

    Returns
    -------
    ChainScalingResult
    """
    homo_fit = fit_band_edge(n, homo_ev, "top")
    lumo_fit = fit_band_edge(n, lumo_ev, "bottom")
    errs = (homo_fit.limit_err_ev, lumo_fit.limit_err_ev)
    return ChainScalingResult(
        n=[int(v) for v in n],
        homo_ev=[float(v) for v in homo_ev],
        lumo_ev=[float(v) for v in lumo_ev],
        gap_ev=[float(b - a) for a, b in zip(homo_ev, lumo_ev, strict=True)],
        homo_fit=homo_fit,
        lumo_fit=lumo_fit,
        homo_infinite_ev=homo_fit.limit_ev,
        lumo_infinite_ev=lumo_fit.limit_ev,
        gap_infinite_ev=lumo_fit.limit_ev - homo_fit.limit_ev,
        gap_infinite_err_ev=None if None in errs else float(np.hypot(*errs)),
    )


def chain_scaling_from_docs(docs: Sequence, n: Sequence[int] | None = None) -> ChainScalingResult:
    """:func:`chain_scaling` of stored results; n from ``doc.n_units`` or 1, 2, ... in order.

    Examples
    --------
    >>> res = chain_scaling_from_docs([h2, h4, h6, h8])      # doctest: +SKIP
    >>> res.gap_ev[0] > res.gap_ev[-1] > res.gap_infinite_ev  # doctest: +SKIP
    True
    """
    if n is None:
        units = [d.n_units for d in docs]
        n = units if None not in units else list(range(1, len(docs) + 1))
    order = np.argsort(n)
    return chain_scaling([n[k] for k in order], [docs[k].homo_ev for k in order],
                         [docs[k].lumo_ev for k in order])


def _monotonic(values: Sequence[float]) -> bool:
    steps = np.diff(np.asarray(values, dtype=float))
    return bool(np.all(steps >= 0) or np.all(steps <= 0))


def chain_warnings(result: ChainScalingResult) -> list[str]:
    """What makes the n -> infinity limits of ``result`` unreliable, one line each.

    A series that goes up and down with n (a three-point one above all) does not follow the
    tight-binding form, so its extrapolation far beyond the computed lengths means little;
    a hopping of the unexpected sign is named too. Two-point fits are flagged elsewhere
    (:data:`superatom.analysis.plots.CHAIN_TWO_POINT_WARNING`).

    Examples
    --------
    >>> res = chain_scaling([1, 2, 3], [-9.1, -8.9, -9.0], [-3.8, -4.2, -4.0])
    >>> chain_warnings(res)[0]
    'HOMO not monotonic in n (-9.10, -8.90, -9.00 eV) over 3 chain lengths: the tight-binding \
form does not describe it, and its n -> infinity limit is an extrapolation from n <= 3'
    """
    out = []
    for name, values in (("HOMO", result.homo_ev), ("LUMO", result.lumo_ev),
                         ("gap", result.gap_ev)):
        if len(values) >= 3 and not _monotonic(values):
            listed = ", ".join(f"{v:.2f}" for v in values)
            out.append(f"{name} not monotonic in n ({listed} eV) over {len(values)} chain "
                       "lengths: the tight-binding form does not describe it, and its "
                       f"n -> infinity limit is an extrapolation from n <= {max(result.n)}")
    for name, fit in (("HOMO", result.homo_fit), ("LUMO", result.lumo_fit)):
        if fit.anomalous:
            trend = "falls" if name == "HOMO" else "rises"
            out.append(f"{name} {trend} with n (tau {fit.tau_ev:+.3f} eV): not a band that "
                       "widens as units are added")
    return out
