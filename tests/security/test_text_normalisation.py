"""Item 12 (titles and names): a title, unit name, performer or person name
is one line of visible text (core.text.clean_name), and titles are compared
for duplicates after that. An attacker who adds a second "Yrkeslärarsatsning"
that looks the same (a zero-width space, a bidi override, a newline, the
decomposed "ä") got a second measure; now it is refused as the same title,
through the core command, the command line, the template import and the chat."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.data_services import import_template
from bot.services import Services
from core.errors import DomainError
from core.model import Measure, Role, Status
from core.template import COLUMNS, TemplateError
from core.text import clean_name, lookalike_key, name_key
from tests.dialogs.conftest import Chat, counts

TITLE = "Yrkeslärarsatsning"  # in the Malmö 2025 example (GVN)

LOOKALIKES = {
    "zero-width space": "Yrkes\u200blärarsatsning",
    "word joiner": "Yrkeslärar\u2060satsning",
    "byte order mark": "\ufeffYrkeslärarsatsning",
    "soft hyphen": "Yrkes\u00adlärarsatsning",
    "bidi override": "\u202eYrkeslärarsatsning\u202c",
    "bidi isolate": "\u2066Yrkeslärarsatsning\u2069",
    "left-to-right mark": "Yrkeslärarsatsning\u200e",
    "decomposed ä (NFD)": unicodedata.normalize("NFD", "Yrkeslärarsatsning"),
    "trailing newline": "Yrkeslärarsatsning\n",
    "tab and spaces": "\tYrkeslärarsatsning   ",
    "other case": "YRKESLÄRARSATSNING",
    "no-break space around": "\u00a0Yrkeslärarsatsning\u00a0",
    "NUL and DEL": "Yrkeslärarsatsning\x00\x7f",
}


# --- the rule itself ---------------------------------------------------------------------


@pytest.mark.parametrize("variant", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_a_lookalike_title_has_the_same_key(variant: str) -> None:
    assert name_key(variant) == name_key(TITLE)


def test_a_title_is_one_line_of_visible_text() -> None:
    assert clean_name("Mentorskap\nför  nya\r\nchefer\t2025") == "Mentorskap för nya chefer 2025"
    assert clean_name("\u202eabc\u202c \u200b def\u2069") == "abc def"
    assert clean_name("Cafe\u0301") == "Café" and len(clean_name("Cafe\u0301")) == 4  # NFC


def test_emoji_keep_their_joiners() -> None:
    family = "Familj \U0001f468\u200d\U0001f469\u200d\U0001f467"  # ZWJ sequence
    persian = "می\u200cخواهم"  # ZWNJ inside a word
    assert clean_name(family) == family
    assert clean_name(persian) == persian
    assert name_key(family) != name_key("Familj \U0001f468\U0001f469\U0001f467")


# --- where titles enter ------------------------------------------------------------------


def _measure(title: str, unit: str = "GVN") -> Measure:
    return Measure(id=0, title=title, units=(unit,), year=2025, end_date=date(2025, 12, 31))


def test_a_lookalike_of_an_existing_title_is_refused_as_a_duplicate(example_engine: Engine) -> None:
    services = Services(example_engine, org="malmo")
    before = counts(services)
    for what, variant in LOOKALIKES.items():
        with pytest.raises(DomainError) as refused:
            services.submit_measure(None, _measure(variant))
        assert refused.value.code == "duplicate_title", what
        assert f'"{TITLE}" för 2025 finns redan' in refused.value.message, what
    assert counts(services) == before


def test_a_new_title_is_stored_clean(example_engine: Engine) -> None:
    services = Services(example_engine, org="malmo")
    stored = services.submit_measure(
        None,
        Measure(
            id=0,
            title="\u202eMentorskap\u202c för\nnya  chefer\u200b",
            units=("GVN",),
            year=2025,
            performer="HR\u2066 och\tMalmö Lär\u2069",
        ),
    )
    again = services.ledger().measures[stored.id]
    assert (again.title, again.performer) == ("Mentorskap för nya chefer", "HR och Malmö Lär")


def test_a_title_of_only_invisible_characters_is_refused_in_swedish(example_engine: Engine) -> None:
    services = Services(example_engine, org="malmo")
    for title in ["\u200b", "\u202e\u202c", "\n\t ", "\ufeff\u2060"]:
        with pytest.raises(DomainError) as refused:
            services.submit_measure(None, _measure(title))
        assert refused.value.code == "missing_title", repr(title)
        assert "synliga tecken" in refused.value.message


def test_a_follow_up_author_is_stored_as_a_clean_name(example_engine: Engine) -> None:
    services = Services(example_engine, org="malmo")
    followup = services.add_followup(
        None,
        TITLE,
        period="2025-09",
        status=Status.ONGOING,
        spent=0,
        forecast=0,
        usable_as_planned=True,
        author="Eva\u202e kE\n[x]",
    )
    assert followup.author == "Eva kE [x]"


def test_the_template_import_refuses_a_lookalike_title(example_engine: Engine, tmp_path: Path) -> None:
    services = Services(example_engine, org="malmo")
    before = counts(services)
    path = tmp_path / "mall.csv"
    line = {c: "" for c in COLUMNS} | {"Nämnd": "GVN", "Insats": "Yrkes\u200blärar\u202esatsning"}
    path.write_text(";".join(COLUMNS) + "\r\n" + ";".join(line[c] for c in COLUMNS) + "\r\n", "utf-8-sig")
    with pytest.raises(TemplateError) as refused:
        import_template(example_engine, "malmo", None, path, year=2025, as_of=date(2025, 3, 1))
    [error] = refused.value.row_errors
    assert (error.row, error.column) == (2, "Insats") and "finns redan" in error.message
    assert counts(services) == before


def test_the_template_import_stores_clean_titles_and_sees_duplicates_within_the_file(
    example_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "mall.csv"
    rows = [("GVN", "Ny\u200b insats"), ("FSKN", "NY INSATS\u2069")]  # one shared measure
    body = "".join(";".join({"Nämnd": u, "Insats": t}.get(c, "") for c in COLUMNS) + "\r\n" for u, t in rows)
    path.write_text(";".join(COLUMNS) + "\r\n" + body, "utf-8-sig")
    [created] = import_template(example_engine, "malmo", None, path, year=2025, as_of=date(2025, 3, 1))
    assert created.title == "Ny insats" and created.units == ("GVN", "FSKN")


def test_the_command_line_refuses_a_lookalike_title(example_engine: Engine, monkeypatch, capsys) -> None:
    from cli.main import main

    if example_engine.dialect.name != "sqlite":
        pytest.skip("the command line finds its database by DATABASE_URL: checked on SQLite")
    monkeypatch.setenv("DATABASE_URL", example_engine.url.render_as_string(hide_password=False))
    services = Services(example_engine, org="malmo")
    before = counts(services)
    code = main(
        [
            "add-measure",
            "--unit",
            "GVN",
            "--title",
            "Yrkeslärar\u200bsatsning",
            "--year",
            "2025",
            "--end",
            "2025-12-31",
        ]
    )
    assert code == 2
    assert f'"{TITLE}" för 2025 finns redan' in capsys.readouterr().err
    assert counts(services) == before


def test_the_chat_refuses_a_lookalike_title(example_engine: Engine) -> None:
    services = Services(example_engine, org="malmo")
    services.grant_role(None, "hanna", Role.HR, "GVN")
    before = counts(services)
    chat = Chat(example_engine, "hanna")
    [reply] = chat.say(
        {
            "action": "submit_measure",
            "unit": "GVN",
            "title": "Yrkes\u200blärarsatsning\n",
            "end_date": "2025-12-31",
            "amount": "1 tkr",
            "decision": "GVN 2025-01-31 § 5",
        }
    )
    # Refused before its summary is confirmed (a form sent again after it was saved still
    # hears "redan sparat": its one-time key is looked at first).
    assert reply.text.startswith("Formuläret sparades inte.")
    assert f'"{TITLE}" för 2025 finns redan' in reply.text
    assert counts(services) == before
    [reply] = chat.say(
        {
            "action": "submit_measure",
            "unit": "GVN",
            "title": "\u200b\u202e\n",
            "end_date": "2025-12-31",
            "amount": "1 tkr",
            "decision": "GVN 2025-01-31 § 5",
        }
    )
    assert reply.text.startswith("Formuläret sparades inte.") and "Titeln saknas" in reply.text
    assert counts(services) == before


def test_the_chat_question_for_a_title_refuses_a_lookalike_at_once(example_engine: Engine) -> None:
    services = Services(example_engine, org="malmo")
    services.grant_role(None, "hanna", Role.HR, "GVN")
    chat = Chat(example_engine, "hanna")
    chat.say("ny insats")
    said = chat.said("Yrkes\u200blärarsatsning")
    assert f'"{TITLE}" för 2025 finns redan' in said
    assert "Vad heter insatsen?" in said  # asked again
    assert "Beskriv insatsen" in chat.said("Yrkeslärarsatsning del 3")


# --- tryout finding E: letters that only look alike ---------------------------------

FSKN_TITLE = "Stärka formell kompetens"  # FSKN's measure in the Malmö 2025 example
CYRILLIC_A = "Stärk\u0430 formell kompetens"  # the last "a" of "Stärka" is Cyrillic


def test_a_title_with_a_cyrillic_letter_is_refused_by_form_and_chat(example_engine: Engine) -> None:
    """Tryout finding E: "Stärkа formell kompetens" with a Cyrillic "а" was accepted as a
    new FSKN measure beside "Stärka formell kompetens": the duplicate rule compared clean
    names only. Now the form and the chat's title question both refuse it in Swedish."""
    services = Services(example_engine, org="malmo")
    services.grant_role(None, "hanna", Role.HR, "FSKN")
    before = counts(services)
    chat = Chat(example_engine, "hanna")
    [reply] = chat.say(
        {
            "action": "submit_measure",
            "unit": "FSKN",
            "title": CYRILLIC_A,
            "end_date": "2025-12-31",
            "amount": "1 tkr",
            "decision": "FSKN 2025-02-05 § 5",
        }
    )
    assert reply.text.startswith("Formuläret sparades inte.")
    assert f'"{FSKN_TITLE}" för 2025 finns redan' in reply.text
    chat.say("ny insats")
    said = chat.said(CYRILLIC_A)
    assert f'"{FSKN_TITLE}" för 2025 finns redan' in said and "Vad heter insatsen?" in said
    with pytest.raises(DomainError) as refused:
        services.submit_measure(None, _measure(CYRILLIC_A, "FSKN"))
    assert refused.value.code == "duplicate_title"
    assert counts(services) == before
    assert lookalike_key(CYRILLIC_A) == lookalike_key(FSKN_TITLE) != lookalike_key(FSKN_TITLE + " 2")


@pytest.mark.parametrize(
    "copy", ["Stärka formell kompetens.", "Stärka formell-kompetens", "Stärka  formell – kompetens!"]
)
def test_a_title_that_differs_only_by_punctuation_is_refused(example_engine: Engine, copy: str) -> None:
    """Stranger retest: "Stärka formell kompetens." (a full stop) and "Stärka
    formell-kompetens" were taken as new FSKN titles beside "Stärka formell kompetens"."""
    services = Services(example_engine, org="malmo")
    services.grant_role(None, "hanna", Role.HR, "FSKN")
    before = counts(services)
    chat = Chat(example_engine, "hanna")
    chat.say("ny insats")
    said = chat.said(copy)
    assert f'"{FSKN_TITLE}" för 2025 finns redan' in said and "Vad heter insatsen?" in said
    assert counts(services) == before
    assert lookalike_key("Stärka formell kompetens 2") != lookalike_key(FSKN_TITLE)
