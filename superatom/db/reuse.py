"""Find a stored, complete result of an identical input (same input hash)."""

from __future__ import annotations

from typing import Any


def find_reusable(store, digest: str, extra: dict[str, Any] | None = None) -> dict | None:
    """Newest stored, computed (not itself reused) output with this input hash, or None."""
    if store is None:
        return None
    return store.query_one(
        {"output.input_hash": digest, "output.reused_from": None, **(extra or {})},
        properties=["uuid", "output"],
        sort={"completed_at": -1},
        load=True,
    )
