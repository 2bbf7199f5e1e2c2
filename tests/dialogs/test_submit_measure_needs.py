"""Issue 21: "Vilket behov svarar insatsen mot?" when a measure is submitted, in the chat and on
the form: optional, a choice among the unit's current needs (and "inget"), asked only when the
unit has needs; the link is written with the measure, in the same write. A forged form naming
another committee's need or an unknown one is refused in Swedish and nothing is written.

The needs are made here through NeedServices, of ASN (the example's own needs, if any, are not
assumed): socialsekreterare and biståndshandläggare, and a surplus need the form does not offer
(its link to this fund's money needs a note the form does not ask)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from bot.clock import clock_for
from bot.needs_services import NeedServices
from bot.services import Services
from core.model import Role
from core.needs import NeedKind
from dialogs import texts
from tests.dialogs.conftest import TODAY, counts
from tests.needs_builders import need

AT = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)
ASN = "Arbetsmarknads- och socialnämnden (ASN)"
DECISION = "ASN 2025-01-23 § 36"


@pytest.fixture
def needs(example_engine: Engine) -> NeedServices:
    services = NeedServices(example_engine, org="malmo", clock=clock_for(TODAY))
    services.assess(None, need("S1", "ASN", "socialsekreterare", retirements=5, people=12))
    services.assess(None, need("S2", "ASN", "biståndshandläggare", kind=NeedKind.UPSKILLING))
    services.assess(None, need("S9", "ASN", "personliga assistenter", kind=NeedKind.SURPLUS))
    services.assess(None, need("G1", "GVN", "yrkeslärare"))
    return services


S1 = texts.need_label("S1", "socialsekreterare", "Ersättningsrekrytering")
S2 = texts.need_label("S2", "biståndshandläggare", "Kompetenshöjning")


def written(services: Services, needs: NeedServices) -> tuple[int, int, int, int]:
    """(entries, measures, follow-ups, need entries): nothing written leaves them unchanged."""
    return (*counts(services), len(needs.all_needs().entries))


def _to_the_decision(chat, title: str = "Handledning för socialsekreterare") -> None:
    """ "ny insats" as HR of ASN (the only unit: not asked), up to the decision question."""
    chat.say("ny insats")
    for answer in (title, "-", "-", "-", "-", "2025-12-31", "-", "100 tkr"):
        chat.say(answer)


def _newest(services: Services):
    return max(services.ledger().measures.values(), key=lambda m: m.id)


def test_the_chat_asks_which_need_and_links_it_with_the_measure(chat_as, services, needs) -> None:
    before = written(services, needs)
    chat = chat_as("hanna", Role.HR, "ASN")
    _to_the_decision(chat)
    [question] = chat.say(DECISION)
    assert question.text == texts.ask_need(ASN)
    # Not the surplus need (its link needs a note the form does not ask), nor GVN's need.
    assert question.actions == [S1, S2, texts.NO_NEED]
    [confirm] = chat.say("1")
    assert confirm.text == texts.CONFIRM_MEASURE
    assert f'"title": "{texts.LABEL_NEED}", "value": "{S1}"' in confirm.card_text()
    assert written(services, needs) == before  # nothing before "ja"
    [receipt] = chat.say("ja")
    measure = _newest(services)
    assert receipt.text.endswith(texts.measure_linked(S1))
    assert S1 in receipt.card_text()
    entries, measures, followups, need_entries = before
    assert written(services, needs) == (entries + 1, measures + 1, followups, need_entries + 1)
    [link] = needs.all_needs().links_of_measure(measure.id)
    assert (link.need, link.author, link.author_id) == ("S1", "Anna Andersson", "hanna")
    report = needs.report("hanna", 2025, today=TODAY, role="socialsekreterare")
    assert [m.title for m in report.needs[0].measures] == ["Handledning för socialsekreterare"]
    assert report.needs[0].covered  # the new measure, with money in 2025, answers the need


@pytest.mark.parametrize("answer", ["inget", "hoppa över", "-", texts.NO_NEED])
def test_the_need_may_be_skipped(chat_as, services, needs, answer) -> None:
    before = written(services, needs)
    chat = chat_as("hanna", Role.HR, "ASN")
    _to_the_decision(chat)
    chat.say(DECISION)
    [confirm] = chat.say(answer)
    assert confirm.text == texts.CONFIRM_MEASURE and texts.LABEL_NEED not in confirm.card_text()
    [receipt] = chat.say("ja")
    assert receipt.text.startswith("Klart!") and "kopplad till behovet" not in receipt.text
    assert written(services, needs)[3] == before[3]  # no link written
    assert needs.all_needs().links_of_measure(_newest(services).id) == ()


def test_the_need_can_be_changed_at_the_confirmation(chat_as, services, needs) -> None:
    chat = chat_as("hanna", Role.HR, "ASN")
    _to_the_decision(chat)
    chat.say(DECISION)
    chat.say("S1")
    [again] = chat.say("ändra behov")
    assert again.text.startswith(texts.ask_need(ASN))
    [confirm] = chat.say("biståndshandläggare")  # by its role, as the label has it
    assert S2 in confirm.card_text() and S1 not in confirm.card_text()
    chat.say("ja")
    [link] = needs.all_needs().links_of_measure(_newest(services).id)
    assert link.need == "S2"


def test_a_unit_without_needs_is_not_asked_and_going_back_passes_the_question(chat_as, services) -> None:
    """Servicenämnden has no needs: the decision goes straight to the confirmation, and
    "tillbaka" there asks the decision again (not a question never asked)."""
    chat = chat_as("sara", Role.HR, "SN")
    chat.say("ny insats")
    for answer in ("Språkcafé", "-", "-", "-", "-", "2025-12-31", "-", "100 tkr"):
        chat.say(answer)
    [confirm] = chat.say("SN 2025-02-02 § 6")
    assert confirm.text == texts.CONFIRM_MEASURE
    [back] = chat.say("tillbaka")
    assert back.text == texts.ask_decision("Servicenämnden (SN)", "SN")
    assert chat.say("SN 2025-02-02 § 6")[0].text == texts.CONFIRM_MEASURE
    none, confirm = chat.say("ändra behov")  # said, and the confirmation again
    assert none.text == texts.no_unit_needs("Servicenämnden (SN)")
    assert confirm.text == texts.CONFIRM_MEASURE


# --- the form --------------------------------------------------------------------------------


def _form(**fields):
    data: dict[str, object] = {
        "action": "submit_measure",
        "unit": "ASN",
        "title": "Introduktion för nya socialsekreterare",
        "description": "",
        "target_group": "",
        "categories": "",
        "start_date": "",
        "end_date": "2025-12-31",
        "performer": "",
        "amount": "100 tkr",
        "decision": DECISION,
    }
    data.update(fields)
    return data


def test_the_form_offers_the_units_needs(chat_as, needs) -> None:
    intro = chat_as("hanna", Role.HR, "ASN").say("ny insats")[0]
    [form] = intro.cards
    [choice_set] = [e for e in form["body"] if e.get("id") == "need"]
    assert [c["value"] for c in choice_set["choices"]] == ["S1", "S2", "inget"]
    assert [c["title"] for c in choice_set["choices"]] == [S1, S2, texts.NO_NEED]
    assert choice_set["value"] == "inget" and not choice_set.get("isRequired")


def test_the_form_of_a_unit_without_needs_asks_none(chat_as, needs) -> None:
    intro = chat_as("sara", Role.HR, "SN").say("ny insats")[0]
    assert not [e for e in intro.cards[0]["body"] if e.get("id") == "need"]


def test_the_form_links_the_need_chosen(chat_as, services, needs) -> None:
    before = written(services, needs)
    chat = chat_as("hanna", Role.HR, "ASN")
    [confirm] = chat.say(_form(need="S2"))
    assert confirm.text == texts.CONFIRM_MEASURE and S2 in confirm.card_text()
    assert written(services, needs) == before
    [receipt] = chat.say("ja")
    assert receipt.text.endswith(texts.measure_linked(S2))
    [link] = needs.all_needs().links_of_measure(_newest(services).id)
    assert link.need == "S2"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("G1", 'Behovet "G1" är inget av behoven för Arbetsmarknads- och socialnämnden (ASN).'),
        ("B99", 'Behovet "B99" är inget av behoven för Arbetsmarknads- och socialnämnden (ASN).'),
        ("S9", 'Behovet "S9" är inget av behoven för'),  # the surplus need: not offered, not taken
        (12, 'Behovet "12" är inget av behoven för'),
    ],
)
def test_a_forged_need_is_refused_and_nothing_is_written(chat_as, services, needs, value, reason) -> None:
    before = written(services, needs)
    chat = chat_as("hanna", Role.HR, "ASN")
    [refused] = chat.say(_form(need=value))
    assert refused.text.startswith("Formuläret sparades inte.")
    assert reason in refused.text and "(S1, S2) eller inget behov" in refused.text
    assert written(services, needs) == before
    assert chat.say("ja")[0].text != texts.CONFIRM_MEASURE  # no summary waits to be confirmed
    assert written(services, needs) == before


def test_a_forged_need_is_named_with_the_forms_other_problems(chat_as, services, needs) -> None:
    before = written(services, needs)
    [refused] = chat_as("hanna", Role.HR, "ASN").say(_form(need="G1", amount="1 000 000 000 kr"))
    assert 'Behovet "G1"' in refused.text and "Beloppet" in refused.text
    assert written(services, needs) == before


def test_a_measure_at_its_confirmation_saved_before_the_need_step_is_stopped(chat_as, services) -> None:
    """The need question added a step (dialogs.state_codec.LAYOUT 4): a measure dialog saved by
    the version before it is stopped with a note, not resumed at the wrong step ("ja" would have
    been taken as the answer to another question), and nothing is saved."""
    chat = chat_as("sara", Role.HR, "SN")
    chat.say("ny insats")
    for answer in ("Språkcafé", "-", "-", "-", "-", "2025-12-31", "-", "100 tkr"):
        chat.say(answer)
    assert chat.say("SN 2025-02-02 § 6")[0].text == texts.CONFIRM_MEASURE
    [key] = chat.storage._memory
    document = json.loads(chat.storage._memory[key])
    assert document["DialogState"]["layout"] == 4
    document["DialogState"]["layout"] = 3
    chat.storage._memory[key] = json.dumps(document, ensure_ascii=False)
    before = counts(services)
    assert chat.say("ja")[0].text == texts.DIALOG_STOPPED_BY_UPDATE
    assert counts(services) == before
