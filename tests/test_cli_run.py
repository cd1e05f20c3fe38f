"""``superatom run`` / ``query`` end to end, and the one-line errors for bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from superatom.cli.main import app
from tests.molecules import water
from tests.test_engine import direct_pyscf

runner = CliRunner()
FAST = ["--preset", "fast", "--set", "device=cpu"]


def write_xyz(path, lines, comment=""):
    path.write_text(f"{len(lines)}\n{comment}\n" + "\n".join(lines) + "\n")
    return path


@pytest.fixture()
def water_file(tmp_path):
    mol = water()
    return write_xyz(tmp_path / "water.xyz",
                     [f"{s.specie} {s.x:.6f} {s.y:.6f} {s.z:.6f}" for s in mol])


def test_run_json_matches_direct_pyscf_and_is_queryable(tmp_path, water_file):
    db = str(tmp_path / "db")
    result = runner.invoke(app, ["run", str(water_file), *FAST, "--json", "--db", db])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"homo_ev", "lumo_ev", "gap_ev", "e_tot_ha", "converged", "uuid"}
    reference = direct_pyscf(water())
    assert data["e_tot_ha"] == pytest.approx(reference.e_tot, abs=1e-6)
    homo = reference.mo_energy[reference.mo_occ > 0].max() * 27.211386245988
    assert data["homo_ev"] == pytest.approx(homo, abs=1e-4)
    assert data["converged"] is True

    listed = runner.invoke(app, ["query", "--db", db, "--json", "--formula", "H2O"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [row["uuid"] for row in rows] == [data["uuid"]]
    table = runner.invoke(app, ["query", "--db", db], env={"COLUMNS": "200"})
    assert "H2O" in table.stdout and data["uuid"][:8] in table.stdout
    csv = runner.invoke(app, ["query", "--db", db, "--csv"])
    assert csv.stdout.splitlines()[0].startswith("uuid,")


def test_extended_xyz_header_sets_charge_and_multiplicity(tmp_path):
    path = write_xyz(tmp_path / "o2.xyz", ["O 0 0 0", "O 0 0 1.2075"], "charge=0 multiplicity=3")
    result = runner.invoke(app, ["run", str(path), *FAST, "--json", "--db", str(tmp_path / "db")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["multiplicity"] == 3 and data["method"].startswith("UKS")


def test_summary_table_printed(tmp_path, water_file):
    result = runner.invoke(app, ["run", str(water_file), *FAST, "--db", str(tmp_path / "db")])
    assert result.exit_code == 0, result.output
    assert "HOMO (eV)" in result.stdout and "gap (eV)" in result.stdout


BAD_INPUTS = [
    ("missing", None, [], "not found"),
    ("unknown element", ["Xx 0 0 0", "H 0 0 1"], [], "unknown element"),
    ("odd electrons singlet", ["O 0 0 0", "H 0 0 0.97"], ["--multiplicity", "1"], "odd"),
    ("overlap", ["H 0 0 0", "H 0 0 0.3"], [], "apart"),
    ("unknown setting", ["H 0 0 0", "H 0 0 0.74"], ["--set", "colour=red"], "unknown setting"),
    ("unknown preset", ["H 0 0 0", "H 0 0 0.74"], ["--preset", "best"], "unknown preset"),
    ("impossible parity", ["H 0 0 0", "H 0 0 0.74"], ["--multiplicity", "2"], "multiplicity"),
]


@pytest.mark.parametrize(("case", "lines", "extra", "message"), BAD_INPUTS,
                         ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gives_one_line_error(tmp_path, case, lines, extra, message):
    path = tmp_path / "in.xyz"
    if lines is not None:
        write_xyz(path, lines)
    args = ["run", str(path), "--preset", "fast", "--set", "device=cpu", *extra,
            "--db", str(tmp_path / "db")]
    if "--preset" in extra:
        args = ["run", str(path), "--set", "device=cpu", *extra, "--db", str(tmp_path / "db")]
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    lines_out = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines_out) == 1, result.stderr
    assert lines_out[0].startswith("error: ")
    assert message in lines_out[0].lower()


def test_relative_db_path_is_kept_where_it_was_given(tmp_path, water_file, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", str(water_file), *FAST, "--json", "--db", "rel-db"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rel-db").is_dir()
    listed = runner.invoke(app, ["query", "--db", "rel-db", "--json"])
    assert [row["uuid"] for row in json.loads(listed.stdout)] == [json.loads(result.stdout)["uuid"]]
