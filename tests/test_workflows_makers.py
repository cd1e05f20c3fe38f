"""Makers: settings as one value, one Mole per job, the TDA job and its stored document."""

from __future__ import annotations

import pytest
from jobflow import Job, run_locally

from superatom import engine
from superatom.calc_settings import CalcSettings, load_preset
from superatom.db import open_store
from superatom.schemas.tda import TdaDoc
from superatom.workflows.frontier import FrontierOrbitalMaker, compute_frontier
from superatom.workflows.interaction import InteractionFlowMaker
from superatom.workflows.tda import TdaMaker
from tests.molecules import water

FAST = load_preset("fast", device="cpu")


def test_settings_travel_as_one_value():
    maker = FrontierOrbitalMaker(settings=FAST)
    assert maker.settings is FAST  # nothing re-resolved
    # the convenience (preset + overrides) is merged once, at construction
    convenient = FrontierOrbitalMaker(preset="fast", settings_overrides={"device": "cpu"})
    assert convenient.settings == FAST and convenient.settings_overrides == {}
    # a job serialised for a queue and read back carries the same settings value
    job = maker.make(water())
    back = Job.from_dict(job.as_dict())
    assert isinstance(back.maker.settings, CalcSettings) and back.maker.settings == FAST
    # the flow Makers hand their per-structure Maker's settings to every job
    dimer = water()
    dimer.add_site_property("fragment", ["A", "A", "A"])
    flow = InteractionFlowMaker(frontier_maker=FrontierOrbitalMaker(settings=FAST)).make(dimer)
    assert all(j.maker.settings == FAST for j in flow.jobs if hasattr(j.maker, "settings"))
    with pytest.raises(Exception, match="unknown setting"):
        FrontierOrbitalMaker(settings=FAST, settings_overrides={"colour": "red"})


def test_one_mole_per_job_with_a_superposition_guess(tmp_path, monkeypatch):
    from superatom.structures.io import read_molecule
    from superatom.workflows.fragments import split_fragments

    dimer = read_molecule(__import__("pathlib").Path(__file__).parent / "data" /
                          "water_dimer.xyz")
    monomers = [compute_frontier(m, FAST) for m in split_fragments(dimer).values()]
    built = []
    original = engine.mole.build_mole

    def counting(molecule, settings, verbose=0):
        built.append(len(molecule))
        return original(molecule, settings, verbose)

    for module in (engine, engine.mole, engine.scf):
        monkeypatch.setattr(module, "build_mole", counting)
    job = FrontierOrbitalMaker(settings=FAST, reuse=False, checkpoint=False).make(
        dimer, guess_from=monomers)
    run_locally(job, store=open_store(tmp_path / "db"), log=False, ensure_success=True)
    assert built == [6]  # the assembly's Mole, built once for AO layout, guess and SCF


def test_tda_job_uses_the_ladder_is_stored_and_reused(tmp_path):
    store = open_store(tmp_path / "db")
    # 5 DIIS cycles are not enough for water: the ladder's level-shift rung converges it
    settings = load_preset("fast", device="cpu", max_cycle=5)
    job = TdaMaker(settings=settings, nstates=2, metadata={"name": "water"}).make(water())
    run_locally(job, store=store, log=False, ensure_success=True)
    store.connect()
    doc = TdaDoc.model_validate(store.query_one({"uuid": job.uuid})["output"])
    assert [a["solver"] for a in doc.scf_attempts][:2] == ["diis", "level_shift+damping"]
    assert doc.scf_attempts[-1]["converged"] and doc.converged and len(doc.excitations) == 2
    # same excitations as a TDA on a ground state that DIIS converges on its own
    loose = TdaMaker(settings=FAST, nstates=2, reuse=False).make(water())
    run_locally(loose, store=store, log=False, ensure_success=True)
    ref = TdaDoc.model_validate(store.query_one({"uuid": loose.uuid})["output"])
    assert [a["solver"] for a in ref.scf_attempts] == ["diis"]
    assert doc.excitations[0].energy_ev == pytest.approx(ref.excitations[0].energy_ev, abs=1e-3)
    again = TdaMaker(settings=settings, nstates=2).make(water())
    run_locally(again, store=store, log=False, ensure_success=True)
    reused = store.query_one({"uuid": again.uuid})["output"]
    assert reused["reused_from"] == job.uuid
