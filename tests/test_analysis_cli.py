"""``analyze`` / ``compare`` commands on a temporary store filled by real jobflow jobs."""

from __future__ import annotations

import json
import os

import pytest
import typer
from jobflow import run_locally
from pymatgen.core import Molecule
from typer.testing import CliRunner

from superatom.cli.analyze import register
from superatom.db import open_store
from superatom.workflows.frontier import FrontierOrbitalMaker

pytestmark = pytest.mark.filterwarnings("ignore:cd is deprecated:FutureWarning")
OVERRIDES = {"device": "cpu", "basis": "sto-3g"}


def _h2(z: float = 0.0, tag: str = "H2") -> Molecule:
    return Molecule(["H", "H"], [[0, 0, z], [0.74, 0, z]],
                    site_properties={"fragment": [tag, tag]})


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture(scope="module")
def filled_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-store")
    dimer = Molecule(["H"] * 4, [[0, 0, 0], [0.74, 0, 0], [0, 0, 2.5], [0.74, 0, 2.5]],
                     site_properties={"fragment": ["A", "A", "B", "B"]})
    uuids = {}
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        for key, mol in (("mono", _h2()), ("dimer", dimer)):
            job = FrontierOrbitalMaker(preset="fast", settings_overrides=OVERRIDES,
                                       metadata={"name": key}).make(mol)
            run_locally(job, store=open_store(folder / "db"), log=False, raise_immediately=True)
            uuids[key] = job.uuid
    finally:
        os.chdir(cwd)
    return str(folder / "db"), uuids


