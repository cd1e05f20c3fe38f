from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from pymatgen.core import Composition

from superatom.errors import InputError
from superatom.structures.crystal import crystal_graph, cut_fragment


def _water_box():
    """Two waters in a 6 A box, the first one split across the x and y boundaries."""
    w = Atoms(
        "OH2OH2",
        positions=[[0.1, 0.1, 0], [-0.66, 0.7, 0], [0.87, 0.7, 0.0],
                   [3, 3, 5.9], [3, 3.76, 5.3], [3, 2.24, 5.3]],
        cell=[6, 6, 6],
        pbc=True,
    )
    w.wrap()
    return w


def _chain_crystal(shift=5.0):
    """1D chain ...Cu-O-CH2-CH2-O-Cu... along a (period 7.8 A), wrapped across the cell."""
    sym = ["Cu", "O", "C", "C", "O"]
    pos = [[0, 0, 0], [1.9, 0.4, 0], [3.2, -0.2, 0], [4.6, 0.4, 0], [5.9, -0.2, 0]]
    for c, dy in ((2, -0.5), (3, 0.5)):
        for z in (0.9, -0.9):
            sym.append("H")
            pos.append([pos[c][0], pos[c][1] + dy, z])
    a = Atoms(sym, positions=pos, cell=[7.8, 10, 10], pbc=True)
    a.translate([shift, 9.5, 9.7])
    a.wrap()
    return a


def test_molecules_across_boundary_are_made_whole(tmp_path):
    box = _water_box()
    raw = box.get_all_distances()
    assert raw[0, 1] > 2.0  # split by the wrap
    assert len(crystal_graph(box).units) == 2
    path = tmp_path / "w.cif"
    box.write(path)
    for u in (0, 1):
        mol = cut_fragment(path, unit=u)
        assert mol.composition == Composition("H2O")
        d = mol.distance_matrix
        assert np.allclose([d[0, 1], d[0, 2]], 0.968, atol=0.01)
        assert mol.site_properties["fragment"] == ["unit#0"] * 3


def test_chain_fragments_are_cut_and_capped():
    crystal = _chain_crystal()
    with pytest.raises(InputError, match="infinite network"):
        cut_fragment(crystal)
    one = cut_fragment(crystal, bridging=["Cu"])
    assert one.composition == Composition("C2H6O2")  # glycol: both O capped with H
    oh = [one.get_distance(i, j) for i in range(len(one)) for j in range(len(one))
          if one[i].specie.symbol == "O" and one[j].specie.symbol == "H"
          and one.get_distance(i, j) < 1.2]  # fmt: skip
    assert len(oh) == 2 and np.allclose(oh, 0.97, atol=1e-6)
    two = cut_fragment(crystal, n=2, bridging=["Cu"], multiplicity=2)
    assert two.composition == Composition("CuC4H10O4")
    labels = two.site_properties["fragment"]
    assert labels.count("linker#0") == 1 and labels.count("unit#1") == 9
    three = cut_fragment(crystal, n=3, bridging=["Cu"])
    assert three.composition == Composition("Cu2C6H14O6")
    xyz = three.cart_coords
    span = np.ptp(xyz[:, 0])
    assert span > 2 * 7.8 - 1  # unwrapped along the chain, longer than the cell
    d = three.distance_matrix + np.eye(len(three)) * 10
    assert d.min() > 0.9
    methyl = cut_fragment(crystal, bridging=["Cu"], cap="CH3")
    assert methyl.composition == Composition("C4H10O2")  # 1,2-dimethoxyethane
    c_o = [methyl.get_distance(i, j) for i in range(len(methyl)) for j in range(i)
           if {methyl[i].specie.symbol, methyl[j].specie.symbol} == {"C", "O"}
           and methyl.get_distance(i, j) < 1.6]  # fmt: skip
    assert len(c_o) == 4
    keep = cut_fragment(crystal, bridging=["Cu"], end_bridges="keep")
    assert keep.composition == Composition("Cu2C2H8O4")  # end Cu get a water each
    with pytest.raises(InputError, match="odd electron count"):
        cut_fragment(crystal, n=2, bridging=["Cu"])
    with pytest.raises(InputError, match="not in the crystal"):
        cut_fragment(crystal, bridging=["Zn"])


def test_missing_file_and_non_periodic(tmp_path):
    with pytest.raises(InputError, match="not found"):
        cut_fragment(tmp_path / "none.cif")
    with pytest.raises(InputError, match="no periodic cell"):
        cut_fragment(Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]]))
