"""The words people type, in one place: yes and no, "none of them", statuses,
months and periods, "skip", "no decision", the chat's small words (help,
cancel, greetings, thanks), the round's requests, and the questions a chat message
asks: their kinds (`Intent`) and each kind's words (`QUESTIONS`, a table the chat's
understanding matches; README: "Adding a question"). Every form reads its words here,
so the chat, the follow-up form, the round card, the command line and the template
agree: "japp" is yes and "juni" is a month everywhere.

Pure data and tiny lookups; no parsing of whole forms (core.forms does that) and no
matching of messages (dialogs.understanding does that).
Keys are compared after `key()`: the clean name, case-folded, with the end
punctuation a person adds (" .!") stripped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core.text import name_key


def key(text: str) -> str:
    """A typed word as the vocabulary compares it: clean, case-folded, no end " .!"."""
    return name_key(text).strip(" .!")


# --- yes / no ----------------------------------------------------------------------

YES_PHRASES = frozenset(
    {
        "kör", "kör på", "kör bara", "kör hårt", "självklart", "gärna", "ja gärna", "javisst", "ja visst",
        "jadå", "ja då", "jajamensan", "jamen", "ja men", "japp japp", "ja det stämmer", "det stämmer",
        "stämmer bra", "precis", "korrekt", "rätt", "helt rätt", "absolut", "definitivt", "givetvis",
        "ja absolut", "ja tack gärna", "ja det är rätt", "okidoki", "okay", "oki", "okey", "yes please",
        "yes yes", "yep", "yup", "yeah", "sure", "of course", "ok tack", "okej tack", "låter bra",
        "👍", "✅", "ja!", "ja spara", "spara den", "spara det", "gör det", "gör så", "ja gör det",
    }
)  # fmt: skip
"""More ways to say yes ("kör", "självklart", "yes please"), part of YES (so the chat's
one-candidate "Menade du …?" takes them too)."""

NO_PHRASES = frozenset(
    {
        "nej tack", "nä tack", "nej du", "nä du", "nej då", "nejdå", "nädå", "nä nä", "nej nej", "inte nu",
        "inte än", "inte ännu", "inte alls", "absolut inte", "icke", "nein", "no thanks", "no thank you",
        "nah", "nope", "nej det stämmer inte", "det stämmer inte", "stämmer inte", "fel", "👎", "❌",
    }
)  # fmt: skip
"""More ways to say no ("nej tack", "nä du", "inte nu"), part of NO. "nej" keeps
its meaning "none of them" where NONE is asked."""

YES = (
    frozenset(
        {
            "ja",
            "j",
            "jo",
            "japp",
            "jepp",
            "jajamen",
            "ja tack",
            "visst",
            "absolut",
            "ok",
            "okej",
            "stämmer",
            "spara",
            "yes",
            "y",
        }
    )
    | YES_PHRASES
)
"""What means yes (the chat's set, with "jepp", "jo", "ja tack" and "visst", and YES_PHRASES)."""

NO = frozenset({"nej", "n", "nä", "nää", "nej tack", "nix", "inte", "no", "nope"}) | NO_PHRASES
"""What means no (the chat's set, with "nej tack" and "nix", and NO_PHRASES)."""
YES_WORD, NO_WORD = "ja", "nej"
"""Yes and no as a toggle's value is read (core.round_answers)."""

CARD_TRUE = frozenset({"true", "1"})
CARD_FALSE = frozenset({"false", "0"})
"""A card's toggle as a client sends it ("true"/"false"), and a spreadsheet's 1/0: yes and
no wherever a yes/no is read (the chat, the forms, the cards, the command line), alike."""


def yes_no(text: str) -> bool | None:
    """True for a yes word, False for a no word, None for anything else: "ja", "kör",
    "ja, tack!", "självklart", "yes please", "👍"; "nej", "nej tack", "nä du", "inte nu".
    A card's "true"/"false" and a spreadsheet's 1/0 too (CARD_TRUE, CARD_FALSE), so that
    the chat, the forms, the cards and the command line agree."""
    word = key(text)
    words = _phrase(word)
    if word in YES or words in YES or words in CARD_TRUE:
        return True
    if word in NO or words in NO or words in CARD_FALSE:
        return False
    return None


def _phrase(word: str) -> str:
    """A typed phrase without its punctuation and emoji ("ja, tack! 🙂" is "ja tack");
    an emoji alone stays as it is ("👍")."""
    words = " ".join(re.sub(r"[^\w\s]", " ", word).split())
    return words or word.strip()


def card_yes_no(value: object) -> bool | None:
    """A yes/no field from a card or a file: a boolean, "true"/"false"/"1"/"0",
    or any yes or no word; None when it is none of them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):  # a spreadsheet's or a JSON client's 1/0
        return bool(value)
    if not isinstance(value, str):
        return None
    return yes_no(value)


NONE = frozenset(
    {
        "ingen",
        "inget",
        "inga",
        "ingen av dem",
        "ingen av dessa",
        "ingen av de",
        "nej",
        "nej tack",
        "nä",
        "nä tack",
    }
)
"""'None of them', as an answer to a choice that allows it."""

SKIP = "-"
"""Typed for an optional free text (a description, a note): nothing."""

PEOPLE_WORDS = ("personer", "person", "pers", "pers.", "st", "st.", "stycken", "deltagare", "medarbetare")
"""Words that may follow a number of people ("12 personer", "12 st")."""
NOT_KNOWN = ("-", "hoppa över", "hoppa", "vet inte", "vet ej", "okänt", "inget svar")
"""Answers to an optional number (how many people a measure has reached) that leave it out."""

NO_DECISION = ("-", "inget", "inget beslut", "ingen", "saknas", "finns inte", "vet inte", "nej")
"""Answers to "which decision?" that say there is none."""


def says_no_decision(text: str) -> bool:
    """Whether an answer to the decision question says there is none: "inget beslut",
    "Inget beslut.", "saknas!" (case, spaces and end punctuation aside)."""
    return " ".join(text.lower().split()).strip(".!? ") in NO_DECISION


# --- statuses ----------------------------------------------------------------------

STATUS_WORDS: dict[str, str] = {
    "ej påbörjad": "Ej påbörjad",
    "ej påbörjat": "Ej påbörjad",
    "inte påbörjad": "Ej påbörjad",
    "ej startad": "Ej påbörjad",
    "not started": "Ej påbörjad",
    "pågående": "Pågående",
    "pågår": "Pågående",
    "påbörjad": "Pågående",
    "ongoing": "Pågående",
    "klar": "Klar",
    "klart": "Klar",
    "avslutad": "Klar",
    "genomförd": "Klar",
    "done": "Klar",
    "ej slutförd": "Ej slutförd",
    "inte slutförd": "Ej slutförd",
    "ej slutfört": "Ej slutförd",
    "not completed": "Ej slutförd",
}
"""A status's words (normalised, "_" and "-" as spaces) → its value (core.model.Status);
the English names are the Status members' names."""


def status_value(text: str) -> str | None:
    """The status value a text names, or None."""
    word = " ".join(name_key(text).replace("_", " ").replace("-", " ").strip(" .!").split())
    return STATUS_WORDS.get(word) or STATUS_MORE_WORDS.get(word)


# --- months and periods ------------------------------------------------------------

MONTHS = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)  # fmt: skip
"""Swedish month names, January first."""

MONTH_NUMBERS: dict[str, int] = {
    **{name: i for i, name in enumerate(MONTHS, 1)},
    **{name[:3]: i for i, name in enumerate(MONTHS, 1)},
    "sept": 9,
}
"""A month's name or abbreviation ("juni", "jun", "sept") → its number."""

THIS_PERIOD = frozenset({"", "ok", "okej", "ja", "denna", "den här", "nu", "denna månad"})
"""Answers to "which period?" that take the period offered."""

TODAY = frozenset({"idag", "i dag"})
TOMORROW = frozenset({"imorgon", "i morgon"})
YEAR_END = frozenset({"i slutet av året", "slutet av året", "årsskiftet", "vid årsskiftet"})


# --- the chat's small words (dialogs.understanding) ----------------------------------

CANCEL = frozenset({"avbryt", "avsluta", "stopp", "stop", "cancel", "sluta", "glöm det"})
HELP = frozenset(
    {
        "hjälp",
        "help",
        "?",
        "hjälp mig",
        "vad kan du",
        "vad kan du göra",
        "vad kan jag fråga",
        "vad kan jag fråga om",
        "vad kan jag göra",
        "meny",
        "kommandon",
        "instruktioner",
    }
)
GREETINGS = frozenset(
    """hej hejsan hallå tjena tja tjabba hello hi hey god morgon morrn dag kväll eftermiddag där
    kompetensbot boten""".split()
)
THANKS = frozenset("tack tackar tusen stort så mycket snällt för hjälpen det bra toppen".split())
ACKNOWLEDGED = frozenset(
    """ok okej okey toppen perfekt kanon super fint grymt ja japp jepp absolut kör visst uppfattat noterat
    förstått då vet jag""".split()
)
"""A bare acknowledgement, answered like thanks."""


# --- the June round's requests (dialogs.round_turns, before the questions below) ----------

