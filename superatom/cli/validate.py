"""``superatom validate``: compare the package's numbers with known chemistry.

Results go to the store (``--db``): each system's result is reused by input hash and each
finished item's row is kept in the store's rows file, so a run stopped halfway continues
where it stopped and a rerun prints finished rows without recomputing them.

Examples
--------
>>> from superatom.validation.suite import select
>>> [row["key"] for row in reference_rows(select("quick"))][:1]
['xtb-lindqvist-gap-order']
"""

from __future__ import annotations

from pathlib import Path

import typer

from superatom.cli.common import (
    console,
    db_option,
    emit_rows,
    err_console,
    handle_errors,
    print_json,
)
from superatom.errors import InputError

__all__ = ["reference_rows", "register", "validate_command"]

_REFERENCE_COLUMNS = ["key", "level", "compared", "reference", "unit", "source"]
_RESULT_COLUMNS = ["key", "computed", "reference_text", "unit", "status", "from", "compute_s",
                   "detail"]
_RESULT_HEADERS = {"key": "item", "reference_text": "reference", "status": "result",
                   "compute_s": "s"}


def reference_rows(refs) -> list[dict]:
    """One dict per reference: the listing of ``validate --list`` (``--json`` adds the
    method and the reason for the tolerance)."""
    from superatom.validation.suite import reference_text

    return [{"key": r.key, "level": r.level, "compared": r.title,
             "reference": reference_text(r), "unit": r.unit, "source": r.source,
             "method": r.method, "kind": r.kind, "value": r.value, "tolerance": r.tolerance,
             "why_tolerance": r.why_tolerance} for r in refs]


def _result_rows(outcomes) -> list[dict]:
    rows = []
    for outcome in outcomes:
        row = outcome.to_row()
        row["from"] = "stored" if outcome.stored else "computed"
        row["compute_s"] = None if row["compute_s"] is None else round(row["compute_s"], 1)
        rows.append(row)
    return rows


def _write_docs(path: Path, db: str | None) -> None:
    from superatom.validation.markdown import write_docs
    from superatom.validation.rows import ROWS_FILE, rows_path
    from superatom.validation.suite import stored_outcomes

    if not path.exists():
        raise InputError(f"no page at '{path}': give the validation page, e.g. "
                         "docs/validation.md")
    rows = stored_outcomes(path.with_name(ROWS_FILE), rows_path(db))
    record = write_docs(path, rows)
    console.print(f"wrote {path} ({len(rows)} measured rows) and {record}")


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
    db: str = db_option(),
    recompute: bool = typer.Option(False, "--recompute",
                                   help="derive every row again instead of printing stored "
                                   "rows (stored SCF results are still reused)"),
    write_docs: Path = typer.Option(None, "--write-docs",
                                    help="render the tables of this page (docs/validation.md) "
                                    "from the stored rows; computes nothing"),
    log: Path = typer.Option(None, "--log", "-l", help="log of every SCF cycle (default: "
                             "logs/validation.log next to the store)"),
) -> None:
    """Run the validation suite: computed vs reference with pass/fail and a parity plot."""
    from superatom.validation.suite import select

    refs = select(level, only)
    if list_items:
        emit_rows(reference_rows(refs), _REFERENCE_COLUMNS, as_json=as_json,
                  title="validation references", keep=("key",), drop_first=("source",))
        return
    if write_docs is not None:
        _write_docs(write_docs, db)
        return
    if any(r.level == "full" for r in refs) and not allow_cpu:
        from superatom.engine import resolve_device

        if resolve_device(device) != "gpu":
            raise InputError("the full level runs DFT on polyoxometalates, Au25 and Ti10Cu2: "
                             "run it on a GPU node, or pass --allow-cpu to wait many hours")
    _run(level, only, device, plot, as_json, db, recompute, log)


def _run(level, only, device, plot, as_json, db, recompute, log) -> None:
    import logging

    from superatom.cli.run import job_log, log_folder
    from superatom.db import open_store
    from superatom.db.store import require_writable
    from superatom.validation.plot import save_parity_plot
    from superatom.validation.rows import rows_path
    from superatom.validation.suite import run_validation

    require_writable(db)
    rows_file = rows_path(db)
    engine_log = logging.getLogger("superatom.engine")

    def progress(ref) -> None:
        err_console.print(f"running {ref.key} ...", style="dim")
        engine_log.info("validation item %s (%s)", ref.key, ref.method)

    log = log or log_folder(db) / "validation.log"
    with job_log(log):
        outcomes = run_validation(level, only, device=device, store=open_store(db),
                                  rows_file=rows_file, recompute=recompute, progress=progress)
    path = save_parity_plot(outcomes, plot)
    rows = _result_rows(outcomes)
    if as_json:
        print_json(rows)
    else:
        emit_rows(rows, _RESULT_COLUMNS, title="validation: computed vs reference",
                  headers=_RESULT_HEADERS, keep=("key", "status"), drop_first=("detail",))
    err_console.print(f"parity plot: {path}; rows: {rows_file}; log: {log}", soft_wrap=True,
                      highlight=False)
    bad = [o.ref.key for o in outcomes if o.status != "pass"]
    if bad:
        raise InputError(f"{len(bad)} of {len(outcomes)} validation items did not pass: "
                         f"{', '.join(bad)}")


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to ``app``."""
    app.command("validate", help="Compare computed numbers with known chemistry.")(
        validate_command)
