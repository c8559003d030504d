"""The NOT_GIVEN sentinel, which distinguishes an argument left out from one passed as None."""

from __future__ import annotations

import enum
from typing import Final, Literal, TypeAlias, TypeVar

__all__ = ["NOT_GIVEN", "NotGiven", "NotGivenOr"]

T = TypeVar("T")


class NotGiven(enum.Enum):
    """Type of NOT_GIVEN. `update(name=None)` clears a field; leaving `name` out keeps it."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


NOT_GIVEN: Final = NotGiven.NOT_GIVEN

NotGivenOr: TypeAlias = T | NotGiven
