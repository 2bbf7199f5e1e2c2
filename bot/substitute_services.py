"""Substitutes during absence (issue 22): set, list and end a substitution. The command
line (`kompetensbot substitute set | list | end`) and the chat ("Jag är ledig 16 juni–11 juli,
Per Persson ersätter mig") call these, so both answer and refuse alike.

Who may set one: a person for themselves (any role), HR for people holding roles in its
units, stadskontoret for anyone (core.rules.substitutes.check_may_set); the rules of the
substitution itself are core.rules.substitutes.check_substitution. A substitute gains no
rights of their own: what they may do while standing in is core.permissions' (Principal.stand_in).

People are named by Entra object id, by UPN or e-mail, or by a name matched among the people
the bot knows (storage.people.known: the directory and the names Teams showed): case, å/ä/ö
and small typos do not matter, a first name alone is enough when one person has it. When a
name is not known and Microsoft Graph is configured (`search`), Graph's user search is asked
and the people found are remembered. An ambiguous name is refused listing the candidates with
their UPN; an unknown one naming what may be written.

Telling the absent person, when someone else set or ended their substitute, is the caller's
(bot.substitute_notices): the results say whom to tell and what.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlmodel import col

from bot.services import Services
from core.calendar import swedish_date
from core.dates import format_date
from core.errors import Ambiguous, NotFound, RuleError, RuleViolation, echo, input_error
from core.ledger import Ledger
from core.lookup import resolve_unit
from core.model import Principal, Role, RoleGrant
from core.permissions import Action, can
from core.rules.substitutes import check_may_set, check_not_past, check_substitution, check_units_held
from core.substitutes import STAND_IN_ROLES, Substitution, SubstitutionEnded, effective, last_day
from core.text import without_marks
from dialogs.texts import absence_days
from storage import people
from storage.people import Person
from storage.repository import Repository
from storage.rounds import personal_reference
from storage.tables import SubstitutionRow

PeopleSearch = Callable[[str], Sequence[Person]]
"""Microsoft Graph's user search (bot.substitute_notices.graph_search): the people whose name,
UPN or e-mail begins with the text; none when Graph could not be asked."""

OBJECT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
NAME_SURE = 88.0
"""A known name matching the typed one at least this well (rapidfuzz, marks folded) is the person."""
NAME_MARGIN = 6.0
"""Names within this many points of the best are too close to choose between: asked about."""
SHOWN_CANDIDATES = 6
PERSON_FORMS = (
    "Ange personen med namn (som boten känner till), e-postadress/UPN "
    "(till exempel fornamn.efternamn@kommun.se) eller Entra-objekt-id."
)


@dataclass(frozen=True, slots=True)
class SubstitutionView:
    """A substitution as listed: with the names of the absent person, the substitute and
    who made it; `current`: it applies on the day asked about (else it is coming)."""

    substitution: Substitution
    absent: Person
    substitute: Person
    by: Person
    current: bool


@dataclass(frozen=True, slots=True)
class SubstitutionSet:
    """A substitution set: `written` False when the same was set already (nothing written);
    `tell`: someone else set it, so the absent person is told."""

    substitution: Substitution
    absent: Person
    substitute: Person
    by: Person
    written: bool
    replaces: tuple[Replaced, ...] = ()
    committees: tuple[str, ...] = ()
    """The names of the committees whose measures the substitute follows up for the absent
    person (their chef and HR roles' units, within the substitution's units)."""
    kept_roles: tuple[str, ...] = ()
    """The absent person's roles a substitute never gets ("KSAU", "stadskontoret")."""

    @property
    def tell(self) -> bool:
        return self.written and self.substitution.by != self.substitution.absent

    @property
    def tell_substitute(self) -> bool:
        """The substitute is told, unless they set it themselves."""
        return self.written and self.substitution.by != self.substitution.substitute


@dataclass(frozen=True, slots=True)
class Replaced:
    """A substitute a new substitution takes the place of, for these days (of those units)."""

    substitute: Person
    first: date
    last: date
    units: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SubstitutionsEnded:
    """The substitutions of `absent` ended from `on` (each one's end as stored)."""

    absent: Person
    on: date
    ended: tuple[tuple[Substitution, SubstitutionEnded], ...]
    by: Person
    substitutes: tuple[Person, ...]

    @property
    def tell(self) -> bool:
        return bool(self.ended) and self.by.user_id != self.absent.user_id

    @property
    def told_substitutes(self) -> tuple[Person, ...]:
        """The substitutes told they no longer substitute (not the one who ended it)."""
        return tuple(p for p in self.substitutes if p.user_id != self.by.user_id) if self.ended else ()


