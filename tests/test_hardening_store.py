"""Store integrity: a result is visible only with its arrays, reuse neither copies arrays nor
lists a result twice, labels of reruns are kept, read-only and corrupt stores behave."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from jobflow import run_locally
from typer.testing import CliRunner

from superatom.cli.main import app
from superatom.db import load_result, open_store, query_results
from superatom.db.reuse import find_reusable
from superatom.structures.io import read_molecule
from superatom.workflows.frontier import FrontierOrbitalMaker

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
runner = CliRunner()
FAST = {"device": "cpu"}


def _cli(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def _data_store_state(db: Path) -> tuple[int, int]:
    """(number of array blobs, bytes of the data collection file)."""
    store = open_store(db)
    store.connect()
    files = [p for p in db.rglob("outputs_data*") if p.is_file()]
    return store.additional_stores["data"].count({}), sum(p.stat().st_size for p in files)


def _blob_uuids(store) -> list[str]:
    return [d["blob_uuid"] for d in store.additional_stores["data"].query({}, ["blob_uuid"])]


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from jobflow import run_locally
    from superatom.db import open_store
    from superatom.db.store import LockedMontyStore
    from superatom.structures.io import read_molecule
    from superatom.workflows.frontier import FrontierOrbitalMaker

    original = LockedMontyStore.update

    def slow_update(self, docs, key=None):
        if self.collection_name == sys.argv[3]:
            print("WRITING", flush=True)
            time.sleep(60)  # the parent kills the process here
        return original(self, docs, key=key)

    LockedMontyStore.update = slow_update
    job = FrontierOrbitalMaker(preset="fast", settings_overrides={"device": "cpu"}).make(
        read_molecule(sys.argv[1]))
    run_locally(job, store=open_store(sys.argv[2]), log=False, ensure_success=True)
""")


