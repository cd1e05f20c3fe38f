"""Every bad input is one ``error:`` line with exit code != 0 and nothing stored; the silent
wrongs (wrong physics stored as converged, misleading names and filters) are refused."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pytest
from jobflow import run_locally
from pymatgen.core import Molecule
from typer.testing import CliRunner

from superatom import engine
from superatom.calc_settings import load_preset
from superatom.cli.main import app
from superatom.db import open_store, query_results
from superatom.errors import InputError
from superatom.structures.io import read_molecule
from superatom.workflows.xtb import XtbFrontierMaker

DATA = Path(__file__).parent / "data"
runner = CliRunner()
WATER = "O 0 0 0.1173\nH 0 0.7572 -0.4692\nH 0 -0.7572 -0.4692\n"
FAST = ["-p", "fast", "--set", "device=cpu"]


def one_error_line(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code != 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A store with one DFT result (hydroxide) and one xTB result (water)."""
    folder = tmp_path_factory.mktemp("stored")
    (folder / "oh.xyz").write_text("2\ncharge=-1 multiplicity=1\nO 0 0 0\nH 0 0 0.97\n")
    db = str(folder / "db")
    result = runner.invoke(app, ["run", str(folder / "oh.xyz"), *FAST, "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    dft = json.loads(result.stdout)
    job = XtbFrontierMaker().make(read_molecule(DATA / "water.xyz"))
    run_locally(job, store=open_store(db), log=False, ensure_success=True)
    return {"folder": folder, "db": db, "dft": dft, "xtb": job.uuid}


def xyz(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


RUN_CASES = {
    "charge 1e400": ("3\ncharge=1e400\n" + WATER, [], "charge"),
    "multiplicity nan": ("3\nmultiplicity=nan\n" + WATER, [], "multiplicity"),
    "coordinates 1e300": ("2\n\nH 0 0 0\nH 0 0 1e300\n", [], "coordinates"),
    "H2 1e6 A apart": ("2\n\nH 0 0 0\nH 0 0 1e6\n", [], "coordinates"),
    "H2 50 A apart": ("2\n\nH 0 0 0\nH 0 0 50\n", [], "disconnected"),
    "binary file": ("\x00\x01\x02\x03garbage", [], "header"),
    "unknown functional": ("3\n\n" + WATER, ["--set", "xc=nope"], "functional"),
    "unknown aux basis": ("3\n\n" + WATER, ["--set", "aux_basis=nope"], "aux_basis"),
    "unknown SMD solvent": ("3\n\n" + WATER, ["--set", "solvent=smd", "--set",
                                              "solvent_name=nope"], "smd solvent"),
    "max_cycle 1e21": ("3\n\n" + WATER, ["--set", "max_cycle=1e21"], "max_cycle"),
    "max_cycle huge int": ("3\n\n" + WATER, ["--set", "max_cycle=10" + "0" * 21], "max_cycle"),
    "multiplicity -1": ("3\n\n" + WATER, ["-m", "-1"], "multiplicity"),
    "multiplicity 0": ("3\n\n" + WATER, ["-m", "0"], "multiplicity"),
    "empty --db": ("3\n\n" + WATER, ["--db", ""], "--db is empty"),
    "--db on a file": ("3\n\n" + WATER, ["--db", "{file}"], "is a file"),
    "--db on a special path": ("3\n\n" + WATER, ["--db", "/dev/null/db"], "store folder"),
    "name with newline": ("3\n\n" + WATER, ["--name", "a\nb"], "control character"),
}


@pytest.mark.parametrize("case", list(RUN_CASES))
def test_run_refuses_with_one_line(tmp_path, case):
    text, extra, message = RUN_CASES[case]
    path = xyz(tmp_path, "in.xyz", text)
    extra = [e.replace("{file}", path) for e in extra]
    db = [] if "--db" in extra else ["--db", str(tmp_path / "db")]
    line = one_error_line(["run", path, *FAST, *db, *extra])
    assert message in line.lower()
    if db:
        assert not (tmp_path / "db").exists() or query_results(open_store(db[1])) == []


def test_disconnected_parts_run_when_asked_for(tmp_path):
    path = xyz(tmp_path, "far.xyz", "4\n\nH 0 0 0\nH 0 0 0.74\nH 0 0 12\nH 0 0 12.74\n")
    result = runner.invoke(app, ["run", path, *FAST, "--db", str(tmp_path / "db"), "--json",
                                 "--allow-disconnected"])
    assert result.exit_code == 0, result.output
    gap = json.loads(result.stdout)["gap_ev"]
    single = runner.invoke(app, ["run", xyz(tmp_path, "h2.xyz", "2\n\nH 0 0 0\nH 0 0 0.74\n"),
                                 *FAST, "--db", str(tmp_path / "db"), "--json"])
    assert gap == pytest.approx(json.loads(single.stdout)["gap_ev"], abs=0.01)  # no coupling


def test_a_2000_atom_file_is_refused_with_the_estimate(tmp_path):
    lines = [f"{s} {3.0 * i + dx} {3.0 * j + dy} {3.0 * k}"
             for i in range(12) for j in range(12) for k in range(5)
             for s, dx, dy in (("O", 0, 0), ("H", 0.757, 0.587), ("H", -0.757, 0.587))]
    path = xyz(tmp_path, "big.xyz", f"{len(lines)}\n\n" + "\n".join(lines) + "\n")
    line = one_error_line(["run", path, *FAST, "--db", str(tmp_path / "db")])
    assert f"{len(lines)} atoms" in line and "GB" in line and "--force-size" in line
    assert not (tmp_path / "db").exists()


def test_a_keggin_on_a_cpu_is_planned_with_df_on_disk_not_refused(monkeypatch):
    from superatom.campaign import spec
    from superatom.cli.run import check_size
    from superatom.structures.registry import build_structure

    monkeypatch.setattr(spec, "local_memory_gb", lambda: 24.0)
    keggin = build_structure("keggin")
    for potential in ("exact", "density-fitted"):
        settings = load_preset("screening", device="cpu", grids_level=1,
                               pcm_potential=potential)
        line = check_size(keggin, settings)  # no GPU plan (44 GB) on a CPU machine
        assert "962 AOs" in line and "on CPU" in line
        memory = float(line.split("about ")[1].split(" GB")[0])
        assert memory <= 24.0
        if potential == "exact":  # 24 GB of PCM integrals: 13 in memory, the rest on disk
            assert "(DF tensor and 11 GB of PCM integrals on disk)" in line
    assert "about 4 GB (DF tensor on disk)" in line  # the fitted potential: no PCM integrals


def test_python_api_refuses_wrong_spin_and_charge():
    water = read_molecule(DATA / "water.xyz")
    settings = load_preset("fast", device="cpu")
    bad = Molecule(water.species, water.cart_coords)
    bad._spin_multiplicity = -1  # what set_charge_and_spin lets through
    with pytest.raises(InputError, match="multiplicity"):
        engine.run_scf(bad, settings)
    bad = Molecule(water.species, water.cart_coords)
    bad._charge, bad._spin_multiplicity = 0.5, 1
    with pytest.raises(InputError, match="charge"):
        engine.build_mole(bad, settings)
    far = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 1e6]])
    with pytest.raises(InputError):
        engine.run_scf(far, settings)