ROUND_STATUS_WANTS = (
    "hur går uppföljningen",
    "status uppföljningen",
    "status för uppföljningen",
    "uppföljningens resultat",
    "resultat uppföljningen",
    "omfördelningsförslag",
)
"""Asking for the latest round's results: a message containing one of these."""
ROUND_WANTS = ("svara på uppföljningen", "svara uppföljningen", "uppföljningskortet", "mitt uppföljningskort")
"""Asking for one's round card again: a message containing one of these."""
LATE_PEOPLE_WANTS = ("visa alla som inte svarat", "visa alla som inte har svarat", "visa alla")
"""The escalation's "visa alla" (who has not answered): the whole message is one of these."""


# --- the questions people ask (dialogs.understanding matches them; dialogs.answers answers them) ----


class Intent(StrEnum):
    """A kind of question (or request) a chat message asks. Each has its words in
    QUESTIONS below (UNKNOWN aside: it is what no words asked) and one answer in
    dialogs.answers."""

    REMAINING = "remaining"
    STATUS = "status"
    SUBMIT_MEASURE = "submit_measure"
    FOLLOW_UP = "follow_up"
    REALLOCATE = "reallocate"
    ROUND = "round"
    GLOSSARY = "glossary"
    UNITS = "units"
    HELP = "help"
    CANCEL = "cancel"
    GREETING = "greeting"
    THANKS = "thanks"
    UNKNOWN = "unknown"
    EXPORT_FILE = "export_file"
    OVERVIEW = "overview"  # issue 20: the live overview card ("översikt")
    NEEDS = "needs"  # issue 21: competence needs ("vilka behov saknar insatser?"); what is asked: NeedsAsk
    SUBSTITUTE = "substitute"  # issue 22: a substitute during absence ("Per ersätter mig 16/6–11/7")


class Figure(StrEnum):
    """The money figure a question asks for (the answer's headline)."""

    REMAINING = "kvar"
    ALLOCATED = "tilldelat"
    SPENT = "utfall"
    FORECAST = "prognos"


class Filter(StrEnum):
    """What a list of measures is narrowed to ("vilka insatser är klara?")."""

    OVERDUE = "försenad"
    NOT_STARTED = "ej påbörjad"
    ONGOING = "pågående"
    DONE = "klar"
    NOT_COMPLETED = "ej slutförd"
    NEEDS_MONEY = "behöver mer pengar"
    ENDS = "slutar"
    """Ends in the year asked (Understanding.year)."""


class NeedsAsk(StrEnum):
    """What a NEEDS question asks (issue 21), read by NEEDS_ASK_WORDS."""

    UNCOVERED = "saknar insatser"
    """The needs no measure answers in the year: "vilka behov saknar insatser?"."""
    MONEY = "pengar per yrkesgrupp"
    """The linked measures' money per role: "hur mycket satsar vi på förskollärare?"."""
    RETIRING = "svårrekryterade med pensionsavgångar"
    """Shortage roles retiring within two years: "vilka svårrekryterade yrken har pensionsavgångar?"."""
    LIST = "behov"
    """The needs of a role or a unit, each with its measures: "behov socialsekreterare", "behov FSKN"."""
    ONE = "ett behov"
    """One need by its id, with its measures, people and history: "behov FSKN-3", "FSKN-3",
    "vilka insatser svarar mot FSKN-1?" (Understanding.need is the id)."""


@dataclass(frozen=True, slots=True)
class Phrases:
    """The words that ask one kind of question, as data (the understanding issue's
    grammar builds on this table). Text is compared after dialogs.understanding.clean:
    lower case, punctuation as spaces, mentions removed.

    Attributes:
      kind: the question asked.
      whole: the whole message is one of these ("hjälp", "avbryt"; "?" compared before
        cleaning); such a message interrupts a dialog at any step (`interrupts`).
      patterns: regular expressions searched in the cleaned message; QUESTIONS' order
        decides between kinds (the first kind with a hit is asked).
      weak: patterns tried only when no kind's `patterns` matched ("insatser" asks for a
        list, but "hur mycket har vi kvar för nya insatser" asks for money).
      only: asked by a message made only of these words, when no pattern matched and
        it names no unit, measure or year ("hej hej").
      lead: with `only`: at least one word starts with one of these ("tack så mycket").
      interrupts: a `whole` message stops the dialog under way (help, cancel).
    """

    kind: Intent
    whole: frozenset[str] = frozenset()
    patterns: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()
    only: frozenset[str] = frozenset()
    lead: tuple[str, ...] = ()
    interrupts: bool = False

    def has_words(self) -> bool:
        return bool(self.whole or self.patterns or self.weak or self.only)


OVERVIEW_PATTERN = (
    r"^(?:(?:visa|ge mig|öppna|jag vill se|kan jag få)(?: upp)? )?(?:min |mitt |en |hela |stadens )?"
    r"(?:översikt|oversikt|överblick|dashboard|instrumentpanel|lägesbild|overview)(?:en|s)?(?: tack)?$"
)
"""Issue 20: "översikt", "visa översikten", "dashboard": the live overview card. Only a message that
is nothing else: "översikt över pengarna för GVN" asks for money."""


NEED_WORD = r"\b(?:kompetens)?behov(?:et|en|s)?\b"
"""A need named as a word of its own ("behov", "behoven", "kompetensbehov"); not a part of a
title ("Kartläggning av fortbildningsbehov" is a measure)."""
NEEDS_PATTERNS = (
    r"^(?!.*\bny(?:tt)? ?insats)(?!.*\bnya insats)(?:.*"
    + NEED_WORD
    + r"|.*\bsvår(?:t|a)? (?:att )?rekryter|.*\bsvårrekryter|.*\bbristyrk|.*\byrken? (?:med|som har) brist\b"
    r"|.*\bpensionsavgång|.*\bgår i pension\b|.*\bsatsa[rst]?\b|.*\bsatsas\b|.*\bsatsade\b"
    r"|.*\b(?:pengar|kronor|satsningar?) per (?:yrke|yrkesgrupp|roll)\w*)",
)
"""Issue 21: a question about competence needs: a need named ("vilka behov saknar insatser?",
"behov FSKN"), hard-to-recruit roles or retirements, or money spent on a role ("hur mycket
satsar vi på förskollärare?"); never a new measure ("ny insats för behovet B1")."""

ABSENCE_WORDS = (
    r"(?:ledig|ledigt|tjänstledig|föräldraledig|(?:på |har )?semester|borta|bortrest|frånvarande"
    r"|sjukskriven|på (?:kurs|konferens|resa)|hemma med barn)"
)
"""Issue 22: the words that say a person is away."""
SUBSTITUTE_PATTERNS = (
    r"\bersätt(?:er|a|are|aren|arna|ares|arens)\b|\bersättar(?:e|n)?\b"
    r"|\bvikarier(?:ar|a)\b|\b(?:min|mina|hans|hennes|din|hens|\w+s) vikarie\b|\bvikarie (?:för|åt)\b"
    r"|\bär vikarie\b|\btäcker (?:upp )?för\b|\btäcka (?:upp )?för\b"
    r"|\btar över (?:efter|för) (?:mig|\w+) (?:när|under|medan)|\bersatte (?:mig|\w+)\b|\bvikarierade\b"
    r"|^[a-zåäö]+(?: [a-zåäö]+)? (?:tar|tog) (?:över|hand om det)\b.*(?:\d|\b(?:i|hela|under) (?:"
    + "|".join(MONTHS)
    + r")\b)"
    r"|\b(?:ska ha|ska vara|ska gå på|har|går på) " + ABSENCE_WORDS + r"\b.*\b(?:tar över|tar hand om)\b"
    r"|^(?:(?:från|den) \S+ (?:till \S+ )?)?(?:jag|\w+(?: \w+)?) "
    r"(?:är|e|var|blir|har|hade|kommer att vara|ska vara|går på|tar) "
    + ABSENCE_WORDS
    + r"|\b(?:avsluta|avbryt|stoppa|ta bort) (?:min|mitt|din|hennes|hans|hens|\w+s) "
    r"(?:frånvaro|ledighet|semester|ersättare|vikarie)\b|\bmin frånvaro\b"
    r"|^(?:(?:nu|hej|hallå|hejsan) )?(?:är jag|jag är) tillbaka\b|^\w+(?: \w+)? är tillbaka(?: från \w+)?$",
)
"""Issue 22: setting, asking about or ending a substitute during absence ("Jag är ledig 16 juni–11 juli,
Per Persson ersätter mig", "vem ersätter mig?", "jag är tillbaka"); never a measure's title
("Heder - vikariekostnader", "nyanställning av vikarier") nor a question about leave itself ("hur många
semesterdagar har jag kvar")."""
SUBSTITUTE_END = (
    r"\b(?:avsluta|avbryt|stoppa|ta bort|tabort) (?:min|mitt|din|hennes|hans|hens|\w+s) (?:frånvaro|ledighet"
    r"|semester|ersättare|vikarie)\b|\bär (?:jag )?tillbaka\b|\bär (?:jag )?åter\b"
    r"|\bersätter (?:mig|\w+) inte längre"
)
"""Issue 22: ending an absence early ("avsluta min frånvaro", "jag är tillbaka")."""
SUBSTITUTE_LIST = (
    r"^(?:vem|vilka|vilken|visa|lista|finns det)\b|\bmina ersättare\b|^ersättare$|^(?:alla )?ersättarna$"
    r"|\bvilka ersättare\b|\bvem (?:är|blir) (?:min|mina|\w+s) (?:ersättare|vikarie)"
)
"""Issue 22: asking who substitutes ("vem ersätter mig?", "mina ersättare", "vilka ersättare finns?")."""

