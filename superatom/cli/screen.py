"""``superatom screen CAMPAIGN.yaml`` and ``superatom report CAMPAIGN``."""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack, nullcontext
from datetime import datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from superatom.cli.common import (
    console,
    db_option,
    emit_rows,
    err_console,
    fail,
    handle_errors,
    json_option,
    print_json,
)
from superatom.errors import InputError
from superatom.names import check_name, file_safe

PLAN_COLUMNS = ["kind", "name", "tier", "formula", "n_atoms", "charge", "multiplicity", "jobs"]


def _print_plan(plan: list[dict]) -> None:
    """The campaign plan: a table on a terminal, tab-separated into a pipe."""
    from superatom.structures.notation import with_display_formula

    emit_rows([with_display_formula(row) for row in plan], PLAN_COLUMNS, title="campaign plan",
              headers={"n_atoms": "atoms", "multiplicity": "2S+1"}, keep=("name", "formula"))


def _report_folder(out: Path | None, name: str) -> Path:
    """``--out`` or ``./<name>_report``; a file there is a one-line error."""
    folder = out if out is not None else Path(f"{file_safe(name)}_report")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"report folder {folder} is a file: give another --out")
    return folder


class JobProgress:
    """What the campaign runner reports, shown as it happens.

    On a terminal a bar names the job running now; otherwise (output redirected) one plain
    line per job start and finish, so a log file shows progress while it grows. Every job's
    SCF cycles go to its own log file in ``logs``.
    """

    def __init__(self, progress: Progress | None, task, logs: Path, quiet: bool) -> None:
        self.progress, self.task, self.logs, self.quiet = progress, task, logs, quiet
        self.started: dict[str, float] = {}
        self.stack = ExitStack()

    def start(self, name: str, uuid: str) -> None:
        from superatom.cli.run import SCFLine, job_log

        self.stack.close()
        handlers = [SCFLine(f"running {name}", self)] if self.progress is not None else []
        self.stack.enter_context(job_log(self.logs / f"{uuid}.log", *handlers))
        self.started[name] = time.perf_counter()
        if self.progress is not None:
            self.progress.update(self.task, description=f"running {name}")
        elif not self.quiet:
            _line(f"start  {name}")

    def update(self, text: str) -> None:
        """Live SCF line of the running job, on the bar."""
        self.progress.update(self.task, description=text)

    def done(self, name: str, status: str) -> None:
        self.stack.close()
        wall = time.perf_counter() - self.started.get(name, time.perf_counter())
        if self.progress is not None:
            self.progress.update(self.task, advance=1, description=f"{name}: {status}")
        elif not self.quiet:
            _line(f"{status:9s} {name} ({wall:.1f} s)")


def _line(text: str) -> None:
    stamp = datetime.now().strftime("%H:%M:%S")
    sys.stdout.write(f"{stamp} {text}\n")
    sys.stdout.flush()


def _run_with_progress(flow, store, name: str, db: str | None, as_json: bool):
    from superatom.campaign.runner import flow_jobs, run_flow
    from superatom.cli.common import stdout_is_terminal
    from superatom.cli.run import log_folder

    live = not as_json and stdout_is_terminal()  # a bar, or plain lines (none with --json)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with (Progress(*columns, console=console) if live else nullcontext()) as progress:
        task = progress.add_task(f"campaign {name}", total=len(flow_jobs(flow))) if live else None
        watcher = JobProgress(progress, task, log_folder(db), quiet=as_json)
        with watcher.stack:
            return run_flow(flow, store, on_job_done=watcher.done, on_job_start=watcher.start)


def register(app: typer.Typer) -> None:
    """Add ``screen`` and ``report`` to ``app``."""

    @app.command("screen")
    @handle_errors
    def screen(
        campaign_file: Path = typer.Argument(..., help="Campaign YAML file."),
        out: Path | None = typer.Option(None, "--output", "-o", "--out",
                                        help="Report folder (default: ./<name>_report)."),
        db: str | None = db_option(),
        force: bool = typer.Option(False, "--force", help="Recompute stored results."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan, run nothing."),
        as_json: bool = json_option(),
    ) -> None:
        """Build a campaign's jobflow graph, run it here into the store, write the report."""
        from superatom.campaign.flow import build_campaign_flow, run_prescreen
        from superatom.campaign.plan import plan_campaign
        from superatom.campaign.report import write_report
        from superatom.campaign.spec import load_campaign, local_memory_gb
        from superatom.db import open_store
        from superatom.db.store import require_writable
        from superatom.engine import gpu_available

        campaign = load_campaign(campaign_file)
        folder = _report_folder(out, campaign.name)
        if campaign.memory_cap_gb is None:
            campaign = campaign.model_copy(update={"memory_cap_gb": 0.8 * local_memory_gb()})
        if not dry_run:
            require_writable(db)
        if campaign.worker_gpu is None:  # the jobs run here: plan for this machine's device
            campaign = campaign.model_copy(update={"worker_gpu": gpu_available()})
        store = open_store(db)
        resolved = plan_campaign(campaign)
        if campaign.prescreen is not None and not dry_run:  # phase 1: the xTB pre-screen
            run_prescreen(resolved, store, reuse=not force)
        elif dry_run:  # nothing runs, not even the xTB pre-screen
            resolved.prescreened = True
        flow, plan = build_campaign_flow(resolved, reuse=not force)
        if not as_json:
            _print_plan(plan)
        if dry_run:
            if as_json:
                print_json({"campaign": campaign.name, "plan": plan})
            return
        summary = _run_with_progress(flow, store, campaign.name, db, as_json)
        report = write_report(store, campaign.name, folder)
        result = {"campaign": campaign.name, "completed": summary.completed,
                  "reused": summary.reused, "failed": summary.failed,
                  "skipped": summary.skipped, "report_files": report["files"],
                  "warnings": report["warnings"], "plan": plan}
        if as_json:
            print_json(result)
        else:
            console.print(summary.counts(), highlight=False, soft_wrap=True)
            for name, reason in summary.failed:
                console.print(f"[red]failed[/red] {name}: {reason}", highlight=False)
            console.print(f"report: {Path(report['files'][-1]).parent}")
            for warning in report["warnings"]:
                err_console.print(f"warning: {warning}", highlight=False, markup=False)
        if summary.failed:
            raise typer.Exit(2)

    @app.command("report")
    @handle_errors
    def report(
        campaign: str = typer.Argument(..., help="Campaign name or its YAML file."),
        out: Path | None = typer.Option(None, "--output", "-o", "--out", help="Report folder."),
        db: str | None = db_option(),
    ) -> None:
        """Regenerate a campaign's report from the store alone."""
        from superatom.campaign.report import collect_campaign, write_report
        from superatom.cli.common import open_read_store

        name = campaign
        if campaign.endswith((".yaml", ".yml")):
            from superatom.campaign.spec import load_campaign

            name = load_campaign(campaign).name
        folder = _report_folder(out, check_name(name, "campaign name"))
        store = open_read_store(db)
        data = collect_campaign(store, name)
        if not data["systems"]:  # nothing written for no results
            raise fail(f"no stored results for campaign '{name}': run 'superatom screen' first")
        result = write_report(store, name, folder, data=data)
        files = [Path(f) for f in result["files"]]
        figures = sum(1 for f in files if f.suffix == ".png")
        folder = files[0].parent if files else folder
        console.print(f"{folder / 'report.html'}  {folder / 'summary.md'}  ({figures} figures "
                      "as PNG + SVG, CSV tables)", highlight=False, markup=False)
        for warning in result.get("warnings", []):
            err_console.print(f"warning: {warning}", highlight=False, markup=False)
