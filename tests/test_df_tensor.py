"""A DF tensor that goes to disk is kept beside the checkpoints and reused by a restart."""

from __future__ import annotations

from pyscf import gto, scf

from superatom.calc_settings import load_preset
from superatom.engine import run_scf
from superatom.engine import scf as engine_scf
from superatom.engine.df_tensor import keep_df_tensor, stored_tensor_fits, tensor_shape
from superatom.workflows.frontier import df_tensor_path, remove_checkpoints
from tests.molecules import oxygen_triplet, water


def _on_disk(mf):
    """``mf`` whose DF object gets too little memory for its tensor (PySCF: a file)."""
    mf.with_df.max_memory = 0.001
    return mf


def _water_hf():
    mol = gto.M(atom="O 0 0 0; H 0 0.76 0.59; H 0 -0.76 0.59", basis="def2-svp", verbose=0)
    return _on_disk(scf.RHF(mol).density_fit(auxbasis="def2-universal-jkfit"))


def test_a_kept_tensor_is_reused_with_the_same_energy(tmp_path, monkeypatch):
    path = tmp_path / "water.df.h5"
    first = _water_hf()
    assert keep_df_tensor(first, path)["df_tensor"] == "kept"
    assert stored_tensor_fits(path, *tensor_shape(first))
    assert not list(tmp_path.glob("*.partial"))
    energy = first.kernel()

    from pyscf.df import outcore

    def no_build(*args, **kwargs):
        raise AssertionError("the kept tensor was built again")

    monkeypatch.setattr(outcore, "cholesky_eri_b", no_build)
    again = _water_hf()
    record = keep_df_tensor(again, path)
    assert record["df_tensor"] == "reused" and record["df_file"] == str(path)
    assert abs(again.kernel() - energy) < 1e-10
    reference = scf.RHF(again.mol).density_fit(auxbasis="def2-universal-jkfit").kernel()
    assert abs(energy - reference) < 1e-10  # same integrals as PySCF's in-memory tensor


def test_a_tensor_of_another_system_or_a_broken_file_is_not_used(tmp_path):
    path = tmp_path / "df.h5"
    keep_df_tensor(_water_hf(), path)
    mol = gto.M(atom="O 0 0 0; O 0 0 1.21", basis="def2-svp", spin=2, verbose=0)
    oxygen = _on_disk(scf.UHF(mol).density_fit(auxbasis="def2-universal-jkfit"))
    assert not stored_tensor_fits(path, *tensor_shape(oxygen))
    assert keep_df_tensor(oxygen, path)["df_tensor"] == "kept"  # rebuilt for O2
    path.write_bytes(b"not an HDF5 file")
    assert not stored_tensor_fits(path, *tensor_shape(oxygen))


def test_without_disk_space_the_tensor_stays_in_a_scratch_file(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10, 10, 0))
    mf = _water_hf()
    record = keep_df_tensor(mf, tmp_path / "df.h5")
    assert record["df_tensor"] == "scratch" and "GB free" in record["df_note"]
    assert not (tmp_path / "df.h5").exists()
    reference = scf.RHF(mf.mol).density_fit(auxbasis="def2-universal-jkfit").kernel()
    assert abs(mf.kernel() - reference) < 1e-10


def test_a_restarted_scf_reuses_the_tensor_and_records_it(tmp_path, monkeypatch):
    real_keep = engine_scf.keep_df_tensor
    monkeypatch.setattr(engine_scf, "keep_df_tensor",
                        lambda mf, path: real_keep(_on_disk(mf), path))
    settings = load_preset("fast", device="cpu")
    path = str(tmp_path / "o2.df.h5")
    first = run_scf(oxygen_triplet(), settings, df_file=path)
    again = run_scf(oxygen_triplet(), settings, df_file=path)
    assert first.extra["memory"]["df_tensor"] == "kept"
    assert again.extra["memory"]["df_tensor"] == "reused"
    assert abs(first.e_tot - again.e_tot) < 1e-9


def test_a_tensor_that_fits_in_memory_is_left_alone(tmp_path):
    result = run_scf(water(), load_preset("fast", device="cpu"),
                     df_file=str(tmp_path / "w.df.h5"))
    assert result.extra["memory"]["df_tensor"] == "in memory"
    assert not (tmp_path / "w.df.h5").exists()


def test_storing_the_result_removes_the_kept_tensor(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERATOM_CHECKPOINT_DIR", str(tmp_path))
    kept = df_tensor_path("abc123")
    assert kept.parent == tmp_path
    kept.write_bytes(b"x")
    (tmp_path / "abc123.1-2.chk").write_bytes(b"x")
    (tmp_path / "abc123.df.h5.77-deadbeef.partial").write_bytes(b"x")  # a killed build's
    remove_checkpoints("abc123")
    assert not list(tmp_path.iterdir())
