"""Jobs and flows: frontier orbitals, interactions, chain scaling and the xTB tier.

Public Makers (atomate2-style dataclasses returning jobflow Jobs/Flows): per structure
:class:`~superatom.workflows.frontier.FrontierOrbitalMaker` (DFT, with a resolved
``CalcSettings`` value), :class:`~superatom.workflows.xtb.XtbFrontierMaker` (GFN2-xTB) and
:class:`~superatom.workflows.tda.TdaMaker` (excitations); flows
:class:`~superatom.workflows.interaction.InteractionFlowMaker` and
:class:`~superatom.workflows.chain.ChainScalingFlowMaker`, which take the per-structure Maker
as a field. The Makers are thin: the
calculations run in :mod:`superatom.engine`, the documents are :mod:`superatom.schemas`, and
campaigns (:mod:`superatom.campaign`) compose these Makers into one Flow.

Examples
--------
>>> from superatom.workflows.frontier import FrontierOrbitalMaker
>>> FrontierOrbitalMaker(preset="fast").settings.grids_level   # merged once, here
1
"""

from __future__ import annotations
