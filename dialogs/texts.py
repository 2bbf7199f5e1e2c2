"""Every Swedish word the bot says: constants and small format functions.

Amounts are written with core.money.format_amount ("15 100 000 kr") and dates
with core.dates.format_date ("31 december 2025"). Messages use the Markdown
that Teams renders: **bold** and "- " lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from core import forms, limits, vocabulary
from core.balances import FundBalance, Share, UnitBalance
from core.dates import format_date, format_period
from core.entries import AllocationEntry, ReallocationEntry
from core.errors import echo
from core.model import NOT_GIVEN, Decision, FollowUp, Status, Unit
from core.money import format_amount
from core.needs import NeedEntry, Period
from core.needs_report import LinkedMeasure, NeedView
from core.proposal_sets import SetDecision, decided_line
from core.round_report import CommitteeRate, RoundReport
from core.rounds import MeasureState, OpenPlan
from core.rules import decision as rules_decision
from core.text import clean_name, person_name, visible_text

# --- labels (cards and summaries); a form field's label is the core parser's (core.forms) ---

LABEL_UNIT = forms.LABEL_UNIT
LABEL_UNITS = "Nämnder"
LABEL_TITLE = forms.LABEL_TITLE
LABEL_DESCRIPTION = forms.LABEL_DESCRIPTION
LABEL_END_DATE = forms.LABEL_END_DATE
LABEL_START_DATE = forms.LABEL_START_DATE
LABEL_TARGET_GROUP = forms.LABEL_TARGET_GROUP
LABEL_CATEGORIES = forms.LABEL_CATEGORIES
LABEL_PERFORMER = forms.LABEL_PERFORMER
LABEL_AMOUNT = forms.LABEL_AMOUNT
LABEL_ALLOCATED = "Tilldelat"
LABEL_SPENT = "Utfall"
LABEL_FORECAST = "Prognos"
LABEL_REMAINING = "Kvar"
LABEL_REMAINING_FORECAST = "Kvar enligt prognos"
LABEL_UNALLOCATED = "Ej fördelat på insatser"
LABEL_DECISION = forms.LABEL_DECISION
LABEL_STATUS = forms.LABEL_STATUS
LABEL_PERIOD = forms.LABEL_PERIOD
LABEL_USABLE = forms.LABEL_USABLE
LABEL_NOTE = forms.LABEL_NOTE
LABEL_SHARES = "Fördelning mellan nämnder"
LABEL_SOURCES = "Källor"
LABEL_TOTAL = "Totalt"
LABEL_FUND = "Fonden"
FUND_NOT_DECIDED = "ej beslutat"
"""The fund's figure when no decision sets it for the year (card and text)."""
LABEL_ID = "Id"
LABEL_LATEST_FOLLOWUP = "Senaste uppföljning"
LABEL_SPENT_LONG = forms.LABEL_SPENT
LABEL_FORECAST_LONG = forms.LABEL_FORECAST
YES = "ja"
NO = "nej"
NONE_OF_THESE = "ingen av dessa"
OVERDUE_WORD = "försenad"
SUBMIT_BUTTON = "Skicka in"
SAVE_FOLLOWUP_BUTTON = "Spara uppföljningen"
PLACEHOLDER_AMOUNT = "till exempel 1,5 mkr eller 300 000 kr"
PLACEHOLDER_TITLE = "En kort titel"
PLACEHOLDER_DECISION = (
    "organ, datum och §, till exempel FSKN 2025-02-05 § 5 (utan organ: insatsens nämnd), "
    "eller delegationsbeslut 2025-05-12, förvaltningsdirektör"
)
PLACEHOLDER_DESCRIPTION = "Vad ska göras och för vilka?"
PLACEHOLDER_TARGET_GROUP = "Vilka ska delta?"
PLACEHOLDER_PERFORMER = "Till exempel Malmö Lär eller en extern utbildare"
PLACEHOLDER_PERIOD = "ÅÅÅÅ-MM, till exempel 2025-06"
PLACEHOLDER_NOTE = "Vad har hänt och vad återstår?"
CHOOSE_UNIT = "Välj nämnd"
CHOOSE_MEASURE = "Välj insats"


_MARKDOWN = re.compile(r"([\\`*_\[\]<>~#|]|&(?=#?\w+;))")
_LINE_START = re.compile(r"^([ \t]*)(\d*)([-+=.)])", re.MULTILINE)
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)
_LINK_DOT = re.compile(r"(?<=\w)\.(?=\w)(?!(?:[^\W\d_]|ex|fl)\b)")
"""A dot between letters that could join a host name: not one before a single letter ("bl.a.",
"p.g.a.", "o.s.v.") or "ex"/"fl" ("t.ex.", "m.fl."), since no top-level domain is such a word."""
_LINK_COLON = re.compile(r":(?=/)")


def plain(text: str) -> str:
    """The one place a person's text (a title, a description, a note, a name,
    a decision reference, a question) is made safe to show in Teams' Markdown
    (messages and Adaptive Card TextBlocks and FactSets, CommonMark): it shows
    as itself and never as markup.

    - Invisible and bidi control characters are dropped (core.text.visible_text).
    - The characters that make a link, an image, emphasis, code, strikethrough,
      a table, a heading or HTML (a Teams mention <at>) are escaped with a
      backslash: `\\ ` * _ [ ] < > ~ # |`, and an "&" only where it would start
      an entity ("&lt;"): "Behålla & utveckla" is sent as it is, since a client
      that shows backslashes (some older mobile ones) would show "\\&".
    - A list marker, a setext underline or a numbered item at the start of a
      line is escaped, and a line's leading spaces (an indented code block) go.
    - A bare address is not made a link by an autolinker: the dots between
      letters ("evil.example", "a@evil.com", "www.x") and the colon of "://" are
      escaped, which CommonMark shows as themselves; not the dots of "t.ex.",
      "bl.a." or "m.fl." (no domain ends so), which an older client would show
      as "t\\.ex.".

    Every function in this module that puts such text into a message calls it,
    and cards.py and round_cards.py do the same for the card fields they are
    given raw. Input values and ChoiceSet titles are not Markdown and are given
    as they are. A refusal (a problem, a core message) is plain text, escaped
    once where it is sent (refused, form_refused, save_failed, prompts.refuse)."""
    text = _INDENT.sub("", visible_text(text))
    escaped = _MARKDOWN.sub(r"\\\1", text)
    escaped = _LINK_COLON.sub(r"\\:", _LINK_DOT.sub(r"\\.", escaped))
    return _LINE_START.sub(lambda m: m.group(1) + m.group(2) + "\\" + m.group(3), escaped)


def refused(message: str) -> str:
    """A refusal from the core or a service, sent as a message on its own: it
    may quote a person's text (a title, what they asked for), so it is escaped."""
    return plain(message)


def kr(amount: int) -> str:
    return format_amount(amount)


def day(d: date) -> str:
    return format_date(d)


def yes_no(value: bool) -> str:
    return "Ja" if value else "Nej"


# --- welcome, help and the words around everything ---------------------------------

SHORT_HELP = (
    'Prova till exempel "saldo GVN", "status Yrkeslärarsatsning", "Vilka insatser är försenade?" '
    'eller "ny insats". Skriv "hjälp" för fler exempel.'
)

HELP = "\n".join(
    [
        "Det här kan du fråga mig:",
        '- **Hur mycket pengar finns kvar:** "Hur mycket finns kvar för förskolenämnden?", '
        '"saldo GVN", "kvar 2025"',
        '- **Hur det går för en insats:** "status Yrkeslärarsatsning", "Hur går det med Malmö Lär?"',
        '- **Listor:** "Vilka insatser är försenade?", "vad har inte påbörjats?", "status GVN"',
        '- **Lämna in en ny insats** (HR): "ny insats"',
        '- **Lämna en uppföljning:** "jag vill lämna en uppföljning"',
        '- **Omfördelning mellan nämnder:** beslutas av KSAU, fråga "hur går en omfördelning till?"',
        '- **Som Excel-fil** (i en personlig chatt): "exportera insatserna 2025 till excel", '
        '"skicka uppföljningen som fil"',
        '- **Översikt:** "översikt": pengar, insatser och uppföljningens svar på ett kort som uppdateras',
        '- **Uppföljningsrundan:** "hur går junirundan?", "vem har inte svarat?", "när är sista dag?"; '
        'stadskontoret och HR: "påminn de som inte svarat"; stadskontoret: "öppna junirundan", '
        '"stäng rundan"',
        '- **KSAU:** "vilka förslag finns?": omfördelningsförslagen på ett kort där beslutet registreras',
        '- **Kompetensbehov:** "vilka behov saknar insatser?", "hur mycket satsar vi på förskollärare?", '
        '"vilka svårrekryterade yrken har pensionsavgångar?", "behov socialsekreterare", "behov FSKN"',
        "",
        'Jag svarar med siffrorna och var de kommer ifrån. Skriv "avbryt" för att avbryta det vi '
        'håller på med och "hjälp" för att se det här igen.',
    ]
)

NOT_UNDERSTOOD = "Jag förstod inte riktigt vad du menar. " + SHORT_HELP
CANCELLED = "Okej, jag har avbrutit. Inget har sparats."
NOTHING_TO_CANCEL = "Det finns inget att avbryta just nu. " + SHORT_HELP
TRY_AGAIN_LATER = "Databasen svarar inte just nu. Försök igen om en stund."
CONFLICT = (
    "Samtalet ändrades samtidigt från ett annat håll, så jag sparade inte ditt senaste svar. "
    "Skriv det gärna en gång till."
)
INTERNAL_ERROR = (
    "Något gick fel hos mig och jag har avbrutit det vi höll på med. Inget har sparats. "
    "Försök igen om en stund."
)
TENANT_NOT_LINKED = (
    "Din organisation är inte ansluten till kompetensbot ännu. Stadskontorets HR-avdelning kan ansluta den."
)
TEXT_ONLY = "Svara med text, tack."

# --- who and where (bot.teams_bot): refusals and answers in private ---
NO_OBJECT_ID = (
    "Jag kan inte se vem du är: meddelandet saknar ditt Microsoft-konto (Entra-id). "
    "Skriv till mig i Microsoft Teams med ditt jobbkonto."
)
NO_TENANT = (
    "Jag kan inte se vilken organisation du skriver från. "
    "Skriv till mig i Microsoft Teams med ditt jobbkonto i en organisation som är ansluten till kompetensbot."
)
ANSWERING_PRIVATELY = (
    "Jag svarar dig privat, i vår chatt, eftersom pengar och insatser inte ska visas för alla här."
)
WRITE_TO_ME_DIRECTLY = (
    "Pengar och insatser tar jag bara i en chatt med dig själv: skriv till mig direkt "
    '(sök efter kompetensbot under Chatt). Här i kanalen kan jag bara svara på "hjälp".'
)


def _first_name(name: str) -> str:
    """The first word of a display name (Teams' from.name, which the caller sets)."""
    words = clean_name(name or "").split(" ")
    return plain(words[0]) if words[0] else ""


def welcome(name: str, demo: bool) -> str:
    first = _first_name(name)
    text = (
        f"Hej{' ' + first if first else ''}! Jag är kompetensbot. Jag håller reda på "
        "kompetensutvecklingsmedlen: hur mycket som finns kvar, hur insatserna går och varifrån "
        'varje siffra kommer. Fråga till exempel "Hur mycket finns kvar för förskolenämnden?" '
        'eller skriv "hjälp".'
    )
    if demo:
        text += (
            "\n\nDet här är ett demoläge: alla får stadskontorets behörighet och kan prova allt "
            "på exempeldata."
        )
    return text


def greeting(name: str) -> str:
    first = _first_name(name)
    return f"Hej{' ' + first if first else ''}! Vad vill du veta? " + SHORT_HELP


def no_access(name: str, user_id: str = "") -> str:
    """To a person with no role: and the id an administrator gives
    `kompetensbot roles grant` for them (their Entra object id)."""
    first = _first_name(name)
    text = (
        f"Hej{' ' + first if first else ''}! Du har ingen behörighet i kompetensbot ännu, så jag kan "
        "inte visa några medel eller insatser för dig. Behörighet ges av stadskontorets HR-avdelning."
    )
    if user_id:
        text += f" Ge dem ditt id i kompetensbot: {your_id(user_id)}"
    return text


def your_id(user_id: str) -> str:
    """A person's id as the administrator needs it, with the command it goes in."""
    shown = plain(user_id)
    return f"{shown} (kompetensbot roles grant {shown} hr --unit KOD, eller en annan roll)."


REALLOCATION_INFO = "\n".join(
    [
        "Pengar flyttas (omfördelas) inte genom ett meddelande här i chatten. Så här går det till:",
        "- Kommunstyrelsens arbetsutskott (**KSAU**) beslutar om omfördelning mellan nämnder "
        "på delegation från kommunstyrelsen.",
        "- Bara pengar som den senaste uppföljningen bedömer inte kommer att användas under året "
        "kan flyttas, och bara till insatser som redan är beslutade samma år.",
        "- Beslutet registreras av den som har rollen ksau, på kortet med omfördelningsförslagen som "
        "skickas till KSAU när uppföljningen stängs, med beslutets referens, till exempel "
        '"KSAU 2025-06-20 § 5". Fonden blir aldrig större eller mindre av en omfördelning.',
        "",
        'Vill du veta vad som finns kvar att flytta? Fråga till exempel "saldo TN" eller "status Malmö Lär".',
    ]
)


# --- choosing ------------------------------------------------------------------------

CHOICE_HINT = 'Svara med numret eller namnet, eller "ingen".'
NUMBER_HINT = "Svara med numret eller namnet."
CHOICE_RETRY = "Jag förstod inte vilket du menar."
YOU_ARE_WELCOME = "Varsågod! Fråga gärna igen när du undrar något."
LEFT_UNSAVED = "Okej, vi lämnar det vi höll på med. Inget av det har sparats."
NO_CHOICE = "Okej. Skriv gärna frågan igen med ett annat namn."
YES_NO_RETRY = 'Svara "ja" eller "nej".'


def did_you_mean(labels: Sequence[str], *, allow_none: bool) -> str:
    if len(labels) == 1:
        return f"Menade du {plain(labels[0])}?"
    return numbered("Menade du …?", labels, allow_none=allow_none)


def numbered(question: str, labels: Sequence[str], *, allow_none: bool = False) -> str:
    listed = "\n".join(f"{i}. {plain(label)}" for i, label in enumerate(labels, 1))
    return f"{question}\n{listed}\n\n{CHOICE_HINT if allow_none else NUMBER_HINT}"


def unknown_unit(text: str, units: Iterable[Unit]) -> str:
    known = ", ".join(f"{plain(u.name)} ({plain(u.code)})" for u in sorted(units, key=lambda u: u.name))
    return f'Jag hittar ingen nämnd som heter "{plain(echo(text))}". Nämnderna är: {known}.'


def unknown_measure(text: str, labels: Sequence[str], more: int) -> str:
    quoted = plain(echo(text))
    if not labels:
        return f'Jag hittar ingen insats som matchar "{quoted}", och det finns inga insatser du kan se.'
    listed = "\n".join(f"- {plain(label)}" for label in labels)
    tail = f"\n{list_more(more)}" if more else ""
    return f'Jag hittar ingen insats som matchar "{quoted}". Insatser du kan fråga om:\n{listed}{tail}'


