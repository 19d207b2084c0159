"""TF 1.x's ``tf.contrib.training``: the hyperparameter container RNN code imported.

TensorFlow 1.x kept :class:`HParams` and :func:`parse_values` in
``tensorflow/contrib/training/python/training/hparam.py``; TensorFlow 2 dropped
them with the rest of ``tf.contrib``. This module behaves as the r1.15 version
did, in pure Python (no TensorFlow import):

- ``HParams(learning_rate=0.1, layers=[64, 64])`` infers each hyperparameter's
  type from its value (for a list, from its first element) and makes it an
  attribute;
- :meth:`HParams.parse` overrides values from ``"a=1,b=[1,2],c=hi"``: ints,
  floats and strings parse with the type's constructor, bools accept
  ``true``/``True``/``false``/``False`` or an integer, lists are
  ``[x,y,...]``;
- :meth:`HParams.set_hparam` (and ``override_from_dict``, ``parse``,
  ``parse_json``, which all go through it) checks the new value against the
  type as TF1 did: no bool <-> number, no float -> int, no number -> string,
  int -> float allowed, a list only for a list hyperparameter; a
  hyperparameter whose initial value was ``None`` accepts anything.

Left out: the ``HParamDef`` protocol buffer (``hparam_def=``, ``to_proto``,
``from_proto``), which TensorFlow 2 no longer ships.
"""

from __future__ import annotations

import json
import numbers
import re
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

__all__ = ["HParams", "parse_values"]

# One clause of a parse() string: name, optional [index], '=', then a scalar
# (up to the next ',' or '[') or a bracketed list; then the end or a comma.
_CLAUSE = re.compile(r"""
    (?P<name>[a-zA-Z][\w.]*)
    (\[\s*(?P<index>\d+)\s*\])?
    \s*=\s*
    (?: (?P<val>[^,\[]*) | \[(?P<vals>[^\]]*)\] )
    ($|,\s*)
""", re.VERBOSE)


def _parse_error(name: str, type_: type, text: str, values: str) -> ValueError:
    return ValueError(f"Could not parse hparam '{name}' of type '{type_.__name__}' "
                      f"with value '{text}' in {values}")


def _reused(name: str, values: str) -> ValueError:
    return ValueError(f"Multiple assignments to variable '{name}' in {values}")


def _parser(name: str, type_: type, values: str) -> Callable[[str], Any]:
    """The function that turns one token of ``values`` into a value of ``type_``."""
    if type_ is not bool:
        return type_

    def parse_bool(text: str) -> bool:
        if text in ("true", "True"):
            return True
        if text in ("false", "False"):
            return False
        try:
            return bool(int(text))
        except ValueError:
            raise _parse_error(name, type_, text, values) from None

    return parse_bool


def parse_values(values: str, type_map: Mapping[str, type],
                 ignore_unknown: bool = False) -> Dict[str, Any]:
    """Parses ``"name=value,..."`` into a dict, each value of the type ``type_map`` names.

    Syntax per type: ints and floats as Python writes them (``-12``, ``1e-3``),
    bools as ``true``/``false`` (or ``True``/``False`` or an integer), strings
    as they stand (no commas or brackets), lists as ``[v1,v2,...]`` (elements
    separated by commas or spaces). ``name[i]=v`` assigns one list position.

    Args:
      values: the string to parse.
      type_map: hyperparameter name -> type of its value (of its elements, for
        a list).
      ignore_unknown: skip names missing from ``type_map`` instead of raising.

    Returns:
      name -> a scalar, a list, or (for ``name[i]=v`` clauses) a dict index -> value.

    Raises:
      ValueError: malformed text, an unknown name, a value the type cannot
        parse, a list assigned to an index, or a name assigned twice.
    """
    results: Dict[str, Any] = {}
    pos = 0
    while pos < len(values):
        match = _CLAUSE.match(values, pos)
        if not match:
            raise ValueError(f"Malformed hyperparameter value: {values[pos:]}")
        pos = match.end()
        name, index, val, vals = match.group("name", "index", "val", "vals")
        if name not in type_map:
            if ignore_unknown:
                continue
            raise ValueError(f"Unknown hyperparameter type for {name}")
        type_ = type_map[name]
        parse = _parser(name, type_, values)
        if val is not None:
            try:
                value = parse(val)
            except (ValueError, TypeError):
                raise _parse_error(name, type_, val, values) from None
            if index is None:
                if name in results:
                    raise _reused(name, values)
                results[name] = value
            else:
                positions = results.setdefault(name, {})
                if not isinstance(positions, dict):
                    raise _reused(name, values)
                if int(index) in positions:
                    raise _reused(f"{name}[{int(index)}]", values)
                positions[int(index)] = value
        elif vals is not None:
            if index is not None:
                raise ValueError("Assignment of a list to a list index.")
            if name in results:
                raise _reused(name, values)
            try:
                results[name] = [parse(token) for token in re.split("[ ,]", vals) if token]
            except (ValueError, TypeError):
                raise _parse_error(name, type_, vals, values) from None
        else:
            raise _parse_error(name, type_, "", values)
    return results