def test_hydroxide_is_named_by_its_own_formula(stored):
    assert stored["dft"]["name"] == "HO" and stored["dft"]["formula"] == "H1O1"


ANALYZE_CASES = {
    "regex uuid": (["analyze", "(((("], "no stored result"),
    "xtb result analysed": (["analyze", "{xtb}"], "xtb levels-only result"),
    "xtb result compared": (["compare", "{dft}", "{xtb}"], "xtb levels-only result"),
    "lmax -1": (["analyze", "{dft}", "--what", "superatom", "--lmax", "-1"], "--lmax"),
    "unknown fragment": (["analyze", "{dft}", "--what", "superatom", "--fragment", "nope"],
                         "--fragment"),
    "sigma 0": (["analyze", "{dft}", "--what", "dos", "--sigma", "0"], "--sigma"),
    "nstates 0": (["analyze", "{dft}", "--what", "optical", "--nstates", "0"], "--nstates"),
    "out onto a file": (["analyze", "{dft}", "--what", "dos", "--out", "{file}"], "is a file"),
    "report out onto a file": (["report", "x", "--out", "{file}"], "is a file"),
    "report on a path name": (["report", "../../escape"], "path"),
    "since not a date": (["query", "--since", "last tuesday"], "iso date"),
    "inverted gap range": (["query", "--gap-min", "5", "--gap-max", "1"], "gap range"),
    "negative limit": (["query", "--limit", "-1"], "--limit"),
}


