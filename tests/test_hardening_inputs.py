"""Hostile and careless inputs, second round: every one is a single ``error:`` line, fast,
with nothing stored; no read of a device or FIFO, no unbounded expansion, no silent
acceptance of what fails later or of what is physically something else."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from superatom.cli.main import app
from superatom.db import open_store, query_results

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
runner = CliRunner()
FAST = ["-p", "fast", "--set", "device=cpu"]
H2 = "2\n\nH 0 0 0\nH 0 0 0.74\n"
MAX_LINE = 1000


def one_error_line(args: list[str], env: dict | None = None) -> str:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code != 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output[:2000]
    assert "Traceback" not in result.output and "Warning" not in result.output
    assert len(lines[0]) < MAX_LINE
    return lines[0]


def write(folder: Path, name: str, text: str) -> str:
    (folder / name).write_text(text)
    return str(folder / name)


# --------------------------------------------------------------------------- run

RUN_CASES = {
    "zero electrons": (H2, ["-q", "2"], "electrons"),
    "bare proton": ("1\n\nH 0 0 0\n", ["-q", "1", "-m", "1"], "electrons"),
    "solvent_eps inf": (H2, ["-s", "solvent=pcm", "-s", "solvent_eps=inf"], "solvent_eps"),
    "grids_level true": (H2, ["-s", "grids_level=true"], "grids_level"),
    "max_cycle 2.5": (H2, ["-s", "max_cycle=2.5"], "max_cycle"),
    "100000-character basis": (H2, ["-s", "basis=" + "b" * 100_000], "--set basis"),
    "119-character basis": (H2, ["-s", "basis=" + "b" * 119], "basis"),
    "basis with two @": (H2, ["-s", "basis=sto-3g@1s@1s"], "basis"),
    "periodic extended XYZ": (
        '2\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3 pbc="T T T"\n'
        "H 0 0 0\nH 0 0 0.74\n", [], "periodic"),
}


@pytest.mark.parametrize("case", list(RUN_CASES))
def test_run_refuses_with_one_short_line(tmp_path, case):
    text, extra, message = RUN_CASES[case]
    path = write(tmp_path, "in.xyz", text)
    line = one_error_line(["run", path, *FAST, "--db", str(tmp_path / "db"), *extra])
    assert message in line
    assert not (tmp_path / "db").exists()


PARTIAL_CIF = textwrap.dedent("""\
    data_disordered
    _cell_length_a 6.0
    _cell_length_b 6.0
    _cell_length_c 6.0
    _cell_angle_alpha 90
    _cell_angle_beta 90
    _cell_angle_gamma 90
    _symmetry_space_group_name_H-M 'P 1'
    loop_
    _atom_site_label
    _atom_site_type_symbol
    _atom_site_fract_x
    _atom_site_fract_y
    _atom_site_fract_z
    _atom_site_occupancy
    O1 O 0.0 0.0 0.0 0.5
    H1 H 0.16 0.0 0.0 0.5
    H2 H 0.0 0.16 0.0 0.3
    """)


def test_partial_occupancies_are_refused_as_molecule_and_as_crystal(tmp_path):
    from superatom.errors import InputError
    from superatom.structures.crystal import read_crystal

    path = write(tmp_path, "disordered.cif", PARTIAL_CIF)
    line = one_error_line(["run", path, *FAST, "--db", str(tmp_path / "db")])
    assert "partially occupied" in line and "0.3" in line
    with pytest.raises(InputError, match="partially occupied"):
        read_crystal(path)
    full = write(tmp_path, "ordered.cif", PARTIAL_CIF.replace(" 0.5\n", " 1.0\n").replace(
        " 0.3\n", " 1.0\n"))
    assert len(read_crystal(full)) == 3  # a fully occupied crystal still reads


def test_a_log_that_is_the_input_or_in_the_store_is_refused(tmp_path):
    path = write(tmp_path, "h2copy.xyz", H2)
    db = tmp_path / "db"
    assert "input file" in one_error_line(["run", path, *FAST, "--db", str(db), "-l", path])
    assert Path(path).read_text() == H2
    (db / "superatom").mkdir(parents=True)
    inside = str(db / "superatom" / "outputs.collection")
    assert "inside the store" in one_error_line(["run", path, *FAST, "--db", str(db),
                                                 "-l", inside])
    assert "folder" in one_error_line(["run", path, *FAST, "--db", str(db), "-l", str(db)])


def test_a_log_on_a_full_device_is_one_warning_and_the_result_is_stored(tmp_path):
    path = write(tmp_path, "h2.xyz", H2)
    db = str(tmp_path / "db")
    result = runner.invoke(app, ["run", path, *FAST, "--db", db, "-l", "/dev/full", "--json"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("warning: the log file /dev/full")
    assert "Logging error" not in result.output and "Traceback" not in result.output
    assert len(query_results(open_store(db))) == 1


def _tmpfs_works() -> bool:
    if os.geteuid() != 0:
        return False
    probe = Path("/tmp") / f"superatom-tmpfs-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)],
                              capture_output=True).returncode == 0
        if done:
            subprocess.run(["umount", str(probe)], check=True)
        return done
    except OSError:
        return False
    finally:
        probe.rmdir()


@pytest.mark.skipif(not _tmpfs_works(), reason="needs root to mount a tmpfs")
def test_a_full_disk_store_is_one_line_without_logging_tracebacks(tmp_path):
    path = write(tmp_path, "w.xyz", (DATA / "water.xyz").read_text())
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=True)
    try:
        with open(disk / "filler", "wb") as filler:  # fill it up to the last block
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass
        result = runner.invoke(app, ["run", path, *FAST, "--db", str(disk / "db")])
        assert result.exit_code == 1, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert "space" in lines[0] or "written" in lines[0]
        assert "Logging error" not in result.output and "Traceback" not in result.output
    finally:
        subprocess.run(["umount", str(disk)], check=True)


# --------------------------------------------------------------------------- files


def _limited() -> None:
    """Child processes get 3 GB of address space: an unbounded read fails, never swaps."""
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))


SPECIAL_FILES = {
    "run on a FIFO": (["run", "{fifo}", "-p", "fast", "--db", "db"], {}, "not a regular file"),
    "screen on a FIFO": (["screen", "{fifo}", "--dry-run", "--db", "db"], {},
                         "not a regular file"),
    "screen /dev/zero": (["screen", "/dev/zero", "--dry-run", "--db", "db"], {},
                         "not a regular file"),
    "config /dev/zero": (["query"], {"SUPERATOM_CONFIG": "/dev/zero", "SUPERATOM_DB": ""},
                         "config file"),
}


@pytest.mark.parametrize("case", list(SPECIAL_FILES))
def test_devices_and_fifos_are_refused_without_reading(tmp_path, case):
    args, env, message = SPECIAL_FILES[case]
    fifo = tmp_path / "in.xyz"
    os.mkfifo(fifo)
    args = [a.format(fifo=fifo) for a in args]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **env}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "superatom.cli.main", *args],
                          capture_output=True, text=True, timeout=120, env=environment,
                          cwd=tmp_path, preexec_fn=_limited)
    assert done.returncode == 1, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], done.stderr[-2000:]
    assert time.perf_counter() - start < 60


def test_an_oversized_structure_file_is_refused_before_reading(tmp_path, monkeypatch):
    from superatom import inputfile
    from superatom.errors import InputError
    from superatom.structures.io import read_molecule

    path = write(tmp_path, "h2.xyz", H2)
    monkeypatch.setattr(inputfile, "MAX_INPUT_BYTES", 10)
    with pytest.raises(InputError, match="MB"):
        inputfile.read_input_text(path, "structure file", max_bytes=10)
    monkeypatch.undo()
    assert len(read_molecule(path)) == 2


def test_yaml_alias_bombs_are_refused_quickly(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    levels = "a: &a [W, W, W, W, W, W, W, W, W]\n"
    for previous, name in zip("abcde", "bcdef", strict=True):
        levels += f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
    text = ("name: bomb\npreset: fast\ndescription: {" + levels.replace("\n", ", ")[:-2]
            + "}\nsystems:\n  - {name: x, build: {kind: lindqvist, metal: *f}}\n")
    (tmp_path / "bomb.yaml").write_text(text)
    assert len(text) < 2500
    start = time.perf_counter()
    line = one_error_line(["screen", "bomb.yaml", "--dry-run", "--db", str(tmp_path / "db")])
    assert "expands to more than" in line
    assert time.perf_counter() - start < 10
    (tmp_path / "self.yaml").write_text("name: &n [*n]\nsystems: []\n")
    assert "expands" in one_error_line(["screen", "self.yaml", "--dry-run"])


def test_build_counts_are_bounded_by_what_can_be_built(tmp_path):
    start = time.perf_counter()
    line = one_error_line(["build", "clusterphene", "-n", "100000", "-o",
                           str(tmp_path / "x.xyz")])
    assert "n=100000" in line and "64" in line
    assert time.perf_counter() - start < 10
    assert not (tmp_path / "x.xyz").exists()


# --------------------------------------------------------------------------- campaigns

CAMPAIGN_CASES = {
    "negative memory cap": ("memory_cap_gb: -5\n", "memory_cap_gb"),
    "infinite memory cap": ("memory_cap_gb: .inf\n", "memory_cap_gb"),
    "inverted prescreen window": ("prescreen: {gap_min_ev: 10, gap_max_ev: 1}\n", "gap_min_ev"),
    "chain of one system thrice": ("chains:\n  - {name: c, members: [w, w, w]}\n",
                                   "listed twice"),
    "chain n repeated": ("chains:\n  - {name: c, build: {kind: ca-chain}, n: [1, 1]}\n",
                         "listed twice"),
    "charge true": ("SYSTEM_CHARGE", "charge"),
    "no systems": ("NO_SYSTEMS", "no systems"),
    "solvent_eps inf": ("settings: {solvent: pcm, solvent_eps: .inf}\n", "solvent_eps"),
    "grids_level true": ("settings: {grids_level: true}\n", "grids_level"),
}


@pytest.mark.parametrize("case", list(CAMPAIGN_CASES))
def test_campaigns_are_refused_at_plan_time(tmp_path, case, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "water.xyz").write_text((DATA / "water.xyz").read_text())
    extra, message = CAMPAIGN_CASES[case]
    system = "  - {name: w, file: water.xyz, tier: dft}\n"
    if extra == "SYSTEM_CHARGE":
        system, extra = "  - {name: w, file: water.xyz, charge: true}\n", ""
    text = "name: bad\npreset: fast\n" + ("" if extra == "NO_SYSTEMS" else "systems:\n" + system)
    (tmp_path / "c.yaml").write_text(text + extra.replace("NO_SYSTEMS", ""))
    for dry in (["--dry-run"], []):
        assert message in one_error_line(["screen", "c.yaml", "--db", str(tmp_path / "db"),
                                          *dry])
    assert not (tmp_path / "db").exists() or query_results(open_store(tmp_path / "db")) == []
    assert not (tmp_path / "bad_report").exists()


def test_sized_settings_are_validated_not_copied():
    from superatom.calc_settings import load_preset
    from superatom.campaign.plan import sized_settings
    from superatom.campaign.resources import plan_resources
    from superatom.errors import InputError

    resources = plan_resources(nao=50, n_atoms=3)
    with pytest.raises(InputError, match="max_memory_mb"):
        sized_settings(load_preset("fast"), set(), resources, memory_cap_gb=-5)
    assert sized_settings(load_preset("fast"), set(), resources, 2).max_memory_mb == 1600


# --------------------------------------------------------------------------- store paths


@pytest.mark.parametrize("command", [["query"], ["analyze", "0123abcd"], ["report", "c"]])
@pytest.mark.parametrize("source", ["SUPERATOM_DB", "config"])
def test_reading_commands_refuse_a_configured_store_that_does_not_exist(tmp_path, command,
                                                                        source, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "12345"
    env = {"SUPERATOM_DB": str(missing)}
    if source == "config":
        (tmp_path / "config.yaml").write_text(f"db: {missing}\n")
        env = {"SUPERATOM_DB": "", "SUPERATOM_CONFIG": str(tmp_path / "config.yaml")}
    line = one_error_line(command, env=env)
    assert "no store at" in line and ("SUPERATOM_DB" in line or "config.yaml" in line)
    assert not missing.exists()


# --------------------------------------------------------------------------- output


def test_summary_markdown_escapes_system_names(tmp_path):
    from superatom.campaign.report import render_markdown

    rows = [{"name": "<img src=x onerror=alert(1)>", "gap_ev": 1.5},
            {"name": "a|b", "gap_ev": 2.5}]
    text = render_markdown([("h1", "c"), ("p", "Note: <script>x</script> is unbound"),
                            ("table", (rows, ["name", "gap_ev"]))])
    assert "<img" not in text and "<script>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    table = [line for line in text.splitlines() if line.startswith("| a")]
    assert table[0].replace("\\|", "").count("|") == 3  # two columns: no extra one


def test_query_never_cuts_numbers_on_a_narrow_terminal(tmp_path, monkeypatch):
    from superatom.cli import common

    db = str(tmp_path / "db")
    result = runner.invoke(app, ["run", write(tmp_path, "h2.xyz", H2), *FAST, "--db", db,
                                 "--json"])
    assert result.exit_code == 0, result.output
    gap = f"{query_results(open_store(db))[0]['gap_ev']:.3f}"
    monkeypatch.setattr(common, "stdout_is_terminal", lambda: True)
    for width in (30, 40, 60, 120):
        monkeypatch.setattr(common.console, "_width", width)
        shown = runner.invoke(app, ["query", "--db", db])
        assert shown.exit_code == 0, shown.output
        assert "…" not in shown.stdout, (width, shown.stdout)
        assert gap in shown.stdout, (width, shown.stdout)
