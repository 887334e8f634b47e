"""What the ``*Out`` schemas are built from: ORM rows read through ``from_attributes``.

A schema whose fields are all attributes of the row is built with ``FooOut.model_validate(row)``; a label
derived from a code of the row is a ``@computed_field`` of the schema. Values that need more than the row
(the viewer's allowed events, a count from another query, a nested presenter with its own context) are
passed with :class:`Presented`, the row seen with those few extra attributes.
"""

from __future__ import annotations

from typing import Any


class Presented:
    """``obj`` with extra attributes: ``Presented(row, allowed_events=[...])`` reads ``allowed_events``
    from the keyword and everything else from ``row`` (no copy, so no attribute is read before the schema
    asks for it)."""

    def __init__(self, obj: object, /, **extra: object) -> None:
        self._obj = obj
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._obj, name)
