"""Plots, cube/molden export and the TDA optical gap, checked against independent readers."""

from __future__ import annotations

import numpy as np
import pytest

from superatom.analysis.angular import angular_character
from superatom.analysis.chain import chain_scaling
from superatom.analysis.dos import density_of_states, overlap_population_dos
from superatom.analysis.export import export_cubes, export_molden, export_orbitals
from superatom.analysis.interaction import analyze_interaction
from superatom.analysis.optical import optical_gap
from superatom.analysis.plots import (
    plot_angular,
    plot_chain,
    plot_correlation_diagram,
    plot_dos,
    save_figure,
)
from superatom.errors import InputError
from tests.test_analysis_systems import (
    ethylene_dimer_doc,
    ethylene_doc,
    h2_triplet_doc,
    li8_doc,
    water,
    water_doc,
)

PNG_MAGIC = b"\x89PNG"


def _png_ok(path):
    data = path.read_bytes()
    return data[:4] == PNG_MAGIC and len(data) > 5000


def test_correlation_diagram_png(tmp_path):
    res = analyze_interaction([ethylene_doc(), ethylene_doc()], ethylene_dimer_doc())
    ax = plot_correlation_diagram(res, emin=-15, emax=8)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["C2H4#1", "C2H4#2", "(C2H4)2"]
    texts = {t.get_text() for t in ax.texts}
    assert {"HOMO", "LUMO"} <= texts
    assert len(ax.lines) >= 4  # correlation links
    assert _png_ok(save_figure(ax, tmp_path / "corr.png"))


def test_dos_chain_angular_pngs(tmp_path):
    doc = ethylene_dimer_doc()
    dos = density_of_states(doc, sigma_ev=0.2)
    op = overlap_population_dos(doc, "A", "B", sigma_ev=0.2)
    ax = plot_dos(dos, "fragment", opdos=op)
    assert {line.get_label() for line in ax.lines} >= {"total", "A", "B"}
    assert _png_ok(save_figure(ax, tmp_path / "dos.png"))
    chain = chain_scaling([1, 2, 3, 4], [-6.0, -5.6, -5.45, -5.38], [-1.0, -1.5, -1.68, -1.77])
    assert _png_ok(save_figure(plot_chain(chain), tmp_path / "chain.png"))
    ang = angular_character(li8_doc(), orbitals=[8, 9, 10, 11], lmax=6)
    ax = plot_angular(ang)
    assert len(ax.patches) >= 4
    assert _png_ok(save_figure(ax, tmp_path / "angular.png"))


def test_cube_integrates_to_one(tmp_path):
    doc = water_doc()
    (path,) = export_cubes(doc, tmp_path, orbitals=["HOMO"], resolution_bohr=0.2)
    assert path.name == "water_HOMO.cube"
    lines = path.read_text().splitlines()
    natm = int(lines[2].split()[0])
    axes = [lines[3 + k].split() for k in range(3)]
    shape = [int(a[0]) for a in axes]
    volume = abs(np.linalg.det(np.array([[float(v) for v in a[1:]] for a in axes])))
    values = np.array(" ".join(lines[6 + natm:]).split(), dtype=float)
    assert values.size == np.prod(shape)
    assert (values**2).sum() * volume == pytest.approx(1.0, abs=0.05)


def test_molden_roundtrip_with_pyscf(tmp_path):
    from pyscf.tools import molden

    doc = water_doc()
    path = export_molden(doc, tmp_path / "w.molden")
    mol, mo_energy, mo_coeff, mo_occ, _, _ = molden.load(str(path))
    assert mol.natm == 3
    assert np.allclose(np.asarray(mo_energy) * 27.211386245988, doc.orbital_energies_ev,
                       atol=1e-5)
    assert np.allclose(mo_occ, doc.occupations)
    overlap = mol.intor("int1e_ovlp")
    assert np.allclose(mo_coeff.T @ overlap @ mo_coeff, np.eye(mo_coeff.shape[1]), atol=1e-5)


def test_export_orbitals_open_shell_and_bad_label(tmp_path):
    paths = export_orbitals(h2_triplet_doc(), tmp_path, orbitals=["HOMO"])
    names = sorted(p.name for p in paths)
    # the beta channel of triplet H2 holds no electron, so it has no HOMO to export
    assert names == ["H2-triplet.molden", "H2-triplet_HOMO_alpha.cube"]
    assert all(p.stat().st_size > 300 for p in paths)
    with pytest.raises(InputError, match="not understood"):
        export_cubes(water_doc(), tmp_path, orbitals=["SOMO"])


def test_optical_gap_matches_direct_pyscf_tda():
    from pyscf import dft

    from superatom.analysis.docdata import settings_of
    from superatom.engine import build_mole
    from superatom.workflows.tda import compute_tda

    doc = water_doc()
    tda = compute_tda(doc.to_molecule(), settings_of(doc), nstates=3)
    assert tda.doc_type == "tda" and tda.input_hash and tda.scf_attempts[-1]["converged"]
    assert tda.ks_gap_ev == pytest.approx(doc.gap_ev, abs=1e-5)  # same ground state
    res = optical_gap(tda, measured_gap_ev=7.4)
    assert len(res.states) == 3 and res.converged
    reference = res.first_bright_ev or res.optical_gap_ev
    assert res.deviation_ev == pytest.approx(reference - 7.4)
    first = res.states[0]
    assert first.wavelength_nm == pytest.approx(1239.841984 / first.energy_ev)
    assert res.optical_gap_ev < res.ks_gap_ev + 1.0
    # independent route: the same settings directly in PySCF
    from superatom.calc_settings import CalcSettings

    settings = CalcSettings(**doc.settings)
    mf = dft.RKS(build_mole(water(), settings), xc=settings.xc)
    mf.grids.level = settings.grids_level
    mf.conv_tol = settings.conv_tol
    mf = mf.density_fit(auxbasis=settings.aux_basis)
    mf.kernel()
    td = mf.TDA()
    td.nstates = 3
    td.kernel()
    direct = np.asarray(td.e) * 27.211386245988
    assert [s.energy_ev for s in res.states] == pytest.approx(direct.tolist(), abs=2e-3)
    assert [s.oscillator_strength for s in res.states] == pytest.approx(
        np.asarray(td.oscillator_strength()).tolist(), abs=2e-3)
