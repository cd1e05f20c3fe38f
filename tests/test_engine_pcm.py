"""The engine's C-PCM equals stock PySCF's PCM; its memory routes; the density-fitted route."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Molecule
from pyscf import dft, gto

from superatom.calc_settings import CalcSettings, load_preset
from superatom.engine import run_scf
from superatom.engine.memory import job_memory_mb, memory_budget_mb, memory_plan
from superatom.engine.pcm import CachedPCM, attach_cached_pcm, pcm_cache_bytes
from superatom.engine.scf import make_scf
from superatom.schemas.hashing import input_hash

HARTREE_EV = 27.211386
HYDROXIDE = "O 0 0 0; H 0 0 0.97"
# bent [CO2]- radical anion: a doublet with a non-degenerate singly occupied orbital
CARBOXYL = "C 0 0 0; O 0 1.1506 0.4884; O 0 -1.1506 0.4884"
# Fingerprints and an input hash computed by the release before the engine's C-PCM: the
# exact route must keep every stored result reusable.
RELEASED_FINGERPRINTS = {
    "screening": "c058220476d2976e4d2026fdee9af699305387d755f39da6566941f7c2ca942e",
    "fast": "b07c6c8aeefcb673affb8ecb545d5322dad03e8b2bc976780cb1061c0728833a",
    "gas": "3e238145c5027c1a39bf9caedba8b1b34d3dd618c50b92681cb6ea47b4c21cb0",
}
RELEASED_WATER_HASH = "5f07c658e86aa7d77dfca99c0d826ae2636717bb8c566e09014f470c70c6d965"


def _mol(atom: str, charge: int, spin: int = 0, basis: str = "6-31g"):
    return gto.M(atom=atom, charge=charge, spin=spin, basis=basis, verbose=0)


def _scf(mol, pcm: str, density_fit: bool, cache_mb: float = 1000.0, **spill):
    mf = (dft.RKS if mol.spin == 0 else dft.UKS)(mol, xc="pbe0")
    mf.grids.level = 1
    mf.conv_tol = 1e-11
    if density_fit:
        mf = mf.density_fit(auxbasis="def2-universal-jkfit")
    if pcm == "stock":
        mf = mf.PCM()
        mf.with_solvent.method = "C-PCM"
    else:
        mf = attach_cached_pcm(mf, eps=78.3553, cache_mb=cache_mb, **spill)
    mf.kernel()
    assert mf.converged
    return mf


@pytest.mark.parametrize(("atom", "charge", "spin", "density_fit"), [
    (HYDROXIDE, -1, 0, True),
    (HYDROXIDE, -1, 0, False),
    (CARBOXYL, -1, 1, True),
    (CARBOXYL, -1, 1, False),
])
def test_cached_pcm_equals_stock_pyscf(atom, charge, spin, density_fit):
    mol = _mol(atom, charge, spin)
    stock = _scf(mol, "stock", density_fit)
    ours = _scf(mol, "cached", density_fit)
    assert abs(ours.e_tot - stock.e_tot) < 1e-8
    assert abs(ours.with_solvent.e - stock.with_solvent.e) < 1e-8
    # the same energy functional and solvent Fock matrix at one density, to rounding
    dm = stock.make_rdm1()
    e_stock, v_stock = stock.with_solvent._get_vind(dm)
    e_ours, v_ours = ours.with_solvent._get_vind(dm)
    assert abs(e_ours - e_stock) < 1e-12 and np.abs(v_ours - v_stock).max() < 1e-10
    levels = np.abs(np.asarray(ours.mo_energy) - np.asarray(stock.mo_energy)).max() * HARTREE_EV
    assert levels < 1e-4
    assert ours.with_solvent.route()["integral_route"] == "cached"
    # the surface charges sum to the Gauss-law value -f(eps) * (total solute charge)
    f_eps = (78.3553 - 1) / 78.3553
    assert ours.with_solvent._intermediates["q"].sum() == pytest.approx(-f_eps * charge, abs=0.05)


def test_memory_routes_give_the_same_numbers():
    mol = _mol(HYDROXIDE, -1, basis="def2-svp")
    full = _scf(mol, "cached", True, cache_mb=1000.0)
    n_points = full.with_solvent.route()["surface_points"]
    per_point_mb = pcm_cache_bytes(mol.nao, 1) / 1e6
    part = _scf(mol, "cached", True, cache_mb=per_point_mb * n_points / 3)
    none = _scf(mol, "cached", True, cache_mb=0.0)
    routes = [m.with_solvent.route() for m in (full, part, none)]
    assert [r["integral_route"] for r in routes] == ["cached", "partly cached",
                                                     "recomputed per pass"]
    assert 0 < routes[1]["cached_points"] < n_points
    for other in (part, none):
        assert abs(other.e_tot - full.e_tot) < 1e-9
    # the cache is computed once per geometry: recomputing routes spend more time on integrals
    assert routes[2]["integrals_s"] > routes[0]["integrals_s"]


def test_columns_that_do_not_fit_go_to_a_scratch_file_once(tmp_path):
    mol = _mol(HYDROXIDE, -1, basis="def2-svp")
    full = _scf(mol, "cached", True, cache_mb=1000.0)
    n_points = full.with_solvent.route()["surface_points"]
    third = pcm_cache_bytes(mol.nao, 1) / 1e6 * n_points / 3
    spilled = _scf(mol, "cached", True, cache_mb=third, spill_dir=str(tmp_path))
    on_disk = _scf(mol, "cached", True, cache_mb=0.0, spill_dir=str(tmp_path))
    no_room = _scf(mol, "cached", True, cache_mb=third, spill_dir=str(tmp_path),
                   disk_reserve_mb=1e12)  # the folder cannot keep this reserve: recompute
    routes = [m.with_solvent.route() for m in (spilled, on_disk, no_room)]
    assert [r["integral_route"] for r in routes] == [
        "cached in memory and on disk", "cached on disk", "partly cached"]
    assert routes[0]["cached_points"] + routes[0]["disk_points"] == n_points
    assert routes[1]["disk_points"] == n_points and routes[2]["disk_points"] == 0
    for other in (spilled, on_disk, no_room):
        assert abs(other.e_tot - full.e_tot) < 1e-10
        assert np.abs(other.mo_energy - full.mo_energy).max() < 1e-9
    # every point's columns computed once per geometry on the disk routes; the rest
    # recomputed in every pass without room on disk
    assert all(r["passes"] > 4 for r in routes)
    assert routes[0]["points_computed"] == routes[1]["points_computed"] == n_points
    uncached = n_points - routes[2]["cached_points"]
    assert routes[2]["points_computed"] == n_points - uncached + uncached * routes[2]["passes"]
    # the scratch file has no name: nothing is left in the folder, even while it is in use
    assert list(tmp_path.iterdir()) == []
    spilled.with_solvent.reset()
    assert spilled.with_solvent.route()["disk_points"] == 0


def test_density_fitted_potential_is_a_bounded_approximation():
    mol = _mol(HYDROXIDE, -1, basis="def2-svp")
    exact = _scf(mol, "cached", True)
    mf = dft.RKS(mol, xc="pbe0").density_fit(auxbasis="def2-universal-jkfit")
    mf.grids.level = 1
    mf.conv_tol = 1e-11
    mf = attach_cached_pcm(mf, eps=78.3553, cache_mb=0.0, potential="density-fitted")
    mf.kernel()
    assert mf.converged and mf.with_solvent.route()["integral_route"] == "density-fitted"
    d_e = abs(mf.e_tot - exact.e_tot)
    homo = int(np.flatnonzero(exact.mo_occ > 0)[-1])
    d_frontier = np.abs(mf.mo_energy - exact.mo_energy)[homo:homo + 2] * HARTREE_EV
    assert 1e-9 < d_e < 5e-4  # a different route, within the documented bound
    assert d_frontier.max() < 5e-3  # HOMO and LUMO within 5 meV


def test_density_fitted_potential_matches_an_explicit_fit():
    """The fitted route's surface potential equals (k|P) J^-1 (P|ij) D built by hand."""
    from pyscf import df

    mol = _mol(HYDROXIDE, -1)
    mf = dft.RKS(mol, xc="pbe").density_fit(auxbasis="def2-universal-jkfit")
    mf.with_df.build()
    solvent = CachedPCM(mol, potential="density-fitted", with_df=mf.with_df)
    solvent.build()
    dm = mf.get_init_guess()
    auxmol = mf.with_df.auxmol
    j3c = df.incore.aux_e2(mol, auxmol, intor="int3c2e", aosym="s1")  # (nao, nao, naux)
    j2c = auxmol.intor("int2c2e")
    fit = np.linalg.solve(j2c, np.einsum("ijP,ij->P", j3c, dm))
    fake = gto.fakemol_for_charges(solvent.surface["grid_coords"],
                                   expnt=solvent.surface["charge_exp"] ** 2)
    expected = gto.mole.intor_cross("int2c2e", fake, auxmol) @ fit
    assert np.allclose(solvent._get_v(dm[None])[0], expected, atol=1e-8)


