"""Build jobflow-remote projects with a SLURM (or PBS) worker.

A jobflow-remote *project* names the workers (where and how jobs run: scheduler,
work folder, default resources, pre-run shell lines), the queue store (MongoDB
collection holding job states) and the job store (job outputs).  This module builds
them as :class:`jobflow_remote.config.base.Project` objects, installs them in the
jobflow-remote projects folder, and writes the documented starter file behind
``superatom hpc init``.

Stores
------
``mongo_uri`` given
    real MongoDB (``maggma.stores.MongoStore`` with ``uri``) for queue and outputs;
    this is what ``jf runner start`` daemons need.
no URI
    :class:`~superatom.hpc.mockstore.SharedMongomockStore`: in-memory, one per
    project name, visible only inside the current Python process (tests, and the
    "run everything from one process" mode driven by
    :func:`superatom.hpc.submit.run_runner_until_done`).

Examples
--------
>>> from superatom.hpc.project import make_project, project_to_yaml
>>> p = make_project("demo", "/tmp/demo-runs", partition="debug", cpus=2,
...                  mem_gb=4, walltime=600)
>>> p.workers["slurm"].resources["cpus_per_task"]
2
>>> "scheduler_type: slurm" in project_to_yaml(p)
True
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from jobflow import JobStore
from jobflow_remote.config.base import Project

from superatom.errors import InputError
from superatom.hpc.mockstore import SharedMongomockStore
from superatom.names import batch_safe, check_name

__all__ = [
    "default_pre_run",
    "format_walltime",
    "install_project",
    "make_project",
    "project_to_yaml",
    "scheduler_resources",
    "starter_project_yaml",
    "store_configs",
    "use_projects_folder",
]

SCHEDULERS = ("slurm", "pbs", "shell")


def format_walltime(walltime: int | float | str | None) -> str | None:
    """Return ``HH:MM:SS`` for seconds; strings are passed through.

    Examples
    --------
    >>> format_walltime(5400), format_walltime("2-00:00:00"), format_walltime(None)
    ('1:30:00', '2-00:00:00', None)
    """
    if walltime is None or isinstance(walltime, str):
        return walltime
    total = int(walltime)
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def default_pre_run(scheduler: str = "slurm") -> str:
    """Shell lines run in the batch script before the job: activate this Python.

    Examples
    --------
    >>> "OMP_NUM_THREADS" in default_pre_run("slurm")
    True
    """
    lines = []
    if sys.prefix != sys.base_prefix:  # running inside a virtualenv
        lines.append(f"source {Path(sys.prefix) / 'bin' / 'activate'}")
    else:
        lines.append(f"export PATH={Path(sys.executable).parent}:$PATH")
    if scheduler == "slurm":
        lines.append("export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}")
    elif scheduler == "pbs":
        lines.append("export OMP_NUM_THREADS=${NCPUS:-1}")
        lines.append('cd "${PBS_O_WORKDIR:-.}"')
    return "\n".join(lines)


def scheduler_resources(
    scheduler: str = "slurm",
    *,
    partition: str | None = None,
    cpus: int = 1,
    mem_gb: float | None = None,
    walltime: int | str | None = None,
    gpus: int = 0,
    account: str | None = None,
) -> dict[str, Any]:
    """Worker ``resources`` dict: keys of qtoolkit's SLURM/PBS header templates.

    Parameters
    ----------
    scheduler
        ``"slurm"``, ``"pbs"`` or ``"shell"`` (no resources).
    partition
        SLURM partition / PBS queue.
    cpus
        CPUs for the single task (``--cpus-per-task`` / ``ncpus``).
    mem_gb
        Memory per job in GB (``--mem`` / ``mem``).
    walltime
        Seconds or a scheduler time string.
    gpus
        GPUs per job (``--gres=gpu:N`` / ``ngpus``).
    account
        Accounting project.

    Examples
    --------
    >>> scheduler_resources("slurm", partition="gpu", cpus=8, mem_gb=32, gpus=1)["gres"]
    'gpu:1'
    >>> scheduler_resources("pbs", partition="gpuq", cpus=8, mem_gb=32, gpus=1)["select"]
    'select=1:ncpus=8:mem=32gb:ngpus=1'
    """
    if scheduler == "shell":
        return {}
    walltime = format_walltime(walltime)
    if scheduler == "slurm":
        res: dict[str, Any] = {"nodes": 1, "ntasks": 1, "cpus_per_task": int(cpus)}
        if partition:
            res["partition"] = partition
        if mem_gb:
            res["mem"] = f"{round(mem_gb * 1024)}M"
        if walltime:
            res["time"] = walltime
        if gpus:
            res["gres"] = f"gpu:{int(gpus)}"
        if account:
            res["account"] = account
        return res
    if scheduler == "pbs":
        select = f"select=1:ncpus={int(cpus)}"
        if mem_gb:
            select += f":mem={round(mem_gb)}gb"
        if gpus:
            select += f":ngpus={int(gpus)}"
        res = {"select": select}
        if partition:
            res["queue"] = partition
        if walltime:
            res["walltime"] = walltime
        if account:
            res["account"] = account
        return res
    raise ValueError(f"unknown scheduler {scheduler!r}; use one of {SCHEDULERS}")


def script_value(value: str, what: str) -> str:
    """``value`` if it can sit on one batch-script or YAML line, else a one-line InputError.

    Examples
    --------
    >>> script_value("gpu-short", "partition")
    'gpu-short'
    """
    if not value.isprintable():
        raise InputError(f"{what} {value!r} contains a control character (a newline would "
                         "start a new script line): use printable text")
    return value


def project_name(name: str) -> str:
    """A checked project name: it names files, a database and ``jf -p NAME`` commands.

    Examples
    --------
    >>> project_name("mycluster")
    'mycluster'
    """
    check_name(name, "project name")
    if batch_safe(name) != name:
        raise InputError(f"project name {name!r} may hold only letters, digits and . _ + = , -")
    return name


def store_configs(
    name: str, mongo_uri: str | None = None, database: str | None = None
) -> tuple[dict, dict]:
    """Queue-store and job-store config dicts for a project.

    Parameters
    ----------
    name
        Project name (default database name, and the mongomock server name).
    mongo_uri
        ``mongodb://...`` URI; None selects the in-process shared mongomock.
    database
        Database name; default ``superatom_<name>``.

    Returns
    -------
    tuple of dict
        ``(queue_store, jobstore)`` in the forms accepted by ``Project``.

    Examples
    --------
    >>> q, js = store_configs("demo", "mongodb://localhost:27017")
    >>> q["type"], q["collection_name"], js["docs_store"]["collection_name"]
    ('MongoStore', 'jobs', 'outputs')
    """
    database = database or f"superatom_{name}".replace("-", "_").replace(".", "_")
    if mongo_uri:
        common = {"type": "MongoStore", "database": database, "uri": mongo_uri}
        queue = {**common, "collection_name": "jobs"}
        jobstore = {"docs_store": {**common, "collection_name": "outputs"}}
        return queue, jobstore
    queue = SharedMongomockStore(database, "jobs", server=name).as_dict()
    docs = SharedMongomockStore(database, "outputs", server=name)
    return queue, JobStore(docs_store=docs).as_dict()


def make_project(
    name: str,
    work_dir: str | Path,
    scheduler: str = "slurm",
    partition: str | None = None,
    gpu: bool = False,
    cpus: int = 1,
    mem_gb: float | None = None,
    walltime: int | str | None = 3600,
    pre_run: str | None = None,
    queue_store: dict | None = None,
    jobstore: dict | None = None,
    *,
    mongo_uri: str | None = None,
    database: str | None = None,
    worker_name: str | None = None,
    base_dir: str | Path | None = None,
    poll_s: float | None = None,
    max_jobs: int | None = None,
    account: str | None = None,
) -> Project:
    """Build a jobflow-remote Project with one *local* worker driving a scheduler.

    A ``local`` worker means the Runner runs on the machine that can call
    ``sbatch``/``qsub`` (login node, or the test machine) and the work folders are
    on a file system shared with the compute nodes.

    Parameters
    ----------
    name
        Project name.
    work_dir
        Absolute folder where each job gets its run folder (shared file system).
    scheduler
        ``"slurm"``, ``"pbs"`` or ``"shell"`` (run directly, no queue).
    partition
        Partition (SLURM) or queue (PBS).
    gpu
        Request one GPU per job (``--gres=gpu:1`` / ``ngpus=1``).
    cpus, mem_gb, walltime
        Default per-job resources (override per job with
        :func:`superatom.hpc.submit.submit_flow`'s ``resources_for_job``).
    pre_run
        Shell lines before the job; default :func:`default_pre_run`.
    queue_store, jobstore
        Explicit store configs; default from :func:`store_configs`.
    mongo_uri, database
        Real MongoDB for the default stores (else shared in-process mongomock).
    worker_name
        Worker key; default the scheduler name.
    base_dir
        Folder for the Runner's logs/tmp/daemon files; default jobflow-remote's
        ``<projects folder>/<name>``.
    poll_s
        If set, every Runner delay (checkout, queue polling, state advance) and the
        retry back-off are set to this many seconds (tests use 1); default keeps
        jobflow-remote's 30 s.
    max_jobs
        Maximum number of jobs queued at once on the worker.
    account
        Accounting project passed to the scheduler.

    Returns
    -------
    jobflow_remote.config.base.Project

    Examples
    --------
    >>> p = make_project("t", "/tmp/t-runs", gpu=True, partition="gpu", poll_s=1)
    >>> p.workers["slurm"].resources["gres"], p.runner.delay_checkout
    ('gpu:1', 1.0)
    """
    if scheduler not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {scheduler!r}; use one of {SCHEDULERS}")
    project_name(name)
    for what, value in (("partition", partition), ("account", account)):
        script_value(str(value or ""), what)
    work_dir = Path(work_dir).expanduser().resolve()
    default_queue, default_jobstore = store_configs(name, mongo_uri, database)
    worker = {
        "type": "local",
        "scheduler_type": scheduler,
        "work_dir": str(work_dir),
        "resources": scheduler_resources(
            scheduler,
            partition=partition,
            cpus=cpus,
            mem_gb=mem_gb,
            walltime=walltime,
            gpus=1 if gpu else 0,
            account=account,
        )
        or None,
        "pre_run": default_pre_run(scheduler) if pre_run is None else pre_run,
        "max_jobs": max_jobs,
    }
    data: dict[str, Any] = {
        "name": name,
        "base_dir": str(Path(base_dir).resolve()) if base_dir else None,
        "workers": {worker_name or scheduler: worker},
        "queue": {"store": queue_store or default_queue},
        "jobstore": jobstore or default_jobstore,
    }
    if poll_s is not None:
        data["runner"] = {
            "delay_checkout": poll_s,
            "delay_check_run_status": poll_s,
            "delay_advance_status": poll_s,
            "delta_retry": (poll_s, 2 * poll_s, 5 * poll_s),
        }
    return Project.model_validate(data)


def project_to_yaml(project: Project) -> str:
    """YAML text of ``project`` (what ``jf`` reads from the projects folder)."""
    data = project.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False)


def install_project(
    project: Project | str, projects_folder: str | Path | None = None, overwrite: bool = True
) -> Path:
    """Write a project (object or YAML text) as ``<projects_folder>/<name>.yaml``.

    ``projects_folder`` defaults to jobflow-remote's (``~/.jfremote`` or
    ``$JFREMOTE_PROJECTS_FOLDER``); after this ``jf -p NAME ...`` and
    ``submit_flow(..., project=NAME)`` find it.

    Examples
    --------
    >>> import tempfile
    >>> path = install_project(make_project("x", "/tmp/x"), tempfile.mkdtemp())
    >>> path.name
    'x.yaml'
    """
    from jobflow_remote import SETTINGS

    if isinstance(project, str):
        text = project
        name = Project.model_validate(yaml.safe_load(text)).name
    else:
        text, name = project_to_yaml(project), project.name
    folder = Path(projects_folder or SETTINGS.projects_folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    if path.exists() and not overwrite:
        raise FileExistsError(path)
    path.write_text(text)
    return path


@contextlib.contextmanager
def use_projects_folder(folder: str | Path) -> Iterator[Path]:
    """Temporarily point jobflow-remote (``SETTINGS.projects_folder``) at ``folder``."""
    from jobflow_remote import SETTINGS

    old = SETTINGS.projects_folder
    old_env = os.environ.get("JFREMOTE_PROJECTS_FOLDER")
    SETTINGS.projects_folder = str(folder)
    os.environ["JFREMOTE_PROJECTS_FOLDER"] = str(folder)  # for `jf` child processes
    try:
        yield Path(folder)
    finally:
        SETTINGS.projects_folder = old
        if old_env is None:
            os.environ.pop("JFREMOTE_PROJECTS_FOLDER", None)
        else:
            os.environ["JFREMOTE_PROJECTS_FOLDER"] = old_env


_STARTER_HEADER = """\
# jobflow-remote project for superatom  (generated by `superatom hpc init`)
#
# Install:  copy to ~/.jfremote/{name}.yaml  (or $JFREMOTE_PROJECTS_FOLDER)
# Check:    jf -p {name} project check --errors
# Init DB:  jf -p {name} admin reset          (once, empties the queue database)
# Run:      superatom submit CAMPAIGN.yaml --project {name}
#           jf -p {name} runner start        (daemon that submits/polls/collects)
# Status:   superatom status --project {name}   or   jf -p {name} job list
#
# Field reference: https://matgenix.github.io/jobflow-remote/user/projectconf.html
# The keys under `resources` are the variables of qtoolkit's {sched_upper} header
# template; a job can override them (superatom sets cpus/memory/GPUs per calculation).
name: {name}
# logs, temporary downloads and daemon files of the Runner; default
# ~/.jfremote/{name}
# base_dir: {base_dir}
"""

_SLURM_WORKER = """\
workers:
  {worker}:
    # `local`: the Runner runs where `sbatch` works (login node); work_dir must be on
    # a file system shared with the compute nodes. For a cluster reached by SSH use
    #   type: remote
    #   host: login.cluster.example.org
    #   user: myname
    type: local
    scheduler_type: slurm
    work_dir: {work_dir}
    # default resources of every job: partition, one task with cpus_per_task
    # OpenMP threads for PySCF, memory per job, wall time (D-HH:MM:SS or HH:MM:SS)
    resources:
      partition: {partition}
      nodes: 1
      ntasks: 1
      cpus_per_task: {cpus}
      mem: {mem}
      time: "{walltime}"
{gpu_line}      # account: my_allocation
      # qos: normal
    # shell lines executed in the batch script before `jf execution run`
    pre_run: |
{pre_run}
    timeout_execute: 120           # seconds allowed for sbatch/squeue calls
    max_jobs: 50                   # jobs queued at the same time (null: no limit)