@pytest.mark.parametrize("collection", ["outputs_data", "outputs"])
def test_a_kill_while_storing_never_leaves_a_document_without_arrays(tmp_path, collection):
    script = tmp_path / "job.py"
    script.write_text(KILL_SCRIPT)
    process = subprocess.Popen(
        [sys.executable, str(script), str(DATA / "water.xyz"), str(tmp_path / "db"), collection],
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "WRITING", process.stderr.read()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    store = open_store(tmp_path / "db")
    store.connect()
    assert store.count({"output.input_hash": {"$exists": True}}) == 0
    if collection == "outputs":  # killed after the arrays, before the document
        assert len(_blob_uuids(store)) == 1
    assert query_results(store=store) == []
    # the rerun computes it and the result is complete
    job = FrontierOrbitalMaker(preset="fast", settings_overrides=FAST).make(
        read_molecule(DATA / "water.xyz"))
    run_locally(job, store=store, log=False, ensure_success=True)
    assert load_result(job.uuid, store=store).orbitals is not None


def test_a_torn_document_is_never_reused(tmp_path):
    """A document whose arrays are missing (as an older version left it when killed)."""
    store = open_store(tmp_path / "db")
    water = read_molecule(DATA / "water.xyz")
    first = FrontierOrbitalMaker(preset="fast", settings_overrides=FAST).make(water)
    run_locally(first, store=store, log=False, ensure_success=True)
    digest = load_result(first.uuid, store=store).input_hash
    store.additional_stores["data"].remove_docs({})  # tear it
    assert find_reusable(store, digest) is None
    second = FrontierOrbitalMaker(preset="fast", settings_overrides=FAST).make(water)
    run_locally(second, store=store, log=False, ensure_success=True)
    doc = load_result(second.uuid, store=store)
    assert doc.reused_from is None and doc.orbitals is not None


def test_run_twice_lists_one_result_and_the_data_store_does_not_grow(tmp_path):
    db = tmp_path / "db"
    args = ["run", str(DATA / "water.xyz"), "-p", "fast", "--set", "device=cpu", "--db",
            str(db), "--json"]
    first = json.loads(_cli(*args).stdout)
    state = _data_store_state(db)
    uuids = [first["uuid"]]
    for _ in range(3):
        again = json.loads(_cli(*args).stdout)
        assert again["reused_from"] == first["uuid"] and again["homo_ev"] == first["homo_ev"]
        assert _data_store_state(db) == state  # no array copied, file size unchanged
        uuids.append(again["uuid"])
    listed = json.loads(_cli("query", "--db", str(db), "--json").stdout)
    assert len(listed) == 1
    store = open_store(db)
    store.connect()
    assert store.count({}) == 2  # the result and one reuse record (earlier ones replaced)
    original = load_result(first["uuid"], store=store)
    reused = load_result(uuids[-1], store=store)
    assert np.array_equal(reused.orbitals.mo_coeff.to_array(),
                          original.orbitals.mo_coeff.to_array())


def test_a_reused_result_takes_the_new_label(tmp_path):
    db = str(tmp_path / "db")
    base = ["run", str(DATA / "water.xyz"), "-p", "fast", "--set", "device=cpu", "--db", db,
            "--json"]
    first = json.loads(_cli(*base, "--name", "first").stdout)
    second = json.loads(_cli(*base, "--name", "second").stdout)
    plain = json.loads(_cli(*base).stdout)
    assert (first["name"], second["name"], plain["name"]) == ("first", "second", "H2O")
    assert second["reused_from"] == plain["reused_from"] == first["uuid"]
    store = open_store(db)
    assert load_result(first["uuid"], store=store).aliases == ["second", "H2O"]
    names = {row["name"] for row in query_results(store=store)}
    assert names == {"first", "second", "H2O"}


CAMPAIGN = """
name: {name}
preset: fast
settings: {{device: cpu}}
systems:
  - {{name: water, file: water.xyz}}
  - {{name: h2, file: h2.xyz}}
"""


def test_campaign_rerun_and_membership_without_array_copies(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATA / "water.xyz", tmp_path / "water.xyz")
    (tmp_path / "h2.xyz").write_text("2\n\nH 0 0 0\nH 0 0 0.74\n")
    for name in ("alpha", "beta"):
        (tmp_path / f"{name}.yaml").write_text(CAMPAIGN.format(name=name))
    db = str(tmp_path / "db")
    _cli("screen", "alpha.yaml", "--db", db, "--json")
    state = _data_store_state(tmp_path / "db")
    for campaign in ("alpha", "alpha", "beta"):
        out = json.loads(_cli("screen", f"{campaign}.yaml", "--db", db, "--json").stdout)
        assert (out["completed"], out["reused"]) == (0, 2)
        assert _data_store_state(tmp_path / "db") == state
    store = open_store(db)
    for campaign in ("alpha", "beta"):  # membership recorded, one row per system
        rows = query_results(store=store, campaign=campaign)
        assert sorted(r["name"] for r in rows) == ["h2", "water"]
        summary = (tmp_path / f"{campaign}_report" / "summary.csv").read_text().splitlines()
        assert len(summary) == 3
    store.connect()
    computed = list(store.query({"output.reused_from": None}, ["output.input_hash"]))
    assert len(computed) == 2  # each input computed once over four campaign runs


def _read_only_mount_works() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "--mount", "sh", "-c",
                            "mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _read_only_mount_works(), reason="needs root and mount namespaces")
def test_a_read_only_store_can_be_queried_and_analysed(tmp_path):
    """The store folder is mounted read-only (as a shared results folder often is)."""
    db = tmp_path / "db"
    stored = json.loads(_cli("run", str(DATA / "water.xyz"), "-p", "fast", "--set",
                             "device=cpu", "--db", str(db), "--json").stdout)
    (db / ".superatom-write.lock").unlink()
    before = sorted(p.relative_to(db) for p in db.rglob("*"))
    cli = f"{sys.executable} -m superatom.cli.main"
    script = textwrap.dedent(f"""
        mount --bind {db} {db} && mount -o remount,bind,ro {db} || exit 90
        {cli} query --db {db} --json > {tmp_path}/query.json || exit 91
        {cli} analyze {stored["uuid"][:8]} --db {db} --json > {tmp_path}/analyze.json || exit 92
        {cli} run {DATA / "water_dimer.xyz"} -p fast --db {db} 2> {tmp_path}/run.err
        echo $? > {tmp_path}/run.rc
    """)
    done = subprocess.run(["unshare", "--mount", "sh", "-c", script], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert [row["uuid"] for row in json.loads((tmp_path / "query.json").read_text())] == [
        stored["uuid"]]
    assert json.loads((tmp_path / "analyze.json").read_text())
    assert (tmp_path / "run.rc").read_text().strip() != "0"
    errors = (tmp_path / "run.err").read_text().splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: ") and "read-only" in errors[0]
    assert sorted(p.relative_to(db) for p in db.rglob("*")) == before


@pytest.mark.parametrize("command", [
    ["query"], ["run", str(DATA / "water.xyz"), "-p", "fast"], ["analyze", "0123abcd"],
    ["report", "some-campaign"], ["compare", "0123abcd", "4567abcd"],
])
def test_a_corrupt_store_is_one_line_for_every_command(tmp_path, command):
    db = tmp_path / "db"
    store = open_store(db)
    store.connect()
    store.update({"uuid": "u", "index": 1, "output": {"x": 1}})
    for path in db.rglob("*.collection"):
        path.write_bytes(b"this is not a database" * 100)
    result = runner.invoke(app, [*command, "--db", str(db)])
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output


def test_a_rerun_analysis_replaces_the_identical_earlier_one(tmp_path):
    """Interaction/chain analyses of the same inputs, name and campaign are kept once; a
    different campaign, name or input keeps its own."""
    store = open_store(tmp_path / "db")
    store.connect()

    def analysis(uuid, name="dimer", campaign="c1", hashes=("a", "b", "ab")):
        return {"uuid": uuid, "index": 1, "output": {
            "doc_type": "interaction", "name": name, "campaign": campaign,
            "input_hashes": list(hashes), "gap_assembly_ev": 1.0}}

    for uuid in ("run1", "run2", "run3"):
        store.update(analysis(uuid), key=["uuid", "index"])
    store.update(analysis("other-campaign", campaign="c2"), key=["uuid", "index"])
    store.update(analysis("other-input", hashes=("a", "b", "xy")), key=["uuid", "index"])
    kept = sorted(d["uuid"] for d in store.query({"output.doc_type": "interaction"}, ["uuid"]))
    assert kept == ["other-campaign", "other-input", "run3"]


def test_a_reused_xtb_result_takes_the_new_label_not_the_earlier_one(tmp_path):
    from superatom.workflows.xtb import XtbFrontierMaker

    store = open_store(tmp_path / "db")
    water = read_molecule(DATA / "water.xyz")
    outputs = []
    for metadata in ({"name": "first", "campaign": "c1"}, {}):
        job = XtbFrontierMaker(metadata=metadata).make(water)
        outputs.append(run_locally(job, store=store, ensure_success=True)[job.uuid][1].output)
    first, plain = outputs
    assert plain.reused_from is not None and plain.gap_ev == first.gap_ev
    assert (first.name, first.campaign) == ("first", "c1")
    assert (plain.name, plain.campaign) == ("H2O", None)  # not the earlier run's labels
