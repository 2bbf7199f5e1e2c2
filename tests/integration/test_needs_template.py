"""The template's competence needs (issue 21): the sheet "Behov" of an XLSX
template, or a CSV file of needs recognised by its header, and the measure
sheet's column "Behov", imported atomically through bot.data_services on
SQLite and (when configured) PostgreSQL, with the Malmö 2025 example loaded
(FSKN has the needs FSKN-1 to FSKN-4, two of them linked)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy.engine import Engine

from bot.data_services import ImportResult, import_files
from bot.needs_services import NeedServices
from bot.services import Services
from core.errors import DomainError
from core.model import Role
from core.needs import NeedKind, Period, Recruitment
from core.needs_template import NEED_COLUMNS
from core.template import COLUMNS, TemplateError
from tests.integration.test_cli import Kb, city, kb, loaded_example  # noqa: F401  # fixtures, named below
from tests.integration.test_templates import AS_OF, _excel_cell, counts, export_files, needs_of, row

# --- writing files like Excel does --------------------------------------------------


def need_row(**cells: str) -> list[str]:
    """A needs row in NEED_COLUMNS order; keyword names use _ for spaces, "Pens" for
    "Pensionsavgångar 2 år"."""
    named = {("Pensionsavgångar 2 år" if k == "Pens" else k.replace("_", " ")): v for k, v in cells.items()}
    unknown = set(named) - set(NEED_COLUMNS)
    assert not unknown, unknown
    return [named.get(c, "") for c in NEED_COLUMNS]


def write_xlsx(path: Path, measures: list[list[str]] | None, needs: list[list[str]] | None) -> Path:
    """A workbook with the measures on its first sheet and the needs on the sheet "Behov"."""
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Insatser"
    for index, lines in enumerate((measures, needs)):
        if lines is None:
            continue
        sheet = first if index == 0 else book.create_sheet("Behov")
        sheet.append(lines[0])
        for line in lines[1:]:
            sheet.append([_excel_cell(c) for c in line])
    if measures is None:
        book.remove(first)
    book.save(path)
    return path


def write_csv(path: Path, lines: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(lines)
    return path


def template(
    folder: Path, fmt: str, measures: list[list[str]] | None, needs: list[list[str]] | None
) -> list[Path]:
    """The files of a template: one XLSX workbook, or a CSV file for each part."""
    if fmt == "xlsx":
        return [write_xlsx(folder / "mall.xlsx", measures, needs)]
    paths = []
    if measures is not None:
        paths.append(write_csv(folder / "insatser.csv", measures))
    if needs is not None:
        paths.append(write_csv(folder / "behov.csv", needs))
    return paths


def import_paths(engine: Engine, paths: list[Path], user: str | None = None) -> ImportResult:
    return import_files(
        engine, None, user, paths, year=2025, as_of=AS_OF, decision_text="nämnd 2025-02-05 § 5"
    )


def state(engine: Engine) -> tuple[tuple[int, int, int], int]:
    """What a refused import must leave untouched: ledger entries, measures, follow-ups, need entries."""
    return counts(engine), len(NeedServices(engine).all_needs().entries)


def refused(engine: Engine, paths: list[Path], user: str | None = None) -> TemplateError:
    before = state(engine)
    with pytest.raises(TemplateError) as refusal:
        import_paths(engine, paths, user)
    assert state(engine) == before, "a refused import wrote to the database"
    return refusal.value


# --- a good template -------------------------------------------------------------------

NEEDS = [
    list(NEED_COLUMNS),
    need_row(
        Id="G1",
        Nämnd="gymnasiet",
        Område="Vård- och omsorgsprogrammet",
        Yrkesgrupp="Yrkeslärare",
        SSYK="2320",
        Typ="ersättningsrekrytering",
        Kompetens="Yrkeslärare i vård och omsorg med behörighet",
        Antal="12",
        Pens="4",
        Rekryteringsläge="Brist",
        Period="2025-2027",
        Källa="Kompetensförsörjningsplan GVF 2025, 2025-01-15",
        Bedömd="2025-01-20",
    ),
    need_row(
        Id="G2",
        Nämnd="GVN",
        Yrkesgrupp="Studie- och yrkesvägledare",
        Typ="Introduktion",
        Kompetens="Introduktion för nya vägledare",
        Period="2025",
        Källa="Gapanalys vuxenutbildningen",
        Bedömd="3 februari 2025",
    ),
]
MEASURES = [
    list(COLUMNS),
    row(
        Nämnd="GVN",
        Insats="Behörighetsgivande utbildning för yrkeslärare",
        Beviljat_belopp="300 tkr",
        Slutdatum="2025-12-31",
        Behov="G1 (60 %, 8 personer); FSKN-2",  # FSKN-2: the example's, stored before
    ),
    row(Nämnd="GVN", Insats="Vägledarnätverk", Slutdatum="2025-11-30", Behov="g2"),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_good_template_imports_its_needs_and_links_them_to_its_measures(
    example_engine: Engine, tmp_path: Path, fmt: str
) -> None:
    (entries, measures, followups), need_entries = state(example_engine)

    result = import_paths(example_engine, template(tmp_path, fmt, MEASURES, NEEDS))

    assert [m.title for m in result.measures] == [
        "Behörighetsgivande utbildning för yrkeslärare",
        "Vägledarnätverk",
    ]
    assert [n.key for n in result.needs] == ["G1", "G2"]
    assert state(example_engine) == ((entries + 1, measures + 2, followups), need_entries + 2 + 3)
    found = NeedServices(example_engine).all_needs()
    g1, g2 = found.get("G1"), found.get("G2")
    assert g1 is not None and g2 is not None
    assert (g1.unit, g1.area, g1.role, g1.ssyk) == (
        "GVN",
        "Vård- och omsorgsprogrammet",
        "Yrkeslärare",
        "2320",
    )
    assert (g1.kind, g1.recruitment, g1.period) == (
        NeedKind.REPLACEMENT,
        Recruitment.SHORTAGE,
        Period(2025, 2027),
    )
    assert (g1.people, g1.retirements) == (12, 4)
    assert (g1.source, g1.source_date, g1.assessed) == (
        "Kompetensförsörjningsplan GVF 2025",
        date(2025, 1, 15),
        date(2025, 1, 20),
    )
    # an empty Rekryteringsläge is "vet ej"; a Källa without a date has none
    assert (g2.recruitment, g2.period, g2.source_date, g2.assessed) == (
        Recruitment.UNKNOWN,
        Period(2025, 2025),
        None,
        date(2025, 2, 3),
    )
    titles = {m.id: m.title for m in Services(example_engine).ledger().measures.values()}
    new_links = {(link.need, titles[link.measure_id], link.share, link.people) for link in result.links}
    assert new_links == {
        ("G1", "Behörighetsgivande utbildning för yrkeslärare", 6_000, 8),
        ("FSKN-2", "Behörighetsgivande utbildning för yrkeslärare", None, None),
        ("G2", "Vägledarnätverk", None, None),  # "g2": the key as the need has it
    }
    uncovered = NeedServices(example_engine).report(None, 2025, today=date(2025, 6, 5), only_uncovered=True)
    # FSKN-2 is answered now; G2's measure has no money, so in a city with a fund it answers nothing
    assert [v.need.key for v in uncovered.needs] == ["FSKN-4", "G2"]


def test_a_csv_file_of_needs_alone_imports_the_needs_and_again_changes_nothing(
    example_engine: Engine, tmp_path: Path
) -> None:
    paths = template(tmp_path, "csv", None, NEEDS)
    result = import_paths(example_engine, paths)

    assert (result.measures, [n.key for n in result.needs], result.links) == ((), ["G1", "G2"], ())
    before = state(example_engine)
    again = import_paths(example_engine, paths)  # the same file again: nothing new to write
    assert (again.needs, again.unchanged) == ((), ("G1", "G2"))
    assert state(example_engine) == before


def test_an_xlsx_file_without_a_needs_sheet_imports_as_before(example_engine: Engine, tmp_path: Path) -> None:
    measures = [list(COLUMNS)[:-1], row(Nämnd="GVN", Insats="Utan behov", Slutdatum="2025-12-31")[:-1]]

    result = import_paths(example_engine, template(tmp_path, "xlsx", measures, None))

    assert ([m.title for m in result.measures], result.needs, result.links) == (["Utan behov"], (), ())


# --- bad templates: every bad cell named, nothing written -------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_bad_cell_of_the_needs_and_the_behov_column_is_named_and_nothing_written(
    example_engine: Engine, tmp_path: Path, fmt: str
) -> None:
    good = dict(Nämnd="GVN", Yrkesgrupp="Lärare", Typ="Kompetenshöjning", Kompetens="Digital kompetens")
    dated = dict(Period="2025", Källa="Gapanalys", Bedömd="2025-02-01")
    needs = [
        list(NEED_COLUMNS),
        need_row(Id="N1", **good, **dated),  # 2: good
        need_row(Id="N2", **{**good, "Nämnd": "Rymdnämnden"}, **dated),  # 3
        need_row(Id="N3", **{**good, "Typ": "Omplacering"}, **dated),  # 4
        need_row(Id="N4", **good, **dated, Rekryteringsläge="katastrof"),  # 5
        need_row(Id="N5", **good, **{**dated, "Period": "2027-2025"}),  # 6
        need_row(Id="N6", **good, **{**dated, "Bedömd": "2052-01-01"}),  # 7
        need_row(Id="N7", **good, **dated, Antal="tolv"),  # 8
        need_row(Id="N8", **good, **dated, Antal="3", Pens="5"),  # 9
        need_row(Id="N9", **good, **dated, SSYK="23"),  # 10
        need_row(**good, **dated),  # 11: no Id
        need_row(Id="n1", **good, **dated),  # 12: N1 again
        need_row(Id="N12", **{**good, "Yrkesgrupp": "", "Kompetens": ""}, **dated),  # 13
        need_row(Id="N13", **good, **{**dated, "Källa": "2025-01-01"}),  # 14
        need_row(Id="N14", **good, **{**dated, "Källa": "", "Bedömd": ""}),  # 15
        [""] * len(NEED_COLUMNS),  # 16: empty
        need_row(Id="N16", **good, **dated, Antal="-2"),  # 17
        need_row(Id="N17", Nämnd="GVN", Typ="Omplacering", Kompetens="x", Antal="1", Pens="2", **dated),  # 18
    ]
    measures = [
        list(COLUMNS),
        row(Nämnd="GVN", Insats="Bra insats", Slutdatum="2025-12-31", Behov="N1"),  # 2
        row(Nämnd="GVN", Insats="Okänt behov", Slutdatum="2025-12-31", Behov="N1; X9"),  # 3
        row(Nämnd="GVN", Insats="Oläslig andel", Slutdatum="2025-12-31", Behov="N1 (en hel del)"),  # 4
        row(Nämnd="Rymdnämnden", Insats="Fel på raden", Behov="X8"),  # 5: both named
    ]

    error = refused(example_engine, template(tmp_path, fmt, measures, needs))

    sheet = "Behov" if fmt == "xlsx" else "behov.csv"
    found = {(e.sheet, e.row, e.column) for e in error.row_errors}
    assert found == {
        (None, 3, "Behov"),
        (None, 4, "Behov"),
        (None, 5, "Nämnd"),
        (None, 5, "Behov"),
        (sheet, 3, "Nämnd"),
        (sheet, 4, "Typ"),
        (sheet, 5, "Rekryteringsläge"),
        (sheet, 6, "Period"),
        (sheet, 7, "Bedömd"),
        (sheet, 8, "Antal"),
        (sheet, 9, "Pensionsavgångar 2 år"),
        (sheet, 10, "SSYK"),
        (sheet, 11, "Id"),
        (sheet, 12, "Id"),
        (sheet, 13, "Yrkesgrupp"),
        (sheet, 13, "Kompetens"),
        (sheet, 14, "Källa"),
        (sheet, 15, "Källa"),
        (sheet, 15, "Bedömd"),
        (sheet, 17, "Antal"),
        (sheet, 18, "Typ"),  # a row with three bad cells names all three
        (sheet, 18, "Yrkesgrupp"),
        (sheet, 18, "Pensionsavgångar 2 år"),
    }
    messages = {(e.sheet, e.row, e.column): e.message for e in error.row_errors}
    assert "X9" in messages[(None, 3, "Behov")] and "Kända behov: N1" in messages[(None, 3, "Behov")]
    assert "en hel del" in messages[(None, 4, "Behov")]
    assert "X8" in messages[(None, 5, "Behov")]
    assert "Rymdnämnden" in messages[(sheet, 3, "Nämnd")]
    assert "Omplacering" in messages[(sheet, 4, "Typ")] and "Kompetenshöjning" in messages[(sheet, 4, "Typ")]
    assert (
        "katastrof" in messages[(sheet, 5, "Rekryteringsläge")]
        and "vet ej" in messages[(sheet, 5, "Rekryteringsläge")]
    )
    assert "2027-2025" in messages[(sheet, 6, "Period")]
    assert "efter dagens datum" in messages[(sheet, 7, "Bedömd")]
    assert "tolv" in messages[(sheet, 8, "Antal")] and "heltal" in messages[(sheet, 8, "Antal")]
    assert "högst 3" in messages[(sheet, 9, "Pensionsavgångar 2 år")]
    assert "fyra siffror" in messages[(sheet, 10, "SSYK")]
    assert "Id saknas" in messages[(sheet, 11, "Id")]
    assert "rad 2" in messages[(sheet, 12, "Id")]
    assert "bara ett datum" in messages[(sheet, 14, "Källa")]
    assert "Källa saknas" in messages[(sheet, 15, "Källa")]
    assert "negativt" in messages[(sheet, 17, "Antal")]
    shown = [str(e) for e in error.row_errors]
    assert shown[0].startswith("Rad 3, kolumn Behov: ")  # the measures' sheet first, as before
    assert f"{sheet}, rad 3, kolumn Nämnd: " in error.message


def test_a_bad_measure_writes_none_of_the_good_needs(example_engine: Engine, tmp_path: Path) -> None:
    measures = [list(COLUMNS), row(Nämnd="GVN", Insats="För dyr", Beviljat_belopp="50 mkr", Behov="G1")]

    error = refused(example_engine, template(tmp_path, "xlsx", measures, NEEDS))

    assert [(e.sheet, e.row, e.column) for e in error.row_errors] == [(None, 2, "Beviljat belopp")]
    assert NeedServices(example_engine).all_needs().get("G1") is None


def test_a_bad_need_writes_none_of_the_good_measures(example_engine: Engine, tmp_path: Path) -> None:
    needs = [*NEEDS, need_row(Id="G3", Nämnd="GVN", Yrkesgrupp="Lärare", Typ="Utökning", Kompetens="x")]

    error = refused(example_engine, template(tmp_path, "csv", MEASURES, needs))

    assert {(e.sheet, e.row, e.column) for e in error.row_errors} == {
        ("behov.csv", 4, "Period"),
        ("behov.csv", 4, "Källa"),
        ("behov.csv", 4, "Bedömd"),
    }
    assert "Vägledarnätverk" not in {m.title for m in Services(example_engine).ledger().measures.values()}


def test_a_behov_cell_naming_an_unknown_need_is_refused_naming_it(
    example_engine: Engine, tmp_path: Path
) -> None:
    measures = [
        list(COLUMNS),
        row(Nämnd="FSKN", Insats="Språkombud", Slutdatum="2025-12-31", Behov="FSKN-1; B77"),
    ]

    error = refused(example_engine, template(tmp_path, "csv", measures, None))

    (problem,) = error.row_errors
    assert (problem.row, problem.column) == (2, "Behov")
    assert '"B77"' in problem.message and "FSKN-1, FSKN-2, FSKN-3, FSKN-4" in problem.message
    assert str(problem).startswith('Rad 2, kolumn Behov: Behovet "B77" finns varken')


def test_a_need_of_another_committee_is_refused_for_its_hr(example_engine: Engine, tmp_path: Path) -> None:
    Services(example_engine).grant_role(None, "hr-fskn", Role.HR, "FSKN")

    error = refused(example_engine, template(tmp_path, "csv", None, NEEDS), user="hr-fskn")

    assert {(e.row, e.column) for e in error.row_errors} == {(2, "Nämnd"), (3, "Nämnd")}
    assert "behörighet" in error.row_errors[0].message and "GVN" in error.row_errors[0].message


def test_a_surplus_need_on_this_funds_money_is_refused_in_the_template(
    example_engine: Engine, tmp_path: Path
) -> None:
    """The KS decision excludes what KOM-KR funds: such a link needs a note, which
    the template has no place for."""
    needs = [
        list(NEED_COLUMNS),
        need_row(
            Id="S1",
            Nämnd="SN",
            Yrkesgrupp="Lokalvårdare",
            Typ="Övertalighet",
            Kompetens="Omställning",
            Period="2025",
            Källa="Gapanalys",
            Bedömd="2025-02-01",
        ),
    ]
    measures = [list(COLUMNS), row(Nämnd="SN", Insats="Omställning", Beviljat_belopp="100 tkr", Behov="S1")]

    error = refused(example_engine, template(tmp_path, "xlsx", measures, needs))

    (problem,) = error.row_errors
    assert (problem.sheet, problem.row, problem.column) == (None, 2, "Behov")
    assert "KOM-KR" in problem.message and "chatten eller på kommandoraden" in problem.message


def test_missing_and_unknown_needs_columns_are_named_on_row_1(example_engine: Engine, tmp_path: Path) -> None:
    needs = [["Id", "Nämnd", "Yrkesgrupp", "Budget"], ["B1", "GVN", "Lärare", "1 mkr"]]

    error = refused(example_engine, template(tmp_path, "xlsx", None, needs))

    columns = {e.column for e in error.row_errors}
    assert columns == {"Typ", "Kompetens", "Period", "Källa", "Bedömd", "Budget"}
    assert {(e.sheet, e.row) for e in error.row_errors} == {("Behov", 1)}
    assert 'Okänd kolumn "Budget"' in next(e.message for e in error.row_errors if e.column == "Budget")


def test_two_files_of_measures_are_refused(example_engine: Engine, tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", MEASURES)
    second = write_csv(tmp_path / "b.csv", MEASURES)
    before = state(example_engine)

    with pytest.raises(DomainError, match="Både a.csv och b.csv har insatser"):
        import_paths(example_engine, [first, second])

    assert state(example_engine) == before


# --- round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_template_with_shares_and_people_round_trips_into_an_empty_city(
    example_engine: Engine, tmp_path: Path, fmt: str
) -> None:
    """The Malmö round trip is in test_templates; here the links' shares and people travel too."""
    from tests.integration.test_templates import _add_empty_city

    import_paths(example_engine, template(tmp_path, fmt, MEASURES, NEEDS))
    _add_empty_city(example_engine, "nystad")
    (tmp_path / "ut").mkdir()
    paths = export_files(example_engine, "malmo", fmt, tmp_path / "ut")

    import_files(
        example_engine, "nystad", None, paths, year=2025, as_of=AS_OF, decision_text="nämnd 2025-02-05 § 5"
    )

    assert needs_of(example_engine, "nystad") == needs_of(example_engine, "malmo")
    _, links = needs_of(example_engine, "nystad")
    assert ("G1", "Behörighetsgivande utbildning för yrkeslärare", 6_000, 8) in links


