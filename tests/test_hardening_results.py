"""Stored results stay readable and findable: nothing unreadable is stored or reused, a printed
uuid keeps resolving after a rerun, concurrent runs compute an input once, analyses that need
an occupied/virtual pair refuse cleanly, and dependency failures (MongoDB, jobflow-remote) are
one line each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jobflow import run_locally
from typer.testing import CliRunner

from superatom.calc_settings import load_preset
from superatom.cli.main import app
from superatom.db import load_result, open_store, query_results
from superatom.errors import InputError
from superatom.structures.io import read_molecule
from superatom.workflows.frontier import FrontierOrbitalMaker

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
runner = CliRunner()
FAST = ["-p", "fast", "--set", "device=cpu"]
H2 = "2\n\nH 0 0 0\nH 0 0 0.74\n"


def one_error_line(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code != 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output and "unexpected" not in result.output
    return lines[0]


def run_json(path: Path, db: str, *extra: str) -> dict:
    result = runner.invoke(app, ["run", str(path), *FAST, "--db", db, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def h2(tmp_path) -> Path:
    path = tmp_path / "h2.xyz"
    path.write_text(H2)
    return path


def _counts(db: str) -> tuple[int, int]:
    store = open_store(db)
    store.connect()
    return store.docs_store.count({}), store.additional_stores["data"].count({})


def test_a_result_whose_settings_would_not_load_is_never_stored(tmp_path, h2):
    db = str(tmp_path / "db")
    maker = FrontierOrbitalMaker(preset="fast", settings_overrides={"device": "cpu"})
    maker.settings = load_preset("fast", device="cpu").model_copy(
        update={"max_memory_mb": -4000})  # what an unvalidated copy let through
    with pytest.raises(InputError, match="max_memory_mb"):
        run_locally(maker.make(read_molecule(h2)), store=open_store(db), log=False,
                    raise_immediately=True)
    assert _counts(db) == (0, 0)


def test_an_unreadable_stored_result_is_never_reused_and_analyze_says_so(tmp_path, h2):
    db = str(tmp_path / "db")
    first = run_json(h2, db)
    store = open_store(db)
    store.connect()
    store.docs_store._collection.update_one(  # a document written by an unchecked version
        {"uuid": first["uuid"]}, {"$set": {"output.settings.max_memory_mb": -4000}})
    second = run_json(h2, db)
    assert second["reused_from"] is None and second["uuid"] != first["uuid"]
    assert second["gap_ev"] == pytest.approx(first["gap_ev"], abs=1e-6)
    line = one_error_line(["analyze", first["uuid"], "--what", "composition", "--db", db])
    assert "max_memory_mb" in line and "--force" in line
    assert run_json(h2, db)["reused_from"] == second["uuid"]  # the readable one is reused


def test_a_printed_uuid_keeps_resolving_after_reruns_replace_its_record(tmp_path, h2):
    db = str(tmp_path / "db")
    uuids = [run_json(h2, db)["uuid"] for _ in range(4)]  # computed, then three reuses
    rows = query_results(open_store(db))
    assert len(rows) == 1  # listed once
    for uuid in uuids:
        doc = load_result(uuid, store=open_store(db))
        assert doc.orbitals is not None and doc.gap_ev == pytest.approx(rows[0]["gap_ev"])
    result = runner.invoke(app, ["analyze", uuids[1], "--what", "composition", "--db", db])
    assert result.exit_code == 0, result.output
    assert "no stored result" not in result.output


def test_zero_electrons_are_refused_by_the_python_api_too():
    from pymatgen.core import Molecule

    from superatom import engine

    proton = Molecule(["H"], [[0, 0, 0]])
    proton._charge, proton._spin_multiplicity = 1, 1
    with pytest.raises(InputError, match="electrons"):
        engine.build_mole(proton, load_preset("fast", device="cpu"))


def test_optical_needs_an_occupied_and_an_empty_orbital(tmp_path):
    """He in STO-3G has no empty orbital: the analysis refuses with one line, no SCF crash."""
    he = tmp_path / "he.xyz"
    he.write_text("1\n\nHe 0 0 0\n")
    db = str(tmp_path / "db")
    doc = run_json(he, db, "-s", "basis=sto-3g", "-s", "density_fit=false")
    assert doc["lumo_ev"] is None
    line = one_error_line(["analyze", doc["uuid"], "--what", "optical", "--db", db, "-o",
                           str(tmp_path / "out")])
    assert "no occupied-to-empty excitation" in line


# --------------------------------------------------------------------------- concurrency

CAMPAIGN = """\
name: twice
preset: fast
settings: {device: cpu}
systems:
  - {name: h2, file: H2FILE, tier: dft}
  - {name: h2-grid2, file: H2FILE, tier: dft, settings: {grids_level: 2}}
"""


def test_two_screens_of_one_campaign_compute_each_input_once(tmp_path, h2):
    (tmp_path / "c.yaml").write_text(CAMPAIGN.replace("H2FILE", str(h2)))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    db = str(tmp_path / "db")
    processes = [subprocess.Popen([sys.executable, "-m", "superatom.cli.main", "screen",
                                   "c.yaml", "--db", db, "-o", f"report{k}"], cwd=tmp_path,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for k in range(2)]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    store = open_store(db)
    store.connect()
    computed = list(store.query({"output.reused_from": None}, ["output.name"]))
    assert sorted(d["output"]["name"] for d in computed) == ["h2", "h2-grid2"]
    assert store.additional_stores["data"].count({}) == 2  # the arrays of each input once
    from superatom.db.inputlock import hold_input, release_input

    for digest in {d["output"]["input_hash"] for d in store.query({}, ["output.input_hash"])}:
        hold_input(store, digest, timeout_s=1)  # both processes released every lock
        release_input(digest)


# --------------------------------------------------------------------------- dependencies


def test_an_unreachable_mongodb_is_one_line_within_seconds():
    start = time.perf_counter()
    line = one_error_line(["query", "--db", "mongodb://127.0.0.1:1/x"])
    assert "MongoDB server not reachable" in line and "--db" in line
    assert time.perf_counter() - start < 15  # pymongo alone waits 30 s


def test_a_password_with_an_at_sign_says_to_percent_encode():
    line = one_error_line(["query", "--db", "mongodb://user:pa@ss@127.0.0.1:1/x"])
    assert "percent-encode" in line and "pa@ss" not in line


@pytest.mark.parametrize("project", ["nonexistent-superatom-project", "", "  "])
def test_jobflow_remote_project_problems_are_one_line(tmp_path, project, monkeypatch):
    pytest.importorskip("jobflow_remote")
    monkeypatch.setenv("JFREMOTE_PROJECTS_FOLDER", str(tmp_path / "projects"))
    (tmp_path / "projects").mkdir()
    (tmp_path / "c.yaml").write_text(
        f"name: c\npreset: fast\nsystems:\n  - {{name: w, file: {DATA / 'water.xyz'}}}\n")
    for command in (["submit", str(tmp_path / "c.yaml")], ["status"], ["rerun"]):
        line = one_error_line([*command, "-P", project])
        assert "project" in line