def _cast(name: str, param_type: type, value: Any) -> Any:
    """``value`` as ``param_type``, if TF1 allowed that conversion.

    Raises:
      ValueError: a non-string for a string, bool <-> non-bool, a non-integer
        for an int, or a non-number for a number.
    """
    if type(value) is param_type:  # isinstance would let True pass as an int
        return value
    if param_type is type(None):  # a hyperparameter created as None takes anything
        return value
    refused = (
        (issubclass(param_type, (str, bytes)) and not isinstance(value, (str, bytes)))
        or issubclass(param_type, bool) != isinstance(value, bool)
        or (issubclass(param_type, numbers.Integral) and not isinstance(value, numbers.Integral))
        or (issubclass(param_type, numbers.Number) and not isinstance(value, numbers.Number)))
    if refused:
        raise ValueError(f"Could not cast hparam '{name}' of type '{param_type}' from value {value!r}")
    return param_type(value)


class HParams:
    """Hyperparameters as attributes, each with the type of its initial value.

    Example::

        hparams = HParams(learning_rate=0.1, num_layers=2, cells=["lstm"])
        hparams.parse("learning_rate=0.3,cells=[gru,lstm]")
        hparams.learning_rate   # 0.3
        hparams.values()        # {'learning_rate': 0.3, 'num_layers': 2, 'cells': [...]}

    A name that is already an attribute (``parse``, ``values``, ...) cannot be
    a hyperparameter.
    """

    _HAS_DYNAMIC_ATTRIBUTES = True  # attributes are the hyperparameters (for type checkers)

    def __init__(self, hparam_def: Any = None, model_structure: Any = None, **kwargs: Any) -> None:
        """Creates the hyperparameters named by ``kwargs``.

        Args:
          hparam_def: TF1's serialized ``HParamDef``; not supported (TensorFlow
            2 has no such protocol buffer).
          model_structure: any object, kept for ``get_model_structure()``.
          **kwargs: hyperparameter name -> initial value (int, float, bool,
            str, or a non-empty list of those).

        Raises:
          TypeError: ``hparam_def`` was given.
          ValueError: a reserved name or an empty list.
        """
        # name -> (type of the value or of its elements, whether it is a list)
        self._hparam_types: Dict[str, Tuple[type, bool]] = {}
        self._model_structure = model_structure
        if hparam_def:
            raise TypeError("HParams(hparam_def=...) needs TF 1.x's HParamDef protocol buffer, which "
                            "TensorFlow 2 no longer ships; pass the values as keywords: "
                            "HParams(name=value, ...)")
        for name, value in kwargs.items():
            self.add_hparam(name, value)

    def add_hparam(self, name: str, value: Any) -> None:
        """Adds a hyperparameter; its type is that of ``value`` (of its first element for a list).

        Raises:
          ValueError: ``name`` is already an attribute, or ``value`` is an empty list.
        """
        if getattr(self, name, None) is not None:
            raise ValueError(f"Hyperparameter name is reserved: {name}")
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f"Multi-valued hyperparameters cannot be empty: {name}")
            self._hparam_types[name] = (type(value[0]), True)
        else:
            self._hparam_types[name] = (type(value), False)
        setattr(self, name, value)

    def set_hparam(self, name: str, value: Any) -> None:
        """Sets an existing hyperparameter, converting ``value`` to its type where TF1 allowed.

        Raises:
          KeyError: no hyperparameter ``name``.
          ValueError: a list for a scalar, a non-list for a list, or a value of
            an incompatible type.
        """
        param_type, is_list = self._hparam_types[name]
        if isinstance(value, list):
            if not is_list:
                raise ValueError(f"Must not pass a list for single-valued parameter: {name}")
            setattr(self, name, [_cast(name, param_type, v) for v in value])
        else:
            if is_list:
                raise ValueError(f"Must pass a list for multi-valued parameter: {name}.")
            setattr(self, name, _cast(name, param_type, value))

    def del_hparam(self, name: str) -> None:
        """Removes a hyperparameter; nothing happens if there is none of that name."""
        if hasattr(self, name):
            delattr(self, name)
            del self._hparam_types[name]

    def parse(self, values: str) -> "HParams":
        """Overrides hyperparameters from ``"name=value,..."`` (syntax: :func:`parse_values`).

        Returns:
          self.

        Raises:
          ValueError: see :func:`parse_values` and :meth:`set_hparam`.
        """
        type_map = {name: param_type for name, (param_type, _) in self._hparam_types.items()}
        return self.override_from_dict(parse_values(values, type_map))

    def override_from_dict(self, values_dict: Mapping[str, Any]) -> "HParams":
        """Sets each ``name: value`` with :meth:`set_hparam`; returns self."""
        for name, value in values_dict.items():
            self.set_hparam(name, value)
        return self

    def set_from_map(self, values_map: Mapping[str, Any]) -> "HParams":
        """TF1's deprecated name for :meth:`override_from_dict`."""
        return self.override_from_dict(values_map)

    def set_model_structure(self, model_structure: Any) -> None:
        self._model_structure = model_structure

    def get_model_structure(self) -> Any:
        return self._model_structure

    def to_json(self, indent: Optional[int] = None, separators: Optional[Tuple[str, str]] = None,
                sort_keys: bool = False) -> str:
        """The hyperparameters as a JSON object (arguments as for ``json.dumps``)."""
        return json.dumps(self.values(), indent=indent, separators=separators, sort_keys=sort_keys)

    def parse_json(self, values_json: str) -> "HParams":
        """Overrides hyperparameters from a JSON object, as :meth:`override_from_dict`; returns self."""
        return self.override_from_dict(json.loads(values_json))

    def values(self) -> Dict[str, Any]:
        """Hyperparameter name -> value, in the order they were added."""
        return {name: getattr(self, name) for name in self._hparam_types}

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` if there is no such hyperparameter.

        Raises:
          ValueError: ``key`` exists and ``default`` (not ``None``) could not be
            set as its value.
        """
        if key not in self._hparam_types:
            return default
        if default is not None:
            param_type, is_list = self._hparam_types[key]
            type_str = f"list<{param_type}>" if is_list else str(param_type)
            problem = f"Hparam '{key}' of type '{type_str}' is incompatible with default={default}"
            if is_list != isinstance(default, list):
                raise ValueError(problem)
            try:
                for value in (default if is_list else [default]):
                    _cast(key, param_type, value)
            except ValueError as exc:
                raise ValueError(f"{problem}. {exc}") from None
        return getattr(self, key)

    def __contains__(self, key: str) -> bool:
        return key in self._hparam_types

    def __str__(self) -> str:
        return ",".join(f"{name}={value}" for name, value in self.values().items())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({sorted(self.values().items())})"
