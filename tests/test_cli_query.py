"""Queries that find what is stored: formulas in any element order, element sets,
case-insensitive methods, parsed dates, a missing --db, tables that keep numbers whole, a
clean message for no results, TSV when piped. The stored results are real PySCF runs."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest
from rich.console import Console
from typer.testing import CliRunner

from superatom.cli import common
from superatom.cli.main import app
from superatom.cli.query import DROP_FIRST, HEADERS, KEEP, display_rows
from superatom.db import open_store, query_results
from superatom.db.query import matches, parse_since
from superatom.errors import InputError

runner = CliRunner()
METHANE = """5
charge=0 multiplicity=1
C 0.000 0.000 0.000
H 0.629 0.629 0.629
H -0.629 -0.629 0.629
H -0.629 0.629 -0.629
H 0.629 -0.629 -0.629
"""
WATER = """3
charge=0 multiplicity=1
O 0.000 0.000 0.117
H 0.000 0.757 -0.469
H 0.000 -0.757 -0.469
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A real store with methane and water at PBE0/def2-SVP (fast preset)."""
    folder = tmp_path_factory.mktemp("query")
    db = str(folder / "db")
    uuids = {}
    for name, text in (("methane", METHANE), ("water", WATER)):
        path = folder / f"{name}.xyz"
        path.write_text(text)
        result = runner.invoke(app, ["run", str(path), "-p", "fast", "-s", "device=cpu",
                                     "--name", name, "-d", db, "--json"])
        assert result.exit_code == 0, result.output
        uuids[name] = json.loads(result.stdout)["uuid"]
    return db, uuids


def names(db: str, *args: str) -> list[str]:
    result = runner.invoke(app, ["query", "-d", db, "--json", *args])
    assert result.exit_code == 0, result.output
    return sorted(row["name"] for row in json.loads(result.stdout))


def test_methane_is_stored_in_site_order_and_found_in_any_order(store):
    db, _ = store
    rows = query_results(open_store(db), formula="CH4")
    assert [r["formula"] for r in rows] == ["H4C1"]  # what pymatgen stores
    for formula in ("CH4", "H4C", "C1H4", "H4C1"):
        assert names(db, "--formula", formula) == ["methane"], formula
    assert names(db, "-f", "C2H8") == []  # a different molecule, not a multiple
    assert names(db, "-f", "H2O") == ["water"]


def test_element_set_and_contains(store):
    db, _ = store
    assert names(db, "--chemsys", "C-H") == ["methane"]
    assert names(db, "--chemsys", "H-O") == ["water"]
    assert names(db, "--chemsys", "C-H-O") == []
    assert names(db, "-e", "H") == ["methane", "water"]
    assert names(db, "-e", "H", "-e", "O") == ["water"]


def test_methods_ignore_case(store):
    db, _ = store
    assert names(db, "--xc", "pbe0") == ["methane", "water"]
    assert names(db, "--xc", "PBE0", "--basis", "DEF2-SVP") == ["methane", "water"]
    assert names(db, "--xc", "b3lyp") == []


def test_dates_are_parsed(store):
    db, _ = store
    assert names(db, "--since", "today") == ["methane", "water"]
    assert names(db, "--since", "7d") == ["methane", "water"]
    assert names(db, "--since", datetime.now().date().isoformat()) == ["methane", "water"]
    assert names(db, "--since", "2999-01-01") == []
    bad = runner.invoke(app, ["query", "-d", db, "--since", "last tuesday"])
    assert bad.exit_code == 1 and "cannot read date 'last tuesday'" in bad.stderr
    now = datetime(2026, 1, 10, 12, 0)
    assert parse_since("12h", now) == datetime(2026, 1, 10, 0, 0)
    assert parse_since("2w", now) == datetime(2025, 12, 27, 12, 0)


def test_new_fields_are_matched_when_present():
    new = {"formula": "ignored", "formula_alphabetical": "C1 H4", "chemsys": "C-H",
           "formula_pretty": "CH4", "elements": ["C", "H"]}
    assert matches(new, formula="CH4") and matches(new, chemsys="H-C")
    assert not matches(new, formula="CH3")
    with pytest.raises(InputError, match="cannot read formula"):
        matches(new, formula="Xx9")


def test_mistyped_db_is_an_error_not_a_new_store(store, tmp_path):
    missing = tmp_path / "no-such-db"
    for args in (["query"], ["analyze", store[1]["water"]], ["report", "demo"]):
        result = runner.invoke(app, [*args, "-d", str(missing)])
        assert result.exit_code == 1, args
        assert "no store at" in result.stderr and "check --db" in result.stderr
    assert not missing.exists()
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["query", "-d", str(tmp_path / "empty")])
    assert result.exit_code == 1 and "not a superatom store" in result.stderr


def test_no_results_is_one_clean_line(store):
    db, _ = store
    result = runner.invoke(app, ["query", "-d", db, "-f", "U2"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.strip() == "no stored results match these filters"
    assert json.loads(runner.invoke(app, ["query", "-d", db, "-f", "U2", "--json"]).stdout) == []


def test_piped_output_is_tsv_with_full_values(store):
    db, uuids = store
    lines = runner.invoke(app, ["query", "-d", db]).stdout.splitlines()
    header = lines[0].split("\t")
    assert header[:3] == ["uuid", "name", "formula"]
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
    assert {r["uuid"] for r in rows} == set(uuids.values())  # whole uuids, not 8 chars
    water = next(r for r in rows if r["name"] == "water")
    assert abs(float(water["gap_ev"]) - 10.09) < 0.05  # PBE0/def2-SVP water gap


@pytest.mark.parametrize("width", [80, 95, 110])
def test_terminal_table_never_breaks_numbers(store, width, monkeypatch):
    db, _ = store
    rows = query_results(open_store(db))
    rows[0]["name"] = "a-long-name-that-has-to-fold-" * 2
    shown, columns = display_rows(rows, full=False)
    columns = common.fit_columns(shown, columns, width, HEADERS, KEEP, DROP_FIRST)
    assert {"name", "formula", "homo_ev", "lumo_ev", "gap_ev"} <= set(columns)
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(
        common.rows_table(shown, columns, headers=HEADERS, keep=KEEP))
    text = buffer.getvalue()
    assert max(len(line) for line in text.splitlines()) <= width
    for row in rows:
        for key in ("homo_ev", "lumo_ev", "gap_ev"):
            assert f"{row[key]:.3f}" in text, (width, key)  # on one line, not folded
    if width >= 95:
        assert text.count("PBE0/def2-svp") == len(rows)  # short method label, unbroken
    assert "CH4" in text and "H2O" in text  # Hill notation
    assert rows[0]["name"] not in text  # the long name folds onto further lines

    # and through the command, as a terminal would see it
    monkeypatch.setattr(common, "stdout_is_terminal", lambda: True)
    monkeypatch.setattr(common, "console", Console(file=io.StringIO(), width=width))
    result = runner.invoke(app, ["query", "-d", db])
    assert result.exit_code == 0
    printed = common.console.file.getvalue()
    assert "2 stored result(s)" in printed and "gap" in printed


def test_analyze_composition_as_csv_and_piped_tsv(store):
    db, uuids = store
    doc = query_results(open_store(db), formula="H2O")[0]
    result = runner.invoke(app, ["analyze", uuids["water"], "-d", db, "--csv"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("orbital,spin,energy_ev,occupation,fragments")
    homo = next(line.split(",") for line in lines[1:] if line.startswith("HOMO,"))
    assert float(homo[2]) == pytest.approx(doc["homo_ev"], abs=1e-9)
    piped = runner.invoke(app, ["analyze", uuids["water"], "-d", db]).stdout.splitlines()
    assert piped[0].split("\t")[:3] == ["orbital", "spin", "energy_ev"]
    assert len(piped) == len(lines)


HYDROXIDE = """2
charge=-1 multiplicity=1
O 0.000 0.000 0.000
H 0.000 0.000 0.970
"""


def test_charge_filter_and_the_printed_formula_notation(store, tmp_path):
    import shutil

    db, _ = store
    own = str(tmp_path / "db")
    shutil.copytree(db, own)
    (tmp_path / "oh.xyz").write_text(HYDROXIDE)
    result = runner.invoke(app, ["run", str(tmp_path / "oh.xyz"), "-p", "fast", "-s",
                                 "device=cpu", "--name", "hydroxide", "-d", own, "--json"])
    assert result.exit_code == 0, result.output
    assert names(own, "-q", "-1") == ["hydroxide"]
    assert names(own, "--charge", "0") == ["methane", "water"]
    # the notation the tables print is accepted, and its charge is a filter
    assert names(own, "--formula", "[OH]-") == ["hydroxide"]
    assert names(own, "--formula", "[HO]-") == ["hydroxide"]
    assert names(own, "--formula", "[OH]2-") == []
    assert names(own, "--formula", "OH") == ["hydroxide"]
    bad = runner.invoke(app, ["query", "-d", own, "--formula", "[OH]-", "-q", "0"])
    assert bad.exit_code == 1 and "give one of them" in bad.output
    # one notation per column: terminal, TSV and JSON all show [HO]-, the stored one beside
    piped = runner.invoke(app, ["query", "-d", own, "-q", "-1"]).stdout.splitlines()
    header = piped[0].split("\t")
    row = dict(zip(header, piped[1].split("\t"), strict=True))
    data = json.loads(runner.invoke(app, ["query", "-d", own, "-q", "-1", "--json"]).stdout)[0]
    assert row["formula"] == data["formula"] == "[HO]-"
    assert row["formula_stored"] == data["formula_stored"] != "[HO]-"


def test_results_frame_takes_the_cli_filter_names(store):
    from superatom.db import results_frame

    db, _ = store
    frame = results_frame(open_store(db), xc="pbe0", formula="H4C")
    assert frame["name"].tolist() == ["methane"] and frame["formula"].tolist() == ["CH4"]
    assert results_frame(open_store(db), **{"class": None, "element": "O"})["name"].tolist() == [
        "water"]
    empty = results_frame(open_store(db), formula="CH4", functional="pbe0", charge=-3)
    assert empty.empty
    assert list(empty[["name", "formula", "homo_ev", "lumo_ev", "gap_ev", "method"]].columns)
    with pytest.raises(InputError, match=r"unknown filter colour: use .*xc"):
        results_frame(open_store(db), colour="red")
