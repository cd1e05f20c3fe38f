"""HPC helpers: jobflow-remote projects, SLURM/PBS workers and campaign submission.

``project``
    build jobflow-remote :class:`~jobflow_remote.config.base.Project` objects and the
    documented starter project file behind ``superatom hpc init``.
``submit``
    submit flows, drive the jobflow-remote Runner in-process, list job states, rerun.
``campaign``
    turn a campaign's planned resources into SLURM/PBS requests and submit it.
``mockstore``
    a process-wide mongomock store so queue and job store survive across Store objects.
``selftest``
    tiny ``@job`` functions a batch job imports to check a queue end to end.

Nothing here imports PySCF.
"""
