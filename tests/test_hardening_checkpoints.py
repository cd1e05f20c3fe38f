"""Killed jobs never poison their input: checkpoints that are empty, foreign, truncated or
locked are ignored; SIGKILL/SIGTERM mid-SCF restarts cleanly; identical jobs run at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from jobflow import run_locally

from superatom import engine
from superatom.calc_settings import load_preset
from superatom.db import load_result, open_store
from superatom.schemas.hashing import input_hash
from superatom.structures.io import read_molecule
from superatom.workflows.frontier import (
    FrontierOrbitalMaker,
    checkpoint_folder,
    restart_checkpoints,
)

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
SETTINGS = {"device": "cpu", "conv_tol": 1e-10}

JOB_SCRIPT = textwrap.dedent("""
    import sys
    import time

    from pyscf.scf import chkfile

    # each saved SCF step takes 0.3 s longer, so a kill lands mid-SCF on any machine speed
    _dump_scf = chkfile.dump_scf
    def _slow_dump_scf(*args, **kwargs):
        _dump_scf(*args, **kwargs)
        time.sleep(0.3)
    chkfile.dump_scf = _slow_dump_scf

    from jobflow import run_locally
    from superatom.db import open_store
    from superatom.structures.io import read_molecule
    from superatom.workflows.frontier import FrontierOrbitalMaker

    molecule = read_molecule(sys.argv[1])
    job = FrontierOrbitalMaker(preset="fast", settings_overrides={settings!r}).make(molecule)
    run_locally(job, store=open_store(sys.argv[2]), log=True, ensure_success=True)
    print("stored", job.uuid)
""").format(settings=SETTINGS)


@pytest.fixture
def dimer():
    return read_molecule(DATA / "water_dimer.xyz")


def _digest(molecule) -> str:
    return input_hash(molecule, load_preset("fast", **SETTINGS))


def _run_job(molecule, store):
    job = FrontierOrbitalMaker(preset="fast", settings_overrides=SETTINGS).make(molecule)
    run_locally(job, store=store, log=False, ensure_success=True)
    return load_result(job.uuid, store=store)


def _reference_energy(molecule) -> float:
    """The same SCF straight through PySCF (independent of superatom's SCF driver)."""
    from pyscf import dft

    mol = engine.build_mole(molecule, load_preset("fast", **SETTINGS))
    mf = dft.RKS(mol, xc="PBE0").density_fit(auxbasis="def2-universal-jkfit")
    mf.grids.level, mf.conv_tol = 1, 1e-10
    return mf.kernel()


def _mol_only_checkpoint(molecule, path: Path) -> None:
    """What a job killed before its first SCF step leaves: a .chk holding only 'mol'."""
    from pyscf.lib import chkfile

    chkfile.save_mol(engine.build_mole(molecule, load_preset("fast", **SETTINGS)), str(path))


def _subprocess_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
            "SUPERATOM_CHECKPOINT_DIR": str(tmp_path / "chk")}


def test_checkpoint_without_scf_group_is_ignored_and_replaced(tmp_path, dimer, monkeypatch):
    monkeypatch.setenv("SUPERATOM_CHECKPOINT_DIR", str(tmp_path / "chk"))
    digest = _digest(dimer)
    for name in (f"{digest}.chk", f"{digest}.999-deadbeef.chk"):  # old and new naming
        _mol_only_checkpoint(dimer, checkpoint_folder() / name)
    doc = _run_job(dimer, open_store(tmp_path / "db"))
    assert doc.converged and doc.scf_guess == "minao"
    assert doc.e_tot_ha == pytest.approx(_reference_energy(dimer), abs=1e-7)
    assert restart_checkpoints(digest) == []  # stale files cleared once the result is stored