NARROW_BY_UNIT = 'Fråga per nämnd för att se alla, till exempel "status GVN".'


def list_more(count: int) -> str:
    return f"… och {count} till."


# --- money and where it comes from ------------------------------------------------------


def funding_sources(refs: Sequence[str]) -> str:
    """ " – enligt beslut FSKN 2025-02-05 § 5", and " – beslut ej angivet" for money
    granted with a decision that nobody gave (issue 17 item 3)."""
    given = [r for r in refs if r != NOT_GIVEN]
    parts = ([f"enligt beslut {plain(', '.join(given))}"] if given else []) + (
        [f"**{NOT_GIVEN}**"] if NOT_GIVEN in refs else []
    )
    return f" – {'; '.join(parts)}" if parts else ""


def decision_fact(refs: Sequence[str]) -> str:
    """A card's "Beslut" fact: "ej angivet" for a decision nobody gave."""
    return plain(", ".join("ej angivet" if r == NOT_GIVEN else r for r in refs))


def decision_ref(decision: Decision) -> str:
    """A decision's reference as shown: its paragraph and title were typed by someone."""
    return plain(decision.reference)


def allocation_source(allocation: AllocationEntry, *, with_amount: bool = True) -> str:
    recurring = f", årligen från och med {allocation.year}" if allocation.recurring else ""
    amount = f"{kr(allocation.amount)} " if with_amount else ""
    return f"{amount}enligt beslut {decision_ref(allocation.decision)}{recurring}"


def _signed(amount: int) -> str:
    return f"+{kr(amount)}" if amount > 0 else kr(amount)


def followup_source(followup: FollowUp, title: str, share: Share | None = None) -> str:
    """A follow-up behind a spend. With `share` (a unit's part of a shared measure), the
    unit's part comes first and the whole measure's figures are named as such."""
    if share is None:
        figures = f"utfall {kr(followup.spent)}, prognos {kr(followup.forecast)}"
    else:
        figures = (
            f"{plain(share.unit)}:s andel: utfall {kr(share.spent)}, prognos {kr(share.forecast)} "
            f"(hela den gemensamma insatsen: utfall {kr(followup.spent)}, prognos {kr(followup.forecast)})"
        )
    return (
        f"{plain(title)}: {figures} "
        f"(uppföljning {format_period(followup.period)}, av {given_by(followup.author, followup.for_name)}, "
        f"{day(followup.at.date())})"
    )


def reallocation_source(entry: ReallocationEntry, source: str, target: str) -> str:
    return (
        f"Omfördelning enligt beslut {decision_ref(entry.decision)}: {kr(entry.amount)} "
        f"från {plain(source)} till {plain(target)}"
    )


MAX_SOURCE_LINES = 8


def _allocation_sources(allocations: Sequence[AllocationEntry]) -> str:
    if len(allocations) == 1:
        return allocation_source(allocations[0], with_amount=False)
    return "; ".join(allocation_source(a) for a in allocations)


def fund_not_decided(year: int) -> str:
    return f"Fonden för {year} är ej beslutad"


def unit_funds(balance: UnitBalance, *, fund_decided: bool = True) -> str:
    """A unit's money in one line: the message's text beside the card (unit_details)."""
    b = balance
    head = f"**{plain(b.name)} ({plain(b.code)}) {b.year}: {kr(b.remaining)} kvar**"
    if fund_decided:
        refs = sorted({decision_ref(a.decision) for a in b.allocations})
        by = f" enligt beslut {', '.join(refs)}" if refs else ""
        return f"{head} av {kr(b.allocated)} tilldelat{by} (utfall hittills {kr(b.spent)})."
    return (
        f"{head} av {kr(b.allocated)} reserverat "
        f"{_allocation_sources(b.allocations) or 'genom omfördelning'}; {fund_not_decided(b.year).lower()}."
    )


def unit_details(
    balance: UnitBalance,
    reallocations: Sequence[tuple[ReallocationEntry, str, str]],
    *,
    fund_decided: bool = True,
    shared: bool = False,
) -> list[str]:
    """A unit's figures, each with where it comes from: the card's lines under its table.
    The follow-ups themselves are the card's sources (followup_source)."""
    b = balance
    allocated = f"{LABEL_ALLOCATED if fund_decided else 'Reserverat'}: {kr(b.allocated)}"
    if b.allocations:
        allocated += " – " + _allocation_sources(b.allocations)
    else:
        allocated += " – inget beslut om överföring för året"
    if b.reallocated:
        allocated += f" (varav omfördelat {_signed(b.reallocated)})"
    lines = [allocated]
    if not fund_decided:
        lines.append(
            f"{fund_not_decided(b.year)}: beloppet är reserverat av ett återkommande beslut "
            "och dras från fonden när den beslutas."
        )
    count = len(b.followups)
    if count:
        said = "1 uppföljning" if count == 1 else f"{count} uppföljningar"
        lines.append(f"{LABEL_SPENT_LONG}: {kr(b.spent)} – enligt {said} (under Källor)")
    else:
        lines.append(f"{LABEL_SPENT_LONG}: {kr(b.spent)} – ingen uppföljning är rapporterad ännu")
    lines.append(
        f"{LABEL_FORECAST_LONG}: {kr(b.forecast)}, {LABEL_REMAINING_FORECAST.lower()} "
        f"{kr(b.remaining_forecast)} (insatser utan uppföljning räknas med hela sitt belopp)"
    )
    lines.append(f"{LABEL_UNALLOCATED}: {kr(b.unallocated)}")
    if shared:
        lines.append(
            "En gemensam insats räknas med nämndens andel; insatsens totala belopp står "
            'som "hela den gemensamma insatsen".'
        )
    return lines


def fund_funds(fund: FundBalance) -> str:
    """The whole fund of a year in one line: the message's text beside the card (fund_details)."""
    if not fund.decided:
        return (
            f"**Kompetensmedlen {fund.year}: {fund_not_decided(fund.year).lower()}.** "
            f"{kr(fund.reserved)} är reserverat av återkommande beslut."
        )
    return (
        f"**Kompetensmedlen {fund.year}: {kr(fund.remaining)} kvar** av {kr(fund.total)} i fonden "
        f"(utfall hittills {kr(fund.spent)})."
    )


def fund_details(
    fund: FundBalance,
    followup_count: int,
    reallocation_refs: Sequence[str],
    latest: FundBalance | None = None,
) -> list[str]:
    """The whole fund's figures, each with where it comes from (for those who see every
    unit). `latest`: the latest decided fund, named when this year's is not decided."""
    decisions = sorted({decision_ref(a.decision) for u in fund.units for a in u.allocations})
    by = f" – enligt beslut {', '.join(decisions)}" if decisions else ""
    units = "1 nämnd" if len(fund.units) == 1 else f"{len(fund.units)} nämnder"
    if fund.decided:
        sources = "; ".join(
            (f"{kr(e.amount)} " if len(fund.fund_entries) > 1 else "") + f"enligt {decision_ref(e.decision)}"
            for e in fund.fund_entries
        )
        lines = [
            f"{LABEL_FUND}: {kr(fund.total)} – {sources}",
            f"Överfört till {units}: {kr(fund.allocated)}{by}",
        ]
        if fund.unallocated:
            lines.append(f"Ej överfört från fonden: {kr(fund.unallocated)}")
    else:
        lines = [
            f"{LABEL_FUND}: {FUND_NOT_DECIDED}",
            f"Reserverat för {units} av återkommande beslut: {kr(fund.reserved)}{by}",
        ]
        if latest is not None:
            lines.append(latest_fund(latest))
    if followup_count:
        count = "1 uppföljning" if followup_count == 1 else f"{followup_count} uppföljningar"
        lines.append(f"{LABEL_SPENT_LONG}: {kr(fund.spent)} – enligt {count}")
    else:
        lines.append(f"{LABEL_SPENT_LONG}: {kr(fund.spent)} – ingen uppföljning är rapporterad ännu")
    lines.append(
        f"{LABEL_FORECAST_LONG}: {kr(fund.forecast)}, {LABEL_REMAINING_FORECAST.lower()} "
        f"{kr(fund.remaining_forecast)}"
    )
    if reallocation_refs:
        lines.append(f"Omfördelningar: enligt beslut {plain(', '.join(reallocation_refs))}")
    lines.append('Tabellen visar varje nämnd. Fråga till exempel "saldo GVN" för en nämnds källor.')
    return lines


def latest_fund(latest: FundBalance) -> str:
    """The latest decided fund, with its figure."""
    return (
        f"Senaste beslutade fond: {latest.year}, {kr(latest.total)} "
        f'({kr(latest.remaining)} kvar, fråga "kvar {latest.year}").'
    )


def no_fund(year: int, latest: FundBalance | None) -> str:
    """A year without a fund and without any allocation (the whole city asked)."""
    text = f"Det finns ingen fond för {year}: inget anslag är beslutat och inget är överfört till nämnderna."
    return text + (" " + latest_fund(latest) if latest is not None else "")


def units_funds(fund: FundBalance) -> str:
    """Several units (one's own) in one line: the message's text beside the card's table."""
    codes = ", ".join(plain(u.code) for u in fund.units)
    return (
        f"**Dina nämnder {fund.year}: {kr(sum(u.remaining for u in fund.units))} kvar** av "
        f"{kr(sum(u.allocated for u in fund.units))} tilldelat ({codes}). "
        'Fråga "saldo" och nämndens namn för dess källor.'
    )


def no_funds(year: int) -> str:
    return f"Det finns inga medel för {year} som du kan se."


def latest_money(year: int, latest: FundBalance) -> str:
    """Where the units asked about last had money (`latest` shows only them), with its figures."""
    who = "nämnden" if len(latest.units) == 1 else "dina nämnder"
    return (
        f"Senast hade {who} medel {latest.year}: {kr(latest.allocated)} tilldelat, "
        f"{kr(latest.remaining)} kvar."
    )


def funds_card_title(year: int, name: str | None) -> str:
    return f"Kompetensmedel {year}" + (f" – {plain(name)}" if name else "")


# --- measures -------------------------------------------------------------------------


def status_word(status: Status, overdue: bool) -> str:
    return f"{status.value} – {OVERDUE_WORD}" if overdue else status.value


def overdue_note(end: date | None) -> str:
    return f"Insatsen är försenad: slutdatumet {day(end)} har passerat." if end else ""


def measure_heading(title: str, units: Sequence[str], measure_id: int) -> str:
    return f"**{plain(title)}** ({plain(', '.join(units))}, id {measure_id})"


def measure_status(
    *,
    title: str,
    units: Sequence[str],
    measure_id: int,
    status: Status,
    overdue: bool,
    end: date | None,
    allocated: int,
    spent: int,
    forecast: int,
    funding_refs: Sequence[str],
    shares: Sequence[tuple[str, int]],
    followup: FollowUp | None,
    reallocations: Sequence[str],
    parent: str | None,
) -> str:
    head = f"{measure_heading(title, units, measure_id)}: {status_word(status, overdue)}."
    if end:
        head += f" {LABEL_END_DATE} {day(end)}."
    lines = [head]
    if overdue:
        lines.append(overdue_note(end))
    if parent:
        lines.append(f"Delaktivitet i {plain(parent)}; pengarna följs upp på huvudinsatsen.")
    lines.append(f"- {LABEL_ALLOCATED}: {kr(allocated)}" + funding_sources(funding_refs))
    lines.append(f"- {LABEL_SPENT_LONG}: {kr(spent)}, {LABEL_FORECAST_LONG.lower()}: {kr(forecast)}")
    lines.append(
        f"- {LABEL_REMAINING}: {kr(allocated - spent)} "
        f"({LABEL_REMAINING_FORECAST.lower()}: {kr(allocated - forecast)})"
    )
    if len(shares) > 1:
        lines.append(
            f"- {LABEL_SHARES}: " + ", ".join(f"{plain(code)} {kr(amount)}" for code, amount in shares)
        )
    lines.extend(f"- {r}" for r in reallocations)
    if followup is None:
        lines.append("- Ingen uppföljning är rapporterad ännu.")
    else:
        lines.append(f"- {latest_followup(followup)}")
    return "\n".join(lines)


def latest_followup(f: FollowUp) -> str:
    usable = "kan användas som planerat" if f.usable_as_planned else "kan inte användas som planerat"
    note = f' "{plain(f.note)}"' if f.note else ""
    reached = f" {reached_line(f.reached)}" if f.reached is not None else ""  # issue 21
    return (
        f"{LABEL_LATEST_FOLLOWUP} ({format_period(f.period)}), av {given_by(f.author, f.for_name)}, "
        f"{day(f.at.date())}:"
        f"{note} Pengarna {usable}.{reached}"
    )


def measure_line(title: str, units: Sequence[str], status: Status, overdue: bool, end: date | None) -> str:
    end_text = f", slutdatum {day(end)}" if end else ""
    return f"- {plain(title)} ({plain(', '.join(units))}) – {status_word(status, overdue)}{end_text}"


def overdue_header(as_of: date, count: int, unit: str | None) -> str:
    where = f" för {plain(unit)}" if unit else ""
    return (
        f"**Försenade insatser{where} per {day(as_of)}: {count} st.** "
        "(Slutdatumet har passerat och insatsen är inte klar.)"
    )


def no_overdue(as_of: date, unit: str | None) -> str:
    where = f" för {plain(unit)}" if unit else ""
    return f"Inga insatser{where} är försenade per {day(as_of)}."


def not_started_header(count: int, unit: str | None) -> str:
    where = f" för {plain(unit)}" if unit else ""
    return f"**Insatser{where} som inte har påbörjats: {count} st.**"


def no_not_started(unit: str | None) -> str:
    where = f" för {plain(unit)}" if unit else ""
    return f"Alla insatser{where} har påbörjats."


def unit_measures_header(name: str, count: int) -> str:
    return f'**Insatser för {plain(name)}: {count} st.** Fråga "status" och insatsens namn för detaljer.'


def my_measures_header(count: int) -> str:
    return f'**Insatser du kan se: {count} st.** Fråga "status" och insatsens namn för detaljer.'


NO_MEASURES = "Det finns inga insatser som du kan se."


# --- submitting a measure -----------------------------------------------------------

SUBMIT_INTRO = (
    "Då lämnar vi in en ny insats. Fyll i formuläret, eller svara på mina frågor här i chatten. "
    'Skriv "avbryt" när du vill för att avbryta.'
)
ASK_UNIT = "Vilken nämnd gäller insatsen?"
ASK_TITLE = "Vad heter insatsen? Skriv en kort titel."
ASK_DESCRIPTION = 'Beskriv insatsen kort: vad ska göras och för vilka? Skriv "-" för att hoppa över.'
ASK_END_DATE = (
    'När ska insatsen vara klar? Skriv slutdatumet, till exempel "31 december 2025" eller "2025-12-31".'
)
ASK_TARGET_GROUP = (
    'Vilken målgrupp har insatsen, till exempel "nyanställda undersköterskor"? Skriv "-" för att hoppa över.'
)
ASK_START_DATE = (
    'När börjar insatsen? Skriv startdatumet, till exempel "1 september 2025". Skriv "-" för att hoppa över.'
)
ASK_PERFORMER = (
    'Vem genomför insatsen, till exempel "Malmö Lär" eller en extern utbildare? Skriv "-" för att hoppa över.'
)
TITLE_MISSING = forms.TITLE_MISSING  # the forms' wording lives in core.forms


