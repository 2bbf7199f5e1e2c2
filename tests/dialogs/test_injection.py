"""Text that people type is shown back as itself: a title, a description, a
note, a display name or a question that looks like Markdown or HTML is not
rendered as a link, emphasis, code, a heading or a list, neither in the
messages nor in the Adaptive Cards. Checked by rendering everything the bot
sends with a CommonMark renderer (the Markdown that Adaptive Cards and Teams
messages use) and looking at what a person would see."""

from __future__ import annotations

import html
import re
from typing import Any

from markdown_it import MarkdownIt

from core.model import Role
from tests.dialogs.conftest import Reply, counts

HOSTILE = (
    "Mentorskap [Klicka här](https://evil.example/login) **fet** _kursiv_ <b>html</b> "
    "`kod` ~~struken~~ <https://evil.example> \\*"
)
HOSTILE_NOTE = "# Rubrik\n- punkt\n1. nummer\n[länk](javascript:alert(1)) ![bild](https://evil.example/x.png)"
HOSTILE_NAME = "Eva [Admin](https://evil.example) Ek"

_md = MarkdownIt("commonmark")
# What our own texts may produce: paragraphs, bold and lists. Anything else
# (links, emphasis, code, headings, images, raw HTML) could only come from user text.
_FORBIDDEN = re.compile(r"<(a|em|code|pre|h[1-6]|img|del|s|b|i|hr|blockquote)[\s>]")


def _markdown_of(reply: Reply) -> list[str]:
    """Every piece of Markdown a person sees: the message text and every card text."""
    pieces = [reply.text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                pieces.append(node.get("text", ""))
            if node.get("type") == "FactSet":
                for fact in node.get("facts", []):
                    pieces.extend([fact.get("title", ""), fact.get("value", "")])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(reply.cards)
    return pieces


def _seen(markdown: str) -> str:
    """The text a person sees when `markdown` is rendered."""
    return html.unescape(re.sub(r"<[^>]+>", "", _md.render(markdown)))


def _check(replies: list[Reply]) -> str:
    """Assert nothing renders as user-made formatting; return all that is seen."""
    seen = []
    for reply in replies:
        for markdown in _markdown_of(reply):
            rendered = _md.render(markdown)
            assert not _FORBIDDEN.search(rendered), (markdown, rendered)
            seen.append(_seen(markdown))
    return "\n".join(seen)


def test_user_text_is_shown_as_itself_in_messages_and_cards(chat_as, services) -> None:
    chat = chat_as("hanna", Role.HR, "FSKN", name=HOSTILE_NAME)
    said: list[Reply] = []
    said += chat.say("ny insats")
    said += chat.say(HOSTILE)
    said += chat.say("Beskrivning med <script>alert(1)</script> och [länk](https://evil.example)")
    said += chat.say("Målgrupp **alla** ${system}")
    said += chat.say("1")
    said += chat.say("-")
    said += chat.say("31 december 2025")
    said += chat.say("Utförare <img src=x onerror=alert(1)>")
    said += chat.say("100 tkr")
    # who decided: markup there is refused (a role or a person: letters, spaces, - , . ( ) only)
    refused = chat.say("delegationsbeslut 2025-02-05, **direktör** [x](https://evil.example)")
    assert "ska vara en roll eller en person" in _check(refused)
    said += chat.say("delegationsbeslut 2025-02-05, förvaltningsdirektör (Anna Berg)")
    said += chat.say("inget")  # issue 21: the measure answers none of Förskolenämnden's needs
    summary = chat.say("ja")
    said += summary
    seen = _check(said)
    assert HOSTILE in seen  # the title, literally, in the summary and the receipt
    assert "<script>alert(1)</script>" in seen
    assert "Målgrupp **alla** ${system}" in seen and "Utförare <img src=x onerror=alert(1)>" in seen
    assert "FSKN delegationsbeslut 2025-02-05, förvaltningsdirektör (Anna Berg)" in seen
    receipt = summary[0]
    assert HOSTILE in _seen(receipt.text)
    measure_id = max(services.ledger().measures)
    assert services.ledger().measures[measure_id].title == HOSTILE  # stored as typed

    form = {
        "action": "followup",
        "measure_id": str(measure_id),
        "period": "2025-09",
        "status": "Pågående",
        "spent": "10 tkr",
        "forecast": "100 tkr",
        "usable": "ja",
        "note": HOSTILE_NOTE,
    }
    followup_receipt = chat.say(form)
    seen = _check(followup_receipt)
    assert HOSTILE_NAME in seen  # "Rapporterad av …"
    for line in HOSTILE_NOTE.splitlines():
        assert line in seen

    # Everywhere else the title, the note and the name come back: funds and their
    # sources, lists, the measure's status, and a question that names no unit.
    seen = _check(
        chat.say("saldo FSKN")
        + chat.say("Vad har inte påbörjats?")
        + chat.say(f"status {HOSTILE}")
        + chat.say("saldo [Klicka här](https://evil.example)")
    )
    assert HOSTILE in seen


def test_a_refused_form_quotes_the_bad_values_as_text(chat_as, services) -> None:
    before = counts(services)
    chat = chat_as("hanna", Role.HR, "FSKN")
    [reply] = chat.say(
        {
            "action": "submit_measure",
            "unit": "[FSKN](https://evil.example)",
            "title": "x",
            "end_date": "**igår**",
            "amount": "_mycket_",
        }
    )
    seen = _check([reply])
    assert reply.text.startswith("Formuläret sparades inte.")
    assert "[FSKN](https://evil.example)" in seen and "**igår**" in seen and "_mycket_" in seen
    assert counts(services) == before
