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
from superatom.inputfile import read_input_text

MAX_YAML_VALUES = 100_000  # values a file may hold once its aliases are expanded


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
    text = read_input_text(path, what)
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
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
    _check_expanded_size(data, path, what)
    if not isinstance(data, dict):
        raise InputError(f"{what} {path} must be {expected}")
    return data


def _check_expanded_size(data: Any, path: Path, what: str) -> None:
    """Refuse YAML whose aliases expand to more than ``MAX_YAML_VALUES`` values (an alias
    bomb: nine levels of nine-fold aliases are 9**9 values in 2 KB) or refer to themselves.

    Examples
    --------
    >>> bomb = yaml.safe_load("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\\n"
    ...                       + "".join(f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, "
    ...                                 f"*{p}, *{p}, *{p}]\\n" for p, c in zip("abcde", "bcdef")))
    >>> _check_expanded_size(bomb, Path("c.yaml"), "campaign file")
    Traceback (most recent call last):
    ...
    superatom.errors.InputError: campaign file c.yaml expands to more than 100000 values ...
    """
    count, stack = 0, [data]
    while stack:
        value = stack.pop()
        count += 1
        if count > MAX_YAML_VALUES:
            raise InputError(f"{what} {path} expands to more than {MAX_YAML_VALUES} values "
                             "(YAML aliases that repeat or contain themselves): write the "
                             "values out")
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple | set):
            stack.extend(value)