def ask_categories(names: Sequence[str]) -> str:
    numbered_names = ", ".join(f"{i}. {name}" for i, name in enumerate(names, 1))
    return (
        f"Vilken strategikategori hör insatsen till? {numbered_names}. "
        'Välj en eller flera, till exempel "1" eller "1 och 3", eller skriv "-" om ingen passar.'
    )


def unknown_categories(answer: str, names: Sequence[str]) -> str:
    """A refusal (plain text: prompts.refuse escapes it)."""
    allowed = ", ".join(f"{i}. {name}" for i, name in enumerate(names, 1))
    return f'Jag känner inte igen "{echo(answer)}" som en strategikategori. Tillåtna: {allowed}, eller "-".'


def unknown_category_value(value: str, names: Sequence[str]) -> str:
    """A problem of a form (plain text: form_refused escapes it)."""
    return forms.unknown_category_value(value, names).message  # the forms' wording: core.forms


def categories_text(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "–"


CONFIRM_MEASURE = 'Vill du spara insatsen? Svara "ja" eller "nej".'
NOT_SAVED = "Okej, jag sparade ingenting."
DIALOG_STOPPED_BY_UPDATE = (
    "Det du höll på med avbröts när kompetensbot uppdaterades, och inget av det sparades. "
    'Börja om, till exempel med "ny insats" eller "uppföljning".'
)
MEASURE_SUMMARY_TITLE = "Ny insats att spara"
MEASURE_RECEIPT_TITLE = "Insatsen är sparad"
DECISION_REQUIRED = rules_decision.DECISION_REQUIRED  # the core's one refusal of money without a decision


def ask_decision(unit_name: str, code: str) -> str:
    return (
        f"Vilket beslut beviljar pengarna? Skriv organ, datum och paragraf, till exempel "
        f'"{plain(code)} 2025-02-05 § 5"; skriver du bara datum och paragraf är organet {plain(unit_name)}. '
        'Ett delegationsbeslut skrivs "delegationsbeslut 2025-05-12, förvaltningsdirektör". '
        'Finns inget beslut ännu, skriv "inget beslut".'
    )


SUBMIT_FORM_TITLE = "Ny insats"


def unit_chosen(name: str) -> str:
    return f"{LABEL_UNIT}: {plain(name)}."


def unit_not_found(named: str, allowed: Sequence[str]) -> str:
    """A unit named in a request that matches none: said, and asked which
    (labels: "Förskolenämnden (FSKN)"), never replaced by the person's own."""
    return (
        f'Jag hittar ingen nämnd som heter "{plain(echo(named))}". '
        f"Du kan lämna in insatser för {plain(_listing(allowed))}."
    )


def not_your_unit(asked: str, allowed: Sequence[str]) -> str:
    """A unit named in a request that the person may not submit measures for
    (labels: "Grundskolenämnden (GSN)")."""
    return (
        f"{plain(asked)} är inte en av dina nämnder. Du kan lämna in insatser för {plain(_listing(allowed))}."
    )


def _listing(items: Sequence[str]) -> str:
    """ "A", "A och B", "A, B och C"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} och {items[-1]}"


def dates_questioned(questions: Sequence[str]) -> str:
    """The chat's question about a new measure's dates (core.rules.measure_dates)."""
    said = " ".join(plain(q) for q in questions)
    return f'{said} Stämmer datumen ändå? Svara "ja" för att behålla dem eller "nej" för att skriva nya.'


def dates_again(year: int) -> str:
    """Before the dates are asked again after "nej" to the question about them."""
    return f"Skriv datumen igen. Ett datum utan år, som 31/12, gäller {year}."


def confirm_measure_despite(questions: Sequence[str]) -> str:
    """The confirmation when the dates were not asked about before (a form)."""
    said = " ".join(plain(q) for q in questions)
    return f'Observera: {said} Vill du spara insatsen ändå? Svara "ja" eller "nej".'


LABEL_NOTE_DATES = "Observera"


def ask_amount(unit_name: str, free: int, year: int) -> str:
    return (
        f"Hur mycket pengar ska insatsen få? {plain(unit_name)} har {kr(free)} kvar att fördela för {year}. "
        'Skriv till exempel "1,5 mkr" eller "300 000 kr".'
    )


def title_too_long(length: int, limit: int) -> str:
    return limits.title_too_long(length, limit).message  # every way in says it so: core.limits


def text_too_long(label: str, length: int, limit: int) -> str:
    return limits.text_too_long(label, length, limit).message


def measure_saved(measure_id: int, title: str, unit_name: str, amount: int) -> str:
    return (
        f"Klart! Insatsen **{plain(title)}** är sparad med id {measure_id} och har fått {kr(amount)} "
        f"från {plain(unit_name)}."
    )


ALREADY_SAVED_WHY = (
    "det svaret (eller formuläret) har redan skickats en gång, så jag sparade inget nytt; "
    "ett nytt formulär får du genom att fråga igen."
)


def already_saved_measure(measure_id: int, title: str) -> str:
    """A repeated confirmation or form of a measure that was saved (a retry of a
    turn whose process stopped after the write, a second click)."""
    return f"Det här är redan sparat: insatsen **{plain(title)}** (id {measure_id}); {ALREADY_SAVED_WHY}"


def already_saved_followup(title: str, period: str) -> str:
    return (
        f"Det här är redan sparat: uppföljningen av **{plain(title)}** för {format_period(period)}; "
        f"{ALREADY_SAVED_WHY}"
    )


def already_saved_reallocation(amount: int, source: str, target: str, seq: int) -> str:
    return (
        f"Det här är redan sparat: omfördelningen av {kr(amount)} från {plain(source)} till {plain(target)} "
        f"(post {seq} i liggaren); {ALREADY_SAVED_WHY}"
    )


def save_failed(message: str) -> str:
    return f"Det gick inte att spara: {plain(message)} Inget sparades."


def no_free_money(unit_name: str, year: int) -> str:
    return (
        f"{plain(unit_name)} har inga pengar kvar att fördela för {year}, "
        "så en ny insats kan inte få medel nu."
    )


# --- follow-up -----------------------------------------------------------------------

FOLLOWUP_INTRO = (
    "Då lämnar vi en uppföljning. Fyll i formuläret, eller svara på mina frågor här i chatten. "
    'Skriv "avbryt" när du vill för att avbryta.'
)
ASK_MEASURE = "Vilken insats gäller uppföljningen?"
ASK_STATUS = "Vilken status har insatsen nu?"
ASK_SPENT = 'Hur mycket har använts hittills (utfall)? Skriv till exempel "1,2 mkr" eller "0 kr".'
ASK_USABLE = 'Kan pengarna användas under året som planerat? Svara "ja" eller "nej".'
ASK_NOTE = 'Skriv en kort kommentar: vad har hänt och vad återstår? Skriv "-" för att hoppa över.'
CONFIRM_FOLLOWUP = 'Vill du spara uppföljningen? Svara "ja" eller "nej".'


def confirm_implausible(problems: Sequence[str]) -> str:
    """Issue 17 item 4: a spend or forecast over twice the measure's money, asked
    about before the summary (the problems name the amount and the money)."""
    said = " ".join(plain(p) for p in problems)
    return (
        f"{said} Stämmer beloppet? Svara **ja** om det är rätt, så får du se sammanfattningen. "
        "Svara **nej** så skriver du beloppet igen; dina andra svar finns kvar."
    )


IMPLAUSIBLE_IN_CARD = (
    ' Kontrollera beloppet. Stämmer det, lämna uppföljningen i chatten (skriv "uppföljning"), '
    "där du får bekräfta det."
)
FOLLOWUP_SUMMARY_TITLE = "Uppföljning att spara"
FOLLOWUP_RECEIPT_TITLE = "Uppföljningen är sparad"
FOLLOWUP_FORM_TITLE = "Uppföljning"
NO_FOLLOWUP_MEASURES = "Det finns inga insatser som du kan följa upp."


def measure_chosen(label: str) -> str:
    return f"{LABEL_TITLE}: {plain(label)}."


def ask_period(default: str) -> str:
    return (
        f'Vilken period (månad) gäller uppföljningen? Svara "{default}" för {format_period(default)}, '
        'eller skriv en annan månad, till exempel "juni 2025".'
    )


def ask_forecast(spent: int) -> str:
    return (
        f"Hur mycket beräknas användas under hela året (prognos)? Prognosen omfattar det som redan "
        f"använts och kan inte vara lägre än utfallet, {kr(spent)}."
    )


def forecast_below_spent(forecast: int, spent: int) -> str:
    return forms.forecast_below_spent(forecast, spent).message  # the forms' wording: core.forms


def followup_saved(title: str, period: str, seq: int) -> str:
    return (
        f"Klart! Uppföljningen av **{plain(title)}** för {format_period(period)} är sparad "
        f"(uppföljning nr {seq})."
    )


# --- card forms ---------------------------------------------------------------------

UNKNOWN_FORM = "Jag känner inte igen det formuläret. Inget sparades."


def form_refused(problems: Sequence[str]) -> str:
    """The problems are plain text (the functions below make them); escaped here."""
    listed = "\n".join(f"- {plain(p)}" for p in problems)
    return f"Formuläret sparades inte. Rätta det här och skicka igen:\n{listed}"


def field_missing(label: str) -> str:
    return f"{label} saknas."


def field_wrong_type(label: str, hint: str | None = None) -> str:
    return forms.field_wrong_type(label, hint).message  # says what the field takes


def unit_not_allowed(text: str, allowed: Sequence[str]) -> str:
    """A problem (plain text: form_refused or refused escapes it)."""
    return (
        f'Du kan inte lämna in insatser för "{echo(text)}". Du kan lämna in för: {", ".join(allowed)}.'
        if allowed
        else f'Du kan inte lämna in insatser för "{echo(text)}".'
    )


def stand_in_no_submit(units: Sequence[str]) -> str:
    """Issue 22: a substitute asking to submit a measure for a committee they stand in for."""
    return (
        f"Att du är ersättare för {', '.join(plain(u) for u in units)} ger ingen rätt att lämna in "
        "insatser där, bara att läsa och följa upp. Det gör nämndens HR eller stadskontoret."
    )


def measure_not_allowed(value: str) -> str:
    """A problem (plain text: form_refused escapes it)."""
    return f'Insatsen "{echo(value)}" finns inte bland de insatser du kan följa upp.'


def yes_no_field(label: str) -> str:
    return forms.yes_no_field(label).message  # the forms' wording: core.forms


def unit_has_no_funds(name: str, code: str, year: int, latest: FundBalance | None = None) -> str:
    """`latest`: the latest year the unit had money, showing only it."""
    text = f"{plain(name)} ({plain(code)}) har inga medel för {year}: ingen överföring gäller det året."
    return text + (" " + latest_money(year, latest) if latest is not None else "")


def source_spent(text: str) -> str:
    return f"{LABEL_SPENT}: {text}"


def reported_by(author: str, for_name: str = "") -> str:
    """ "Rapporterad av Per Persson för Anna Andersson." when given for someone away (issue 22)."""
    return f"Rapporterad av {given_by(person_name(author), for_name)}."


# --- the follow-up round (uppföljningsomgång) ------------------------------------

CHOOSE_STATUS = "Välj status"
NOT_ANSWERED = "Inte besvarad ännu"
ROUND_SUBMIT_BUTTON = "Skicka svaret"
ROUND_REMINDER_LINE = "Påminnelse: vi saknar fortfarande ditt svar."
ROUND_POSSIBLY_REPEATED = (
    "Om du redan har fått det här kortet: det kan ha skickats två gånger på grund av ett tekniskt fel. "
    "Svara på vilket som helst av dem."
)
NO_ROUND_YET = "Det finns ingen uppföljningsomgång ännu."


def round_card_title(period: str) -> str:
    return f"Uppföljning {format_period(period)} av kompetensutvecklingsmedlen"


def genitive(name: str) -> str:
    """A person's name in the genitive, escaped: "Anna Anderssons", "Lars" (a name ending in
    s, x or z takes no s)."""
    shown = plain(name)
    return shown if name.rstrip()[-1:].casefold() in ("s", "x", "z", "") else f"{shown}s"


def round_intro(deadline: date, waiting: Sequence[tuple[str, int]], answered: int = 0) -> str:
    """The card's question: whose measures still waiting for an answer, the person's own ("")
    and each absent person's they answer for (issue 22: "Anna Anderssons 3 insatser"),
    counted; `answered`: measures of the card already answered (a reminder counts only
    what is left, and says so)."""
    parts = []
    for whose, count in waiting:
        if not count:
            continue
        if not whose:
            parts.append("din insats" if count == 1 else f"dina {count} insatser")
        else:
            parts.append(f"{genitive(whose)} {'insats' if count == 1 else f'{count} insatser'}")
    what = " och ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts) or "dina insatser"
    left = sum(n for _, n in waiting)
    if answered and left:
        what += " som saknar svar"
    done = (
        f" {answered} av kortets {left + answered} insatser är redan besvarade." if answered and left else ""
    )
    return (
        f"Hur går det för {what}?{done} Fyll i status, utfall hittills och prognos för året, och om "
        f"pengarna kan användas som planerat. Svara senast **{format_date(deadline)}**. "
        "Du kan ändra svaret fram till dess."
    )


def round_answered_line(deadline: date) -> str:
    return f"Tack, ditt svar är sparat. Du kan ändra det till och med {format_date(deadline)}."


def round_partly_answered_line(deadline: date) -> str:
    return (
        "Tack, svaret är sparat. Några insatser saknar fortfarande svar: "
        f"svara senast {format_date(deadline)}. "
        'Skriv "svara på uppföljningen" för att få kortet igen.'
    )


def round_answer_saved(count: int, complete: bool, period: str, deadline: date) -> str:
    what = "1 insats" if count == 1 else f"{count} insatser"
    text = f"Tack! Jag har sparat uppföljningen {format_period(period)} för {what}."
    if complete:
        return (
            text + " Du har svarat för alla dina insatser. "
            f"Du kan ändra svaret till och med {format_date(deadline)}."
        )
    return text + " Några av dina insatser saknar fortfarande svar."


def round_answer_refused(message: str) -> str:
    return f"Svaret sparades inte. {plain(message)}"


def round_prompt_text(period: str) -> str:
    return f"Dags för uppföljningen {format_period(period)} av kompetensutvecklingsmedlen."


def round_reminder_text(period: str, deadline: date) -> str:
    return f"Påminnelse: svara på uppföljningen {format_period(period)} senast {format_date(deadline)}."


# --- issue 22: substitutes in the round ---------------------------------------------------------

LABEL_GIVEN_BY = "Lämnat av"


def handover_line(absent: str, count: int) -> str:
    """The handover card's opening: "Du ersätter Anna Andersson: 3 insatser väntar på svar"."""
    waiting = "1 insats väntar" if count == 1 else f"{count} insatser väntar"
    return f"Du ersätter {plain(absent)}: {waiting} på svar."


