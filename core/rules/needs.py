"""Rules: a need assessment is whole and consistent, and a link names a need
and a measure that exist, keeps one measure's shares within 100 % and says
why a surplus need is answered with this fund's money (issue 21)."""

from __future__ import annotations

import re

from core.errors import RuleError, echo
from core.ledger import Ledger
from core.needs import WHOLE, NeedEntry, NeedKind, NeedLinkEndedEntry, NeedLinkEntry, Needs, need_key
from core.text import clean_name

MAX_KEY = 20
"""The longest need key ("B1")."""

_SSYK_RE = re.compile(r"^\d{4}$")


def _percent(basis_points: int) -> str:
    """2 500 → "25 %", 3 333 → "33,33 %"."""
    whole, part = divmod(basis_points, 100)
    return f"{whole} %" if part == 0 else f"{whole},{part:02d} %"


def check_need(ledger: Ledger, need: NeedEntry) -> list[RuleError]:
    """A need assessment names its key, a known unit, a role and the competence;
    its numbers are not negative and its retirements do not exceed its people;
    its SSYK code is four digits; its period runs forwards."""
    errors: list[RuleError] = []
    key = clean_name(need.key)
    if not key:
        errors.append(RuleError("need_key_missing", 'Behovet måste ha ett id, till exempel "B1".', "id"))
    elif len(key) > MAX_KEY:
        errors.append(
            RuleError(
                "need_key_too_long",
                f'Behovets id "{echo(key)}" är för långt: {len(key)} tecken, högst {MAX_KEY}. '
                'Välj ett kort id, till exempel "B1".',
                "id",
            )
        )
    if need.unit not in ledger.units:
        known = ", ".join(sorted(ledger.units))
        errors.append(
            RuleError("unknown_unit", f'Okänd nämnd "{echo(need.unit)}". Kända nämnder: {known}.', "nämnd")
        )
    if not clean_name(need.role):
        errors.append(
            RuleError(
                "need_role_missing",
                'Behovet måste ange en yrkesgrupp, till exempel "förskollärare".',
                "yrkesgrupp",
            )
        )
    if not clean_name(need.competence):
        errors.append(
            RuleError(
                "need_competence_missing", "Behovet måste säga vilken kompetens som behövs.", "kompetens"
            )
        )
    for value, name in ((need.people, "antal"), (need.retirements, "pensionsavgångar")):
        if value is not None and value < 0:
            errors.append(
                RuleError(
                    "need_negative",
                    f"{name.capitalize()} kan inte vara negativt ({value}). Skriv 0 eller fler, "
                    "eller lämna fältet tomt om det inte är känt.",
                    name,
                )
            )
    if (
        need.people is not None
        and need.retirements is not None
        and need.people >= 0
        and need.retirements > need.people
    ):
        errors.append(
            RuleError(
                "retirements_exceed_people",
                f"Pensionsavgångarna ({need.retirements}) är fler än antalet personer i behovet "
                f"({need.people}). Pensionsavgångarna kan vara högst {need.people}.",
                "pensionsavgångar",
            )
        )
    if need.ssyk is not None and not _SSYK_RE.match(need.ssyk):
        errors.append(
            RuleError(
                "bad_ssyk",
                f'SSYK-koden "{echo(need.ssyk)}" ska vara fyra siffror, till exempel "2343" '
                "(förskollärare), eller lämnas tom.",
                "ssyk",
            )
        )
    if need.period.last < need.period.first:
        errors.append(
            RuleError(
                "period_backwards",
                f"Perioden slutar ({need.period.last}) före den börjar ({need.period.first}). "
                'Skriv perioden som "2024–2026" eller ett år.',
                "period",
            )
        )
    return errors


def check_link(needs: Needs, ledger: Ledger, link: NeedLinkEntry) -> list[RuleError]:
    """A link names a need and a measure that exist; its people are not negative;
    its share is 0,01–100 %; the shares of one measure's active links (this one
    replacing an active link of the same need and measure) stay within 100 %;
    and a surplus need (Övertalighet) linked to a measure with this fund's money
    says why in a note, since the KS decision excludes what KOM-KR can fund."""
    errors: list[RuleError] = []
    need = needs.get(link.need)
    if need is None:
        known = ", ".join(n.key for n in needs.current.values()) or "inga"
        errors.append(
            RuleError(
                "unknown_need", f'Behovet "{echo(link.need)}" finns inte. Kända behov: {known}.', "behov"
            )
        )
    measure = ledger.measures.get(link.measure_id)
    if measure is None:
        errors.append(
            RuleError(
                "unknown_measure",
                f"Insatsen {link.measure_id} finns inte. Ange id för en insats som finns.",
                "insats",
            )
        )
    if link.people is not None and link.people < 0:
        errors.append(
            RuleError(
                "need_negative",
                f"Antalet personer som insatsen når kan inte vara negativt ({link.people}). "
                "Skriv 0 eller fler, eller lämna fältet tomt.",
                "antal",
            )
        )
    if link.share is not None and not 1 <= link.share <= WHOLE:
        errors.append(
            RuleError(
                "bad_share",
                f"Andelen {_percent(link.share)} går inte: en andel av insatsens pengar är "
                "mellan 0,01 % och 100 %, eller lämnas tom så delas resten lika.",
                "andel",
            )
        )
    elif link.share is not None:
        others = [
            other
            for other in needs.links_of_measure(link.measure_id)
            if other.share is not None and need_key(other.need) != need_key(link.need)
        ]
        taken = sum(other.share or 0 for other in others)
        if taken + link.share > WHOLE:
            title = f'"{echo(measure.title)}"' if measure else str(link.measure_id)
            errors.append(
                RuleError(
                    "shares_exceed_whole",
                    f"Andelarna av insatsen {title} blir {_percent(taken + link.share)}: andra behov "
                    f"har redan {_percent(taken)}, så högst {_percent(WHOLE - taken)} återstår. "
                    "Andelarna av en insats kan vara högst 100 %.",
                    "andel",
                )
            )
    if (
        need is not None
        and measure is not None
        and need.kind == NeedKind.SURPLUS
        and not clean_name(link.note)
        and any(ledger.measure_allocated(measure.id, year) > 0 for year in ledger.years)
    ):
        errors.append(
            RuleError(
                "surplus_needs_note",
                f'Behovet "{echo(need.key)}" gäller övertalighet och insatsen "{echo(measure.title)}" '
                "har pengar ur kompetensutvecklingsanslaget. KS beslut undantar det som kan "
                "finansieras av KOM-KR (omställningsfonden): skriv en kommentar som förklarar "
                "varför insatsen ändå ska kopplas till behovet.",
                "kommentar",
            )
        )
    return errors


def check_link_end(needs: Needs, end: NeedLinkEndedEntry) -> list[RuleError]:
    """Only an active link can be ended."""
    if needs.link(end.need, end.measure_id) is not None:
        return []
    return [
        RuleError(
            "link_not_active",
            f'Behovet "{echo(end.need)}" är inte kopplat till insatsen {end.measure_id}, så '
            "det finns ingen koppling att avsluta.",
            "behov",
        )
    ]
