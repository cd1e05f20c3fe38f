"""The GFN2-xTB tier: GBSA(water) on polyoxometalate anions gives bound HOMOs and the known
orderings on the five standard POMs built by the builders; substituted and Ln/Ca-linked units
are refused (straight to DFT, never pre-screened on xTB levels)."""

from __future__ import annotations

import numpy as np
import pytest
from jobflow import run_locally
from pymatgen.core import Molecule

from superatom.campaign.flow import run_prescreen
from superatom.campaign.plan import plan_campaign
from superatom.campaign.spec import Campaign, SystemSpec
from superatom.db import open_store
from superatom.engine.xtb import xtb_frontier
from superatom.engine.xtb_scope import default_solvation, parse_solvation, xtb_applicable
from superatom.errors import InputError
from superatom.schemas.hashing import xtb_input_hash
from superatom.structures.io import write_xyz
from superatom.structures.registry import build_structure
from superatom.structures.standard import standard_builders
from superatom.workflows.xtb import XtbFrontierMaker

STANDARD = standard_builders()  # the five standard POMs, built by the builders
MOLYBDATE = Molecule(["Mo", "O", "O", "O", "O"],
                     [[0, 0, 0], [1.03, 1.03, 1.03], [-1.03, -1.03, 1.03],
                      [-1.03, 1.03, -1.03], [1.03, -1.03, -1.03]], charge=-2)


@pytest.fixture(scope="module")
def solvated():
    return {name: xtb_frontier(build_structure(kind, **opts))
            for name, (kind, opts) in STANDARD.items()}


def test_gbsa_binds_and_orders_the_standard_poms(solvated):
    assert {r["solvation"] for r in solvated.values()} == {"gbsa:water"}
    assert all(r["homo_ev"] < 0 and r["lumo_ev"] < 0 for r in solvated.values())
    assert solvated["W6O19"]["gap_ev"] > solvated["Mo6O19"]["gap_ev"]
    # first reduction potentials PMo12 > PW12 > SiW12: LUMO PMo12 lowest, SiW12 highest
    lumo = {name: solvated[name]["lumo_ev"] for name in ("PMo12O40", "PW12O40", "SiW12O40")}
    assert lumo["PMo12O40"] < lumo["PW12O40"] < lumo["SiW12O40"]
    # values measured with tblite 0.8 on the builder geometries
    assert solvated["W6O19"]["gap_ev"] == pytest.approx(3.67, abs=0.05)
    assert solvated["Mo6O19"]["gap_ev"] == pytest.approx(3.28, abs=0.05)


def test_gas_phase_is_what_the_default_solvent_fixes():
    """In gas phase [SiW12O40]4- has an unbound LUMO; GBSA lowers the energy by a plausible
    solvation energy (tenths of a Hartree for a 4- anion, not Hartrees as ALPB gave)."""
    silicotungstate = build_structure("keggin", heteroatom="Si")
    gas = xtb_frontier(silicotungstate, solvation="none")
    wet = xtb_frontier(silicotungstate, solvation="gbsa:water")
    assert gas["lumo_ev"] > 0 > wet["lumo_ev"]
    assert -1.0 < wet["energy_ha"] - gas["energy_ha"] < -0.1


def test_solvation_choice_and_bad_values():
    water = Molecule(["O", "H", "H"], [[0, 0, 0.117], [0, 0.757, -0.469], [0, -0.757, -0.469]])
    assert default_solvation(MOLYBDATE) == "gbsa:water"
    assert default_solvation(water) == "none"
    for bad in ("alpb:water", "gbsa", "cosmo:water"):
        with pytest.raises(InputError, match="gbsa:<solvent>"):
            parse_solvation(bad, water)


