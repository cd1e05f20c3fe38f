"""The ``superatom`` command: run, query, build, analyze, compare, eda, screen, submit, ...

Examples
--------
>>> from typer.testing import CliRunner
>>> CliRunner().invoke(app, ["--version"]).stdout.startswith("superatom ")
True
"""

from __future__ import annotations

import typer

from superatom.cli import analyze, build, eda, hpc, query, run, screen, validate
from superatom.cli.common import csv_option, emit_rows, handle_errors, json_option

CONTEXT = {"help_option_names": ["-h", "--help"]}


def _flag_type_hidden() -> None:
    """On/off flags take no value, so ``-h`` shows ``--json``, not ``--json <bool>``
    (typer's rich help prints a type for every option, flags included)."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "flags_hidden", False):
        return

    def display_type_rich(self, ctx):
        return None if self.is_flag else shown(self, ctx)

    display_type_rich.flags_hidden = True
    TyperOption.display_type_rich = display_type_rich


_flag_type_hidden()

app = typer.Typer(
    name="superatom",
    help="Frontier-orbital screening of cluster assemblies (PySCF / GPU4PySCF).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT,
)


def _version(value: bool) -> None:
    if value:
        import superatom

        typer.echo(f"superatom {superatom.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Frontier-orbital screening of cluster assemblies (PySCF / GPU4PySCF)."""


for module in (run, build, query, screen, analyze, eda, hpc, validate):
    module.register(app)


@app.command("presets")
@handle_errors
def presets(
    name: str | None = typer.Argument(None, help="Show one preset in full."),
    as_json: bool = json_option(),
    as_csv: bool = csv_option(),
) -> None:
    """List the settings presets, or show one."""
    from superatom.calc_settings import available_presets, load_preset
    from superatom.cli.common import print_json

    if name:
        print_json(load_preset(name).model_dump())
        return
    rows = []
    for preset in available_presets():
        s = load_preset(preset)
        rows.append({"preset": preset, "xc": s.xc, "basis": s.basis, "solvent": s.solvent,
                     "grids_level": s.grids_level, "density_fit": s.density_fit})
    emit_rows(rows, list(rows[0]) if rows else ["preset"], as_json=as_json, as_csv=as_csv,
              title="settings presets")


def entry_point() -> None:
    """The ``superatom`` command: the app, with SIGTERM made a clean exit.

    The signal handler belongs to the command's own process only: a program (or a test)
    that calls ``app`` in-process keeps its own.
    """
    from superatom.cli.common import exit_on_terminate

    exit_on_terminate()
    app()


if __name__ == "__main__":
    entry_point()
