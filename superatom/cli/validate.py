"""``superatom validate``: compare the package's numbers with known chemistry.

Examples
--------
>>> from superatom.validation.suite import select
>>> _reference_table(select("quick")).row_count >= 5
True
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from superatom.cli.common import console, handle_errors, print_json
from superatom.errors import InputError

__all__ = ["register", "validate_command"]

_STYLE = {"pass": "green", "fail": "red", "error": "red", "not run": "yellow"}


def _reference_table(refs) -> Table:
    from superatom.validation.suite import reference_text

    table = Table(title="validation references")
    for column in ("key", "level", "compared", "reference", "unit", "source"):
        table.add_column(column, overflow="fold")
    for ref in refs:
        table.add_row(ref.key, ref.level, ref.title, reference_text(ref), ref.unit, ref.source)
    return table


def _result_table(rows) -> Table:
    table = Table(title="validation: computed vs reference")
    for column in ("item", "computed", "reference", "unit", "result", "details", "s"):
        table.add_column(column, overflow="fold")
    for row in rows:
        value = "-" if row.computed is None else f"{row.computed:.3f}"
        table.add_row(row.ref.key, value, row.reference_text, row.ref.unit,
                      f"[{_STYLE[row.status]}]{row.status}[/]", row.detail, f"{row.wall_s:.0f}")
    return table


@handle_errors
def validate_command(
    level: str = typer.Option("quick", "--level", help="quick (2 CPU cores, minutes) or full "
                              "(adds DFT on POMs, Au25, Ti10Cu2: GPU work)"),
    only: list[str] = typer.Option(None, "--only", help="run just this item (repeatable)"),
    plot: Path = typer.Option(Path("validation_parity.png"), "--plot",
                              help="parity plot to write"),
    device: str = typer.Option("auto", "--device", help="auto, cpu or gpu"),
    allow_cpu: bool = typer.Option(False, "--allow-cpu",
                                   help="run the full level without a GPU (many hours)"),
    list_items: bool = typer.Option(False, "--list", help="show the reference table only"),
    as_json: bool = typer.Option(False, "--json", help="print the results as JSON"),
) -> None:
    """Run the validation suite: computed vs reference with pass/fail and a parity plot."""
    from superatom.validation.plot import save_parity_plot
    from superatom.validation.suite import run_validation, select

    refs = select(level, only)
    if list_items:
        console.print(_reference_table(refs))
        return
    if any(r.level == "full" for r in refs) and not allow_cpu:
        from superatom.engine import resolve_device

        if resolve_device(device) != "gpu":
            raise InputError("the full level runs DFT on polyoxometalates, Au25 and Ti10Cu2: "
                             "run it on a GPU node, or pass --allow-cpu to wait many hours")
    rows = run_validation(level, only, device=device,
                          progress=lambda ref: console.print(f"running {ref.key} ...",
                                                             style="dim"))
    path = save_parity_plot(rows, plot)
    if as_json:
        print_json([{"key": r.ref.key, "computed": r.computed, "reference": r.ref.value,
                     "kind": r.ref.kind, "tolerance": r.ref.tolerance, "unit": r.ref.unit,
                     "status": r.status, "detail": r.detail, "wall_s": r.wall_s}
                    for r in rows])
    else:
        console.print(_result_table(rows))
        console.print(f"parity plot: {path}")
    bad = [r.ref.key for r in rows if r.status != "pass"]
    if bad:
        raise InputError(f"{len(bad)} of {len(rows)} validation items did not pass: "
                         f"{', '.join(bad)}")


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to ``app``."""
    app.command("validate", help="Compare computed numbers with known chemistry.")(
        validate_command)
