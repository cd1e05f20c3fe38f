"""The GPU path's guards, fallbacks and bookkeeping, checked on the CPU with real PySCF objects.

Nothing here needs a GPU: guards are pure checks on PySCF ``Mole`` objects, GPU failures are
simulated by making the GPU SCF factory raise CuPy-like errors, and the results are compared
with direct PySCF runs.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from pyscf import dft, gto

from superatom.calc_settings import load_preset
from superatom.engine import build_mole, run_scf
from superatom.engine import scf as scf_module
from superatom.engine.gpu_checks import (
    auxiliary_l_problem,
    check_gpu4pyscf_version,
    check_solvent,
    effective_rung,
    gpu_basis_problem,
    gpu_failure_reason,
)
from superatom.engine.gpu_memory import (
    DF_BYTES_PER_NAO3,
    gpu_memory_estimate,
    pcm_bytes,
    pcm_lowmem,
    pcm_surface_points,
)
from superatom.errors import GPUError, InputError
from superatom.workflows.frontier import build_frontier_doc
from tests.molecules import molybdate, oxygen_triplet, water

CPU = {"device": "cpu"}
LADDER = {"name": "level_shift+damping", "level_shift": 0.3, "damp": 0.5, "diis_start": 6}


def _one_line(err) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


# --------------------------------------------------------------------------- solvent


def test_smd_with_ecp_atoms_is_refused_before_any_scf(monkeypatch):
    def no_scf(*args, **kwargs):
        raise AssertionError("an SCF was set up although SMD with ECP atoms must be refused")

    monkeypatch.setattr(scf_module, "make_scf", no_scf)
    with pytest.raises(InputError) as err:
        run_scf(molybdate(), load_preset("fast", solvent="smd", **CPU))
    text = _one_line(err)
    assert "(Mo)" in text and "solvent=pcm" in text


def test_smd_solvent_name_checked_against_pyscf_table():
    mol = build_mole(water(), load_preset("fast"))
    check_solvent(mol, load_preset("fast", solvent="smd", solvent_name="water"))
    check_solvent(mol, load_preset("fast", solvent="smd", solvent_name="acetonitrile"))
    with pytest.raises(InputError) as err:
        check_solvent(mol, load_preset("fast", solvent="smd", solvent_name="watr"))
    assert "unknown SMD solvent 'watr'" in _one_line(err)
    # C-PCM with ECP atoms stays allowed
    check_solvent(build_mole(molybdate(), load_preset("fast")), load_preset("fast",
                                                                         solvent="pcm"))


# --------------------------------------------------------------------------- versions, ladder


def test_gpu4pyscf_floor():
    for ok in ("1.8.0", "1.8.1", "1.9.0", "1.10.2"):
        check_gpu4pyscf_version(ok)
    for old in ("1.6.1", "1.7.9"):
        with pytest.raises(InputError) as err:
            check_gpu4pyscf_version(old)
        assert ">=1.8.0" in _one_line(err)


def test_pyproject_floors():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    assert "pyscf>=2.14" in project["dependencies"]
    extras = project["optional-dependencies"]
    assert extras["gpu"] == ["gpu4pyscf-cuda12x>=1.8"]
    assert extras["gpu-cuda13"] == ["gpu4pyscf-cuda13x>=1.8"]


@pytest.mark.parametrize(
    ("device", "solvent", "version", "name", "damp"),
    [
        ("cpu", "none", None, "level_shift+damping", 0.5),
        ("cpu", "pcm", None, "level_shift+damping", 0.5),
        ("gpu", "none", "1.8.1", "level_shift+damping", 0.5),
        ("gpu", "pcm", "1.8.1", "level_shift", 0.0),
        ("gpu", "smd", "1.8.0", "level_shift", 0.0),
        ("gpu", "pcm", "1.9.0", "level_shift+damping", 0.5),
    ],
)
def test_effective_rung_per_device(device, solvent, version, name, damp):
    applied = effective_rung(LADDER, device, solvent, version)
    assert (applied["name"], applied["damp"], applied["level_shift"]) == (name, damp, 0.3)
    assert applied["requested"] == "level_shift+damping"
    assert ("note" in applied) == (damp == 0.0)


def test_cpu_ladder_with_solvent_records_what_it_applied():
    settings = load_preset("fast", solvent="pcm", max_cycle=3, conv_tol=1e-10, **CPU)
    result = run_scf(water(), settings)
    first, second = result.attempts[:2]
    assert first["solver"] == "diis" and not first["converged"]
    assert second["solver"] == "level_shift+damping"
    assert (second["level_shift"], second["damp"]) == (0.3, 0.5)


# --------------------------------------------------------------------------- basis guards


def test_gpu_basis_guards_on_real_moles():
    plain = load_preset("fast")
    assert gpu_basis_problem(build_mole(water(), plain), plain) is None
    # h functions (l = 5) in the orbital basis
    big = gto.M(atom="O 0 0 0; O 0 0 1.21", basis="cc-pv5z", spin=2, verbose=0)
    problem = gpu_basis_problem(big, plain)
    assert problem.startswith("orbital basis has h functions on O") and "\n" not in problem
    # an ECP with an h projector (l = 5)
    h_projector = {"Na": [10, [[-1, [[], [[1.0, 0.0]], []]], [5, [[], [[1.0, 0.5]], []]]]]}
    ecp_mol = gto.M(atom="Na 0 0 0; H 0 0 1.9", basis={"Na": "def2-svp", "H": "def2-svp"},
                    ecp=h_projector, verbose=0)
    assert gpu_basis_problem(ecp_mol, plain).startswith("ECP of Na has h projectors")
    # auxiliary basis with k functions (l = 7)
    aux = gto.M(atom="He 0 0 0", basis={"He": [[7, [1.0, 1.0]]]}, verbose=0)
    assert "has k functions on He" in auxiliary_l_problem(aux, "custom")
    assert auxiliary_l_problem(gto.M(atom="He 0 0 0", basis="def2-svp", verbose=0), "x") is None


def test_gd_stuttgart_is_exactly_at_the_limits():
    """GdF3: f functions, g ECP projectors and i (l = 6) auxiliaries, all allowed."""
    settings = load_preset("fast")
    gdf3 = gto.M(atom="Gd 0 0 0; F 2.05 0 0; F -1.025 1.775 0; F -1.025 -1.775 0",
                 basis={"Gd": "stuttgart_rsc", "F": "def2-svp"}, ecp={"Gd": "stuttgart_rsc"},
                 spin=7, verbose=0)
    assert int(gdf3._ecpbas[:, gto.ANG_OF].max()) == 4
    assert gpu_basis_problem(gdf3, settings) is None
    no_aux = load_preset("fast", aux_basis=None)
    assert "explicit auxiliary basis" in gpu_basis_problem(gdf3, no_aux)
    assert gpu_basis_problem(gdf3, load_preset("fast", density_fit=False)) is None


# --------------------------------------------------------------------------- GPU failures


class OutOfMemoryError(MemoryError):
    """Stands in for cupy.cuda.memory.OutOfMemoryError."""


OutOfMemoryError.__module__ = "cupy.cuda.memory"


class CUDARuntimeError(RuntimeError):
    """Stands in for cupy_backends.cuda.api.runtime.CUDARuntimeError."""


CUDARuntimeError.__module__ = "cupy_backends.cuda.api.runtime"


def test_gpu_failure_reasons():
    oom = OutOfMemoryError("Out of memory allocating 27,000,000,000 bytes")
    assert gpu_failure_reason(oom).startswith("GPU out of memory: Out of memory allocating")
    image = CUDARuntimeError("cudaErrorNoKernelImageForDevice: no kernel image is available")
    assert "no kernel image" in gpu_failure_reason(image)
    kernel = RuntimeError("CUDA Error in int3c2e kernel: l > 4 not supported")
    assert gpu_failure_reason(kernel) is not None
    assert gpu_failure_reason(ValueError("operands could not be broadcast")) is None
    assert gpu_failure_reason(KeyError("kernel")) is None


def _fake_gpu(monkeypatch, error):
    """Pretend a GPU is there and make the GPU SCF factory raise ``error``."""
    real = scf_module.make_scf
    calls = []

    def factory(mol, settings, device):
        calls.append(device)
        if device == "gpu":
            raise error
        return real(mol, settings, device)

    monkeypatch.setattr(scf_module, "resolve_device", lambda requested: (
        "cpu" if requested == "cpu" else "gpu"))
    monkeypatch.setattr(scf_module, "gpu_refusal", lambda mol, settings: None)
    monkeypatch.setattr(scf_module, "make_scf", factory)
    return calls


def test_gpu_out_of_memory_falls_back_to_cpu_and_says_so(monkeypatch):
    reference = run_scf(water(), load_preset("fast", **CPU))
    calls = _fake_gpu(monkeypatch, OutOfMemoryError("Out of memory allocating 9 bytes"))
    result = run_scf(water(), load_preset("fast", device="auto"))
    assert calls == ["gpu", "cpu"]
    assert result.device == "cpu" and result.fallback_reason.startswith("GPU out of memory")
    assert abs(result.e_tot - reference.e_tot) < 1e-8
    doc = build_frontier_doc(water(), load_preset("fast", device="auto"), result)
    assert doc.fallback_reason == result.fallback_reason and doc.device == "cpu"
    assert reference.fallback_reason is None


def test_gpu_failure_with_device_gpu_is_one_clear_error(monkeypatch):
    calls = _fake_gpu(monkeypatch, CUDARuntimeError("cudaErrorNoKernelImageForDevice: "
                                                    "no kernel image is available"))
    with pytest.raises(GPUError) as err:
        run_scf(water(), load_preset("fast", device="gpu"))
    text = _one_line(err)
    assert "no kernel image" in text and "device=cpu" in text
    assert calls == ["gpu"]  # never a silent CPU run


def test_other_errors_on_gpu_are_not_swallowed(monkeypatch):
    _fake_gpu(monkeypatch, ValueError("operands could not be broadcast"))
    with pytest.raises(ValueError, match="broadcast"):
        run_scf(water(), load_preset("fast", device="auto"))


def test_guard_refusal_on_gpu_path(monkeypatch):
    monkeypatch.setattr(scf_module, "resolve_device", lambda requested: "gpu")
    reason = "orbital basis has h functions on O (GPU kernels stop at l=4): ..."
    monkeypatch.setattr(scf_module, "gpu_refusal", lambda mol, settings: reason)
    with pytest.raises(InputError, match="h functions"):
        run_scf(water(), load_preset("fast", device="gpu"))
    result = run_scf(water(), load_preset("fast", device="auto"))
    assert result.device == "cpu" and result.fallback_reason == reason


# --------------------------------------------------------------------------- nmo, <S^2>, state


class _Proxy:
    """A converged PySCF object with some attributes replaced."""

    def __init__(self, mf, **replaced):
        self._mf, self._replaced = mf, replaced

    def __getattr__(self, name):
        if name in self._replaced:
            return self._replaced[name]
        return getattr(self._mf, name)


def _cpu_mf(molecule, settings):
    mol = build_mole(molecule, settings)
    mf = scf_module.make_scf(mol, settings, "cpu")
    mf.kernel()
    assert mf.converged
    return mol, mf


def test_fewer_orbitals_than_aos_are_stored_as_such():
    """GPU4PySCF may drop near-linear-dependent combinations: nmo < nao must flow through."""
    settings = load_preset("fast", frontier_window=30, **CPU)
    mol, mf = _cpu_mf(water(), settings)
    kept = mol.nao - 2
    fake = _Proxy(mf, mo_coeff=mf.mo_coeff[:, :kept], mo_energy=mf.mo_energy[:kept],
                  mo_occ=mf.mo_occ[:kept])
    result = scf_module._collect(fake, mol, settings, "cpu", [], 5, time.perf_counter())
    assert (result.nao, result.nmo) == (mol.nao, kept) == (24, 22)
    assert result.mo_coeff.shape == (24, 22)
    # the rebuilt Fock matrix still satisfies F C = S C e on the kept orbitals
    np.testing.assert_allclose(result.fock @ result.mo_coeff,
                               result.overlap @ result.mo_coeff * result.mo_energy, atol=1e-8)
    doc = build_frontier_doc(water(), settings, result)
    assert (doc.nao, doc.nmo) == (24, 22)
    assert len(doc.orbital_energies_ev) == 22
    assert doc.orbitals.arrays()["mo_coeff"].shape == (24, 22)
    assert doc.frontier[-1].index == 21  # the window stops at the last kept orbital
    assert doc.homo_ev == pytest.approx(mf.mo_energy[4] * 27.211386, abs=1e-4)


def test_spin_square_comes_from_the_scf_object_itself():
    """No to_cpu() copy: the open-shell <S^2> is the object's own, equal to direct PySCF."""
    settings = load_preset("fast", **CPU)
    mol, mf = _cpu_mf(oxygen_triplet(), settings)

    def forbidden():
        raise AssertionError("to_cpu() must not be called for <S^2>")

    result = scf_module._collect(_Proxy(mf, to_cpu=forbidden), mol, settings, "cpu", [], 1,
                                 time.perf_counter())
    reference = dft.UKS(mol, xc="PBE0").density_fit(auxbasis="def2-universal-jkfit")
    reference.grids.level = 1
    reference.kernel()
    assert result.spin_square == pytest.approx(reference.spin_square()[0], abs=1e-5)
    assert 2.0 <= result.spin_square < 2.02  # triplet: S(S+1) = 2 plus a little contamination
    state = result.scf_state
    assert (state["n_alpha"], state["n_beta"], state["aufbau"]) == (9, 7, True)
    assert state["spin_contamination"] == pytest.approx(result.spin_square - 2.0, abs=1e-6)


