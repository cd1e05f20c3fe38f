"""GPU4PySCF against the CPU path on the same inputs (skipped without a CUDA GPU)."""

from __future__ import annotations

import numpy as np
import pytest

from superatom.calc_settings import load_preset
from superatom.engine import run_scf
from tests.molecules import molybdate, oxygen_triplet, water

pytestmark = pytest.mark.gpu

CASES = {
    "water": (water, {}),
    "molybdate-pcm": (molybdate, {"solvent": "pcm"}),
    "o2-triplet": (oxygen_triplet, {}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gpu_matches_cpu(case):
    build, extra = CASES[case]
    cpu = run_scf(build(), load_preset("fast", device="cpu", conv_tol=1e-10, **extra))
    gpu = run_scf(build(), load_preset("fast", device="gpu", conv_tol=1e-10, **extra))
    assert gpu.device == "gpu" and cpu.device == "cpu"
    assert gpu.restricted == cpu.restricted
    assert abs(gpu.e_tot - cpu.e_tot) < 1e-5
    occ = cpu.mo_occ > 0
    np.testing.assert_allclose(gpu.mo_energy[occ], cpu.mo_energy[occ], atol=1e-4)
    assert gpu.n_electrons == cpu.n_electrons and gpu.n_core_ecp == cpu.n_core_ecp
