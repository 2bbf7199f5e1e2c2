"""The things of the domain: organisations, units, decisions, measures,
follow-ups and people's roles.

Every record is immutable. Money is integer kronor. Units are referred to by
their code (unique within an organisation), measures by their integer id.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from core import limits
from core.dates import iso_dates
from core.errors import InputError, echo, input_error
from core.text import name_key
from core.vocabulary import status_value


def normalise(text: str) -> str:
    """For matching names: the clean name (core.text: NFC, no control, bidi or
    zero-width characters, one line, white space folded), case-folded."""
    return name_key(text)


class Status(StrEnum):
    """A measure's status (status) as the activity plans write it."""

    NOT_STARTED = "Ej påbörjad"
    ONGOING = "Pågående"
    DONE = "Klar"
    NOT_COMPLETED = "Ej slutförd"

    @classmethod
    def parse(cls, text: str, field: str | None = "status") -> Status:
        value = status_value(text)  # the words: core.vocabulary.STATUS_WORDS
        if value is not None:
            return cls(value)
        allowed = ", ".join(f'"{s.value}"' for s in cls)
        raise input_error(
            "unknown_status", f'Okänd status "{echo(text)}". Tillåtna värden: {allowed}.', field
        )


class Category(StrEnum):
    """A strategy category (strategikategori), written in brackets in the plans."""

    ATTRACT = "Attrahera & rekrytera"
    RETAIN = "Behålla & utveckla"
    ORGANISATION = "Utveckla organisation & arbetssätt"

    @classmethod
    def parse_many(cls, text: str, field: str | None = "kategori") -> tuple[Category, ...]:
        """ "[Attrahera & rekrytera] [Behålla & utveckla]" or "a; b" → categories."""
        if not text or not text.strip():
            return ()
        parts = re.findall(r"\[([^\]]*)\]", text) or re.split(r"[;,\n]", text)
        found: list[Category] = []
        for part in parts:
            key = normalise(part).replace(" och ", " & ")
            if not key:
                continue
            match = next((c for c in cls if normalise(c.value) == key), None)
            if match is None:
                allowed = ", ".join(f"[{c.value}]" for c in cls)
                raise input_error(
                    "unknown_category",
                    f'Okänd kategori "{part.strip()}". Tillåtna kategorier: {allowed}.',
                    field,
                )
            if match not in found:
                found.append(match)
        return tuple(found)


class Body(StrEnum):
    """The city-wide bodies that take decisions (beslutande organ). A committee
    (nämnd) decides as itself: its body is its unit's code ("TN"), see Decision."""

    KF = "KF"  # kommunfullmäktige, city council
    KS = "KS"  # kommunstyrelsen, executive board
    KSAU = "KSAU"  # kommunstyrelsens arbetsutskott, the board's working committee
    COMMITTEE = "nämnd"  # a committee not named: only decisions stored before issue 17


MAX_BODY = limits.MAX_BODY
"""The longest body the decision table keeps (a unit code as a body)."""
MAX_PARAGRAPH = limits.MAX_PARAGRAPH
MAX_CASE_NUMBER = limits.MAX_CASE_NUMBER
MAX_DELEGATE = limits.MAX_DELEGATE
MAX_REFERENCE = limits.MAX_DECISION
"""The longest paragraph, case number, delegate and whole reference the decision
table keeps (storage.tables.DecisionRow): a longer one is refused when read."""

NOT_GIVEN = "beslut ej angivet"
"""How a grant whose decision nobody gave is flagged (see Decision.invented)."""

INVENTED_TITLES = ("Inlämnad via kompetensbot",)
INVENTED_TITLE_PREFIXES = ("Beviljat enligt mall ",)
"""The titles of the decisions kompetensbot made up before issue 17: the chat's
and the form's "Nämnd <the day of saving>" and a template import's without
--decision. They are stored (append-only, sealed) and flagged when shown."""


