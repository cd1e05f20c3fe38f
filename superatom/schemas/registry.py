"""Recognise a stored document by its ``doc_type`` and validate it into its model.

Examples
--------
>>> doc_model({"doc_type": "xtb_frontier"}).__name__
'XtbFrontierDoc'
>>> doc_model({"input_hash": "..."}).__name__   # frontier results stored before doc_type
'FrontierOrbitalDoc'
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from superatom.schemas.chain import ChainScalingDoc
from superatom.schemas.documents import FrontierOrbitalDoc
from superatom.schemas.eda import EDADoc
from superatom.schemas.interaction import InteractionDoc
from superatom.schemas.tda import TdaDoc
from superatom.schemas.xtb import XtbFrontierDoc

DOC_TYPES: dict[str, type[BaseModel]] = {
    "frontier_orbitals": FrontierOrbitalDoc,
    "xtb_frontier": XtbFrontierDoc,
    "interaction": InteractionDoc,
    "chain_scaling": ChainScalingDoc,
    "tda": TdaDoc,
    "eda": EDADoc,
}

def doc_type_of(data: dict[str, Any]) -> str | None:
    """The ``doc_type`` of a stored output (``frontier_orbitals`` for legacy ones)."""
    if "doc_type" in data:
        return data["doc_type"]
    return "frontier_orbitals" if "input_hash" in data else None


def doc_model(data: dict[str, Any]) -> type[BaseModel]:
    """The model class of a stored output; ``KeyError`` for an unknown type."""
    return DOC_TYPES[doc_type_of(data)]


def parse_document(data: BaseModel | dict[str, Any]) -> BaseModel:
    """A stored output (model or dict) as its typed model."""
    if isinstance(data, BaseModel):
        return data
    return doc_model(data).model_validate(data)

