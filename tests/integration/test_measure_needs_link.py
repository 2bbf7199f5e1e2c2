"""Issue 21: a new measure linked to the needs it answers in the same write as the measure
(Services.submit_measure(needs=...)), on a real database: a need of another committee, an
unknown one, or one the core refuses leaves nothing written, not even the measure."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine

from bot.needs_services import NeedServices
from core.errors import RuleViolation
from core.model import Decision, Measure, Role
from core.needs import NeedEntry, NeedKind, Period, Recruitment

AT = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
DECISION = Decision("ASN", date(2025, 1, 23), "36")


def need(key: str, unit: str, role: str, kind: NeedKind = NeedKind.REPLACEMENT) -> NeedEntry:
    return NeedEntry(
        key=key,
        unit=unit,
        role=role,
        kind=kind,
        competence="Socionomexamen",
        recruitment=Recruitment.SHORTAGE,
        period=Period(2024, 2026),
        source="Kompetensförsörjningsplan 2024",
        assessed=date(2024, 2, 1),
        author="Stadskontoret",
        at=AT,
    )


@pytest.fixture
def services(example_engine: Engine) -> NeedServices:
    services = NeedServices(example_engine, org="malmo", clock=lambda: AT)
    services.grant_role(None, "hr-asn", Role.HR, "ASN")
    services.assess(None, need("S1", "ASN", "socialsekreterare"))
    services.assess(None, need("S2", "ASN", "biståndshandläggare"))
    services.assess(None, need("S9", "ASN", "personliga assistenter", NeedKind.SURPLUS))
    services.assess(None, need("G1", "GVN", "yrkeslärare"))
    return services


def measure(title: str = "Handledning för socialsekreterare") -> Measure:
    return Measure(0, title, ("ASN",), 2025)


def state(services: NeedServices) -> tuple[int, int]:
    return len(services.ledger().measures), len(services.all_needs().entries)


def test_the_measure_and_its_links_are_written_together(services: NeedServices) -> None:
    measures, entries = state(services)
    stored = services.submit_measure(
        "hr-asn", measure(), {"ASN": 100_000}, DECISION, "Hanna HR", needs=["s1", "S2", "S1"]
    )
    assert state(services) == (measures + 1, entries + 2)  # "s1" and "S1" are the same need: once
    links = services.all_needs().links_of_measure(stored.id)
    assert [(link.need, link.author, link.author_id) for link in links] == [
        ("S1", "Hanna HR", "hr-asn"),
        ("S2", "Hanna HR", "hr-asn"),
    ]
    report = services.report("hr-asn", 2025, today=date(2025, 6, 5), only_uncovered=True)
    assert [v.need.key for v in report.needs] == ["S9"]  # the new measure answers S1 and S2


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("G1", 'Behovet "G1" är inget av ASN:s behov, så insatsen kan inte kopplas till det.'),
        ("B99", 'Behovet "B99" är inget av ASN:s behov'),
        ("S9", "KOM-KR"),  # a surplus need on this fund's money needs a note (core.rules.needs)
    ],
)
def test_a_refused_need_leaves_nothing_written(services: NeedServices, key: str, reason: str) -> None:
    before = state(services)
    with pytest.raises(RuleViolation) as refused:
        services.submit_measure("hr-asn", measure(), {"ASN": 100_000}, DECISION, needs=["S1", key])
    assert reason in str(refused.value)
    assert state(services) == before  # not the measure, not the link to S1
    assert "G1" not in str(refused.value) or key == "G1"  # another committee's ids are not listed
