"""Composition, orbital correlation, fragment-orbital couplings and analyze_interaction.

Independent routes: direct HOMO/HOMO-1 differences of the dimer SCF, generalized eigenvalues
of the FO Fock matrix, eigen-decomposition Lowdin weights, electron-count sum rules.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from pymatgen.core import Molecule

from superatom.analysis.composition import orbital_composition
from superatom.analysis.correlation import correlate_orbitals
from superatom.analysis.docdata import doc_data
from superatom.analysis.embedding import embed_monomers, map_atoms
from superatom.analysis.fragment_orbitals import fo_basis, fragment_orbital_couplings
from superatom.analysis.interaction import analyze_interaction
from superatom.errors import InputError
from tests.test_analysis_systems import (
    ethylene_dimer_doc,
    ethylene_doc,
    ethylene_top_doc,
    ethylene_water_doc,
    h2_triplet_doc,
    h_atom_doc,
    n2_doc,
    water_doc,
)

HARTREE_TO_EV = 27.211386245988


@pytest.fixture(scope="module")
def mono():
    return ethylene_doc()


@pytest.fixture(scope="module")
def dimer():
    return ethylene_dimer_doc()


def _direct(doc, i, j):
    """Orbital energy difference e_j - e_i (eV) straight from the document."""
    e = np.asarray(doc.orbital_energies_ev)
    return e[j] - e[i]


# --------------------------------------------------------------------------- composition


@pytest.mark.parametrize("method", ["mulliken", "lowdin", "scpa"])
def test_composition_weights_sum_to_one(dimer, method):
    res = orbital_composition(dimer, method=method, window=3)
    assert len(res.orbitals) == 6 and res.fragments == ["A", "B"]
    for orb in res.orbitals:
        for weights in (orb.fragment, orb.element, orb.angular, orb.element_angular):
            assert sum(weights.values()) == pytest.approx(1.0, abs=1e-10)
        assert set(orb.angular) == {"s", "p"}
    homo = next(o for o in res.orbitals if o.label == "HOMO")
    # the pi HOMO of the stacked dimer: carbon p, shared equally by both ethylenes
    assert homo.fragment["A"] == pytest.approx(0.5, abs=1e-6)
    assert homo.participation_ratio == pytest.approx(2.0, abs=1e-4)
    assert homo.element_angular["C-p"] > 0.95


def test_composition_matches_independent_formulas(water_lowdin=None):
    doc = water_doc()
    data = doc_data(doc)
    chan = data.channel()
    s, c = data.overlap, chan.coeff
    # Lowdin from an eigen-decomposition of S (the module uses scipy.linalg.sqrtm)
    vals, vecs = np.linalg.eigh(s)
    half = (vecs * np.sqrt(vals)) @ vecs.T
    lowdin_o = ((half @ c) ** 2)[data.ao_atom == 0].sum(axis=0)
    res = orbital_composition(doc, method="lowdin", orbitals=range(c.shape[1]))
    assert np.allclose([o.element["O"] for o in res.orbitals], lowdin_o, atol=1e-8)
    # SCPA by hand
    scpa = (c**2 / (c**2).sum(axis=0))[data.ao_atom == 0].sum(axis=0)
    res = orbital_composition(doc, method="scpa", orbitals=range(c.shape[1]))
    assert np.allclose([o.element["O"] for o in res.orbitals], scpa, atol=1e-10)
    # Mulliken gross populations summed with occupations give the electron count
    res = orbital_composition(doc, method="mulliken", orbitals=range(c.shape[1]))
    electrons = sum(o.occupation * sum(o.element.values()) for o in res.orbitals)
    assert electrons == pytest.approx(doc.n_electrons, abs=1e-8)
    assert res.orbitals[0].angular["s"] > 0.99  # O 1s core


# --------------------------------------------------------------------------- correlation


def test_homodimer_correlation_same_doc_twice(mono, dimer):
    res = correlate_orbitals([mono, mono], dimer)
    assert res.monomers == ["C2H4#1", "C2H4#2"]
    assert res.atom_maps == {"C2H4#1": list(range(6)), "C2H4#2": list(range(6, 12))}
    chan = res.channels[0]
    homo = next(lev for lev in chan.levels if lev.label == "HOMO")
    lumo = next(lev for lev in chan.levels if lev.label == "LUMO")
    assert homo.assembly_labels == ["HOMO-1", "HOMO"]
    assert lumo.assembly_labels == ["LUMO", "LUMO+1"]
    n_occ = dimer.n_electrons // 2
    assert homo.splitting_ev == pytest.approx(_direct(dimer, n_occ - 2, n_occ - 1), abs=1e-10)
    assert lumo.splitting_ev == pytest.approx(_direct(dimer, n_occ, n_occ + 1), abs=1e-10)
    assert 0.1 < homo.splitting_ev < 1.0
    assert min(homo.projections) > 0.99
    assert chan.homo_shift_ev == pytest.approx(dimer.homo_ev - mono.homo_ev, abs=1e-10)
    assert chan.gap_change_ev == pytest.approx(dimer.gap_ev - mono.gap_ev, abs=1e-10)
    # every assembly frontier MO overlaps both monomers equally
    level = next(a for a in chan.assembly_levels if a.label == "HOMO")
    assert level.best_label == "HOMO" and level.best_weight == pytest.approx(0.5, abs=0.02)
    assert level.monomer_weights["C2H4#1"] == pytest.approx(level.monomer_weights["C2H4#2"])
    assert any(link.assembly_label == "HOMO" and link.monomer_label == "HOMO"
               for link in chan.links)


def test_two_separately_computed_monomers_agree_with_doc_used_twice(mono, dimer):
    twice = correlate_orbitals([mono, mono], dimer).channels[0]
    placed = correlate_orbitals([mono, ethylene_top_doc()], dimer).channels[0]
    for a, b in zip(twice.levels, placed.levels, strict=True):
        assert a.label == b.label
        assert a.splitting_ev == pytest.approx(b.splitting_ev, abs=1e-4)


def test_different_monomers_translated_water():
    eth, wat, ab = ethylene_doc(), water_doc(), ethylene_water_doc()
    res = correlate_orbitals([eth, wat], ab)
    assert res.atom_maps == {"C2H4": list(range(6)), "water": [6, 7, 8]}
    chan = res.channels[0]
    homo = next(lev for lev in chan.levels if lev.label == "HOMO")
    # one HOMO from each monomer -> two assembly orbitals, mean shift well defined
    assert len(homo.assembly_orbitals) == 2 and len(homo.monomer_energies_ev) == 2
    assert chan.monomer_homo_ev == pytest.approx(max(eth.homo_ev, wat.homo_ev))
    assert chan.gap_monomer_ev == pytest.approx(
        min(eth.lumo_ev, wat.lumo_ev) - max(eth.homo_ev, wat.homo_ev))
    # sto-3g water HOMO (-4.3 eV) lies above the ethylene pi HOMO (-6.1 eV)
    best = next(a for a in chan.assembly_levels if a.label == "HOMO")
    assert best.best_monomer == "water" and best.best_weight > 0.9
    lumo = next(a for a in chan.assembly_levels if a.label == "LUMO")
    assert lumo.best_monomer == "C2H4" and lumo.best_label == "LUMO"


def test_atom_mapping_permuted_and_mismatch():
    mono = Molecule(["O", "H", "H"], [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    coords = np.vstack([mono.cart_coords[[2, 0, 1]], mono.cart_coords + np.array([0, 0, 4.0])])
    assembly = Molecule(["H", "O", "H", "O", "H", "H"], coords)
    atoms, shift = map_atoms(mono, assembly)
    assert atoms.tolist() == [1, 2, 0] and np.allclose(shift, 0)
    atoms, shift = map_atoms(mono, assembly, used=np.array([1, 1, 1, 0, 0, 0], bool))
    assert atoms.tolist() == [3, 4, 5] and np.allclose(shift, [0, 0, 4.0])
    rotated = Molecule(["O", "H", "H"], [[0, 0, 0], [0, 0.96, 0], [0.93, -0.24, 0]])
    with pytest.raises(InputError, match="does not match"):
        map_atoms(rotated, assembly)


def test_mismatched_monomer_is_one_line_input_error(mono, dimer):
    with pytest.raises(InputError) as err:
        analyze_interaction([n2_doc()], dimer)
    assert "\n" not in str(err.value)
    other = mono.model_copy(update={"settings": {**mono.settings, "xc": "B3LYP"}})
    with pytest.raises(InputError, match="different methods"):
        analyze_interaction([other, mono], dimer)


# --------------------------------------------------------------------------- FO basis


def test_fo_predicted_splitting_matches_direct(mono, dimer):
    res = fragment_orbital_couplings([mono, ethylene_top_doc()], dimer)
    n_occ = dimer.n_electrons // 2
    by_label = {c.label_a: c for c in res.channels[0].couplings}
    direct_homo = _direct(dimer, n_occ - 2, n_occ - 1)
    direct_lumo = _direct(dimer, n_occ, n_occ + 1)
    homo, lumo = by_label["HOMO"], by_label["LUMO"]
    # measured: 0.3034 vs 0.3039 eV (HOMO), 0.2110 vs 0.2112 eV (LUMO)
    assert homo.predicted_splitting_ev == pytest.approx(direct_homo, abs=0.005)
    assert lumo.predicted_splitting_ev == pytest.approx(direct_lumo, abs=0.005)
    assert homo.site_energy_a_ev == pytest.approx(homo.site_energy_b_ev, abs=1e-3)
    assert abs(homo.overlap) < 0.05 and not homo.degenerate
    top = res.channels[0].frontier[1]
    assert top.label == "HOMO"
    assert {c[1] for c in top.contributions[:2]} == {"HOMO"}
    assert top.contributions[0][2] + top.contributions[1][2] > 0.99


def test_fo_basis_reproduces_assembly_orbitals(mono, dimer):
    assembly = doc_data(dimer)
    monomers = [doc_data(mono), doc_data(ethylene_top_doc())]
    basis = fo_basis(embed_monomers(monomers, assembly), assembly, "restricted")
    chan = assembly.channel()
    nmo = monomers[0].nao
    # monomer MOs are orthonormal within each block
    assert np.allclose(basis.s_fo[:nmo, :nmo], np.eye(nmo), atol=1e-8)
    assert np.allclose(basis.b @ basis.c_fo, chan.coeff, atol=1e-8)
    # generalized eigenvalues of (F_FO, S_FO) are the assembly orbital energies
    energies = scipy.linalg.eigh(basis.f_fo, basis.s_fo, eigvals_only=True)
    assert np.allclose(energies, chan.energy, atol=1e-7)
    # the FO site energy of the HOMO is close to the monomer HOMO (same geometry)
    k = basis.column(0, doc_data(mono).channel().homo)
    assert basis.f_fo[k, k] * HARTREE_TO_EV == pytest.approx(mono.homo_ev, abs=0.3)


# --------------------------------------------------------------------------- interaction


def test_analyze_interaction_bundle(mono, dimer):
    res = analyze_interaction([mono, mono], dimer, method="lowdin")
    assert res.spins == ["restricted"] and len(res.summary) == 1
    s = res.summary[0]
    assert s.homo_splitting_ev == pytest.approx(s.fo_homo_splitting_ev, abs=0.005)
    assert s.lumo_splitting_ev == pytest.approx(s.fo_lumo_splitting_ev, abs=0.005)
    assert s.gap_change_ev == pytest.approx(dimer.gap_ev - mono.gap_ev)
    assert s.homo_participation_ratio == pytest.approx(2.0, abs=1e-3)
    assert s.homo_fragment_weights == pytest.approx({"A": 0.5, "B": 0.5}, abs=1e-4)
    assert res.composition.method == "lowdin"
    assert res.angular == []
    again = type(res).model_validate_json(res.model_dump_json())
    assert again.summary[0].homo_splitting_ev == s.homo_splitting_ev


def test_monomer_labels_used_when_assembly_has_no_fragments(mono, dimer):
    plain = Molecule.from_dict(dimer.molecule)
    bare = dimer.model_copy(update={
        "molecule": Molecule(plain.species, plain.cart_coords).as_dict()})
    res = analyze_interaction([mono, mono], bare)
    assert res.fragment_labels == ["C2H4#1"] * 6 + ["C2H4#2"] * 6
    weights = res.summary[0].homo_fragment_weights
    assert weights == pytest.approx({"C2H4#1": 0.5, "C2H4#2": 0.5}, abs=1e-4)


def test_analyze_interaction_with_angular_centres(mono, dimer):
    res = analyze_interaction([mono, mono], dimer, angular=True, lmax=4)
    assert {a.label for a in res.angular} == {"A", "B"}
    assert type(res).model_validate_json(res.model_dump_json()).angular[0].label == "A"
    for ang in res.angular:
        assert [o.label for o in ang.orbitals] == ["HOMO", "LUMO"]
        for orb in ang.orbitals:
            assert sum(orb.weights.values()) == pytest.approx(1.0)


def test_open_shell_documents_are_analysed_per_spin():
    h = h_atom_doc()
    res = analyze_interaction([h, h], h2_triplet_doc())
    assert res.spins == ["alpha", "beta"]
    alpha = res.summary[0]
    assert alpha.spin == "alpha"
    # two H 1s FOs in the alpha channel: both occupied, predicted splitting ~ direct
    direct = res.correlation.channels[0].levels[0]
    assert direct.label == "HOMO" and len(direct.assembly_orbitals) == 2
    assert alpha.fo_homo_splitting_ev == pytest.approx(direct.splitting_ev, rel=0.1)
    assert res.fragment_labels == ["Ha", "Hb"]


def test_degenerate_set_coupling_is_rotation_invariant():
    """Two offset N2: the pi* LUMO pair of each is degenerate, so any rotation inside the pair
    is an equally valid monomer basis. Single J elements change under it, the reported RMS
    coupling and the Lowdin site energies must not."""
    from superatom.analysis.docdata import Channel
    from superatom.analysis.fragment_orbitals import fo_channel
    from superatom.workflows.frontier import compute_frontier
    from tests.test_analysis_systems import settings

    shift = np.array([0.9, 0.4, 3.0])
    first = Molecule(["N", "N"], [[0, 0, -0.55], [0, 0, 0.55]])
    second = Molecule(["N", "N"], first.cart_coords + shift)
    pair = Molecule(["N"] * 4, np.vstack([first.cart_coords, second.cart_coords]),
                    site_properties={"fragment": ["A", "A", "B", "B"]})
    docs = [compute_frontier(m, settings(), {"name": n})
            for m, n in ((first, "N2a"), (second, "N2b"), (pair, "(N2)2"))]
    assembly = doc_data(docs[2])
    monomers = [doc_data(d) for d in docs[:2]]
    lumo = monomers[0].channel().lumo
    assert monomers[0].channel().energy[lumo + 1] == pytest.approx(
        monomers[0].channel().energy[lumo], abs=1e-6)
    before = fo_channel(embed_monomers(monomers, assembly), assembly, "restricted")
    angle = 0.7
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    base = monomers[0].channels[0]
    coeff = base.coeff.copy()
    coeff[:, [lumo, lumo + 1]] = coeff[:, [lumo, lumo + 1]] @ rot
    monomers[0].channels[0] = Channel(base.spin, coeff, base.energy, base.occ, base.fock)
    embedded = embed_monomers(monomers, assembly)
    after = fo_channel(embedded, assembly, "restricted")
    old, new = (next(c for c in ch.couplings if c.label_a == "LUMO") for ch in (before, after))
    assert old.degenerate and (old.set_size_a, old.set_size_b) == (2, 2)
    assert abs(old.effective_coupling_ev) > 0.05  # a real coupling, not a zero by symmetry
    assert new.effective_coupling_ev == pytest.approx(old.effective_coupling_ev, abs=1e-8)
    assert new.site_energy_a_ev == pytest.approx(old.site_energy_a_ev, abs=1e-8)
    # while the single elements <LUMO(+1)_a|F|LUMO(+1)_b> do change under the rotation
    blocks = []
    for emb in (embed_monomers([doc_data(docs[0]), monomers[1]], assembly), embedded):
        basis = fo_basis(emb, assembly, "restricted")
        cols = [[basis.column(m, k) for k in (lumo, lumo + 1)] for m in (0, 1)]
        blocks.append(basis.f_fo[np.ix_(cols[0], cols[1])] * HARTREE_TO_EV)
    assert np.abs(blocks[0] - blocks[1]).max() > 0.01
    assert np.linalg.norm(blocks[0]) == pytest.approx(np.linalg.norm(blocks[1]), abs=1e-8)


def test_heterodimer_shift_names_its_reference_and_gives_every_monomer():
    eth, wat, ab = ethylene_doc(), water_doc(), ethylene_water_doc()
    s = analyze_interaction([eth, wat], ab).summary[0]
    # the shift is taken against the higher of the two monomer HOMOs, and says which
    top = max((eth, wat), key=lambda d: d.homo_ev)
    assert s.homo_reference == top.name
    assert s.homo_shift_ev == pytest.approx(ab.homo_ev - top.homo_ev, abs=1e-8)
    assert s.homo_shifts_ev == pytest.approx(
        {"C2H4": ab.homo_ev - eth.homo_ev, "water": ab.homo_ev - wat.homo_ev}, abs=1e-8)
    low = min((eth, wat), key=lambda d: d.lumo_ev)
    assert s.lumo_reference == low.name
    assert s.lumo_shift_ev == pytest.approx(s.lumo_shifts_ev[low.name])
    # FO site energies of non-equivalent monomers differ, the two-level value includes it
    assert abs(s.fo_homo_site_difference_ev) > 0.5
    assert s.fo_homo_splitting_ev >= abs(s.fo_homo_site_difference_ev) - 1e-9


def test_homodimer_has_equal_site_energies_and_consistent_splittings(mono, dimer):
    s = analyze_interaction([mono, mono], dimer).summary[0]
    assert s.fo_homo_site_difference_ev == pytest.approx(0.0, abs=1e-6)
    assert s.homo_reference in ("C2H4#1", "C2H4#2")
    assert s.homo_shifts_ev["C2H4#1"] == pytest.approx(s.homo_shifts_ev["C2H4#2"])
    assert not [n for n in s.notes if "two-level" in n]  # the two splittings agree
    # a LUMO pair split around the monomer level: shift (lower member) and centroid (mean)
    # have opposite signs, and the note says why with the splitting
    lumo = next(lev for lev in analyze_interaction([mono, mono], dimer).correlation.channels[0]
                .levels if lev.label == "LUMO")
    if (lumo.centroid_shift_ev > 0) != (s.lumo_shift_ev > 0):
        assert any(f"split by {lumo.splitting_ev:.3f} eV" in n for n in s.notes)


def test_non_equivalent_monomers_get_a_stated_reason():
    eth, wat, ab = ethylene_doc(), water_doc(), ethylene_water_doc()
    res = analyze_interaction([eth, wat], ab)
    s, fo = res.summary[0], res.fragment_orbitals.channels[0].couplings
    homo = next(c for c in fo if c.label_a == "HOMO")
    # the monomer HOMOs differ, the FO site energies say it, no hidden inconsistency
    assert s.fo_homo_site_difference_ev == pytest.approx(
        homo.site_energy_a_ev - homo.site_energy_b_ev)
    # the two-level value is almost all site-energy difference, and agrees with the MOs
    assert s.fo_homo_splitting_ev == pytest.approx(abs(s.fo_homo_site_difference_ev), rel=0.05)
    assert not [n for n in s.notes if "two-level" in n]
    # the water HOMO rises, the ethylene one falls: the centroid and the shift differ in sign
    # and the note names the splitting that explains it
    level = next(lev for lev in res.correlation.channels[0].levels if lev.label == "HOMO")
    assert (level.centroid_shift_ev > 0) != (s.homo_shift_ev > 0)
    assert any(n.startswith("HOMO centroid shift") and f"split by {level.splitting_ev:.3f} eV"
               in n for n in s.notes)


def test_one_monomer_for_a_two_fragment_assembly_is_an_error(mono, dimer):
    with pytest.raises(InputError, match="cover only A: give a monomer result for B") as err:
        analyze_interaction([mono], dimer)
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="for B"):
        correlate_orbitals([mono], dimer)
