"""What a message about a substitute asks (issue 22), read from its words: to set one ("Jag är
ledig 16 juni–11 juli, Per Persson ersätter mig", "Per ersätter Anna 16/6–11/7"), to see who
substitutes ("vem ersätter mig?", "vilka ersättare finns?") or to end an absence ("jag är
tillbaka", "avsluta Annas frånvaro"); who is away, who substitutes and the days. Pure: the
names are matched against the people the bot knows by the services (bot.substitute_services).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from core import vocabulary
from core.date_ranges import find_range
from core.errors import InputError
from dialogs.understanding import clean


class Ask(StrEnum):
    SET = "set"
    LIST = "list"
    END = "end"


ME = ""
"""The person writing ("mig", "jag")."""


@dataclass(frozen=True, slots=True)
class SubstituteRequest:
    """What a substitute message asks. `absent`/`substitute`: a name, address or id as typed,
    ME for the writer, None when not said; `first`/`last`: the days, when written; `date_problem`:
    why the days written are no dates (Swedish), if so."""

    ask: Ask
    absent: str | None = None
    substitute: str | None = None
    first: date | None = None
    last: date | None = None
    date_problem: str = ""


_END = re.compile(vocabulary.SUBSTITUTE_END)
_LIST = re.compile(vocabulary.SUBSTITUTE_LIST)

_SMALL = r"(?:för|åt|i|under|från|till|på|medan|när|hela|den|mellan|och|som|fr|efter|med|inom)"
_WORD = rf"(?!{_SMALL}\b)[^\W\d_][\w'’.-]*"
_ADDRESS = r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+"
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_NAME = rf"(?:{_ADDRESS}|{_GUID}|{_WORD}(?: {_WORD}){{0,3}})"
_STAND_IN = (
    r"(?:ska |kommer att |kan )?(?:ersätter|ersätta|ersäter|vikarierar|vikariera|täcker upp|täcker|tar över"
    r"|går in)(?: för| åt| efter)?"
)
_TAIL = r"(?: (?:under|medan|när|i|på|hela|för) .*)?"
_SET_FORMS = (
    # "Per Persson ersätter mig", "Per vikarierar för Anna", "jag ersätter Anna"
    re.compile(rf"^(?P<sub>{_NAME}) {_STAND_IN} (?P<abs>{_NAME}?){_TAIL}$", re.IGNORECASE),
    # "Per Persson är min ersättare", "Per blir Annas vikarie"
    re.compile(
        rf"^(?P<sub>{_NAME}) (?:är|blir) (?:(?P<mine>min|mitt)|hennes|hans|hens|(?P<abs>{_NAME})s) "
        rf"(?:ersättare|vikarie){_TAIL}$",
        re.IGNORECASE,
    ),
    # "Per är ersättare för Anna", "Per är vikarie"
    re.compile(
        rf"^(?P<sub>{_NAME}) (?:är|blir) (?:ersättare|vikarie)(?: (?:för|åt) (?P<abs>{_NAME}))?{_TAIL}$",
        re.IGNORECASE,
    ),
    # "min ersättare är Per Persson", "Ersättare: Sara Öberg", "ersättare för mig: per@malmo.se"
    re.compile(
        rf"^(?:(?P<mine>min|mitt) |(?P<abs2>{_WORD})s )?(?:ersättare|ersättaren|vikarie|vikarien)"
        rf"(?: (?:för|åt) (?P<abs>{_NAME}?))?(?: i sommar| under \w+)?(?: (?:är|blir|blir det))?:? "
        rf"(?P<sub>{_NAME}){_TAIL}$",
        re.IGNORECASE,
    ),
)
_AWAY = re.compile(
    rf"^(?P<abs>{_NAME}) (?:är|e|blir|har|kommer att vara|ska vara|går på|tar) "
    + vocabulary.ABSENCE_WORDS
    + r"\b",
    re.IGNORECASE,
)
_WHOSE = re.compile(
    rf"\b(?:avsluta|avbryt|stoppa|ta bort) (?P<abs>{_WORD}(?: {_WORD})?)s "
    r"(?:frånvaro|ledighet|semester|ersättare)",
    re.IGNORECASE,
)
_BACK = re.compile(rf"^(?:nu )?(?P<abs>{_NAME}) är (?:tillbaka|åter)\b", re.IGNORECASE)
_LEAD = re.compile(
    r"^(?:(?:hej|hejsan|hallå|tja|hej hej)\b[\s,!]*)?"
    r"(?:(?:jag vill att|kan du (?:notera|registrera|spara) att|notera att|registrera att|spara att"
    r"|observera att|obs|fyi|så|då|och|men|samt|medan jag är borta)\s+)*",
    re.IGNORECASE,
)
_CLAUSES = re.compile(r"\s*[,;!?]\s*|\.\s+|\s+och\s+|\s+men\s+|\s+så\s+|\s+–\s+(?=\D)")
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_ME = frozenset({"mig", "jag", "mej"})
_THEM = frozenset({"henne", "honom", "hen", "dem", "den"})
_FILLERS = re.compile(
    r"^(?:den |från |fr o m |fr\.o\.m\. |mellan )+|\s+(?:från|den|mellan|fr o m)$", re.IGNORECASE
)


def _who(text: str | None) -> str | None:
    """A name as typed: ME for "mig"/"jag", None for "henne"/"honom" (the other clause's)."""
    if text is None:
        return None
    name = _FILLERS.sub("", " ".join(text.split())).strip(" .:")
    folded = name.casefold()
    if not name or folded in _THEM:
        return None
    return ME if folded in _ME else name


def read_request(text: str, today: date) -> SubstituteRequest:
    """What `text` (a SUBSTITUTE message) asks; see the module."""
    plain = " ".join(_MENTION.sub(" ", text or "").split())
    key = clean(plain)
    try:
        found = find_range(plain, today)
        problem = ""
    except InputError as refused:
        found, problem = None, refused.message
    words = plain
    if found is not None:
        start, end = found[2]
        words = f"{plain[:start]} {plain[end:]}"
    if _END.search(key) and found is None:
        whose = _WHOSE.search(words) or _BACK.search(_LEAD.sub("", words))
        ending = _who(whose["abs"]) if whose else ME
        if whose and whose["abs"].casefold() in ("min", "mitt", "jag"):
            ending = ME
        return SubstituteRequest(Ask.END, absent=ending if ending is not None else ME)
    if _LIST.search(key) and found is None and not problem:
        return SubstituteRequest(Ask.LIST)
    absent: str | None = None
    substitute: str | None = None
    for clause in _CLAUSES.split(words):
        clause = _LEAD.sub("", " ".join(clause.split())).strip(" .:")
        if not clause:
            continue
        for form in _SET_FORMS:
            m = form.fullmatch(clause)
            if m is None:
                continue
            groups = m.groupdict()
            named = _who(groups.get("sub"))
            if named is not None and substitute is None:
                substitute = named
            owner = groups.get("abs") or groups.get("abs2")
            if groups.get("mine"):
                absent = ME
            elif owner is not None and _who(owner) is not None and absent is None:
                absent = _who(owner)
            elif owner == "" and absent is None:  # "ersättare för: Per"
                absent = None
            break
        else:
            away = _AWAY.match(clause)
            if away is not None and absent is None:
                absent = _who(away["abs"])
    if absent is None and substitute is not None:
        absent = ME  # "Per Persson ersätter 16/6–11/7": the writer is away
    first, last = (found[0], found[1]) if found is not None else (None, None)
    return SubstituteRequest(Ask.SET, absent, substitute, first, last, problem)
