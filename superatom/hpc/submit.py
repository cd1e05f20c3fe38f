"""Submit jobflow Flows to a jobflow-remote project and follow them.

How the pieces fit
------------------
* :func:`submit_flow` only writes the jobs into the project's *queue store*
  (MongoDB, or the in-process mongomock); nothing runs yet.
* The jobflow-remote **Runner** moves each job along READY -> CHECKED_OUT ->
  UPLOADED (``jfremote_in.json`` written to ``<work_dir>/<uuid-path>``) -> SUBMITTED
  (``sbatch submit.sh``; the SLURM id is stored as ``remote.process_id``) ->
  RUNNING -> DOWNLOADED (``squeue`` no longer lists it) -> COMPLETED/FAILED (reads
  ``jfremote_out.json`` and ``remote_job_data.json`` and writes the outputs to the
  job store).  In production it is the ``jf -p NAME runner start`` daemon;
  :func:`run_runner_until_done` drives the same Runner in this process.
* The batch job runs ``jf -fe execution run <run_dir>``: it reads the job from the
  JSON file and writes its output to files, so compute nodes never need the
  database -- which is why an in-process mongomock queue works with real SLURM.

Examples
--------
>>> from jobflow import Flow
>>> from superatom.hpc.project import make_project
>>> from superatom.hpc.selftest import add
>>> from superatom.hpc.submit import submit_flow, run_runner_until_done, job_states
>>> project = make_project("demo", "/tmp/demo-runs", partition="debug", poll_s=1)
>>> j1 = add(1, 2); j2 = add(j1.output, 4)
>>> ids = submit_flow(Flow([j1, j2]), project)          # doctest: +SKIP
>>> run_runner_until_done(project, timeout_s=120)        # doctest: +SKIP
>>> [s["state"] for s in job_states(project)]            # doctest: +SKIP
['COMPLETED', 'COMPLETED']
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from jobflow_remote.config.base import Project
from jobflow_remote.jobs.jobcontroller import JobController
from jobflow_remote.jobs.state import JobState

from superatom.hpc.project import install_project, script_value, use_projects_folder
from superatom.names import batch_safe

if TYPE_CHECKING:
    import jobflow
    from jobflow_remote.jobs.runner import Runner
    from qtoolkit.core.data_objects import QResources

logger = logging.getLogger(__name__)

__all__ = [
    "ACTIVE_STATES",
    "ensure_queue_initialized",
    "get_job_controller",
    "get_output",
    "job_states",
    "make_runner",
    "rerun_failed",
    "resolve_project",
    "run_runner_until_done",
    "submit_flow",
]

ProjectLike = Project | str
ResourcesFor = Callable[["jobflow.Job"], "dict | QResources | None"] | Mapping[str, Any]

#: states in which the Runner still has something to do
ACTIVE_STATES = (
    JobState.READY,
    JobState.CHECKED_OUT,
    JobState.UPLOADED,
    JobState.SUBMITTED,
    JobState.RUNNING,
    JobState.RUN_FINISHED,
    JobState.DOWNLOADED,
    JobState.BATCH_SUBMITTED,
    JobState.BATCH_RUNNING,
)
_ADVANCE = [
    JobState.CHECKED_OUT.value,
    JobState.RUN_FINISHED.value,
    JobState.DOWNLOADED.value,
    JobState.UPLOADED.value,
]


def resolve_project(project: ProjectLike) -> Project:
    """Project object from an object or a name in jobflow-remote's projects folder."""
    if isinstance(project, Project):
        return project
    from jobflow_remote import ConfigManager

    return ConfigManager().get_project(project)


def get_job_controller(project: ProjectLike) -> JobController:
    """A ``JobController`` (queue + job store access) for ``project``."""
    return JobController.from_project(resolve_project(project))


def ensure_queue_initialized(project: ProjectLike) -> bool:
    """Initialise an empty queue database (``jf admin reset``) if never done.

    Returns True if it initialised the database.  Never touches a database that
    already holds the job-id counter.
    """
    jc = get_job_controller(project)
    try:
        if jc.auxiliary.find_one({"next_id": {"$exists": True}}) is not None:
            return False
        return bool(jc.reset(reset_output=False, max_limit=0))
    finally:
        jc.close()


def _merged(res: Any, defaults: dict | None) -> Any:
    """Dict resources extend the worker defaults (jobflow-remote would replace them); text
    values, which become batch-script lines, must be single printable lines."""
    if isinstance(res, Mapping):
        merged = {**(defaults or {}), **res}
        for key, value in merged.items():
            if isinstance(value, str):
                script_value(value, key)
        return merged
    return res