def test_analyze_composition_json_and_table(app, filled_store):
    db, uuids = filled_store
    runner = CliRunner()
    result = runner.invoke(app, ["analyze", uuids["dimer"], "--db", db, "--json",
                                 "--method", "lowdin"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["method"] == "lowdin" and data["fragments"] == ["A", "B"]
    homo = next(o for o in data["orbitals"] if o["label"] == "HOMO")
    assert homo["fragment"]["A"] == pytest.approx(0.5, abs=1e-4)
    result = runner.invoke(app, ["analyze", uuids["dimer"][:8], "--db", db])
    assert result.exit_code == 0 and "HOMO" in result.output
    result = runner.invoke(app, ["analyze", uuids["dimer"], "--db", db, "--json",
                                 "--orbitals", "HOMO,LUMO"])
    assert [o["label"] for o in json.loads(result.output)["orbitals"]] == ["HOMO", "LUMO"]


def test_analyze_superatom_dos_export(app, filled_store, tmp_path):
    db, uuids = filled_store
    runner = CliRunner()
    result = runner.invoke(app, ["analyze", uuids["mono"], "--what", "superatom", "--db", db,
                                 "--json", "--orbitals", "HOMO,LUMO", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (res,) = json.loads(result.output)
    assert [o["character"] for o in res["orbitals"]] == ["S", "P"]  # H2 sigma_g / sigma_u
    assert (tmp_path / "angular_restricted.png").stat().st_size > 1000
    result = runner.invoke(app, ["analyze", uuids["dimer"], "--what", "dos", "--db", db,
                                 "--json", "--out", str(tmp_path), "--sigma", "0.2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["d_band_centre_ev"] is None
    assert (tmp_path / "dos.png").exists() and (tmp_path / "dos.csv").exists()
    header = (tmp_path / "dos.csv").read_text().splitlines()[0]
    assert header.startswith("energy_ev,total") and "fragment:A" in header
    result = runner.invoke(app, ["analyze", uuids["mono"], "--what", "export", "--db", db,
                                 "--out", str(tmp_path / "exp")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "exp").iterdir()) == [
        "mono.molden", "mono_HOMO.cube", "mono_LUMO.cube"]


def test_compare_prints_interaction_and_writes_png(app, filled_store, tmp_path):
    db, uuids = filled_store
    runner = CliRunner()
    png = tmp_path / "corr.png"
    args = ["compare", uuids["mono"], uuids["mono"], uuids["dimer"], "--db", db]
    result = runner.invoke(app, [*args, "--png", str(png)])
    assert result.exit_code == 0, result.output
    assert "HOMO splitting" in result.output and "fragment-orbital couplings" in result.output
    assert png.read_bytes()[:4] == b"\x89PNG"
    result = runner.invoke(app, [*args, "--json"])
    data = json.loads(result.output)
    s = data["summary"][0]
    assert s["homo_splitting_ev"] == pytest.approx(s["fo_homo_splitting_ev"], abs=0.01)
    assert s["homo_participation_ratio"] == pytest.approx(2.0, abs=1e-3)


def test_cli_errors_are_one_line(app, filled_store):
    db, uuids = filled_store
    runner = CliRunner()
    for args in (["analyze", uuids["mono"], "--what", "nope", "--db", db],
                 ["analyze", "ffffffff-0000", "--db", db],
                 ["compare", uuids["dimer"], uuids["mono"], "--db", db]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1
        assert result.output.strip().startswith("error:")
        assert len(result.output.strip().splitlines()) == 1


def test_analyze_optical_gap_matches_direct_tda(app, filled_store):
    from pyscf import gto, scf, tdscf

    db, uuids = filled_store
    result = CliRunner().invoke(app, ["analyze", uuids["mono"], "--db", db, "--what", "optical",
                                      "--nstates", "2", "--measured", "12.0", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # independent route: PySCF TDA on the same H2, PBE0/STO-3G with density fitting
    mol = gto.M(atom="H 0 0 0; H 0.74 0 0", basis="sto-3g", verbose=0)
    mf = scf.RKS(mol, xc="PBE0").density_fit(auxbasis="def2-universal-jkfit")
    mf.grids.level = 1
    mf.kernel()
    td = tdscf.TDA(mf)
    td.nstates = 2
    td.kernel()
    assert data["optical_gap_ev"] == pytest.approx(td.e[0] * 27.211386245988, abs=2e-3)
    assert data["measured_gap_ev"] == 12.0
    assert data["deviation_ev"] is not None
    # the excitations are a stored TDA document, reused on the second call
    stored = open_store(db)
    stored.connect()
    tda = stored.query_one({"uuid": data["uuid"]})["output"]
    assert tda["doc_type"] == "tda" and tda["ground_state_uuid"] == uuids["mono"]
    assert tda["excitations"][0]["energy_ev"] == pytest.approx(data["optical_gap_ev"])
    again = CliRunner().invoke(app, ["analyze", uuids["mono"], "--db", db, "--what", "optical",
                                     "--nstates", "2", "--json"])
    assert json.loads(again.output)["reused_from"] == data["uuid"]


def test_compare_names_and_defines_every_quantity_once(app, filled_store):
    from pathlib import Path

    from superatom.schemas.interaction import QUANTITIES, quantity_label

    db, uuids = filled_store
    runner = CliRunner()
    table = runner.invoke(app, ["compare", uuids["mono"], uuids["mono"], uuids["dimer"],
                                "--db", db], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    helptext = " ".join(runner.invoke(app, ["compare", "--help"],
                                      env={"COLUMNS": "200"}).output.split())
    docs = (Path(__file__).parents[1] / "docs" / "analysis.md").read_text()
    for key, (label, definition) in QUANTITIES.items():
        assert quantity_label(key) in table.output, key  # the table's name ...
        assert f"{label}: {definition}" in helptext.replace("│", "").replace("  ", " "), key
        assert f"| {quantity_label(key)} | `{key}` | {definition} |" in docs, key  # ... docs
    assert "HOMO shift per monomer" in table.output


def test_compare_with_one_monomer_for_two_fragments_is_refused(app, filled_store):
    db, uuids = filled_store
    result = CliRunner().invoke(app, ["compare", uuids["mono"], uuids["dimer"], "--db", db])
    assert result.exit_code == 1
    assert result.output.startswith("error:") and "give a monomer result for B" in result.output


def test_optical_without_a_bright_state_says_so_and_how_to_get_more(app, filled_store):
    from superatom.analysis.optical import optical_gap
    from superatom.schemas.tda import TdaDoc

    db, uuids = filled_store
    result = CliRunner().invoke(app, ["analyze", uuids["mono"], "--db", db, "--what", "optical",
                                      "--nstates", "2", "--json"])
    assert result.exit_code == 0, result.output
    store = open_store(db)
    store.connect()
    stored = store.query_one({"uuid": json.loads(result.output)["uuid"]})["output"]
    doc = TdaDoc.model_validate(stored)
    assert optical_gap(doc).note is None  # H2's sigma_g -> sigma_u is bright
    dark = optical_gap(doc, bright_threshold=10.0)  # nothing is that bright: all 'dark'
    assert dark.first_bright_ev is None
    assert f"among the {len(dark.states)} state" in dark.note and "--nstates 10" in dark.note


def test_superatom_table_piped_is_tsv_with_every_number(app, filled_store):
    db, uuids = filled_store
    result = CliRunner().invoke(app, ["analyze", uuids["dimer"], "--db", db, "--what",
                                      "superatom", "--lmax", "4"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = lines[0].split("\t")
    assert header[:4] == ["orbital", "spin", "energy_ev", "character"]
    assert {"S", "P", "D", "F", "G"} <= set(header) and "…" not in result.stdout
    for line in lines[1:]:
        row = dict(zip(header, line.split("\t"), strict=True))
        weights = [float(row[k]) for k in ("S", "P", "D", "F", "G")]
        assert 0.0 <= min(weights) and max(weights) <= 1.0