def handover_text(period: str, absent: str, count: int, *, reminder: bool = False) -> str:
    """The message around a handover card (or its reminder)."""
    first = "Påminnelse: " if reminder else ""
    return f"{first}{handover_line(absent, count)[:-1]} i uppföljningen {format_period(period)}."


def given_by(author: str, for_name: str = "") -> str:
    """Who gave an answer: "Per Persson för Anna Andersson" when given for someone away."""
    return plain(author) if not for_name else f"{plain(author)} för {plain(for_name)}"


def measure_for(title: str, absent: str) -> str:
    """A handed-over measure's heading on a card: "Mentorskap (FSKN), för Anna Andersson"."""
    return f"{title}, för {plain(absent)}"


def escalation_for(absent: str) -> str:
    """An absent HR lead's escalation, to who answers for them."""
    return (
        f"Du får listan i stället för {plain(absent)}, som är borta: du svarar för hens nämnder "
        "i uppföljningen."
    )


def escalation_title(period: str) -> str:
    return f"Uppföljningen {format_period(period)}: saknade svar"


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def escalation_intro(
    deadline: date,
    missing: int,
    committees: int,
    waiting: int,
    nobody: int,
    *,
    city_wide: bool,
    for_name: str = "",
) -> str:
    """The escalation's opening, to the person who gets it (du): how many
    measures lack an answer, in how many committees, and why (issue 17 item 14).
    `for_name` (issue 22): the absent HR lead whose list a substitute gets: their committees."""
    hr = f"{plain(for_name)} är HR för (du ersätter hen)" if for_name else "du är HR för"
    where = (
        f"i {_n(committees, 'nämnd', 'nämnder')}"
        if city_wide
        else f"i {'den nämnd' if committees == 1 else f'de {committees} nämnder'} som {hr}"
    )
    text = (
        f"Sista dag var {format_date(deadline)}. Du får den här listan eftersom svar saknas för "
        f"{_n(missing, 'insats', 'insatser')} {where}: "
        f"{waiting} väntar på svar från dem som fick kortet"
    )
    text += (
        f", och {nobody} har ingen mottagare (ingen ansvarig och ingen med rollen hr för nämnden), "
        "så ingen har fått något kort för dem."
        if nobody
        else "."
    )
    return text


def escalation_own(titles: Sequence[str], more: int = 0, for_name: str = "") -> str:
    """The recipient's own measures without an answer (they are spoken to, not listed); with
    `for_name` (issue 22), the absent HR lead's, which the substitute answers for."""
    listed = "\n".join(f"- {plain(t)}" for t in titles)
    extra = f"\n- … och {more} till" if more else ""
    count = _n(len(titles) + more, "insats", "insatser")
    if for_name:
        them = "den" if len(titles) + more == 1 else "dem"
        return (
            f"{plain(for_name)} har inte svarat för {count}, och du svarar för {them} som hens "
            f"ersättare:\n{listed}{extra}"
        )
    return f"Du har själv inte svarat för {count}:\n{listed}{extra}"


ESCALATION_COMMITTEES_HEADER = (
    "Per nämnd: insatser som väntar på svar, insatser utan mottagare, tillfrågade personer."
)


def escalation_line(name: str, code: str, waiting: int, nobody: int, asked: int) -> str:
    """One committee with missing answers, on one line."""
    return (
        f"- **{plain(name)} ({plain(code)})**: {_n(waiting, 'insats väntar', 'insatser väntar')} på svar, "
        f"{nobody} utan mottagare, {_n(asked, 'person tillfrågad', 'personer tillfrågade')}"
    )


def escalation_part(part: int, parts: int) -> str:
    return f"Del {part} av {parts}."


def escalation_show_all(city_wide: bool) -> str:
    text = 'Vilka som inte har svarat: tryck på "Visa alla" eller skriv "visa alla".'
    if city_wide:
        text += " Namnen står också i exporten (kompetensbot followup export)."
    return text


ESCALATION_SHOW_ALL_BUTTON = "Visa alla"
LATE_NOBODY = "Ingen mottagare"
NO_ONE_LATE = "Alla har svarat: inga insatser saknar svar i de nämnder du ser."


def late_people_heading(period: str) -> str:
    return f"**Uppföljningen {format_period(period)}: de som inte har svarat**"


def late_people_committee(name: str, code: str) -> str:
    return f"**{plain(name)} ({plain(code)})**"


def late_people_person(name: str, titles: Sequence[str]) -> str:
    return f"- {plain(name)}: {'; '.join(plain(t) for t in titles)}"


def late_people_nobody(titles: Sequence[str]) -> str:
    return f"- {LATE_NOBODY}: {'; '.join(plain(t) for t in titles)}"


def escalation_text(period: str) -> str:
    return f"Uppföljningen {format_period(period)} har passerat sista dag och några svar saknas."


def round_status(
    report: RoundReport,
    rates: Sequence[CommitteeRate] = (),
    next_reminder: date | None = None,
    *,
    names_hint: bool = False,
) -> str:
    """The round's results in chat: response rate, money, risks, proposals; with `rates` (issue
    20) also the round's dates and each committee's answered / asked / no recipient."""
    r = report.round
    titles = {m.measure_id: plain(m.title) for m in report.measures}
    lines = [
        f"**Uppföljningen {format_period(r.period)}** (sista dag {format_date(r.plan.deadline)}, "
        f"{r.phase(report.as_of).value})",
    ]
    if rates:
        lines += _round_date_lines(r.plan.opens, r.plan.escalate_on, next_reminder, report.as_of, r.closed_at)
    lines += [
        f"- Svar: {report.people_answered}",
        f"- Insatser: {report.count(MeasureState.ANSWERED)} av {len(report.measures)} besvarade, "
        f"{report.count(MeasureState.NOT_ANSWERED)} tillfrågade utan svar, "
        f"{report.count(MeasureState.NO_RECIPIENT)} utan mottagare och utan svar",
    ]
    if rates:
        lines += _committee_lines(rates)
    lines.append(f"- Outnyttjat enligt prognoserna: {kr(report.unused)}")
    for u in report.units:
        if u.unused:
            lines.append(f"  - {plain(u.name)}: {kr(u.unused)} av {kr(u.allocated)}")
    if report.no_recipient:  # answered or not, as `followup status` counts them
        units = report.no_recipient_units
        done = report.no_recipient_answered
        lines.append(
            f"- Ingen mottagare för {len(report.no_recipient)} av {len(report.measures)} insatser"
            + (f" (varav {done} redan besvarade)" if done else "")
            + f", i {_n(len(units), 'nämnd', 'nämnder')}: {plain(', '.join(units))} "
            "(ingen ansvarig och ingen med rollen hr för nämnden)"
        )
    risky = report.at_risk
    lines.append(f"- Insatser med risk: {len(risky)}")
    for m in [m for m in risky if "inget svar" not in m.risks][:8]:
        lines.append(f"  - {plain(m.title)}: {', '.join(m.risks)}")
    if report.proposals:
        lines.append("- Förslag till omfördelning (beslutas av KSAU):")
        for p in report.proposals[:8]:
            lines.append(
                f"  - {kr(p.amount)} från {titles.get(p.from_measure, p.from_measure)} (id {p.from_measure}) "
                f"till {titles.get(p.to_measure, p.to_measure)} (id {p.to_measure})"
            )
    else:
        lines.append("- Inga förslag till omfördelning.")
    if names_hint and report.missing:
        lines.append(NAMES_HINT)
    return "\n".join(lines)


PLACEHOLDER_KSAU_DECISION = "till exempel KSAU 2025-06-24 § 5"


def reallocation_recorded(amount: int, source: str, target: str, reference: str, seq: int) -> str:
    return (
        f"Omfördelningen är registrerad: {kr(amount)} från {plain(source)} till {plain(target)} "
        f"enligt {plain(reference)} (post {seq} i liggaren)."
    )


def reallocation_refused(message: str) -> str:
    return f"Omfördelningen registrerades inte. {plain(message)}"


BAD_PROPOSAL_CARD = 'Förslagskortet har ogiltiga värden. Fråga "hur går uppföljningen" för nya förslag.'
DECISION_MISSING = 'Beslutsreferensen saknas. Skriv den som "KSAU 2025-06-24 § 5".'


def round_more_measures(count: int) -> str:
    what = "1 insats till" if count == 1 else f"{count} insatser till"
    return (
        f"Du har {what} att svara för: skicka svaret på det här kortet och skriv sedan "
        '"svara på uppföljningen" för nästa kort.'
    )


ROUND_NOTHING_CHANGED = (
    "Inget är ändrat: svaren på kortet är redan sparade. Ändra ett svar och skicka igen, "
    "eller fyll i en insats som saknar svar."
)
ROUND_CARD_UNKNOWN = (
    'Uppföljningsomgången på kortet finns inte. Skriv "svara på uppföljningen" för att få ett nytt kort.'
)
"""A card's round id that no round can have (0, negative, 2**63 or more): like any unknown round."""


# --- issue 19: small words (amounts in words, yes/no, statuses, form wording) ---

STATUS_BUTTONS = (Status.ONGOING.value, Status.DONE.value, Status.NOT_COMPLETED.value)
"""The chat's buttons for a follow-up's status (Teams shows three suggested actions; the
numbered list above them has all four): "Ej slutförd" is among them, since a follow-up is
where a measure is reported as not completed."""
MEASURE_CHOICE_HINT = "Välj en av insatserna i listan."
"""What the follow-up form's measure field takes (forms.field_wrong_type's hint)."""


# --- issue 19: answers that use what was understood ---------------------------------------

FIGURE_LABELS: dict[str, str] = {
    "kvar": LABEL_REMAINING,
    "tilldelat": LABEL_ALLOCATED,
    "utfall": LABEL_SPENT,
    "prognos": LABEL_FORECAST,
}
"""A figure asked for (core.vocabulary.Figure's value) → its label in an answer's headline."""

OWN_UNITS = "dina nämnder"
ENGLISH_NOTE = "Jag svarar på svenska. (I answer in Swedish.)"


def _figures(allocated: int, spent: int, forecast: int) -> dict[str, int]:
    return {"kvar": allocated - spent, "tilldelat": allocated, "utfall": spent, "prognos": forecast}


def figure_headline(
    figure: str, who: str, year: int | None, allocated: int, spent: int, forecast: int
) -> str:
    """The figure asked for first: "**Utfall för Stadskontoret (STK) 2025: 0 kr**"."""
    amount = _figures(allocated, spent, forecast)[figure]
    when = f" {year}" if year else ""
    line = f"**{FIGURE_LABELS[figure]} för {plain(who)}{when}: {kr(amount)}**"
    if figure == "prognos":
        line += f" ({LABEL_REMAINING_FORECAST.lower()} {kr(allocated - forecast)})"
    return line


def figures_brief(figure: str | None, allocated: int, spent: int, forecast: int) -> str:
    """Every figure in one line, the one asked for first: "utfall 0 kr (tilldelat …, kvar …, prognos …)"."""
    values = _figures(allocated, spent, forecast)
    first = figure or "kvar"
    rest = ", ".join(f"{name} {kr(values[name])}" for name in values if name != first)
    return f"{first} {kr(values[first])} ({rest})"


def unit_brief(name: str, code: str, figure: str | None, allocated: int, spent: int, forecast: int) -> str:
    return f"- {plain(name)} ({plain(code)}): {figures_brief(figure, allocated, spent, forecast)}"


def unit_brief_no_money(name: str, code: str, year: int) -> str:
    return f"- {plain(name)} ({plain(code)}): inga medel {year}"


def units_header(codes: Sequence[str], year: int) -> str:
    return f"**{plain(', '.join(codes))} {year}, en rad per nämnd:**"


def together_line(figure: str | None, allocated: int, spent: int, forecast: int) -> str:
    return f"**Tillsammans: {figures_brief(figure, allocated, spent, forecast)}**"


def share_answer(
    *,
    figure: str | None,
    unit_name: str,
    code: str,
    title: str,
    measure_id: int,
    units: Sequence[str],
    share: Share,
    allocated: int,
    spent: int,
    forecast: int,
    shares: Sequence[tuple[str, int]],
    funding_refs: Sequence[str],
) -> str:
    """A unit's share of a shared measure, the figure asked for first; the whole measure below."""
    asked = figure or "kvar"
    who = f"{unit_name} ({code}) i {title}"
    lines = [
        figure_headline(asked, who, None, share.allocated, share.spent, share.forecast),
        f"- Nämndens andel: {figures_brief(asked, share.allocated, share.spent, share.forecast)}",
        f"- Hela den gemensamma insatsen ({plain(', '.join(units))}, id {measure_id}): "
        + figures_brief(asked, allocated, spent, forecast)
        + funding_sources(funding_refs),
        f"- {LABEL_SHARES}: " + ", ".join(f"{plain(c)} {kr(a)}" for c, a in shares),
        "- Utfall och prognos delas mellan nämnderna i samma proportion som det tilldelade beloppet.",
    ]
    return "\n".join(lines)


def measures_brief_header(count: int) -> str:
    if count == 1:
        return "**1 insats passar frågan; här är den i korthet:**"
    return f"**{count} insatser passar frågan; här är de i korthet:**"


def measure_brief(
    title: str,
    units: Sequence[str],
    measure_id: int,
    status: Status,
    overdue: bool,
    figure: str | None,
    allocated: int,
    spent: int,
    forecast: int,
) -> str:
    return (
        f"- {measure_heading(title, units, measure_id)}: {status_word(status, overdue)}; "
        f"{figures_brief(figure, allocated, spent, forecast)}"
    )


def no_measure_ids(ids: Sequence[int]) -> str:
    named = ", ".join(str(i) for i in ids)
    return f'Jag hittar ingen insats med id {named}. Fråga "mina insatser" för de insatser du kan se.'


_FILTER_WORDS: dict[str, tuple[str, str]] = {
    "försenad": ("Försenade insatser", "är försenade"),
    "ej påbörjad": ("Insatser som inte har påbörjats", "är ej påbörjade"),
    "pågående": ("Pågående insatser", "är pågående"),
    "klar": ("Klara insatser", "är klara"),
    "ej slutförd": ("Ej slutförda insatser", "är ej slutförda"),
    "behöver mer pengar": (
        "Insatser som behöver mer pengar (prognos över tilldelat)",
        "behöver mer pengar (ingen har en prognos över det tilldelade beloppet)",
    ),
    "slutar": ("Insatser som slutar", "slutar"),
}
"""A list's filter (core.vocabulary.Filter's value) → its header and its words in "Inga insatser … ."."""


def _ends_when(year: int | None, months: tuple[int, int] | None) -> str:
    """ " 2025", " i september 2025", " senast juni 2025": when a list's measures end."""
    if not year:
        return ""
    if months is None:
        return f" {year}"
    first, last = months
    if first == last:
        return f" i {vocabulary.MONTHS[first - 1]} {year}"
    return f" senast {vocabulary.MONTHS[last - 1]} {year}"