"""

_PBS_WORKER = """\
workers:
  {worker}:
    # `local`: the Runner runs where `qsub` works; work_dir on a shared file system.
    type: local
    scheduler_type: pbs
    work_dir: {work_dir}
    # default resources of every job: queue, chunk (CPUs, memory, GPUs), wall time
    resources:
      queue: {partition}
      select: "{select}"
      walltime: "{walltime}"
      # account: my_allocation
    pre_run: |
{pre_run}
    timeout_execute: 120
    max_jobs: 50
"""

_STORES = """\
# Queue database (job states). jobflow-remote needs MongoDB here; the runner and
# every `jf`/`superatom` command must reach it (not the compute nodes: batch jobs
# exchange inputs/outputs as JSON files in their run folder).
queue:
  store:
    type: MongoStore
    host: localhost
    port: 27017
    database: {database}
    collection_name: jobs
    # username: ...
    # password: ...
    # or a single connection string instead of host/port/username/password:
    # uri: mongodb+srv://user:password@cluster.example.org/{database}
# Outputs of the jobs (jobflow JobStore).
jobstore:
  docs_store:
    type: MongoStore
    host: localhost
    port: 27017
    database: {database}
    collection_name: outputs
  additional_stores:
    data:                          # large arrays (orbitals, grids) go to GridFS
      type: GridFSStore
      host: localhost
      port: 27017
      database: {database}
      collection_name: outputs_blobs
