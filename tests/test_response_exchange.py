"""The orbital-route exchange of transition densities equals PySCF's general route."""

from __future__ import annotations

import numpy as np
import pytest
from pyscf import dft, gto, scf
from pyscf.scf import stability as pyscf_stability

from superatom.engine import stability as engine_stability
from superatom.engine.response_exchange import (
    TransitionExchange,
    newton_on_orbital_route,
    orbital_route_exchange,
)
from superatom.engine.stability import internal_stability, lowest_rotation

WATER = "O 0 0 0; H 0 0 0.96; H 0.93 0 -0.24"


def _water_pbe0():
    mol = gto.M(atom=WATER, basis="6-31g", verbose=0)
    mf = dft.RKS(mol, xc="pbe0").density_fit()
    mf.grids.level = 1
    return mf.run(conv_tol=1e-10)


def _transition_density(mf, seed: int = 0) -> np.ndarray:
    occ = mf.mo_coeff[:, mf.mo_occ > 0]
    vir = mf.mo_coeff[:, mf.mo_occ == 0]
    x = np.random.default_rng(seed).normal(size=(vir.shape[1], occ.shape[1]))
    dm = vir @ x @ occ.T
    return dm + dm.T


def test_transition_density_exchange_equals_the_general_route():
    mf = _water_pbe0()
    exchange = TransitionExchange(mf)
    dms = np.array([_transition_density(mf, 0), _transition_density(mf, 1)])
    vj, vk = exchange(mf.mol, dms)
    ref_j, ref_k = mf.get_jk(mf.mol, dms)
    assert exchange.transition_calls == 1 and exchange.passed_on == 0
    assert np.abs(ref_k).max() > 0.1  # not a vanishing test
    assert np.allclose(vk, ref_k, atol=1e-11) and np.allclose(vj, ref_j, atol=1e-11)


def test_any_other_density_goes_to_pyscf_unchanged():
    mf = _water_pbe0()
    exchange = TransitionExchange(mf)
    general = np.random.default_rng(2).normal(size=(mf.mol.nao, mf.mol.nao))
    general = general + general.T  # symmetric, but with occupied-occupied parts
    vj, vk = exchange(mf.mol, general)
    ref_j, ref_k = mf.get_jk(mf.mol, general)
    assert exchange.passed_on == 1 and exchange.transition_calls == 0
    assert np.array_equal(vk, ref_k) and np.array_equal(vj, ref_j)
    exchange(mf.mol, _transition_density(mf), hermi=0)  # not declared symmetric
    assert exchange.passed_on == 2


def test_rks_stability_eigenvalue_is_pyscfs():
    mf = _water_pbe0()
    g_ref = _lowest(mf, pyscf_stability.rhf_internal)
    with orbital_route_exchange(mf) as exchange:
        g_route = _lowest(mf, pyscf_stability.rhf_internal)
    # every trial rotation on the new route; the ground-state Fock build is PySCF's own
    assert exchange.transition_calls >= 3 and exchange.passed_on <= 1
    assert "get_jk" not in vars(mf)
    assert g_ref > 0.5 and abs(g_route - g_ref) < 1e-8


def test_uks_saddle_point_is_found_the_same_way(monkeypatch):
    # the converged root is compared, so the solve does not stop at a settling Ritz value
    monkeypatch.setattr(engine_stability, "SETTLED_BELOW", None)
    mol = gto.M(atom="H 0 0 0; H 0 0 3.0", basis="6-31g", verbose=0)
    dm = scf.RHF(mol).density_fit().run().make_rdm1() / 2
    mf = scf.UHF(mol).density_fit()
    mf.kernel(dm0=np.array([dm, dm]))
    g_ref = _lowest(mf, pyscf_stability.uhf_internal)
    with orbital_route_exchange(mf):  # PySCF's algorithm, orbital route
        same_start = lowest_rotation(mf, start="pyscf", settled_below=None).value
    stable, lowest, _ = internal_stability(mf)  # the engine's: orbital route, its own start
    assert not stable and g_ref < -0.1
    assert same_start == pytest.approx(g_ref, abs=1e-8)
    assert lowest == pytest.approx(g_ref, abs=1e-4)  # Davidson's tolerance


def test_newton_on_the_orbital_route_takes_pyscfs_steps():
    """An open-shell PBE0 Newton run from a poor start: PySCF's solver and the orbital-route
    one take the same iterations to the same energy; every Hessian product took the route."""
    mol = gto.M(atom=WATER, basis="6-31g", charge=1, spin=1, verbose=0)

    def uks():
        mf = dft.UKS(mol, xc="pbe0").density_fit()
        mf.grids.level = 1
        mf.conv_tol = 1e-10
        return mf

    start = uks().get_init_guess(key="hcore")
    energies = {"pyscf": [], "routed": []}
    reference = uks().newton()
    reference.callback = lambda envs: energies["pyscf"].append(envs["e_tot"])
    reference.kernel(dm0=start)
    routed = newton_on_orbital_route(uks())
    routed.callback = lambda envs: energies["routed"].append(envs["e_tot"])
    routed.kernel(dm0=start)
    assert reference.converged and routed.converged
    assert len(energies["routed"]) == len(energies["pyscf"]) >= 3
    np.testing.assert_allclose(energies["routed"], energies["pyscf"], atol=1e-9)
    products = sum(exchange.transition_calls for exchange in routed.orbital_route)
    assert len(routed.orbital_route) >= 2 and products >= len(energies["routed"])


def _lowest(mf, internal) -> float:
    import io
    import re

    from pyscf.lib import logger

    buffer = io.StringIO()
    internal(mf, with_symmetry=False, verbose=logger.Logger(buffer, logger.INFO),
             return_status=True, nroots=1)
    return float(re.search(r"lowest eigs of H = \[?\s*([-+0-9.eE]+)", buffer.getvalue())[1])
