"""Frontier-orbital job: Molecule + settings -> :class:`FrontierOrbitalDoc`.

Examples
--------
>>> from jobflow import run_locally
>>> from pymatgen.core import Molecule
>>> from superatom.calc_settings import load_preset
>>> from superatom.workflows.frontier import FrontierOrbitalMaker
>>> water = Molecule(["O", "H", "H"], [[0, 0, 0], [0, 0.757, 0.587], [0, -0.757, 0.587]])
>>> maker = FrontierOrbitalMaker(settings=load_preset("fast", device="cpu"))
>>> maker.settings.basis, maker.preset
('def2-svp', None)
>>> FrontierOrbitalMaker(preset="fast", settings_overrides={"basis": "sto-3g"}).settings.basis
'sto-3g'
>>> job = maker.make(water)
>>> doc = run_locally(job, ensure_success=True)[job.uuid][1].output   # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import CURRENT_JOB, JobConfig, Maker, job
from platformdirs import user_cache_dir
from pymatgen.core import Molecule

from superatom import HARTREE_TO_EV, engine
from superatom.analysis.composition import fragment_composition, participation_ratio
from superatom.calc_settings import CalcSettings, as_settings
from superatom.db.inputlock import hold_input, release_input
from superatom.db.reuse import find_reusable, reuse_record, with_arrays
from superatom.schemas.documents import (
    FrontierOrbitalDoc,
    OrbitalData,
    OrbitalLevel,
)
from superatom.schemas.hashing import input_hash
from superatom.schemas.levels import frontier_levels, level_label
from superatom.structures import io as structure_io
from superatom.workflows.fragments import superposition_density


def method_summary(settings: CalcSettings, spin_treatment: str) -> str:
    """Short method string, e.g. ``'RKS-PBE0/def2-svp DF C-PCM(eps=78.36)'``.

    Density fitting with another auxiliary basis than the default names it
    (``DF(def2-svp-jkfit)``; ``DF(auto)``: the one PySCF picks for the basis); a
    density-fitted C-PCM potential says so.

    Examples
    --------
    >>> from superatom.calc_settings import load_preset
    >>> method_summary(load_preset("fast", aux_basis="def2-svp-jkfit"), "RKS")
    'RKS-PBE0/def2-svp DF(def2-svp-jkfit)'
    >>> method_summary(load_preset("fast", ln_core="4f-in-core"), "RKS")
    'RKS-PBE0/def2-svp Ln:4f-in-core DF'
    """
    text = f"{spin_treatment}-{settings.method_label()}"
    if settings.density_fit:
        default = CalcSettings.model_fields["aux_basis"].default
        text += " DF" if settings.aux_basis == default else f" DF({settings.aux_basis or 'auto'})"
    if settings.solvent == "pcm":
        fitted = ", fitted potential" if settings.pcm_potential != "exact" else ""
        text += f" C-PCM(eps={settings.solvent_eps:.2f}{fitted})"
    elif settings.solvent == "smd":
        text += f" SMD({settings.solvent_name})"
    if settings.dispersion != "none":
        text += f" {settings.dispersion.upper()}"
    return text


def frontier_window(
    molecule: Molecule, result: engine.SCFResult, window: int
) -> list[OrbitalLevel]:
    """Composition (fragment and element, Mulliken) of the orbitals around the gap."""
    fragments = molecule.site_properties.get("fragment")
    elements = [site.specie.symbol for site in molecule]
    channels = (
        [("restricted", result.mo_energy, result.mo_occ, result.mo_coeff)]
        if result.restricted
        else [
            (spin, result.mo_energy[k], result.mo_occ[k], result.mo_coeff[k])
            for k, spin in enumerate(("alpha", "beta"))
        ]
    )
    levels: list[OrbitalLevel] = []
    for spin, energy, occ, coeff in channels:
        n_occ = int(np.count_nonzero(occ > 0.5))
        chosen = np.arange(max(0, n_occ - window), min(len(energy), n_occ + window))
        el_names, el_w = fragment_composition(
            coeff[:, chosen], result.overlap, result.ao_atom, elements
        )
        fr_names, fr_w, pr = [], None, None
        if fragments:
            fr_names, fr_w = fragment_composition(
                coeff[:, chosen], result.overlap, result.ao_atom, [str(f) for f in fragments]
            )
            pr = participation_ratio(fr_w)
        for column, index in enumerate(chosen):
            suffix = "" if spin == "restricted" else f"({spin[0]})"
            levels.append(
                OrbitalLevel(
                    label=level_label(int(index), n_occ) + suffix,
                    spin=spin,
                    index=int(index),
                    energy_ev=float(energy[index] * HARTREE_TO_EV),
                    occupation=float(occ[index]),
                    element_weights={n: float(el_w[k, column]) for k, n in enumerate(el_names)},
                    fragment_weights=(
                        {n: float(fr_w[k, column]) for k, n in enumerate(fr_names)}
                        if fr_w is not None
                        else {}
                    ),
                    participation_ratio=float(pr[column]) if pr is not None else None,
                )
            )
    return levels


def recorded_settings(settings: CalcSettings, result: engine.SCFResult) -> dict[str, Any]:
    """``settings`` as stored: an unset memory budget replaced by the one the job ran with."""
    values = settings.model_dump()
    budget = result.extra.get("memory", {}).get("budget_mb")
    if values.get("max_memory_mb") is None and budget is not None:
        values["max_memory_mb"] = int(budget)
    return values


def build_frontier_doc(
    molecule: Molecule,
    settings: CalcSettings,
    result: engine.SCFResult,
    metadata: dict[str, Any] | None = None,
    timings: dict[str, float] | None = None,
) -> FrontierOrbitalDoc:
    """Assemble the stored document from an :class:`engine.SCFResult`."""
    spin_treatment = "RKS" if result.restricted else "UKS"
    levels = frontier_levels(result.mo_energy, result.mo_occ)
    fragments = molecule.site_properties.get("fragment")
    fragment_names = list(dict.fromkeys(str(f) for f in fragments)) if fragments else []
    return FrontierOrbitalDoc(
        **FrontierOrbitalDoc.describe(molecule, metadata),
        fragments=fragment_names,
        method=method_summary(settings, spin_treatment),
        spin_treatment=spin_treatment,
        scf_multiplicity=result.multiplicity,
        settings=recorded_settings(settings, result),
        memory=result.extra.get("memory", {}),
        basis_by_element=result.basis_by_element,
        ecp_by_element=result.ecp_by_element,
        n_electrons=result.n_electrons,
        n_core_ecp=result.n_core_ecp,
        nao=result.nao,
        nmo=result.nmo,
        e_tot_ha=result.e_tot,
        e_tot_ev=result.e_tot * HARTREE_TO_EV,
        solvent_energy_ha=result.solvent_energy,
        homo_ev=levels["homo_ev"],
        lumo_ev=levels["lumo_ev"],
        gap_ev=levels["gap_ev"],
        **{
            key: levels.get(key)
            for key in (
                "homo_alpha_ev", "lumo_alpha_ev", "gap_alpha_ev",
                "homo_beta_ev", "lumo_beta_ev", "gap_beta_ev",
            )
        },
        spin_square=result.spin_square,
        orbital_energies_ev=(result.mo_energy * HARTREE_TO_EV).tolist(),
        occupations=result.mo_occ.tolist(),
        frontier=frontier_window(molecule, result, settings.frontier_window),
        converged=result.converged,
        scf_cycles=result.cycles,
        scf_attempts=result.attempts,
        scf_state=result.scf_state,
        device=result.device,
        fallback_reason=result.fallback_reason,
        device_name=result.device_name,
        timings={"scf_s": result.wall_s, **(timings or {})},
        versions=result.versions,
        input_hash=input_hash(molecule, settings),
        orbitals=OrbitalData.from_arrays(
            mo_coeff=result.mo_coeff,
            mo_energy=result.mo_energy,
            mo_occ=result.mo_occ,
            overlap=result.overlap,
            fock=result.fock,
            ao_atom=result.ao_atom,
            ao_l=result.ao_l,
            ao_labels=result.ao_labels,
        ),
    )


def compute_frontier(
    molecule: Molecule | Any,
    settings: CalcSettings | str = "screening",
    metadata: dict[str, Any] | None = None,
    initial_dm: np.ndarray | None = None,
    chkfile: str | None = None,
    mol=None,
    progress: Any = None,
    restart_from: list[str] | None = None,
    df_file: str | None = None,
) -> FrontierOrbitalDoc:
    """Run the SCF and build the document, outside any workflow manager.

    ``molecule`` is a pymatgen Molecule or an ASE Atoms; ``settings`` a CalcSettings or a
    preset name; ``mol`` the engine's already built Mole of ``molecule`` (None: the engine
    builds it); ``progress(cycle, e_tot_ha, delta_ha)`` is called every SCF cycle; ``df_file``
    keeps a DF tensor that goes to disk anyway for a restart (see ``engine.run_scf``).
    """
    start = time.perf_counter()
    molecule = structure_io.as_molecule(molecule)
    settings = as_settings(settings)
    result = engine.run_scf(molecule, settings, initial_dm=initial_dm, chkfile=chkfile,
                            mol=mol, progress=progress, restart_from=restart_from,
                            df_file=df_file)
    doc = build_frontier_doc(molecule, settings, result, metadata)
    doc.scf_guess = result.extra.get("guess", "minao")
    doc.timings["total_s"] = time.perf_counter() - start
    return doc


def checkpoint_folder() -> Path:
    """``$SUPERATOM_CHECKPOINT_DIR`` (put it on a shared file system on clusters), else the
    user cache folder."""
    folder = Path(os.environ.get("SUPERATOM_CHECKPOINT_DIR")
                  or Path(user_cache_dir("superatom")) / "checkpoints")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def checkpoint_path(digest: str) -> Path:
    """A checkpoint file of its own for one SCF run of an input hash.

    The name is ``<hash>.<pid>-<random>.chk``: identical jobs running at once (a shared
    checkpoint folder on a cluster) never open one HDF5 file together. A killed run leaves
    its file behind for :func:`restart_checkpoints`.
    """
    return checkpoint_folder() / f"{digest}.{os.getpid()}-{uuid.uuid4().hex[:8]}.chk"


def df_tensor_path(digest: str) -> Path:
    """Where an SCF of an input hash keeps a DF tensor too large for memory, so that a
    restart reuses it (``engine.df_tensor``); removed with the checkpoints."""
    return checkpoint_folder() / f"{digest}.df.h5"


def restart_checkpoints(digest: str) -> list[str]:
    """Checkpoints left by earlier runs of an input hash, newest first.

    Unreadable or foreign ones are skipped by the SCF (see ``engine.scf.read_checkpoint``).
    """
    found = []
    for path in checkpoint_folder().glob(f"{digest}*.chk"):
        try:
            found.append((path.stat().st_mtime, str(path)))
        except OSError:  # removed meanwhile by a run that finished
            continue
    return [path for _, path in sorted(found, reverse=True)]


def remove_checkpoints(digest: str) -> None:
    """Delete every checkpoint of an input hash, and its kept DF tensor, once its result is
    stored."""
    for path in restart_checkpoints(digest):
        Path(path).unlink(missing_ok=True)
    kept = df_tensor_path(digest)
    for path in [kept, *kept.parent.glob(f"{kept.name}.*.partial")]:  # also a killed build's
        path.unlink(missing_ok=True)


def resolve_settings(settings: CalcSettings | dict[str, Any] | None, preset: str | None,
                     overrides: dict[str, Any] | None) -> CalcSettings:
    """One merge: ``settings`` (a value, or its dict), else the preset (None: ``screening``,
    as :func:`~superatom.calc_settings.as_settings`), then the overrides.

    Examples
    --------
    >>> resolve_settings(None, "fast", {"xc": "PBE"}).xc
    'PBE'
    >>> resolve_settings(CalcSettings(xc="B3LYP"), None, None).xc
    'B3LYP'
    """
    return as_settings(preset if settings is None else settings, **(overrides or {}))


def resolve_maker_settings(maker: Any) -> None:
    """Set a Maker's ``settings`` from its ``settings``, ``preset`` and ``settings_overrides``
    (see :func:`resolve_settings`) and empty the overrides: the merge happens once."""
    maker.settings = resolve_settings(maker.settings, maker.preset, maker.settings_overrides)
    maker.settings_overrides = {}


@dataclass
class FrontierOrbitalMaker(Maker):
    """Maker of a frontier-orbital job (HOMO/LUMO, gap, frontier composition).

    Parameters
    ----------
    settings : CalcSettings
        The resolved settings of the calculation (a value that travels unchanged to the
        engine). Left out, it is resolved once, at construction, from ``preset`` and
        ``settings_overrides``.
    preset : str, optional
        Shipped preset (``screening``, ``production``, ``gas``, ``fast``) the settings come
        from; also recorded in the document.
    settings_overrides : dict
        Settings that replace preset (or ``settings``) values at construction (validated,
        unknown keys are an error); empty afterwards.
    reuse : bool
        Return the stored result of an identical input (same input hash) instead of
        recomputing it.
    metadata : dict
        ``name``, ``system_class``, ``campaign``, ``n_units`` and free tags stored in the doc.
    """

    name: str = "frontier orbitals"
    settings: CalcSettings | None = None
    preset: str | None = None
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    reuse: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)
    chkfile: str | None = None
    checkpoint: bool = True

    def __post_init__(self) -> None:
        resolve_maker_settings(self)

    @job(data="orbitals", output_schema=FrontierOrbitalDoc, config=JobConfig(expose_store=True))
    def make(
        self,
        molecule: Molecule,
        initial_dm: np.ndarray | None = None,
        guess_from: list[Any] | None = None,
    ) -> FrontierOrbitalDoc:
        """Compute (or reuse) the frontier orbitals of ``molecule``.

        Parameters
        ----------
        initial_dm : numpy.ndarray, optional
            Starting AO density matrix.
        guess_from : list of FrontierOrbitalDoc, optional
            Converged monomers cut from this molecule: the SCF starts from the superposition
            of their densities.
        """
        molecule = structure_io.as_molecule(molecule)
        settings = self.settings
        digest = input_hash(molecule, settings)
        labels = FrontierOrbitalDoc.describe(molecule, self.metadata)  # checks the names
        store = getattr(CURRENT_JOB, "store", None)
        reusable = {"output.converged": True}
        previous = find_reusable(store, digest, reusable) if self.reuse else None
        if previous is None and self.reuse and store is not None:
            hold_input(store, digest)  # an identical job elsewhere: wait, then reuse its result
            previous = find_reusable(store, digest, reusable)
        if previous is not None:
            release_input(digest)
            return self._reused(previous, labels, store)
        try:  # the store releases the lock once the result is written
            return self._computed(molecule, settings, digest, store, initial_dm, guess_from)
        except BaseException:
            release_input(digest)
            raise

    def _computed(self, molecule: Molecule, settings: CalcSettings, digest: str, store,
                  initial_dm: np.ndarray | None, guess_from: list[Any] | None
                  ) -> FrontierOrbitalDoc:
        """A new SCF of ``molecule`` (guess, checkpoints) as this job's document."""
        if guess_from:
            guess_from = [with_arrays(store, doc) for doc in guess_from]
        guess = "user"
        mol = engine.build_mole(molecule, settings)  # the one Mole of this job
        if guess_from:
            initial_dm = superposition_density(
                guess_from, molecule, engine.ao_metadata(mol)[0],
                restricted=mol.spin == 0,
            )
            guess = "superposition"
        own = self.checkpoint and not self.chkfile
        chkfile = str(checkpoint_path(digest)) if own else self.chkfile
        doc = compute_frontier(
            molecule, settings, self.metadata, initial_dm=initial_dm, chkfile=chkfile, mol=mol,
            restart_from=restart_checkpoints(digest) if own else None,
            df_file=str(df_tensor_path(digest)) if own else None,
        )
        doc.preset = self.preset
        if doc.scf_guess == "initial_dm":
            doc.scf_guess = guess
        if own:
            remove_checkpoints(digest)
        doc.job_uuid = CURRENT_JOB.job.uuid if CURRENT_JOB.job else None
        return doc

    def _reused(self, previous: dict, labels: dict[str, Any], store) -> FrontierOrbitalDoc:
        """This job's own small document for a stored result (see :func:`reuse_record`)."""
        job_uuid = CURRENT_JOB.job.uuid if CURRENT_JOB.job else None
        doc = reuse_record(FrontierOrbitalDoc, previous, labels, store, job_uuid)
        doc.preset = self.preset
        return doc
