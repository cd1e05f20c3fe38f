"""Embedded store: round trip, cross-process access, concurrency, config, reuse."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from jobflow import run_locally

from superatom.calc_settings import load_preset
from superatom.db import load_result, open_store, query_results, store_location
from superatom.db.store import read_config
from superatom.engine.memory import memory_budget_mb
from superatom.errors import InputError
from superatom.schemas.hashing import input_hash
from superatom.workflows.frontier import FrontierOrbitalMaker
from tests.molecules import oxygen_triplet, water

FAST_CPU = {"device": "cpu"}

WRITER = textwrap.dedent(
    """
    import sys, warnings
    warnings.filterwarnings("ignore")
    from jobflow import run_locally
    from pymatgen.core import Molecule
    from superatom.db import open_store
    from superatom.workflows.frontier import FrontierOrbitalMaker
    store = open_store(sys.argv[1])
    for k in range(int(sys.argv[3])):
        h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.70 + 0.01 * int(sys.argv[2]) + 0.001 * k]])
        maker = FrontierOrbitalMaker(preset="fast", settings_overrides={"device": "cpu"},
                                     reuse=False, metadata={"campaign": "writer" + sys.argv[2]})
        run_locally(maker.make(h2), store=store, log=False, raise_immediately=True)
    print("ok")
    """
)


def run_job(molecule, store, **maker_kwargs):
    maker_kwargs.setdefault("settings_overrides", FAST_CPU)
    job = FrontierOrbitalMaker(preset="fast", **maker_kwargs).make(molecule)
    run_locally(job, store=store, log=False, ensure_success=True)
    return job.uuid


def test_document_round_trip_with_arrays(tmp_path):
    store = open_store(tmp_path / "db")
    mol = water()
    mol.add_site_property("fragment", ["O-part", "H-part", "H-part"])
    uuid = run_job(mol, store, metadata={"name": "water", "system_class": "test"})
    doc = load_result(uuid, store=store)
    settings = load_preset("fast", **FAST_CPU)
    # full provenance on every stored result
    # stored as run: the unset memory budget replaced by the one the job used
    assert doc.settings == {**settings.model_dump(), "max_memory_mb": memory_budget_mb(None)}
    assert doc.memory["budget_mb"] == memory_budget_mb(None)
    assert doc.input_hash == input_hash(mol, settings)
    assert {"superatom", "pyscf", "numpy"} <= set(doc.versions)
    assert doc.device == "cpu" and doc.device_name
    assert doc.timings["scf_s"] > 0 and doc.timings["total_s"] >= doc.timings["scf_s"]
    assert doc.converged and doc.scf_cycles > 0
    # arrays come back exactly from the data store and are consistent with the summary
    arrays = doc.orbitals.arrays()
    occupied = arrays["mo_energy"][arrays["mo_occ"] > 0]
    assert doc.homo_ev == pytest.approx(occupied.max() * 27.211386245988)
    np.testing.assert_allclose(arrays["mo_coeff"].T @ arrays["overlap"] @ arrays["mo_coeff"],
                               np.eye(arrays["mo_coeff"].shape[1]), atol=1e-8)
    # frontier composition per fragment sums to one and the HOMO (O lone pair) sits on O
    homo = next(level for level in doc.frontier if level.label == "HOMO")
    assert sum(homo.fragment_weights.values()) == pytest.approx(1.0)
    assert homo.fragment_weights["O-part"] > 0.9
    # the big arrays are in the data store, not in the main document
    raw = store.docs_store.query_one({"uuid": uuid})
    assert "@class" in str(raw["output"]["orbitals"]) or "blob_uuid" in raw["output"]["orbitals"]
    assert store.additional_stores["data"].count() >= 1


def test_open_shell_document_has_both_spins(tmp_path):
    store = open_store(tmp_path / "db")
    doc = load_result(run_job(oxygen_triplet(), store), store=store)
    assert doc.spin_treatment == "UKS" and doc.multiplicity == 3
    assert doc.homo_alpha_ev is not None and doc.homo_beta_ev is not None
    assert doc.homo_ev == pytest.approx(max(doc.homo_alpha_ev, doc.homo_beta_ev))
    assert doc.lumo_ev == pytest.approx(min(doc.lumo_alpha_ev, doc.lumo_beta_ev))
    assert {level.spin for level in doc.frontier} == {"alpha", "beta"}


def test_reuse_skips_recomputation_and_force_reruns(tmp_path):
    store = open_store(tmp_path / "db")
    first = load_result(run_job(water(), store), store=store)
    second = load_result(run_job(water(), store), store=store)
    assert second.reused_from is not None and second.reused_from != second.job_uuid
    assert second.e_tot_ha == first.e_tot_ha and second.input_hash == first.input_hash
    forced = load_result(run_job(water(), store, reuse=False), store=store)
    assert forced.reused_from is None
    assert forced.e_tot_ha == pytest.approx(first.e_tot_ha, abs=1e-8)
    # other settings -> other hash -> no reuse
    pbe = load_result(run_job(water(), store, settings_overrides={"device": "cpu", "xc": "PBE"}),
                      store=store)
    assert pbe.reused_from is None and pbe.input_hash != first.input_hash


def test_store_shared_by_two_processes_at_once(tmp_path):
    folder = str(tmp_path / "db")
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, folder, str(k), "3"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for k in (1, 2)
    ]
    for proc in writers:
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
    rows = query_results(store=open_store(folder))
    assert len(rows) == 6
    assert {row["campaign"] for row in rows} == {"writer1", "writer2"}
    # every document is whole: its arrays load and are consistent
    for row in rows:
        doc = load_result(row["uuid"], store=open_store(folder))
        assert doc.orbitals.arrays()["mo_coeff"].shape == (doc.nao, doc.nao)


def test_location_from_env_and_config(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERATOM_DB", str(tmp_path / "from-env"))
    assert store_location() == str(tmp_path / "from-env")
    monkeypatch.delenv("SUPERATOM_DB")
    config = tmp_path / "config.yaml"
    monkeypatch.setenv("SUPERATOM_CONFIG", str(config))
    config.write_text(f"db: {tmp_path / 'from-config'}\n")
    assert store_location() == str(tmp_path / "from-config")
    config.write_text("db: mongodb://localhost:27017\n")
    store = open_store()
    assert type(store.docs_store).__name__ == "MongoStore"
    config.write_text("db: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        read_config()


def test_unknown_uuid_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no stored result"):
        load_result("does-not-exist", store=open_store(tmp_path / "db"))