QUESTIONS: tuple[Phrases, ...] = (
    Phrases(
        Intent.HELP,
        whole=HELP,
        patterns=(r"^hjälp\S*( \S+){0,2}$",),
        weak=(
            r"\bvad kan (du|jag|man|boten|vi)\b|\bhur (funkar|fungerar|använder|gör) (jag |man )?(dig|du"
            r"|boten|den här|det här)"
            r"|\bkommandon|\binstruktion|\bvilka frågor|\bhjälp\b|\bwhat can you|\bhur (ska|kan) jag använda"
            r"|\banvända dig\b|\bfattar inte\b|\bvad du kan\b|\bhjälpa till med\b|\bvad (jag|man) kan fråga"
            r"|\bge (några )?exempel|\bvad kan bot",
        ),
        interrupts=True,
    ),
    Phrases(
        Intent.CANCEL,
        whole=CANCEL,
        only=frozenset(
            """avbryt allt tack nej tillbaka börja om jag ångrar mig strunta i det glöm sluta skit ångra
            stopp""".split()
        ),
        lead=("avbryt", "nej", "tillbaka", "börja", "ångra", "strunta", "glöm", "sluta", "skit", "stopp"),
        weak=(
            r"^(avbryt|avsluta|stopp|strunta|glöm|ångra|skit i)\w*|\bvill (inte fortsätta|avbryta)"
            r"|\bnever mind"
            r"|^(nej )?vänta\b.*\binte fortsätta",
        ),
        interrupts=True,
    ),
    Phrases(
        Intent.GLOSSARY,
        patterns=(
            r"\bvad (betyder|innebär|menas|menar ni med|står)\b|\bskillnad(en)? (mellan|på)\b|\bförklara\b"
            r"|\bför (något|nåt|nånting)\b|\bvad är det för skillnad|\bdefinition|\bbegreppet\b"
            r"|\bvad är skillnaden\b|\bskillnaden\b$|\bdef\b|\bdefiniera|\bva (betyder|menas)\b",
        ),
    ),
    Phrases(
        Intent.REALLOCATE,
        patterns=(
            r"\b(flytta|flyttar|flytt|omfördela|omfördelning|omfördelar)\w*|\b(lämna|ge"
            r"|skicka) tillbaka (pengar|medel)"
            r"|\bomfördelningsförslag",
        ),
    ),
    Phrases(Intent.SUBSTITUTE, patterns=SUBSTITUTE_PATTERNS),  # issue 22: before the round's "vem … "
    Phrases(Intent.NEEDS, patterns=NEEDS_PATTERNS),  # issue 21: before the round's "vilka … saknar"
    Phrases(
        Intent.FOLLOW_UP,
        patterns=(
            r"^(?!.*\b(när|måste vi|hur många|vilka|vem)\b)(?!(behöver|måste|ska|skall) (jag|vi"
            r"|man)\b).*(\b(vill|ska|skall|behöver|tänkte"
            r"|dags att) (\w+ ){0,2}"
            r"(lämna|rapportera|fylla i|fyll i|skicka in|ge|göra|registrera|följa upp)\b.*\b(uppfölj\w*"
            r"|uppföljn\w*"
            r"|utfall|prognos|rapport|hur det gått)"
            r"|\b(vill|ska|skall|behöver|tänkte|dags att) (\w+ ){0,2}(följa upp|redovisa)"
            r"|\bredovis\w*|\bdags för (\w+ )?junirapport|\blämna (\w+ )?junirapport|^junirapport\w* \w"
            r"|\buppdatera (\w+ ){0,2}(status|uppfölj\w*)|\bskicka in (\w+ )?uppfölj\w*"
            r"|\buppfölj\w*\b.*\b(utfall|prognos)\w* (är |blev |på )?\d|\buppfölj\w*\b.*\b(vill"
            r"|ska) (lägga in"
            r"|lämna|registrera|rapportera)"
            r"|\b(hur|var) (lämnar|rapporterar|skickar|redovisar) (jag|man|vi) (in )?"
            r"(det|den|dem|utfall\w*|uppfölj\w*)"
            r"|\b(lämna|lämnar|rapportera|fyll i|fylla i|ange|uppdatera|registrera"
            r"|mata in) (\w+ ){0,2}(uppfölj\w*"
            r"|uppföljn\w*|utfall\w*|prognos\w*)|\blämna utfall|\båterrapport|\bfölj upp\b|\bfölja upp\b)",
        ),
        weak=(r"uppföljning|uppföljnig|uppföling|uppföljn|uppfölj|\brapportera\b",),
    ),
    Phrases(
        Intent.ROUND,
        patterns=(
            r"\b(vem|vilka|hur många|hur stor andel|har alla|har \w+)\b.*\b(svarat|lämnat|saknas|saknar"
            r"|inne|kommit in)\b"
            r"|sista dag|\bdeadline|junirund|\b(juni|december) rund|junirapport|\bjun(i)?uppfölj"
            r"|\b(hur går|hur gick|status|läget)\b.*\brund(a|an|en)\b"
            r"|^(behöver|måste|ska|skall) (jag"
            r"|vi|man) "
            r"(\w+ )?(lämna|svara|rapportera)\b|uppföljningsomgång|uppföljningsrund|svarsfrekvens"
            r"|\bpåminn"
            r"|\b(öppna|starta|stäng|stänga|öppnar|stänger|startar)\b.*\b(jun\w*|uppföljning\w*|rund\w*)"
            r"|\b(hur går|status|läget|hur långt)\b.*\buppföljning(en|arna)?\b|\buppföljningens (status"
            r"|resultat)"
            r"|\b(visa|lista|se|kolla)\b.*\buppföljningar(na)?\b|\buppföljningar(na)?\b.*\b(inne|in|kommit"
            r"|inkomna)\b"
            r"|\binkomna uppföljningar|\binlämnade uppföljningar|\bnär\b.*\buppföljning\w*|\bmåste vi svara"
            r"|\bmissat\b.*\buppfölj|\buppföljning\w* (är )?öppen|\bsvarat\b|\bhur lång tid\b.*\buppfölj"
            r"|\bsista datum"
            r"|\b(visa|se|kolla)\b.*\b(rapporterat|lämnat|svarat)\b|\bklara med uppfölj"
            r"|\b(juni|december|dec)rund\w*|\beskaler\w*|^(stäng|öppna|starta)\w* \w*rund(an|en)\b",
        ),
    ),
    Phrases(
        Intent.SUBMIT_MEASURE,
        patterns=(
            r"\bny(tt)? ?insats|^(?!.*\b(kvar|hur mycket|hur mkt|saldo)\b).*\bnya insats|\blämna in\b"
            r"|\bskicka in\b|\blägg(a|er)? (till|in) (en |ett )?(ny |nytt )?\w*insats"
            r"|\bregistrera (en |ett )?(ny |nytt )?\w*insats|\bskapa (en )?(ny )?\w*insats|\bansök"
            r"|\bsöka (pengar|medel)"
            r"|\banmäla? (en |ett )?(ny )?\w*insats|\bformulär"
            r"|\blägg\w* (man |vi |jag )?(till|in) (en |ett )?(till |annan |ny |nytt )?\w*insats"
            r"|\blägga (in|upp|till) en ny\b|\bny satsning",
        ),
    ),
    Phrases(
        Intent.STATUS,  # a measure's status, or a list of measures (its filter: FILTER_WORDS)
        patterns=(
            r"försen|forsen|förfall|efter slutdatum|slutdatum\w* (har )?passerat|passerat slutdatum"
            r"|\bsena\b|\bligger efter\b|inte klara i tid"
            r"|\b(inte|ej)( \w+)?( \w+)? (påbörja|starta|börja|kommit igång|satt igång)\w*"
            r"|\bej påbörjad|\bopåbörjad|\binte igång\b|\bstatus|\bhur går det\b(?! till)(?! jag)"
            r"|\bhur gick det|\bläget\b|\bläge\b|\bhur ligger"
            r"|\bgår det med"
            r"|\bhur fortskrider|\b(startat|startats|börjat|igång)\b"
            r"|\bvem (är )?ansvar|\bansvarig|\bnär (ska|slutar|börjar|avslutas|blir|är)\b|\bkommit igång"
            r"|\bhur går\b(?! (det|jag|man|vi) till)",
        ),
        weak=(
            r"\b(mina|våra|visa|lista|vilka|alla|har|några) (\w+ )?insats(er|erna)\b"
            r"|\binsats(er|erna)\b|\bhur ser det ut|\bpå gång\b",
        ),
    ),
    Phrases(
        Intent.REMAINING,
        patterns=(
            r"\bkvar\b|\bsaldo|\bhur (mycket|mkt|mycke)|\bbudget|\båterstå"
            r"|\bkvarvarande|\btillgängligt|\bprognos|\butfall|\bfördelat|\brå[dt]|\btilldela|\bförbruka"
            r"|\bspendera|\bgjort av med|\bgått åt|\bbevilja|\bbelopp|\bfått\b|\bfick\b|\banslag",
        ),
        weak=(r"\bpengar|\bmedel\b|\bmedlen\b",),
    ),
    Phrases(
        Intent.UNITS,
        patterns=(
            r"^(?!.*\binsats)(?=.*\b(vilka|lista|visa|vilken)\b).*\b(nämnder|nämnderna|förvaltningar"
            r"|förvaltningarna|enheter"
            r"|enheterna"
            r"|committees|boards)\b|koder\b|^nämnder(na)?$|^förvaltningar(na)?$|\bvila nämnder"
            r"|\bnämnder\b.*\bfinns\b",
        ),
    ),
    Phrases(
        Intent.GREETING,
        only=GREETINGS,
        weak=(r"^(hej|hejsan|hallå|god (morgon|dag|kväll|eftermiddag)|goddag|tjena|tjabba|hi|hello|hey)\b",),
    ),
    Phrases(
        Intent.THANKS,
        only=THANKS | ACKNOWLEDGED,
        lead=("tack", *ACKNOWLEDGED),
        weak=(
            r"^(tack|tackar|thanks|thank you|perfekt|toppen|kanon|super|tusen tack|hejdå|hej då|ha det)\b",
        ),
    ),
    Phrases(Intent.OVERVIEW, patterns=(OVERVIEW_PATTERN,)),  # issue 20: the whole message only
)
"""Every kind of question and its words, in the order they are tried."""

