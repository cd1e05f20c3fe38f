"""Typed documents that superatom stores, and the helpers they share.

``documents`` (system identity, frontier-orbital document, orbital arrays), ``xtb`` (cheap-tier
document), ``interaction``, ``chain`` and ``eda`` (analysis documents), ``levels``
(HOMO/LUMO/gap from orbital energies and occupations), ``arrays`` (compressed numpy in JSON)
and ``hashing`` (input hashes). Schemas import only settings and structures below them.

Examples
--------
>>> from superatom.schemas.levels import frontier_levels
>>> frontier_levels([-0.5, -0.1], [2.0, 0.0])["homo_index"]
0
"""

from __future__ import annotations
