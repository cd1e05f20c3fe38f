"""``superatom screen CAMPAIGN.yaml`` and ``superatom report CAMPAIGN``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from superatom.cli.common import console, fail, handle_errors, print_json
from superatom.errors import InputError
from superatom.names import check_name, file_safe


def _plan_table(plan: list[dict]) -> Table:
    table = Table(title="campaign plan")
    for column in ("kind", "name", "tier", "formula", "n_atoms", "charge", "multiplicity",
                   "jobs"):
        table.add_column(column)
    for row in plan:
        table.add_row(*[str(row.get(c, "")) for c in ("kind", "name", "tier", "formula",
                                                       "n_atoms", "charge", "multiplicity",
                                                       "jobs")])
    return table


def _report_folder(out: Path | None, name: str) -> Path:
    """``--out`` or ``./<name>_report``; a file there is a one-line error."""
    folder = out if out is not None else Path(f"{file_safe(name)}_report")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"report folder {folder} is a file: give another --out")
    return folder


def register(app: typer.Typer) -> None:
    """Add ``screen`` and ``report`` to ``app``."""

    @app.command("screen")
    @handle_errors
    def screen(
        campaign_file: Path = typer.Argument(..., help="Campaign YAML file."),
        out: Path | None = typer.Option(None, "--out", "-o",
                                        help="Report folder (default: ./<name>_report)."),
        db: str | None = typer.Option(None, "--db", help="Store folder or mongodb:// URI."),
        force: bool = typer.Option(False, "--force", help="Recompute stored results."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan, run nothing."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ) -> None:
        """Build a campaign's jobflow graph, run it here into the store, write the report."""
        from superatom.campaign.flow import build_campaign_flow, run_prescreen
        from superatom.campaign.plan import plan_campaign
        from superatom.campaign.report import write_report
        from superatom.campaign.runner import flow_jobs, run_flow
        from superatom.campaign.spec import load_campaign, local_memory_gb
        from superatom.db import open_store
        from superatom.db.store import require_writable

        campaign = load_campaign(campaign_file)
        folder = _report_folder(out, campaign.name)
        if campaign.memory_cap_gb is None:
            campaign = campaign.model_copy(update={"memory_cap_gb": 0.8 * local_memory_gb()})
        if not dry_run:
            require_writable(db)
        store = open_store(db)
        resolved = plan_campaign(campaign)
        if campaign.prescreen is not None and not dry_run:  # phase 1: the xTB pre-screen
            run_prescreen(resolved, store, reuse=not force)
        elif dry_run:  # nothing runs, not even the xTB pre-screen
            resolved.prescreened = True
        flow, plan = build_campaign_flow(resolved, reuse=not force)
        if not as_json:
            console.print(_plan_table(plan))
        if dry_run:
            if as_json:
                print_json({"campaign": campaign.name, "plan": plan})
            return
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=console, disable=as_json) as progress:
            task = progress.add_task(f"campaign {campaign.name}", total=len(flow_jobs(flow)))

            def done(name: str, status: str) -> None:
                progress.update(task, advance=1, description=f"{name}: {status}")

            summary = run_flow(flow, store, on_job_done=done)
        report = write_report(store, campaign.name, folder)
        result = {"campaign": campaign.name, "completed": summary.completed,
                  "reused": summary.reused, "failed": summary.failed,
                  "skipped": summary.skipped, "report_files": report["files"], "plan": plan}
        if as_json:
            print_json(result)
        else:
            console.print(f"{summary.completed} computed, {summary.reused} reused, "
                          f"{len(summary.failed)} failed, {len(summary.skipped)} skipped")
            for name, reason in summary.failed:
                console.print(f"[red]failed[/red] {name}: {reason}", highlight=False)
            console.print(f"report: {Path(report['files'][-1]).parent}")
        if summary.failed:
            raise typer.Exit(2)

    @app.command("report")
    @handle_errors
    def report(
        campaign: str = typer.Argument(..., help="Campaign name or its YAML file."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Report folder."),
        db: str | None = typer.Option(None, "--db", help="Store folder or mongodb:// URI."),
    ) -> None:
        """Regenerate a campaign's report from the store alone."""
        from superatom.campaign.report import collect_campaign, write_report
        from superatom.db import open_store

        name = campaign
        if campaign.endswith((".yaml", ".yml")):
            from superatom.campaign.spec import load_campaign

            name = load_campaign(campaign).name
        folder = _report_folder(out, check_name(name, "campaign name"))
        store = open_store(db)
        if not collect_campaign(store, name)["systems"]:  # nothing written for no results
            raise fail(f"no stored results for campaign '{name}': run 'superatom screen' first")
        result = write_report(store, name, folder)
        for path in result["files"]:
            console.print(path)
