"""Exceptions whose message is one line that tells the user what to fix."""

from __future__ import annotations


class SuperatomError(Exception):
    """Base class: a problem the user can fix; ``str(err)`` is a one-line instruction."""


class InputError(SuperatomError, ValueError):
    """Bad input: file, element, charge/multiplicity, geometry, settings or YAML."""


class SCFNotConvergedError(SuperatomError, RuntimeError):
    """Every rung of the SCF fallback ladder failed; no result is reported."""

    def __init__(self, message: str, attempts: list[dict] | None = None):
        super().__init__(message)
        self.attempts = attempts or []


class GPUError(SuperatomError, RuntimeError):
    """The GPU run failed (out of memory, CUDA or kernel error) and device=gpu forbids a
    CPU fallback; the message names the failure and the setting to change."""
