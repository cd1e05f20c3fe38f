"""``superatom run FILE``: one frontier-orbital job through jobflow into the store."""

from __future__ import annotations

import warnings
from pathlib import Path

import typer
from rich.table import Table

from superatom.cli.common import console, handle_errors, print_json

JSON_FIELDS = ("uuid", "name", "formula", "charge", "multiplicity", "method", "homo_ev",
               "lumo_ev", "gap_ev", "e_tot_ha", "converged", "device", "input_hash",
               "reused_from")


def run_frontier_job(
    molecule, preset: str, overrides: dict, db: str | None, force: bool, name: str | None
):
    """Run :class:`FrontierOrbitalMaker` through ``jobflow.run_locally`` into the store.

    Returns the stored :class:`FrontierOrbitalDoc` and the job uuid.
    """
    from jobflow import run_locally

    from superatom.calc_settings import load_preset
    from superatom.db import load_result, open_store
    from superatom.db.store import require_writable
    from superatom.workflows.frontier import FrontierOrbitalMaker

    load_preset(preset, **overrides)  # validate before any work
    require_writable(db)
    maker = FrontierOrbitalMaker(
        preset=preset, settings_overrides=overrides, reuse=not force,
        metadata={"name": name} if name else {},
    )
    job = maker.make(molecule)
    store = open_store(db)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_locally(job, store=store, log=False, raise_immediately=True)
    return load_result(job.uuid, store=store), job.uuid


MAX_CPU_HOURS = 48.0


def check_size(molecule, settings) -> str:
    """Refuse a job that would not fit this machine (memory) or run for days; returns the
    one-line estimate.

    Uses the cost model of :func:`superatom.campaign.resources.plan_resources`.
    """
    from superatom import engine
    from superatom.campaign.resources import GPU_SPEEDUP, plan_resources
    from superatom.campaign.spec import local_memory_gb
    from superatom.errors import InputError

    nao = len(engine.ao_layout(molecule, settings))
    memory = local_memory_gb()
    plan = plan_resources(nao=nao, n_atoms=len(molecule), available_memory_gb=memory)
    on_gpu = engine.resolve_device(settings.device) == "gpu"
    hours = plan.estimated_cpu_s / 3600 / (GPU_SPEEDUP if on_gpu else 1.0)
    estimate = (f"{len(molecule)} atoms, {nao} AOs: about {plan.memory_gb:.0f} GB and "
                f"{hours:.1f} h on {'GPU' if on_gpu else 'CPU'}")
    if plan.memory_gb > memory or (not on_gpu and hours > MAX_CPU_HOURS):
        raise InputError(f"{estimate}, this machine has {memory:.0f} GB: run it on a GPU or a "
                         "cluster ('superatom submit'), or pass --force-size to try anyway")
    return estimate


def summary_table(doc, uuid: str) -> Table:
    """Rich table of the main numbers of a frontier-orbital document."""
    table = Table(title=f"{doc.name}  [{doc.method}]", show_header=False)
    rows = [
        ("uuid", uuid),
        ("formula / charge / mult.", f"{doc.formula} / {doc.charge:+d} / {doc.multiplicity}"),
        ("HOMO (eV)", f"{doc.homo_ev:.4f}" if doc.homo_ev is not None else "-"),
        ("LUMO (eV)", f"{doc.lumo_ev:.4f}" if doc.lumo_ev is not None else "-"),
        ("gap (eV)", f"{doc.gap_ev:.4f}" if doc.gap_ev is not None else "-"),
        ("E_tot (Ha)", f"{doc.e_tot_ha:.8f}"),
        ("SCF", f"converged in {doc.scf_cycles} cycles ({doc.scf_attempts[-1]['solver']})"),
        ("device", f"{doc.device}: {doc.device_name}"),
        ("wall time (s)", f"{doc.timings.get('total_s', doc.timings['scf_s']):.2f}"),
    ]
    if doc.spin_square is not None:
        rows.insert(6, ("<S^2>", f"{doc.spin_square:.4f}"))
    if doc.reused_from:
        rows.append(("reused from", doc.reused_from))
    for key, value in rows:
        table.add_row(key, value)
    return table


def register(app: typer.Typer) -> None:
    """Add the ``run`` command to ``app``."""

    @app.command("run")
    @handle_errors
    def run(
        file: Path = typer.Argument(..., help="Geometry: any format ASE reads (extended XYZ "
                                    "header may carry charge= and multiplicity=)."),
        charge: int | None = typer.Option(None, "--charge", "-q", help="Total charge."),
        multiplicity: int | None = typer.Option(None, "--multiplicity", "-m",
                                                help="Spin multiplicity 2S+1."),
        preset: str = typer.Option("screening", "--preset", "-p",
                                   help="Settings preset: screening, production, gas, fast."),
        set_: list[str] = typer.Option(None, "--set", help="Override a setting: key=value."),
        name: str | None = typer.Option(None, "--name", help="Label stored with the result."),
        db: str | None = typer.Option(None, "--db", help="Store folder or mongodb:// URI."),
        force: bool = typer.Option(False, "--force", help="Recompute even if stored."),
        force_size: bool = typer.Option(False, "--force-size",
                                        help="Run even if the size estimate exceeds this "
                                        "machine."),
        allow_disconnected: bool = typer.Option(
            False, "--allow-disconnected",
            help="Accept parts more than 10 A apart (e.g. a dimer at infinite separation)."),
        as_json: bool = typer.Option(False, "--json", help="Print the main fields as JSON."),
    ) -> None:
        """Compute HOMO, LUMO, gap and frontier composition of one structure."""
        from superatom.calc_settings import load_preset, parse_overrides
        from superatom.engine.checks import ALLOW_DISCONNECTED
        from superatom.names import check_name
        from superatom.structures.io import read_molecule

        if name is not None:
            name = check_name(name, "--name")
        overrides = parse_overrides(set_)
        molecule = read_molecule(file, charge=charge, multiplicity=multiplicity)
        if allow_disconnected:
            molecule.properties[ALLOW_DISCONNECTED] = True
        if not force_size:
            check_size(molecule, load_preset(preset, **overrides))
        if as_json:
            doc, uuid = run_frontier_job(molecule, preset, overrides, db, force, name)
        else:
            with console.status(f"SCF of {molecule.composition.reduced_formula} "
                                f"({len(molecule)} atoms)..."):
                doc, uuid = run_frontier_job(molecule, preset, overrides, db, force, name)
        if as_json:
            data = doc.model_dump(include=set(JSON_FIELDS))
            data["uuid"] = uuid
            print_json(data)
        else:
            console.print(summary_table(doc, uuid))
