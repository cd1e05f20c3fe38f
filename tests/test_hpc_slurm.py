"""End-to-end checks on a real single-node SLURM (fixtures in tests/hpc_fixtures.py).

(a) a plain ``sbatch`` script runs; (b) a two-job jobflow Flow goes through
jobflow-remote to SLURM and its outputs reach the job store; (c) a failing job is
FAILED with its error visible and ``rerun_failed`` makes it run again.  The first
tests (no marker) only check configuration text and need no SLURM.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

slurm = pytest.mark.slurm


def test_starter_project_yaml_validates_and_renders_headers():
    import yaml
    from jobflow_remote.config.base import Project

    from superatom.hpc.project import starter_project_yaml

    for scheduler, gpu_flag in (("slurm", "#SBATCH --gres=gpu:1"), ("pbs", ":ngpus=1")):
        for gpu in (True, False):
            text = starter_project_yaml("my-cluster", scheduler=scheduler, gpu=gpu, cpus=4)
            project = Project.model_validate(yaml.safe_load(text))
            (worker,) = project.workers.values()
            assert worker.scheduler_type == scheduler
            assert worker.pre_run and "activate" in worker.pre_run
            header = worker.get_scheduler_io().generate_header(dict(worker.resources))
            assert (gpu_flag in header) is gpu, header
            assert ("cpus-per-task=4" in header) or ("ncpus=4" in header), header
            assert project.queue.store["database"] == "superatom_my_cluster"


def test_make_project_stores_and_yaml_roundtrip(tmp_path):
    import yaml
    from jobflow_remote.config.base import Project

    from superatom.hpc.mockstore import SharedMongomockStore
    from superatom.hpc.project import install_project, make_project, project_to_yaml

    mock = make_project("rt", tmp_path / "runs", partition="gpu", gpu=True, mem_gb=2, poll_s=1)
    again = Project.model_validate(yaml.safe_load(project_to_yaml(mock)))
    assert isinstance(again.get_queue_store(), SharedMongomockStore)
    assert isinstance(again.get_jobstore().docs_store, SharedMongomockStore)
    assert again.workers["slurm"].resources == {
        "nodes": 1, "ntasks": 1, "cpus_per_task": 1, "partition": "gpu",
        "mem": "2048M", "time": "1:00:00", "gres": "gpu:1",
    }  # fmt: skip
    assert again.runner.delay_check_run_status == 1
    real = make_project("rt2", tmp_path / "runs", mongo_uri="mongodb://db.example:27017")
    assert real.get_queue_store().uri == "mongodb://db.example:27017"
    assert install_project(real, tmp_path / "projects").read_text().startswith("name: rt2")


def test_shared_mongomock_store_survives_new_instances():
    from superatom.hpc.mockstore import SharedMongomockStore, reset_shared_mongomock

    first = SharedMongomockStore("db", "jobs", server="t-shared")
    first.connect()
    first.update([{"task_id": 1, "x": 2}], key="task_id")
    first.close()
    second = SharedMongomockStore("db", "jobs", server="t-shared")
    second.connect()
    assert second.query_one({"task_id": 1})["x"] == 2
    reset_shared_mongomock("t-shared")
    third = SharedMongomockStore("db", "jobs", server="t-shared")
    third.connect()
    assert third.count() == 0


def test_slurm_conf_and_availability(tmp_path, monkeypatch):
    from tests import slurm_local

    conf = slurm_local.write_slurm_conf(
        tmp_path, nodename="n1", cpus=3, real_memory_mb=1000, ctld_port=7001, slurmd_port=7002
    ).read_text()
    for line in (
        "SlurmctldHost=n1(127.0.0.1)",
        "NodeName=n1 NodeAddr=127.0.0.1 CPUs=3 RealMemory=1000 State=UNKNOWN",
        "PartitionName=debug Nodes=n1 Default=YES",
        "PartitionName=gpu Nodes=n1 Default=NO",
        "ProctrackType=proctrack/pgid",
        "SelectType=select/cons_tres",
        f"StateSaveLocation={tmp_path.resolve() / 'state'}",
    ):
        assert line in conf
    monkeypatch.setattr(slurm_local, "_which", lambda name: None)
    ok, reason = slurm_local.slurm_available()
    assert not ok and "slurm-wlm" in reason


@slurm
def test_sbatch_plain_script(slurm_cluster, tmp_path):
    script = tmp_path / "hello.sh"
    script.write_text(
        "#!/bin/bash\n"
        f"#SBATCH --partition={slurm_cluster.partition}\n"
        "#SBATCH --output=hello.out\n"
        "#SBATCH --time=00:01:00\n"
        'echo "hello from job $SLURM_JOB_ID on $(hostname -s)"\n'
    )
    job_id = slurm_cluster.sbatch(script)
    slurm_cluster.wait_job(job_id, timeout=60)
    out = (tmp_path / "hello.out").read_text()
    assert f"hello from job {job_id}" in out
    assert slurm_cluster.node_state().startswith(("idle", "mix"))


def _scontrol_state(cluster, job_id: str) -> str:
    res = subprocess.run(
        ["scontrol", "show", "job", str(job_id)],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    for token in res.stdout.split():
        if token.startswith("JobState="):
            return token.split("=", 1)[1]
    return ""


@slurm
@pytest.mark.timeout(300)
def test_flow_through_jobflow_remote(slurm_cluster, jfr_project):
    from jobflow import Flow

    from superatom.hpc.selftest import add
    from superatom.hpc.submit import get_output, job_states, run_runner_until_done, submit_flow

    j1 = add(1, 2)
    j2 = add(j1.output, 4)
    db_ids = submit_flow(
        Flow([j1, j2], name="selftest"),
        jfr_project,
        resources_for_job=lambda job: {"time": "0:05:00"},  # merged over worker defaults
    )
    assert len(db_ids) == 2

    states = run_runner_until_done(jfr_project, timeout_s=200)
    assert [s["state"] for s in states] == ["COMPLETED", "COMPLETED"], states

    for row in job_states(jfr_project):
        assert row["worker"] == "slurm"
        job_id = row["process_id"]
        assert job_id and job_id.isdigit(), row  # id returned by sbatch
        run_dir = Path(row["run_dir"])
        script = (run_dir / "submit.sh").read_text()
        assert f"--partition={slurm_cluster.partition}" in script
        assert "--time=0:05:00" in script and "--cpus-per-task=1" in script
        assert (run_dir / "queue.out").exists()  # written by slurmstepd
        assert (run_dir / "jfremote_out.json").exists()
        assert _scontrol_state(slurm_cluster, job_id) in ("COMPLETED", "")

    assert get_output(jfr_project, uuid=j1.uuid) == 3
    assert get_output(jfr_project, uuid=j2.uuid) == 7


@slurm
@pytest.mark.timeout(300)
def test_failed_job_then_rerun(slurm_cluster, jfr_project, tmp_path, monkeypatch):
    from superatom.hpc.selftest import fail
    from superatom.hpc.submit import get_output, rerun_failed, run_runner_until_done, submit_flow

    flag_dir = tmp_path / "flag"
    flag_dir.mkdir()
    monkeypatch.setenv("SUPERATOM_SELFTEST_DIR", str(flag_dir))  # sbatch exports env

    job = fail("deliberate boom")
    submit_flow(job, jfr_project)
    (row,) = run_runner_until_done(jfr_project, timeout_s=120)
    assert row["state"] == "FAILED", row
    assert "deliberate boom" in (row["error"] or ""), row
    assert row["process_id"]

    (flag_dir / "SUPERATOM_SELFTEST_OK").touch()
    assert rerun_failed(jfr_project) == [row["db_id"]]
    (row2,) = run_runner_until_done(jfr_project, timeout_s=120)
    assert row2["state"] == "COMPLETED", row2
    assert row2["process_id"] != row["process_id"]  # a new SLURM job
    assert get_output(jfr_project, uuid=job.uuid) is None
