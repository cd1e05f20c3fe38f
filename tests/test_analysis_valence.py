"""Valence frontier detection on a real [MoO4]2- calculation: the formal LUMO is diffuse Mo
5s, the Mo 4d e set lies above it. Independent route: PySCF's own Lowdin orthogonal AOs and AO
labels on the same molecule."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from superatom.analysis.valence import valence_frontier
from superatom.calc_settings import load_preset
from superatom.structures.io import read_molecule
from superatom.workflows.frontier import compute_frontier
from tests.test_analysis_systems import water_doc

MOLYBDATE = Path(__file__).parents[1] / "examples" / "structures" / "molybdate.xyz"


@cache
def molybdate_doc():
    settings = load_preset("screening", device="cpu", grids_level=1, conv_tol=1e-8)
    return compute_frontier(read_molecule(MOLYBDATE), settings, {"name": "MoO4"})


def test_molybdate_formal_lumo_is_mo_s_and_the_d_set_lies_above():
    from pyscf import gto, lo

    doc = molybdate_doc()
    res = valence_frontier(doc)
    assert not res.formal_lumo_valence
    assert res.below_valence and res.below_valence[0].kind == "metal s/p (diffuse)"
    assert res.formal_lumo_ev == pytest.approx(doc.lumo_ev, abs=1e-8)
    assert res.formal_gap_ev == pytest.approx(doc.gap_ev, abs=1e-8)
    assert res.valence_lumo_ev > res.formal_lumo_ev
    assert res.valence_gap_ev == pytest.approx(res.valence_lumo_ev - doc.homo_ev)
    # independent: Mo 4d weight of every virtual from PySCF's Lowdin AOs
    mol = gto.M(atom=[(s.specie.symbol, s.coords) for s in read_molecule(MOLYBDATE)],
                basis="def2-svp", ecp={"Mo": "def2-svp"}, charge=-2, verbose=0)
    coeff = np.asarray(doc.orbitals.arrays()["mo_coeff"])
    orth = lo.orth_ao(mol, "lowdin", pre_orth_ao=None)
    weights = (np.linalg.solve(orth, coeff)) ** 2
    labels = [label.split() for label in mol.ao_labels()]
    d_ao = [k for k, (_, el, shell, *_) in enumerate(labels) if el == "Mo" and "d" in shell]
    s_ao = [k for k, (_, el, shell, *_) in enumerate(labels) if el == "Mo" and "s" in shell]
    lumo = doc.orbitals.arrays()["mo_occ"].tolist().index(0.0)
    assert weights[s_ao, lumo].sum() > 0.5 and weights[d_ao, lumo].sum() < 0.05
    first_d = next(i for i in range(lumo, coeff.shape[1]) if weights[d_ao, i].sum() >= 0.3)
    assert res.valence_lumo_index == first_d
    # the e set of Td MoO4: two degenerate d levels
    energies = np.asarray(doc.orbital_energies_ev)
    assert energies[first_d + 1] == pytest.approx(energies[first_d], abs=1e-3)


def test_system_without_d_metal_keeps_its_lumo():
    res = valence_frontier(water_doc())
    assert res.formal_lumo_valence and res.below_valence == []
    assert res.valence_gap_ev == pytest.approx(res.formal_gap_ev)


def test_molybdate_pdos_plot_is_lowdin_nonnegative_with_metal_d_and_o_p():
    from superatom.analysis.dos import density_of_states
    from superatom.analysis.plots import plot_dos

    doc = molybdate_doc()
    mulliken = density_of_states(doc, method="mulliken")
    lowdin = density_of_states(doc, method="lowdin")
    # the reason for the default: Mulliken O shares go negative on diffuse virtuals
    assert min(min(c) for c in mulliken.pdos["element"].values()) < -1e-3
    assert min(min(c) for c in lowdin.pdos["element_angular"].values()) > -1e-12
    ax = plot_dos(lowdin)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"total", "Mo-d", "O-p", "Mo-s"} <= set(labels)
    assert "Lowdin" in ax.get_legend().get_title().get_text()
    marks = [t.get_text() for t in ax.texts]
    assert f"HOMO {doc.homo_ev:.2f}" in marks and f"LUMO {doc.lumo_ev:.2f}" in marks
    # the axis spans the states, not the empty end of the grid
    energies, total = np.asarray(lowdin.energies_ev), np.asarray(lowdin.total)
    low, _ = ax.get_xlim()
    assert low > energies[0] and total[energies < low].max() < 1e-3 * total.max()