def parse_body(text: str) -> str:
    """A stored or written body: a Body member ("KS", "nämnd"), or else a
    committee's unit code as written ("TN")."""
    key = (text or "").strip()
    if key.lower() == Body.COMMITTEE.value:
        return Body.COMMITTEE
    if key.upper() in (Body.KF.value, Body.KS.value, Body.KSAU.value):
        return Body(key.upper())
    return BODY_NAMES.get(" ".join(key.casefold().split()), key)


BODY_NAMES = {
    "kommunfullmäktige": Body.KF,
    "kommunstyrelsen": Body.KS,
    "kommunstyrelsens arbetsutskott": Body.KSAU,
}
"""KF, KS and KSAU by their full names, as a committee is by its name (tryout 2 item 7)."""


def is_committee(body: str) -> bool:
    """A committee's own body (a unit code), not KF, KS, KSAU or an unnamed "nämnd"."""
    return body not in (Body.KF, Body.KS, Body.KSAU, Body.COMMITTEE)


@dataclass(frozen=True, slots=True)
class Decision:
    """A recorded decision (beslut), the source of every change of money.

    Attributes:
      body: who decided: Body.KF, Body.KS, Body.KSAU, or a committee's unit
        code ("TN"); Body.COMMITTEE ("nämnd") only on decisions stored
        before committees were named.
      date: when; None only for decisions known by title (a city budget).
      paragraph: the minutes paragraph (beslut §), e.g. "12".
      case_number: the case number (diarienummer), e.g. "STK-2023-822".
      title: a short Swedish description, optional.
      delegate: for a delegation decision (delegationsbeslut), who decided
        under the body's delegation, e.g. "förvaltningsdirektör"; None otherwise.
    """

    body: str
    date: date | None
    paragraph: str | None = None
    case_number: str | None = None
    title: str | None = None
    delegate: str | None = None

    @property
    def reference(self) -> str:
        """ "KSAU 2025-06-20 § 5 (STK-2025-100)", "TN 2025-01-28 § 17",
        "FSKN delegationsbeslut 2025-05-12, förvaltningsdirektör": how the papers cite it."""
        parts = [str(self.body) if self.body != Body.COMMITTEE else "Nämnd"]
        if self.delegate:
            parts.append("delegationsbeslut")
        if self.date:
            parts.append(self.date.isoformat())
        if self.paragraph:
            parts.append(f"§ {self.paragraph}")
        text = " ".join(parts)
        if self.case_number:
            text += f" ({self.case_number})"
        if self.delegate:
            text += f", {self.delegate}"
        if not self.date and self.title:
            text = f"{text}: {self.title}"
        return text

    @property
    def invented(self) -> bool:
        """Made up by kompetensbot, not given by anyone (before issue 17 the chat
        and the form saved "Nämnd <the day of saving>"): shown as NOT_GIVEN."""
        if self.body != Body.COMMITTEE or self.paragraph or self.case_number:
            return False
        title = self.title or ""
        return title in INVENTED_TITLES or title.startswith(INVENTED_TITLE_PREFIXES)

    @property
    def label(self) -> str:
        """The reference as shown beside money, or NOT_GIVEN for an invented one."""
        return NOT_GIVEN if self.invented else self.reference


DECISION_EXAMPLES = (
    '"FSKN 2025-02-05 § 5", "KSAU 2025-06-20 § 5 STK-2025-100" eller '
    '"delegationsbeslut 2025-05-12, förvaltningsdirektör"'
)