def _apply_job_resources(
    flow: jobflow.Flow | jobflow.Job, resources_for_job: ResourcesFor, defaults: dict | None
) -> None:
    from jobflow import Flow
    from jobflow_remote.config.jobconfig import set_run_config

    jobs = [j for j, _ in flow.iterflow()] if isinstance(flow, Flow) else [flow]
    for job in jobs:
        if isinstance(resources_for_job, Mapping):
            res = resources_for_job.get(job.name)
        else:
            res = resources_for_job(job)
        if res is not None:
            set_run_config(job, resources=_merged(res, defaults))


def submit_flow(
    flow: jobflow.Flow | jobflow.Job,
    project: ProjectLike,
    worker: str | None = None,
    resources_for_job: ResourcesFor | None = None,
    *,
    resources: dict | QResources | None = None,
    exec_config: str | None = None,
    priority: int = 0,
) -> list[str]:
    """Add ``flow`` to the queue of ``project``; return the db_ids of its jobs.

    Parameters
    ----------
    flow
        A jobflow Flow or Job.  Job functions must be importable on the worker.
    project
        Project object or name of a project in the jobflow-remote projects folder.
    worker
        Worker name; default the first worker of the project.
    resources_for_job
        Per-job scheduler resources: a callable ``job -> dict | QResources | None``
        or a mapping ``job name -> resources``.  Dict keys are the qtoolkit template
        variables (see :func:`superatom.hpc.project.scheduler_resources`) and are
        merged over the worker's default ``resources``; a ``QResources`` replaces
        them (that is jobflow-remote's own rule for any per-job resources).
    resources
        Resources for every job without its own (dicts merged over the worker's).
    exec_config
        Name of an ``exec_config`` entry of the project.
    priority
        Queue priority.

    Examples
    --------
    >>> submit_flow(flow, "mycluster",                                 # doctest: +SKIP
    ...             resources_for_job=lambda job: {"cpus_per_task": 4})
    ['1', '2']
    """
    from jobflow.core.flow import get_flow
    from jobflow_remote.config.base import ConfigError
    from jobflow_remote.remote.data import check_additional_stores

    proj = resolve_project(project)
    if worker is None:
        if not proj.workers:
            raise ConfigError(f"project {proj.name} has no workers")
        worker = next(iter(proj.workers))
    elif worker not in proj.workers:
        raise ConfigError(f"no worker {worker!r} in project {proj.name}")
    if resources_for_job is not None:
        _apply_job_resources(flow, resources_for_job, proj.workers[worker].resources)
    flow = get_flow(flow)
    jobstore = proj.get_jobstore()
    for job, _ in flow.iterflow():
        job.name = batch_safe(job.name)  # it becomes the scheduler's job-name line
        missing = check_additional_stores(job, jobstore)
        if missing:
            raise ConfigError(f"additional stores {missing!r} not configured in {proj.name}")
    ensure_queue_initialized(proj)
    jc = get_job_controller(proj)
    try:
        return jc.add_flow(
            flow=flow,
            worker=worker,
            exec_config=exec_config,
            resources=_merged(resources, proj.workers[worker].resources),
            priority=priority,
        )
    finally:
        jc.close()