def fold(text: str) -> str:
    return " ".join(without_marks(text.casefold()).replace("-", " ").split())


def match_names(typed: str, known: Sequence[Person]) -> tuple[list[Person], bool]:
    """The people a typed name means, best first, and whether surely: the whole name (case,
    å/ä/ö and small typos forgiven), or a first or last name alone that one person has; several
    when they fit equally, a name only fairly close is not sure (both are asked about); none
    when nobody fits."""
    wanted = fold(typed)
    named = [p for p in known if p.name]
    if not wanted or not named:
        return [], False
    exact = [p for p in named if fold(p.name) == wanted]
    if exact:
        return exact, True
    if " " not in wanted:  # a first name (or a last name) alone
        parts = [p for p in named if wanted in fold(p.name).split()]
        if parts:
            return parts, True
        if len(wanted) >= 4:  # a first name with a typo ("Anan"); "Pär" for "Per" is too short to tell
            firsts = [p for p in named if fuzz.ratio(wanted, fold(p.name).split()[0]) >= NAME_SURE - 10]
            if firsts:
                return firsts, False
    scored = sorted(
        (
            (max(fuzz.ratio(wanted, fold(p.name)), fuzz.token_sort_ratio(wanted, fold(p.name))), p)
            for p in named
        ),
        key=lambda pair: -pair[0],
    )
    best = scored[0][0]
    if best < NAME_SURE - 10:
        return [], False
    return [p for score, p in scored if score >= best - NAME_MARGIN], best >= NAME_SURE


def describe(person: Person) -> str:
    """A person as a candidate is listed: "Per Persson (per.persson@malmo.se)"; never by a raw
    id (a chat user cannot tell ids apart): the name alone when no address is known."""
    address = person.upn or person.mail
    if person.name and address:
        return f"{person.name} ({address})"
    return person.name or address or "okänd person"


def ambiguous(typed: str, found: Sequence[Person], field: str | None) -> Ambiguous:
    """Several people fit a name (or one only fairly well): asked which, with their UPN."""
    listed = "; ".join(describe(p) for p in found[:SHOWN_CANDIDATES])
    more = f" och {len(found) - SHOWN_CANDIDATES} till" if len(found) > SHOWN_CANDIDATES else ""
    if len(found) == 1:
        said = f'Menade du {listed} med "{echo(typed)}"? Skriv i så fall hela namnet eller e-postadressen.'
    else:
        said = (
            f'Flera personer passar "{echo(typed)}": {listed}{more}. Ange hela namnet eller e-postadressen.'
        )
    return Ambiguous(
        RuleError("person_ambiguous", said, field), typed, [(p.user_id, describe(p)) for p in found]
    )


