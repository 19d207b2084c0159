"""Legacy scripts on today's NumPy: tell a NumPy failure from a TensorFlow one, and the way out.

TF 1.x code was written for NumPy 1.x. NumPy 1.24 removed the aliases of
Python's builtins (``np.float``, ``np.int``, ``np.bool``, ``np.object``,
``np.complex``, ``np.str``, ``np.long``, ``np.unicode``), NumPy 1.23
``np.asscalar``, and NumPy 2.0 a set of spellings (``np.float_``,
``np.NaN``, ``np.Inf``, ``np.product``, ...; :data:`REMOVED`).

:func:`diagnosis` turns such a failure into one line saying so, and naming the
ways to run the script unchanged: ``--numpy-aliases``, which restores exactly
these names, with their old meaning, for that run only (:func:`aliases`;
recorded in the capture), or an environment with an older NumPy.
"""

from __future__ import annotations

import contextlib
import re
from typing import Callable, Dict, Iterator, Optional, Tuple

import numpy as np

_MISSING = object()


def _removed() -> Dict[str, Tuple[str, Callable[[], object]]]:
    """Removed NumPy name -> (the release that removed it, what it meant)."""
    builtin = {"float": float, "int": int, "bool": bool, "object": object, "complex": complex,
               "str": str, "long": int, "unicode": str}
    names: Dict[str, Tuple[str, Callable[[], object]]] = {
        name: ("1.24", (lambda value=value: value)) for name, value in builtin.items()}
    names["asscalar"] = ("1.23", lambda: (lambda a: np.asarray(a).item()))
    numpy2 = {"float_": "float64", "complex_": "complex128", "unicode_": "str_",
              "string_": "bytes_", "Inf": "inf", "Infinity": "inf", "infty": "inf",
              "NaN": "nan", "PINF": "inf", "NINF": None, "product": "prod",
              "cumproduct": "cumprod", "sometrue": "any", "alltrue": "all", "round_": "round",
              "float96": None, "cfloat": "complex128", "singlecomplex": "complex64",
              "longfloat": "longdouble", "longcomplex": "clongdouble", "clongfloat": "clongdouble",
              "Bool8": "bool_", "bool8": "bool_", "object0": "object_", "int0": "intp",
              "uint0": "uintp", "msort": None}
    for name, target in numpy2.items():
        if name == "NINF":
            names[name] = ("2.0", lambda: -np.inf)
        elif name == "msort":
            names[name] = ("2.0", lambda: (lambda a: np.sort(a, axis=0)))
        elif target is not None:
            names[name] = ("2.0", lambda target=target: getattr(np, target))
    return names


REMOVED = _removed()
_ATTRIBUTE_ERROR = re.compile(r"module 'numpy' has no attribute '(\w+)'")


@contextlib.contextmanager
def aliases() -> Iterator[Dict[str, str]]:
    """Restore the removed names this NumPy lacks, for the block only; yields name -> release."""
    restored: Dict[str, str] = {}
    saved: Dict[str, object] = {}
    for name, (release, value) in REMOVED.items():
        if name in np.__dict__:
            continue
        saved[name] = np.__dict__.get(name, _MISSING)
        setattr(np, name, value())
        restored[name] = release
    try:
        yield restored
    finally:
        for name, value in saved.items():
            if value is _MISSING:
                np.__dict__.pop(name, None)
            else:
                setattr(np, name, value)


def diagnosis(exc: BaseException) -> Optional[str]:
    """One line when ``exc`` is a legacy script failing on a name today's NumPy removed."""
    match = _ATTRIBUTE_ERROR.search(str(exc)) if isinstance(exc, AttributeError) else None
    if match is None or match.group(1) not in REMOVED:
        return None
    name = match.group(1)
    release = REMOVED[name][0]
    return (f"the script failed on NumPy, not TensorFlow: np.{name} was removed in NumPy "
            f"{release} (this is NumPy {np.__version__}); run it unchanged with "
            f"`tf1-lstm run --numpy-aliases ...` (restores the removed aliases for that run "
            f"only, recorded in the capture) or in an environment with numpy<{release}")
