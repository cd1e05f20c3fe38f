"""A campaign submitted through jobflow-remote to a real local SLURM, results in our store."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from jobflow import JobStore
from typer.testing import CliRunner

from superatom.cli.main import app
from superatom.db import load_result, open_store, query_results

pytestmark = pytest.mark.slurm
DATA = Path(__file__).parent / "data"

CAMPAIGN = """
name: hpc-demo
preset: fast
settings: {device: cpu}
systems:
  - {name: water, file: water.xyz, system_class: molecule}
  - {name: water-dimer, file: water_dimer.xyz, system_class: dimer}
  - {name: lindqvist-W, build: {kind: lindqvist, metal: W}, tier: xtb}
interactions:
  - {name: water-dimer, system: water-dimer}
"""


@pytest.fixture
def store_project(slurm_cluster, tmp_path):
    """A project whose job store is superatom's embedded store in tmp_path/db."""
    from superatom.hpc.mockstore import reset_shared_mongomock
    from superatom.hpc.project import (
        install_project,
        make_project,
        store_configs,
        use_projects_folder,
    )
    from superatom.hpc.submit import ensure_queue_initialized

    name = f"sacamp-{uuid.uuid4().hex[:8]}"
    queue, _ = store_configs(name)
    # jobflow-remote rebuilds only plain JobStore dicts on the worker: same stores, that class
    local = open_store(tmp_path / "db")
    jobstore = JobStore(local.docs_store, additional_stores=local.additional_stores).as_dict()
    project = make_project(
        name, tmp_path / "runs", scheduler="slurm", partition=slurm_cluster.partition,
        cpus=1, mem_gb=1, walltime=600, queue_store=queue,
        jobstore=jobstore, base_dir=tmp_path / "jfr", poll_s=0.5,
    )
    install_project(project, tmp_path / "projects")
    ensure_queue_initialized(project)
    with use_projects_folder(tmp_path / "projects"):
        yield project
    reset_shared_mongomock(name)


def test_campaign_runs_on_slurm_and_lands_in_the_store(store_project, tmp_path):
    for name in ("water.xyz", "water_dimer.xyz"):
        shutil.copy(DATA / name, tmp_path / name)
    campaign = tmp_path / "campaign.yaml"
    campaign.write_text(CAMPAIGN)
    runner = CliRunner()
    result = runner.invoke(app, ["submit", str(campaign), "--project", store_project.name,
                                 "--wait", "--timeout", "400", "--json"])
    assert result.exit_code == 0, result.output
    jobs = json.loads(result.stdout)["jobs"]
    # water, lindqvist (xTB), 2 monomers, assembly, analysis, energy decomposition
    assert len(jobs) == 7
    assert {j["state"] for j in jobs} == {"COMPLETED"}, jobs
    # SLURM really ran them: numeric job ids and the batch output files exist
    for job in jobs:
        assert str(job["process_id"]).isdigit()
        assert (Path(job["run_dir"]) / "queue.out").exists()
    # per-job resources from system size reached the batch script
    dft = next(j for j in jobs if j["name"] == "dft_water")  # queue-safe job name
    script = (Path(dft["run_dir"]) / "submit.sh").read_text()
    assert "--cpus-per-task=2" in script and "--mem=4096M" in script

    # results are queryable from superatom's store, as with a local run
    rows = query_results(store=open_store(tmp_path / "db"), campaign="hpc-demo")
    names = {row["name"] for row in rows}
    assert {"water", "water-dimer", "water-dimer:W1", "lindqvist-W"} <= names
    water = next(row for row in rows if row["name"] == "water")
    doc = load_result(water["uuid"], store=open_store(tmp_path / "db"))
    assert doc.converged and doc.orbitals is not None
    assert doc.gap_ev == pytest.approx(10.08, abs=0.05)
    report = runner.invoke(app, ["report", "hpc-demo", "--db", str(tmp_path / "db"),
                                 "--out", str(tmp_path / "report")])
    assert report.exit_code == 0, report.output
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "water-dimer" in summary and "GFN2-xTB" in summary

    status = runner.invoke(app, ["status", "--project", store_project.name, "--json"])
    assert status.exit_code == 0
    assert len(json.loads(status.stdout)) == 7