def filtered_header(
    filter_: str, count: int, where: str | None, year: int | None, months: tuple[int, int] | None = None
) -> str:
    head, _ = _FILTER_WORDS[filter_]
    within = f" för {plain(where)}" if where else ""
    when = _ends_when(year, months) if filter_ == "slutar" else ""
    return f'**{head}{when}{within}: {count} st.** Fråga "status" och insatsens namn för detaljer.'


def no_filtered(
    filter_: str, where: str | None, year: int | None, months: tuple[int, int] | None = None
) -> str:
    _, words = _FILTER_WORDS[filter_]
    within = f" för {plain(where)}" if where else ""
    when = _ends_when(year, months) if filter_ == "slutar" else ""
    return f"Inga insatser{within} {words}{when}."


def no_unit_measures(where: str) -> str:
    return f"Det finns inga insatser för {plain(where)} som du kan se."


def also_offer(what: str) -> str:
    return f"Du frågade också om {what}: skriv det igen så svarar jag."


ALSO_SUBJECTS: dict[str, str] = {
    "remaining": "pengarna",
    "status": "en insats",
    "submit_measure": "en ny insats",
    "follow_up": "en uppföljning",
    "reallocate": "en omfördelning",
    "round": "uppföljningsomgången",
    "glossary": "ett ord",
    "units": "nämnderna",
    "needs": "kompetensbehoven",
}
"""A second question's kind (core.vocabulary.Intent's value) → what it was about, for also_offer."""
ALSO_SUBJECT_OTHER = "något mer"

GLOSSARY_EXPLANATIONS: dict[str, str] = {
    "prognos": "vad pengarna väntas ha använts till vid årets slut, enligt den senaste uppföljningen; "
    "en insats utan uppföljning räknas med hela sitt tilldelade belopp.",
    "utfall": "vad som faktiskt har använts hittills, enligt den senaste uppföljningen.",
    "kvar": 'tilldelat minus utfall: pengar som inte har använts ännu. "Kvar enligt prognos" är '
    "tilldelat minus prognos.",
    "tilldelat": "pengar som en nämnd eller insats har fått genom beslut (överföringar och beviljade "
    "belopp, plus eller minus omfördelningar).",
    "beviljat": "det belopp en insats har fått genom ett beslut, av nämnden eller av KS eller KSAU.",
    "anslag": "årets kompetensmedel (fonden), beslutade av kommunfullmäktige eller KS; därifrån förs "
    "pengar över till nämnderna.",
    "insats": "en kompetenshöjande aktivitet med titel, nämnd, slutdatum och pengar, som följs upp.",
    "nämnd": "en av stadens nämnder (till exempel GVN), som får en del av kompetensmedlen och fördelar "
    "dem på insatser.",
    "uppföljning": "en rapport om en insats: status, utfall, prognos och om pengarna kan användas som "
    "planerat. I juni går en uppföljningsomgång ut till alla ansvariga.",
    "omfördelning": "pengar som flyttas från en insats till en annan genom ett beslut av KSAU.",
    "ksau": "kommunstyrelsens arbetsutskott, som beslutar om omfördelningar mellan insatser.",
    "ej fördelat": (
        "det av nämndens tilldelade pengar som ännu inte är beviljat till någon insats; det kan beviljas "
        "till nya insatser."
    ),
    "status": "var en insats står: Ej påbörjad, Pågående, Klar eller Ej slutförd.",
    "ej slutförd": "insatsen avslutades utan att bli klar.",
    "användbar": "om pengarna kan användas under året som planerat (ja eller nej i uppföljningen).",
    "behov": "ett kompetensbehov som en nämnd har bedömt för en yrkesgrupp (till exempel ersättning av "
    "pensionsavgångar eller kompetenshöjning), med källa och datum; de insatser som svarar mot det "
    'kopplas till behovet. Fråga "vilka behov saknar insatser?".',
}
"""Each base term of core.vocabulary.GLOSSARY_WORDS and its short explanation."""


def glossary_answer(terms: Sequence[str]) -> str:
    """Each term asked about explained, one line each; without a known term, the terms there are."""
    known = [t for t in terms if t in GLOSSARY_EXPLANATIONS]
    if not known:
        return (
            f"Jag kan förklara de här orden: {', '.join(GLOSSARY_EXPLANATIONS)}. "
            'Fråga till exempel "vad betyder prognos?".'
        )
    return "\n".join(f"**{_TERM_NAMES.get(t, t.capitalize())}**: {GLOSSARY_EXPLANATIONS[t]}" for t in known)


_TERM_NAMES = {"ksau": "KSAU"}
"""A term's name where it is not the word capitalised."""


def units_list(units: Sequence[Unit]) -> str:
    lines = [f'**Stadens nämnder: {len(units)} st.** Skriv koden eller namnet, till exempel "saldo GVN".']
    lines += [f"- {plain(u.code)}: {plain(u.name)}" for u in units]
    return "\n".join(lines)


def round_dates(
    period: str,
    opens: date,
    deadline: date,
    reminders: Sequence[date],
    phase: str,
    escalate_on: date | None = None,
    next_reminder: date | None = None,
) -> str:
    lines = [
        f"**Uppföljningen {format_period(period)}** ({phase})",
        f"- Öppnar: {format_date(opens)}",
        f"- Sista dag: {format_date(deadline)}",
    ]
    if reminders:
        lines.append("- Påminnelser: " + ", ".join(format_date(d) for d in reminders))
    if escalate_on is not None:
        lines.append(
            f"- Nästa påminnelse: {format_date(next_reminder)}"
            if next_reminder
            else "- Inga fler påminnelser"
        )
        lines.append(f"- Eskalering: {format_date(escalate_on)} (listan över dem som inte har svarat)")
    return "\n".join(lines)


WHOLE_CITY = "hela staden"


# --- issue 19: dialogs that trap or lose work ------------------------------------------

SEARCH_AGAIN = "Okej, skriv namnet igen."
"""After "nej" to a "Menade du …?": the next message is a new search."""
NOTHING_TO_GO_BACK_TO = "Det finns ingen fråga före den här."
ALREADY_DOING = "Vi håller redan på med det."
RESTARTED = "Okej, inget har sparats. Vi börjar om från början."
RESUMED = "Då fortsätter vi där du var."
NOTHING_TO_RESUME = "Det finns inget påbörjat att fortsätta."
KEPT_DROPPED = "Okej, jag har tagit bort det du hade påbörjat."


def ask_again(prompt: str) -> str:
    """The question of a field again, after a question was answered in its place."""
    text = prompt.strip()
    return f"… Och {text[:1].lower()}{text[1:]}" if text else text


def answer_after(what: str) -> str:
    return f"Det svarar jag på när vi är klara med {what}."


def what_to_change(fields: Sequence[str]) -> str:
    """ "nej" at a confirmation: nothing is thrown away."""
    return f"Vad vill du ändra? {', '.join(fields)} – eller skriv avbryt."


def kept_offer(what: str, title: str | None) -> str:
    named = f" ({plain(title)})" if title else ""
    return f'Du har {what}{named}. Skriv "fortsätt" för att fortsätta där du var.'


KEPT_MEASURE = "en påbörjad insats"
KEPT_FOLLOWUP = "en påbörjad uppföljning"
THE_MEASURE = "insatsen"
THE_FOLLOWUP = "uppföljningen"
MEASURE_FIELD_NAMES = {
    "unit": "nämnd",
    "title": "titel",
    "description": "beskrivning",
    "target_group": "målgrupp",
    "categories": "kategorier",
    "start_date": "startdatum",
    "end_date": "slutdatum",
    "performer": "utförare",
    "amount": "belopp",
    "decision": "beslut",
    "need": "behov",
}
NOT_SAVED_FORM_BACK = (
    "Okej, inget är sparat, och inget av det du har svarat är borttaget. "
    + what_to_change(list(MEASURE_FIELD_NAMES.values()))
    + " Du kan också ändra i formuläret här och skicka det igen."
)
"""'nej' at the measure's confirmation: the fields by the names "ändra <fält>" shows."""
FOLLOWUP_FIELD_NAMES = {
    "measure": "insats",
    "period": "period",
    "status": "status",
    "spent": "utfall",
    "forecast": "prognos",
    "usable": "användbar som planerat",
    "note": "kommentar",
    "reached": "personer nådda",
}
NOT_ASKED_YET = "Den frågan kommer vi till snart. Svara först på den här."


# --- issue 19 review: dialogs that trap or lose work -----------------------------------

KEPT_EXPIRED = "Det finns inget påbörjat att fortsätta: det du lämnade har tagits bort efter ett dygn."


def kept_replaced(what: str, title: str | None) -> str:
    """A dialog left for another question while another was already kept: only one is kept."""
    named = f" ({plain(title)})" if title else ""
    return f"Obs: {what}{named} som du lämnade tidigare är borttagen. Jag sparar bara en påbörjad åt gången."


def question_not_answered(question: str) -> str:
    """A question kept for after a form ("Det svarar jag på när vi är klara"), the form left."""
    return f'Din fråga "{plain(echo(question))}" har jag inte svarat på. Skriv den igen om du vill ha svar.'


# --- issue 19: fix answers (review items 7, 13, 14, 17; a stranger's tryout) ---


def only_own_figures(visible: Sequence[str]) -> str:
    """Said before the answer to one who asks for the whole city and may see only some units."""
    return f"Du kan bara se siffrorna för {plain(', '.join(visible))}."


def units_not_visible(hidden: Sequence[str], visible: Sequence[str]) -> str:
    """Units named that the person may not read, said above the answer for the others."""
    return f"Du kan inte se siffrorna för {plain(', '.join(hidden))}. {only_own_figures(visible)}"


def sub_measure_brief(
    title: str,
    units: Sequence[str],
    measure_id: int,
    status: Status,
    overdue: bool,
    parent: str,
    parent_id: int,
) -> str:
    """A sub-activity without money of its own in a short list: where its money is followed
    (its figures, all 0 kr, read as no money at all)."""
    return (
        f"- {measure_heading(title, units, measure_id)}: {status_word(status, overdue)}; "
        f"delaktivitet, pengarna följs upp på huvudinsatsen {plain(parent)} (id {parent_id})."
    )


def units_measures_not_visible(hidden: Sequence[str], visible: Sequence[str]) -> str:
    """Units named in a list of measures that the person may not read, said above the list."""
    return (
        f"Du kan inte se insatserna för {plain(', '.join(hidden))}. "
        f"Du kan bara se insatserna för {plain(', '.join(visible))}."
    )


# --- issue 19: round 2 of the dialogs (a stranger's tryout) ---


def still_doing(what: str) -> str:
    """ "fortsätt" while a form is under way: nothing kept, the form is right here."""
    return f"Vi håller på med {what} just nu. Här är frågan igen."


AMOUNT_AGAIN = "Okej, inget är sparat. Skriv beloppet igen; dina andra svar finns kvar."
"""  "nej" to "Stämmer beloppet?": the amount asked again."""

NO_DECISION_KEPT = (
    "Insatsen sparades inte: beslutet saknas, och pengar beviljas bara genom ett beslut. Jag har "
    'sparat det du har skrivit i ett dygn: skriv "fortsätt" när beslutet är fattat, så frågar jag '
    "efter det. Du kan också fylla i beslutet (organ, datum och paragraf) i formuläret och skicka det."
)
"""  "inget beslut": the measure kept at its decision question, and the form filled in."""


# --- card actions (Action.Execute) ---------------------------------------------------------

CARD_ACTION_MALFORMED = (
    "Kortets knapp skickade något jag inte kan läsa, så inget har sparats. "
    'Skriv "hjälp" för att se vad du kan göra, eller be om kortet igen.'
)
CARD_ACTION_UNKNOWN = (
    "Det här kortet hör inte till något jag kan göra längre, så inget har sparats. "
    'Skriv "hjälp" för att se vad du kan göra, eller be om kortet igen.'
)


# --- issue 20: KSAU's decision from a card (dialogs.proposal_cards) ---------------------

PROPOSALS_DECIDE_BUTTON = "Registrera beslut"
PROPOSALS_TICK = "KSAU har beslutat förslaget"
PROPOSALS_INTRO = (
    "Kryssa i de förslag som KSAU har beslutat om, skriv beslutet och tryck på Registrera beslut. "
    "Varje förslag kontrolleras mot den senaste uppföljningen när det registreras; förslag som inte "
    "kryssas i registreras inte."
)
PROPOSALS_READ_ONLY = "Bara den som har rollen ksau kan registrera KSAU:s beslut."
PROPOSALS_PRELIMINARY = (
    "Preliminära förslag: de bygger på uppföljningarna som de ser ut nu och kan ändras tills rundan "
    "är stängd och förslagen skickade till KSAU. Beslut registreras på kortet som skickas då, "
    "inte på det här."
)
PROPOSALS_REALLOCATE_HERE = (
    "KSAU:s beslut om omfördelning registreras på kortet med omfördelningsförslagen: kryssa i de "
    "förslag som KSAU har beslutat om, skriv beslutet och tryck på Registrera beslut."
)
PROPOSAL_RECORDED = "Registrerat"
PROPOSAL_NOT_TICKED = "Inte beslutat (inte ikryssat)"


def proposals_card_title(period: str, count: int) -> str:
    what = "1 förslag" if count == 1 else f"{count} förslag"
    return f"Omfördelningsförslag efter uppföljningen {format_period(period)}: {what}"


def proposals_text(period: str) -> str:
    """The message with the card (a notification's preview)."""
    return f"Omfördelningsförslagen efter uppföljningen {format_period(period)}, för KSAU:s beslut."


def proposals_line(number: int, amount: int, source: str, source_id: int, target: str, target_id: int) -> str:
    return (
        f"**{number}. {kr(amount)}** från {plain(source)} (id {source_id}) "
        f"till {plain(target)} (id {target_id})"
    )


def proposals_basis(unused: int, period: str, same_unit: bool) -> str:
    where = "samma nämnd" if same_unit else "en annan nämnd"
    return f"Underlag: {kr(unused)} outnyttjat enligt uppföljningen {period}; mottagaren hör till {where}."


def proposals_decided(decision: SetDecision, total: int) -> str:
    """ "Beslutat KSAU 2025-06-24 § 5: 3 av 4 förslag, registrerat av …" (core.proposal_sets.decided_line)."""
    return plain(decided_line(decision, total))


def proposal_refused(reason: str) -> str:
    return f"Registrerades inte: {plain(reason)}"


def proposals_refused(message: str) -> str:
    """A decision from the card refused as a whole: nothing was written."""
    return f"Beslutet registrerades inte. {plain(message)}"


def proposals_bad_decision(problem: str) -> str:
    return (
        f"Beslutet registrerades inte: {plain(problem)} Skriv beslutet som KSAU:s protokoll anger det, "
        'till exempel "KSAU 2025-06-24 § 5". Inget har sparats.'
    )


def proposals_more(count: int) -> str:
    return (
        f"{count} förslag till får inte plats på kortet och kan inte registreras härifrån. "
        "Be stadskontoret registrera KSAU:s beslut om dem."
    )


