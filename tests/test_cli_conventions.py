"""Command-line conventions: --version, -h everywhere, completion, one meaning per short
option, --json/--csv on listings, the hpc extra named, --png writing real PNGs."""

from __future__ import annotations

import json
import sys

import click
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

import superatom
from superatom.cli.main import app

runner = CliRunner()
LISTINGS = (("query",), ("presets",), ("build",), ("status",), ("analyze",))


def commands(group: click.Command, path: tuple[str, ...] = ()):
    """Every (path, click command) below the root, groups included."""
    yield path, group
    for name, sub in getattr(group, "commands", {}).items():
        yield from commands(sub, (*path, name))


@pytest.fixture(scope="module")
def root() -> click.Command:
    return typer.main.get_command(app)


def test_version_flag():
    for flag in ("--version", "-V"):
        result = runner.invoke(app, [flag])
        assert result.exit_code == 0
        assert result.stdout.strip() == f"superatom {superatom.__version__}"


def test_every_command_has_short_and_long_help(root):
    paths = [path for path, _ in commands(root)]
    assert len(paths) > 12
    for path in paths:
        for flag in ("-h", "--help"):
            result = runner.invoke(app, [*path, flag])
            assert result.exit_code == 0, (path, result.output)
            assert "Usage:" in result.stdout, path


def test_shell_completion_is_on():
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


def test_short_options_have_one_meaning_and_no_one_letter_long_options(root):
    meaning: dict[str, set[str]] = {}
    for path, command in commands(root):
        for param in command.params:
            opts = [*param.opts, *param.secondary_opts]
            longs = [o for o in opts if o.startswith("--")]
            shorts = [o for o in opts if not o.startswith("--") and o.startswith("-")]
            for long in longs:
                assert len(long) > 3, (path, long)  # no --n
            for short in shorts:
                meaning.setdefault(short, set()).add(longs[0] if longs else "?")
    clashes = {k: v for k, v in meaning.items() if len(v) > 1}
    assert not clashes, clashes
    # the table in the README says the same as the code
    assert meaning["-o"] == {"--output"} and meaning["-p"] == {"--preset"}
    assert meaning["-P"] == {"--project"} and meaning["-d"] == {"--db"}
    assert meaning["-m"] == {"--multiplicity"} and meaning["-w"] == {"--worker"}


def test_every_listing_offers_json_and_csv(root):
    for path in LISTINGS:
        command = root
        for name in path:
            command = command.commands[name]
        names = {o for p in command.params for o in p.opts}
        assert {"--json", "--csv"} <= names, path


def test_presets_listing_as_json_csv_and_tsv():
    rows = json.loads(runner.invoke(app, ["presets", "--json"]).stdout)
    assert {"fast", "screening"} <= {r["preset"] for r in rows}
    csv = runner.invoke(app, ["presets", "--csv"]).stdout.splitlines()
    assert csv[0] == "preset,xc,basis,solvent,grids_level,density_fit"
    piped = runner.invoke(app, ["presets"]).stdout.splitlines()  # not a terminal: TSV
    assert piped[0].split("\t")[0] == "preset" and len(piped) == len(csv)


def test_build_list_as_json():
    result = runner.invoke(app, ["build", "--list", "--json"])
    kinds = {row["kind"] for row in json.loads(result.stdout)}
    assert {"keggin", "lindqvist", "clusterphene"} <= kinds


@pytest.mark.parametrize("args", [
    ["hpc", "init", "demo"],
    ["submit", "campaign.yaml", "-P", "demo"],
    ["status", "-P", "demo"],
    ["rerun", "-P", "demo"],
])
def test_hpc_commands_name_the_extra_without_jobflow_remote(monkeypatch, args):
    monkeypatch.setitem(sys.modules, "jobflow_remote", None)  # import fails as if absent
    for module in [m for m in sys.modules if m.startswith("jobflow_remote.")
                   or m in ("superatom.hpc.project", "superatom.hpc.submit")]:
        monkeypatch.delitem(sys.modules, module)  # nor imported before, as in a new process
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["error: jobflow_remote is not installed: pip install 'superatom[hpc]'"]
    assert "Traceback" not in result.output


def test_png_option_writes_a_real_300_dpi_png(tmp_path):
    png = tmp_path / "w6.png"
    result = runner.invoke(app, ["build", "lindqvist", "--png", str(png)])
    assert result.exit_code == 0, result.output
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert min(image.info["dpi"]) >= 299.5
    wrong = runner.invoke(app, ["build", "lindqvist", "--png", str(tmp_path / "w6.svg")])
    assert wrong.exit_code == 1 and "--png expects a file ending in .png" in wrong.stderr
    assert not (tmp_path / "w6.svg").exists()


def test_n_units_replaces_n(tmp_path):
    out = tmp_path / "c.xyz"
    ok = runner.invoke(app, ["build", "clusterphene", "-n", "2", "--ln", "La", "-o", str(out)])
    assert ok.exit_code == 0, ok.output
    assert runner.invoke(app, ["build", "clusterphene", "--n", "2", "-o", str(out)]).exit_code


def test_help_shows_flags_without_a_value_type():
    text = runner.invoke(app, ["screen", "-h"], env={"COLUMNS": "120"}).stdout
    assert "--json" in text and "--force" in text and "<bool>" not in text
    assert "<str>" in text  # options that take a value still say which