def _foreign_checkpoint(kind: str, path: Path, dimer) -> None:
    if kind == "garbage":
        path.write_bytes(os.urandom(4096))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind in ("other-molecule", "truncated"):
        from pyscf import dft

        molecule = dimer if kind == "truncated" else read_molecule(DATA / "water.xyz")
        mf = dft.RKS(engine.build_mole(molecule, load_preset("fast", **SETTINGS)), xc="PBE")
        mf.chkfile, mf.grids.level = str(path), 0
        mf.kernel()
        if kind == "truncated":
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("kind", ["garbage", "empty", "other-molecule", "truncated"])
def test_foreign_or_broken_checkpoints_are_only_ignored(tmp_path, dimer, kind):
    settings = load_preset("fast", **SETTINGS)
    path = tmp_path / "old.chk"
    _foreign_checkpoint(kind, path, dimer)
    mol = engine.build_mole(dimer, settings)
    assert engine.scf.read_checkpoint(str(path), mol) is None
    result = engine.run_scf(dimer, settings, chkfile=str(tmp_path / "new.chk"),
                            restart_from=[str(path)])
    assert result.converged and result.extra["guess"] == "minao"


def test_a_good_checkpoint_is_used_for_the_restart(tmp_path, dimer):
    settings = load_preset("fast", **SETTINGS)
    first = engine.run_scf(dimer, settings, chkfile=str(tmp_path / "a.chk"))
    mol = engine.build_mole(dimer, settings)
    coeff, occ = engine.scf.read_checkpoint(str(tmp_path / "a.chk"), mol)
    assert np.allclose(occ, first.mo_occ) and coeff.shape == first.mo_coeff.shape
    again = engine.run_scf(dimer, settings, chkfile=str(tmp_path / "b.chk"),
                           restart_from=[str(tmp_path / "missing.chk"), str(tmp_path / "a.chk")])
    assert again.extra["guess"] == "checkpoint" and again.cycles < first.cycles
    assert again.e_tot == pytest.approx(first.e_tot, abs=1e-8)


def _start_job(tmp_path: Path, molecule_file: Path) -> subprocess.Popen:
    script = tmp_path / "job.py"
    script.write_text(JOB_SCRIPT)
    return subprocess.Popen(
        [sys.executable, str(script), str(molecule_file), str(tmp_path / "db")],
        env=_subprocess_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)


def _wait_for_checkpoint(folder: Path, process: subprocess.Popen, timeout: float = 120) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(folder.glob("*.chk")) if folder.exists() else []
        if found:
            return found[0]
        if process.poll() is not None:
            pytest.fail(f"the job ended before writing a checkpoint: {process.stderr.read()}")
        time.sleep(0.02)
    process.kill()
    pytest.fail("no checkpoint file appeared")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
@pytest.mark.parametrize("delay", [0.0, 0.4])
def test_scf_killed_by_a_signal_restarts_cleanly(tmp_path, dimer, monkeypatch, sig, delay):
    process = _start_job(tmp_path, DATA / "water_dimer.xyz")
    chk = _wait_for_checkpoint(tmp_path / "chk", process)
    time.sleep(delay)  # 0: the .chk may hold only 'mol'; 0.4 s: some SCF steps saved
    os.killpg(process.pid, sig)
    process.wait(timeout=60)
    assert process.returncode != 0
    assert chk.exists()  # what the kill left behind
    store = open_store(tmp_path / "db")
    store.connect()
    assert store.count({"output.input_hash": _digest(dimer)}) == 0  # nothing half-stored

    monkeypatch.setenv("SUPERATOM_CHECKPOINT_DIR", str(tmp_path / "chk"))
    doc = _run_job(dimer, store)  # a later run of the same input, even twice, just works
    assert doc.converged and doc.scf_guess in ("minao", "checkpoint")
    assert doc.e_tot_ha == pytest.approx(_reference_energy(dimer), abs=1e-7)
    assert restart_checkpoints(_digest(dimer)) == []
    assert _run_job(dimer, store).reused_from is not None


def test_identical_jobs_at_the_same_time_do_not_collide(tmp_path, dimer):
    first = _start_job(tmp_path, DATA / "water_dimer.xyz")
    second = _start_job(tmp_path, DATA / "water_dimer.xyz")
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    for process, (_, err) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, err
        assert "BlockingIOError" not in err and "unable to lock" not in err
    store = open_store(tmp_path / "db")
    store.connect()
    docs = list(store.query({"output.input_hash": _digest(dimer)}, properties=["uuid"]))
    assert 1 <= len(docs) <= 2
    for doc in docs:
        assert load_result(doc["uuid"], store=store).orbitals is not None
    assert not list((tmp_path / "chk").glob("*.chk"))  # both runs removed their own
