"""Tell a script written for Python 2 from one that fails on TensorFlow.

Much TF 1.x code was Python 2 (TF 1.x supported it until 2020). On Python 3
such a script fails on a builtin Python 3 removed (``xrange``, ``unicode``,
``raw_input``, ...), a ``dict`` method that is gone (``iteritems``,
``has_key``), or the ``print`` statement. :func:`diagnosis` says so in one
line. Nothing is restored: Python 2 code also *means* other things on Python 3
(``/`` between integers, ``map`` returning an iterator, bytes and text), so
running it with the old names back would compute silently different numbers;
it has to be ported (``2to3`` does most of it).
"""

from __future__ import annotations

import re
from typing import Optional

# Python 2 builtin -> its Python 3 counterpart.
BUILTINS = {"xrange": "range", "unicode": "str", "basestring": "str", "long": "int",
            "unichr": "chr", "raw_input": "input", "reduce": "functools.reduce",
            "execfile": "exec(open(f).read())", "file": "open", "cmp": "(a > b) - (a < b)",
            "reload": "importlib.reload", "buffer": "memoryview"}
DICT_METHODS = {"iteritems": "items", "iterkeys": "keys", "itervalues": "values",
                "has_key": "the in operator", "viewitems": "items", "viewkeys": "keys",
                "viewvalues": "values"}
_NAME = re.compile(r"name '(\w+)' is not defined")
_DICT = re.compile(r"'dict' object has no attribute '(\w+)'")
_PRINT = re.compile(r"Missing parentheses in call to 'print'")
_TAIL = ("; tf1_lstm runs Python 3 only and restores nothing of Python 2 (its `/`, `map` and "
         "strings mean other things): port the script (2to3 does most of it)")


def diagnosis(exc: BaseException) -> Optional[str]:
    """One line when ``exc`` is Python 2 code failing on Python 3, else ``None``."""
    text = str(exc)
    if isinstance(exc, NameError):
        match = _NAME.search(text)
        if match and match.group(1) in BUILTINS:
            name = match.group(1)
            return (f"the script is Python 2 code, not a TensorFlow failure: {name} is Python "
                    f"2's ({BUILTINS[name]} in Python 3)" + _TAIL)
    if isinstance(exc, AttributeError):
        match = _DICT.search(text)
        if match and match.group(1) in DICT_METHODS:
            name = match.group(1)
            return (f"the script is Python 2 code, not a TensorFlow failure: dict.{name} is "
                    f"Python 2's ({DICT_METHODS[name]} in Python 3)" + _TAIL)
    if isinstance(exc, SyntaxError) and _PRINT.search(text):
        return ("the script is Python 2 code, not a TensorFlow failure: the print statement "
                "is Python 2's (print() in Python 3)" + _TAIL)
    return None
