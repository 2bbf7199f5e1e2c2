"""Substitutes on the command line (issue 22), as an administrator or HR sees them:
`substitute set`, `substitute list` (text and --json), `substitute end`; on SQLite and, with
KOMPETENSBOT_TEST_DATABASE_URL, on PostgreSQL. Every refusal exits 2 with one Swedish line
on stderr and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.substitute_services import SubstituteServices
from core.model import Role
from storage import people
from storage.db import make_engine
from storage.people import Person
from storage.unit_of_work import UnitOfWork
from tests.integration.test_cli import snapshot
from tests.integration.test_needs_cli import city, kb  # noqa: F401  # fixtures: the example's database, the command line

PEOPLE = [
    Person("anna", "Anna Andersson", "anna.andersson@malmo.se"),
    Person("per", "Per Persson", "per.persson@malmo.se"),
    Person("per-o", "Per Olsson", "per.olsson@malmo.se"),
    Person("hr-fskn", "Hanna Holm", "hanna.holm@malmo.se"),
]


@pytest.fixture
def town(city: str, example_engine: Engine) -> str:  # noqa: F811  # the fixture imported above
    """The example's database with people the bot knows; anna is HR for FSKN (besides the roles
    `city` grants: hr-fskn, hr-gsn, chef-gvn); the date 5 June 2025."""
    SubstituteServices(example_engine).grant_role(None, "anna", Role.HR, "FSKN")
    with UnitOfWork(example_engine, write=True) as repo:
        people.remember(repo.session.connection(), repo.org_id, PEOPLE, "test")
        repo.session.commit()
    return city


def substitutions(url: str) -> int:
    engine = make_engine(url)
    try:
        with UnitOfWork(engine) as repo:
            return len(repo.substitutions())
    finally:
        engine.dispose()


def refused(kb: Any, url: str, *args: str) -> str:  # noqa: F811  # kb: the fixture imported above
    before = snapshot(url), substitutions(url)
    result = kb(*args)
    assert result.code == 2, (result.code, result.out, result.err)
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kompetensbot: "), result.err
    assert "Traceback" not in result.err and result.out == ""
    assert (snapshot(url), substitutions(url)) == before, "a refused command wrote to the database"
    return lines[0]


SET = ("substitute", "set", "Anna Andersson", "--by", "Per Persson", "--from", "16 juni", "--to", "11/7")


def test_set_list_and_end(kb: Any, town: str) -> None:  # noqa: F811
    made = kb(*SET)
    assert made.code == 0, made.err
    assert made.out.splitlines() == [
        "Sparat: Per Persson ersätter Anna Andersson 16 juni–11 juli 2025.",
        "Anna Andersson kunde inte nås i Teams (hen har inte öppnat någon chatt med kompetensbot ännu): "
        "berätta det själv.",
        "Per Persson kunde inte nås i Teams (hen har inte öppnat någon chatt med kompetensbot ännu): "
        "berätta det själv.",  # the substitute is told too (issue 22 item 14)
    ]
    again = kb(*SET[:4], "per.persson@malmo.se", *SET[5:])
    assert (
        again.out
        == "Redan sparat, inget nytt skrevs: Per Persson ersätter Anna Andersson 16 juni–11 juli 2025.\n"
    )
    assert substitutions(town) == 1

    listed = kb("substitute", "list", "--as-of", "2025-06-20")
    assert listed.out == (
        "Anna Andersson: ersätts av Per Persson nu, 16 juni–11 juli 2025 (angivet av administratör)\n"
    )
    data = kb("substitute", "list", "--json").json()
    assert [
        (d["absent"]["name"], d["substitute"]["id"], d["first"], d["last"], d["current"]) for d in data
    ] == [("Anna Andersson", "per", "2025-06-16", "2025-07-11", False)]
    assert (
        kb("substitute", "list", "--user", "chef-gvn").out
        == "Inga ersättare angivna 5 juni 2025 eller framåt.\n"
    )

    ended = kb("substitute", "end", "anna andersson", "--from", "20 juni")
    assert ended.code == 0, ended.err
    assert ended.out.splitlines()[0] == (
        "Anna Anderssons frånvaro är avslutad från 20 juni 2025 (Per Persson ersätter inte längre)."
    )
    assert kb("substitute", "list", "--as-of", "2025-06-20", "--json").json() == []


def test_hr_sets_for_their_committee_and_a_person_for_themselves(kb: Any, town: str) -> None:  # noqa: F811
    mine = kb(
        "substitute", "set", "anna", "--by", "Per Persson", "--from", "16/6", "--to", "11/7", "--user", "anna"
    )
    assert mine.out.splitlines() == [
        "Sparat: Per Persson ersätter Anna Andersson 16 juni–11 juli 2025.",
        "Per Persson kunde inte nås i Teams (hen har inte öppnat någon chatt med kompetensbot ännu): "
        "berätta det själv.",
    ]  # Anna set her own: only the substitute is told
    theirs = kb(
        "substitute", "set", "Hanna Holm", "--by", "Per", *("--from", "2025-06-16", "--to", "2025-06-20"),
        "--user", "anna",
    )  # fmt: skip
    assert theirs.code == 2 and "per.olsson@malmo.se" in theirs.err  # which Per?


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--from", "31/6"), "finns inte"),
        (("--to", "i sommar"), "är inte ett datum"),
        (("--by", "Kalle Kula"), 'Ingen person med namnet "Kalle Kula"'),
        (("--by", "Kalle Kula"), "e-postadress/UPN (till exempel fornamn.efternamn@kommun.se)"),
        (("--by", "Per"), "Flera personer passar"),
        (("--by", "Anna Andersson"), "sin egen ersättare"),
        (("--to", "10 juni 2025"), "före den börjar"),
        (("--unit", "badhusnämnden"), "badhusnämnden"),
        (
            ("--unit", "GVN"),
            "Anna Andersson har ingen roll i GVN; Anna Anderssons nämnder: FSKN. Begränsa ersättningen",
        ),
        (
            ("--user", "chef-gvn"),
            "kompetensbot: Du kan bara ange ersättare för dig själv. HR anger ersättare",
        ),
        (("--user", "per"), "kompetensbot: Per Persson: Du kan bara ange ersättare för dig själv."),
        (
            ("--user", "hr-gsn"),
            "kompetensbot: Du kan bara ange ersättare för dig själv, "
            "eller som HR för personer i dina nämnder (GSN). Personen har sina roller i FSKN.",
        ),
    ],
)
def test_bad_input_is_refused_with_nothing_written(
    kb: Any, town: str, args: tuple[str, ...], says: str
) -> None:  # noqa: F811
    given = dict(zip(SET[3::2], SET[4::2], strict=True))
    given.update(zip(args[::2], args[1::2], strict=True))
    line = refused(kb, town, *SET[:3], *(part for pair in given.items() for part in pair))
    assert says in line, line


def test_nothing_to_end_is_refused(kb: Any, town: str) -> None:  # noqa: F811
    assert "har ingen frånvaro som pågår eller kommer" in refused(
        kb, town, "substitute", "end", "Anna Andersson"
    )


def test_ending_an_ended_absence_again_writes_and_tells_nothing(kb: Any, town: str) -> None:  # noqa: F811
    """Issue 22 (tester's item 1): a second `substitute end` is refused (exit 2), nothing written,
    nobody told; one absence of several records (a replacement) tells each person once."""
    assert kb(*SET).code == 0
    replaced = kb(*SET[:4], "Per Olsson", "--from", "1/7", "--to", "11/7")
    assert replaced.code == 0, replaced.err
    ended = kb("substitute", "end", "Anna Andersson", "--as-of", "2025-06-20")
    assert ended.code == 0, ended.err
    lines = ended.out.splitlines()
    assert lines[0] == (
        "Anna Anderssons frånvaro är avslutad från 20 juni 2025 "
        "(Per Persson, Per Olsson ersätter inte längre)."
    )
    told = [line.split(" kunde inte nås")[0] for line in lines[1:]]
    assert sorted(told) == ["Anna Andersson", "Per Olsson", "Per Persson"]  # each once: one action
    again = refused(kb, town, "substitute", "end", "Anna Andersson", "--as-of", "2025-06-20")
    assert again == (
        "kompetensbot: Anna Andersson har ingen frånvaro som pågår eller kommer från 20 juni 2025, "
        "så det finns inget att avsluta."
    )


def test_the_people_told_are_told_who_set_it(
    kb: Any,
    town: str,
    monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    """Issue 22 (tester's item 6): a notice from the command line names "Stadskontorets
    administratör" (not "administratör" in lower case), or the --user's name."""
    import bot.adapter
    from cli.commands import substitutes as command

    sent: list[tuple[str, str]] = []

    def tell(*_: Any, **__: Any) -> Any:
        async def send(user_id: str, text: str) -> None:
            sent.append((user_id, text))

        return send

    monkeypatch.setattr(SubstituteServices, "reference_of", lambda self, user_id: {"conversation": {}})
    monkeypatch.setattr(bot.adapter, "create_adapter", lambda *_, **__: (None, None))
    monkeypatch.setattr(command, "proactive_tell", tell)
    assert kb(*SET).code == 0
    assert [(u, t.split(" har ")[0]) for u, t in sent] == [
        ("anna", "Stadskontorets administratör"),
        ("per", "Stadskontorets administratör"),
    ]
    assert sent[0][1].startswith("Stadskontorets administratör har angett att Per Persson ersätter dig")
    sent.clear()
    assert kb("substitute", "end", "Hanna Holm", "--user", "anna").code == 2  # nothing to end
    assert sent == []
    assert kb(*SET[:2], "Hanna Holm", *SET[3:], "--user", "anna").code == 0  # anna is HR in FSKN
    assert [(u, t.split(" har ")[0]) for u, t in sent] == [
        ("hr-fskn", "Anna Andersson"),
        ("per", "Anna Andersson"),
    ]


def test_setting_a_replaced_substitute_again_makes_them_the_substitute(kb: Any, town: str) -> None:  # noqa: F811
    """Issue 22 (tester's item 8): "Redan sparat" only when it is what applies on those days; Per
    set again after Per Olsson replaced him is a new record, and Per is the substitute again."""
    assert kb(*SET).code == 0
    assert kb(*SET[:4], "per.olsson@malmo.se", *SET[5:]).code == 0
    again = kb(*SET)
    assert again.out.splitlines()[0] == "Sparat: Per Persson ersätter Anna Andersson 16 juni–11 juli 2025."
    assert substitutions(town) == 3
    listed = kb("substitute", "list", "--as-of", "2025-06-20")
    assert listed.out.startswith("Anna Andersson: ersätts av Per Persson nu, 16 juni–11 juli 2025"), (
        listed.out
    )
    inside = kb(*SET[:5], "--from", "20/6", "--to", "30/6")  # days Per already has
    assert inside.out.startswith(
        "Redan sparat, inget nytt skrevs: Per Persson ersätter Anna Andersson 20–30 juni 2025."
    )
    assert substitutions(town) == 3
