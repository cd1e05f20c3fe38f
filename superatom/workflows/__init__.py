"""Jobs and flows: frontier orbitals, interactions, chain scaling, xTB tier, campaigns.

Public Makers (atomate2-style dataclasses returning jobflow Jobs/Flows):
:class:`~superatom.workflows.frontier.FrontierOrbitalMaker`,
:class:`~superatom.workflows.interaction.InteractionFlowMaker`,
:class:`~superatom.workflows.chain.ChainScalingFlowMaker`,
:class:`~superatom.workflows.xtb.XtbFrontierMaker`. Campaign files are read by
:func:`~superatom.workflows.campaign.load_campaign` and turned into one Flow by
:func:`~superatom.workflows.campaign_flow.build_campaign_flow`. ``engine`` is the only module
that imports PySCF/GPU4PySCF.

Examples
--------
>>> from superatom.workflows.frontier import FrontierOrbitalMaker
>>> FrontierOrbitalMaker(preset="fast").settings.grids_level
1
"""

from __future__ import annotations