NAMES_A_MEASURE = Intent.STATUS
"""Asked by a message without keywords that names a measure and no unit ("Chefsutveckling")."""
NAMES_A_UNIT_OR_YEAR = Intent.REMAINING
"""Asked by a message without keywords that names a unit or a year ("förskolan", "2025")."""
FALLBACK = Intent.UNKNOWN
"""What a message asks when no words asked anything: it has no phrases of its own."""

STOPWORDS = frozenset(
    """
    hur mycket finns fanns kvar för till från av med det den de är var vad vilka vilken vilket
    har hade inte ej och i på om en ett jag vi du mig oss ni er vill ville kan kunde ska skulle
    status saldo saldot läget läge går gick gå pengar pengarna medel medlen insats insatser
    insatsen insatserna insatsens nämnd nämnden nämnder nämndens budget budgeten kronor kr
    återstår återstående visa lista berätta hos inom år året försenade försenad försenat
    påbörjats påbörjat påbörjad påbörjade startat startats börjat ny nya nytt lämna in uppföljning
    uppföljningen följa följ upp hjälp hej tack snälla sen sena sent när ligger egentligen just nu
    dag idag allt alla mina min mitt vår vårt våra sin sina som där här detta denna dessa kommer
    blir bli varit ha få fått göra gör gjort något några någon egna eget egen kvarvarande
    tillgängligt tillgängliga utfall prognos prognosen fördelat fördelning pågår pågående klar
    klara ännu fortfarande det om oss behöver vet veta undrar skulle gärna please the what
    då alltså liksom ju väl så bara också även mer mest hela totalt
    när slutar börjar avslutas avslutat klart ansvarar ansvarig ansvarat vem vems hittills skapa lägga lägg
    registrera anmäla anmäl dags rapportera rapporterat fylla fyll kommit igång gått gick mkt mycke sina sitt
    vara bli blev kronor tkr mkr summa sammanlagt tillsammans sen sedan dessutom kostat kostar kostade
    lämna lämnar lämnat använt använda användas används förbrukat förbrukats beviljats beviljades beviljat
    tilldelat tilldelats tilldelades fick fått spenderat landar enligt gjort hur många vilken vilket
    miljon miljoner tusen hundra halv halva två tre fyra fem
    att som men eller vid under efter före mot utan hos åt än dom dem deras hans hennes dig tror genom
    the for of to a an is are be in on at by so far it this that its has have how much many what
    chef chefen bad rektor rektorn ekonomen ledningen kompetensutveckling kompetensutvecklingen andel fram ta
    kurs kurser kursen personer skicka
    andelen
    """.split()
)
STOP_PREFIXES = (
    "förbruk", "använ", "kostnad", "bevilj", "tilldel", "rapport", "uppfölj", "ansvar", "spender",
    "påbörj", "försen", "prognos", "utfall", "omfördel", "registrer", "pengar", "uppdater", "redovis",
    "junirapport", "junirund", "kolla",
)  # fmt: skip
"""Word beginnings that ask rather than name ("förbrukat", "uppföljningen"): not compared with titles."""
"""Words that name no unit or measure: left out when a message is matched against titles."""

WHOLE_FUND_WORDS = frozenset(
    "totalt total hela staden stad kommunen fonden fond sammanlagt alla samtliga".split()
)
"""Words asking about the whole year's fund rather than a unit ("hur mycket finns kvar totalt")."""

YEAR_WORDS: tuple[tuple[str, int], ...] = (
    (r"\bi år\b|\binnevarande år", 0),
    (r"\bförra året\b|\bi fjol\b", -1),
    (r"\bnästa år\b", 1),
)
"""A year named in words (a pattern in the cleaned message) and its distance from this year."""

# --- the slots of a question (dialogs.grammar reads them; patterns over the cleaned text) ---------

FIGURE_WORDS: tuple[tuple[Figure, str], ...] = (
    (Figure.FORECAST, r"\bprognos|\bberäkna|\b(för)?väntas|\blanda[rt]?\b|\bforecast"),
    (Figure.REMAINING, r"\bkvar\b|\bsaldo|\båterstå|\bkvarvarande|\btillgängligt|\bleft\b|\bremaining"),
    (
        Figure.SPENT,
        r"\butfall|\bgjort av med|\bgjort av\b|\bförbruka|\banvänt|(?<!att )\banvända\b|\bspendera|\bgått åt"
        r"|\bgick åt|\bkostat|\blagt (ut|ner)|\bgjort slut på|\bförbrukning|\bspent|\bused\b|\bspend",
    ),
    (
        Figure.ALLOCATED,
        r"\btilldela|\bfått\b|\bfick\b|\bfår\b|\bbudget|\banslag|\bbevilja|\bfördelat|\bfördelade"
        r"|\bhur stor|\ballocat|\bgranted|\breceived|\bgot\b",
    ),
)
"""The money figure a question asks for, in the order tried: "kvar enligt prognos" asks the forecast."""

FILTER_WORDS: tuple[tuple[Filter, str], ...] = (
    (
        Filter.OVERDUE,
        r"försen|forsen|förfall|efter slutdatum|slutdatum\w* (har )?passerat|passerat slutdatum|\bsena\b"
        r"|\bligger efter\b|inte klara i tid|\bdröjer|\boverdue|\blate\b|\bdelayed",
    ),
    (
        Filter.NOT_STARTED,
        r"\b(inte|ej)( \w+)?( \w+)? (påbörja|starta|börja|kommit igång|satt igång|dragit igång)\w*"
        r"|\bej påbörjad|\bopåbörjad|\binte igång\b|\bnot (yet )?started|\bhaven t started",
    ),
    (
        Filter.NOT_COMPLETED,
        r"\b(ej|inte) (är |har )?(slutför|blivit klar|klara\b|färdiga\b)|\b(inte|ej) (blev|blivit|har blivit)"
        r" (klara?|av|genomförda?)|\bavbrut"
        r"|\bstoppade"
        r"|\bnot completed|\bunfinished",
    ),
    (
        Filter.NEEDS_MONEY,
        r"\b(mer|extra|ytterligare) (pengar|medel)|\bbehöver (mer|extra)|\böverskrid|\bgå(r)? över budget"
        r"|\bunderfinansiera|\bprognos (över|överstiger)|\bmore money|\bover budget|\bräcker inte"
        r"|\bprognos\w* (som är |som ligger )?(högre|större|över)|\böver budget",
    ),
    (
        Filter.ENDS,
        r"\b(ska|skall|måste|bör) (\w+ )?(vara|bli) (klara?|färdiga?|avslutade?)\b|\bklara? (senast|före"
        r"|innan)\b",
    ),
    (
        Filter.DONE,
        r"\bklara\b|\bklar\b|\bavslutade\b|\bavslutats\b|\bslutförts\b|\bslutförda\b|\bgenomförda\b"
        r"|\bfärdiga\b|\bdone\b|\bcompleted"
        r"|\bfinished",
    ),
    (
        Filter.ONGOING,
        r"\bpågå|\bpågånde|\bpagaende|\bigång\b|\bpåbörjade\b|\baktiva\b|\brullar\b|\bongoing|\brunning",
    ),
    (
        Filter.ENDS,
        r"\btar slut\b|\btog slut\b|\bslutar\b|\bslutade\b|\bavslutas\b|\bavslutades\b|\blöper ut\b"
        r"|\bupphör|\bslutdatum (i|under)\b|\bends?\b",
    ),
)
"""What a list of measures is narrowed to, in the order tried ("inte klara i tid" is overdue,
"inte slutförda" not completed, before "klara")."""

