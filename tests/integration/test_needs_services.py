"""The needs' use cases on a real database (issue 21): assessed, linked and read
back within the person's permissions; money per role adds up with the unclaimed rest."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine

from bot.needs_services import NeedServices
from bot.services import Services
from core.errors import NotFound, PermissionDenied, RuleViolation
from core.model import Role
from core.needs import NeedEntry, NeedKind, Recruitment
from storage.examples import read_example
from tests.needs_builders import need as build_need

AT = datetime(2025, 5, 2, 9, 0, tzinfo=UTC)
TODAY = date(2025, 6, 5)


def need(key: str, unit: str, role: str, **changes: object) -> NeedEntry:
    """The shared builder's need (tests.needs_builders), upskilling from a plan assessed in 2022 (stale)."""
    values: dict[str, object] = dict(
        kind=NeedKind.UPSKILLING,
        competence="Formell behörighet",
        source="Kompetensförsörjningsplan",
        source_date=None,
        assessed=date(2022, 11, 1),
    )
    return build_need(key, unit, role, **{**values, **changes})


@pytest.fixture
def services(example_engine: Engine) -> NeedServices:
    services = NeedServices(example_engine, clock=lambda: AT)
    Services(example_engine).grant_role(None, "hr-fskn", Role.HR, "FSKN")
    Services(example_engine).grant_role(None, "chef-gvn", Role.CHEF, "GVN")
    return services


def fskn_measures(services: NeedServices) -> list[int]:
    return [v.measure.id for v in services.measures(None, unit="FSKN", year=2025, as_of=TODAY)]


def test_needs_are_read_within_permissions_with_their_money(services: NeedServices) -> None:
    first, second = fskn_measures(services)[:2]
    services.assess("hr-fskn", need("B1", "Förskolenämnden", "förskollärare", retirements=3, people=10))
    services.assess("hr-fskn", need("B2", "FSKN", "barnskötare", recruitment=Recruitment.BALANCE))
    services.assess(None, need("G1", "GVN", "yrkeslärare"))
    services.link("hr-fskn", "b1", str(first), author="HR FSKN", share=6_000)
    services.link("hr-fskn", "B2", str(first), author="HR FSKN")
    services.link("hr-fskn", "B1", str(second), author="HR FSKN")

    report = services.report("hr-fskn", 2025, today=TODAY)
    example = [n["key"] for n in read_example("malmo-2025")["needs"]]  # FSKN's own, from seed 003
    # GVN's need is not FSKN HR's to read
    assert sorted(v.need.key for v in report.needs) == sorted(["B1", "B2", *example])
    money = services.summary_ledger().measure_allocated
    linked = {link.measure_id for link in services.all_needs().links}  # the example's links too
    assert {first, second} <= linked
    assert sum(part for _, part in report.by_role) + report.unclaimed == sum(money(m, 2025) for m in linked)
    assert report.unclaimed == 0
    b1 = next(v for v in report.needs if v.need.key == "B1")
    assert b1.stale and b1.covered and [m.id for m in b1.measures] == [first, second]

    uncovered = services.report(None, 2025, today=TODAY, only_uncovered=True)
    # B1 and B2 are covered; the example's FSKN-2 and FSKN-4 have no measure
    assert sorted(v.need.key for v in uncovered.needs) == ["FSKN-2", "FSKN-4", "G1"]
    gvn = services.report("chef-gvn", 2025, today=TODAY)
    assert [v.need.key for v in gvn.needs] == ["G1"]
    with pytest.raises(NotFound, match="Kända behov: G1"):
        services.need("chef-gvn", "B1")


def test_hr_cannot_link_another_committees_need_nor_write_as_a_manager(services: NeedServices) -> None:
    services.assess(None, need("G1", "GVN", "yrkeslärare"))
    with pytest.raises(PermissionDenied):
        services.link("hr-fskn", "G1", str(fskn_measures(services)[0]), author="HR FSKN")
    with pytest.raises(PermissionDenied):
        services.assess("chef-gvn", need("G2", "GVN", "lärare"))


def test_an_unknown_need_is_refused_naming_only_the_needs_the_person_may_read(services: NeedServices) -> None:
    services.assess(None, need("G1", "GVN", "yrkeslärare"))
    services.assess("hr-fskn", need("B1", "FSKN", "förskollärare"))
    example = [n["key"] for n in read_example("malmo-2025")["needs"]]  # FSKN's own: HR of FSKN reads them
    known = re.escape(", ".join([*example, "B1"]))
    with pytest.raises(RuleViolation, match=rf"Kända behov: {known}\.") as refused:
        services.link("hr-fskn", "B9", str(fskn_measures(services)[0]), author="HR FSKN")
    assert "G1" not in str(refused.value)


def test_the_money_outside_the_needs_is_counted_so_the_parts_make_the_whole(services: NeedServices) -> None:
    """A stranger read "ej kopplat till behov: 0 kr" as all money answering a need, while
    two FSKN measures answered none: that money is counted apart, and the parts add up."""
    report = services.report("hr-fskn", 2025, today=TODAY)
    money = services.summary_ledger().measure_allocated
    whole = sum(money(m, 2025) for m in fskn_measures(services))
    linked = sum(part for _, part in report.by_role) + report.unclaimed
    amount, count = report.unlinked
    assert count > 0 and amount > 0
    assert linked + amount == whole
