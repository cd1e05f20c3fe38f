"""Jobs and flows: frontier orbitals, interactions, chain scaling and the xTB tier.

Public Makers (atomate2-style dataclasses returning jobflow Jobs/Flows):
:class:`~superatom.workflows.frontier.FrontierOrbitalMaker`,
:class:`~superatom.workflows.interaction.InteractionFlowMaker`,
:class:`~superatom.workflows.chain.ChainScalingFlowMaker`,
:class:`~superatom.workflows.xtb.XtbFrontierMaker`. The Makers are thin: the
calculations run in :mod:`superatom.engine`, the documents are :mod:`superatom.schemas`, and
campaigns (:mod:`superatom.campaign`) compose these Makers into one Flow.

Examples
--------
>>> from superatom.workflows.frontier import FrontierOrbitalMaker
>>> FrontierOrbitalMaker(preset="fast").settings.grids_level
1
"""

from __future__ import annotations
