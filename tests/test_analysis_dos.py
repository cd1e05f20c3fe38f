"""DOS / PDOS / OPDOS / d-band centre on real SCF results, checked by sum rules."""

from __future__ import annotations

import numpy as np
import pytest

from superatom.analysis.docdata import doc_data
from superatom.analysis.dos import (
    d_band_centre,
    density_of_states,
    gaussian_broadening,
    overlap_population_dos,
)
from superatom.errors import InputError
from tests.test_analysis_systems import cuh_doc, ethylene_dimer_doc, h2_triplet_doc, water_doc


def _full_grid(doc, sigma):
    energies = np.ravel(doc.orbital_energies_ev)
    return np.arange(energies.min() - 8 * sigma, energies.max() + 8 * sigma, sigma / 10)


def test_gaussian_is_normalised_per_level():
    grid = np.linspace(-10, 10, 40001)
    curves = gaussian_broadening(np.array([-1.0, 2.0]), np.array([[1.0, 0.0], [0.5, 3.0]]),
                                 grid, 0.3)
    assert np.trapezoid(curves, grid, axis=0) == pytest.approx([1.5, 3.0], abs=1e-9)


@pytest.mark.parametrize("method", ["mulliken", "lowdin"])
def test_occupied_dos_integrates_to_electron_count_and_pdos_sums(method):
    doc = water_doc()
    grid = _full_grid(doc, 0.2)
    res = density_of_states(doc, sigma_ev=0.2, energies_ev=grid, method=method,
                            weighting="occupation")
    assert np.trapezoid(res.total, grid) == pytest.approx(doc.n_electrons, rel=1e-6)
    total = np.asarray(res.total)
    for partition in ("element", "angular", "element_angular", "fragment"):
        summed = np.sum([np.asarray(c) for c in res.pdos[partition].values()], axis=0)
        assert np.allclose(summed, total, atol=1e-9), partition
    oxygen = np.trapezoid(res.pdos["element"]["O"], grid)
    assert 8.0 < oxygen < 10.0  # O carries more than its 8 electrons in water


def test_state_dos_counts_two_states_per_rks_orbital_and_fragments_sum():
    doc = ethylene_dimer_doc()
    grid = _full_grid(doc, 0.1)
    res = density_of_states(doc, sigma_ev=0.1, energies_ev=grid)
    assert np.trapezoid(res.total, grid) == pytest.approx(2 * doc.nao, rel=1e-6)
    frag = res.pdos["fragment"]
    assert set(frag) == {"A", "B"}
    assert np.allclose(np.add(frag["A"], frag["B"]), res.total, atol=1e-9)
    assert np.allclose(frag["A"], frag["B"], atol=1e-6)  # symmetric dimer


def test_open_shell_dos_sums_both_spins():
    doc = h2_triplet_doc()
    grid = _full_grid(doc, 0.1)
    res = density_of_states(doc, sigma_ev=0.1, energies_ev=grid, weighting="occupation")
    assert res.spin == "total"
    assert np.trapezoid(res.total, grid) == pytest.approx(2.0, rel=1e-6)
    alpha = density_of_states(doc, sigma_ev=0.1, energies_ev=grid, weighting="occupation",
                              spin="alpha")
    assert np.trapezoid(alpha.total, grid) == pytest.approx(2.0, rel=1e-6)


def test_opdos_signs_and_mulliken_identity():
    doc = ethylene_dimer_doc()
    res = overlap_population_dos(doc, "A", "B", sigma_ev=0.1)
    n_occ = doc.n_electrons // 2
    pops = np.asarray(res.orbital_populations)
    # pi-pi: HOMO-1 is the in-phase (bonding) and HOMO the out-of-phase (antibonding) pair
    assert pops[n_occ - 2] > 0 > pops[n_occ - 1]
    # independent route: Mulliken net + overlap populations add up to the electron count
    data = doc_data(doc)
    chan = data.channel()
    p = (chan.coeff * chan.occ) @ chan.coeff.T
    in_a = data.ao_atom < 6
    ps = p * data.overlap
    net = ps[np.ix_(in_a, in_a)].sum() + ps[np.ix_(~in_a, ~in_a)].sum()
    assert net + res.occupied_population == pytest.approx(doc.n_electrons, abs=1e-8)


def test_d_band_centre_equals_first_moment_of_broadened_pdos():
    doc = cuh_doc()
    centre = d_band_centre(doc)
    grid = _full_grid(doc, 0.2)
    res = density_of_states(doc, sigma_ev=0.2, energies_ev=grid, weighting="occupation")
    curve = np.asarray(res.pdos["element_angular"]["Cu-d"])
    moment = np.trapezoid(curve * grid, grid) / np.trapezoid(curve, grid)
    assert centre == pytest.approx(moment, abs=1e-6)
    assert np.trapezoid(curve, grid) == pytest.approx(10.0, abs=0.3)  # Cu 3d10 (measured 9.82)
    assert centre < doc.homo_ev
    cu_h = overlap_population_dos(doc, "Cu", "H", weighting="occupation")
    assert cu_h.occupied_population > 0  # Cu-H is a bond
    with pytest.raises(InputError, match="no transition metal"):
        d_band_centre(water_doc())
