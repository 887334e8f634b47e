"""The publication recommendation workflow (推荐发表, policy §三(2)3), declared once."""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.machine import EventRule, Workflow
from workflows.roles import Role

# The teaching-research office screens recommendations and sends them on; the section may too.
REVIEWERS = frozenset({Role.RESEARCHER, Role.OFFICER})
# Who may recommend an item: its alliance's lead, and the bureau's professional sections.
RECOMMENDERS = frozenset({Role.LEAD, Role.RESEARCHER, Role.OFFICER})


class RecommendationMachine(StateMachine):
    recommended = State("已推荐", initial=True, value="recommended")
    shortlisted = State("已入围", value="shortlisted")
    submitted = State("已报送", final=True, value="submitted")
    declined = State("未入选", final=True, value="declined")

    shortlist = recommended.to(shortlisted)
    submit = shortlisted.to(submitted)
    decline = recommended.to(declined) | shortlisted.to(declined)


RECOMMENDATION_WORKFLOW = Workflow(
    entity_type="library_recommendation",
    machine=RecommendationMachine,
    rules={
        "shortlist": EventRule(REVIEWERS, "入围"),
        "submit": EventRule(REVIEWERS, "报送刊物"),
        "decline": EventRule(REVIEWERS, "不予推荐", comment_required=True, comment_label="理由"),
    },
    state_labels={s.value: s.name for s in RecommendationMachine.states},
)

# The journals the policy names for lesson cases and reflections; others are typed in.
DEFAULT_JOURNALS = {"lesson_case": "《在课例研究中进步》", "reflection": "《在教学反思中成长》"}
