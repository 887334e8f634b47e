"""The ranges of the integers callers send: outside them the answer is 422 naming the field, never a
database overflow (500) on a 32-bit column or a year no calendar function takes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

INT32_MAX = 2**31 - 1
# A record's optimistic-lock version (an INTEGER column).
Version = Annotated[int, Field(ge=0, le=INT32_MAX)]
# A school or calendar year asked about.
YEAR_MIN, YEAR_MAX = 2000, 2100
# How far into a list a page may start.
OFFSET_MAX = 1_000_000
