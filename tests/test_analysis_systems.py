"""Small real systems shared by the analysis tests (cached per test session).

Every result is a real PySCF run through :func:`compute_frontier` with the ``fast`` preset
on the CPU and a small basis; the functions are cached so each SCF runs once per session.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import load_preset
from superatom.workflows.frontier import compute_frontier

STACK = 3.8  # Angstrom between stacked ethylene planes


def settings(basis: str = "sto-3g", **extra):
    return load_preset("fast", device="cpu", basis=basis, **extra)


def ethylene(z: float = 0.0, tag: str = "C2H4") -> Molecule:
    """Planar ethylene in the xy plane at height z (Angstrom)."""
    c, hx, hy = 0.667, 1.232, 0.923
    coords = [[c, 0, z], [-c, 0, z], [hx, hy, z], [hx, -hy, z], [-hx, hy, z], [-hx, -hy, z]]
    return Molecule(["C", "C", "H", "H", "H", "H"], coords,
                    site_properties={"fragment": [tag] * 6})


def ethylene_dimer(distance: float = STACK) -> Molecule:
    a, b = ethylene(0.0, "A"), ethylene(distance, "B")
    return Molecule([*a.species, *b.species], np.vstack([a.cart_coords, b.cart_coords]),
                    site_properties={"fragment": ["A"] * 6 + ["B"] * 6})


def li8() -> Molecule:
    """Li8 of Td symmetry: inner tetrahedron (1.0 A) capped by an outer one (1.72 A)."""
    even = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float)
    return Molecule(["Li"] * 8, np.vstack([1.0 * even, -1.72 * even]),
                    site_properties={"fragment": ["Li8"] * 8})


def n2() -> Molecule:
    return Molecule(["N", "N"], [[0, 0, -0.55], [0, 0, 0.55]])


def h_chain(n_units: int, short: float = 0.75, long: float = 1.25) -> Molecule:
    """Linear (H2)_n along x with alternating short/long bonds, one fragment per H2."""
    xs, x = [], 0.0
    for _ in range(n_units):
        xs += [x, x + short]
        x += short + long
    return Molecule(["H"] * (2 * n_units), [[v, 0, 0] for v in xs],
                    site_properties={"fragment": [f"H2#{k}" for k in range(n_units)
                                                  for _ in range(2)]})


def water() -> Molecule:
    return Molecule(["O", "H", "H"], [[0, 0, 0.1173], [0, 0.7572, -0.4692],
                                      [0, -0.7572, -0.4692]],
                    site_properties={"fragment": ["w"] * 3})


def cuh() -> Molecule:
    return Molecule(["Cu", "H"], [[0, 0, 0], [0, 0, 1.46]],
                    site_properties={"fragment": ["Cu", "H"]})


@cache
def ethylene_doc():
    return compute_frontier(ethylene(), settings(), {"name": "C2H4"})


@cache
def ethylene_top_doc():
    """The upper ethylene of the dimer, computed where it sits."""
    return compute_frontier(ethylene(STACK, "B"), settings(), {"name": "C2H4-top"})


@cache
def ethylene_dimer_doc():
    return compute_frontier(ethylene_dimer(), settings(), {"name": "(C2H4)2"})


@cache
def li8_doc():
    return compute_frontier(li8(), settings(), {"name": "Li8"})


@cache
def n2_doc():
    return compute_frontier(n2(), settings(), {"name": "N2"})


@cache
def water_doc():
    return compute_frontier(water(), settings(), {"name": "water"})


@cache
def cuh_doc():
    return compute_frontier(cuh(), settings("def2-svp"), {"name": "CuH"})


@cache
def h_chain_doc(n_units: int):
    return compute_frontier(h_chain(n_units), settings(), {"name": f"H{2 * n_units}"})


def ethylene_water() -> Molecule:
    """Ethylene (z = 0) with a water molecule 3.2 A above it (different monomers)."""
    eth, wat = ethylene(0.0, "C2H4"), water()
    shifted = wat.cart_coords + np.array([0.0, 0.0, 3.2])
    return Molecule([*eth.species, *wat.species], np.vstack([eth.cart_coords, shifted]),
                    site_properties={"fragment": ["C2H4"] * 6 + ["w"] * 3})


@cache
def ethylene_water_doc():
    return compute_frontier(ethylene_water(), settings(), {"name": "C2H4-H2O"})


@cache
def h_atom_doc():
    return compute_frontier(Molecule(["H"], [[0, 0, 0]], spin_multiplicity=2), settings(),
                            {"name": "H"})


@cache
def h2_triplet_doc():
    mol = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 2.5]], spin_multiplicity=3,
                   site_properties={"fragment": ["Ha", "Hb"]})
    return compute_frontier(mol, settings(), {"name": "H2-triplet"})


def test_systems_are_real_converged_scf():
    doc = water_doc()
    assert doc.converged and doc.orbitals is not None
    assert doc.settings["basis"] == "sto-3g"