def proposals_sent(period: str, proposals: int, members: int, new: int) -> str:
    if not new:
        return (
            f"Omfördelningsförslagen efter uppföljningen {format_period(period)} är redan skickade till "
            f"KSAU ({members} med rollen ksau). Inget nytt skickades."
        )
    return (
        f"Omfördelningsförslagen efter uppföljningen {format_period(period)} ({proposals} förslag) skickas "
        f"nu till {new} av {members} med rollen ksau, ett kort var."
    )


# --- files in the chat (issue 20) ---------------------------------------------------------------

FILE_ONLY_PERSONAL = (
    "Filer kan jag bara skicka i en personlig chatt med mig, inte här. Skriv till mig direkt, "
    'till exempel "exportera insatserna 2025 till excel", så får du filen där.'
)
FILE_OFFERED = (
    'Här är filen du bad om. Tryck på "Tillåt" så laddar jag upp den till din OneDrive och '
    "skickar den här; den innehåller bara det du själv får se."
)


def round_card_closed_line(period: str) -> str:
    """A round card opened after its round closed: what was reported, nothing more taken."""
    return (
        f"Uppföljningen {format_period(period)} är stängd och tar inte emot fler svar. "
        "Kontakta stadskontoret om ett sent svar behöver registreras."
    )


ROUND_CONFIRMATION_LEFT = (
    "Jag lämnar frågan om uppföljningsomgången: inget har öppnats eller stängts. Skriv det igen när du vill."
)
FILE_ONLY_XLSX = "I chatten skickar jag filen som Excel (XLSX), som också öppnas i andra kalkylprogram."
FILE_SENT = "Filen är uppladdad till din OneDrive:"
FILE_DECLINED = "Okej, jag skickar ingen fil. Be om den igen när du vill."
FILE_UPLOAD_FAILED = (
    "Filen kunde inte laddas upp till din OneDrive, så den är inte skickad. Försök igen om en "
    'stund: be om filen på nytt, till exempel "exportera insatserna till excel".'
)
FILE_OFFER_USED = (
    "Den här filen har du redan fått (eller avböjt). Be om den igen om du vill ha en ny, till "
    'exempel "exportera insatserna till excel".'
)
FILE_OFFER_UNKNOWN = (
    "Det här filerbjudandet känner jag inte igen, eller så har det gått ut. Be om filen igen, "
    'till exempel "exportera insatserna till excel".'
)
FILE_NO_ROUND = (
    "Det finns ingen uppföljningsomgång ännu, så det finns ingen uppföljning att skicka. "
    'Insatserna kan du få som fil: "exportera insatserna till excel".'
)


def measures_file_description(year: int) -> str:
    """The file consent card's description of the year's measures (`kompetensbot export`)."""
    return f"Insatserna {year} som du får se, som Excel-fil (samma som kompetensbot export)."


def round_file_description(period: str) -> str:
    """The file consent card's description of a round's follow-up (`kompetensbot followup export`)."""
    return (
        f"Uppföljningen för {format_period(period)} som du får se, som Excel-fil "
        "(samma som kompetensbot followup export)."
    )


def no_measures_to_export(year: int) -> str:
    return (
        f"Det finns inga insatser för {year} som du får se, så det finns ingen fil att skicka. "
        'Fråga till exempel "exportera insatserna 2025 till excel" för ett annat år.'
    )


def no_round_for(year: int | None, month: int | None) -> str:
    """No round for the month and/or year a file request named ("uppföljningen för juni 2024")."""
    when = " ".join(p for p in (vocabulary.MONTHS[month - 1] if month else "", str(year or "")) if p)
    return (
        f"Jag hittar ingen uppföljningsomgång för {when}. "
        'Skriv "skicka uppföljningen som fil" för den senaste omgången.'
    )


# --- issue 20: the live overview card ("översikt") ----------------------------------------

OVERVIEW_TEXT = "Här är översikten. Den räknas om för dig varje gång du öppnar den."
REFRESH_BUTTON = "Uppdatera"
"""The title of a card's refresh action and of its button: a client that cannot refresh a card
by itself may show the refresh as a button, which must not be untitled ("None")."""
OVERVIEW_BUTTON = REFRESH_BUTTON
OVERVIEW_MONEY = "Pengar per nämnd"
OVERVIEW_MEASURES = "Insatser"
OVERVIEW_MEASURES_ALL_YEARS = "Insatser, alla år"
OVERVIEW_OVERDUE = "Försenade"
OVERVIEW_ALL_MEASURES = "Alla insatser"
OVERVIEW_NO_ROUND = "Ingen uppföljningsomgång har öppnats ännu."
OVERVIEW_ANSWERED_PEOPLE = "Har svarat"
OVERVIEW_ANSWERED_MEASURES = "Insatser med svar"
OVERVIEW_LATE = "Har inte svarat"
OVERVIEW_NO_ONE_LATE = "Alla tillfrågade har svarat i de nämnder du ser."
OVERVIEW_PERSONAL_ONLY = (
    'Översikten visas bara i din personliga chatt med mig. Skriv "översikt" där, så får du den.'
)
OVERVIEW_FORGED = (
    "Översiktskortet skickade något jag inte känner igen, så jag visar ingen översikt från det. "
    'Skriv "översikt" för att få ett nytt kort.'
)


def overview_title(org_name: str, year: int | None) -> str:
    """The overview's heading; without a year for a city without a fund (every year's measures)."""
    return f"Översikt: {plain(org_name)}" + (f" {year}" if year is not None else "")


def overview_no_fund(year: int) -> str:
    """The overview of a city without a fund (issue 21: Hägersten-Liljeholmen), instead of a
    table of zeros."""
    return (
        f"Ingen fond för kompetensutveckling är beslutad för {year} eller tidigare år, och inga pengar "
        "är överförda till nämnderna, så det finns inga pengar att visa. Insatserna räknas för alla år."
    )


def overview_as_of(as_of: date, city_wide: bool) -> str:
    """Whose figures and on which day (the bot's date)."""
    scope = "hela staden" if city_wide else "de nämnder du ser"
    return f"Siffror per {format_date(as_of)}, för {scope}."


def overview_more_units(count: int) -> str:
    """Units left out of the table; the total row counts them too."""
    what = "1 nämnd till" if count == 1 else f"{count} nämnder till"
    return f'… och {what} (med i totalen). Skriv "saldo" och nämndens namn för en nämnd.'


def overview_round_title(period: str, phase: str, deadline: date) -> str:
    return f"Uppföljningen {format_period(period)} ({phase}, sista dag {format_date(deadline)})"


def overview_count(done: int, of: int) -> str:
    return f"{done} av {of}"


def overview_late_total(committees: int, missing: int, people: int) -> str:
    """Every committee with missing answers, counted (the lines below may list only some)."""
    where = "1 nämnd" if committees == 1 else f"{committees} nämnder"
    what = "1 insats" if missing == 1 else f"{missing} insatser"
    who = "1 person" if people == 1 else f"{people} personer"
    return f"{what} utan svar i {where}; {who} har inte svarat."


def overview_late_line(unit_name: str, code: str, missing: int, people: Sequence[str], more: int) -> str:
    """One committee with missing answers: how many, and who has not answered (names as Teams
    showed them, escaped), at most a few with the count of the rest."""
    measures = "1 insats" if missing == 1 else f"{missing} insatser"
    line = f"- **{plain(unit_name)} ({plain(code)})**: {measures} utan svar"
    if people:
        names = ", ".join(plain(p) for p in people)
        line += f"; {names}" + (f" och {more} till" if more else "")
    elif more:
        line += f"; {more} personer"
    return line


def overview_late_more(count: int) -> str:
    what = "1 nämnd till" if count == 1 else f"{count} nämnder till"
    return f'… och {what}. Skriv "vem har inte svarat" för hela listan.'


# --- issue 20: the round from chat ---------------------------------------------------------

NAMES_HINT = 'Skriv "vem har inte svarat" för att se vilka som inte har svarat.'
MAX_COMMITTEE_LINES = 40
"""Committees listed one a line in the round's status; the rest are counted."""


def _round_date_lines(
    opens: date, escalate_on: date, next_reminder: date | None, as_of: date, closed: object
) -> list[str]:
    if closed is not None:
        return [f"- Öppnade {format_date(opens)}; omgången är stängd"]
    parts = [f"{'öppnade' if opens <= as_of else 'öppnar'} {format_date(opens)}"]
    parts.append(
        f"nästa påminnelse {format_date(next_reminder)}" if next_reminder else "inga fler påminnelser"
    )
    parts.append(f"eskalering {format_date(escalate_on)}")
    return [f"- Datum: {', '.join(parts)}"]


def _committee_lines(rates: Sequence[CommitteeRate]) -> list[str]:
    """Each committee's answered of asked measures, and those with no recipient; those with
    answers missing first."""

    def missing(r: CommitteeRate) -> bool:
        return r.answered < r.asked or r.no_recipient_answered < r.no_recipient

    ordered = [r for r in rates if missing(r)] + [r for r in rates if not missing(r)]
    lines = ["- Per nämnd (besvarade av tillfrågade insatser, utan mottagare):"]
    for r in ordered[:MAX_COMMITTEE_LINES]:
        asked = f"{r.answered} av {r.asked} besvarade" if r.asked else "ingen tillfrågad"
        line = f"  - {plain(r.name)} ({plain(r.code)}): {asked}"
        if r.no_recipient:
            line += f", {r.no_recipient} utan mottagare"
            if r.no_recipient_answered:
                line += f" (varav {r.no_recipient_answered} besvarade)"
        lines.append(line)
    rest = ordered[MAX_COMMITTEE_LINES:]
    if rest:
        done = sum(not missing(r) for r in rest)
        lines.append(f"  - … och {_n(len(rest), 'nämnd', 'nämnder')} till, varav {done} har svarat på allt")
    return lines


def round_open_summary(opening: OpenPlan, as_of: date) -> str:
    """What opening a round will do, before "ja" (dates from the core's plan)."""
    p = opening.plan
    lines = [
        f"**Öppna uppföljningen {format_period(p.period)}?**",
        f"- Öppnar: {format_date(p.opens)}"
        + (" (korten går ut direkt)" if p.opens <= as_of else " (korten går ut den dagen)"),
        f"- Sista dag: {format_date(p.deadline)}",
        "- Påminnelser: " + (", ".join(format_date(d) for d in p.reminders) or "inga"),
        f"- Eskalering: {format_date(p.escalate_on)}",
        f"- {_n(opening.measures, 'insats', 'insatser')} med pengar {p.year}: kort till "
        f"{_n(opening.recipients, 'person', 'personer')}",
    ]
    if opening.no_recipient:
        units = ", ".join(f"{plain(code)} {n}" for code, n in opening.no_recipient.items())
        lines.append(f"- Ingen mottagare (ingen ansvarig och ingen med rollen hr) för insatser i: {units}")
    lines.append('Svara "ja" för att öppna omgången. "Nej" avbryter, och inget ändras.')
    return "\n".join(lines)


def round_close_summary(report: RoundReport) -> str:
    """What closing a round will do, before "ja"."""
    r = report.round
    lines = [
        f"**Stänga uppföljningen {format_period(r.period)}?**",
        f"- Sista dag: {format_date(r.plan.deadline)} ({r.phase(report.as_of).value})",
        f"- Svar: {report.people_answered}; insatser: {report.count(MeasureState.ANSWERED)} av "
        f"{len(report.measures)} besvarade",
        "- Efter stängningen går inga fler kort eller påminnelser ut, och perioden "
        f"{r.period} tar inte emot fler uppföljningar.",
        'Svara "ja" för att stänga omgången. "Nej" avbryter, och inget ändras.',
    ]
    return "\n".join(lines)


ROUND_NOT_OPENED = "Okej, omgången öppnades inte. Inget har ändrats."
ROUND_NOT_CLOSED = "Okej, omgången stängdes inte. Inget har ändrats."


def round_opened_in_chat(period: str, opens: date, deadline: date, recorded: int, as_of: date) -> str:
    if opens > as_of:
        return f"Uppföljningen {format_period(period)} är öppnad. Korten går ut {format_date(opens)}."
    return (
        f"Uppföljningen {format_period(period)} är öppnad: {_n(recorded, 'kort', 'kort')} går ut nu, "
        f"sista dag {format_date(deadline)}."
    )


def round_closed_in_chat(period: str, *, closed: bool) -> str:
    if not closed:
        return f"Uppföljningen {format_period(period)} var redan stängd."
    return (
        f"Uppföljningen {format_period(period)} är stängd: inga fler kort, påminnelser eller svar för "
        f"{period}."
    )


def reminders_sent(period: str, count: int, units: Sequence[str]) -> str:
    where = f" i {plain(', '.join(units))}" if units else ""
    return (
        f"En extra påminnelse går nu ut till {_n(count, 'person', 'personer')}{where} som inte har svarat "
        f"på uppföljningen {format_period(period)}. Nästa extra påminnelse kan skickas i morgon."
    )


def reminders_nobody(period: str, units: Sequence[str]) -> str:
    where = f" i {plain(', '.join(units))}" if units else ""
    return (
        f"Ingen påminnelse skickades: alla som har fått kortet{where} har svarat på uppföljningen "
        f"{format_period(period)} (den som inte har fått kortet än får det med nästa utskick)."
    )


# --- issue 20: a card's click that Teams sends again --------------------------------------------

CARD_ACTION_REPEATED = (
    "Klicket har redan tagits emot och hanterats, så inget har gjorts en gång till. "
    "Svaret står i chatten eller på kortet."
)


# --- issue 21: how many people a measure linked to a competence need has reached -----------------

LABEL_REACHED = forms.LABEL_REACHED
ROUND_REACHED_QUESTION = "Hur många personer har insatsen nått hittills?"
PLACEHOLDER_REACHED = "till exempel 12 (lämna tomt om du inte vet)"
SKIP_REACHED_BUTTON = "Hoppa över"
NEEDS_NAMED_ON_CARD = 3
"""A measure's needs named on a round card, at most (the rest counted)."""


def people(count: int) -> str:
    """ "1 person", "12 personer", "1 200 personer"."""
    return f"{count:_}".replace("_", " ") + (" person" if count == 1 else " personer")


def need_name(role: str, kind: str, key: str) -> str:
    """A competence need as one line names it: "förskollärare, kompetenshöjning (B1)"."""
    return f"{plain(clean_name(role))}, {plain(kind.lower())} ({plain(clean_name(key))})"


def answers_needs(names: Sequence[str], others: int) -> str:
    """The needs a measure answers, in a sentence's end: `names` from `need_name` (at most
    NEEDS_NAMED_ON_CARD of them named), `others` the needs of committees the reader may not
    read, counted."""
    shown = list(names[:NEEDS_NAMED_ON_CARD])
    more = len(names) - len(shown) + others
    parts = "; ".join(shown)
    if more:
        rest = _n(more, "behov", "behov")
        parts = (
            f"{parts} och {rest} till"
            if shown
            else rest + (" i en annan nämnd" if more == 1 else " i andra nämnder")
        )
    return parts


def round_card_needs(names: Sequence[str], others: int) -> str:
    """The round card's line under a measure linked to competence needs."""
    return f"Svarar mot behov: {answers_needs(names, others)}."