_DECISION_RE = re.compile(
    r"^\s*(?P<body>.*?)\s*(?P<delegation>\bdelegationsbeslut\b)?\s*"
    r"(?P<date>\d{4}-\d{1,2}-\d{1,2}|\d{6})\b"
    r"(?:\s*§\s*(?P<par>[\w.:/-]+(?:[ \t][a-zåäö]\b(?![-.]))?))?"
    r"(?:\s*\(?\s*(?P<case>[A-ZÅÄÖ]{2,}-\d{4}-\d+)\s*\)?)?"
    r"\s*(?:[,;:]\s*|\s+)?(?P<rest>.*?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_BODY_CODE_RE = re.compile(r"^[^\W\d_][\w-]*$")
_UNNAMED_COMMITTEE = ("nämnd", "nämnden", "nämndens", "nämndbeslut")


def parse_decision(
    text: str,
    field: str | None = "beslut",
    *,
    default_body: str | None = None,
    units: Iterable[Unit] | None = None,
) -> Decision:
    """Parse a decision reference such as "KSAU 2025-06-20 § 5 STK-2025-100",
    "TN 2025-01-28 § 17", "TN 250128 § 17", "Förskolenämnden 5 februari 2025 § 5"
    (a date as core.dates reads it, with its year) or "delegationsbeslut
    2025-05-12, förvaltningsdirektör" (a delegation decision, with who decided).

    The body is KF, KS, KSAU or a committee: its unit's code (or, with
    `units`, its name or alias). Without a body, or with "nämnd", the body is
    `default_body` (the measure's own committee) when one is known; otherwise
    the committee must be named."""
    shown = echo(" ".join((text or "").split()))  # quoted on one line, whatever was pasted
    if len((text or "").strip()) > MAX_REFERENCE + MAX_BODY:  # not read at all: no part of it fits
        raise _decision_too_long("Beslutsreferensen är för lång", len(text.strip()), MAX_REFERENCE, field)
    m = _DECISION_RE.match(iso_dates(text or ""))  # "5 februari 2025" as the date fields read it
    if not m:
        raise input_error(
            "bad_decision",
            f'Beslutsreferensen "{shown}" går inte att läsa. Skriv organ, datum och paragraf, '
            f"till exempel {DECISION_EXAMPLES}.",
            field,
        )
    raw_date = m["date"]
    try:
        if len(raw_date) == 6:  # 250128, as the minutes cite it
            when = date(2000 + int(raw_date[:2]), int(raw_date[2:4]), int(raw_date[4:]))
        else:
            y, mo, d = (int(p) for p in raw_date.split("-"))
            when = date(y, mo, d)
    except ValueError:
        raise input_error(
            "bad_decision",
            f'Datumet i beslutsreferensen "{shown}" finns inte. Skriv datum som ÅÅÅÅ-MM-DD.',
            field,
        ) from None
    delegation = bool(m["delegation"])
    rest = " ".join(m["rest"].split())
    if rest and not delegation:
        raise input_error(
            "bad_decision",
            f'Beslutsreferensen "{shown}" går inte att läsa: "{echo(rest)}" efter datum och paragraf '
            f"är okänt. Skriv till exempel {DECISION_EXAMPLES}.",
            field,
        )
    if delegation and not rest:
        raise input_error(
            "delegate_missing",
            f'Delegationsbeslutet "{shown}" säger inte vem som fattade det. Skriv till exempel '
            '"delegationsbeslut 2025-05-12, förvaltningsdirektör".',
            field,
        )
    for part, what, limit in (
        (m["par"], "Paragrafen i beslutet är för lång", MAX_PARAGRAPH),
        (m["case"], "Diarienumret i beslutet är för långt", MAX_CASE_NUMBER),
        (rest if delegation else None, "Vem som beslutade på delegation är för långt", MAX_DELEGATE),
    ):
        if part and len(part) > limit:
            raise _decision_too_long(what, len(part), limit, field)
    if delegation and (why := delegate_problem(rest)):
        raise input_error("bad_delegate", why, field)
    body = _decision_body(m["body"], shown, field, default_body, units)
    decision = Decision(
        body=body,
        date=when,
        paragraph=" ".join(unicodedata.normalize("NFKC", m["par"]).split()) if m["par"] else None,
        case_number=m["case"],
        delegate=rest if delegation else None,
    )
    if len(decision.reference) > MAX_REFERENCE:
        too_long = len(decision.reference)
        raise _decision_too_long("Beslutsreferensen är för lång", too_long, MAX_REFERENCE, field)
    return decision


_DELEGATE_RE = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ \-,()./'&])*$")


def delegate_problem(delegate: str) -> str | None:
    """Who decided a delegation decision is a role or a person: letters, spaces,
    hyphens, commas, periods and parentheses; no date, no §, no other decision in
    it (tryout 2 item 2). The Swedish reason, or None."""
    text = " ".join(unicodedata.normalize("NFKC", delegate).split())
    if _DELEGATE_RE.match(text):
        return None
    return (
        f'Vem som beslutade på delegation ("{echo(text)}") ska vara en roll eller en person, till exempel '
        '"förvaltningsdirektör" eller "HR-chef (Anna Berg)": bokstäver, mellanslag, bindestreck, '
        "kommatecken, "
        "punkter och parenteser, inga siffror, datum, paragrafer eller andra beslut. Ett beslut av en annan "
        'nämnd anges som det beslutet, till exempel "TN 2025-01-28 § 17".'
    )


def _decision_too_long(what: str, length: int, limit: int, field: str | None) -> InputError:
    return input_error(
        "decision_too_long",
        f"{what}: {length} tecken, högst {limit}. Skriv organ, datum och "
        f"paragraf, till exempel {DECISION_EXAMPLES}.",
        field,
    )


def _decision_body(
    written: str, shown: str, field: str | None, default_body: str | None, units: Iterable[Unit] | None
) -> str:
    text = " ".join((written or "").split())
    known = list(units) if units is not None else None
    if not text or text.lower() in _UNNAMED_COMMITTEE:
        if default_body:
            if len(default_body) > MAX_BODY:
                return _too_long(default_body, field)
            return parse_body(default_body)
        raise input_error(
            "decision_body_missing",
            f'Beslutsreferensen "{shown}" säger inte vilket organ som beslutade. Skriv KF, KS, KSAU '
            'eller nämndens kod först, till exempel "FSKN 2025-02-05 § 5" eller "KSAU 2025-06-20 § 5".',
            field,
        )
    body = parse_body(text)
    if not is_committee(body):
        return body
    if known is not None:
        key = normalise(text)
        for unit in known:
            if any(normalise(name) == key for name in unit.names()):
                return unit.code if len(unit.code) <= MAX_BODY else _too_long(unit.code, field)
        codes = ", ".join(sorted(u.code for u in known if is_committee(parse_body(u.code))))
        raise input_error(
            "unknown_decision_body",
            f'Okänt organ "{echo(text)}" i beslutsreferensen "{shown}". Tillåtna: KF, KS, KSAU '
            f"eller en nämnds kod ({codes}).",
            field,
        )
    if not _BODY_CODE_RE.match(text) or len(text) > MAX_BODY:
        raise input_error(
            "unknown_decision_body",
            f'Okänt organ "{echo(text)}" i beslutsreferensen "{shown}". Skriv KF, KS, KSAU eller '
            'nämndens kod, till exempel "FSKN 2025-02-05 § 5".',
            field,
        )
    return text.upper()


def _too_long(code: str, field: str | None) -> str:
    raise input_error(
        "decision_body_too_long",
        f'Nämndkoden "{echo(code)}" är för lång för ett beslut (högst {MAX_BODY} tecken).',
        field,
    )


@dataclass(frozen=True, slots=True)
class Organisation:
    """A city (kommun) that owns its funds, units, people and roles."""

    id: int
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class Unit:
    """A committee and its administration (nämnd / förvaltning) receiving money.

    Attributes:
      code: short unique code within the city, e.g. "FSKN".
      name: the full name, e.g. "Förskolenämnden".
      aliases: other names people type: "förskolan", "FSKF".
    """

    code: str
    name: str
    aliases: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        return (self.code, self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class Measure:
    """A competence-raising measure (insats) and its plan data.

    Money is not stored here: what a measure has been given is the sum of
    its ledger entries (see core.ledger). The status here is the status the
    measure was submitted with; later statuses come from follow-ups.

    Attributes:
      id: unique id (0 before it is stored).
      title: e.g. "Yrkeslärarsatsning".
      units: the unit codes that run it; several when it is shared.
      year: the fund year it belongs to.
      parent_id: the measure this is a sub-activity (delaktivitet) of.
      categories: strategy categories.
      requested: the amount applied for (sökt belopp), if any.
      cost: the planned cost (kostnad) if given as an amount.
      in_base_budget: cost "Ingår i grunduppdrag" (within the base budget).
      kom_kr: fundable from KOM-KR, the transition fund (excluded from this fund).
      responsible: the user id of the person responsible, if known.
      evaluation: the follow-up and evaluation narrative (uppföljning & utvärdering).
    """

    id: int
    title: str
    units: tuple[str, ...]
    year: int
    description: str = ""
    target_group: str = ""
    categories: tuple[Category, ...] = ()
    requested: int | None = None
    cost: int | None = None
    in_base_budget: bool = False
    performer: str = ""
    start_date: date | None = None
    end_date: date | None = None
    status: Status = Status.NOT_STARTED
    parent_id: int | None = None
    kom_kr: bool = False
    responsible: str | None = None
    evaluation: str = ""
    created_by: str = ""


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A follow-up entry (uppföljning) for one measure in one period.

    Attributes:
      measure_id: the measure reported on.
      period: "YYYY-MM", e.g. "2025-06" for the June partial follow-up.
      status: the measure's status as reported.
      spent: actual spend to date (utfall), kronor.
      forecast: forecast spend for the whole year (prognos), kronor.
      usable_as_planned: whether the money can be used in the year as planned.
      note: free text.
      author: who reported it, as shown (their name, or an id).
      at: when it was reported.
      seq: a per-organisation order number given when stored (0 before).
      author_id: who reported it: the user id (AAD object id) of the acting
        person, set by core.commands.report_followup; "" on follow-ups
        stored before author ids were kept.
      reached: how many people the measure has reached so far (asked for a
        measure linked to a competence need, issue 21), if given.
      for_id, for_name: the absent person the author answered for as their
        substitute (issue 22: "lämnad av Per Persson för Anna Andersson"), their
        user id and the name shown; "" when the author answered for themselves.
    """

    measure_id: int
    period: str
    status: Status
    spent: int
    forecast: int
    usable_as_planned: bool
    note: str
    author: str
    at: datetime
    seq: int = 0
    author_id: str = ""
    reached: int | None = None
    for_id: str = ""
    for_name: str = ""

    @property
    def year(self) -> int:
        return int(self.period[:4])


class Role(StrEnum):
    """A role a person holds in the city."""

    CHEF = "chef"  # a manager: reads their units
    HR = "hr"  # the administration's HR: submits measures and follow-ups
    CITY_OFFICE = "stadskontoret"  # the city office's HR department: sees everything
    KSAU = "ksau"  # records reallocation decisions

    @classmethod
    def parse(cls, text: str) -> Role:
        key = normalise(text)
        for role in cls:
            if key in (role.value, role.name.lower()):
                return role
        if key in ("stk", "stadskontor"):
            return cls.CITY_OFFICE
        allowed = ", ".join(r.value for r in cls)
        raise input_error("unknown_role", f'Okänd roll "{echo(text)}". Tillåtna roller: {allowed}.', "roll")


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """One role held by one person, for one unit or (unit None) for all units."""

    user: str
    role: Role
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: a user with their grants, or the administrator.

    `user` is recorded as the author id of what they write; `name`, when
    given, is the author's name shown instead of the id. `stand_in` are the
    unit grants (chef, hr) of the people this person answers for today as
    their substitute (issue 22, core.substitutes.stand_in_grants): each
    grant's `user` is the absent person; they let the substitute read and
    follow up those units' measures and nothing else (core.permissions)."""

    user: str
    grants: tuple[RoleGrant, ...] = field(default=())
    is_admin: bool = False
    name: str = ""
    stand_in: tuple[RoleGrant, ...] = field(default=())

    @property
    def author(self) -> str:
        return self.name or self.user


ADMIN = Principal(user="admin", is_admin=True)
