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
    ME for the writer, None when not said (a LIST with `substitute` ME: "vem ersätter jag?");
    `first`/`last`: the days, when written (to END: the absence named); `date_problem`: why the
    days written are no dates (Swedish), if so; `units`: the units the substitution is limited
    to as typed, only from explicit words ("bara för FSKN", "för FSKN:s insatser"); `question`:
    another question in the same message ("… och hur mycket har FSKN kvar?"), for after."""

    ask: Ask
    absent: str | None = None
    substitute: str | None = None
    first: date | None = None
    last: date | None = None
    date_problem: str = ""
    units: tuple[str, ...] = ()
    question: str = ""


_END = re.compile(vocabulary.SUBSTITUTE_END)
_LIST = re.compile(vocabulary.SUBSTITUTE_LIST)

_SMALL = (
    r"(?:för|åt|i|under|från|till|på|medan|när|hela|den|mellan|och|o|som|fr|efter|med|inom|istället"
    r"|from|tom|bara|endast|enbart|då|nu|också|vem|vilka|vilken|vad|hur|när|vart|var)"
)
_WORD = rf"(?!{_SMALL}\b)[^\W\d_][\w'’.-]*"
_ADDRESS = r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+"
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_NAME = rf"(?:{_ADDRESS}|{_GUID}|{_WORD}(?: {_WORD}){{0,3}})"
_STAND_IN = (
    r"(?:ska |kommer att |kan |får )?(?:ersätter|ersätta|ersäter|ersatte|vikarierar|vikariera|vikarierade"
    r"|täcker upp|täcker|tar över|tog över|ta över|går in|gick in|tar hand om (?:det|allt|det hela)|tar det"
    r"|sköter det|fixar det)(?: för| åt| efter)?"
)
_TAIL = r"(?: (?:under|medan|när|i|på|hela|för|istället|bara|endast|enbart|då|nu|också) .*| då| nu| också)?"
_SET_FORMS = (
    # "Per Persson ersätter mig", "Per vikarierar för Anna", "jag ersätter Anna"
    re.compile(rf"^(?P<sub>{_NAME}) {_STAND_IN}(?: (?P<abs>{_NAME}))?{_TAIL}$", re.IGNORECASE),
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
    rf"^(?P<abs>{_NAME}) (?:är|e|var|blir|har|hade|kommer att vara|ska vara|går på|tar) "
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
    r"|observera att|obs|fyi|så|då|och|o|men|samt|medan jag är borta|nej förresten|förresten|eller nej"
    r"|nej vänta|vänta|nej|eller)[\s,]+)*",
    re.IGNORECASE,
)
_CLAUSES = re.compile(r"\s*[,;!?]\s*|\.\s+|\s+och\s+|\s+o\s+|\s+men\s+|\s+så\s+|\s+–\s+(?=\D)")
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_ME = frozenset({"mig", "jag", "mej"})
_THEM = frozenset({"henne", "honom", "hen", "dem", "den"})
_FILLERS = re.compile(
    r"^(?:den |från |fr o m |fr\.o\.m\. |mellan |from )+|\s+(?:från|den|mellan|fr o m|from|fr\.o\.m\.)$",
    re.IGNORECASE,
)
_LEAVE_LEAD = re.compile(
    r"^(?:(?:jag|ska|har|är|e|blir|vara|ha|gå|går|på|i|med)\s+)*" + vocabulary.ABSENCE_WORDS + r"(?:\s+|$)",
    re.IGNORECASE,
)
_GREETING = re.compile(r"^(?:(?:hej|hejsan|hallå|tja|hej hej)\b[\s,!]*)+", re.IGNORECASE)
_AS_SUBSTITUTE = re.compile(
    r"^(?:vem|vilka|vilken|för vem|åt vem) (?:ersätter|vikarierar för|täcker (?:upp )?för|är) jag\b"
    r"(?! (?:ledig|borta|tillbaka))|\bvem är jag (?:ersättare|vikarie) (?:för|åt)\b|\bvilka ersätter jag\b"
)
_BACK_EARLY = re.compile(r"\bbehöver inte (?:\w+ ){1,3}längre\b|\bbehöver ingen ersättare\b")
_QUESTION = re.compile(
    r"(?:,|;|\.|\s+och|\s+o|\s+men|\s+plus)\s+(?P<q>(?:hur|vad|vem|vilka|vilken|vilket|när|var|kan|får|finns"
    r"|har|ska|är|måste)\b[^?]*\?)\s*$",
    re.IGNORECASE,
)
_UNITS = (
    re.compile(r"\b(?:bara|endast|enbart)\s+(?:för\s+|i\s+|inom\s+)?(?P<u>[^\W\d_][\w-]*?)(?::s)?(?![\w:-])"),
    re.compile(r"\bför\s+(?P<u>[^\W\d_][\w-]*?)(?::s|s)\s+(?:insatser|uppföljning)", re.IGNORECASE),
    re.compile(r"\b(?:för|i|inom)\s+(?P<u>[A-ZÅÄÖ]{2,8})(?![\w:-])"),
)
_CORRECTION_LEAD = re.compile(
    r"^(?:(?:nej|nä|eller|förresten|vänta|sorry|oj|fel|ändra|rättelse|alltså)\b[\s,:!.]*)+"
    r"(?:(?:det ska vara|det skulle vara|ska vara|skulle vara|det är|jag menade|menade|menar|ändra till"
    r"|byt till|ta|ändra|det blir)\b\s*)?",
    re.IGNORECASE,
)
_CORRECTION_NAMED = re.compile(
    r"^(?:(?:det ska vara|det skulle vara|ska vara|jag menade|menade|menar|ändra till|byt till|ta"
    r"|det blir)\s+)"
    rf"(?P<a>{_NAME})$|^(?P<b>{_NAME}) (?:istället|i stället|ska det vara)$",
    re.IGNORECASE,
)


def _who(text: str | None) -> str | None:
    """A name as typed: ME for "mig"/"jag", None for "henne"/"honom" (the other clause's)."""
    if text is None:
        return None
    name = _FILLERS.sub("", " ".join(text.split())).strip(" .:")
    name = _LEAVE_LEAD.sub("", name).strip(" .:")  # "semester olle ersätter mig": the leave is not a name
    folded = name.casefold()
    if not name or folded in _THEM:
        return None
    return ME if folded in _ME else name


def read_request(text: str, today: date) -> SubstituteRequest:
    """What `text` (a SUBSTITUTE message) asks; see the module."""
    plain = " ".join(_MENTION.sub(" ", text or "").split())
    question = ""
    if asked := _QUESTION.search(plain):  # "olle ersätter mig 7/7–11/7 och hur mkt har fskn kvar?"
        question, plain = asked["q"].strip(), plain[: asked.start()].strip()
    key = _GREETING.sub("", clean(plain))
    try:
        found = find_range(plain, today)
        problem = ""
    except InputError as refused:
        found, problem = None, refused.message
    words = plain
    if found is not None:
        start, end = found[2]
        words = f"{plain[:start]} {plain[end:]}"
    first, last = (found[0], found[1]) if found is not None else (None, None)
    if _AS_SUBSTITUTE.search(key):
        return SubstituteRequest(Ask.LIST, substitute=ME, question=question)
    if _END.search(key) or _BACK_EARLY.search(key):
        whose = _WHOSE.search(words) or _BACK.search(_LEAD.sub("", words))
        ending = _who(whose["abs"]) if whose else ME
        if whose and whose["abs"].casefold() in ("min", "mitt", "jag"):
            ending = ME
        return SubstituteRequest(
            Ask.END, ending if ending is not None else ME, None, first, last, problem, question=question
        )
    if _LIST.search(key):
        return SubstituteRequest(Ask.LIST, question=question)
    absent, substitute = _people(words)
    if absent is None and substitute is not None:
        absent = ME  # "Per Persson ersätter 16/6–11/7": the writer is away
    units = tuple(dict.fromkeys(m["u"] for form in _UNITS for m in form.finditer(words)))
    return SubstituteRequest(Ask.SET, absent, substitute, first, last, problem, units, question)


def _people(words: str) -> tuple[str | None, str | None]:
    """Who is away and who substitutes, clause by clause; the last substitute named wins ("olle
    tar över, nej förresten per tar det")."""
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
            if named is not None:
                substitute = named
            owner = groups.get("abs") or groups.get("abs2")
            if groups.get("mine"):
                absent = ME
            elif owner is not None and _who(owner) is not None and absent is None:
                absent = _who(owner)
            break
        else:
            away = _AWAY.match(clause)
            if away is not None and absent is None:
                absent = _who(away["abs"])
    return absent, substitute


def read_correction(text: str, today: date) -> SubstituteRequest | None:
    """A correction typed where a substitution is confirmed ("nej vänta, det ska vara 7/7–15/8",
    "nej, Per istället", "nej förresten per tar det"): the new days and/or substitute (a SET
    request with only what was said); None when it corrects nothing (a plain "nej")."""
    plain = " ".join(_MENTION.sub(" ", text or "").split())
    try:
        found = find_range(plain, today)
    except InputError as refused:
        return SubstituteRequest(Ask.SET, date_problem=refused.message)
    words = plain
    if found is not None:
        words = f"{plain[: found[2][0]]} {plain[found[2][1] :]}"
    words = " ".join(words.split()).strip(" .,!?")
    absent, substitute = _people(words)
    if substitute is None:
        lead = _CORRECTION_LEAD.match(words)
        rest = " ".join(words[lead.end() if lead else 0 :].split()).strip(" .,!?")
        named = _CORRECTION_NAMED.fullmatch(rest)
        if named is not None:
            substitute = _who(named["a"] or named["b"])
        elif lead is not None and lead.group(0) and _a_name_alone(rest):
            substitute = _who(rest)  # "nej, per"
    if found is None and substitute is None:
        return None
    if found is None and substitute is None:
        return None
    first, last = (found[0], found[1]) if found is not None else (None, None)
    if found is not None and first == last and _FROM_ONLY.match(plain[found[2][0] :]):
        last = None  # "från 2/7": only the first day is corrected
    return SubstituteRequest(Ask.SET, absent if substitute is not None else None, substitute, first, last)


_FROM_ONLY = re.compile(r"(?:från|fr\.? ?o\.? ?m\.?|from)\s", re.IGNORECASE)
_NOT_NAMES = frozenset(
    """jag mig mej du dig det den inte ingen inget ångrar tack vill glöm avbryt spara stämmer fel ok okej
    tänkte menade tror kanske sen senare nu då också avsluta sluta strunta""".split()
)


def _a_name_alone(text: str) -> bool:
    """Whether `text` is a name and nothing else (one to three words, none of them a common word)."""
    words = clean(text).split()
    return 0 < len(words) <= 3 and re.fullmatch(_NAME, text) is not None and not _NOT_NAMES & set(words)
