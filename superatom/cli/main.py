"""The ``superatom`` command: run, query, build, analyze, compare, screen, submit, ..."""

from __future__ import annotations

import typer

from superatom.cli import analyze, build, hpc, query, run, screen, validate
from superatom.cli.common import handle_errors

app = typer.Typer(
    name="superatom",
    help="Frontier-orbital screening of cluster assemblies (PySCF / GPU4PySCF).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (run, build, query, screen, analyze, hpc, validate):
    module.register(app)


@app.command("presets")
@handle_errors
def presets(name: str | None = typer.Argument(None, help="Show one preset in full.")) -> None:
    """List the settings presets, or show one."""
    from superatom.calc_settings import available_presets, load_preset
    from superatom.cli.common import print_json

    if name:
        print_json(load_preset(name).model_dump())
    else:
        for preset in available_presets():
            s = load_preset(preset)
            typer.echo(f"{preset:12s} {s.xc}/{s.basis} solvent={s.solvent} grids={s.grids_level}")


if __name__ == "__main__":
    app()
