"""``superatom hpc init``, ``submit``, ``status`` and ``rerun``: campaigns on SLURM/PBS."""

from __future__ import annotations

from pathlib import Path

import typer

from superatom.cli.common import (
    console,
    csv_option,
    emit_rows,
    handle_errors,
    json_option,
    print_json,
    rows_table,
)

hpc_app = typer.Typer(help="Cluster set-up (jobflow-remote projects).", no_args_is_help=True)
STATE_COLUMNS = ["db_id", "name", "state", "worker", "process_id", "reason"]


def state_rows(rows: list[dict]) -> list[dict]:
    """Job states with the last line of the failure reason."""
    out = []
    for row in rows:
        reason = (row.get("remote_error") or row.get("error") or "").strip()
        out.append({**{c: row.get(c) for c in STATE_COLUMNS[:-1]},
                    "reason": reason.splitlines()[-1] if reason else ""})
    return out


def project_option() -> typer.Option:
    """``--project/-P``: a jobflow-remote project name."""
    return typer.Option(..., "--project", "-P", help="jobflow-remote project.")


def check_project(project: str) -> str:
    """``project`` unless it is blank (jobflow-remote would fall back to its default)."""
    from superatom.errors import InputError

    if not project.strip():
        raise InputError("-P is empty: give a jobflow-remote project name (see 'jf project "
                         "list')")
    return project


def register(app: typer.Typer) -> None:
    """Add ``hpc``, ``submit``, ``status`` and ``rerun`` to ``app``."""
    app.add_typer(hpc_app, name="hpc")

    @hpc_app.command("init")
    @handle_errors
    def init(
        name: str = typer.Argument("superatom", help="Project name."),
        scheduler: str = typer.Option("slurm", help="slurm or pbs."),
        gpu: bool = typer.Option(True, "--gpu/--no-gpu", help="GPU worker (--gres=gpu:1)."),
        output: Path | None = typer.Option(None, "--output", "-o",
                                           help="Write here instead of stdout."),
        install: bool = typer.Option(False, "--install",
                                     help="Install into jobflow-remote's projects folder."),
    ) -> None:
        """Write a starter jobflow-remote project file with a SLURM (or PBS) worker."""
        from superatom.errors import InputError
        from superatom.hpc.project import install_project, starter_project_yaml

        if scheduler not in ("slurm", "pbs"):
            raise InputError(f"unknown scheduler '{scheduler}': use slurm or pbs")
        text = starter_project_yaml(name, scheduler=scheduler, gpu=gpu)
        if install:
            console.print(f"installed {install_project(text)}")
        elif output:
            output.write_text(text)
            console.print(f"wrote {output}: edit work_dir, partition and pre_run, then "
                          f"'jf project check -p {name}'")
        else:
            typer.echo(text, nl=False)

    @app.command("submit")
    @handle_errors
    def submit(
        campaign_file: Path = typer.Argument(..., help="Campaign YAML file."),
        project: str = project_option(),
        worker: str | None = typer.Option(None, "--worker", "-w", help="Worker name."),
        wait: bool = typer.Option(False, "--wait",
                                  help="Drive the runner here until all jobs end "
                                       "(needed with the in-process mongomock queue)."),
        timeout: float = typer.Option(3600.0, help="--wait limit in seconds."),
        force: bool = typer.Option(False, "--force", help="Do not reuse stored results."),
        as_json: bool = json_option(),
    ) -> None:
        """Send a campaign's flows to a jobflow-remote project (SLURM/PBS queue)."""
        from superatom.campaign.spec import load_campaign
        from superatom.hpc.campaign import submit_campaign
        from superatom.hpc.submit import job_states, run_runner_until_done

        check_project(project)
        campaign = load_campaign(campaign_file)
        ids, _plan, flow = submit_campaign(campaign, project, worker, reuse=not force)
        rows = run_runner_until_done(project, timeout_s=timeout) if wait else job_states(
            project, flow_ids=[flow.uuid])
        if as_json:
            print_json({"campaign": campaign.name, "db_ids": ids, "jobs": rows})
            return
        console.print(f"submitted {len(ids)} job(s) of campaign '{campaign.name}' to "
                      f"project '{project}'")
        console.print(rows_table(state_rows(rows), STATE_COLUMNS, f"{len(rows)} job(s)"))
        if not wait:
            console.print(f"start the runner with 'jf -p {project} runner start' and follow "
                          f"with 'superatom status -P {project}'")

    @app.command("status")
    @handle_errors
    def status(
        project: str = project_option(),
        as_json: bool = json_option(),
        as_csv: bool = csv_option(),
    ) -> None:
        """Queued, running, finished and failed jobs of a project, with failure reasons."""
        from superatom.hpc.submit import job_states

        rows = job_states(check_project(project))
        if as_json:
            print_json(rows)
        else:
            emit_rows(state_rows(rows), STATE_COLUMNS, as_csv=as_csv,
                      title=f"{len(rows)} job(s)", empty=f"no jobs in project '{project}'")

    @app.command("rerun")
    @handle_errors
    def rerun(
        project: str = project_option(),
    ) -> None:
        """Requeue failed jobs; finished jobs are not recomputed."""
        from superatom.hpc.submit import rerun_failed

        ids = rerun_failed(check_project(project))
        console.print(f"requeued {len(ids)} job(s): {', '.join(map(str, ids)) or '-'}")
