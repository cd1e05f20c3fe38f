"""``superatom query``: list stored results with filters, as table, TSV, JSON or CSV."""

from __future__ import annotations

import typer

from superatom.cli.common import csv_option, db_option, emit_rows, fail, handle_errors, json_option

HEADERS = {"charge": "q", "multiplicity": "2S+1", "homo_ev": "HOMO", "lumo_ev": "LUMO",
           "gap_ev": "gap", "system_class": "class", "n_units": "n"}
KEEP = ("uuid", "formula", "method")  # never folded on a terminal
COLUMNS = ("uuid", "name", "formula", "formula_stored", "charge", "multiplicity", "homo_ev",
           "lumo_ev", "gap_ev",
           "method", "system_class", "campaign", "n_units")
# left out in this order when a terminal is too narrow for all columns
DROP_FIRST = ("formula_stored", "campaign", "n_units", "system_class", "multiplicity", "charge",
              "uuid", "method", "formula", "lumo_ev", "homo_ev")


def display_rows(rows: list[dict], full: bool) -> tuple[list[dict], list[str]]:
    """Rows for printing: the formula in Hill/POM notation everywhere (``formula_stored``
    beside it, as stored); on a terminal also a short uuid and method label (``full``: the
    stored values, for JSON/CSV/TSV)."""
    from superatom.cli.common import split_method
    from superatom.structures.notation import with_display_formula

    rows = [{**with_display_formula(row), "formula_stored": row.get("formula")} for row in rows]
    columns = [c for c in COLUMNS if any(row.get(c) is not None for row in rows)] or ["uuid"]
    if full:
        return rows, columns
    columns = [c for c in columns if c != "formula_stored"]
    shown = [{**row, "uuid": str(row.get("uuid"))[:8],
              "method": split_method(row.get("method"))} for row in rows]
    return shown, columns


def register(app: typer.Typer) -> None:
    """Add the ``query`` command to ``app``."""

    @app.command("query")
    @handle_errors
    def query(
        formula: str | None = typer.Option(
            None, "--formula", "-f", help="Full formula in any element order: CH4, H4C, "
            "PW12O40, or as the tables print it: [PW12O40]3- (that charge too)."),
        charge: int | None = typer.Option(None, "--charge", "-q", help="Total charge."),
        system_class: str | None = typer.Option(None, "--class", "-c", help="System class."),
        campaign: str | None = typer.Option(None, "--campaign"),
        element: list[str] = typer.Option(None, "--element", "-e", help="Must contain element."),
        chemsys: str | None = typer.Option(None, "--chemsys",
                                           help="Exactly these elements, e.g. P-W-O."),
        functional: str | None = typer.Option(None, "--xc", help="Functional (any case)."),
        basis: str | None = typer.Option(None, "--basis", help="Basis set (any case)."),
        preset: str | None = typer.Option(None, "--preset", "-p", help="Settings preset."),
        n_units: int | None = typer.Option(None, "--n-units", "-n"),
        gap_min: float | None = typer.Option(None, "--gap-min", help="eV"),
        gap_max: float | None = typer.Option(None, "--gap-max", help="eV"),
        since: str | None = typer.Option(
            None, "--since", help="ISO date (2026-11-01), 'today', 'yesterday' or an age: "
            "7d, 12h, 2w."),
        db: str | None = db_option(),
        as_json: bool = json_option(),
        as_csv: bool = csv_option(),
        limit: int = typer.Option(0, "--limit", help="Show at most this many (0 = all)."),
    ) -> None:
        """List stored frontier-orbital results, newest first (TSV when piped)."""
        from superatom.cli.common import open_read_store, stdout_is_terminal
        from superatom.db import query_results

        if limit < 0:
            raise fail(f"--limit {limit} is negative: give 0 (all) or a positive count")
        rows = query_results(
            open_read_store(db), formula=formula, system_class=system_class,
            campaign=campaign, elements=element or None, chemsys=chemsys,
            functional=functional, basis=basis, preset=preset, n_units=n_units,
            gap_min=gap_min, gap_max=gap_max, since=since, charge=charge,
        )
        if limit:
            rows = rows[:limit]
        full = as_json or as_csv or not stdout_is_terminal()
        shown, columns = display_rows(rows, full)
        emit_rows(shown, columns, as_json=as_json, as_csv=as_csv,
                  title=f"{len(rows)} stored result(s), energies in eV",
                  headers=HEADERS, keep=KEEP, drop_first=DROP_FIRST,
                  empty="no stored results match these filters")