@contextlib.contextmanager
def _keep_logging_state() -> Iterator[None]:
    """The Runner's dictConfig disables every other logger: undo that."""
    manager = logging.Logger.manager
    disabled = {
        name: lg.disabled
        for name, lg in manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    try:
        yield
    finally:
        for name, was in disabled.items():
            lg = manager.loggerDict.get(name)
            if isinstance(lg, logging.Logger) and not name.startswith("jobflow_remote"):
                lg.disabled = was


def make_runner(project: ProjectLike, console_level: int = logging.WARNING) -> Runner:
    """A jobflow-remote ``Runner`` for a Project object (or project name).

    jobflow-remote's Runner loads its project by name from the projects folder; a
    Project object is written to a temporary folder for that.  Runner messages go
    to ``<project.log_dir>/runner.log``; the console only gets ``console_level``.
    """
    from jobflow_remote.jobs.runner import Runner

    with _keep_logging_state():
        if isinstance(project, Project):
            with (
                tempfile.TemporaryDirectory(prefix="sa-jfr-") as folder,
                use_projects_folder(folder),
            ):
                install_project(project, folder)
                runner = Runner(project_name=project.name)
        else:
            runner = Runner(project_name=project)
    for handler in logging.getLogger("jobflow_remote").handlers:
        if type(handler) is logging.StreamHandler:
            handler.setLevel(console_level)
    return runner


def run_runner_until_done(
    project: ProjectLike,
    timeout_s: float = 600.0,
    poll_s: float = 0.5,
    runner: Runner | None = None,
    raise_on_timeout: bool = True,
) -> list[dict]:
    """Drive the Runner in this process until no job is in an active state.

    Each pass checks out READY jobs, polls the scheduler (``squeue``) and advances
    every job one step (upload, submit, collect).  Jobs left WAITING behind a
    failed parent, FAILED, REMOTE_ERROR, PAUSED or STOPPED end the wait.

    Parameters
    ----------
    project
        Project object or name.
    timeout_s
        Give up after this many seconds.
    poll_s
        Sleep between passes.
    runner
        Reuse a Runner from :func:`make_runner`.
    raise_on_timeout
        Raise ``TimeoutError`` (else just return) when time is up.

    Returns
    -------
    list of dict
        :func:`job_states` at the end.
    """
    own_runner = runner is None
    runner = runner or make_runner(project)
    jc = runner.job_controller
    query = {"state": {"$in": [s.value for s in ACTIVE_STATES]}}
    deadline = time.monotonic() + timeout_s
    last_error = ""
    try:
        while True:
            for step in (
                runner.checkout,
                runner.check_run_status,
                lambda: runner.advance_state(_ADVANCE),
            ):
                try:  # like the Runner's own scheduler: log, go on, retry next pass
                    step()
                except Exception as exc:
                    last_error = f"{type(exc).__name__}: {exc}"
                    logger.exception("runner step failed")
            if jc.count_jobs(query=query) == 0:
                break
            if time.monotonic() > deadline:
                if raise_on_timeout:
                    active = [(s["db_id"], s["state"]) for s in _states(jc) if s["active"]]
                    raise TimeoutError(
                        f"jobs still active after {timeout_s:.0f} s: {active}"
                        + (f"; last runner error: {last_error}" if last_error else "")
                    )
                break
            time.sleep(poll_s)
        return _states(jc)
    finally:
        if own_runner:
            runner.cleanup()


def _states(jc: JobController, flow_ids: Iterable[str] | None = None) -> list[dict]:
    infos = jc.get_jobs_info(flow_ids=list(flow_ids) if flow_ids else None, sort=[("db_id", 1)])
    rows = []
    for info in infos:
        rows.append(
            {
                "db_id": info.db_id,
                "uuid": info.uuid,
                "index": info.index,
                "name": info.name,
                "state": info.state.value,
                "active": info.state in ACTIVE_STATES,
                "worker": info.worker,
                "process_id": info.remote.process_id,  # SLURM/PBS job id
                "run_dir": info.run_dir,
                "error": info.error,
                "remote_error": info.remote.error,
                "step_attempts": info.remote.step_attempts,
                "start_time": info.start_time,
                "end_time": info.end_time,
            }
        )
    rows.sort(key=lambda r: (len(str(r["db_id"])), str(r["db_id"])))
    return rows


def job_states(project: ProjectLike, flow_ids: Iterable[str] | None = None) -> list[dict]:
    """One dict per job: db_id, uuid, name, state, worker, process_id (the SLURM job
    id), run_dir, error (traceback of a FAILED job), remote_error (REMOTE_ERROR
    reason), step_attempts, start/end times, active.

    Examples
    --------
    >>> for row in job_states("mycluster"):                           # doctest: +SKIP
    ...     print(row["db_id"], row["name"], row["state"], row["process_id"])
    1 add COMPLETED 17
    """
    jc = get_job_controller(project)
    try:
        return _states(jc, flow_ids)
    finally:
        jc.close()


def get_output(project: ProjectLike, db_id: str | None = None, uuid: str | None = None) -> Any:
    """Output of a completed job from the project's job store."""
    jc = get_job_controller(project)
    try:
        if uuid is None:
            info = jc.get_job_info(db_id=str(db_id))
            if info is None:
                raise KeyError(f"no job with db_id {db_id}")
            uuid = info.uuid
        store = jc.jobstore
        store.connect()
        return store.get_output(uuid, load=True)
    finally:
        jc.close()


def rerun_failed(project: ProjectLike, retry_remote_errors: bool = True) -> list[str]:
    """Put FAILED jobs (and, by default, REMOTE_ERROR ones) back in the queue.

    FAILED jobs are rerun from scratch (``jf job rerun``: their run folder is
    deleted, children are reset); REMOTE_ERROR jobs (submission/transfer problems)
    are retried from the step that failed (``jf job retry``).  Returns the db_ids.
    """
    jc = get_job_controller(project)
    try:
        ids = list(jc.rerun_jobs(states=JobState.FAILED, raise_on_error=False))
        if retry_remote_errors:
            ids += list(jc.retry_jobs(states=JobState.REMOTE_ERROR, raise_on_error=False))
        return [str(i) for i in ids]
    finally:
        jc.close()
