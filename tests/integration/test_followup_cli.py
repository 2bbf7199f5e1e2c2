"""Issue 17 items 4, 5 and 6 on the command line: `followup add` needs
--confirm-amount for an implausible amount, --after-close --reason for a
closed round's period (the reason is recorded and shown), and the command
line's today is the settings' date (KOMPETENSBOT_TODAY), as the bot's."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.services import Services
from core.model import FollowUp, Role
from storage.db import make_engine
from tests.integration.test_cli import YRKES, Kb, city, kb, loaded_example, refused  # noqa: F401,F811

TRILLION = "1 000 000 000 000 kr"


def _add(kb: Kb, *extra: str, period: str = "2025-09", spent: str = "1 mkr", forecast: str = "4 mkr"):  # noqa: F811
    return kb(
        "followup",
        "add",
        "--measure",
        YRKES,
        "--period",
        period,
        "--status",
        "Pågående",
        "--spent",
        spent,
        "--forecast",
        forecast,
        *extra,
    )


def _latest(url: str) -> FollowUp:
    engine = make_engine(url)
    try:
        return max(Services(engine).ledger().followups, key=lambda f: f.seq)
    finally:
        engine.dispose()


def _latest_note(url: str) -> str:
    return _latest(url).note


# --- item 4 -----------------------------------------------------------------------


def test_an_implausible_amount_needs_confirm_amount(city: str, kb: Kb) -> None:  # noqa: F811
    """Issue 17 item 4: 1 000 000 000 000 kr on a 4 mkr measure is refused,
    naming the amount, the measure's money and the flag; with the flag it is saved."""
    line = refused(
        kb,
        city,
        "followup",
        "add",
        "--measure",
        YRKES,
        "--period",
        "2025-09",
        "--status",
        "Pågående",
        "--spent",
        TRILLION,
        "--forecast",
        TRILLION,
    )
    assert f"Utfallet {TRILLION} är mer än dubbelt så mycket som medlen för" in line
    assert "4 000 000 kr" in line and line.endswith("kör kommandot igen med --confirm-amount.")
    assert line.count("--confirm-amount") == 1
    saved = _add(kb, "--confirm-amount", spent=TRILLION, forecast=TRILLION)
    assert saved.code == 0, saved.err
    assert kb("measure", YRKES, "--json").json()["spent"] == 10**12


# --- item 5 -----------------------------------------------------------------------


def _close_june(kb: Kb) -> None:  # noqa: F811
    assert kb("followup", "open", "--period", "2025-06", "--as-of", "2025-05-20").code == 0
    assert kb("followup", "close", "--period", "2025-06").code == 0


def test_a_closed_rounds_period_is_refused_unless_after_close_with_a_reason(
    city: str,
    kb: Kb,
    tmp_path: Path,  # noqa: F811
) -> None:
    """Issue 17 item 5: after `followup close --period 2025-06` `followup add` for
    2025-06 is refused; --after-close --reason adds it, and the reason is
    recorded in the follow-up and shown by `measure` and `followup export`."""
    _close_june(kb)
    line = refused(
        kb,
        city,
        "followup",
        "add",
        "--measure",
        YRKES,
        "--period",
        "2025-06",
        "--status",
        "Pågående",
        "--spent",
        "1 mkr",
        "--forecast",
        "4 mkr",
    )
    assert "Uppföljningen juni 2025 stängdes" in line and "tar inte emot fler uppföljningar" in line
    assert '--after-close --reason "skäl"' in line
    assert "skälet" in refused(
        kb,
        city,
        "followup",
        "add",
        "--measure",
        YRKES,
        "--period",
        "2025-06",
        "--status",
        "Pågående",
        "--spent",
        "1 mkr",
        "--forecast",
        "4 mkr",
        "--after-close",
    )
    assert "--after-close" in refused(
        kb,
        city,
        "followup",
        "add",
        "--measure",
        YRKES,
        "--period",
        "2025-06",
        "--status",
        "Pågående",
        "--spent",
        "1 mkr",
        "--forecast",
        "4 mkr",
        "--reason",
        "sent",
    )
    assert _add(kb, period="2025-07").code == 0  # a period without a round is not affected

    late = _add(
        kb,
        "--after-close",
        "--reason",
        "Svaret kom per post 18 juni",
        "--note",
        "Enligt plan",
        period="2025-06",
    )
    assert late.code == 0, late.err
    assert "efter stängning" in late.out
    note = _latest_note(city)
    assert note.startswith("Registrerad efter att uppföljningen 2025-06 stängdes (")
    assert "Skäl: Svaret kom per post 18 juni. Enligt plan" in note
    exported = kb("followup", "export", "--period", "2025-06", "--out", str(tmp_path / "r.csv"))
    assert exported.code == 0, exported.err
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as f:
        rows = {r[1]: r for r in csv.reader(f, delimiter=";")}
    assert "Skäl: Svaret kom per post 18 juni" in rows[YRKES][11]


