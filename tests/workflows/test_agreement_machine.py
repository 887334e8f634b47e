"""The agreement workflow as declared, the signing route as data, and the signing material, without HTTP."""

from __future__ import annotations

import io
import itertools
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from statemachine import StateMachine

from templates.build_agreement import SEAL_PICTURES
from templates.build_files import build
from templates.pictures import replace_picture, replace_pictures
from workflows.agreements import keys
from workflows.agreements.machine import AGREEMENT_WORKFLOW, AgreementMachine
from workflows.agreements.models import Agreement, Signature
from workflows.agreements.parties import PARTIES, route_problems
from workflows.agreements.seals import draw_specimen_seal
from workflows.roles import Role

GRAPH = {
    s.value: {e: t.target.value for t in s.transitions for e in str(t.event).split()} for s in AgreementMachine.states
}


def test_declared_graph_matches_design():
    assert GRAPH == {
        "draft": {"send": "signing", "void": "voided"},
        "signing": {"sign": "signing", "decline": "returned", "void": "voided"},  # sign: effective when complete
        "returned": {"revise": "draft", "void": "voided"},
        "effective": {"terminate": "terminated", "expire": "expired"},
        "expired": {},
        "terminated": {},
        "voided": {},
    }
    assert {t.target.value for t in AgreementMachine.signing.transitions if str(t.event) == "sign"} == {
        "signing",
        "effective",
    }
    assert issubclass(AgreementMachine, StateMachine)


class _Record:
    def __init__(self, state: str, complete: bool = False) -> None:
        self.state, self.route_complete, self.version, self.id = state, complete, 1, uuid.uuid4()


def test_send_is_an_event_and_the_machine_still_fires_by_name():
    record = _Record("draft")
    assert AGREEMENT_WORKFLOW.allowed_events(record, Role.OFFICER) == ["send", "void"]
    AgreementMachine(model=record, state_field="state").send("send")
    assert record.state == "signing"
    AgreementMachine(model=record, state_field="state").send("sign")
    assert record.state == "signing"
    record.route_complete = True
    AgreementMachine(model=record, state_field="state").send("sign")
    assert record.state == "effective"


def _agreement(route: list[list[str]]) -> Agreement:
    agreement = Agreement(route=route, round=1, lead_kindergarten_id=uuid.uuid4(), pillar_kindergarten_id=uuid.uuid4(),
                          member_kindergarten_id=uuid.uuid4())  # fmt: skip
    agreement.signatures = []
    return agreement


routes = st.permutations(PARTIES).flatmap(
    lambda order: st.lists(st.integers(1, 3), min_size=1, max_size=4).map(lambda sizes: _split(list(order), sizes))
)


def _split(order: list[str], sizes: list[int]) -> list[list[str]]:
    steps, rest = [], order
    for size in itertools.cycle(sizes):
        if not rest:
            return steps
        steps.append(rest[:size])
        rest = rest[size:]
    return steps


@settings(deadline=None)  # the first example configures the ORM mappers
@given(route=routes, data=st.data())
def test_a_route_is_signed_step_by_step_and_only_then_complete(route: list[list[str]], data: st.DataObject):
    assert route_problems(route) == []
    agreement = _agreement(route)
    for index, step in enumerate(route):
        for party in data.draw(st.permutations(step)):
            assert agreement.current_step == index and party in agreement.awaiting
            later = [p for s in route[index + 1 :] for p in s]
            assert not set(later) & set(agreement.awaiting)
            agreement.signatures.append(Signature(round=1, party=party, signed_at=datetime.now(UTC)))
    assert agreement.route_complete and agreement.awaiting == [] and agreement.current_step is None
    # A signature of an earlier round, or a voided one, does not count.
    agreement.round = 2
    assert agreement.current_step == 0 and not agreement.route_complete


def test_route_problems_name_what_is_wrong():
    assert [p.code for p in route_problems([["member"], [], ["lead", "pillar", "bureau"]])] == ["empty_step"]
    assert [p.code for p in route_problems([["member", "lead"], ["pillar"]])] == ["incomplete"]
    assert [p.code for p in route_problems([["member", "lead", "pillar", "bureau", "mayor"]])] == ["unknown_party"]


@pytest.mark.parametrize(
    ("pin", "ok"),
    [("135790", True), ("583920", True), ("123456", False), ("987654", False), ("000000", False), ("12345", False),
     ("12345a", False), ("8901234", False)],
)  # fmt: skip
def test_pin_rules(pin: str, ok: bool):
    assert (keys.pin_problem(pin) is None) is ok


def test_specimen_seals_say_so_and_fill_the_placeholders():
    seal = draw_specimen_seal("青山湖区某某幼儿园 A&B<幼儿园>")
    with Image.open(io.BytesIO(seal)) as image:
        assert image.mode == "RGBA" and image.size == (480, 480)
        assert image.getpixel((240, 25))[3] > 0 and image.getpixel((240, 5))[3] == 0  # the red ring
    template = build("agreement.docx")
    filled = replace_pictures(template, dict.fromkeys(SEAL_PICTURES.values(), seal))
    assert filled == replace_pictures(template, dict.fromkeys(SEAL_PICTURES.values(), seal))  # deterministic
    with pytest.raises(KeyError):
        replace_picture(template, name="no-such-picture", content=seal)
    with pytest.raises(ValueError):
        replace_picture(template, name=SEAL_PICTURES["lead"], content=b"GIF89a")
