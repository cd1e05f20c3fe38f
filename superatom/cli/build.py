"""``superatom build KIND``: build a structure and write extended XYZ / JSON summary / PNG.

Registered on the main app by ``superatom.cli.main`` through :func:`register`.

Examples
--------
>>> import typer
>>> from typer.testing import CliRunner
>>> app = typer.Typer()
>>> register(app)
>>> @app.callback()
... def _root():
...     pass
>>> result = CliRunner().invoke(app, ["build", "lindqvist", "--json"])
>>> result.exit_code
0
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer

from superatom.errors import InputError

__all__ = ["build_command", "register", "summary"]


def summary(molecule) -> dict:
    """JSON-ready summary: formula, charge, multiplicity, atom count, fragments.

    Examples
    --------
    >>> from superatom.structures.lindqvist import build_lindqvist
    >>> summary(build_lindqvist())["n_atoms"]
    25
    """
    frags: dict[str, int] = {}
    for f in molecule.site_properties.get("fragment") or []:
        frags[str(f)] = frags.get(str(f), 0) + 1
    return {
        "formula": re.sub(r"(?<=[A-Za-z])1(?![0-9])", "", molecule.composition.formula)
        .replace(" ", ""),
        "charge": round(molecule.charge),
        "multiplicity": int(molecule.spin_multiplicity),
        "n_atoms": len(molecule),
        "fragments": frags,
    }


def _print_kinds(as_json: bool = False, as_csv: bool = False) -> None:
    from superatom.cli.common import emit_rows
    from superatom.structures.registry import list_kinds

    rows = []
    for name, info in list_kinds().items():
        opts = []
        for key, o in info["options"].items():
            text = f"{key}={o['default']}"
            if o["choices"]:
                text += f" [{'|'.join(str(c) for c in o['choices'])}]"
            opts.append(text)
        rows.append({"kind": name, "description": info["description"],
                     "options": " ".join(opts) or "-"})
    emit_rows(rows, ["kind", "description", "options"], as_json=as_json, as_csv=as_csv,
              title="superatom build KIND (options: -O key=value)")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def build_command(
    kind: str = typer.Argument(None, help="structure kind; see --list"),
    option: list[str] = typer.Option(None, "--option", "-O", help="builder option key=value"),
    metal: str = typer.Option(None, "--metal", help="addenda metal or substituent"),
    heteroatom: str = typer.Option(None, "--heteroatom", help="Keggin/Anderson heteroatom"),
    ln: str = typer.Option(None, "--ln", help="lanthanide (Y, La-Lu)"),
    n: int = typer.Option(None, "--n-units", "-n", help="number of units"),
    output: Path = typer.Option(None, "--output", "-o", help="extended XYZ file to write"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON summary (or --list)"),
    as_csv: bool = typer.Option(False, "--csv", help="with --list: CSV"),
    png: Path = typer.Option(None, "--png", help="render a 300 dpi PNG picture"),
    style: str = typer.Option("polyhedra", "--style",
                              help="picture: polyhedra (MO6 octahedra + bonds) or "
                                   "ball-and-stick"),
    list_kinds: bool = typer.Option(False, "--list", help="list kinds and their options"),
    relax: bool = typer.Option(False, "--relax", help="pre-relax with GFN2-xTB (tblite)"),
    fmax: float = typer.Option(0.05, "--fmax", help="xTB force threshold, eV/Angstrom"),
    steps: int = typer.Option(200, "--steps", help="maximum xTB optimiser steps"),
) -> None:
    """Build a cluster / assembly geometry (Angstrom) with charge, multiplicity and fragments."""
    if list_kinds:
        _print_kinds(as_json, as_csv)
        return
    if png is not None and png.suffix.lower() != ".png":
        _fail(f"--png expects a file ending in .png, not '{png.name}'")
    if not kind:
        _fail("give a KIND (see superatom build --list)")
    if output is None and not as_json and png is None:
        _fail("nothing to do: pass -o FILE, --json or --png FILE")
    from superatom.structures.registry import KINDS, build_structure

    if kind not in KINDS:
        _fail(f"unknown structure kind '{kind}': use one of {', '.join(KINDS)}")
    typed = {"metal": metal, "heteroatom": heteroatom, "ln": ln, "n": n}
    options = {}
    for key, value in typed.items():
        if value is None:
            continue
        if key not in KINDS[kind].options:
            _fail(f"--{'n-units' if key == 'n' else key} does not apply to kind '{kind}'")
        options[key] = value
    try:
        mol = build_structure(kind, option_strings=option or [], **options)
        relax_info = None
        if relax:
            from superatom.engine.xtb import relax_xtb

            mol, relax_info = relax_xtb(mol, fmax=fmax, steps=steps)
        if output is not None:
            from superatom.structures.io import write_xyz

            note = f"superatom build {kind}"
            if relax_info:
                note += (f" GFN2-xTB relaxed converged={relax_info['converged']} "
                         f"steps={relax_info['steps']}")  # fmt: skip
            write_xyz(mol, output, comment=note)
        if png is not None:
            from superatom.structures.render import render_png

            render_png(mol, png, style=style)
    except InputError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write output: {exc.strerror or exc}")
    info = summary(mol)
    if relax_info:
        keys = ("converged", "steps", "energy_ev", "homo_ev", "lumo_ev", "gap_ev")
        info["xtb"] = {k: relax_info[k] for k in keys}
    if as_json:
        typer.echo(json.dumps(info, indent=2))
    else:
        typer.echo(
            f"{kind}: {info['formula']} charge {info['charge']} multiplicity "
            f"{info['multiplicity']} ({info['n_atoms']} atoms, {len(info['fragments'])} "
            f"fragments) -> {output or png}"
        )


def register(app: typer.Typer) -> None:
    """Add the ``build`` command to ``app``."""
    app.command("build", help="Build a structure: superatom build KIND -o FILE")(build_command)
