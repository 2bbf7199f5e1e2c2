"""A competence need for the tests (issue 21): a need of a unit and a role, with the
defaults of a shortage role's replacement recruitment from a 2024 plan, any field
overridden by keyword. The services give it the time it is recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.needs import NeedEntry, NeedKind, Period, Recruitment

AT = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)


def need(key: str, unit: str, role: str, **changes: object) -> NeedEntry:
    values: dict[str, object] = dict(
        key=key,
        unit=unit,
        role=role,
        kind=NeedKind.REPLACEMENT,
        competence="Socionomexamen",
        recruitment=Recruitment.SHORTAGE,
        period=Period(2024, 2026),
        source="Kompetensförsörjningsplan 2024",
        source_date=date(2024, 2, 1),
        assessed=date(2024, 2, 1),
        author="Stadskontoret",
        at=AT,
    )
    values.update(changes)
    return NeedEntry(**values)  # type: ignore[arg-type]  # the defaults, overridden by keyword