def ask_reached(names: Sequence[str], others: int) -> str:
    """The follow-up dialog's question for a measure linked to competence needs."""
    return (
        f"Insatsen svarar mot behov: {answers_needs(names, others)}. {ROUND_REACHED_QUESTION} "
        'Skriv antalet, till exempel "12", eller "hoppa över" om du inte vet.'
    )


def reached_line(reached: int) -> str:
    """A follow-up's people reached, as its status answer says it."""
    return f"Insatsen har nått {people(reached)} hittills."


REACHED_SHOWN_ON_FORM = 3
"""Measures linked to needs named by the follow-up form's people-reached hint, at most."""


def followup_form_reached_hint(linked: Sequence[tuple[str, Sequence[str]]]) -> str:
    """The follow-up form's line above its people-reached field when the measure is not yet
    chosen: the field is for measures linked to competence needs only, which are named
    (`linked`: each measure's title, as typed, and its needs' keys)."""
    shown = [
        f"{plain(title)} ({', '.join(plain(clean_name(k)) for k in keys)})"
        for title, keys in linked[:REACHED_SHOWN_ON_FORM]
    ]
    more = len(linked) - len(shown)
    named = "; ".join(shown) + (f" och {_n(more, 'insats', 'insatser')} till" if more else "")
    return (
        f"Bara för insatser som svarar mot ett kompetensbehov: {named}. "
        "Lämna fältet tomt för andra insatser, och om du inte vet."
    )


def reached_not_linked(title: str) -> str:
    """The follow-up form's refusal of people reached for a measure that answers no need."""
    return (
        f"{plain(title)} svarar inte mot något kompetensbehov, så antalet personer som insatsen "
        f'nått sparas inte för den. Lämna fältet "{ROUND_REACHED_QUESTION}" tomt.'
    )


def reached_over_people(reached: int, of: int) -> str:
    """People reached above the people of the needs the measure answers (issue 21): asked
    about in the chat, noted on the summary, the receipt and the round's answered card."""
    return f"{people(reached)} nådda är fler än de {people(of)} som behoven insatsen svarar mot gäller."


def forecast_over_money(forecast: int, money: int) -> str:
    """A forecast above the measure's money (below twice it: not asked), noted on the
    follow-up's summary and receipt."""
    return f"Prognosen {kr(forecast)} är mer än insatsens medel, {kr(money)}."


def confirm_checked(problems: Sequence[str], *, amount: bool, reached: bool) -> str:
    """The chat's question before the summary: an amount over twice the measure's money
    (confirm_implausible) and/or more people reached than the needs concern."""
    if amount and not reached:
        return confirm_implausible(problems)
    said = " ".join(plain(p) for p in problems)
    again = "beloppet och antalet personer" if amount else "antalet personer"
    return (
        f"{said} Stämmer {'det' if amount else 'antalet'}? Svara **ja** om det är rätt, så får du se "
        f"sammanfattningen. Svara **nej** så skriver du {again} igen; dina andra svar finns kvar."
    )


REACHED_AGAIN = "Okej, inget är sparat. Skriv antalet personer igen; dina andra svar finns kvar."


# --- issue 21: competence needs in the chat (dialogs.needs_answers) -------------------------------

NEEDS_SHOWN = 12
"""The needs one answer lists at most (each a few lines: a phone's screen or two); the rest counted."""

NEEDS_COME_IN = (
    'Behoven kommer in med nämndens mall (bladet "Behov"), som nämnden skickar till stadskontoret '
    "tillsammans med sina insatser, eller registreras av stadskontoret."
)
"""Where competence needs come from, as one who asks in the chat can do it (not the command line)."""

NO_NEEDS = (
    f"Det finns inga kompetensbehov registrerade för dina nämnder ännu. {NEEDS_COME_IN} "
    "När en ny insats lämnas in kan den kopplas till ett av nämndens behov."
)
"""A person who may read no needs: not an empty list, but why and how needs come in."""


def no_needs_in_year(year: int, periods: Sequence[Period]) -> str:
    """A person whose needs all cover other years than the one asked about (a plan of 2018–2019
    asked about in 2025): which years they cover, how to ask about one, and how a new assessment
    comes in."""
    named = _listing([p.label for p in periods])
    example = periods[-1].first
    return (
        f"Inga av dina nämnders kompetensbehov gäller {year}: de som finns gäller {named}. "
        f'Fråga om ett av de åren, till exempel "vilka behov saknar insatser {example}?". '
        f'En ny bedömning för {year} kommer in med nämndens mall (bladet "Behov") till stadskontoret, '
        "eller registreras av stadskontoret."
    )


def _need_where(need: NeedEntry) -> str:
    area = f", {plain(need.area)}" if need.area else ""
    return f"{plain(need.unit)}{area}, behov {plain(need.key)}"


def _need_facts(need: NeedEntry) -> str:
    facts = [need.kind.value, plain(need.competence)]
    if need.people is not None:
        facts.append(_n(need.people, "person", "personer"))
    if need.retirements is not None:
        facts.append(f"{_n(need.retirements, 'pensionsavgång', 'pensionsavgångar')} inom två år")
    facts.append(f"rekryteringsläge {need.recruitment.value}")
    facts.append(f"period {need.period.label}")
    return ", ".join(f for f in facts if f)


def need_source(need: NeedEntry, stale: bool) -> str:
    """ "Källa: Kompetensförsörjningsplan 2024 (1 mars 2024), bedömd 1 november 2022 – bedömningen
    är äldre än två år"."""
    dated = f" ({format_date(need.source_date)})" if need.source_date else ""
    old = " – **bedömningen är äldre än två år**" if stale else ""
    return f"Källa: {plain(need.source)}{dated}, bedömd {format_date(need.assessed)}{old}"


def _linked_measure(m: LinkedMeasure, year: int) -> str:
    answers = f"svarar mot behovet {year}" if m.answers else f"svarar inte mot behovet {year}"
    if not m.visible:
        return f"en insats i {plain(', '.join(m.units))} ({answers})"
    why = "" if m.answers else f", {m.status.value.lower()}"
    money = f", {kr(m.money)}" if m.money else ""
    return f"{plain(m.title)} (id {m.id}{money}): {answers}{why}"


def need_item(view: NeedView, year: int, *, money: bool = False) -> str:
    """One need as a list item over a few short lines: its role and place, what it is, its
    measures and whether they answer it in `year`, and its source (`money`: its part of them)."""
    need = view.need
    lines = [f"- **{plain(need.role)}** ({_need_where(need)}): {_need_facts(need)}"]
    if money:
        lines.append(f"  Pengar {year} ur kopplade insatser: {kr(view.money)}")
    if view.measures:
        lines.append("  Insatser: " + "; ".join(_linked_measure(m, year) for m in view.measures))
    else:
        lines.append("  Ingen insats är kopplad till behovet.")
    lines.append("  " + need_source(need, view.stale))
    return "\n".join(lines)


def _need_items(views: Sequence[NeedView], year: int, *, money: bool = False) -> list[str]:
    items = [need_item(v, year, money=money) for v in views[:NEEDS_SHOWN]]
    if len(views) > NEEDS_SHOWN:
        items.append(list_more(len(views) - NEEDS_SHOWN))
    return items


def _scope(unit: str | None, roles: Sequence[str]) -> str:
    parts = []
    if roles:
        parts.append("för " + plain(" och ".join(roles)))
    if unit:
        parts.append(f"i {plain(unit)}")
    return (" " + " ".join(parts)) if parts else ""


def needs_uncovered(
    views: Sequence[NeedView],
    asked: Sequence[NeedView],
    year: int,
    *,
    unit: str | None = None,
    roles: Sequence[str] = (),
) -> str:
    """ "vilka behov saknar insatser?": the needs no linked measure answers in `year` (`views`),
    shortage roles first, then the most retirements (the order given), of the needs asked about
    (`asked`: their sources are named when every one is answered)."""
    scope = _scope(unit, roles)
    if not views:
        return (
            f"**Alla {_n(len(asked), 'behov', 'behov')}{scope} har en insats som svarar mot dem {year}.**\n"
            + sources_line(asked)
        )
    head = (
        f"**Behov{scope} utan insatser {year}: {len(views)} av {len(asked)}.** "
        "Bristyrken först, sedan flest pensionsavgångar."
    )
    return "\n".join([head, *_need_items(views, year)])


def needs_retiring(views: Sequence[NeedView], year: int, *, unit: str | None = None) -> str:
    """ "vilka svårrekryterade yrken har pensionsavgångar?": shortage roles with retirements within
    two years, the most retirements first."""
    scope = _scope(unit, ())
    if not views:
        return (
            f"Inga behov{scope} gäller ett yrke med rekryteringsläge brist och pensionsavgångar inom "
            "två år (bland de behov som du kan se och som anger pensionsavgångar)."
        )
    roles = list(dict.fromkeys(v.need.role for v in views))
    retiring = sum(v.need.retirements or 0 for v in views)
    head = (
        f"**Svårrekryterade yrken med pensionsavgångar inom två år{scope}: "
        f"{_n(len(roles), 'yrkesgrupp', 'yrkesgrupper')}, "
        f"{_n(retiring, 'pensionsavgång', 'pensionsavgångar')}.**"
    )
    return "\n".join([head, *_need_items(views, year)])


def needs_list(
    views: Sequence[NeedView], year: int, *, unit: str | None = None, roles: Sequence[str] = ()
) -> str:
    """ "behov socialsekreterare", "behov FSKN": the needs, each with its measures and whether
    they answer it in `year`."""
    head = f"**Behov{_scope(unit, roles)}: {_n(len(views), 'st.', 'st.')}** Insatserna visas för {year}."
    return "\n".join([head, *_need_items(views, year)])


def no_needs_for(unit: str | None, roles: Sequence[str]) -> str:
    """The person reads needs, but none of the role or unit asked about."""
    return f"Det finns inga registrerade behov{_scope(unit, roles)} som du kan se."


def unknown_role(typed: str, roles: Sequence[str]) -> str:
    """A role no need the person may read names: the roles they can ask about."""
    known = plain(", ".join(roles)) if roles else "inga"
    return (
        f'Jag hittar inga behov för yrkesgruppen "{plain(echo(typed))}" bland behoven du kan se. '
        f"Yrkesgrupper med behov: {known}."
    )


def needs_money(
    rows: Sequence[tuple[str, int, bool]],
    year: int,
    unclaimed: int,
    views: Sequence[NeedView],
    *,
    unit: str | None = None,
    roles: Sequence[str] = (),
    unlinked: tuple[int, int] = (0, 0),
) -> str:
    """ "hur mycket satsar vi på förskollärare?": each role's part of the linked measures' money in
    `year` (`rows`: role, kronor, shared with another role's need or with money no need claims),
    what no need claims (`unclaimed`), and the needs the money is for with their sources; asked
    for every role, also the money of the measures that answer no need (`unlinked`: kronor, how
    many measures), so the parts make the whole."""
    shared = [plain(role) for role, _, is_shared in rows if is_shared]
    lines = [
        f"**Pengar till kompetensbehov{_scope(unit, roles)} {year}** (beviljade pengar i insatser "
        "kopplade till behoven, inte utfall eller prognos):"
    ]
    lines += [
        f"- {plain(role)}: {kr(amount)}" + (" (delas)" if is_shared else "")
        for role, amount, is_shared in rows
    ]
    if not rows:
        lines.append(f"- Inga insatser med pengar {year} är kopplade till behoven.")
    if shared:
        lines.append(
            f"Delas: pengarna för {', '.join(shared)} kommer från insatser som också svarar mot andra "
            "yrkesgruppers behov, eller som har pengar som inget behov gör anspråk på. En insats pengar "
            "delas efter kopplingarnas andelar, och det som är kvar lika mellan behoven utan andel."
        )
    if unclaimed:
        lines.append(
            f"Ej kopplat till behov: {kr(unclaimed)} av pengarna i de kopplade insatserna som du kan se "
            "(räknas inte till någon yrkesgrupp)."
        )
    amount, count = unlinked
    if count and not roles:
        measures = "1 insats" if count == 1 else f"{count} insatser"
        lines.append(f"Utanför behoven: {kr(amount)} {year} i {measures} som inte svarar mot något behov.")
    if roles:
        lines.append("Behoven:")
        lines += _need_items(views, year, money=True)
    else:
        lines.append(sources_line(views))
    return "\n".join(lines)


def needs_money_no_fund(
    views: Sequence[NeedView], year: int, *, unit: str | None = None, roles: Sequence[str] = ()
) -> str:
    """ "hur mycket satsar vi på socialsekreterare?" in a city without a fund for `year` (its money
    is not followed here): no kronor per role, as if nothing went to a role, but that no money is
    recorded, and each role's linked measures (`views`: the needs asked about)."""
    lines = [
        f"**Pengar till kompetensbehov{_scope(unit, roles)} {year}:** staden har ingen fond för "
        f"kompetensutveckling {year} registrerad här, så inga pengar är bokförda på insatserna. "
        "Det säger inte att inget går till yrkesgrupperna. Insatserna som är kopplade till behoven, "
        "per yrkesgrupp:"
    ]
    by_role: dict[str, list[NeedView]] = {}
    for view in views:
        by_role.setdefault(" ".join(view.need.role.lower().split()), []).append(view)
    for found in list(by_role.values())[:NEEDS_SHOWN]:
        measures = list(dict.fromkeys(m for v in found for m in v.measures))
        keys = ", ".join(plain(v.need.key) for v in found)
        named = "; ".join(_linked_measure(m, year) for m in measures) or "ingen insats är kopplad"
        lines.append(f"- **{plain(found[0].need.role)}** (behov {keys}): {named}")
    if len(by_role) > NEEDS_SHOWN:
        lines.append(list_more(len(by_role) - NEEDS_SHOWN))
    lines.append(sources_line(views))
    return "\n".join(lines)


def need_detail(view: NeedView, year: int, history: Sequence[NeedEntry], *, asked: int) -> str:
    """ "behov FSKN-3", "vilka insatser svarar mot FSKN-1?": one need with every linked measure
    (its status, whether it answers the need in `year`, how many people it has reached when a
    follow-up says), the need's people and retirements, its source (stale or not) and how many
    times it has been assessed (`history`, oldest first). `asked`: the year asked about; when the
    need's period does not cover it, the measures are shown for `year`, a year it covers."""
    need = view.need
    lines = [
        f"**Behov {plain(need.key)}: {plain(need.role)}** ({plain(need.unit)}"
        + (f", {plain(need.area)}" if need.area else "")
        + f"): {_need_facts(need)}",
    ]
    if asked != year:
        lines.append(f"Behovet gäller {need.period.label}, inte {asked}: insatserna visas för {year}.")
    if view.measures:
        lines.append(f"Insatser kopplade till behovet ({year}):")
        lines += [f"- {_measure_for_need(m, year)}" for m in view.measures]
    else:
        lines.append("Ingen insats är kopplad till behovet.")
    lines.append(need_source(need, view.stale))
    lines.append(_assessments(history))
    return "\n".join(lines)


