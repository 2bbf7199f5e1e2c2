"""The questions answered at once, without a dialog: the round's questions, the glossary,
the city's units, a greeting, and the fixed replies (help, thanks, …). Each registers
itself in dialogs.answers beside its function. (The lists of measures are the status
dialog's: Intent.STATUS with a filter, dialogs.status_dialog.)"""

from __future__ import annotations

from microsoft_agents.hosting.core import TurnContext

from core.vocabulary import Intent
from dialogs import grammar, texts
from dialogs.answers import canned, replies
from dialogs.overview import send_overview
from dialogs.round_turns import answer_round_question
from dialogs.turn import call, identity_of, queries, who
from dialogs.understanding import Understanding, intent_of

canned(Intent.REALLOCATE, texts.REALLOCATION_INFO)
canned(Intent.HELP, texts.HELP)
canned(Intent.CANCEL, texts.NOTHING_TO_CANCEL)  # "avbryt" with no dialog under way
canned(Intent.THANKS, texts.YOU_ARE_WELCOME)
canned(Intent.UNKNOWN, texts.NOT_UNDERSTOOD)


@replies(Intent.GREETING)
async def greet(context: TurnContext, heard: Understanding) -> None:
    await context.send_activity(texts.greeting(identity_of(context).name))


@replies(Intent.ROUND)
async def round_question(context: TurnContext, heard: Understanding) -> None:
    """ "vem har inte svarat", "när är sista dag", "hur många har svarat på uppföljningen?":
    answered with what exists, never a follow-up dialog (dialogs.round_turns)."""
    await answer_round_question(context, _round_part(context.activity.text or ""))


def _round_part(text: str) -> str:
    """The part of a message that asks about the round: in "vad betyder ej svarat? och när är
    sista dag" (a second question, Understanding.also) the dates are asked, not who has not
    answered. The whole message when no part alone reads as a round question."""
    parts = [part for part in grammar.segments(text) if intent_of(part) == Intent.ROUND]
    return " ".join(parts) or text


@replies(Intent.GLOSSARY)
async def explain(context: TurnContext, heard: Understanding) -> None:
    """ "vad betyder prognos?", "skillnaden mellan utfall och prognos": each term explained."""
    await context.send_activity(texts.glossary_answer(heard.terms))


@replies(Intent.UNITS)
async def list_units(context: TurnContext, heard: Understanding) -> None:
    """ "lista alla nämnder": the city's units with their codes and names."""
    _, services = who(context)
    ledger = await call(queries(services).summary_ledger)
    await context.send_activity(texts.units_list(list(ledger.units.values())))


@replies(Intent.OVERVIEW)
async def overview(context: TurnContext, heard: Understanding) -> None:
    """ "översikt", "visa översikten", "dashboard": the live overview card (issue 20)."""
    await send_overview(context)
