"""Fixtures for the SLURM / jobflow-remote tests (import them in ``tests/conftest.py``).

``slurm_cluster`` (session)
    a real single-node SLURM (munged + slurmctld + slurmd) started as root in a
    temporary folder; ``SLURM_CONF`` is exported for the whole session so that
    qtoolkit's ``sbatch``/``squeue`` calls reach it.  Skips with the reason when
    slurm-wlm/munge are missing, we are not root, or the daemons do not come up.
``jfr_project`` (function)
    a jobflow-remote Project with a ``local`` worker driving that SLURM, work folder
    in ``tmp_path``, 0.5 s Runner polling, and the queue/job store on the MongoDB of
    ``$SUPERATOM_TEST_MONGO_URI`` (a fresh database, dropped afterwards) or, without
    it, on the in-process shared mongomock.

Examples
--------
In ``tests/conftest.py``::

    from tests.hpc_fixtures import jfr_project, slurm_cluster  # noqa: F401
"""

from __future__ import annotations

import os
import uuid

import pytest

from tests.slurm_local import LocalSlurmCluster, SlurmStartError, slurm_available

MONGO_ENV = "SUPERATOM_TEST_MONGO_URI"


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """Start a local SLURM for the session (skip the test if impossible)."""
    ok, reason = slurm_available()
    if not ok:
        pytest.skip(f"local SLURM unavailable: {reason}")
    root = tmp_path_factory.mktemp("slurm")
    cluster = LocalSlurmCluster(root)
    try:
        cluster.start(timeout=60)
    except SlurmStartError as exc:
        pytest.skip(f"local SLURM did not start: {exc}")
    saved = {k: os.environ.get(k) for k in cluster.env_delta}
    os.environ.update(cluster.env_delta)
    try:
        yield cluster
    finally:
        cluster.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def jfr_project(slurm_cluster, tmp_path):
    """jobflow-remote Project on the local SLURM, queue on mongomock or real MongoDB."""
    from superatom.hpc.mockstore import reset_shared_mongomock
    from superatom.hpc.project import make_project
    from superatom.hpc.submit import ensure_queue_initialized

    name = f"satest-{uuid.uuid4().hex[:8]}"
    uri = os.environ.get(MONGO_ENV) or None
    database = name.replace("-", "_")
    project = make_project(
        name,
        tmp_path / "runs",
        scheduler="slurm",
        partition=slurm_cluster.partition,
        cpus=1,
        mem_gb=0.5,
        walltime=600,
        mongo_uri=uri,
        database=database,
        base_dir=tmp_path / "jfr",
        poll_s=0.5,
    )
    ensure_queue_initialized(project)
    try:
        yield project
    finally:
        if uri:
            import pymongo

            with pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
                client.drop_database(database)
        else:
            reset_shared_mongomock(name)
