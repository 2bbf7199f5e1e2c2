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

from dataclasses import dataclass
from enum import StrEnum

from core.text import name_key


def key(text: str) -> str:
    """A typed word as the vocabulary compares it: clean, case-folded, no end " .!"."""
    return name_key(text).strip(" .!")


# --- yes / no ----------------------------------------------------------------------

YES = frozenset(
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
"""What means yes (the chat's set, with "jepp", "jo", "ja tack" and "visst")."""

NO = frozenset({"nej", "n", "nä", "nää", "nej tack", "nix", "inte", "no", "nope"})
"""What means no (the chat's set, with "nej tack" and "nix")."""

CARD_TRUE = frozenset({"true", "1"})
CARD_FALSE = frozenset({"false", "0"})
"""A card's toggle as a client sends it ("true"/"false"), and a spreadsheet's 1/0:
accepted where a value comes from a card or a file, not from a typed chat answer."""


def yes_no(text: str) -> bool | None:
    """True for a yes word, False for a no word, None for anything else."""
    word = key(text)
    if word in YES:
        return True
    if word in NO:
        return False
    return None


def card_yes_no(value: object) -> bool | None:
    """A yes/no field from a card or a file: a boolean, "true"/"false"/"1"/"0",
    or any yes or no word; None when it is none of them."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    word = key(value)
    if word in CARD_TRUE:
        return True
    if word in CARD_FALSE:
        return False
    return yes_no(value)


NONE = frozenset({"ingen", "inget", "inga", "ingen av dem", "ingen av dessa", "ingen av de", "nej"})
"""'None of them', as an answer to a choice that allows it."""

SKIP = "-"
"""Typed for an optional free text (a description, a note): nothing."""

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
    word = name_key(text).replace("_", " ").replace("-", " ")
    return STATUS_WORDS.get(word)


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
GREETINGS = frozenset("hej hejsan hallå tjena tja hello hi hey god morgon dag kväll eftermiddag".split())
THANKS = frozenset("tack tackar tusen stort så mycket snällt för hjälpen det bra toppen".split())


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
    OVERDUE = "overdue"
    NOT_STARTED = "not_started"
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
      only: asked by a message made only of these words, when no pattern matched and
        it names no unit, measure or year ("hej hej").
      lead: with `only`: at least one word starts with one of these ("tack så mycket").
      interrupts: a `whole` message stops the dialog under way (help, cancel).
    """

    kind: Intent
    whole: frozenset[str] = frozenset()
    patterns: tuple[str, ...] = ()
    only: frozenset[str] = frozenset()
    lead: tuple[str, ...] = ()
    interrupts: bool = False

    def has_words(self) -> bool:
        return bool(self.whole or self.patterns or self.only)


QUESTIONS: tuple[Phrases, ...] = (
    Phrases(Intent.HELP, whole=HELP, patterns=(r"^hjälp\S*( \S+){0,2}$",), interrupts=True),
    Phrases(Intent.CANCEL, whole=CANCEL, interrupts=True),
    Phrases(
        Intent.ROUND,
        patterns=(
            r"\b(vem|vilka|hur många)\b.*\bsvarat|sista dag|junirund|uppföljningsomgång|\bpåminn"
            r"|\b(öppna|starta|stäng) (jun|uppföljning|rund)",
        ),
    ),
    Phrases(Intent.GLOSSARY, patterns=(r"\bvad betyder\b|\bvad menas med\b|\bskillnaden mellan\b",)),
    Phrases(Intent.UNITS, patterns=(r"\b(lista|visa|vilka) (alla )?nämnder(na)?\b",)),
    Phrases(Intent.REALLOCATE, patterns=(r"\b(flytta|flyttar|flytt|omfördela|omfördelning|omfördelar)\w*",)),
    Phrases(
        Intent.FOLLOW_UP,
        patterns=(r"uppföljning|följa upp|följ upp|följer upp|rapportera|återrapport|lämna utfall",),
    ),
    Phrases(
        Intent.SUBMIT_MEASURE,
        patterns=(
            r"\bny(a|tt)? insats|\blämna in\b|\bskicka in\b|\blägg(a)? (till|in) (en )?(ny )?insats"
            r"|\bregistrera (en )?(ny )?insats|\bskapa (en )?(ny )?insats|\bansök|\bsöka (pengar|medel)",
        ),
    ),
    Phrases(
        Intent.OVERDUE,
        patterns=(
            r"försen|förfall|efter slutdatum|slutdatum\w* (har )?passerat|passerat slutdatum"
            r"|\bsena\b|\bligger efter\b|inte klara i tid",
        ),
    ),
    Phrases(
        Intent.NOT_STARTED,
        patterns=(
            r"\b(inte|ej)( \w+)?( \w+)? (påbörja|starta|börja|kommit igång|satt igång)\w*"
            r"|\bej påbörjad|\bopåbörjad|\binte igång\b",
        ),
    ),
    Phrases(
        Intent.STATUS,
        patterns=(
            r"\bstatus|\bhur går det|\bhur gick det|\bläget\b|\bläge\b|\bhur ligger|\bgår det med"
            r"|\bhur fortskrider|\bhur ser det ut|\b(mina|våra|visa|lista|vilka|alla) insatser\b",
        ),
    ),
    Phrases(
        Intent.REMAINING,
        patterns=(
            r"\bkvar\b|\bsaldo|\bhur mycket|\bpengar|\bmedel\b|\bmedlen\b|\bbudget|\båterstå"
            r"|\bkvarvarande|\btillgängligt|\bprognos|\butfall|\bfördelat|\brå[dt]",
        ),
    ),
    Phrases(Intent.GREETING, only=GREETINGS),
    Phrases(Intent.THANKS, only=THANKS, lead=("tack",)),
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
    """.split()
)
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
}
"""A word a GLOSSARY question asks about → its base term (Understanding.terms): each base
term has one short explanation in dialogs.texts."""


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

SHOULD_BE = (r"\bdet ska vara\b", r"\bska vara\b", r"\bska det vara\b", r"\bmenade\b", r"\btill\b")
"""What introduces a field's new value in a change ("ändra beloppet till 200 tkr")."""

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
        Intent.OVERDUE,
        Intent.NOT_STARTED,
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
NEVER_IN_A_FORM = frozenset({Intent.HELP, Intent.CANCEL, Intent.GREETING, Intent.THANKS, Intent.UNKNOWN})
"""Kinds never taken for a question in a free-text field (help and cancel interrupt on their own)."""
