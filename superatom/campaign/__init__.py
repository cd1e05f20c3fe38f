"""Campaigns: a YAML file of systems, interactions and chains turned into one jobflow Flow.

``spec`` (the validated campaign file), ``resources`` (job size -> memory, cores, wall time,
DF or direct), ``plan`` (every system resolved once: molecule, settings, tier, resources,
prerelax), ``flow`` (the Flow built from the plan, and the explicit xTB pre-screen phase),
``runner`` (local execution with
progress and failure isolation) and ``report`` (tables and figures from the store).

Examples
--------
>>> from superatom.campaign.resources import plan_resources
>>> plan_resources(nao=450, n_atoms=25).density_fit
True
"""

from __future__ import annotations
