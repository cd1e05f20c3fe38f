"""``superatom query``: list stored results with filters, as table, JSON or CSV."""

from __future__ import annotations

import typer
from rich.table import Table

from superatom.cli.common import console, fail, handle_errors, print_json

COLUMNS = ("uuid", "name", "formula", "charge", "multiplicity", "method", "homo_ev", "lumo_ev",
           "gap_ev", "system_class", "campaign", "n_units")


def register(app: typer.Typer) -> None:
    """Add the ``query`` command to ``app``."""

    @app.command("query")
    @handle_errors
    def query(
        formula: str | None = typer.Option(None, "--formula", "-f", help="e.g. H2O1 or H2O."),
        system_class: str | None = typer.Option(None, "--class", help="System class label."),
        campaign: str | None = typer.Option(None, "--campaign"),
        element: list[str] = typer.Option(None, "--element", "-e", help="Must contain element."),
        functional: str | None = typer.Option(None, "--xc"),
        basis: str | None = typer.Option(None, "--basis"),
        preset: str | None = typer.Option(None, "--preset", help="Settings preset name."),
        n_units: int | None = typer.Option(None, "--n-units"),
        gap_min: float | None = typer.Option(None, "--gap-min", help="eV"),
        gap_max: float | None = typer.Option(None, "--gap-max", help="eV"),
        since: str | None = typer.Option(None, "--since", help="ISO date, e.g. 2026-11-01"),
        db: str | None = typer.Option(None, "--db", help="Store folder or mongodb:// URI."),
        as_json: bool = typer.Option(False, "--json"),
        as_csv: bool = typer.Option(False, "--csv"),
        limit: int = typer.Option(0, "--limit", help="Show at most this many (0 = all)."),
    ) -> None:
        """List stored frontier-orbital results, newest first."""
        from superatom.db import open_store, query_results

        if limit < 0:
            raise fail(f"--limit {limit} is negative: give 0 (all) or a positive count")
        rows = query_results(
            open_store(db), formula=formula, system_class=system_class, campaign=campaign,
            elements=element or None, functional=functional, basis=basis, preset=preset,
            n_units=n_units,
            gap_min=gap_min, gap_max=gap_max, since=since,
        )
        if limit:
            rows = rows[:limit]
        if as_json:
            print_json(rows)
            return
        if as_csv:
            import pandas as pd

            typer.echo(pd.DataFrame(rows).to_csv(index=False), nl=False)
            return
        table = Table(title=f"{len(rows)} stored result(s)")
        columns = [c for c in COLUMNS if any(row.get(c) is not None for row in rows)] or ["uuid"]
        for column in columns:
            table.add_column(column, overflow="fold", no_wrap=column in ("uuid", "formula"))
        for row in rows:
            table.add_row(*[_cell(row.get(c), c) for c in columns])
        console.print(table)


def _cell(value, column: str) -> str:
    if value is None:
        return "-"
    if column == "uuid":
        return str(value)[:8]
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