# Optional named execution environments: submit with exec_config=NAME.
exec_config:
  gpu4pyscf:
    modules: []                    # e.g. [cuda/12.4]
    export:
      CUPY_CACHE_DIR: /tmp/cupy_cache_$USER
    pre_run: nvidia-smi -L || true
runner:
  delay_checkout: 30               # seconds between Runner passes
  delay_check_run_status: 30
  delay_advance_status: 30
"""


def starter_project_yaml(
    name: str = "superatom",
    scheduler: str = "slurm",
    gpu: bool = True,
    *,
    work_dir: str | Path | None = None,
    partition: str | None = None,
    cpus: int = 8,
    mem_gb: float = 32,
    walltime: int | str = "04:00:00",
    pre_run: str | None = None,
) -> str:
    """Documented starter project file for ``superatom hpc init``.

    Parameters
    ----------
    name
        Project name (also the file name ``~/.jfremote/<name>.yaml``).
    scheduler
        ``"slurm"`` or ``"pbs"``.
    gpu
        Ask one GPU per job (``--gres=gpu:1`` / ``ngpus=1``) on a GPU partition.
    work_dir
        Run folder root; default ``~/superatom-runs/<name>``.
    partition
        Partition/queue; default ``gpu`` with ``gpu=True`` else ``debug``/``workq``.
    cpus, mem_gb, walltime
        Default resources per job.
    pre_run
        Shell lines before each job; default activates the current Python env.

    Returns
    -------
    str
        YAML text that validates as a jobflow-remote ``Project``.

    Examples
    --------
    >>> import yaml
    >>> from jobflow_remote.config.base import Project
    >>> text = starter_project_yaml("mycluster", scheduler="slurm", gpu=True)
    >>> "gres: gpu:1" in text
    True
    >>> Project.model_validate(yaml.safe_load(text)).workers["gpu_slurm"].scheduler_type
    'slurm'
    """
    if scheduler not in ("slurm", "pbs"):
        raise ValueError("starter projects exist for 'slurm' and 'pbs'")
    work_dir = Path(work_dir or Path.home() / "superatom-runs" / name).expanduser()
    base_dir = work_dir.parent / f"{name}-jfr"
    pre_run = default_pre_run(scheduler) if pre_run is None else pre_run
    if gpu:
        pre_run += "\nexport CUDA_DEVICE_ORDER=PCI_BUS_ID"
    pre_run_block = "\n".join(f"      {line}" for line in pre_run.splitlines())
    worker = f"{'gpu' if gpu else 'cpu'}_{scheduler}"
    database = f"superatom_{name}".replace("-", "_").replace(".", "_")
    walltime = format_walltime(walltime)
    project_name(name)
    for what, value in (("work_dir", work_dir), ("partition", partition)):
        script_value(str(value or ""), what)
    text = _STARTER_HEADER.format(name=name, base_dir=base_dir, sched_upper=scheduler.upper())
    if scheduler == "slurm":
        text += _SLURM_WORKER.format(
            worker=worker,
            work_dir=work_dir,
            partition=partition or ("gpu" if gpu else "debug"),
            cpus=cpus,
            mem=f"{int(mem_gb)}G",
            walltime=walltime,
            gpu_line="      gres: gpu:1  # one GPU per job\n" if gpu else "",
            pre_run=pre_run_block,
        )
    else:
        select = scheduler_resources("pbs", cpus=cpus, mem_gb=mem_gb, gpus=int(gpu))
        text += _PBS_WORKER.format(
            worker=worker,
            work_dir=work_dir,
            partition=partition or ("gpu" if gpu else "workq"),
            select=select["select"],
            walltime=walltime,
            pre_run=pre_run_block,
        )
    return text + _STORES.format(database=database)
