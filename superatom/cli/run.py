"""``superatom run FILE``: one frontier-orbital job through jobflow into the store."""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Callable
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path

import typer
from rich.table import Table

from superatom.cli.common import (
    charge_option,
    console,
    db_option,
    err_console,
    handle_errors,
    json_option,
    multiplicity_option,
    preset_option,
    print_json,
    set_option,
)
from superatom.errors import InputError

JSON_FIELDS = ("uuid", "name", "formula", "charge", "multiplicity", "method", "homo_ev",
               "lumo_ev", "gap_ev", "e_tot_ha", "converged", "device", "input_hash",
               "reused_from")


def run_frontier_job(
    molecule, preset: str, overrides: dict, db: str | None, force: bool, name: str | None,
    on_start: Callable[[str], None] | None = None,
):
    """Run :class:`FrontierOrbitalMaker` through ``jobflow.run_locally`` into the store.

    ``on_start(job_uuid)`` is called once the job exists, before it runs. Returns the
    stored :class:`FrontierOrbitalDoc` and the job uuid.
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
    if on_start is not None:
        on_start(job.uuid)
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
    from superatom.campaign.resources import GPU_SPEEDUP, pcm_cached, plan_resources
    from superatom.campaign.spec import local_memory_gb

    nao = len(engine.ao_layout(molecule, settings))
    memory = local_memory_gb()
    on_gpu = engine.resolve_device(settings.device) == "gpu"
    # the device this machine will use, not the one a queue would be asked for
    plan = plan_resources(nao=nao, n_atoms=len(molecule), available_memory_gb=memory,
                          device="gpu" if on_gpu else "cpu", solvent=pcm_cached(settings))
    hours = plan.estimated_cpu_s / 3600 / (GPU_SPEEDUP if on_gpu else 1.0)
    on_disk = [] if on_gpu else (
        (["DF tensor"] if plan.df_storage == "disk" else [])
        + ([f"{plan.pcm_disk_gb:.0f} GB of PCM integrals"] if plan.pcm_disk_gb >= 0.5 else []))
    storage = f" ({' and '.join(on_disk)} on disk)" if on_disk else ""
    estimate = (f"{len(molecule)} atoms, {nao} AOs: about {plan.memory_gb:.0f} GB{storage} and "
                f"{hours:.1f} h on {'GPU' if on_gpu else 'CPU'}")
    # on the CPU the plan never asks for more than the machine has: what does not fit (PCM
    # integrals, the DF tensor) is recomputed or streamed from disk, so only time can refuse
    too_big = plan.memory_gb > memory if on_gpu else hours > MAX_CPU_HOURS
    if too_big:
        raise InputError(f"{estimate}, this machine has {memory:.0f} GB: run it on a GPU or a "
                         "cluster ('superatom submit'), or pass --force-size to try anyway")
    return estimate


def log_folder(db: str | None) -> Path:
    """Per-job log files live in ``logs/`` next to a folder store, else the user log dir."""
    from platformdirs import user_log_dir

    from superatom.db.store import is_mongo_uri, store_location

    where = store_location(db)
    if is_mongo_uri(where):
        return Path(user_log_dir("superatom"))
    return Path(where).expanduser().resolve() / "logs"


class SCFLine(logging.Handler):
    """Logging handler that turns the engine's per-cycle records into a live line
    (``status``) and, when ``verbose``, one printed line per cycle."""

    def __init__(self, label: str, status=None, verbose: bool = False) -> None:
        super().__init__(logging.INFO)
        self.label, self.status, self.verbose = label, status, verbose

    def emit(self, record: logging.LogRecord) -> None:
        cycle = getattr(record, "scf_cycle", None)
        if cycle is None:
            return
        text = f"{self.label}: SCF cycle {cycle[0]:3d}  E = {cycle[1]:.8f} Ha  " \
               f"dE = {cycle[2]:+.2e}"
        if self.status is not None:
            self.status.update(text)
        if self.verbose:
            console.print(text, highlight=False, markup=False)


class LogFile(logging.FileHandler):
    """A job's log file whose write failures (a full disk, ``/dev/full``) are kept in
    ``failed`` instead of printing logging's traceback; the job goes on."""

    failed: OSError | None = None

    def handleError(self, record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if self.failed is None and isinstance(error, OSError):
            self.failed = error
        elif not isinstance(error, OSError):
            super().handleError(record)

    def close(self) -> None:
        try:
            super().close()
        except OSError as error:  # the last flush of a full disk
            self.failed = self.failed or error


def check_log_path(log: Path, inputs: list[Path], db: str | None) -> None:
    """Refuse a ``--log`` that is an input file, a folder, or a file of the store (only its
    ``logs/`` folder is for logs): appending to it would corrupt it."""
    from superatom.db.store import is_mongo_uri, store_location

    target = log.expanduser().resolve()
    if target.is_dir():
        raise InputError(f"--log {log} is a folder: give a file name")
    for path in inputs:
        if path.exists() and target == path.expanduser().resolve():
            raise InputError(f"--log {log} is the input file: give another log file")
    where = store_location(db)
    if not is_mongo_uri(where):
        store = Path(where).expanduser().resolve()
        if target.is_relative_to(store) and not target.is_relative_to(store / "logs"):
            raise InputError(f"--log {log} is inside the store {store}: give a file outside "
                             "it (or leave --log out for logs/ next to the results)")


@contextmanager
def job_log(path: Path, *handlers: logging.Handler):
    """Send the engine's SCF records to ``path`` (and ``handlers``) while the block runs;
    a log that cannot be written is one warning line, the job still runs and is stored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = LogFile(path)
    except OSError as error:
        raise InputError(f"cannot write the log file {path} ({error.strerror or error}): "
                         "give another --log or free space") from None
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger = logging.getLogger("superatom.engine")
    level = logger.level
    logger.setLevel(logging.INFO)
    for handler in (file_handler, *handlers):
        logger.addHandler(handler)
    failing = False
    try:
        yield file_handler
    except BaseException:
        failing = True  # the error line says what went wrong; no warning before it
        raise
    finally:
        for handler in (file_handler, *handlers):
            logger.removeHandler(handler)
        logger.setLevel(level)
        file_handler.close()
        if file_handler.failed is not None and not failing:
            err_console.print(f"warning: the log file {path} could not be written "
                              f"({file_handler.failed.strerror or file_handler.failed})",
                              markup=False, highlight=False, soft_wrap=True)


def summary_table(doc, uuid: str) -> Table:
    """Rich table of the main numbers of a frontier-orbital document."""
    from superatom.structures.notation import display_formula

    table = Table(title=f"{doc.name}  [{doc.method}]", show_header=False)
    rows = [
        ("uuid", uuid),
        ("formula / charge / mult.",
         f"{display_formula(doc.formula, doc.charge)} / {doc.charge:+d} / {doc.multiplicity}"),
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
        charge: int | None = charge_option(),
        multiplicity: int | None = multiplicity_option(),
        preset: str = preset_option(),
        set_: list[str] = set_option(),
        name: str | None = typer.Option(None, "--name", help="Label stored with the result."),
        db: str | None = db_option(),
        force: bool = typer.Option(False, "--force", help="Recompute even if stored."),
        force_size: bool = typer.Option(False, "--force-size",
                                        help="Run even if the size estimate exceeds this "
                                        "machine."),
        allow_disconnected: bool = typer.Option(
            False, "--allow-disconnected",
            help="Accept parts more than 10 A apart (e.g. a dimer at infinite separation)."),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="Print every SCF cycle."),
        log: Path | None = typer.Option(
            None, "--log", "-l", help="Log file of this job (default: logs/ next to the "
            "store)."),
        as_json: bool = json_option(),
    ) -> None:
        """Compute HOMO, LUMO, gap and frontier composition of one structure.

        A terminal shows the running SCF (cycle, energy, change) on a live line; every cycle
        goes to the job's log file.
        """
        from superatom.calc_settings import load_preset, parse_overrides
        from superatom.cli.common import stdout_is_terminal
        from superatom.engine.checks import ALLOW_DISCONNECTED
        from superatom.names import check_name
        from superatom.structures.io import read_molecule

        if name is not None:
            name = check_name(name, "--name")
        if log is not None:
            check_log_path(log, [file], db)
        overrides = parse_overrides(set_)
        molecule = read_molecule(file, charge=charge, multiplicity=multiplicity)
        if allow_disconnected:
            molecule.properties[ALLOW_DISCONNECTED] = True
        if not force_size:
            check_size(molecule, load_preset(preset, **overrides))
        label = f"{molecule.composition.reduced_formula} ({len(molecule)} atoms)"
        live = not as_json and stdout_is_terminal()
        status = console.status(f"{label}: setting up") if live else nullcontext()
        paths: list[Path] = []
        engine_log = logging.getLogger("superatom.engine")
        with status as line, ExitStack() as stack:
            handler = SCFLine(label, line, verbose and not as_json)

            def start(uuid: str) -> None:
                paths.append(log or log_folder(db) / f"{uuid}.log")
                stack.enter_context(job_log(paths[0], handler))
                engine_log.info("job %s: %s, preset %s %s", uuid, label, preset,
                                overrides or "")

            doc, uuid = run_frontier_job(molecule, preset, overrides, db, force, name,
                                         on_start=start)
            engine_log.info("done: E = %.10f Ha, gap = %s eV%s", doc.e_tot_ha, doc.gap_ev,
                            f", reused from {doc.reused_from}" if doc.reused_from else "")
        if as_json:
            data = doc.model_dump(include=set(JSON_FIELDS))
            data["uuid"] = uuid
            data["log"] = str(paths[0]) if paths else None
            print_json(data)
        else:
            console.print(summary_table(doc, uuid))
            if paths:
                console.print(f"log: {paths[0]}", highlight=False, markup=False)
