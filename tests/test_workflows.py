"""Interaction/chain flows, campaigns end to end, reuse, resume, queries, reports."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from jobflow import run_locally
from pymatgen.core import Molecule
from typer.testing import CliRunner

from superatom import engine
from superatom.calc_settings import load_preset
from superatom.campaign.flow import build_campaign_flow, run_prescreen
from superatom.campaign.plan import plan_campaign
from superatom.campaign.resources import plan_resources
from superatom.campaign.runner import run_flow
from superatom.campaign.spec import load_campaign
from superatom.cli.main import app
from superatom.db import load_result, open_store, query_results, results_frame
from superatom.errors import InputError
from superatom.schemas.hashing import input_hash
from superatom.workflows.fragments import split_fragments
from superatom.workflows.frontier import FrontierOrbitalMaker, restart_checkpoints
from superatom.workflows.interaction import InteractionFlowMaker

DATA = Path(__file__).parent / "data"
FAST = {"device": "cpu"}

CAMPAIGN = """
name: tiny
preset: fast
settings: {device: cpu}
systems:
  - {name: water, file: water.xyz, system_class: molecule}
  - {name: water-dimer, file: water_dimer.xyz, system_class: dimer}
  - {name: h2-1, file: h2_1.xyz, n_units: 1, system_class: h-chain}
  - {name: h2-2, file: h2_2.xyz, n_units: 2, system_class: h-chain}
  - {name: h2-3, file: h2_3.xyz, n_units: 3, system_class: h-chain}
  - {name: lindqvist-W, standard: W6O19, system_class: pom-monomer}
interactions:
  - {name: water-dimer, system: water-dimer}
chains:
  - {name: h2-chain, members: [h2-1, h2-2, h2-3], system_class: h-chain}