@dataclass
class SubstituteServices(Services):
    """Substitutes of one city (`org`, or the only one). `search`: Microsoft Graph's user
    search, when Graph is configured (None: only the people the bot knows)."""

    search: PeopleSearch | None = None

    # --- people -------------------------------------------------------------

    def person(self, user: str | None, text: str, *, field: str | None = None) -> Person:
        """The person `text` names (see the module); InputError when no one or several fit."""
        return self._people(user, (text, field))[0]

    def _people(self, acting: str | None, *named: tuple[str, str | None]) -> list[Person]:
        """Each (text, field) as the person it names: first among the people the bot knows (one
        read), then through Graph's search (no connection held while Graph answers)."""
        with self._unit_of_work() as repo:
            found = [self._known_person(repo, text, field, acting) for text, field in named]
        return [
            p if p is not None else self._searched(text, field)
            for p, (text, field) in zip(found, named, strict=True)
        ]

    def _known_person(
        self, repo: Repository, text: str, field: str | None, acting: str | None
    ) -> Person | None:
        """The person the bot knows by `text`; None when nobody fits (Graph may know them)."""
        typed = " ".join(text.split())
        if not typed:
            raise input_error("person_missing", f"Personen saknas. {PERSON_FORMS}", field)
        conn = repo.session.connection()
        known = people.known(conn, repo.org_id)
        by_id = {p.user_id: p for p in known}
        if typed in by_id:
            return by_id[typed]
        if OBJECT_ID.fullmatch(typed):
            return by_id.get(typed.lower()) or Person(typed.lower())
        if typed == acting or typed in {g.user for g in repo.grants()}:
            return Person(typed)  # a user id with a role (or the one who asks), no name known
        if ADDRESS.fullmatch(typed):
            return people.by_address(conn, repo.org_id, typed)
        matched, sure = match_names(typed, known)
        if len(matched) > 1 or (matched and not sure):
            raise ambiguous(typed, matched, field)
        return matched[0] if matched else None

    def _searched(self, typed: str, field: str | None) -> Person:
        """Graph's user search for a person the bot does not know (when configured): the one
        found is remembered; several are asked about; none is refused."""
        typed = " ".join(typed.split())
        found = list(self.search(typed)) if self.search is not None else []
        if len(found) > 1:
            exact = [p for p in found if fold(p.name) == fold(typed) or typed.lower() in (p.upn, p.mail)]
            if len(exact) != 1:
                raise ambiguous(typed, found, field)
            found = exact
        if found:
            uow = self._unit_of_work()
            with uow as repo:
                people.remember(repo.session.connection(), repo.org_id, found, "graph")
                repo.session.commit()
            return found[0]
        what = "adressen" if ADDRESS.fullmatch(typed) else "namnet"
        where = " eller i Microsoft Graph" if self.search is not None else ""
        raise NotFound(
            RuleError(
                "person_unknown",
                f'Ingen person med {what} "{echo(typed)}" finns bland dem boten känner till{where}. '
                f"{PERSON_FORMS}",
                field,
            )
        )

    # --- set --------------------------------------------------------------

    def set_substitution(
        self,
        user: str | None,
        absent: str,
        substitute: str,
        first: date,
        last: date,
        units: Collection[str] = (),
        *,
        author: str | None = None,
        check_only: bool = False,
        today: date | None = None,
    ) -> SubstitutionSet:
        """Name `substitute` for `absent` from `first` to `last` (both included), for `units`
        (codes, names or short names; none: every unit). The same substitution set again writes
        nothing (`written` False). `author`: the name shown of who set it (default: theirs as
        the bot knows them, else their id). `check_only`: every check, nothing written (the
        chat's confirmation: what would be saved, or the refusal before asking). `today`: the
        day an absence may not end before (default: the bot's today, the command line's --as-of)."""
        away, stand_in = self._people(user, (absent, "person"), (substitute, "ersättare"))  # before the lock

        def run(repo: Repository, ledger: Ledger, who: Principal) -> SubstitutionSet:
            codes = frozenset(resolve_unit(ledger, u) for u in units)
            made = Substitution(
                away.user_id, stand_in.user_id, first, last, codes, by=who.user, at=self.clock()
            )
            errors = check_substitution(made, ledger.units)
            day = today or swedish_date(self.clock())
            if not errors:
                errors.extend(check_units_held(away.shown, codes, repo.grants(away.user_id), away.user_id))
                errors.extend(check_not_past(last, day))
            if errors:
                raise RuleViolation(errors)
            check_may_set(who, away.user_id, repo.grants(away.user_id), codes)
            by = self._known(repo, who)
            stored_ones = repo.substitutions()
            already = _already(stored_ones, made)
            if already is not None:
                return SubstitutionSet(already, away, stand_in, by, written=False)
            names = {p.user_id: p for p in people.known(repo.session.connection(), repo.org_id)}
            absent_grants = repo.grants(away.user_id)
            result = SubstitutionSet(
                made,
                away,
                stand_in,
                by,
                False,
                _replaced(stored_ones, made, day, names),
                _committees(ledger, absent_grants, away.user_id, codes),
                _kept_roles(absent_grants, away.user_id),
            )
            if check_only:
                return result
            return replace(result, substitution=repo.add_substitution(made, author or by.shown), written=True)

        return self._read(user, run) if check_only else self._write(user, run)

    # --- list ---------------------------------------------------------------

    def list_substitutions(self, user: str | None, as_of: date | None = None) -> list[SubstitutionView]:
        """The substitutions that apply on `as_of` (default: today) or later, that `user` may
        see: their own (as absent person or substitute), HR those of people holding roles in
        its units, stadskontoret all; current first, then by first day."""
        on = as_of or swedish_date(self.clock())

        def run(repo: Repository, ledger: Ledger, who: Principal) -> list[SubstitutionView]:
            names = {p.user_id: p for p in people.known(repo.session.connection(), repo.org_id)}
            authors = _authors(repo)
            grants = repo.grants()
            stored = repo.substitutions()
            shown: list[SubstitutionView] = []
            for absent in dict.fromkeys(s.absent for s in stored):
                for s in effective(stored, absent, on):  # each day's substitute once (issue 22 item 11)
                    if not _may_see(who, s, grants):
                        continue
                    shown.append(
                        SubstitutionView(
                            s,
                            names.get(s.absent) or Person(s.absent),
                            names.get(s.substitute) or Person(s.substitute),
                            names.get(s.by) or Person(s.by, authors.get(s.seq, "")),
                            s.first <= on,
                        )
                    )
            return sorted(shown, key=lambda v: (not v.current, v.substitution.first, v.substitution.seq))

        return self._read(user, run)

    # --- end ----------------------------------------------------------------

    def end_substitutions(
        self,
        user: str | None,
        absent: str,
        on: date | None = None,
        *,
        author: str | None = None,
        check_only: bool = False,
        current_only: bool = False,
        days: tuple[date, date] | None = None,
    ) -> SubstitutionsEnded:
        """End `absent`'s substitutions from `on` (default: today): every one that would still
        apply on or after that day; `current_only`: only the absence going on that day ("jag är
        tillbaka": a coming one is never ended with it); `days`: only those of that absence
        ("avsluta min frånvaro 14/7–1/8"), each ended from its first day named or later (a
        coming one is then taken away whole). NotFound when there is none, naming the coming
        ones and how to end one. `check_only`: what would be ended (each with an end not
        stored), nothing written."""
        day = on or swedish_date(self.clock())
        (away,) = self._people(user, (absent, "person"))

        def run(repo: Repository, ledger: Ledger, who: Principal) -> SubstitutionsEnded:
            names = {p.user_id: p for p in people.known(repo.session.connection(), repo.org_id)}
            mine = [s for s in repo.substitutions() if s.absent == away.user_id and last_day(s) >= s.first]
            open_ = [s for s in mine if last_day(s) >= day]
            if current_only:
                open_ = [s for s in open_ if s.first <= day]
            if days is not None:
                open_ = [s for s in open_ if s.first <= days[1] and last_day(s) >= days[0]]
            if not open_:
                raise NotFound(
                    _none_to_end(away, who, day, days, [s for s in mine if last_day(s) >= day], names)
                )
            grants = repo.grants(away.user_id)
            for s in open_:
                check_may_set(who, away.user_id, grants, s.units)
            by = self._known(repo, who)
            start = max(day, days[0]) if days is not None else day
            ends = [
                (s, SubstitutionEnded(s.seq, max(start, s.first), by=who.user, at=self.clock()))
                for s in open_
            ]
            ended = tuple(
                (s, e if check_only else repo.end_substitution(e, author or by.shown)) for s, e in ends
            )
            subs = tuple(dict.fromkeys(names.get(s.substitute) or Person(s.substitute) for s in open_))
            return SubstitutionsEnded(away, min(e.on for _, e in ends), ended, by, subs)

        return self._read(user, run) if check_only else self._write(user, run)

    def person_named(self, user: str | None, text: str) -> Person:
        """The person `text` names (see the module), as the chat names them back."""
        return self.person(user, text, field="person")

    def reference_of(self, user_id: str) -> dict[str, Any] | None:
        """The person's newest 1:1 chat with the bot (where they are told), or None."""
        with self._unit_of_work() as repo:
            return personal_reference(repo.session.connection(), repo.org_id, user_id)

    # --- plumbing -------------------------------------------------------------

    def _known(self, repo: Repository, who: Principal) -> Person:
        """Who acts, as the bot knows them (the administrator by their author name)."""
        if who.is_admin:
            return Person(who.user, who.author)
        found = {p.user_id: p for p in people.known(repo.session.connection(), repo.org_id)}
        return found.get(who.user) or Person(who.user, who.name)


