"""Starting densities tagged with natural orbitals: same matrix, same Fock build, same SCF."""

from __future__ import annotations

import numpy as np
import pytest

from superatom.calc_settings import load_preset
from superatom.engine.guess import with_natural_orbitals
from superatom.engine.mole import build_mole
from superatom.engine.scf import make_scf
from tests.molecules import molybdate, oxygen_triplet


@pytest.mark.parametrize("make", [molybdate, oxygen_triplet])
def test_the_tagged_guess_gives_the_same_density_and_fock_build(make):
    settings = load_preset("fast", device="cpu")
    mf = make_scf(build_mole(make(), settings), settings, "cpu")
    dm = np.asarray(mf.get_init_guess())  # as a fragment superposition arrives: untagged
    tagged = with_natural_orbitals(dm, mf.get_ovlp())
    coeff, occ = tagged.mo_coeff, tagged.mo_occ
    if dm.ndim == 2:
        rebuilt = (coeff * occ) @ coeff.T
    else:
        rebuilt = np.array([(c * o) @ c.T for c, o in zip(coeff, occ, strict=True)])
    assert np.abs(rebuilt - dm).max() < 1e-10
    assert occ.min() >= 0 and occ.shape[-1] < mf.mol.nao  # a guess has fewer natural orbitals
    assert with_natural_orbitals(tagged, mf.get_ovlp()) is tagged  # tags are kept
    # DF-K takes the occupied-orbital route for the tagged one and the nao**3 route otherwise
    vj0, vk0 = mf.get_jk(mf.mol, np.asarray(dm))
    vj1, vk1 = mf.get_jk(mf.mol, tagged)
    assert np.abs(vj1 - vj0).max() < 1e-10 and np.abs(vk1 - vk0).max() < 1e-10
    assert abs(mf.energy_tot(tagged) - mf.energy_tot(np.asarray(dm))) < 1e-9


def test_a_matrix_that_is_no_density_is_left_as_it_is():
    dm = np.diag([2.0, -0.5])
    assert not hasattr(with_natural_orbitals(dm, np.eye(2)), "mo_coeff")
