"""Campaign planning never probes the planning machine's device for ``device: auto`` jobs.

A GPU campaign submitted from a CPU login node must plan the same jobs as from a GPU node:
the job decides its device on the worker. Checked with ``gpu_available`` monkeypatched both
ways; no SCF runs here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from superatom import engine
from superatom.campaign.flow import build_campaign_flow
from superatom.campaign.resources import plan_resources
from superatom.campaign.spec import Campaign, SystemSpec
from superatom.engine import device as device_module

WATER = str(Path(__file__).parent / "data" / "water.xyz")


def _campaign(device: str = "auto", **extra) -> Campaign:
    """Water (24 AOs) above a CPU DFT limit of 20 AOs, below the GPU limit."""
    return Campaign(name="plan", preset="fast", settings={"device": device},
                    dft_max_nao_cpu=20, dft_max_nao_gpu=6000,
                    systems=[SystemSpec(name="water", file=WATER)], **extra)


def _no_probe(monkeypatch, has_gpu: bool):
    def refuse(requested):
        raise AssertionError("planning resolved the device on the planning machine")

    for module in (engine, device_module):
        monkeypatch.setattr(module, "gpu_available", lambda: has_gpu)
        monkeypatch.setattr(module, "resolve_device", refuse)


@pytest.mark.parametrize("login_node_has_gpu", [False, True])
def test_auto_jobs_are_planned_the_same_on_any_login_node(monkeypatch, login_node_has_gpu):
    _no_probe(monkeypatch, login_node_has_gpu)
    flow, plan = build_campaign_flow(_campaign())
    assert [row["tier"] for row in plan] == ["dft"]
    (job,) = flow.jobs
    assert job.maker.settings.device == "auto"  # decided inside the job, on the worker


def test_known_worker_device_sets_the_limit(monkeypatch):
    _no_probe(monkeypatch, False)
    _, on_cpu = build_campaign_flow(_campaign(worker_gpu=False))
    _, on_gpu = build_campaign_flow(_campaign(worker_gpu=True))
    assert on_cpu[0]["tier"] == "xtb" and on_gpu[0]["tier"] == "dft"
    forced = _campaign("cpu", worker_gpu=True)  # an explicit device wins over the worker
    assert build_campaign_flow(forced)[1][0]["tier"] == "xtb"


def test_resources_follow_the_job_device_and_the_card():
    assert plan_resources(nao=4000, n_atoms=200, device="cpu").gpus == 0
    assert plan_resources(nao=4000, n_atoms=200, device="auto", gpu_memory_gb=80).gpus == 1
    assert plan_resources(nao=100, n_atoms=5, device="gpu", gpu_memory_gb=80).gpus == 1
    assert plan_resources(nao=100, n_atoms=5, device="auto").gpus == 0
    # Keggin def2-SVP: 22 GB dense, 11 GB screened; fits a 16 GB card, not an 8 GB one
    assert plan_resources(nao=962, n_atoms=53, device="gpu", gpu_memory_gb=16).density_fit
    assert not plan_resources(nao=962, n_atoms=53, device="gpu", gpu_memory_gb=8).density_fit


def test_card_memory_read_from_the_card_when_there_is_one(monkeypatch):
    from superatom.campaign import resources

    monkeypatch.setattr(engine, "gpu_available", lambda: True)
    monkeypatch.setattr(engine, "gpu_memory_bytes", lambda: 12e9)
    assert resources.card_memory_gb() == 12.0
    assert not plan_resources(nao=962, n_atoms=53, device="gpu").density_fit
    monkeypatch.setattr(engine, "gpu_available", lambda: False)
    assert resources.card_memory_gb() == resources.NOMINAL_GPU_MEMORY_GB