def _measure_for_need(m: LinkedMeasure, year: int) -> str:
    answers = f"svarar mot behovet {year}" if m.answers else f"svarar inte mot behovet {year}"
    if not m.visible:
        return f"en insats i {plain(', '.join(m.units))} ({answers})"
    facts = [f"id {m.id}", m.status.value]
    if m.money:
        facts.append(kr(m.money))
    if m.share is not None:
        facts.append(f"{_percent(m.share)} av pengarna")
    reach = []
    if m.people is not None:
        reach.append(f"ska nå {people(m.people)}")
    if m.reached is not None:
        reach.append(f"har nått {people(m.reached)} hittills")
    return f"{plain(m.title)} ({', '.join(facts)}): {answers}" + (f"; {', '.join(reach)}" if reach else "")


def _percent(basis_points: int) -> str:
    """2 500 → "25 %", 1 250 → "12,5 %" (a link's share of a measure's money)."""
    whole, part = divmod(basis_points, 100)
    return f"{whole} %" if part == 0 else f"{whole},{part:02d}".rstrip("0") + " %"


def _assessments(history: Sequence[NeedEntry]) -> str:
    if len(history) <= 1:
        return "Behovet har bedömts en gång."
    earlier = _listing([format_date(e.assessed) for e in history[:-1]])
    return f"Behovet har bedömts {len(history)} gånger; tidigare bedömningar: {earlier}."


def unknown_need(message: str, *, reads_needs: bool) -> str:
    """An id that names no need the person may read (the needs' refusal, naming the ids they may):
    what to ask instead (`reads_needs`: they may read some need), else how needs come in."""
    if not reads_needs:
        return f"{plain(message)} {NEEDS_COME_IN}"
    return f'{plain(message)} Fråga "vilka behov har vi?" för att se behoven med deras id.'


def sources_line(views: Sequence[NeedView]) -> str:
    """The sources of the needs an answer counts (document and date), and which assessments
    are more than two years old."""
    found = dict.fromkeys(
        f"{plain(v.need.source)}" + (f" ({format_date(v.need.source_date)})" if v.need.source_date else "")
        for v in views
    )
    stale = [plain(v.need.key) for v in views if v.stale]
    old = f" Bedömningen är äldre än två år för {', '.join(stale)}." if stale else ""
    return f"Källor: {'; '.join(found)}.{old}"


# --- issue 21: the need a new measure answers (dialogs.submit_measure_dialog, cards) ----------------

LABEL_NEED = "Behov"
NO_NEED = "Inget behov (hoppa över)"
"""The choice that links the measure to no need (in the chat and on the form)."""
CHOOSE_NEED = "Välj behov, eller inget"


def need_label(key: str, role: str, kind: str, unit: str | None = None) -> str:
    """A need as a choice shows it (plain text: a button, a card's choice; escaped where it is
    Markdown): "B1: förskollärare – Kompetenshöjning", with the unit on a form of several units."""
    where = f" ({unit})" if unit else ""
    return f"{key}: {role} – {kind}{where}"


def ask_need(unit_name: str) -> str:
    return (
        f"Vilket behov svarar insatsen mot? Välj ett av kompetensbehoven för {plain(unit_name)}, eller "
        '"inget" för att hoppa över.'
    )


def which_need(labels: Sequence[str]) -> str:
    """An answer to "Vilket behov svarar insatsen mot?" that fits several needs ("förskollärare"):
    which of them (`labels`: need_label's, plain text)."""
    return (
        f"Flera behov passar: {plain('; '.join(labels))}. Vilket av dem svarar insatsen mot? "
        'Svara med behovets id, till exempel "' + plain(labels[0].split(":")[0] if labels else "B1") + '", '
        'eller "inget".'
    )


def no_unit_needs(unit_name: str) -> str:
    """ "ändra behov" for a unit that has no needs to choose from."""
    return f"{plain(unit_name)} har inga registrerade kompetensbehov att koppla insatsen till."


def measure_linked(label: str) -> str:
    """The receipt's line: the need the saved measure answers."""
    return f"Insatsen är kopplad till behovet {plain(label)}."


def need_not_offered(value: str, unit_name: str, keys: Sequence[str]) -> str:
    """A form's need that is not one of the chosen unit's (an unknown id, another committee's):
    plain text, escaped where it is sent (form_refused)."""
    known = ", ".join(keys) if keys else "inga"
    return (
        f'Behovet "{echo(value)}" är inget av behoven för {unit_name}. Välj ett av nämndens behov '
        f"({known}) eller inget behov."
    )


# --- issue 22: substitutes during absence (dialogs.substitute_dialog, bot.substitute_notices) ----

SUBSTITUTE_HOW = (
    "Berätta när du är borta och vem som ersätter dig, till exempel "
    '"Jag är ledig 16 juni–11 juli, Per Persson ersätter mig". HR kan ange ersättare för '
    'personer i sina nämnder ("Per ersätter Anna 16/6–11/7"). Du kan också fråga '
    '"vem ersätter mig?" eller skriva "jag är tillbaka".'
)
SUBSTITUTE_NOT_SAVED = "Okej, jag sparade ingen ersättare. Inget är ändrat."
SUBSTITUTE_NOT_ENDED = "Okej, frånvaron ligger kvar som den var."
SUBSTITUTE_WHO = (
    'Vem ersätter dig? Skriv till exempel "Per Persson ersätter mig 16 juni–11 juli" '
    "(namn, e-postadress eller Entra-objekt-id)."
)
SUBSTITUTE_WHO_AGAIN = (
    "Okej, inget är sparat. Skriv det igen med hela namnet eller e-postadressen, till exempel "
    '"per.persson@malmo.se ersätter mig 16/6–11/7".'
)
SUBSTITUTE_ASK_LATER = "Den frågan får du ställa igen när du har svarat ja eller nej."
SUBSTITUTE_NOBODY = "Du ersätter ingen nu eller framåt."


def which_person(typed: str) -> str:
    """The question when several people fit a name typed (their names and addresses listed under it)."""
    return f'Flera personer passar "{plain(echo(typed))}". Vem menade du?'


def substitute_when(absent: str | None) -> str:
    """The question for the days of an absence; `absent` None: the person asking."""
    who = "du" if absent is None else plain(absent)
    return (
        f'Vilka dagar är {who} borta? Skriv till exempel "16 juni–11 juli", "16/6–11/7", '
        '"från idag till 20/6", "v. 27" eller "hela juli".'
    )


NO_SUBSTITUTES = "Det finns inga ersättare angivna nu eller framåt som du kan se."


def absence_days(first: date, last: date) -> str:
    """An absence's days in Swedish: "16 juni–11 juli 2025" (one year written once), "1–11 juli
    2025" (one month), "16 juni 2025" (one day), "20 december 2025–10 januari 2026"."""
    if first == last:
        return format_date(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{format_date(last)}"
    if first.year == last.year:
        return f"{first.day} {vocabulary.MONTHS[first.month - 1]}–{format_date(last)}"
    return f"{format_date(first)}–{format_date(last)}"


def _units_part(units: Iterable[str]) -> str:
    codes = sorted(units)
    return f" (bara {', '.join(plain(c) for c in codes)})" if codes else ""


def _genitive(name: str) -> str:
    return name if name[-1:] in ("s", "x", "z") else f"{name}s"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} och {items[-1]}"


def substitute_rights(
    substitute: str, absent: str | None, committees: Sequence[str], kept_roles: Sequence[str] = ()
) -> str:
    """What a substitute may do while standing in, as it is: the absent person's committees'
    measures, and none of their KSAU or stadskontoret rights; `absent` None: the person asking."""
    whom = "dig" if absent is None else "hen"
    sub = plain(substitute)
    if committees:
        names = _and([_genitive(plain(c)) for c in committees])
        said = (
            f"Under tiden får {sub} läsa och följa upp {names} insatser och svara på uppföljningen för "
            f"{whom}, inget annat."
        )
        if kept_roles:
            said += f" Rollen som {_and([plain(r) for r in kept_roles])} får en ersättare aldrig."
        return said
    has = "Du har" if absent is None else f"{plain(absent)} har"
    roles = (
        f" (rollen som {_and([plain(r) for r in kept_roles])} får en ersättare aldrig)" if kept_roles else ""
    )
    return (
        f"{has} ingen roll i någon nämnd{roles}, så {sub} får inga insatser att följa upp under tiden: "
        "en ersättare får bara junirapportens uppföljning för den frånvarandes nämnder."
    )


def substitute_confirm(
    substitute: str,
    absent: str | None,
    first: date,
    last: date,
    units: Iterable[str],
    committees: Sequence[str] = (),
    kept_roles: Sequence[str] = (),
    replaces: Sequence[tuple[str, date, date]] = (),
    question: str = "",
) -> str:
    """The question before a substitution is saved; `absent` None: the person asking;
    `replaces`: the substitutes it takes the place of and for which days; `question`: another
    question in the message, answered after."""
    whom = "dig" if absent is None else plain(absent)
    said = f"{plain(substitute)} ersätter {whom} {absence_days(first, last)}{_units_part(units)}. "
    if replaces:
        instead = _and([f"{plain(name)} som ersättare {absence_days(a, b)}" for name, a, b in replaces])
        said += f"Det ersätter {instead}. "
    said += (
        f"{substitute_rights(substitute, absent, committees, kept_roles)} Stämmer det? Svara ja eller nej."
    )
    if question:
        said += f' Din fråga "{plain(echo(question))}" svarar jag på efter det.'
    return said


def substitute_confirm_again(
    substitute: str, absent: str | None, first: date, last: date, units: Iterable[str]
) -> str:
    """The confirmation asked again after another question or an unclear answer."""
    whom = "dig" if absent is None else plain(absent)
    return (
        f"Svara ja eller nej: {plain(substitute)} ersätter {whom} {absence_days(first, last)}"
        f"{_units_part(units)}. Stämmer det?"
    )


def substitute_end_confirm_again(absent: str | None, on: date) -> str:
    """The end of an absence asked again after another question or an unclear answer."""
    whose = "din" if absent is None else f"{_genitive(plain(absent))}"
    return f"Svara ja eller nej: ska jag avsluta {whose} frånvaro från {format_date(on)}?"


def substitute_saved(
    substitute: str, absent: str | None, first: date, last: date, units: Iterable[str], *, written: bool
) -> str:
    """The receipt; `written` False: the same substitution was saved already."""
    whom = "dig" if absent is None else plain(absent)
    said = f"{plain(substitute)} ersätter {whom} {absence_days(first, last)}{_units_part(units)}."
    return f"Sparat: {said}" if written else f"Det var redan sparat: {said} Inget nytt skrevs."


def substitute_notice_set(
    by: str,
    substitute: str,
    first: date,
    last: date,
    units: Iterable[str],
    committees: Sequence[str] = (),
    kept_roles: Sequence[str] = (),
) -> str:
    """To the absent person, when someone else named their substitute."""
    return (
        f"{plain(by)} har angett att {plain(substitute)} ersätter dig {absence_days(first, last)}"
        f"{_units_part(units)}. {substitute_rights(substitute, None, committees, kept_roles)} "
        f'Stämmer det inte, hör av dig till {plain(by)} eller skriv "jag är tillbaka".'
    )


def substitute_notice_appointed(
    by: str, absent: str | None, first: date, last: date, units: Iterable[str], committees: Sequence[str] = ()
) -> str:
    """To the substitute, when someone else made them one; `absent` None: the absent person did."""
    whose = "" if absent is None else f" för {plain(absent)}"
    said = f"{plain(by)} har gjort dig till ersättare{whose} {absence_days(first, last)}{_units_part(units)}"
    if committees:
        names = _and([_genitive(plain(c)) for c in committees])
        return f"{said}: du får läsa och följa upp {names} insatser och svara på uppföljningen för hen."
    return (
        f"{said}. Hen har ingen roll i någon nämnd, så du får inga insatser att följa upp; en ersättare får "
        "aldrig KSAU:s eller stadskontorets behörighet."
    )


def substitute_notice_removed(by: str, absent: str | None, on: date) -> str:
    """To a substitute, when an absence they stood in for was ended; `absent` None: the absent
    person ended it."""
    if absent is None:
        ended = f"{plain(by)} har avslutat sin frånvaro från {format_date(on)}"
        return f"{ended}: du är inte längre ersättare för hen."
    return (
        f"{plain(by)} har avslutat {_genitive(plain(absent))} frånvaro från {format_date(on)}: du är inte "
        f"längre ersättare för {plain(absent)}."
    )


def substitute_notice_ended(by: str, on: date) -> str:
    """To the absent person, when someone else ended their substitute."""
    return (
        f"{plain(by)} har avslutat din frånvaro från {format_date(on)}: ingen ersätter dig längre "
        "från den dagen, och uppföljningen går till dig igen."
    )


def absent_not_told(absent: str, reason: str) -> str:
    """To the one who set or ended it, when the absent person could not be told."""
    return (
        f"{plain(absent)} har inte fått något meddelande om det från mig ({plain(reason)}). "
        "Berätta det själv."
    )


def absent_told(absent: str) -> str:
    return f"Jag har skickat ett meddelande om det till {plain(absent)}."


def substitutes_ended(
    absent: str | None, on: date, substitutes: Sequence[str], *, coming: bool = False
) -> str:
    """The receipt of an early end; `absent` None: the person asking ("Välkommen tillbaka");
    `coming`: an absence not begun yet, taken away from its first day."""
    names = ", ".join(plain(s) for s in substitutes)
    if coming:
        whose = "Din" if absent is None else _genitive(plain(absent))
        by = f" ({names} ersätter inte)" if substitutes else ""
        return f"{whose} frånvaro från {format_date(on)} är borttagen{by}."
    who = "Välkommen tillbaka! Din" if absent is None else _genitive(plain(absent))
    by = f" ({names} ersätter inte längre)" if substitutes else ""
    return f"{who} frånvaro är avslutad från {format_date(on)}{by}."


@dataclass(frozen=True, slots=True)
class SubstituteLine:
    """One substitution as the list shows it: names, days, units, whether it applies now, and
    whether the asker is the absent person or the substitute (shown as "du")."""

    absent: str
    substitute: str
    first: date
    last: date
    units: tuple[str, ...] = ()
    current: bool = False
    absent_is_me: bool = False
    substitute_is_me: bool = False


def substitutes_list(items: Sequence[SubstituteLine]) -> str:
    """The substitutions a person may see, now first."""
    if not items:
        return NO_SUBSTITUTES
    lines = ["Ersättare nu och framåt:"]
    for item in items:
        who = "dig" if item.absent_is_me else plain(item.absent)
        by = "Du" if item.substitute_is_me else plain(item.substitute)
        when = "nu, " if item.current else ""
        lines.append(
            f"- {by} ersätter {who} {when}{absence_days(item.first, item.last)}{_units_part(item.units)}"
        )
    return "\n".join(lines)


def substitute_end_confirm(absent: str | None, on: date, substitutes: Sequence[str]) -> str:
    """The question before an absence is ended early; `absent` None: the person asking."""
    whose = "din" if absent is None else f"{plain(absent)}s"
    whom = "dig" if absent is None else plain(absent)
    names = ", ".join(plain(s) for s in substitutes)
    return (
        f"Ska jag avsluta {whose} frånvaro från {format_date(on)}? {names} ersätter {whom} då inte längre. "
        "Svara ja eller nej."
    )
