"""Shared fixtures: an isolated store per test session, CPU-only settings, GPU skip."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture(autouse=True, scope="session")
def _isolated_user_folders(tmp_path_factory):
    """Keep the user's real store, config and checkpoints untouched by the tests."""
    home = tmp_path_factory.mktemp("superatom-home")
    keys = ("SUPERATOM_DB", "SUPERATOM_CONFIG", "SUPERATOM_CHECKPOINT_DIR")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ["SUPERATOM_DB"] = str(home / "db")
    os.environ["SUPERATOM_CONFIG"] = str(home / "config.yaml")
    os.environ["SUPERATOM_CHECKPOINT_DIR"] = str(home / "checkpoints")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def pytest_collection_modifyitems(config, items):
    from superatom.engine import gpu_available

    if gpu_available():
        return
    skip = pytest.mark.skip(reason="no CUDA GPU with gpu4pyscf on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


from tests.hpc_fixtures import jfr_project, slurm_cluster  # noqa: E402, F401
