"""workflows.presenters.Presented: a row with a few extra attributes, read by from_attributes schemas."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from workflows.presenters import Presented


class Row:
    def __init__(self) -> None:
        self.reads: list[str] = []

    def __getattribute__(self, name: str) -> object:
        if name not in ("reads", "__dict__", "__class__"):
            object.__getattribute__(self, "reads").append(name)
        return object.__getattribute__(self, name)

    @property
    def code(self) -> str:
        return "a"

    @property
    def state(self) -> str:
        return "draft"

    @property
    def children(self) -> list[str]:
        raise AssertionError("a relationship the schema does not name is never loaded")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    state: str
    state_label: str


def test_extras_win_and_the_rest_is_read_from_the_row() -> None:
    row = Row()
    out = Out.model_validate(Presented(row, state_label="草稿", code="b"))
    assert out.model_dump() == {"code": "b", "state": "draft", "state_label": "草稿"}
    assert out.model_dump_json() == '{"code":"b","state":"draft","state_label":"草稿"}'
    assert row.reads == ["state"]  # only what the schema names and the extras do not give


def test_a_missing_attribute_is_a_validation_error_not_a_silent_default() -> None:
    class Bare:
        code = "a"

    with pytest.raises(ValidationError, match="state"):
        Out.model_validate(Presented(Bare(), state_label="草稿"))
