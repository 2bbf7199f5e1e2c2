"""The questions answered at once, without a dialog: the glossary,
the city's units, a greeting, and the fixed replies (help, thanks, …). Each registers
itself in dialogs.answers beside its function. (The lists of measures are the status
dialog's: Intent.STATUS with a filter, dialogs.status_dialog; the round's, dialogs.round_dialog.)"""

from __future__ import annotations

from microsoft_agents.hosting.core import TurnContext

from core.vocabulary import Intent
from dialogs import texts
from dialogs.answers import canned, replies
from dialogs.overview import send_overview
from dialogs.proposal_cards import may_decide_proposals, show_proposals
from dialogs.turn import call, identity_of, queries, rounds_of, who
from dialogs.understanding import Understanding

canned(Intent.HELP, texts.HELP)
canned(Intent.CANCEL, texts.NOTHING_TO_CANCEL)  # "avbryt" with no dialog under way
canned(Intent.THANKS, texts.YOU_ARE_WELCOME)
canned(Intent.UNKNOWN, texts.NOT_UNDERSTOOD)


@replies(Intent.GREETING)
async def greet(context: TurnContext, heard: Understanding) -> None:
    await context.send_activity(texts.greeting(identity_of(context).name))


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


@replies(Intent.REALLOCATE)
async def reallocate(context: TurnContext, heard: Understanding) -> None:
    """ "omfördela 660 000 kr från 15 till 1 enligt KSAU 2025-06-24 § 5": KSAU records its
    decisions on the proposals card (issue 20), so one with the ksau role gets that card;
    everyone else how a reallocation is decided and recorded."""
    if bool(await call(may_decide_proposals, rounds_of(context), identity_of(context).user_id)):
        await context.send_activity(texts.PROPOSALS_REALLOCATE_HERE)
        await show_proposals(context)
        return
    await context.send_activity(texts.REALLOCATION_INFO)
