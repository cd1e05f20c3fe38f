"""Run a Flow job by job on this machine, with a progress callback and failure isolation.

Each job is run (``Job.run``, as ``jobflow.run_locally`` does) as soon as its parents are done,
so every finished
result is in the store the moment it finishes: an interrupted campaign loses nothing, and a
rerun reuses finished calculations through their input hash. A failed job (e.g. an SCF that
did not converge after the fallback ladder) is recorded and its dependants are skipped; the
other branches go on.

Examples
--------
>>> import tempfile
>>> from jobflow import Flow
>>> from superatom.db import open_store
>>> run_flow(Flow([]), open_store(tempfile.mkdtemp())).completed
0
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from jobflow import Flow, JobStore


@dataclass
class RunSummary:
    """What happened to the jobs of a flow."""

    completed: int = 0
    reused: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    uuids: dict[str, str] = field(default_factory=dict)
    computed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped

    def counts(self) -> str:
        """``13 computed, 0 reused, ...``; on a rerun it names what was computed and why.

        Examples
        --------
        >>> RunSummary(completed=1, reused=4, computed=["interaction analysis"]).counts()
        '1 computed (interaction analysis: analyses are redone from the stored results, in \
seconds), 4 reused, 0 failed, 0 skipped'
        """
        what = ""
        if self.reused and self.computed:
            analyses = sorted({n for n in self.computed if n in ANALYSIS_JOBS})
            others = sorted({n for n in self.computed if n not in ANALYSIS_JOBS})
            parts = ([f"{', '.join(analyses)}: analyses are redone from the stored results, "
                      "in seconds"] if analyses else [])
            parts += [f"{', '.join(others)}: no stored result with the same input"] if others \
                else []
            what = f" ({'; '.join(parts)})"
        return (f"{self.completed} computed{what}, {self.reused} reused, "
                f"{len(self.failed)} failed, {len(self.skipped)} skipped")


# jobs that only read stored results (no SCF): cheap, so rerun rather than looked up
ANALYSIS_JOBS = ("interaction analysis", "chain scaling fit", "cut fragments")



def flow_jobs(flow: Flow) -> list[tuple]:
    """``(job, parent uuids)`` of every job of ``flow`` (nested flows included), in order."""
    if not flow.jobs:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "some jobs are not connected" is expected here
        return list(flow.iterflow())


def run_flow(
    flow: Flow,
    store: JobStore,
    on_job_done: Callable[[str, str], None] | None = None,
    on_job_start: Callable[[str, str], None] | None = None,
) -> RunSummary:
    """Run ``flow`` job by job in topological order.

    ``on_job_start(job_name, job_uuid)`` is called before a job runs (not for skipped ones),
    ``on_job_done(job_name, status)`` after, with ``status`` one of ``completed``,
    ``reused``, ``failed`` or ``skipped``.
    """
    summary = RunSummary()
    bad: set[str] = set()
    store.connect()
    for job, parents in flow_jobs(flow):
        if bad.intersection(parents):
            bad.add(job.uuid)
            summary.skipped.append(job.name)
            status = "skipped"
        else:
            if on_job_start:
                on_job_start(job.name, job.uuid)
            status = _run_one(job, store, summary, bad)
        if on_job_done:
            on_job_done(job.name, status)
    return summary


def _run_one(job, store: JobStore, summary: RunSummary, bad: set[str]) -> str:
    error = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            response = job.run(store=store)
        if response.replace is not None or response.addition is not None:
            raise RuntimeError("dynamic jobs are not supported by this runner")
    except KeyboardInterrupt:
        raise
    except Exception as err:  # a failed job must not stop the other branches
        error = err
    if error is not None:
        bad.add(job.uuid)
        reason = f"{type(error).__name__}: {error}".splitlines()[0]
        summary.failed.append((job.name, reason))
        return "failed"
    summary.uuids[job.name] = job.uuid
    output = store.query_one({"uuid": job.uuid}, properties=["output.reused_from"])
    if output and (output.get("output") or {}).get("reused_from"):
        summary.reused += 1
        return "reused"
    summary.completed += 1
    summary.computed.append(job.name)
    return "completed"