def test_engine_plans_the_pcm_cache_and_records_it():
    hydroxide = Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]], charge=-1)
    settings = load_preset("fast", device="cpu", solvent="pcm")
    result = run_scf(hydroxide, settings)
    memory = result.extra["memory"]
    assert memory["budget_mb"] == memory_budget_mb(None)
    assert memory["pcm"]["integral_route"] == "cached"
    assert memory["pcm"]["surface_points"] == memory["pcm_surface_points"] > 0
    assert memory["pcm_fully_cached"] and memory["df_in_memory"]
    # a tight budget keeps part of the columns and still gives the same energy
    tight = run_scf(hydroxide, settings.model_copy(update={"max_memory_mb": 100}))
    assert abs(tight.e_tot - result.e_tot) < 1e-8


def test_engine_spills_what_the_cache_cannot_hold_to_pyscf_scratch(monkeypatch, tmp_path):
    from pyscf import lib

    import superatom.engine.scf as scf_module

    hydroxide = Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]], charge=-1)
    settings = load_preset("fast", device="cpu", solvent="pcm")
    reference = run_scf(hydroxide, settings)
    whole_mb = reference.extra["memory"]["pcm_mb"]

    def a_fifth_cached(budget_mb, pcm_mb, df_mb):  # as if the machine held a fifth of them
        return {**memory_plan(budget_mb, pcm_mb, df_mb), "pcm_cache_mb": pcm_mb / 5,
                "pcm_fully_cached": False}

    monkeypatch.setattr(scf_module, "memory_plan", a_fifth_cached)
    monkeypatch.setattr(lib.param, "TMPDIR", str(tmp_path))
    spilled = run_scf(hydroxide, settings)
    route = spilled.extra["memory"]["pcm"]
    assert whole_mb > 0 and route["integral_route"] == "cached in memory and on disk"
    assert route["disk_points"] > 3 * route["cached_points"] > 0
    assert abs(spilled.e_tot - reference.e_tot) < 1e-10