OWN_WORDS = frozenset("vi vår vårt våra oss vårat mina our we us".split())
OWN_PATTERN = r"\b(min|mitt) (nämnd|förvaltning|enhet|område|budget|saldo|insats|pott|verksamhet)"
"""Words by which a person means their own unit(s) ("min chef" is no unit)."""

CITY_PATTERN = (
    r"\btotalt\b|\btotal\b|\bhela (staden|stan|kommunen|malmö|fonden|potten)|\bstadens\b|\bkommunens\b"
    r"|\bi kommunen\b|\bi staden\b|\balla nämnder|\bsamtliga nämnder|\bsammanlagt\b|\bwhole city"
    r"|\bin total\b|\ball committees|\boverall\b"
    r"|\b(budgeten|anslaget|pengarna|medlen|potten) (för|till) kompetensutveckling"
)
"""The whole city's fund rather than a unit ("hur mycket finns kvar totalt")."""

TOGETHER_PATTERN = r"\btillsammans\b|\bsammanlagt\b|\bsammantaget\b|\bsumma|\bihop\b|\btogether|\bcombined"
"""The sum of several units named ("kulturnämnden och fritidsnämnden tillsammans")."""

MEASURE_ID_PATTERN = (
    r"(?:\binsats(?:en)?|\bstatus|\bnr|\bnummer|\bid|#|\bmeasure)\s*(?:nr\s*|nummer\s*)?(\d{1,4})\b"
)
"""A measure named by its id, as answers show it ("status 12", "insats 47", "#12"); matched before
cleaning."""

ENGLISH_WORDS = frozenset(
    """how much what is the for left money which are who when does mean of have has board show me my
    our we please hello thanks thank you can i do measures measure committee committees there spent
    budget remaining forecast report want to and a an in this year last next all city whole many
    answered hasn t not started overdue late help list where it been us new submit give tell about did get
    together work works reallocation reallocate there do you your yet hi thanks follow up check see
    weather like so far going track on still missing training course city difference between means
    cancel upper secondary adult education pls was granted responsible end open round initiative add need
    file above their any completed health care welfare committee lot never mind that d like delayed""".split()
)
"""Words of English (that are not Swedish words too): a message mostly of them is English."""

ENGLISH_PHRASES: tuple[tuple[str, str], ...] = (
    (r"\bwhat does (\w+) mean\b", r"vad betyder \1"),
    (r"\bdifference between\b", "skillnaden mellan"),
    (r"\bwho is responsible\b|\bwho s responsible\b", "vem ansvarar"),
    (r"\bwhen does (.+) end\b", r"när slutar \1"),
    (r"\bopen the june round\b|\bopen the round\b", "öppna junirundan"),
    (r"\bjune round\b", "junirundan"),
    (r"\b(need|want|would like|d like) to (file|report|submit|give)\b", "vill lämna"),
    (r"\badd a new (initiative|measure)\b", "lägga till en ny insats"),
    (r"\binitiatives?\b", "insats"),
    (r"\babove\b", "över"),
    (r"\bcompleted\b|\bfinished\b", "klara"),
    (r"\bhealth\W+care( and welfare)?\w*", "äldreomsorgen"),
    (r"\bhow much\b", "hur mycket"),
    (r"\bwhich\b", "vilka"),
    (r"\bshow\b", "visa"),
    (r"\blist\b", "lista"),
    (r"\bwho\b", "vem"),
    (r"\bwhen\b", "när"),
    (r"\bcommittees\b|\bboards\b", "nämnder"),
    (r"\btogether\b|\bcombined\b", "tillsammans"),
    (r"\bget\b|\bgot\b", "fått"),
    (r"\bhow many\b", "hur många"),
    (r"\bhow is\b|\bhow are\b|\bhow s\b", "hur går"),
    (
        r"\bwho hasn t (answered|responded|replied)|\bwho has not (answered|responded|replied)",
        "vem har inte svarat",
    ),
    (r"\b(answered|responded|replied)\b", "svarat"),
    (r"\bdeadline\b", "sista dag"),
    (r"\bpreschool\w*|\bpre school\w*", "förskolenämnden"),
    (r"\b(elementary|compulsory|primary) school\w*", "grundskolenämnden"),
    (r"\bupper secondary\w*( school)?|\bhigh school\w*|\badult education\w*", "gymnasienämnden"),
    (r"\bculture\w*|\bcultural\w*", "kulturnämnden"),
    (r"\bleisure\w*|\brecreation\w*", "fritidsnämnden"),
    (r"\benvironment\w*", "miljönämnden"),
    (r"\bcity office\w*", "stadskontoret"),
    (r"\bsocial services?\w*|\blabour market\w*|\blabor market\w*", "socialtjänsten"),
    (r"\belder(ly)? care\w*|\bhealth and care\w*", "äldreomsorgen"),
    (r"\bdisability\w*( support)?|\bfunctional support\w*", "funktionsstöd"),
    (r"\b(urban|city) planning\w*|\bbuilding\w*", "stadsbyggnad"),
    (r"\btechnical\w*", "tekniska nämnden"),
    (r"\bservice (board|committee)\w*", "servicenämnden"),
    (r"\b(city )?executive board\w*", "kommunstyrelsen"),
    (r"\bboard\w*|\bcommittee\b", ""),
    (r"\bleft\b|\bremaining\b", "kvar"),
    (r"\bspent\b|\bused\b", "utfall"),
    (r"\bforecast\w*", "prognos"),
    (r"\ballocated\b|\bgranted\b|\breceived\b|\bbudget\b", "tilldelat"),
    (r"\bnew measure\b", "ny insats"),
    (r"\bmeasures\b|\bmeasure\b", "insatser"),
    (r"\bfollow ups?\b|\bfollowup\b", "uppföljning"),
    (r"\breport\b", "rapportera"),
    (r"\breallocat\w*|\bmove money\b", "omfördela"),
    (r"\boverdue\b|\bdelayed\b|\blate\b", "försenade"),
    (r"\bnot started\b", "ej påbörjade"),
    (r"\bthis year\b", "i år"),
    (r"\blast year\b", "förra året"),
    (r"\bnext year\b", "nästa år"),
    (r"\bwhole city\b|\bin total\b|\btotal\b", "totalt"),
    (r"\b(the )?city\b", "hela staden"),
    (r"\btraining\b|\bcourse\b", "utbildning"),
    (r"\bmissing\b", "saknas"),
    (r"\bon track\b|\bgoing\b", "hur går"),
    (r"\bour\b", "vår"),
    (r"\bwe\b|\bus\b", "vi"),
    (r"\bmy\b", "mina"),
    (r"\bcancel\b", "avbryt"),
    (r"\bthank you\b|\bthanks\b", "tack"),
    (r"\bhello\b|\bhi\b", "hej"),
    (r"\bhelp\b", "hjälp"),
)
"""An English message read as Swedish: each pattern (over the cleaned text) becomes its Swedish words."""

SECOND_QUESTION = (
    r"[?!.;,\n]+\s*|\s+(?:och\s+)?(?:sen|sedan|också|dessutom)\s+"
    r"|\s+(?:och|samt|plus|också|dessutom|sen|sedan|and)\s+"
    r"(?=(?:hur|vad|vilka|vilken|när|vem|visa|lista|finns|kan|är|har|status|saldo|hjälp|lägg\w*|jag|vill|how"
    r"|what|which|who|is|are)\b)"
)
"""Where a message may hold a second question: after a sentence's end, or before "och hur …"."""

OFF_TOPIC = (
    r"\bsemester|\bväder|\bvädret|\blunch|\bboka\b|\blönen?\b|\bflextid|\bsjukanmäl|\bparkering|\blösenord"
    r"|\bfel nämnd\b|\bdet ska vara\b|^ändra\b|\bfika\b|\bpersonalrum|\bkaffe|\bvalet\b|\bsommarlov"
)
"""What the bot does not answer, though its words look like a question it does ("hur många
semesterdagar har jag kvar"), and a correction with nothing under way to correct."""

THANKS_EMOJI = "👍🙏😊🙂👌✅🤝"
"""A message of only these (and no words) is thanks."""

SWEDISH_TOO = frozenset("i a in status ok hej".split())
"""English words that are Swedish too: a message of only these is not English."""

NOT_TYPOS = frozenset("fördela fördelat fördelas fördelning fördelningen kompetensbot kompetensboten".split())
"""Words that look like a misspelt question word but are words of their own."""