def test_maker_records_solvation_in_method_settings_and_hash(tmp_path):
    maker = XtbFrontierMaker(reuse=False)
    job = maker.make(MOLYBDATE)
    doc = run_locally(job, root_dir=tmp_path, ensure_success=True)[job.uuid][1].output
    assert doc.method == "GFN2-xTB (gbsa water)"
    assert doc.settings["solvent"] == "gbsa:water"
    assert doc.input_hash == xtb_input_hash(MOLYBDATE, False, "gbsa:water")
    assert doc.input_hash != xtb_input_hash(MOLYBDATE, False, "none")
    assert doc.homo_ev < 0 and doc.gap_ev > 3


@pytest.mark.parametrize(("kind", "options", "culprit"), [
    ("substituted", {"metal": "La"}, "La"),
    ("substituted", {"metal": "Y"}, "Y"),
    ("substituted", {"metal": "Co", "oxidation": 2}, "Co"),
    ("dimer", {"ln": "La"}, "La"),
    ("dimer", {"type": "ca"}, "Ca"),
])
def test_substituted_and_linked_units_are_refused(kind, options, culprit):
    molecule = build_structure(kind, **options)
    applicable, reason = xtb_applicable(molecule)
    assert not applicable
    assert culprit in reason and "use the DFT tier" in reason and "\n" not in reason
    with pytest.raises(InputError, match="use the DFT tier"):
        XtbFrontierMaker().make.original(XtbFrontierMaker(), molecule)


def test_ln_dimer_interaction_flow_at_the_xtb_tier_is_refused_when_made():
    """The README's La-dimer flow at the GFN2-xTB tier fails at make(), not when it runs."""
    from superatom.workflows.interaction import InteractionFlowMaker

    dimer = build_structure("dimer", ln="La")
    maker = InteractionFlowMaker(frontier_maker=XtbFrontierMaker(),
                                 relax_maker=XtbFrontierMaker(relax=True))
    with pytest.raises(InputError, match=r"La.*use the DFT tier"):
        maker.make(dimer)
    # a plain POM pair is made (nothing runs): the check refuses only what it must
    from pymatgen.core import Molecule

    pair = Molecule([*MOLYBDATE.species, *MOLYBDATE.species],
                    [*MOLYBDATE.cart_coords, *(MOLYBDATE.cart_coords + np.array([6.0, 0, 0]))],
                    charge=-4, site_properties={"fragment": ["a"] * 5 + ["b"] * 5})
    flow = InteractionFlowMaker(frontier_maker=XtbFrontierMaker()).make(pair)
    assert [j.name for j in flow.jobs][-1] == "interaction analysis"


def test_plain_and_lacunary_units_are_accepted():
    assert xtb_applicable(build_structure("substituted", metal="none")) == (True, "")
    assert xtb_applicable(build_structure("keggin", heteroatom="Si"))[0]
    assert xtb_applicable(MOLYBDATE)[0]


def test_tier_choice_sends_refused_systems_to_dft_and_never_screens_them_out(tmp_path):
    la_unit = {"name": "La unit", "build": {"kind": "substituted", "metal": "La"}}
    molybdate = tmp_path / "molybdate.xyz"
    write_xyz(MOLYBDATE, molybdate)
    campaign = Campaign(name="t", preset="fast", settings={"device": "cpu"},
                        dft_max_nao_cpu=10, prerelax=True, prescreen={"gap_min_ev": 2.0},
                        systems=[la_unit, {"name": "MoO4", "file": str(molybdate)}])
    plan = plan_campaign(campaign)
    la, moo4 = plan.systems["La unit"], plan.systems["MoO4"]
    assert moo4.tier == "xtb"  # too big for DFT with this limit: the cheap tier
    assert la.tier == "dft" and not la.prerelax  # refused at xTB: DFT, no xTB geometry
    with pytest.raises(InputError, match="cannot describe"):
        plan_campaign(campaign.model_copy(update={"systems": [
            SystemSpec(**la_unit, tier="xtb")]}))
    # the pre-screen runs no xTB job on it and so cannot screen it out
    gaps = run_prescreen(plan, open_store(tmp_path / "db"))
    assert "La unit" not in gaps and not la.screened_out