def test_hr_may_not_add_after_close(city: str, kb: Kb) -> None:  # noqa: F811
    """Issue 17 item 5: the override is for those who manage the rounds."""
    _close_june(kb)
    engine = make_engine(city)
    Services(engine).grant_role(None, "hr-gvn", Role.HR, "GVN")
    engine.dispose()
    line = refused(
        kb,
        city,
        "followup",
        "add",
        "--measure",
        YRKES,
        "--period",
        "2025-06",
        "--status",
        "Pågående",
        "--spent",
        "1 mkr",
        "--forecast",
        "4 mkr",
        "--after-close",
        "--reason",
        "sent svar",
        "--user",
        "hr-gvn",
    )
    assert "hr-gvn" in line


# --- item 6 -----------------------------------------------------------------------


@pytest.fixture
def june_5(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMPETENSBOT_TODAY", "2025-06-05")


def test_the_command_line_takes_the_settings_date(city: str, kb: Kb, june_5: None) -> None:  # noqa: F811
    """Issue 17 item 6: with KOMPETENSBOT_TODAY=2025-06-05 a follow-up is stamped
    on that date, and spent "hittills" leaves out follow-ups reported later."""
    assert kb("funds", "--year", "2025", "--unit", "GVN", "--json").json()["units"][0]["spent"] == 0
    assert _add(kb, period="2025-06").code == 0
    assert "(2025-06-05)" in kb("measure", YRKES).out
    assert kb("funds", "--year", "2025", "--unit", "GVN", "--json").json()["units"][0]["spent"] == 1_000_000


def test_followup_export_defaults_as_of_to_the_settings_date(
    city: str,
    kb: Kb,
    june_5: None,
    tmp_path: Path,  # noqa: F811
) -> None:
    """Issue 17 item 6: the 2025 example's June round exported on its own date
    (no --as-of) marks no measure "försenad"."""
    assert kb("followup", "open", "--period", "2025-06").code == 0
    exported = kb("followup", "export", "--period", "2025-06", "--out", str(tmp_path / "r.csv"))
    assert exported.code == 0, exported.err
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert len(rows) > 40 and not [r for r in rows if "försenad" in r[10]]


def test_a_bad_settings_date_is_refused_in_swedish(
    city: str,
    kb: Kb,
    monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    """Issue 17 item 6: a malformed KOMPETENSBOT_TODAY is named, not a traceback."""
    monkeypatch.setenv("KOMPETENSBOT_TODAY", "5 juni")
    line = refused(kb, city, "measures")
    assert "KOMPETENSBOT_TODAY ska vara ett datum som 2025-06-05" in line


def test_a_period_that_has_not_begun_is_refused(city: str, kb: Kb, june_5: None) -> None:  # noqa: F811
    """Tryout finding A: on the settings' date 2025-06-05, `followup add --period 2025-12`
    is refused, naming the period and what is allowed; nothing is saved."""
    line = refused(
        kb,
        city,
        "followup",
        "add",
        "--measure",
        YRKES,
        "--period",
        "2025-12",
        "--status",
        "Klar",
        "--spent",
        "4 mkr",
        "--forecast",
        "4 mkr",
    )
    assert "Perioden 2025-12 (december 2025) har inte börjat än" in line
    assert "2025-06 eller tidigare" in line


# --- issue 18: one parser per form -------------------------------------------------


def test_the_command_line_reads_a_follow_up_with_the_chats_words(
    city: str,  # noqa: F811
    kb: Kb,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 18: followup add reads its fields with the core's follow-up parser, the
    chat's: "juni" is June of the measure's year, as in the chat, and "japp" is yes
    (argparse allowed only "ja"/"nej" before, and the period had to be written 2025-06)."""
    monkeypatch.setenv("KOMPETENSBOT_TODAY", "2025-06-05")
    saved = _add(kb, "--usable", "japp", period="juni")
    assert saved.code == 0, saved.err
    latest = _latest(city)
    assert (latest.period, latest.usable_as_planned) == ("2025-06", True)
    # On 5 December 2026, with 2026's fund decided (the default year is 2026), "juni"
    # for the 2025 measure is still June 2025: the measure's year, not the default year.
    monkeypatch.setenv("KOMPETENSBOT_TODAY", "2026-12-05")
    fund = kb("fund", "--year", "2026", "--amount", "10 mkr", "--decision", "KF 2025-11-26 § 5")
    assert fund.code == 0, fund.err
    saved = _add(kb, period="juni", spent="2 mkr")
    assert saved.code == 0, saved.err
    latest = _latest(city)
    assert (latest.period, latest.spent) == ("2025-06", 2_000_000)


def test_the_command_line_names_every_bad_field_of_a_follow_up_at_once(city: str, kb: Kb) -> None:  # noqa: F811
    """Issue 18: a follow-up with a bad status, spend and usable answer is refused once,
    naming all three (the command line stopped at the first before), and nothing is saved."""
    line = refused(
        kb,
        city,
        "followup",
        "add",
        "--measure",
        YRKES,
        "--period",
        "2025-09",
        "--status",
        "halvklar",
        "--spent",
        "mycket",
        "--forecast",
        "4 mkr",
        "--usable",
        "kanske",
    )
    assert "halvklar" in line and "mycket" in line and "Kan användas som planerat" in line, line