TYPO_KEYWORDS = frozenset(
    """prognos prognosen utfall utfallet saldo saldot tilldelat uppföljning uppföljningen uppföljningar
    försenade försenad pågående påbörjade insatser insatsen insatserna status omfördelning omfördela
    budget budgeten beviljat förbrukat junirundan kompetensutveckling rapportera flytta insats mycket
    tillsammans kompetensbehov kompetensbehoven svårrekryterade pensionsavgångar otäckta ersätter
    ersättare ersättaren tjänstledig föräldraledig""".split()
)
"""Question words a misspelling is put right to ("uppföljnig" → "uppföljning")."""
KEYWORD_SET = TYPO_KEYWORDS | NOT_TYPOS
SHORT_KEYWORDS = frozenset("kvar hej tack gjort avbryt saldo behov satsar täckta".split())
"""Short question words put right from a misspelling of three letters or more ("kvr", "hejj", "tackk")."""

NO_CATEGORY = ("ingen", "inga", "ingen av dem")
"""Answers to "which strategy categories?" that name none (with "-")."""


# --- the glossary (dialogs.quick_answers answers GLOSSARY questions) ------------------

GLOSSARY_WORDS: dict[str, str] = {
    "prognos": "prognos",
    "prognosen": "prognos",
    "forecast": "prognos",
    "utfall": "utfall",
    "utfallet": "utfall",
    "spent": "utfall",
    "kvar": "kvar",
    "saldo": "kvar",
    "saldot": "kvar",
    "tilldelat": "tilldelat",
    "tilldelning": "tilldelat",
    "tilldelningen": "tilldelat",
    "beviljat": "beviljat",
    "beviljade": "beviljat",
    "beviljad": "beviljat",
    "anslag": "anslag",
    "anslaget": "anslag",
    "insats": "insats",
    "insatser": "insats",
    "nämnd": "nämnd",
    "nämnder": "nämnd",
    "uppföljning": "uppföljning",
    "uppföljningen": "uppföljning",
    "junirundan": "uppföljning",
    "omfördelning": "omfördelning",
    "omfördela": "omfördelning",
    "ksau": "ksau",
    "status": "status",
    "ej slutförd": "ej slutförd",
    "användbar": "användbar",
    "uppföljningar": "uppföljning",
    "prognoser": "prognos",
    "insatsen": "insats",
    "nämnden": "nämnd",
    "omfördelningar": "omfördelning",
    "ej fördelat": "ej fördelat",
    "ej fördelat på insatser": "ej fördelat",
    "ofördelat": "ej fördelat",
    "inte fördelat": "ej fördelat",
    "uppföljningsomgång": "uppföljning",
    "uppföljningsomgången": "uppföljning",
    "juniuppföljningen": "uppföljning",
    "behov": "behov",
    "behovet": "behov",
    "behoven": "behov",
    "kompetensbehov": "behov",
    "kompetensbehovet": "behov",
}
"""A word a GLOSSARY question asks about → its base term (Understanding.terms): each base
term has one short explanation in dialogs.texts."""


# --- issue 19: small words (amounts in words, approximations, yes/no in phrases, statuses) ---

NUMBER_WORDS: dict[str, int] = {
    "en": 1, "ett": 1, "två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6, "sju": 7, "åtta": 8,
    "nio": 9, "tio": 10, "elva": 11, "tolv": 12, "tretton": 13, "fjorton": 14, "femton": 15,
    "sexton": 16, "sjutton": 17, "arton": 18, "aderton": 18, "nitton": 19, "tjugo": 20, "tjugu": 20,
    "trettio": 30, "tretti": 30, "fyrtio": 40, "förtio": 40, "femtio": 50, "femti": 50, "sextio": 60,
    "sexti": 60, "sjuttio": 70, "sjutti": 70, "åttio": 80, "åtti": 80, "nittio": 90, "nitti": 90,
}  # fmt: skip
"""Swedish number words below a hundred (core.money reads "tvåhundrafemtio tusen" with them)."""

HUNDRED_WORDS = frozenset({"hundra"})
THOUSAND_WORDS = frozenset({"tusen", "tkr", "tsek"})
MILLION_WORDS = frozenset({"miljon", "miljoner", "miljonen", "mkr", "mnkr", "msek"})
"""Scale words of an amount in words ("två miljoner", "femhundra tusen", "en halv mkr")."""
HALF_WORDS = frozenset({"halv", "halvt", "halva"})
"""A half, in "en halv miljon" and "två och en halv miljon"."""
ONE_AND_A_HALF = frozenset({"halvannan", "halvannat"})
"""One and a half ("halvannan miljon")."""
AND_WORDS = frozenset({"och", "o"})
CURRENCY_WORDS = frozenset({"kr", "kronor", "krona", "sek", ":-"})
"""Words that may end an amount in words ("en miljon kronor")."""

APPROXIMATE = frozenset(
    {
        "ca", "ca.", "c:a", "c.a", "c.a.", "cirka", "circa", "ungefär", "ung", "ung.", "ungf", "ungf.",
        "runt", "omkring", "kring", "drygt", "knappt", "nästan", "närmare", "uppemot", "typ", "ish",
        "approx", "about", "around", "~", "≈", "+-", "±",
    }
)  # fmt: skip
"""Words that make an amount approximate ("ca 450 000", "ungefär 1 mkr"): refused, since a
figure in the ledger is exact."""


STATUS_MORE_WORDS: dict[str, str] = {
    "ej påbörjade": "Ej påbörjad",
    "inte påbörjat": "Ej påbörjad",
    "inte startad": "Ej påbörjad",
    "inte startat": "Ej påbörjad",
    "ej startat": "Ej påbörjad",
    "ej igång": "Ej påbörjad",
    "inte igång": "Ej påbörjad",
    "ej börjat": "Ej påbörjad",
    "inte börjat": "Ej påbörjad",
    "pågående insats": "Pågående",
    "igång": "Pågående",
    "påbörjat": "Pågående",
    "startad": "Pågående",
    "startat": "Pågående",
    "pågår fortfarande": "Pågående",
    "snart klar": "Pågående",
    "klart snart": "Pågående",
    "nästan klar": "Pågående",
    "nästan klart": "Pågående",
    "in progress": "Pågående",
    "avslutat": "Klar",
    "genomfört": "Klar",
    "färdig": "Klar",
    "färdigt": "Klar",
    "slutförd": "Klar",
    "slutfört": "Klar",
    "completed": "Klar",
    "finished": "Klar",
    "ej slutförda": "Ej slutförd",
    "inte slutfört": "Ej slutförd",
    "ej genomförd": "Ej slutförd",
    "inte genomförd": "Ej slutförd",
    "ej genomfört": "Ej slutförd",
    "inte genomfört": "Ej slutförd",
    "avbruten": "Ej slutförd",
    "avbrutet": "Ej slutförd",
    "avbrutits": "Ej slutförd",
}
"""More of a status's words (read with STATUS_WORDS by status_value): "avslutat" is "Klar"."""


# --- issue 19: answers that use what was understood ---------------------------------------

ROUND_LATE_QUESTIONS = (
    "inte svarat",
    "ej svarat",
    "inte har svarat",
    "saknar svar",
    "saknas svar",
    "svar saknas",
    "inte lämnat",
    "ej lämnat",
    "vem har inte",
    "vilka har inte",
)
"""A ROUND question asking who has not answered (dialogs.round_turns: the list of them,
for those who may see it)."""

ROUND_DATE_QUESTIONS = (
    "sista dag",
    "sista datum",
    "deadline",
    "senast",
    "när ska",
    "när stänger",
    "när öppnar",
    "när är",
    "när går",
    "datum",
)
"""A ROUND question asking for the round's dates (its opening, last day and reminders)."""


# --- issue 19: dialogs that trap or lose work ------------------------------------------

BACK = frozenset({"tillbaka", "gå tillbaka", "backa", "föregående", "förra frågan", "ett steg tillbaka"})
"""Go back one step in a dialog and ask it again (the whole message, after `key`)."""

RESTART = frozenset({"börja om", "börja om från början", "starta om", "om från början"})
"""Start the dialog under way over (the whole message)."""

RESUME = frozenset({"fortsätt", "fortsätta", "fortsätt där jag var", "fortsätt insatsen", "återuppta"})
"""Take up an unfinished dialog that was left for another question (the whole message)."""

CHANGE_VERBS = ("ändra", "byt", "byta", "rätta", "korrigera")
"""A message beginning with one of these names a field to change ("ändra beloppet")."""

WRONG_WORDS = ("fel",)
"""'oj fel nämnd, det ska vara fritidsnämnden': the field named after it is wrong."""

SHOULD_BE = ("det ska vara", "ska det vara", "ska vara", "jag menade", "menade", "till")
"""What introduces a field's new value in a change, right after the field's word ("ändra
beloppet till 200 tkr", "fel nämnd, det ska vara fritidsnämnden"): anywhere else it is part
of an answer ("ändra beskrivningen, vi går över till distans" sets no value)."""

MEASURE_FIELDS: dict[str, tuple[str, ...]] = {
    "unit": ("nämnd", "nämnden", "nämnder", "enhet"),
    "title": ("titel", "titeln", "namn", "namnet", "rubrik", "rubriken"),
    "description": ("beskrivning", "beskrivningen"),
    "target_group": ("målgrupp", "målgruppen"),
    "categories": ("kategori", "kategorin", "kategorier", "kategorierna", "strategikategori"),
    "start_date": ("startdatum", "startdatumet", "start", "starten", "början"),
    "end_date": ("slutdatum", "slutdatumet", "slut", "slutet", "datum", "datumet", "datumen"),
    "performer": ("utförare", "utföraren", "genomförare", "vem som genomför"),
    "amount": ("belopp", "beloppet", "summa", "summan", "pengar", "pengarna", "kronor"),
    "decision": ("beslut", "beslutet", "beslutsreferens", "paragraf"),
    "need": ("behov", "behovet", "kompetensbehov", "kompetensbehovet"),  # issue 21
}
"""The measure dialog's fields and the words that name them ("ändra beloppet")."""

