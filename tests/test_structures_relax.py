from __future__ import annotations

import numpy as np
import pytest

from superatom import HARTREE_TO_EV
from superatom.engine.xtb import relax_xtb, xtb_frontier
from superatom.errors import InputError
from superatom.structures.io import read_molecule
from superatom.structures.lindqvist import build_lindqvist
from superatom.structures.standard import STANDARD_SET, load_standard
from superatom.workflows.xtb import XtbRelaxMaker


def test_xtb_single_point_gaps_match_reference():
    # reference GFN2-xTB (tblite 0.8) gas-phase gaps on ideal geometries: 3.32 (Mo6O19),
    # 3.85 (W6O19) eV; the tier's default for these anions is GBSA water (3.28 / 3.67 eV)
    gas = {m: xtb_frontier(build_lindqvist(m), solvation="none")["gap_ev"] for m in ("Mo", "W")}
    assert gas["Mo"] == pytest.approx(3.32, abs=0.1)
    assert gas["W"] == pytest.approx(3.85, abs=0.1)


def test_relax_keeps_charge_spin_labels_and_lowers_energy():
    mol = build_lindqvist("Mo")
    sp = xtb_frontier(mol)["energy_ha"] * HARTREE_TO_EV
    relaxed, info = relax_xtb(mol, steps=3)
    assert relaxed.charge == -2 and relaxed.spin_multiplicity == 1
    assert relaxed.site_properties["fragment"] == mol.site_properties["fragment"]
    assert [s.specie.symbol for s in relaxed] == [s.specie.symbol for s in mol]
    assert info["steps"] <= 3 and info["energy_ev"] < sp
    assert info["homo_ev"] < info["lumo_ev"]
    assert not np.allclose(relaxed.cart_coords, mol.cart_coords)


def test_relax_maker_keeps_the_charge_in_a_jobflow_job():
    from jobflow import run_locally

    mol = build_lindqvist("Mo")
    out = run_locally(XtbRelaxMaker(steps=1).make(mol), ensure_success=True, log=False)
    result = next(iter(out.values()))[1].output
    assert result["molecule"].charge == -2 and result["info"]["steps"] <= 1


def test_standard_set_files_load_with_headers():
    for name in STANDARD_SET:
        mol = load_standard(name)
        assert mol.charge in (-2, -3, -4)
        assert len(set(mol.site_properties["fragment"])) == 1
    assert len(load_standard("PW12O40")) == 53
    with pytest.raises(InputError, match="unknown standard structure"):
        load_standard("XYZ")


def test_relaxed_file_roundtrip(tmp_path):
    from superatom.structures.io import write_xyz

    relaxed, _ = relax_xtb(build_lindqvist("Mo"), steps=1)
    write_xyz(relaxed, tmp_path / "r.xyz")
    back = read_molecule(tmp_path / "r.xyz")
    assert back.charge == -2 and np.allclose(back.cart_coords, relaxed.cart_coords, atol=1e-6)
