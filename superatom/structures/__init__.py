"""Structure builders, readers and checks for cluster assemblies (Angstrom throughout).

Modules: ``keggin``, ``lindqvist``, ``dawson``, ``anderson``, ``substituted`` (lacunary and
mono-substituted Keggin), ``assemblies`` (Ln-O-W dimers, clusterphene chains/rings, 1:2
sandwiches, Ca-bridged PW12), ``honeycomb`` (clusterphene sheet patches), ``joining`` (units
joined into one assembly: link bonds, polish, charge and spin; used by both), ``ti10cu2``,
``au25``, ``crystal`` (cut units out of CIFs), ``validate``, ``relax`` (GFN2-xTB), ``standard``
(shipped relaxed set), ``io`` (extended XYZ), ``registry`` (KIND -> builder) and ``render``
(PNG).

Examples
--------
>>> from superatom.structures.registry import build_structure
>>> build_structure("lindqvist").charge
-2
"""

from __future__ import annotations
