"""DIIS with the occupations held by overlap: what it holds, and that it lets go again."""

from __future__ import annotations

import numpy as np
from pyscf import gto, scf

from superatom.engine.fixed_occupation import is_aufbau, occupations_held


def _oxygen():
    mf = scf.UHF(gto.M(atom="O 0 0 0; O 0 0 1.21", basis="6-31g", spin=2, verbose=0))
    mf.kernel()
    return mf


def test_occupied_orbitals_only_as_a_saved_restart_keeps_them_are_enough():
    mf = _oxygen()
    energy, coeff, occ = mf.e_tot, mf.mo_coeff, mf.mo_occ
    n_alpha = int(occ[0].sum())
    occupied = np.zeros((2, mf.mol.nao, n_alpha))  # columns: occupied orbitals, padded
    held_occ = np.zeros((2, n_alpha))
    for spin in range(2):
        n = int(occ[spin].sum())
        occupied[spin, :, :n] = coeff[spin][:, occ[spin] > 0]
        held_occ[spin, :n] = 1.0
    with occupations_held(mf, occupied, held_occ):
        again = mf.kernel(mf.make_rdm1(coeff, occ))
    assert mf.converged and abs(again - energy) < 1e-9
    assert mf.mo_occ.shape == occ.shape and is_aufbau(mf.mo_energy, mf.mo_occ)


def test_held_occupations_keep_an_excited_state_that_aufbau_filling_leaves():
    mf = _oxygen()
    ground, ground_dm = mf.e_tot, mf.make_rdm1()
    excited = mf.mo_occ.copy()
    homo = int(np.flatnonzero(excited[1])[-1])
    excited[1, homo], excited[1, homo + 1] = 0.0, 1.0  # beta HOMO -> LUMO
    with occupations_held(mf, mf.mo_coeff, excited):
        energy = mf.kernel(mf.make_rdm1(mf.mo_coeff, excited))
        assert mf.converged and energy > ground + 1e-3  # stayed excited
    assert "get_occ" not in vars(mf)  # aufbau filling is back
    assert abs(mf.kernel(ground_dm) - ground) < 1e-8