@pytest.mark.parametrize("case", list(ANALYZE_CASES))
def test_store_commands_refuse_with_one_line(stored, tmp_path, case):
    args, message = ANALYZE_CASES[case]
    file = xyz(tmp_path, "a-file", "x")
    values = {"dft": stored["dft"]["uuid"], "xtb": stored["xtb"], "file": file}
    args = [a.format(**values) for a in args]
    assert message in one_error_line([*args, "--db", stored["db"]]).lower()


def test_report_of_an_unknown_campaign_leaves_nothing(stored, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "no stored results" in one_error_line(["report", "nobody", "--db", stored["db"]])
    assert list(tmp_path.iterdir()) == []


def test_since_is_compared_as_a_date(stored):
    store = open_store(stored["db"])
    assert query_results(store, since="2000-01-01")
    assert query_results(store, since="2999-01-01") == []
    assert query_results(store, since="2000-01-01T00:00")  # a date-time too
    assert query_results(store, since="yesterday")  # a word, parsed, not compared as text


CAMPAIGN_CASES = {
    "empty chain": ("chains:\n  - {name: c, members: []}\n", "members"),
    "standard doublet": ("  - {name: p, standard: PW12O40, multiplicity: 2}\n", "multiplicity"),
    "standard multiplicity 0": ("  - {name: p, standard: PW12O40, multiplicity: 0}\n",
                                "multiplicity"),
    "duplicate key": ("  - {name: w, file: water.xyz}\nname: again\n", "duplicate key"),
    "name with a slash": ("  - {name: a/b, file: water.xyz}\n", "path"),
}


@pytest.mark.parametrize("case", list(CAMPAIGN_CASES))
def test_campaign_files_refuse_with_one_line(tmp_path, case, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "water.xyz").write_text((DATA / "water.xyz").read_text())
    extra, message = CAMPAIGN_CASES[case]
    systems = "" if extra.startswith("chains") else extra
    text = textwrap.dedent("""\
        name: bad
        preset: fast
        systems:
          - {name: w, file: water.xyz}
        """) + systems + (extra if extra.startswith("chains") else "")
    (tmp_path / "c.yaml").write_text(text)
    for dry in (["--dry-run"], []):
        line = one_error_line(["screen", "c.yaml", "--db", str(tmp_path / "db"), *dry])
        assert message in line.lower()
    assert not (tmp_path / "bad_report").exists()


def test_settings_numbers_are_bounded():
    for key, value in (("max_cycle", 10**21), ("max_memory_mb", 10**21)):
        with pytest.raises(InputError, match=key):
            load_preset("fast", **{key: value})
    assert math.isfinite(load_preset("fast", max_cycle=500).max_cycle)


@pytest.mark.parametrize("name", ["a\nb", "../x", "with space"])
def test_hpc_project_names_are_refused(tmp_path, name):
    assert "project name" in one_error_line(["hpc", "init", name, "-o", str(tmp_path / "p")])
    assert not (tmp_path / "p").exists()
