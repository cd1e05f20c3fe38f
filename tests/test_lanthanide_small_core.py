"""Lanthanides with the 4f shell in the valence (small core): Lu's def2 ECP read from
basis-set-exchange, and the atomic-SCF starting guess.

References: a direct PySCF run that loads the def2 ECP of Lu (ECP28MWB) by PySCF's own
basis-set-exchange route, the 28-electron core of ECP28MWB (Dolg et al. 1989), and the SCF
energies each guess starts from.
"""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Molecule
from pyscf import dft, gto

from superatom.calc_settings import load_preset
from superatom.engine import build_mole
from superatom.engine.scf import atomic_guess, default_guess, explicit_4f_atoms
from superatom.workflows.frontier import compute_frontier

pytest.importorskip("basis_set_exchange")

HARTREE_EV = 27.211386245988
LUF3 = [[0, 0, 0], [2.0, 0, 0], [-1.0, 1.7320508, 0], [-1.0, -1.7320508, 0]]


def lu_fluoride() -> Molecule:
    return Molecule(["Lu", "F", "F", "F"], LUF3)


def direct_luf3() -> dft.rks.RKS:
    """LuF3 in plain PySCF: def2-svp with the def2 ECP PySCF loads by name, minao guess."""
    mol = gto.M(atom=[("Lu", LUF3[0])] + [("F", xyz) for xyz in LUF3[1:]], basis="def2-svp",
                ecp={"Lu": "def2-ecp"}, verbose=0)
    mf = dft.RKS(mol, xc="PBE0").density_fit(auxbasis="def2-universal-jkfit")
    mf.grids.level = 1
    mf.conv_tol = 1e-10
    mf.max_cycle = 100
    mf.kernel()
    assert mf.converged
    return mf


def test_lu_small_core_runs_and_matches_direct_pyscf():
    doc = compute_frontier(lu_fluoride(), load_preset("fast", device="cpu", conv_tol=1e-10))
    assert doc.converged and doc.spin_treatment == "RKS"  # Lu(III) 4f14: closed shell
    assert doc.ecp_by_element == {"Lu": "bse:def2-svp"} and doc.n_core_ecp == 28
    assert doc.scf_guess == "atom"
    # the first rung converges: no fallback solver was needed
    assert [a["solver"] for a in doc.scf_attempts] == ["preconverge", "diis"]
    assert all(a["converged"] for a in doc.scf_attempts)
    mf = direct_luf3()
    assert mf.mol.nao == doc.nao
    assert abs(doc.e_tot_ha - mf.e_tot) < 1e-6
    homo = mf.mo_energy[mf.mo_occ > 0].max() * HARTREE_EV
    assert abs(doc.homo_ev - homo) < 1e-4


def test_atomic_guess_starts_near_the_ground_state_and_minao_does_not():
    mf = direct_luf3()
    mol = build_mole(lu_fluoride(), load_preset("fast", device="cpu"))
    assert explicit_4f_atoms(mol) == ["Lu"]
    probe = dft.RKS(mol, xc="PBE0").density_fit(auxbasis="def2-universal-jkfit")
    probe.grids.level = 1
    overlap = mol.intor("int1e_ovlp")
    atomic, minao = atomic_guess(mol), probe.get_init_guess(key="minao")
    assert abs(np.einsum("ij,ji->", atomic, overlap) - mol.nelectron) < 1e-6
    assert probe.energy_tot(atomic) - mf.e_tot < 1.0  # Hartree
    assert probe.energy_tot(minao) - mf.e_tot > 100.0  # why minao is not used here


def test_guess_per_core_and_shell():
    lu = build_mole(lu_fluoride(), load_preset("fast"))
    assert default_guess(lu) == "atom"
    la = build_mole(Molecule(["La", "F", "F", "F"], LUF3), load_preset("fast"))
    assert explicit_4f_atoms(la) == [] and default_guess(la) == "minao"
    nd = Molecule(["Nd", "F", "F", "F"], LUF3, spin_multiplicity=4)
    small = build_mole(nd, load_preset("fast"))
    # open 4f shell: explicit, but minao stays (the spin-averaged atomic start ended higher)
    assert explicit_4f_atoms(small) == ["Nd"] and default_guess(small) == "minao"
    in_core = build_mole(nd, load_preset("fast", ln_core="4f-in-core"))
    assert explicit_4f_atoms(in_core) == [] and default_guess(in_core) == "sap"


def test_lu_small_core_passes_the_gpu_guards():
    from superatom.engine.gpu_checks import gpu_basis_problem

    for preset in ("screening", "production"):
        settings = load_preset(preset)
        mol = build_mole(lu_fluoride(), settings)
        assert mol.atom_nelec_core(0) == 28
        assert gpu_basis_problem(mol, settings) is None
        assert int(np.max(mol._ecpbas[:, 1])) == 4  # ECP28MWB projectors up to g: allowed
