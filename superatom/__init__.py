"""superatom: DFT screening of frontier orbitals in sub-nanometre cluster assemblies.

Energies are Hartree and lengths Bohr inside the engine; documents and the command line
speak eV and Angstrom.

Examples
--------
>>> from superatom import __version__
>>> isinstance(__version__, str)
True
"""

from __future__ import annotations

__version__ = "0.1.0"
HARTREE_TO_EV = 27.211386245988
HARTREE_TO_KCAL_MOL = 627.5094740631
BOHR_TO_ANGSTROM = 0.529177210903
