"""The guard for adding a question (README: "Adding a question"): every kind of question
in the vocabulary has its words there and exactly one answer registered in
dialogs.answers, so a half-added question fails here, naming what it lacks."""

from __future__ import annotations

import inspect
from enum import StrEnum
from pathlib import Path

from core import vocabulary
from core.vocabulary import Intent, Phrases
from dialogs import answers, main_dialog
from dialogs.answers import Begin, Reply
from dialogs.understanding import Understanding


def test_every_kind_of_question_has_words_and_one_answer() -> None:
    assert answers.problems() == []


def test_every_module_that_registers_an_answer_is_listed() -> None:
    """A module of dialogs/ that registers an answer but is missing from ANSWER_MODULES would
    answer only when something else happened to import it: name it here."""
    root = Path(answers.__file__).parent
    registering = {
        f"dialogs.{path.stem}"
        for path in root.glob("*.py")
        if path.stem != "answers"
        and any(mark in path.read_text(encoding="utf-8") for mark in ("@replies(", "@begins(", "canned("))
    }
    assert registering, "the scan found no module registering an answer"
    missing = registering - set(answers.ANSWER_MODULES)
    assert not missing, f"add {sorted(missing)} to dialogs.answers.ANSWER_MODULES"


def test_every_kind_is_answered_as_before() -> None:
    begun = {e.kind: e.dialog_id for e in answers.registered() if isinstance(e, Begin)}
    assert begun == {
        Intent.REMAINING: "RemainingFundsDialog",
        Intent.STATUS: "StatusDialog",
        Intent.SUBMIT_MEASURE: "SubmitMeasureDialog",
        Intent.FOLLOW_UP: "FollowUpDialog",
        Intent.ROUND: "RoundDialog",  # issue 20: opening and closing ask "ja"/"nej"
        Intent.SUBSTITUTE: "SubstituteDialog",  # issue 22: setting and ending ask "ja"/"nej"
    }
    at_once = {e.kind for e in answers.registered() if isinstance(e, Reply)}
    assert at_once == set(Intent) - set(begun)
    assert answers.saving_dialogs() == {"SubmitMeasureDialog", "FollowUpDialog"}


def test_each_route_begins_a_dialog_the_main_dialog_has() -> None:
    ids = {dialog.__name__ for dialog in answers.dialogs_begun()}
    for entry in answers.registered():
        if isinstance(entry, Begin):
            dialog_id, options = entry.route(Understanding(entry.kind))
            assert dialog_id in ids, entry.where
            assert isinstance(options, dict)


def test_the_main_dialog_has_no_branch_per_kind() -> None:
    source = inspect.getsource(main_dialog)
    assert "Intent." not in source, "route a kind of question through dialogs.answers, not main_dialog"


class _Added(StrEnum):
    BUDGET_YEAR = "budget_year"  # a made-up new kind of question


async def _reply(context: object, heard: object) -> None:
    return None


def test_a_kind_without_words_or_answer_is_named() -> None:
    kinds = [*Intent, _Added.BUDGET_YEAR]
    found = answers.problems(kinds=kinds)
    assert found == [
        "BUDGET_YEAR: no answer registered (dialogs.answers: @replies, @begins or canned)",
        "BUDGET_YEAR: no words in core.vocabulary.QUESTIONS",
    ]


def test_a_kind_with_words_but_no_answer_is_named() -> None:
    kinds = [*Intent, _Added.BUDGET_YEAR]
    made_up = Phrases(_Added.BUDGET_YEAR, patterns=(r"\bbudgetår",))  # type: ignore[arg-type]  # not an Intent
    questions = (*vocabulary.QUESTIONS, made_up)
    assert answers.problems(kinds=kinds, questions=questions) == [
        "BUDGET_YEAR: no answer registered (dialogs.answers: @replies, @begins or canned)"
    ]


def test_an_answer_without_words_is_named() -> None:
    questions = [q for q in vocabulary.QUESTIONS if q.kind != Intent.THANKS]
    assert answers.problems(questions=questions) == ["THANKS: no words in core.vocabulary.QUESTIONS"]


def test_two_answers_for_one_kind_are_named() -> None:
    extra = Reply(Intent.THANKS, _reply, "tests.second_thanks")
    found = answers.problems(answers=[*answers.registered(), extra])
    assert len(found) == 1
    assert found[0].startswith("THANKS: 2 answers registered (")
    assert "tests.second_thanks" in found[0]


def test_an_answer_for_no_kind_is_named() -> None:
    extra = Reply(_Added.BUDGET_YEAR, _reply, "tests.budget_year")  # type: ignore[arg-type]  # made up
    found = answers.problems(answers=[*answers.registered(), extra])
    assert found == ["tests.budget_year answers BUDGET_YEAR, not a kind in core.vocabulary.Intent"]
