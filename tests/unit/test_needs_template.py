"""The template's needs, the pure part (core.needs_template): the Behov cell, the
Källa cell and the needs' header."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InputError
from core.ledger import Ledger
from core.model import Unit
from core.needs import NeedLinkEntry
from core.needs_template import (
    NEED_COLUMNS,
    NeedRef,
    is_needs_header,
    links_cell,
    need_rows,
    parse_need_rows,
    read_need_refs,
    read_source,
)
from core.template import COLUMNS

AT = datetime(2025, 3, 1, tzinfo=UTC)
TODAY = date(2025, 3, 1)


def test_a_behov_cell_names_needs_with_their_share_and_people() -> None:
    assert read_need_refs("B1; B3", 2) == [NeedRef("B1", 2), NeedRef("B3", 2)]
    assert read_need_refs("B1, B3\nB4", 2) == [NeedRef("B1", 2), NeedRef("B3", 2), NeedRef("B4", 2)]
    assert read_need_refs("B1 (25 %, 12 personer); B2 (33,33%); B3 (7 pers)", 5) == [
        NeedRef("B1", 5, share=2_500, people=12),
        NeedRef("B2", 5, share=3_333),
        NeedRef("B3", 5, people=7),
    ]
    assert read_need_refs(" ; ", 2) == []


@pytest.mark.parametrize(
    ("cell", "named"),
    [("B1 (en hel del)", "en hel del"), ("(25 %)", "(25 %)"), ("B1 (25 %, mycket)", "25 %, mycket")],
)
def test_a_behov_cell_that_cannot_be_read_is_refused_naming_it(cell: str, named: str) -> None:
    with pytest.raises(InputError) as refused:
        read_need_refs(cell, 2)
    assert named in refused.value.message and "(25 %, 12 personer)" in refused.value.message  # what is read


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Z]{1,3}-?[0-9]{1,3}", fullmatch=True),
            st.none() | st.integers(1, 10_000),
            st.none() | st.integers(0, 5_000),
        ),
        max_size=5,
        unique_by=lambda t: t[0],
    )
)
def test_the_behov_cell_written_by_an_export_reads_back_the_same(
    links: list[tuple[str, int | None, int | None]],
) -> None:
    entries = [NeedLinkEntry(key, 1, "HR", AT, people=people, share=share) for key, share, people in links]
    refs = read_need_refs(links_cell(entries), 2)
    assert [(r.key, r.share, r.people) for r in refs] == links


@pytest.mark.parametrize(
    ("cell", "source", "day"),
    [
        ("Kompetensförsörjningsplan 2024, 2024-03-12", "Kompetensförsörjningsplan 2024", date(2024, 3, 12)),
        ("Lägesbedömning (12 mars 2024)", "Lägesbedömning", date(2024, 3, 12)),
        ("Gapanalys förskolan", "Gapanalys förskolan", None),
        ("Underlag för budget 2018-2020", "Underlag för budget 2018-2020", None),  # years, not a date
    ],
)
def test_a_kalla_cell_is_the_document_and_perhaps_its_date(cell: str, source: str, day: date | None) -> None:
    assert read_source(cell, TODAY) == (source, day)


def test_the_needs_header_is_told_from_the_measures() -> None:
    assert is_needs_header(list(NEED_COLUMNS))
    assert is_needs_header(["id", "Yrkesgrupp", "Nämnd"])
    assert not is_needs_header(list(COLUMNS))  # the measures' Behov column is no needs sheet


def test_a_need_row_reads_back_what_need_rows_wrote() -> None:
    ledger = Ledger.build([Unit("FSKN", "Förskolenämnden", ("förskolan",))])
    row = dict.fromkeys(NEED_COLUMNS, "") | {
        "Id": "B1",
        "Nämnd": "förskolan",
        "Yrkesgrupp": "Förskollärare",
        "Typ": "kompetenshojning",
        "Kompetens": "Formell kompetens",
        "Antal": "1 200",
        "Pensionsavgångar 2 år": "40",
        "Period": "2024 till 2026",
        "Källa": "Plan, 2024-04-24",
        "Bedömd": "24/4 2024",
    }

    (planned,), errors = parse_need_rows([row], ledger, TODAY, author="HR", at=AT)

    assert errors == []
    assert (planned.row, planned.need.unit, planned.need.people, planned.need.period.label) == (
        2,
        "FSKN",
        1_200,
        "2024–2026",
    )
    (written,) = need_rows([planned.need])
    (again,), _ = parse_need_rows([written], ledger, TODAY, author="HR", at=AT)
    assert again.need == planned.need