# --- the command line -------------------------------------------------------------------


def test_the_command_line_exports_the_needs_file_and_imports_both_files(
    city: str, kb: Kb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    measures_csv, needs_csv = tmp_path / "insatser.csv", tmp_path / "behov.csv"
    monkeypatch.setenv("KOMPETENSBOT_TODAY", "2025-06-05")

    written = kb("export", "--year", "2025", "--format", "csv", "--out", str(measures_csv))
    assert written.code == 0, written.err
    assert "4 behov" in written.err and "--needs" in written.err  # the CSV's needs go in a file of their own
    needs = kb("export", "--year", "2025", "--format", "csv", "--needs", "--out", str(needs_csv))
    assert needs.code == 0 and "Skrev 4 behov" in needs.err
    header = needs_csv.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == ";".join(NEED_COLUMNS)
    refused = kb("export", "--year", "2025", "--format", "xlsx", "--needs", "--out", str(tmp_path / "x.xlsx"))
    assert refused.code == 2 and "bladet Behov" in refused.err

    # the needs' file again, beside a new measure that answers one of them: the needs as they
    # are (not written again), one link
    new = write_csv(
        tmp_path / "ny.csv",
        [
            list(COLUMNS),
            row(Nämnd="FSKN", Insats="Mentorsår för nya förskollärare", Behov="FSKN-2 (10 personer)"),
        ],
    )
    imported = kb("import", str(new), str(needs_csv), "--as-of", "2025-06-05")
    assert imported.code == 0, imported.err
    assert imported.out.strip() == (
        "Importerade 1 insatser, 0 behov och 1 kopplingar mellan behov och insatser från ny.csv och "
        "behov.csv; 4 behov var oförändrade och skrevs inte igen."
    )
