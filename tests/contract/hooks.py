"""Loaded by schemathesis before the run (SCHEMATHESIS_HOOKS).

CPython 3.11.7 keeps the AST converter's recursion counter per interpreter, not per thread
(CPython issue gh-106905, fixed in 3.11.8 and 3.12.2). With two workers, two threads that turn
source into an AST at the same moment (Hypothesis does so to describe a filter's lambda) can
corrupt it and fail with "SystemError: AST constructor recursion depth mismatch". Parsing one
source at a time avoids the race; nothing else about parsing changes.
"""

import ast
import threading

_parse = ast.parse
_one_at_a_time = threading.Lock()


def _serialized_parse(*args, **kwargs):
    with _one_at_a_time:
        return _parse(*args, **kwargs)


ast.parse = _serialized_parse
