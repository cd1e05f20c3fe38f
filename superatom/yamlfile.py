"""Read a YAML file that must hold a mapping, with one-line errors that point at the line.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "c.yaml"
>>> _ = path.write_text("db: /tmp/x\\n")
>>> read_yaml_mapping(path, "config file", "a mapping such as 'db: /path'")
{'db': '/tmp/x'}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from superatom.errors import InputError


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last
    one silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml_mapping(path: str | Path, what: str, expected: str) -> dict[str, Any]:
    """Parse ``path``; malformed YAML or a non-mapping is an :class:`InputError`.

    ``what`` names the file in messages ("campaign file"), ``expected`` says what a valid
    one holds ("a mapping with 'name' and 'systems'").
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} {path} not found")
    try:
        data = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)
    except yaml.constructor.ConstructorError as err:
        mark = err.problem_mark
        raise InputError(f"{what} {path}: {err.problem} at line {mark.line + 1}: keep one "
                         "of them") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise InputError(f"{what} {path} is not valid YAML{where}: fix the syntax") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read {what} {path}: {getattr(err, 'strerror', None) or err}"
                         ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{what} {path} must be {expected}")
    return data