FOLLOWUP_FIELDS: dict[str, tuple[str, ...]] = {
    "measure": ("insats", "insatsen"),
    "period": ("period", "perioden", "månad", "månaden"),
    "status": ("status", "statusen"),
    "spent": ("utfall", "utfallet", "använt", "förbrukat"),
    "forecast": ("prognos", "prognosen"),
    "usable": ("användbar", "användas", "planerat", "som planerat"),
    "note": ("kommentar", "kommentaren", "anteckning", "anteckningen", "notering"),
    "reached": ("nådda", "nått", "personer", "personerna"),
}
"""The follow-up dialog's fields and the words that name them ("ändra prognosen")."""

COMMAND_LEADS = (
    "jag vill",
    "jag ska",
    "jag skulle vilja",
    "vi vill",
    "vi ska",
    "ska lämna",
    "kan du",
    "kan jag",
    "kan vi",
    "lägg till",
    "lägga till",
    "lägg in",
    "skapa",
    "registrera",
    "ny insats",
    "nya insatser",
    "nytt",
    "lämna",
    "visa",
    "lista",
    "saldo",
    "status",
    "kvar",
)
"""Words a request begins with ("lägg till en ny insats för grundskolan", "saldo förskolan"):
a message in a free-text field that begins so and names a kind of question is a request,
not a value; "Mentorskap för nya chefer" is a title."""

QUESTION_LEADS = ("hur", "vad", "vilka", "vilken", "vilket", "när", "vem", "finns", "har")
"""Words a question begins with: without a question mark, a message in a free-text field that
begins so is a question only when it asks for a balance and names a unit ("hur mycket har
grundskolenämnden kvar att fördela"); "Hur vi arbetar med status" may be a description."""

STARTS_IN_A_FORM = frozenset(
    {
        Intent.SUBMIT_MEASURE,
        Intent.FOLLOW_UP,
        Intent.STATUS,
        Intent.REALLOCATE,
        Intent.ROUND,
        Intent.GLOSSARY,
        Intent.UNITS,
    }
)
"""Kinds a message typed in a form's free-text field asks when it begins like a request
(COMMAND_LEADS): it is answered, not stored."""
BALANCE_IN_A_FORM = Intent.REMAINING
"""The balance: asked in a form's free-text field only with a unit (or the whole fund, or
one's own) named, or a question mark."""
ANSWERED_BESIDE_A_FORM = frozenset({Intent.NEEDS})
"""Issue 21: kinds answered where a form waits, the form's question then asked again, even where
it waits for a choice or a yes or no ("vilka behov saknar insatser?" at the measure's need, or at
its confirmation), and in a free-text field also without a question mark when the message begins
like a question ("vilka behov saknar insatser"): never leaving the form to be resumed later."""
NEVER_IN_A_FORM = frozenset({Intent.HELP, Intent.CANCEL, Intent.GREETING, Intent.THANKS, Intent.UNKNOWN})
"""Kinds never taken for a question in a free-text field (help and cancel interrupt on their own)."""

ORDINALS: dict[str, int] = {
    "första": 1,
    "förste": 1,
    "andra": 2,
    "andre": 2,
    "tredje": 3,
    "fjärde": 4,
    "femte": 5,
    "sjätte": 6,
    "sjunde": 7,
    "åttonde": 8,
    "nionde": 9,
    "tionde": 10,
    "sista": -1,
    "siste": -1,
}
"""A choice answered by its place ("den andra", "sista"): the place, -1 the last (or by its
number in words, NUMBER_WORDS: "nummer två")."""


POSITION_FILLERS = frozenset(
    {
        "den",
        "det",
        "nummer",
        "nr",
        "alternativ",
        "alternativet",
        "jag",
        "menade",
        "tar",
        "väljer",
        "vill",
        "ha",
    }
)
"""Words around a place in an answer to a choice ("jag tar den andra", "nummer två")."""

BOTH = frozenset({"bägge", "båda", "alla", "samtliga", "allihop"})
"""A choice answered with more than one ("bägge", "båda två"): not a name to search, asked again."""


# --- the grammar's smaller patterns (dialogs.understanding, dialogs.grammar) ------------------

ASKS_LIST = r"\b(vilka|visa|lista)\b.*\binsats"
"""A part of a message that asks for a list of measures ("vilka insatser har vi?")."""

STATEMENT = (
    r"^(jag|vi|det|vår|vårt|min|mitt|nämnden|förvaltningen)\b(?!.*\b(vill|ska|skulle|behöver|undrar|måste|kan"
    r"|hur|vad|vilka|vilken|när|vem)\b)"
)
"""A part of a message that tells rather than asks: it begins with its subject and has no question or wish."""

VALUE = r"^\w+ (är|var|blir|ligger på) (ca |cirka )?\d|^(utfall|prognos)\w* (är |blev |på )?\d"
"""A part that gives a value ("utfallet är 1,2 miljoner"): no question."""

YES_NO_USE = r"^(är|har)\b.*\b(använ\w*|förbruka\w*|slut)\b"
"""'är pengarna för X använda?': how a measure goes, not a money figure."""

JOINS = r"\b(?:och|till|från|samt|resp|respektive)\b"
"""Words between measures named one by one ("från yrkeslärarsatsningen till valdemarsro")."""

LIST_WORDS = r"\binsats(er|erna)\b"
"""The plural that makes a filter a list ("klara insatser hos funktionsstöd")."""

GLOSSARY_WHOLE = r"(?:vad är|vad e|va är|what is) (?:en |ett |a |an )?(\w+(?: \w+)?)"
"""'vad är prognos?': a glossary question when the word is a term (not 'vad är kvar')."""
GLOSSARY_PART = r"\b(?:vad är|vad e|va är|what is) (?:en |ett |a |an )?(\w+)(?= och\b)"
"""'vad är en nämnd och vad är en insats': the same, before a second one."""

OPENERS = frozenset("för hos i inom på till om med av status saldo kvar heter".split())
"""Words after which a name is expected ("saldo för X", "status X")."""

NOT_CITY = frozenset({"alla"})
"""Whole-fund words that alone do not mean the city ("alla insatser" is a list)."""

COMPARES = r"\b(och|vs|eller|mellan|skillnad\w*|and|or|between)\b"
"""A glossary question comparing terms: every term named is asked about."""

BARE_ID = r"(?:\bpå|\bför|\bav|\buppföljning(?:en)?|\bansvarig för)\s+(\d{1,4})(?=\s*(?:[?!.,;:]|$))"
"""A measure's id after "på", "för", "av" at the end of a phrase ("status på 39", "andel av 42,"),
not a number of something ("slutar på 3 månader", "pengar för 2 kurser")."""

NOT_OWN_AFTER = frozenset({"i", "till", "under", "inför"})
""""vår" after these is the spring ("klara i vår"), not "our"."""

END_BY = r"\b(?P<by>senast (?:i |till )?|före |innan |till |till och med |tom )(?:den )?(?P<day>\d{1,2} )?"
"""Before a month: the list's measures end by it ("senast i juni", "före 1 oktober")."""
END_IN = r"\b(?:i|under) "
"""Before a month: the list's measures end in it ("slutar i september")."""


# --- issue 20: KSAU's decision from a card (dialogs.proposal_cards, via dialogs.round_turns) ----

PROPOSALS_SEND_WANTS = (
    "skicka omfördelningsförslagen",
    "skicka omfördelningsförslag",
    "skicka förslagen till ksau",
    "skicka förslagen om omfördelning",
)
"""Stadskontoret sending the latest round's proposals to KSAU: a message containing one of these."""
PROPOSALS_WANTS = (
    "vilka förslag finns",
    "vilka förslag har vi",
    "förslag på omfördelning",
    "förslag till omfördelning",
    "omfördelningsförslag",
)
"""KSAU (or stadskontoret) asking for the proposals' card: a message containing one of these."""

# --- files in the chat (issue 20) ---------------------------------------------------------------

EXPORT_FILE_PATTERNS = (
    r"^(?!.*\bny(tt)? ?insats).*(?:\bexcel\w*|\bxlsx\b|\bkalkylblad|\bkalkylark|\bexport\w*"
    r"|\bladda (ner|ned)\b"
    r"|\b(som|i|en|ett) (excel)?fil(en)?\b|\bfil(en)? (med|över)\b|\bskicka (\w+ ){0,2}fil(en)?\b)",
)
"""Asking for a file: "exportera insatserna 2025 till excel", "skicka uppföljningen som fil",
"kan jag få en excel", "export". Tried before every other kind: a file of the follow-up is not
a follow-up to give, nor a list of measures; but "ny insats: kurs i excel" is a new measure."""

