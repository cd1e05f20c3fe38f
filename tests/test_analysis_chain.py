"""Chain-scaling fits: exact recovery from a tight-binding Hamiltonian, and real H chains."""

from __future__ import annotations

import numpy as np
import pytest

from superatom.analysis.chain import chain_scaling, chain_scaling_from_docs, fit_band_edge
from tests.test_analysis_systems import h_chain_doc


def _tb_levels(n: int, alpha: float, t: float) -> np.ndarray:
    """Eigenvalues of the n-site nearest-neighbour chain Hamiltonian (independent route)."""
    h = np.diag(np.full(n, alpha)) + np.diag(np.full(n - 1, t), 1) + np.diag(np.full(n - 1, t), -1)
    return np.linalg.eigvalsh(h)


@pytest.mark.parametrize("t_val", [-0.8, 0.8])
def test_recovers_alpha_and_coupling_from_tight_binding_matrices(t_val):
    n = np.arange(1, 7)
    homo = [_tb_levels(k, -5.5, t_val).max() for k in n]   # top of the occupied band
    lumo = [_tb_levels(k, -1.0, 0.6).min() for k in n]     # bottom of the empty band
    res = chain_scaling(n, homo, lumo)
    assert res.homo_fit.alpha_ev == pytest.approx(-5.5, abs=1e-10)
    assert res.homo_fit.coupling_ev == pytest.approx(0.8, abs=1e-10)
    assert res.homo_fit.tau_ev == pytest.approx(0.8, abs=1e-10)  # band top: +|t| either sign
    assert res.lumo_fit.tau_ev == pytest.approx(-0.6, abs=1e-10)
    assert res.homo_fit.band_width_ev == pytest.approx(3.2, abs=1e-9)
    assert res.homo_infinite_ev == pytest.approx(-5.5 + 1.6, abs=1e-9)
    assert res.gap_infinite_ev == pytest.approx((-1.0 - 1.2) - (-5.5 + 1.6), abs=1e-9)
    assert res.gap_infinite_err_ev == pytest.approx(0.0, abs=1e-8)
    assert not res.homo_fit.anomalous and not res.lumo_fit.anomalous


def test_uncertainty_from_noisy_levels_and_two_point_fit():
    n = np.arange(1, 9)
    x = np.cos(np.pi / (n + 1))
    noise = np.array([0.01, -0.02, 0.015, 0.0, -0.01, 0.02, -0.015, 0.005])
    fit = fit_band_edge(n, -6 + 1.0 * x + noise, "top")
    assert fit.tau_ev == pytest.approx(0.5, abs=0.05)
    assert 0 < fit.limit_err_ev < 0.1 and fit.rms_residual_ev > 0
    two = fit_band_edge([1, 2], [-6.0, -5.7])
    assert two.tau_err_ev is None and two.limit_err_ev is None
    falling = fit_band_edge([1, 2, 3], [-5.0, -5.2, -5.3], "top")
    assert falling.anomalous
    with pytest.raises(ValueError):
        fit_band_edge([2, 2], [-5.0, -5.1])


def test_hydrogen_chains_gap_narrows_with_length():
    docs = [h_chain_doc(n) for n in (4, 1, 3, 2)]  # order does not matter: n from the docs
    for doc, n in zip(docs, (4, 1, 3, 2), strict=True):
        doc.n_units = n
    res = chain_scaling_from_docs(docs)
    assert res.n == [1, 2, 3, 4]
    assert all(np.diff(res.gap_ev) < 0)
    assert all(np.diff(res.homo_ev) > 0) and all(np.diff(res.lumo_ev) < 0)
    assert not res.homo_fit.anomalous and not res.lumo_fit.anomalous
    assert res.gap_infinite_ev < res.gap_ev[-1]
    assert res.homo_fit.coupling_ev > 0.1 and res.gap_infinite_err_ev is not None