def test_state_reached_is_stored_in_the_document():
    settings = load_preset("fast", **CPU)
    result = run_scf(water(), settings)
    assert result.scf_state == {"n_alpha": 5, "n_beta": 5, "aufbau": True, "holes": []}
    doc = build_frontier_doc(water(), settings, result)
    assert doc.scf_state == result.scf_state and doc.nmo == doc.nao == 24


# --------------------------------------------------------------------------- memory model


def test_memory_estimate_screened_df_and_pcm():
    nao = 962  # [PW12O40]3- def2-SVP
    dense = DF_BYTES_PER_NAO3 * nao**3
    assert dense / 1e9 == pytest.approx(22.1, abs=0.1)  # the measured dense size
    df_only = gpu_memory_estimate(nao, density_fit=True)
    direct = gpu_memory_estimate(nao, density_fit=False)
    assert df_only - direct == pytest.approx(dense / 2)
    points = pcm_surface_points(53)
    assert points == 53 * 302
    assert pcm_bytes(points) == 2 * points**2 * 8
    with_pcm = gpu_memory_estimate(nao, True, n_surface=points)
    assert with_pcm - df_only == pytest.approx(2 * points**2 * 8)
    assert gpu_memory_estimate(nao, True, points, pcm_low_memory=True) == df_only