def _authors(repo: Repository) -> dict[int, str]:
    """The name shown of who made each stored substitution (by seq): the administrator at a
    terminal is "administratör", not their "cli:" id."""
    rows = repo.session.execute(
        select(col(SubstitutionRow.seq), col(SubstitutionRow.author)).where(
            col(SubstitutionRow.org_id) == repo.org_id
        )
    ).all()
    return {int(seq): str(author) for seq, author in rows}


def _none_to_end(
    away: Person,
    who: Principal,
    day: date,
    days: tuple[date, date] | None,
    coming: Sequence[Substitution],
    names: dict[str, Person],
) -> RuleError:
    """Nothing to end: said, with the absences still to come and how to end one of them."""
    mine = who.user == away.user_id
    whose = "Du har" if mine else f"{away.shown} har"
    if days is not None:
        said = f"{whose} ingen frånvaro {absence_days(*days)}."
    elif coming:
        said = f"{whose} ingen frånvaro som pågår i dag ({format_date(day)})."
    else:
        said = (
            f"{whose} ingen frånvaro som pågår eller kommer från {format_date(day)}, "
            "så det finns inget att avsluta."
        )
    if coming:
        listed = "; ".join(
            f"{absence_days(s.first, last_day(s))} ({_shown(names, s.substitute)} ersätter)"
            for s in sorted(coming, key=lambda s: s.first)
        )
        example = coming[0]
        how = (
            f"avsluta min frånvaro {_short(example.first)}–{_short(last_day(example))}"
            if mine
            else (f"avsluta {away.shown}s frånvaro {_short(example.first)}–{_short(last_day(example))}")
        )
        said += f' Kommande: {listed}. Vill du ta bort en kommande frånvaro, skriv till exempel "{how}".'
    return RuleError("no_substitution", said, "person")


