"""Geometry checks against crystal references (SCIENCE notes: crystal bond lengths)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Molecule

from superatom.engine.xtb import relax_xtb
from superatom.structures.io import read_molecule
from superatom.structures.lindqvist import build_lindqvist
from superatom.structures.standard import STANDARD_SET, load_standard
from superatom.structures.substituted import build_lacunary, build_substituted
from superatom.structures.validate import (
    bond_lengths,
    framework_indices,
    mo_deviations,
    mo_warnings,
    nonbonded_contacts,
)

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", list(STANDARD_SET))
def test_standard_set_is_crystal_quality(name):
    mol = load_standard(name)
    dev = mo_deviations(mol)
    assert mo_warnings(mol) == []
    metal = "Mo" if "Mo" in name else "W"
    # crystal references: W-Ot 1.70-1.71, W-Ob/Oc 1.91-1.94, W6O19 W-O(centre) 2.33
    assert dev[f"{metal}-Ot"]["mean"] == pytest.approx(1.70 if metal == "W" else 1.675, abs=0.01)
    assert 1.91 <= dev[f"{metal}-Ob"]["mean"] <= 1.94
    if name.endswith("O19"):
        assert dev[f"{metal}-Oc6"]["mean"] == pytest.approx(2.33 if metal == "W" else 2.32,
                                                            abs=0.005)
    else:
        assert 2.33 <= dev[f"{metal}-Oa"]["mean"] <= 2.45
    assert not nonbonded_contacts(mol)


@pytest.mark.parametrize("name, bad", [("W6O19", {"W-Oc6", "W-Ob"}), ("PW12O40", {"W-Oa"})])
def test_free_gfn2_minima_fail_the_crystal_check(name, bad):
    # the geometries shipped before: free GFN2-xTB minima (W6O19 W-O(centre) 2.53 A vs 2.33)
    mol = read_molecule(DATA / f"{name}_gfn2_free_minimum.xyz")
    flagged = {line.split()[0] for line in mo_warnings(mol)}
    assert flagged == bad
    if name == "W6O19":
        assert mo_deviations(mol)["W-Oc6"]["mean"] == pytest.approx(2.53, abs=0.01)


def test_relax_holds_the_framework_and_free_relax_warns():
    mol = build_lindqvist("W")
    held, info = relax_xtb(mol, steps=20)
    assert len(info["fixed"]) == len(mol) and info["mo_warnings"] == []
    assert np.allclose(held.cart_coords, mol.cart_coords)
    with pytest.warns(UserWarning, match="W-Oc6"):
        _, info = relax_xtb(mol, steps=40, fix=None)
    # free GFN2 minimum: W-O(centre) ~2.53 A, far outside the crystal 2.31-2.35 A
    assert info["mo_deviations"]["W-Oc6"]["mean"] > 2.45
    assert any(line.startswith("W-Oc6") for line in info["mo_warnings"])


def test_constrained_relax_moves_only_water():
    # a W=O...H-O-H hydrogen-bonded pair: the water relaxes, the Lindqvist stays put
    mol = build_lindqvist("W")
    ot = mol.cart_coords[7]
    e = ot / np.linalg.norm(ot)
    water = [ot + 1.9 * e, ot + 2.85 * e, ot + 1.9 * e + 0.96 * np.cross(e, [0, 0, 1.0])]
    pair = Molecule([*mol.species, "H", "O", "H"], [*mol.cart_coords, *water], charge=-2)
    fixed = framework_indices(pair)
    assert fixed == list(range(25))
    relaxed, info = relax_xtb(pair, steps=30)
    moved = np.linalg.norm(relaxed.cart_coords - pair.cart_coords, axis=1)
    assert moved[:25].max() == 0.0 and moved[25:].max() > 0.05
    assert info["mo_warnings"] == []


@pytest.mark.parametrize("ln, lo, hi", [("La", 2.50, 2.55), ("Lu", 2.35, 2.40), ("Y", 2.36, 2.42)])
def test_lacunary_site_bonds_and_ln_coordination(ln, lo, hi):
    mol = build_substituted(ln)
    dev = mo_deviations(mol)
    # [Sm(PW11O39)2]11- crystal: lacuna W-O 1.71-1.78 (mean 1.74); Ln-O 2.35-2.55
    assert dev["W-OLn"]["n"] == 4
    assert 1.71 <= dev["W-OLn"]["min"] and dev["W-OLn"]["max"] <= 1.78
    assert dev["W-OLn"]["mean"] == pytest.approx(1.74, abs=0.01)
    ln_o = bond_lengths(mol, ln, "O", 2.9)
    assert len(ln_o) == 8  # 4 lacuna O + 4 aqua
    assert lo <= ln_o.min() and ln_o.max() <= hi
    assert mo_warnings(mol) == [] and not nonbonded_contacts(mol)


def test_la_longest_lu_shortest():
    means = {ln: bond_lengths(build_substituted(ln), ln, "O", 2.9).mean()
             for ln in ("La", "Gd", "Lu")}
    assert means["La"] > means["Gd"] > means["Lu"]


def test_bare_lacuna_bonds_shortened():
    dev = mo_deviations(build_lacunary())
    assert dev["W-Ot"]["max"] == pytest.approx(1.74, abs=0.01)


def _angle(xyz, a, b, c) -> float:
    u, v = xyz[a] - xyz[b], xyz[c] - xyz[b]
    return float(np.degrees(np.arccos(u @ v / np.linalg.norm(u) / np.linalg.norm(v))))


def _bridge_angles(mol, linker: str) -> list[float]:
    """M-O-W angles at every O bonded to both a ``linker`` atom and a W."""
    syms = [s.specie.symbol for s in mol]
    xyz = mol.cart_coords
    d = mol.distance_matrix
    out = []
    for o in (i for i, s in enumerate(syms) if s == "O"):
        ms = [j for j in range(len(syms)) if syms[j] == linker and d[o, j] < 2.8]
        ws = [j for j in range(len(syms)) if syms[j] == "W" and d[o, j] < 2.0]
        out += [_angle(xyz, m, o, w) for m in ms for w in ws]
    return out


def test_ca_bridge_is_six_coordinate_and_bent():
    from superatom.structures.assemblies import build_ca_chain
    from superatom.structures.validate import coordination_numbers

    mol = build_ca_chain(2)
    assert coordination_numbers(mol, "Ca") == [6]  # 2 W=O + 4 H2O (6-8 in Ca POM salts)
    angles = _bridge_angles(mol, "Ca")
    assert len(angles) == 2 and all(150 <= a <= 170 for a in angles)
    assert mo_warnings(mol) == [] and not nonbonded_contacts(mol)


@pytest.mark.parametrize("kind, options", [
    ("dimer", {"ln": "La"}),
    ("clusterphene", {"ln": "Gd", "shape": "ring"}),
])
def test_ln_links_are_bent_and_ln_eight_coordinate(kind, options):
    from superatom.structures.registry import build_structure

    mol = build_structure(kind, **options)
    ln = options["ln"]
    n_units = len(set(mol.site_properties["fragment"]))
    # link O: a terminal W=O of one unit bound to the Ln of the next (Ln-O-W 150-170 deg)
    angles = _bridge_angles(mol, ln)
    links = n_units if options.get("shape") == "ring" else n_units - 1
    assert len(angles) == 4 * n_units + links
    assert all(145 <= a <= 170 for a in angles)
    syms = np.array([s.specie.symbol for s in mol])
    d = mol.distance_matrix
    for i in np.flatnonzero(syms == ln):
        assert np.sum((syms == "O") & (d[i] < 2.8)) == 8
    assert mo_warnings(mol) == [] and not nonbonded_contacts(mol)


def _unit_links(mol, ln: str) -> dict[str, set[str]]:
    """Unit label -> labels of the units it is bonded to through Ln-O-W links."""
    syms = np.array([s.specie.symbol for s in mol])
    labels = np.array(mol.site_properties["fragment"])
    d = mol.distance_matrix
    out: dict[str, set[str]] = {lab: set() for lab in set(labels)}
    for i in np.flatnonzero(syms == ln):
        for o in np.flatnonzero((syms == "O") & (d[i] < 2.8) & (labels != labels[i])):
            if np.any((syms == "W") & (d[o] < 2.0) & (labels == labels[o])):
                out[labels[i]].add(labels[o])
                out[labels[o]].add(labels[i])
    return out


def test_honeycomb_graph_neighbour_counts():
    from superatom.structures.honeycomb import honeycomb_graph

    for (nx, ny), (n_vertices, n_three) in {(1, 1): (6, 0), (2, 1): (10, 2),
                                            (2, 2): (16, 6)}.items():  # fmt: skip
        xy, sub, edges = honeycomb_graph(nx, ny)
        degree = np.bincount(np.array(edges).ravel(), minlength=len(xy))
        assert len(xy) == n_vertices and int(np.sum(degree == 3)) == n_three
        assert set(degree) <= {2, 3}
        # each A unit gives one W=O and takes two links on its Ln; B units the reverse
        for k, s in enumerate(sub):
            gives = sum(a == k for a, _ in edges)
            assert gives <= (1 if s == "A" else 2)


def test_clusterphene_patch_has_three_linked_inner_units():
    from superatom.structures.registry import build_structure

    mol = build_structure("clusterphene-patch", ln="La", nx=2, ny=1)
    assert mol.charge == -40 and len(set(mol.site_properties["fragment"])) == 10
    links = _unit_links(mol, "La")
    counts = sorted(len(v) for v in links.values())
    assert counts == [2] * 8 + [3] * 2  # naphthalene-like: the two shared-edge units have 3
    syms = np.array([s.specie.symbol for s in mol])
    d = mol.distance_matrix
    for i in np.flatnonzero(syms == "La"):
        assert np.sum((syms == "O") & (d[i] < 2.8)) == 8
    angles = [a for a in _bridge_angles(mol, "La") if a > 0]
    assert len(angles) == 4 * 10 + 11 and all(145 <= a <= 170 for a in angles)
    assert mo_warnings(mol) == [] and not nonbonded_contacts(mol)


def test_honeycomb_pore_option_of_clusterphene():
    from superatom.structures.assemblies import build_clusterphene

    pore = build_clusterphene("Y", shape="honeycomb")
    links = _unit_links(pore, "Y")
    assert len(links) == 6 and all(len(v) == 2 for v in links.values())
    syms = np.array([s.specie.symbol for s in pore])
    d = pore.distance_matrix
    assert all(np.sum((syms == "O") & (d[i] < 2.8)) == 8 for i in np.flatnonzero(syms == "Y"))
    assert mo_warnings(pore) == [] and not nonbonded_contacts(pore)


_ALL_BUILDERS = [
    ("keggin", {}), ("keggin", {"isomer": "beta"}), ("keggin", {"heteroatom": "Si", "metal": "Mo"}),
    ("lindqvist", {"metal": "Mo"}), ("dawson", {}), ("dawson", {"substituent": "La"}),
    ("dawson", {"substituent": "Co"}), ("anderson", {}), ("substituted", {"metal": "none"}),
    ("substituted", {"metal": "Co"}), ("dimer", {"type": "sandwich"}), ("dimer", {"type": "ca"}),
    ("ca-chain", {"n": 3}), ("clusterphene", {"n": 2}), ("au25", {}),
]  # fmt: skip


@pytest.mark.parametrize("kind, options", _ALL_BUILDERS)
def test_every_builder_passes_the_geometry_checks(kind, options):
    from superatom.structures.registry import build_structure

    mol = build_structure(kind, **options)
    assert mo_warnings(mol) == []
    assert nonbonded_contacts(mol) == []


def test_bond_class_of_a_transition_metal_substituent_is_not_judged_as_terminal():
    dev = mo_deviations(build_substituted("Co"))
    # the four W-O(Co) bonds keep bridging lengths; they are not terminal W=O (1.69-1.72)
    assert dev["W-O(TM)"]["n"] == 4 and "reference" not in dev["W-O(TM)"]
    assert dev["W-Ot"]["max"] < 1.72


@pytest.mark.parametrize("name", list(STANDARD_SET))
def test_shipped_standard_files_are_the_builders_output(name):
    from superatom.structures.registry import build_structure

    kind, options = STANDARD_SET[name]
    built, shipped = build_structure(kind, **options), load_standard(name)
    assert [s.specie for s in built] == [s.specie for s in shipped]
    assert np.allclose(built.cart_coords, shipped.cart_coords, atol=1e-5)
    assert (built.charge, built.spin_multiplicity) == (shipped.charge, shipped.spin_multiplicity)


def test_campaign_prerelax_holds_the_framework_and_records_deviations():
    # prerelax (examples/mission.yaml) runs XtbFrontierMaker(relax=True)
    from jobflow import run_locally

    from superatom.workflows.xtb import XtbFrontierMaker

    mol = build_lindqvist("W")
    out = run_locally(XtbFrontierMaker(relax=True).make(mol), ensure_success=True, log=False)
    doc = next(iter(out.values()))[1].output
    relaxed = Molecule.from_dict(doc.molecule)
    assert np.allclose(relaxed.cart_coords, mol.cart_coords)  # free GFN2 gives W-Oc 2.53 A
    assert doc.relax_info["mo_warnings"] == []
    assert doc.relax_info["mo_deviations"]["W-Oc6"]["mean"] == pytest.approx(2.33, abs=1e-3)