EXPORT_ROUND_WORDS = r"\buppfölj\w*|\bomgång\w*|\brund(a|an|en)\b|\w+rundan?\b|\bsvar(en)?\b"
"""A file request that asks for the round's follow-up (`followup export`), not the year's measures."""

QUESTIONS = (Phrases(Intent.EXPORT_FILE, patterns=EXPORT_FILE_PATTERNS), *QUESTIONS)
# --- issue 20: the round from chat (dialogs.round_dialog) ---------------------------------------

ROUND_QUESTION_WORDS = r"\b(när|nar|hur|vem|vilka|vilken|vilket|varför|vad|va)\b"
"""A ROUND message with one of these asks about the round; without, a verb below asks to act."""
ROUND_REMIND = r"\bpåmin\w*|\bpaminn\w*"
"""An extra reminder now ("påminn de som inte svarat", "skicka en påminnelse")."""
ROUND_CLOSE = r"\b(stäng|stänga|stänger|stang|stanga)\b"
"""Close the round ("stäng rundan", "stäng junirundan")."""
ROUND_OPEN = r"\b(öppna|öppnar|starta|startar|oppna|dra igång|sätt igång|sätta igång|kör igång)\b"
"""Open a round ("öppna junirundan", "starta uppföljningen för juni")."""


# --- issue 21: competence needs (dialogs.grammar.needs_ask, dialogs.needs_answers) ----------------

NEEDS_ASK_WORDS: tuple[tuple[NeedsAsk, str], ...] = (
    (
        NeedsAsk.RETIRING,
        r"\bsvår(?:t|a)? (?:att )?rekryter|\bsvårrekryter|\bbristyrk|\byrken? (?:med|som har) brist\b"
        r"|\bpension",
    ),
    (
        NeedsAsk.MONEY,
        r"\bsatsa[rst]?\b|\bsatsas\b|\bsatsade\b|\bper (?:yrke|yrkesgrupp|roll)|\bhur (?:mycket|mkt|mycke)\b"
        r"|\bpengar|\bkronor\b|\bkostar\b|\blägger (?:vi|ni|man)\b|\bläggs\b",
    ),
    (
        NeedsAsk.UNCOVERED,
        r"\bsaknar\b|\bsaknas\b|\butan\b|\bo ?täck"
        r"|\b(?:inte|ej) (?:\w+ ){0,2}(?:täck|mött|möts|bemött|besvara)"
        r"|\bingen (?:\w+ )?insats|\binga (?:\w+ )?insatser|\bobesvarade\b",
    ),
)
"""What a NEEDS question asks, in the order tried ("svårrekryterade yrken med pensionsavgångar
som saknar insatser" asks for the hard-to-recruit roles); none of them: the needs of a role or
a unit (NeedsAsk.LIST)."""

NEEDS_WORDS = frozenset(
    """
    behov behovet behoven behovs kompetensbehov kompetensbehovet kompetensbehoven saknar saknas utan
    täckta täckt täcks täckas otäckta otäckt obesvarade mött mötta möts bemött besvarade svarar gäller
    åtgärd åtgärder åtgärdade åtgärdat satsar
    satsas satsat satsa satsade satsning satsningar satsningen lägger läggs lagt yrkesgrupp yrkesgruppen
    yrkesgrupper yrkesgrupperna yrke yrken yrket yrkena roll rollen roller rollerna svårrekryterade
    svårrekryterad svårrekryterat svårt svåra rekrytera rekryteras bristyrken bristyrke brist
    pensionsavgångar pensionsavgång pensionsavgångarna pension pensioneras pensionen per ingen inga
    registrerade registrerat någon några finns vilka vilket vilken
    pengar pengarna går gå gick får fått kronor kostar varje respektive olika stan staden
    """.split()
)
"""Words of a NEEDS question that name no role: what is left of the message names one
("behov socialsekreterare", "hur mycket satsar vi på förskollärarna", "hur mycket pengar går
till varje yrkesgrupp")."""

OCCUPATIONS = (
    "förskollärare barnskötare lärare yrkeslärare speciallärare modersmålslärare lärarassistent "
    "elevassistent specialpedagog fritidspedagog fritidsledare studiehandledare rektor förskolechef "
    "skolledare skolsköterska kurator psykolog socialsekreterare socionom biståndshandläggare "
    "handläggare bygglovshandläggare handledare sjuksköterska undersköterska vårdare vårdbiträde "
    "omvårdnadspersonal boendestödjare stödpedagog arbetsterapeut fysioterapeut sjukgymnast dietist "
    "enhetschef avdelningschef chef behandlare bibliotekarie ingenjör tekniker kock lokalvårdare "
    "vaktmästare tolk ekonom jurist miljöinspektör arkitekt planarkitekt brandman"
).split() + ["personlig assistent"]
"""Issue 21: common occupations (yrkesgrupper) of a city's staff, in the singular. A money question
whose subject is one of them ("hur mycket pengar går till förskollärare?") asks for the money per
role of the competence needs, not for a committee's money (dialogs.understanding.occupations: the
plural and definite forms are made by `occupation_forms`)."""

ROLE_ABBREVIATIONS: dict[str, str] = {
    "socialsekr": "socialsekreterare",
    "soc sekr": "socialsekreterare",
    "socsekr": "socialsekreterare",
    "ssk": "sjuksköterska",
    "usk": "undersköterska",
}
"""Abbreviations of occupations as people type them (after dialogs.understanding.clean: "soc.sekr"
is "soc sekr")."""

ROLE_GROUP_WORDS = frozenset(
    """yrkesgrupp yrkesgruppen yrkesgrupper yrkesgrupperna yrkesgruppernas yrke yrket yrken yrkena
    yrkeskategori yrkeskategorier yrkeskategorierna roll rollen roller rollerna""".split()
)
"""Words that name roles as such: "hur mycket pengar går till varje yrkesgrupp" asks for the money
per role."""

NEED_ID = r"(?<![\w.\-/])([A-Za-zÅÄÖåäö]{1,8}-\d{1,3}|[A-Za-zÅÄÖåäö]{1,3}\d{1,3})(?![\w\-/])"
"""A need's id as typed (searched in the message before it is cleaned): letters, a dash and a
number ("FSKN-3"), or a few letters and a number ("B9", "S1"); never a case number
("FSKF-2024-4275") or a date."""
NEED_ID_ASKS = r"\b(?:svarar|svara|svarat) (?:\w+ )?mot\b|\bkopplad(?:e|es)? (?:\w+ )?till\b|\bbesvarar\b"
"""Words that ask about a need named by id ("vilka insatser svarar mot FSKN-1?")."""
NEED_ID_ALONE = frozenset("visa behov behovet kompetensbehov kompetensbehovet med id nummer om".split())
"""Words that may stand beside a need's id in a message that asks only for the need ("visa behovet
med id FSKN-2"): with a dashed id ("FSKN-3"), such a message asks for that need."""

NEED_ANSWER_FILLERS = frozenset(
    """behov behovet kompetensbehov kompetensbehovet det den ska vara är istället stället vänta nej
    jag menade menar till för mot med id nummer ändra byt hellre då ju""".split()
)
"""Words around the need an answer to "Vilket behov svarar insatsen mot?" names ("rektor istället",
"det ska vara behovet FSKN-4"): left out before it is matched (dialogs.understanding.match_needs)."""

NOT_ONES_OWN_ROLE = frozenset("är som jobbar arbetar".split())
"""Words before an occupation that make it the person's own, not the subject: "jag är chef för GVN,
hur mycket har vi kvar" asks for GVN's money."""


def occupation_forms(occupation: str) -> tuple[str, ...]:
    """An occupation's singular, plural and definite forms, and their genitives ("lärare",
    "läraren", "lärarna", "lärarnas"; "sjuksköterska", "sjuksköterskor", "sjuksköterskorna";
    "rektor", "rektorer", "rektorerna"; "brandman", "brandmän"); of two words, the last word's
    forms after the first's ("personlig assistent", "personliga assistenterna")."""
    *first, last = occupation.split()
    if first:
        lead = " ".join(first)
        heads = (lead, lead + "a")
        return tuple(f"{h} {form}" for h in heads for form in occupation_forms(last))
    word = last
    if word.endswith("man"):
        forms = [word, word + "nen", word[:-3] + "män", word[:-3] + "männen"]
    elif word.endswith("are"):
        forms = [word, word + "n", word[:-1] + "na"]
    elif word.endswith("ie"):
        forms = [word, word + "n", word + "r", word + "rna"]
    elif word.endswith("e"):
        forms = [word, word + "n", word + "t", word + "na"]
    elif word.endswith("a"):
        forms = [word, word + "n", word[:-1] + "or", word[:-1] + "orna"]
    elif word.endswith("or"):
        forms = [word, word + "n", word + "er", word + "erna"]
    elif word.endswith("al"):
        forms = [word, word + "en"]  # "omvårdnadspersonal": a group, no plural
    else:
        forms = [word, word + "en", word + "er", word + "erna"]
    return tuple(dict.fromkeys([*forms, *(f + "s" for f in forms if not f.endswith("s"))]))
