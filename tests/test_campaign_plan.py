"""Campaign planning: one resolution per system that interactions and chains keep."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from superatom import engine
from superatom.campaign.flow import build_campaign_flow
from superatom.campaign.plan import plan_campaign
from superatom.campaign.runner import run_flow
from superatom.campaign.spec import load_campaign
from superatom.db import open_store
from superatom.errors import InputError
from superatom.workflows.frontier import FrontierOrbitalMaker
from superatom.workflows.xtb import XtbFrontierMaker

DATA = Path(__file__).parent / "data"

OWN_SETTINGS = """
name: own
preset: fast
settings: {device: cpu}
systems:
  - {name: water-dimer, file: water_dimer.xyz, prerelax: true, settings: {xc: PBE}}
  - {name: h2-1, file: h2_1.xyz, n_units: 1, settings: {xc: PBE}}
  - {name: h2-2, file: h2_2.xyz, n_units: 2, settings: {xc: PBE}}
interactions:
  - {name: water-dimer, system: water-dimer}
chains:
  - {name: h2-chain, members: [h2-1, h2-2]}
"""


def h2_chain(n: int) -> str:
    lines = [f"H 0 0 {1.8 * k:.3f}\nH 0 0 {1.8 * k + 0.74:.3f}" for k in range(n)]
    return f"{2 * n}\ncharge=0 multiplicity=1\n" + "\n".join(lines) + "\n"


@pytest.fixture
def own_dir(tmp_path):
    shutil.copy(DATA / "water_dimer.xyz", tmp_path / "water_dimer.xyz")
    for n in (1, 2):
        (tmp_path / f"h2_{n}.xyz").write_text(h2_chain(n))
    (tmp_path / "own.yaml").write_text(OWN_SETTINGS)
    return tmp_path


def _frontier_jobs(flow):
    return {job.name: job for job, _ in flow.iterflow()
            if isinstance(getattr(job, "maker", None), FrontierOrbitalMaker)}


def test_interaction_and_chain_systems_keep_their_settings_and_prerelax(own_dir):
    flow, rows = build_campaign_flow(load_campaign(own_dir / "own.yaml"))
    jobs = _frontier_jobs(flow)
    # the interaction's monomers and assembly: the dimer's own functional, not the campaign's
    for name in ("frontier W1", "frontier W2", "frontier assembly"):
        assert jobs[name].maker.settings.xc == "PBE", name
    # ... and its prerelax: a GFN2-xTB relaxation the units are cut from
    names = [job.name for job, _ in flow.iterflow()]
    assert "relax assembly" in names and "cut fragments" in names
    relax = next(job for job, _ in flow.iterflow() if job.name == "relax assembly")
    assert isinstance(relax.maker, XtbFrontierMaker) and relax.maker.relax
    # the chain fits the members' own results (own settings), it does not recompute them
    fit = next(job for job, _ in flow.iterflow() if job.name == "chain scaling fit")
    member_uuids = {ref.uuid for ref in fit.function_args[0]}
    assert member_uuids == {jobs["dft h2-1"].uuid, jobs["dft h2-2"].uuid}
    assert {jobs[n].maker.settings.xc for n in ("dft h2-1", "dft h2-2")} == {"PBE"}
    interaction_row = next(r for r in rows if r["kind"] == "interaction")
    assert interaction_row["prerelax"] is True and interaction_row["method"] == "PBE/def2-svp"


def test_prerelaxed_interaction_runs_on_the_relaxed_geometry(own_dir):
    store = open_store(own_dir / "db")
    flow, _ = build_campaign_flow(load_campaign(own_dir / "own.yaml"))
    summary = run_flow(flow, store)
    assert summary.ok, summary.failed
    store.connect()
    out = {(doc["doc_type"], doc["name"]): doc for doc in (d["output"] for d in store.query(
        {"output.campaign": "own"}, properties=["output"]))}
    relaxed = out["xtb_frontier", "water-dimer (relax)"]
    assembly = out["frontier_orbitals", "water-dimer"]
    assert relaxed["relaxed"] and relaxed["relax_info"]["steps"] >= 1
    # the DFT assembly is the relaxed geometry, computed with its own settings
    assert assembly["molecule"]["sites"][0]["xyz"] == relaxed["molecule"]["sites"][0]["xyz"]
    assert assembly["settings"]["xc"] == "PBE" and assembly["method"].startswith("RKS-PBE/")
    inter = next(d["output"] for d in store.query({"output.doc_type": "interaction"},
                                                  properties=["output"]))
    assert inter["settings"]["xc"] == "PBE"
    chain = next(d["output"] for d in store.query({"output.doc_type": "chain_scaling"},
                                                  properties=["output"]))
    assert chain["settings"]["xc"] == "PBE" and chain["fit"]["gap_infinite_ev"] > 0


def test_planning_counts_aos_once_per_system_and_runs_nothing(own_dir, monkeypatch):
    calls = []
    layout = engine.ao_layout
    monkeypatch.setattr(engine, "ao_layout", lambda mol, s: calls.append(len(mol)) or
                        layout(mol, s))
    monkeypatch.setattr("superatom.workflows.xtb.xtb_frontier",
                        lambda *a, **k: pytest.fail("planning must not run xTB"))
    plan = plan_campaign(load_campaign(own_dir / "own.yaml"))
    build_campaign_flow(plan)
    assert sorted(calls) == [2, 4, 6]  # h2-1, h2-2, the water dimer: once each
    dimer = plan.systems["water-dimer"]
    assert (dimer.role, dimer.tier, dimer.prerelax, dimer.nao) == ("assembly", "dft", True, 48)
    assert dimer.resources.device == "cpu" and dimer.settings.max_memory_mb >= 3200
    # every DFT job has its planned resources for the queue
    assert len(plan.job_resources) == 5  # W1, W2, assembly, h2-1, h2-2


def test_chain_members_must_share_tier_and_settings(own_dir):
    text = OWN_SETTINGS.replace("n_units: 2, settings: {xc: PBE}", "n_units: 2")
    (own_dir / "mixed.yaml").write_text(text)
    with pytest.raises(InputError, match="mixes tiers or settings"):
        plan_campaign(load_campaign(own_dir / "mixed.yaml"))


def test_queue_resources_come_from_the_plan(tmp_path):
    from superatom.hpc.campaign import queue_resources

    (tmp_path / "sized.yaml").write_text(
        "name: sized\npreset: screening\n"
        "systems:\n"
        "  - {name: La dimer, build: {kind: dimer, ln: La}, tier: dft}\n"
        "  - {name: W6O19, standard: W6O19, tier: xtb}\n"
    )
    plan = plan_campaign(load_campaign(tmp_path / "sized.yaml"))
    flow, _ = build_campaign_flow(plan)
    slurm, pbs = queue_resources(plan, "slurm"), queue_resources(plan, "pbs")
    by_name = {job.name: job for job, _ in flow.iterflow()}
    big = slurm(by_name["dft La dimer"])
    # 2,064 AOs: a GPU job with the memory and wall time the plan sized for it
    assert plan.systems["La dimer"].nao == 2064
    assert big["gres"] == "gpu:1" and big["cpus_per_task"] == 8
    assert big["mem"] == f"{int(plan.systems['La dimer'].resources.memory_gb * 1024)}M"
    assert ":ngpus=1" in pbs(by_name["dft La dimer"])["select"]
    assert slurm(by_name["xtb W6O19"]) is None  # light jobs keep the worker's defaults


def test_dry_run_of_a_prescreened_campaign_runs_nothing(own_dir):
    import json

    from typer.testing import CliRunner

    from superatom.cli.main import app

    shutil.copy(DATA / "water.xyz", own_dir / "water.xyz")
    (own_dir / "screen.yaml").write_text(
        "name: screen\npreset: fast\nsettings: {device: cpu}\nprescreen: {gap_max_ev: 14.0}\n"
        "systems:\n  - {name: water, file: water.xyz}\n")
    db = own_dir / "db"
    result = CliRunner().invoke(app, ["screen", str(own_dir / "screen.yaml"), "--db", str(db),
                                      "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout[result.stdout.index("{"):])["plan"]
    assert [(r["name"], r["tier"], r["jobs"]) for r in plan] == [("water", "dft", 1)]
    store = open_store(db)
    store.connect()
    assert store.count() == 0  # not even the xTB pre-screen ran


def _maps_onto(xyz, species, first, second, op) -> bool:
    """True if ``op`` carries the atoms ``first`` onto the atoms ``second`` (same elements)."""
    import numpy as np

    dist = np.linalg.norm((xyz[first] @ op.T)[:, None] - xyz[second][None], axis=-1)
    same = species[first][:, None] == species[second][None]
    return bool(np.all(np.where(same, dist, np.inf).min(axis=1) < 1e-3))


def test_quickstart_interaction_joins_two_symmetry_equivalent_units():
    """The quickstart's interaction shows a clean splitting: its two fragments are mapped onto
    each other by a point operation of the assembly (inversion or a C2 through the centre)."""
    import numpy as np

    plan = plan_campaign(load_campaign(Path(__file__).parents[1] / "examples/quickstart.yaml"))
    assert plan.interactions
    ops = [-np.eye(3)] + [np.diag(d) for d in ([-1, -1, 1], [-1, 1, -1], [1, -1, -1])]
    for inter in plan.interactions:
        mol = plan.systems[inter.system].molecule
        assert plan.systems[inter.system].tier == "dft"
        labels = np.array(mol.site_properties["fragment"])
        names = list(dict.fromkeys(labels))
        assert len(names) == 2, inter.name
        xyz = mol.cart_coords - mol.cart_coords.mean(axis=0)
        species = np.array([s.specie.symbol for s in mol])
        first, second = labels == names[0], labels == names[1]
        assert any(_maps_onto(xyz, species, first, second, op) for op in ops), inter.name
