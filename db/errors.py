"""Business-rule failures raised by ``db`` functions.

A mutation resolver catches :class:`RuleViolation` and returns it as a ``UserError``: ``code``
is the contract's error code, ``field`` the path to the offending argument of the ``db``
function (snake_case; the GraphQL layer camel-cases it), ``message`` says what to do.
The caller's transaction must then be rolled back: the function may have written before it
found the problem.
"""

from __future__ import annotations


class RuleViolation(Exception):
    def __init__(self, code: str, message: str, *, field: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"RuleViolation({self.code!r}, {self.message!r}, field={self.field!r})"