def test_pcm_low_memory_switch_follows_the_card():
    keggin, ti10cu2 = pcm_surface_points(53), pcm_surface_points(228)
    assert not pcm_lowmem(keggin, card_bytes=80e9)  # 4.1 GB of 80 GB
    assert pcm_lowmem(ti10cu2, card_bytes=80e9)  # 76 GB of 80 GB
    assert pcm_lowmem(keggin, card_bytes=12e9)  # the same Keggin on a 12 GB card


def test_tda_takes_the_same_guards_and_never_runs_silently_on_cpu(monkeypatch):
    from superatom.engine import run_tda

    monkeypatch.setattr(scf_module, "resolve_device", lambda requested: "gpu")
    monkeypatch.setattr(scf_module, "gpu_refusal", lambda mol, settings: "aux beyond l=6")
    refused = run_tda(water(), load_preset("fast", device="auto"), nstates=2)
    assert refused["device"] == "cpu" and refused["fallback_reason"] == "aux beyond l=6"
    assert len(refused["energies_ev"]) == 2 and refused["converged"]

    calls = _fake_gpu(monkeypatch, OutOfMemoryError("Out of memory allocating 1 bytes"))
    fallen = run_tda(water(), load_preset("fast", device="auto"), nstates=2)
    assert calls == ["gpu", "cpu"] and fallen["fallback_reason"].startswith("GPU out of memory")
    assert fallen["energies_ev"] == pytest.approx(refused["energies_ev"], abs=1e-8)
    with pytest.raises(GPUError, match="GPU out of memory"):
        run_tda(water(), load_preset("fast", device="gpu"))
