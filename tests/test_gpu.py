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


def test_gpu_records_what_it_did():
    """Orbital count, <S^2> from the GPU object, state reached, memory record, no fallback."""
    settings = load_preset("fast", device="gpu", conv_tol=1e-10, solvent="pcm")
    gpu = run_scf(oxygen_triplet(), settings)
    cpu = run_scf(oxygen_triplet(), settings.model_copy(update={"device": "cpu"}))
    assert gpu.fallback_reason is None and gpu.nmo <= gpu.nao
    assert gpu.mo_coeff.shape[-1] == gpu.nmo
    assert gpu.spin_square == pytest.approx(cpu.spin_square, abs=1e-4)
    assert gpu.scf_state["n_alpha"] == cpu.scf_state["n_alpha"] == 9
    memory = gpu.extra["gpu_memory"]
    assert memory["card_gb"] > 1 and memory["pcm_surface_points"] > 0


def test_gpu_ladder_with_solvent_is_recorded_honestly():
    import gpu4pyscf
    from packaging.version import Version

    settings = load_preset("fast", device="gpu", solvent="pcm", max_cycle=3, conv_tol=1e-10)
    result = run_scf(water(), settings)
    second = result.attempts[1]
    damped = Version(gpu4pyscf.__version__) >= Version("1.9.0")
    assert second["solver"] == ("level_shift+damping" if damped else "level_shift")
    assert second.get("damp", 0.0) == (0.5 if damped else 0.0)


def test_gpu_smd_with_ecp_refused():
    from superatom.errors import InputError

    with pytest.raises(InputError, match="solvent=pcm"):
        run_scf(molybdate(), load_preset("fast", device="gpu", solvent="smd"))
