"""Typed documents: doc_type, molecule metadata, typed analyses, recognition in the store."""

from __future__ import annotations

import json

import pytest
from jobflow import run_locally
from pymatgen.core import Molecule
from typer.testing import CliRunner

from superatom.calc_settings import CalcSettings, load_preset
from superatom.cli.main import app
from superatom.db import load_result, open_store, query_results
from superatom.errors import InputError
from superatom.schemas.chain import ChainScalingDoc, ChainScalingResult
from superatom.schemas.documents import FrontierOrbitalDoc
from superatom.schemas.hashing import input_hash, xtb_input_hash
from superatom.schemas.interaction import InteractionDoc, LevelInteraction
from superatom.schemas.registry import parse_document
from superatom.schemas.xtb import XtbFrontierDoc
from superatom.workflows.chain import ChainScalingFlowMaker
from superatom.workflows.frontier import FrontierOrbitalMaker, compute_frontier
from superatom.workflows.interaction import InteractionFlowMaker
from superatom.workflows.xtb import XtbFrontierMaker
from tests.molecules import water

FAST = load_preset("fast", device="cpu")


def _water_dimer() -> Molecule:
    from pathlib import Path

    from superatom.structures.io import read_molecule

    return read_molecule(Path(__file__).parent / "data" / "water_dimer.xyz")


def test_frontier_doc_has_doc_type_and_emmet_metadata():
    methane = Molecule(["C", "H", "H", "H", "H"],
                       [[0, 0, 0], [0.63, 0.63, 0.63], [-0.63, -0.63, 0.63],
                        [-0.63, 0.63, -0.63], [0.63, -0.63, -0.63]])
    doc = compute_frontier(methane, load_preset("fast", device="cpu", basis="sto-3g"))
    assert doc.doc_type == "frontier_orbitals"
    # emmet-core's MoleculeMetadata definitions (pymatgen Composition)
    assert (doc.formula_pretty, doc.formula_alphabetical, doc.chemsys) == ("H4C", "C1 H4", "C-H")
    assert doc.composition == {"C": 1.0, "H": 4.0}
    assert (doc.nelements, doc.natoms, doc.charge, doc.spin_multiplicity) == (2, 5, 0, 1)
    assert doc.formula == "H4C1"  # the old field (electronegativity order) is still written


def test_metadata_matches_emmet_core():
    structure = pytest.importorskip("emmet.core.structure")
    from superatom.structures.lindqvist import build_lindqvist

    mol = build_lindqvist("Mo")
    reference = structure.MoleculeMetadata.from_molecule(mol)
    ours = FrontierOrbitalDoc.describe(mol)
    for key in ("formula_pretty", "formula_alphabetical", "chemsys", "nelements", "natoms",
                "charge", "spin_multiplicity"):
        assert ours[key] == getattr(reference, key), key
    assert ours["elements"] == [str(e) for e in reference.elements]
    assert ours["composition"] == {str(k): v for k, v in reference.composition.items()}


def test_legacy_document_without_new_fields_still_reads():
    doc = compute_frontier(water(), FAST)
    stored = json.loads(doc.model_dump_json())
    for key in ("doc_type", "formula_pretty", "formula_alphabetical", "composition", "chemsys",
                "nelements", "natoms", "spin_multiplicity"):
        stored.pop(key)
    old = parse_document(stored)  # recognised as a frontier document by its input hash
    assert isinstance(old, FrontierOrbitalDoc) and old.formula_pretty == "H2O"
    assert old.chemsys == "H-O" and old.spin_multiplicity == 1


def test_xtb_hash_needs_no_fake_settings():
    mol = water()
    assert xtb_input_hash(mol, relax=False) != xtb_input_hash(mol, relax=True)
    assert xtb_input_hash(mol, relax=False) != input_hash(mol, CalcSettings())
    assert input_hash(mol, FAST) == input_hash(mol, load_preset("fast", device="gpu"))
    # the DFT input hash keeps its documented payload, so stored results stay reusable
    import hashlib

    import superatom

    payload = {"species": ["O", "H", "H"], "coords": mol.cart_coords.round(5).tolist(),
               "charge": 0, "multiplicity": 1, "settings": FAST.fingerprint(),
               "major": superatom.__version__.split(".")[0]}
    expected = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    assert input_hash(mol, FAST) == expected


def test_xtb_tier_interaction_and_chain_are_the_same_makers(tmp_path):
    store = open_store(tmp_path / "db")
    inter = InteractionFlowMaker(frontier_maker=XtbFrontierMaker()).make(_water_dimer())
    chain = ChainScalingFlowMaker(frontier_maker=XtbFrontierMaker()).make(
        [Molecule(["H", "H"] * n, [[0, 0, 1.8 * k + d] for k in range(n) for d in (0, 0.74)])
         for n in (1, 2, 3)])
    run_locally(inter, store=store, log=False, ensure_success=True)
    run_locally(chain, store=store, log=False, ensure_success=True)
    store.connect()
    idoc = InteractionDoc.model_validate(store.query_one({"uuid": inter.jobs[-1].uuid})["output"])
    assert isinstance(idoc.analysis, LevelInteraction)
    # the level shifts are the differences of the stored xTB levels
    assert idoc.analysis.homo_shift_ev == pytest.approx(
        idoc.homo_assembly_ev - max(idoc.homo_monomers_ev))
    assert idoc.method == "GFN2-xTB (gas phase)"
    cdoc = ChainScalingDoc.model_validate(store.query_one({"uuid": chain.jobs[-1].uuid})["output"])
    assert isinstance(cdoc.fit, ChainScalingResult) and cdoc.n_units == [1, 2, 3]
    assert cdoc.fit.gap_ev == pytest.approx(cdoc.gap_ev)
    # the DFT Maker gives the full orbital analysis in the same flow
    dft = InteractionFlowMaker(frontier_maker=FrontierOrbitalMaker(settings=FAST))
    assert [j.name for j in dft.make(_water_dimer()).jobs] == [
        *[j.name for j in inter.jobs], "energy decomposition"]  # EDA needs DFT orbitals


def test_store_recognises_documents_by_doc_type(tmp_path):
    store = open_store(tmp_path / "db")
    job = XtbFrontierMaker(metadata={"name": "water-xtb"}).make(water())
    run_locally(job, store=store, log=False, ensure_success=True)
    assert XtbFrontierDoc.model_validate(
        store.query_one({"uuid": job.uuid})["output"]).doc_type == "xtb_frontier"
    with pytest.raises(InputError, match="GFN2-xTB levels-only result"):
        load_result(job.uuid, store=store)
    assert [r["name"] for r in query_results(store)] == ["water-xtb"]
    for args in (["analyze", job.uuid], ["compare", job.uuid, job.uuid]):
        result = CliRunner().invoke(app, [*args, "--db", str(tmp_path / "db")])
        assert result.exit_code != 0
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and "xTB" in lines[0]