def _shown(names: dict[str, Person], user_id: str) -> str:
    return (names.get(user_id) or Person(user_id)).shown


def _short(day: date) -> str:
    return f"{day.day}/{day.month}"


def _replaced(
    stored: Sequence[Substitution], made: Substitution, today: date, names: dict[str, Person]
) -> tuple[Replaced, ...]:
    """The substitutes `made` takes the place of for some of its days: each day's substitute of
    the same person (core.substitutes.effective) that is another, or the same for other units."""
    out: list[Replaced] = []
    for s in effective(stored, made.absent, max(today, made.first)):
        if s.first > made.last or s.last < made.first:
            continue
        if s.substitute == made.substitute and (not made.units or s.units == made.units):
            continue
        if made.units and s.units and not s.units & made.units:
            continue
        units = made.units & s.units if made.units and s.units else made.units or s.units
        out.append(
            Replaced(
                names.get(s.substitute) or Person(s.substitute),
                max(s.first, made.first),
                min(s.last, made.last),
                frozenset(units),
            )
        )
    return tuple(out)


def _committees(
    ledger: Ledger, grants: Sequence[RoleGrant], absent: str, units: frozenset[str]
) -> tuple[str, ...]:
    """The names of the committees a substitute follows up for `absent`: their chef and HR
    roles' units (core.substitutes.STAND_IN_ROLES), within `units` when it is limited."""
    codes = sorted(
        {
            g.unit
            for g in grants
            if g.user == absent
            and g.role in STAND_IN_ROLES
            and g.unit is not None
            and (not units or g.unit in units)
        }
    )
    return tuple(ledger.units[c].name if c in ledger.units else c for c in codes)


def _kept_roles(grants: Sequence[RoleGrant], absent: str) -> tuple[str, ...]:
    """The absent person's roles that never pass to a substitute (KSAU, stadskontoret)."""
    held = {g.role for g in grants if g.user == absent}
    return tuple(
        label for role, label in ((Role.KSAU, "KSAU"), (Role.CITY_OFFICE, "stadskontoret")) if role in held
    )


def _already(stored: Sequence[Substitution], made: Substitution) -> Substitution | None:
    """`made` as already in effect (core.substitutes.effective), when its substitute already
    answers for every one of its days and units, so nothing would change; else None (a
    substitute replaced by a later record is set anew, a new record that makes them effective)."""
    for s in effective(stored, made.absent, made.first):
        if (
            s.substitute == made.substitute
            and s.first <= made.first
            and s.last >= made.last
            and (not s.units or (made.units and made.units <= s.units))
        ):
            return replace(made, seq=s.seq, by=s.by, at=s.at)
    return None


def _may_see(who: Principal, s: Substitution, grants: Sequence[RoleGrant]) -> bool:
    """A substitution is seen by the two people in it, HR of a unit the absent person holds a
    role in, and everyone who may set anyone's (stadskontoret, the administrator)."""
    if who.is_admin or who.user in (s.absent, s.substitute, s.by) or can(who, Action.SET_SUBSTITUTE):
        return True
    units = {g.unit for g in grants if g.user == s.absent and g.unit is not None and g.role != Role.KSAU}
    return any(can(who, Action.SET_SUBSTITUTE, [u]) for u in units)