"""


def h2_chain(n: int) -> str:
    lines = [f"H 0 0 {1.8 * k:.3f}\nH 0 0 {1.8 * k + 0.74:.3f}" for k in range(n)]
    return f"{2 * n}\ncharge=0 multiplicity=1\n" + "\n".join(lines) + "\n"


@pytest.fixture
def campaign_dir(tmp_path):
    for name in ("water.xyz", "water_dimer.xyz"):
        shutil.copy(DATA / name, tmp_path / name)
    for n in (1, 2, 3):
        (tmp_path / f"h2_{n}.xyz").write_text(h2_chain(n))
    (tmp_path / "campaign.yaml").write_text(CAMPAIGN)
    return tmp_path


def test_superposition_guess_saves_cycles_and_gives_same_state(tmp_path):
    store = open_store(tmp_path / "db")
    dimer = load_campaign_dimer()
    settings = load_preset("fast", **FAST)
    flow = InteractionFlowMaker(frontier_maker=FrontierOrbitalMaker(settings=settings)).make(dimer)
    run_locally(flow, store=store, log=False, ensure_success=True)
    plain = FrontierOrbitalMaker(settings=settings, reuse=False).make(dimer)
    run_locally(plain, store=store, log=False, ensure_success=True)
    guessed = load_result(flow.jobs[2].uuid, store=store)
    default = load_result(plain.uuid, store=store)
    assert guessed.scf_guess == "superposition" and default.scf_guess == "minao"
    assert guessed.scf_cycles <= default.scf_cycles
    assert guessed.e_tot_ha == pytest.approx(default.e_tot_ha, abs=1e-7)
    interaction = store.query_one({"uuid": flow.jobs[3].uuid})["output"]
    summary = interaction["analysis"]["summary"][0]
    # provenance: which inputs, settings and code the analysis came from
    assert interaction["input_hashes"][-1] == guessed.input_hash
    assert interaction["settings"] == guessed.settings
    assert interaction["versions"]["superatom"] and interaction["analysis_s"] > 0
    # the dimer HOMO lies above the monomer HOMOs (H-bond donor/acceptor shift), gap narrows
    assert interaction["homo_assembly_ev"] > max(interaction["homo_monomers_ev"])
    assert summary["gap_change_ev"] < 0
    assert summary["homo_shift_ev"] == pytest.approx(
        interaction["homo_assembly_ev"] - max(interaction["homo_monomers_ev"]), abs=1e-9)


def load_campaign_dimer() -> Molecule:
    from superatom.structures.io import read_molecule

    return read_molecule(DATA / "water_dimer.xyz")


def test_fragments_cut_with_charges_and_errors():
    dimer = load_campaign_dimer()
    pieces = split_fragments(dimer)
    assert [str(p.composition.reduced_formula) for p in pieces.values()] == ["H2O", "H2O"]
    ion_pair = Molecule(["Na", "Cl"], [[0, 0, 0], [0, 0, 2.4]],
                        site_properties={"fragment": ["Na", "Cl"]})
    with pytest.raises(InputError, match="fragment_charges"):
        split_fragments(ion_pair)
    cut = split_fragments(ion_pair, charges={"Na": 1, "Cl": -1})
    assert cut["Na"].charge == 1 and cut["Cl"].charge == -1
    with pytest.raises(InputError, match="no 'fragment' site labels"):
        split_fragments(Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]]))


def test_campaign_end_to_end_reuse_and_report(campaign_dir):
    db = str(campaign_dir / "db")
    runner = CliRunner()
    first = runner.invoke(app, ["screen", str(campaign_dir / "campaign.yaml"), "--db", db,
                                "--out", str(campaign_dir / "report"), "--json"])
    assert first.exit_code == 0, first.output
    result = json.loads(first.stdout)
    assert result["failed"] == []
    # 5 systems (the dimer inside its interaction) + 2 monomers, assembly, interaction
    # analysis and energy decomposition + the chain fit, which fits the h2-n systems' own
    # results
    assert (result["completed"], result["reused"]) == (11, 0)
    tiers = {row["name"]: row["tier"] for row in result["plan"]}
    assert tiers["water"] == "dft" and tiers["lindqvist-W"] == "xtb"  # 458 AOs > CPU limit

    report = campaign_dir / "report"
    summary = (report / "summary.md").read_text()
    assert "| water |" in summary and "GFN2-xTB" in summary and "h2-chain" in summary
    rows = (report / "summary.csv").read_text().splitlines()
    assert rows[0].startswith("name,system_class,role")
    assert (report / "correlation_water-dimer.png").stat().st_size > 10_000
    assert (report / "chain_h2-chain.png").stat().st_size > 10_000
    assert "Energy decomposition" in summary  # the interaction's EDA step, with its figure
    assert (report / "eda_water-dimer.png").stat().st_size > 10_000
    assert "positive (unbound) HOMO" not in summary  # all neutral or solvated here
    chains = (report / "chains.csv").read_text()
    assert "gap_infinite_ev" in chains

    # the gap narrows along the H2 chain, as the chain fit says
    store = open_store(db)
    series = sorted(query_results(store, campaign="tiny", system_class="h-chain"),
                    key=lambda r: (r["n_units"], r["name"]))
    gaps = [r["gap_ev"] for r in series if r["name"].startswith("h2-") and "n=" not in r["name"]]
    assert gaps == sorted(gaps, reverse=True) and len(gaps) == 3

    # a second run reuses every calculation and takes seconds
    start = time.perf_counter()
    second = runner.invoke(app, ["screen", str(campaign_dir / "campaign.yaml"), "--db", db,
                                 "--out", str(report), "--json"])
    elapsed = time.perf_counter() - start
    again = json.loads(second.stdout)
    frontier_jobs = sum(row["jobs"] for row in result["plan"]) - 2  # minus the 2 analyses
    assert again["reused"] == frontier_jobs and again["failed"] == []
    assert elapsed < 30

    # the report can be rebuilt from the store alone
    (report / "summary.md").unlink()
    rebuilt = runner.invoke(app, ["report", "tiny", "--db", db, "--out", str(report)])
    assert rebuilt.exit_code == 0 and (report / "summary.md").read_text() == summary


def test_interrupted_campaign_resumes_without_recomputing(campaign_dir):
    store = open_store(campaign_dir / "db")
    campaign = load_campaign(campaign_dir / "campaign.yaml")
    flow, _ = build_campaign_flow(campaign)
    done: list[str] = []

    def interrupt_after_three(name: str, status: str) -> None:
        done.append(name)
        if len(done) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_flow(flow, store, on_job_done=interrupt_after_three)
    assert len(query_results(store, campaign="tiny")) == 3  # finished work is kept

    flow, _ = build_campaign_flow(campaign)
    summary = run_flow(flow, store)
    # the 3 jobs finished before the interrupt are reused, nothing is computed twice
    assert summary.ok and summary.reused == 3
    assert summary.completed == len(list(flow.iterflow())) - 3


def test_query_filters_and_dataframe(campaign_dir):
    store = open_store(campaign_dir / "db")
    flow, _ = build_campaign_flow(load_campaign(campaign_dir / "campaign.yaml"))
    assert run_flow(flow, store).ok
    everything = query_results(store, campaign="tiny")
    assert query_results(store, campaign="other") == []
    assert {r["name"] for r in query_results(store, formula="H2O")} >= {"water"}
    w_rows = query_results(store, elements=["W"])
    assert [r["name"] for r in w_rows] == ["lindqvist-W"]
    assert all(r["method"] == "GFN2-xTB (gbsa water)" for r in w_rows)  # POM anion: solvated
    assert all(r["gap_ev"] >= 10 for r in query_results(store, gap_min=10))
    assert len(query_results(store, gap_max=5)) == 1  # only the Lindqvist at xTB
    assert {r["n_units"] for r in query_results(store, n_units=2)} == {2}
    assert len(query_results(store, functional="PBE0")) == len(everything) - 1
    assert len(query_results(store, basis="def2-SVP")) == len(everything) - 1
    assert len(query_results(store, preset="fast")) == len(everything) - 1
    assert query_results(store, preset="production") == []
    assert query_results(store, since="2999-01-01") == []
    frame = results_frame(store, campaign="tiny")
    assert len(frame) == len(everything) and "gap_ev" in frame.columns
    cli = CliRunner().invoke(app, ["query", "--db", str(campaign_dir / "db"), "--element", "W",
                                   "--json"])
    assert [r["name"] for r in json.loads(cli.stdout)] == ["lindqvist-W"]


@pytest.mark.parametrize(("text", "message"), [
    ("name: x\nsystems: [{name: a, file: a.xyz, colour: red}]", "unknown key 'colour'"),
    ("name: x\nsystems: [{name: a}]", "exactly one of"),
    ("name: x\ninteractions: [{name: i, system: nope}]", "unknown system 'nope'"),
    ("name: x\nsystems: [{name: a, file: a.xyz\n", "not valid YAML"),
    ("name: x\nsettings: {xc: PBE, grid: 3}", "unknown setting 'grid'"),
])
def test_campaign_file_errors_are_one_line(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        load_campaign(path)
    assert "\n" not in str(info.value)
    result = CliRunner().invoke(app, ["screen", str(path), "--db", str(tmp_path / "db")])
    assert result.exit_code == 1 and result.stderr.startswith("error: ")


def test_checkpoint_restart_after_a_killed_scf(tmp_path):
    from superatom.errors import SCFNotConvergedError
    from superatom.structures.io import read_molecule

    dimer = read_molecule(DATA / "water_dimer.xyz")
    chk = str(tmp_path / "scf.chk")
    stopped = load_preset("fast", device="cpu", max_cycle=5, conv_tol=1e-10,
                          fallback_ladder=False)
    with pytest.raises(SCFNotConvergedError):
        engine.run_scf(dimer, stopped, chkfile=chk)  # as if killed at the wall time
    settings = load_preset("fast", device="cpu", conv_tol=1e-10)
    restarted = engine.run_scf(dimer, settings, chkfile=chk)
    scratch = engine.run_scf(dimer, settings)
    assert restarted.extra["guess"] == "checkpoint"
    assert restarted.cycles < scratch.cycles
    assert restarted.e_tot == pytest.approx(scratch.e_tot, abs=1e-8)
    # the Maker keeps its checkpoint by input hash and removes it after success
    store = open_store(tmp_path / "db")
    job = FrontierOrbitalMaker(settings=load_preset("fast", **FAST)).make(dimer)
    run_locally(job, store=store, log=False, ensure_success=True)
    digest = input_hash(dimer, load_preset("fast", **FAST))
    assert not restart_checkpoints(digest)


def test_resources_follow_system_size():
    small = plan_resources(nao=120, n_atoms=10)
    keggin = plan_resources(nao=962, n_atoms=53)
    ti10cu2 = plan_resources(nao=4200, n_atoms=228)
    assert (small.device, small.gpus) == ("cpu", 0)
    assert (keggin.device, keggin.gpus) == ("gpu", 1)
    assert keggin.df_tensor_gb == pytest.approx(22, rel=0.1)  # measured dense DF size
    assert keggin.density_fit and not ti10cu2.density_fit  # 450 GB would not fit
    assert small.walltime_min <= keggin.walltime_min < ti10cu2.walltime_min


def test_two_level_prescreen_runs_dft_only_on_what_passes(campaign_dir):
    (campaign_dir / "screen.yaml").write_text(
        "name: screen\npreset: fast\nsettings: {device: cpu}\n"
        "prescreen: {gap_max_ev: 14.0}\n"
        "systems:\n"
        "  - {name: water, file: water.xyz}\n"
        "  - {name: water-dimer, file: water_dimer.xyz}\n"
    )
    store = open_store(campaign_dir / "db")
    campaign = load_campaign(campaign_dir / "screen.yaml")
    with pytest.raises(InputError, match="pre-screen first"):
        build_campaign_flow(campaign)  # building a flow runs nothing
    resolved = plan_campaign(campaign)
    run_prescreen(resolved, store)  # the explicit phase
    flow, plan = build_campaign_flow(resolved)
    rows = {row["name"]: row for row in plan}
    # GFN2-xTB gaps: water 14.6 eV (out), water dimer 13.0 eV (in)
    assert rows["water"]["tier"] == "xtb (screened out)" and rows["water"]["jobs"] == 0
    assert rows["water"]["xtb_gap_ev"] == pytest.approx(14.63, abs=0.05)
    assert rows["water-dimer"]["tier"] == "dft" and rows["water-dimer"]["jobs"] == 1
    assert run_flow(flow, store).completed == 1
    methods = {(r["name"], r["method"]) for r in query_results(store, campaign="screen")}
    assert ("water (xTB pre-screen)", "GFN2-xTB (gas phase)") in methods
    assert ("water-dimer", "RKS-PBE0/def2-svp DF") in methods
    assert not any(name == "water" for name, _ in methods)


@pytest.mark.parametrize(("kind", "options", "expected"), [
    ("dimer", {"ln": "La"}, {"PW11La#0": (-4, 1), "PW11La#1": (-4, 1)}),
    ("dimer", {"type": "ca"}, {"PW12#0": (-3, 1), "PW12#1": (-3, 1), "Ca#0": (2, 1)}),
    ("dimer", {"type": "sandwich", "ln": "La"}, {"PW11#0": (-7, 1), "PW11#1": (-7, 1),
                                                  "La#0": (3, 1)}),
    ("clusterphene", {"ln": "Gd", "n": 2}, {"PW11Gd#0": (-4, 8), "PW11Gd#1": (-4, 8)}),
])
def test_builder_assemblies_split_into_formal_units(kind, options, expected):
    from superatom.structures.registry import build_structure

    assembly = build_structure(kind, **options)
    pieces = split_fragments(assembly)
    assert {k: (int(v.charge), v.spin_multiplicity) for k, v in pieces.items()} == expected
    # charge is conserved and every atom lands in exactly one unit
    assert sum(v.charge for v in pieces.values()) == assembly.charge
    assert sum(len(v) for v in pieces.values()) == len(assembly)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["quickstart", "mission"])
def test_shipped_campaigns_plan(name):
    examples = Path(__file__).parent.parent / "examples"
    campaign = load_campaign(examples / f"{name}.yaml")
    if name == "quickstart":  # planned as 'superatom screen' does on a laptop without a GPU
        campaign = campaign.model_copy(update={"worker_gpu": False})
    flow, plan = build_campaign_flow(campaign)
    kinds = {row["kind"] for row in plan}
    assert kinds == {"system", "interaction", "chain"}
    assert len(list(flow.iterflow())) == sum(row["jobs"] for row in plan)
    if name == "mission":  # every class at the DFT tier, structures relaxed with xTB first
        assert {row["tier"] for row in plan} == {"dft"}
        assert any(row["prerelax"] for row in plan)
    else:  # the laptop tour: DFT on the small clusters, xTB on the POMs
        tiers = {row["name"]: row["tier"] for row in plan}
        assert tiers["MoO4"] == "dft" and tiers["PW12O40"] == "xtb"


def test_campaign_jobs_sized_from_the_system(tmp_path):
    shutil.copy(DATA / "water.xyz", tmp_path / "water.xyz")
    (tmp_path / "sized.yaml").write_text(
        "name: sized\npreset: screening\nmemory_cap_gb: 16\n"
        "systems:\n"
        "  - {name: water, file: water.xyz}\n"
        "  - {name: La dimer, build: {kind: dimer, ln: La}, tier: dft}\n"
        "  - {name: W6O19, standard: W6O19, tier: dft, settings: {density_fit: true}}\n"
    )
    flow, _ = build_campaign_flow(load_campaign(tmp_path / "sized.yaml"))
    settings = {job.maker.metadata["name"]: job.maker.settings for job in flow.jobs}
    # a small molecule keeps density fitting and a modest memory budget
    assert settings["water"].density_fit is True
    assert settings["water"].max_memory_mb == 3200
    # 2,064 AOs: a dense DF tensor of ~220 GB, so direct SCF; memory within the 16 GB cap
    assert settings["La dimer"].density_fit is False
    assert settings["La dimer"].max_memory_mb <= 16 * 1000
    # an explicit setting always wins over the size-based choice
    assert settings["W6O19"].density_fit is True


def test_failed_scf_skips_only_its_dependants(campaign_dir):
    (campaign_dir / "fails.yaml").write_text(
        "name: fails\npreset: fast\n"
        "settings: {device: cpu, max_cycle: 2, conv_tol: 1.0e-12, fallback_ladder: false}\n"
        "systems:\n"
        "  - {name: water, file: water.xyz, settings: {max_cycle: 60, fallback_ladder: true}}\n"
        "  - {name: water-dimer, file: water_dimer.xyz}\n"
        "interactions:\n"
        "  - {name: water-dimer, system: water-dimer}\n"
    )
    store = open_store(campaign_dir / "db")
    flow, _ = build_campaign_flow(load_campaign(campaign_dir / "fails.yaml"))
    summary = run_flow(flow, store)
    assert summary.completed == 1  # the water molecule with its own settings
    assert {name for name, _ in summary.failed} == {"frontier W1", "frontier W2"}
    assert all("SCFNotConvergedError" in reason for _, reason in summary.failed)
    assert set(summary.skipped) == {"frontier assembly", "interaction analysis",
                                   "energy decomposition"}
    # nothing unconverged was stored
    assert [r["name"] for r in query_results(store, campaign="fails")] == ["water"]
