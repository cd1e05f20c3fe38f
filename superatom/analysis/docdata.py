"""Plain-numpy view of a stored :class:`FrontierOrbitalDoc` for the analysis modules.

Arrays stay in Hartree and in the AO basis; coordinates of the pymatgen Molecule are Angstrom.
An open-shell (UKS) document gives two channels ``alpha`` and ``beta``; a closed-shell (RKS) one
gives the single channel ``restricted`` but can also be read per spin (half occupations).

Examples
--------
>>> from superatom.analysis.docdata import level_label
>>> [level_label(i, n_occ=5) for i in (3, 4, 5, 6)]
['HOMO-1', 'HOMO', 'LUMO', 'LUMO+1']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings, settings_from_dict
from superatom.errors import InputError
from superatom.schemas.documents import FrontierOrbitalDoc
from superatom.schemas.levels import level_label

SPINS = ("alpha", "beta")
L_NAMES = "spdfghik"


@dataclass
class Channel:
    """Orbitals of one spin channel (Hartree, AO basis)."""

    spin: str
    coeff: np.ndarray
    energy: np.ndarray
    occ: np.ndarray
    fock: np.ndarray

    @property
    def n_occ(self) -> int:
        """Number of orbitals holding more than half an electron (per channel)."""
        threshold = 1.0 if self.occ.max(initial=0.0) > 1.0 else 0.5
        return int(np.count_nonzero(self.occ > threshold))

    @property
    def homo(self) -> int:
        return self.n_occ - 1

    @property
    def lumo(self) -> int:
        return self.n_occ

    def label(self, index: int) -> str:
        """``HOMO``/``LUMO+1``... of orbital ``index``."""
        return level_label(index, self.n_occ)


@dataclass
class DocData:
    """Everything an analysis needs from one document, as numpy."""

    doc: FrontierOrbitalDoc
    molecule: Molecule
    settings: CalcSettings
    overlap: np.ndarray
    ao_atom: np.ndarray
    ao_l: np.ndarray
    ao_labels: list[str]
    restricted: bool
    channels: list[Channel]

    @property
    def name(self) -> str:
        return self.doc.name or self.doc.reduced_formula

    @property
    def nao(self) -> int:
        return int(self.overlap.shape[0])

    @property
    def elements(self) -> list[str]:
        return [site.specie.symbol for site in self.molecule]

    @property
    def fragments(self) -> list[str] | None:
        labels = self.molecule.site_properties.get("fragment")
        return [str(f) for f in labels] if labels else None

    def channel(self, spin: str | None = None) -> Channel:
        """Channel ``restricted``, ``alpha`` or ``beta`` (None: the first one).

        A restricted document read as ``alpha``/``beta`` gives its orbitals with half the
        occupation; asking an open-shell document for ``restricted`` is an InputError.
        """
        if spin is None:
            return self.channels[0]
        for chan in self.channels:
            if chan.spin == spin:
                return chan
        if self.restricted and spin in SPINS:
            base = self.channels[0]
            return Channel(spin, base.coeff, base.energy, base.occ / 2.0, base.fock)
        raise InputError(
            f"'{self.name}' is open-shell (UKS): analyse it per spin (alpha/beta), not '{spin}'"
        )


def settings_of(doc: FrontierOrbitalDoc) -> CalcSettings:
    """The CalcSettings stored in ``doc`` (keys unknown to this version are ignored)."""
    known = {k: v for k, v in doc.settings.items() if k in CalcSettings.model_fields}
    try:
        return settings_from_dict(known)
    except InputError as err:
        raise InputError(f"stored result '{doc.name}' cannot be analysed, its settings are "
                         f"invalid ({err}): recompute it ('superatom run' or 'screen' with "
                         "--force)") from None


def doc_data(doc: FrontierOrbitalDoc) -> DocData:
    """Unpack the stored arrays of ``doc``; an InputError if they are missing.

    Examples
    --------
    >>> data = doc_data(doc)                     # doctest: +SKIP
    >>> data.channel().energy[data.channel().homo]   # Hartree  # doctest: +SKIP
    """
    if doc.orbitals is None:
        raise InputError(
            f"result '{doc.name or doc.formula}' has no stored orbitals: load it with "
            "superatom.db.load_result (arrays come from the data store)"
        )
    arrays = doc.orbitals.arrays()
    restricted = np.ndim(arrays["mo_energy"]) == 1
    if restricted:
        channels = [Channel("restricted", arrays["mo_coeff"], arrays["mo_energy"],
                            arrays["mo_occ"], arrays["fock"])]
    else:
        channels = [
            Channel(spin, arrays["mo_coeff"][k], arrays["mo_energy"][k], arrays["mo_occ"][k],
                    arrays["fock"][k])
            for k, spin in enumerate(SPINS)
        ]
    return DocData(
        doc=doc,
        molecule=Molecule.from_dict(doc.molecule),
        settings=settings_of(doc),
        overlap=arrays["overlap"],
        ao_atom=arrays["ao_atom"].astype(int),
        ao_l=arrays["ao_l"].astype(int),
        ao_labels=list(doc.orbitals.ao_labels),
        restricted=restricted,
        channels=channels,
    )


def common_spins(datas: list[DocData]) -> list[str]:
    """``['restricted']`` if every document is closed-shell, else ``['alpha', 'beta']``."""
    return ["restricted"] if all(d.restricted for d in datas) else list(SPINS)


def window_indices(chan: Channel, window: int) -> np.ndarray:
    """Orbital indices from HOMO-(window-1) to LUMO+(window-1)."""
    n_occ = chan.n_occ
    return np.arange(max(0, n_occ - window), min(len(chan.energy), n_occ + window))


def degenerate_groups(
    energy: np.ndarray, indices: np.ndarray, tol: float = 1e-4
) -> list[list[int]]:
    """Split sorted orbital ``indices`` into runs of (near-)degenerate energies (tol in Hartree)."""
    groups: list[list[int]] = []
    for i in indices:
        if groups and abs(energy[i] - energy[groups[-1][-1]]) < tol:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    return groups