def test_memory_budget_comes_from_the_job(monkeypatch):
    assert memory_budget_mb(3000) == 3000
    monkeypatch.setenv("SLURM_MEM_PER_NODE", "8000")
    assert job_memory_mb() <= 8000
    assert memory_budget_mb(None) == int(0.75 * job_memory_mb())
    mol = _mol(HYDROXIDE, -1)
    mf = make_scf(mol, CalcSettings(solvent="pcm", basis="6-31g"), "cpu")
    assert mf.max_memory == memory_budget_mb(None)


def test_plan_puts_the_pcm_cache_before_the_df_tensor():
    keggin = memory_plan(budget_mb=18_000, pcm_mb=19_000, df_mb=22_000)
    assert not keggin["pcm_fully_cached"] and not keggin["df_in_memory"]
    assert keggin["pcm_cache_mb"] + keggin["df_max_memory_mb"] == pytest.approx(18_000)
    small = memory_plan(budget_mb=18_000, pcm_mb=500, df_mb=2_000)
    assert small["pcm_fully_cached"] and small["df_in_memory"]


def test_exact_route_keeps_released_hashes():
    for name, fingerprint in RELEASED_FINGERPRINTS.items():
        assert load_preset(name).fingerprint() == fingerprint
    water = Molecule(["O", "H", "H"], [[0, 0, 0], [0, 0.757, 0.587], [0, -0.757, 0.587]])
    assert input_hash(water, load_preset("screening")) == RELEASED_WATER_HASH
    fitted = load_preset("screening", pcm_potential="density-fitted")
    assert fitted.fingerprint() != RELEASED_FINGERPRINTS["screening"]


def test_density_fitted_potential_needs_density_fitting():
    with pytest.raises(ValueError, match="density_fit"):
        CalcSettings(solvent="pcm", density_fit=False, pcm_potential="density-fitted")
