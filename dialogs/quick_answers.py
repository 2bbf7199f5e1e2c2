"""The questions answered at once, without a dialog: the lists (overdue, not started),
a greeting, and the fixed replies (help, thanks, …). Each registers itself in
dialogs.answers beside its function."""

from __future__ import annotations

from microsoft_agents.hosting.core import TurnContext

from core.errors import DomainError
from core.model import Status
from core.vocabulary import Intent
from dialogs import texts
from dialogs.answers import canned, replies
from dialogs.status_dialog import send_measure_list
from dialogs.turn import call, identity_of, queries, today_of, who
from dialogs.understanding import Understanding, one_unit

canned(Intent.REALLOCATE, texts.REALLOCATION_INFO)
canned(Intent.HELP, texts.HELP)
canned(Intent.CANCEL, texts.NOTHING_TO_CANCEL)  # "avbryt" with no dialog under way
canned(Intent.THANKS, texts.YOU_ARE_WELCOME)
canned(Intent.UNKNOWN, texts.NOT_UNDERSTOOD)
canned(Intent.GLOSSARY, texts.HELP)  # placeholder until the glossary's answer (issue 19, in progress)
canned(Intent.UNITS, texts.HELP)  # placeholder until the list of units (issue 19, in progress)
canned(Intent.ROUND, texts.HELP)  # placeholder until the round's answers (issue 19, in progress)


@replies(Intent.GREETING)
async def greet(context: TurnContext, heard: Understanding) -> None:
    await context.send_activity(texts.greeting(identity_of(context).name))


@replies(Intent.OVERDUE)
@replies(Intent.NOT_STARTED)
async def send_list(context: TurnContext, heard: Understanding) -> None:
    """The measures past their end date, or not started, in the unit named (else every one visible)."""
    identity, services = who(context)
    today = today_of(context)
    code = one_unit(heard)
    overdue = heard.intent == Intent.OVERDUE
    try:
        views = await call(
            queries(services, identity.user_id, today).measures,
            identity.user_id,
            unit=code,
            overdue=overdue,
            status=None if overdue else Status.NOT_STARTED,
            year=heard.year,
            as_of=today,
        )
    except DomainError as refused:
        await context.send_activity(texts.refused(refused.message))
        return
    if overdue:
        header = texts.overdue_header(today, len(views), code)
        empty = texts.no_overdue(today, code)
    else:
        header = texts.not_started_header(len(views), code)
        empty = texts.no_not_started(code)
    if not views:
        await context.send_activity(empty)
        return
    await send_measure_list(context, header, views, today)
