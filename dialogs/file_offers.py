"""Files in the chat (issue 20): "exportera insatserna 2025 till excel", "skicka
uppföljningen som fil". In a personal chat the bot answers with Teams' file consent
card (FileConsentCard) for the XLSX that `kompetensbot export --format xlsx` or
`kompetensbot followup export` writes for the same person; the card's accept and
decline contexts carry only the opaque one-time id of the offer the bot stored
(bot.file_offers, which also answers the "fileConsent/invoke" that comes back).

Elsewhere (a group chat, a channel) only a personal chat can receive a file: the
request is refused politely, nothing is offered.

The cards here are Teams' own attachments, not Adaptive Cards:
  - consent: application/vnd.microsoft.teams.card.file.consent, with `name`, and
    content {description, sizeInBytes, acceptContext, declineContext};
  - info (after the upload): application/vnd.microsoft.teams.card.file.info, with
    `contentUrl` and `name` from the invoke's uploadInfo, and content {uniqueId, fileType}.
"""

from __future__ import annotations

import re
from typing import Any, cast

from microsoft_agents.activity import Activity, ActivityTypes, Attachment
from microsoft_agents.hosting.core import TurnContext

from core.errors import DomainError
from core.vocabulary import EXPORT_ROUND_WORDS, MONTHS, Intent
from dialogs import texts
from dialogs.answers import replies
from dialogs.ports import ExportKind, FileOffer, FileTurnServices
from dialogs.turn import call, identity_of, services_of, today_of
from dialogs.understanding import Understanding, clean

CONSENT_INVOKE = "fileConsent/invoke"
CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
OFFER_KEY = "offer"
"""The one key of the consent card's accept and decline contexts: the offer's id."""

_PERIOD = re.compile(r"\b(20\d\d)-(0?[1-9]|1[0-2])\b")
_ROUND = re.compile(EXPORT_ROUND_WORDS)


def is_personal(turn_context: TurnContext) -> bool:
    """A personal (1:1) chat: the only place Teams lets a bot send a file."""
    kind = getattr(turn_context.activity.conversation, "conversation_type", None) or "personal"
    return bool(kind == "personal")


def asked_file(text: str, heard: Understanding) -> tuple[ExportKind, int | None, int | None]:
    """Which file a message asks for: the kind, the year and the month named (None: not named)."""
    words = clean(text)
    if found := _PERIOD.search(text):
        return ExportKind.ROUND, int(found[1]), int(found[2])
    month = next(
        (n for n, name in enumerate(MONTHS, 1) for word in words.split() if word.startswith(name)), None
    )
    kind = ExportKind.ROUND if month is not None or _ROUND.search(words) else ExportKind.MEASURES
    return kind, heard.year, month


def consent_card(offer: FileOffer) -> Attachment:
    context = {OFFER_KEY: offer.token}
    return Attachment(
        content_type=CONSENT_CARD,
        name=offer.name,
        content={
            "description": offer.description,
            "sizeInBytes": offer.size,
            "acceptContext": context,
            "declineContext": context,
        },
    )


def info_card(name: str, content_url: str, unique_id: str, file_type: str) -> Attachment:
    return Attachment(
        content_type=INFO_CARD,
        name=name,
        content_url=content_url,
        content={"uniqueId": unique_id, "fileType": file_type},
    )


@replies(Intent.EXPORT_FILE)
async def offer_file(context: TurnContext, heard: Understanding) -> None:
    if not is_personal(context):
        await context.send_activity(texts.FILE_ONLY_PERSONAL)
        return
    identity = identity_of(context)
    kind, year, month = asked_file(context.activity.text or "", heard)
    files = cast(FileTurnServices, services_of(context)).files
    try:
        offer = await call(files.offer, identity.user_id, kind, year, month, today_of(context))
    except DomainError as refused:
        await context.send_activity(texts.refused(refused.message))
        return
    card: Any = consent_card(offer)
    said = texts.FILE_OFFERED
    if _OTHER_FORMAT.search(context.activity.text or ""):  # "till csv": what comes is said
        said = f"{texts.FILE_ONLY_XLSX} {said}"
    await context.send_activity(Activity(type=ActivityTypes.message, text=said, attachments=[card]))


_OTHER_FORMAT = re.compile(r"\b(csv|pdf|word|docx?|txt)\b", re.IGNORECASE)
"""A format asked for that the chat does not send (only the XLSX)."""
