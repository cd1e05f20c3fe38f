"""HPC helpers: jobflow-remote projects, SLURM/PBS workers and a throw-away local SLURM.

``project``
    build jobflow-remote :class:`~jobflow_remote.config.base.Project` objects and the
    documented starter project file behind ``superatom hpc init``.
``submit``
    submit flows, drive the jobflow-remote Runner in-process, list job states, rerun.
``slurm_local``
    start/stop a real single-node SLURM (munged, slurmctld, slurmd) for tests.
``mockstore``
    a process-wide mongomock store so queue and job store survive across Store objects.
``selftest``
    tiny ``@job`` functions importable by batch jobs (used by the SLURM tests).

Nothing here imports PySCF.
"""
