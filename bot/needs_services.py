"""The competence needs' use cases (issue 21): read the needs a person may see,
assess a need, link it to a measure and end a link. The command line
(`kompetensbot needs`, `need add`, `need link`, `need unlink`) and the chat call
these, so both answer and refuse alike.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from bot.services import Services
from core import commands
from core.calendar import swedish_date
from core.errors import NotFound, RuleError, echo
from core.ledger import Ledger
from core.lookup import resolve_measure, resolve_unit
from core.model import Principal, Status
from core.needs import NeedEntry, NeedLinkEndedEntry, NeedLinkEntry, Needs, need_key
from core.needs_report import LinkedMeasure, NeedsReport, NeedView, needs_report, shortage_order
from core.needs_template import same_assessment
from core.permissions import Action, can, can_any, require, visible_units
from storage.repository import Repository


@dataclass
class NeedServices(Services):
    """Competence needs of one city (`org`, or the only one)."""

    def all_needs(self) -> Needs:
        """Every need entry of the city, replayed (no permission check: for the
        services' own use and `kompetensbot validate`)."""
        with self._unit_of_work() as repo:
            return repo.needs()

    def report(
        self,
        user: str | None,
        year: int,
        *,
        today: date | None = None,
        unit: str | None = None,
        role: str | None = None,
        only_uncovered: bool = False,
        hard_to_recruit_retiring: bool = False,
        as_of: date | None = None,
    ) -> NeedsReport:
        """The needs `user` may read in `year` (core.needs_report.needs_report);
        `unit` is read as a code, name or short name; `today`: the day staleness
        is judged on (default: `as_of`, else the bot's today). With `as_of`, the
        measures' status and forecasts as known on that day (follow-ups reported
        after it do not count yet, as in `funds`)."""
        snapshot, who = self._city(user)
        ledger = self._known_on(snapshot, as_of) or snapshot.ledger
        code = resolve_unit(ledger, unit) if unit is not None else None
        if code is not None:
            require(who, Action.READ, [code])
        elif not can(who, Action.READ) and not visible_units(who, ledger.units):
            require(who, Action.READ)
        needs = self.all_needs()
        return needs_report(
            needs,
            ledger,
            who,
            year,
            today or as_of or swedish_date(self.clock()),
            unit=code,
            role=role,
            only_uncovered=only_uncovered,
            hard_to_recruit_retiring=hard_to_recruit_retiring,
        )

    def unit_needs(self, user: str | None, unit: str) -> list[NeedEntry]:
        """The current needs of one unit the person may read, by id (the measure
        form's "Vilket behov svarar insatsen mot?")."""
        snapshot, who = self._city(user)
        code = resolve_unit(snapshot.ledger, unit)
        require(who, Action.READ, [code])
        return [n for n in self.all_needs().current.values() if n.unit == code]

    def assess(self, user: str | None, need: NeedEntry) -> NeedEntry:
        """Store a need's assessment (a new one, or one that supersedes the need's
        current assessment: the old stays in history). `need.unit` may be written
        as a code, name or short name; `need.author` is the name shown. A new
        assessment keeps the need's id as first written ("b1" again is "B1"); one that says
        what the current assessment says is not written again (the current one is returned)."""

        def run(repo: Repository, ledger: Ledger, who: Principal) -> NeedEntry:
            needs = repo.needs()
            earlier = needs.get(need.key)
            entry = replace(
                need,
                key=earlier.key if earlier is not None else need.key,
                unit=resolve_unit(ledger, need.unit),
                at=self.clock(),
            )
            checked = commands.assess_need(ledger, needs, who, entry)
            if earlier is not None and same_assessment(checked, earlier):
                return earlier  # says what the need says already: not written again (as an import)
            stored = repo.append_need(checked)
            assert isinstance(stored, NeedEntry)
            return stored

        return self._write(user, run)

    def link(
        self,
        user: str | None,
        need: str,
        measure: str,
        *,
        author: str,
        people: int | None = None,
        share: int | None = None,
        note: str = "",
    ) -> NeedLinkEntry:
        """Link a need (by its id) to a measure (by id or exact title); a new link of
        the same pair replaces the active one. `share` in basis points (2 500 = 25 %)."""

        def run(repo: Repository, ledger: Ledger, who: Principal) -> NeedLinkEntry:
            m = resolve_measure(ledger, measure)
            entry = NeedLinkEntry(need, m.id, author, self.clock(), people=people, share=share, note=note)
            stored = repo.append_need(commands.link_need(ledger, repo.needs(), who, entry))
            assert isinstance(stored, NeedLinkEntry)
            return stored

        return self._write(user, run)

    def unlink(
        self, user: str | None, need: str, measure: str, *, author: str, note: str = ""
    ) -> NeedLinkEndedEntry:
        """End the active link between a need and a measure (the link stays in history)."""

        def run(repo: Repository, ledger: Ledger, who: Principal) -> NeedLinkEndedEntry:
            m = resolve_measure(ledger, measure)
            end = NeedLinkEndedEntry(need, m.id, author, self.clock(), note=note)
            stored = repo.append_need(commands.end_need_link(repo.needs(), who, end))
            assert isinstance(stored, NeedLinkEndedEntry)
            return stored

        return self._write(user, run)

    def need(self, user: str | None, key: str) -> NeedEntry:
        """One need the person may read, by its id; refused naming the known ids."""
        snapshot, who = self._city(user)
        needs = self.all_needs()
        found = needs.get(key)
        if found is None or not can(who, Action.READ, [found.unit]):
            readable = [n.key for n in needs.current.values() if can(who, Action.READ, [n.unit])]
            known = ", ".join(readable) or "inga"
            raise NotFound(
                RuleError(
                    "unknown_need",
                    f'Behovet "{echo(key)}" finns inte bland behoven du kan se. Kända behov: {known}.',
                    "behov",
                )
            )
        return found

    def history(self, user: str | None, key: str) -> tuple[NeedEntry, ...]:
        """Every assessment of a need the person may read, oldest first (the last is
        the current one); refused like `need` for an unknown or unreadable need."""
        self.need(user, key)
        return self.all_needs().history(key)

    def link_history(
        self, user: str | None, key: str
    ) -> list[tuple[NeedLinkEntry | NeedLinkEndedEntry, str]]:
        """Every link of a need the person may read and every end of one, oldest first, each
        with the measure as the person may see it: its title and id, or only its committees
        (`need history`: an ended link stays in history and is shown there)."""
        found = self.need(user, key)
        snapshot, who = self._city(user)
        shown: list[tuple[NeedLinkEntry | NeedLinkEndedEntry, str]] = []
        for entry in self.all_needs().entries:
            if not isinstance(entry, NeedLinkEntry | NeedLinkEndedEntry) or need_key(entry.need) != need_key(
                found.key
            ):
                continue
            measure = snapshot.ledger.measures.get(entry.measure_id)
            if measure is None:
                continue
            if can_any(who, Action.READ, measure.units):
                shown.append((entry, f"{measure.title} (id {measure.id})"))
            else:
                shown.append((entry, f"en insats i {', '.join(measure.units)} (som du inte kan läsa)"))
        return shown

    def at_risk(self, user: str | None, year: int, as_of: date) -> tuple[NeedAtRisk, ...]:
        """The needs `user` may read whose linked measures no longer answer them in
        `year` as known on `as_of` (reported "Ej slutförd", finished, forecast to use
        nothing, without money that year): `followup status`'s needs at risk. The needs
        left uncovered come first (shortage roles, then retirements), then those
        another linked measure still answers."""
        funded = self._city(user)[0].ledger.has_fund(year)
        report = self.report(user, year, today=as_of, as_of=as_of)
        found = [
            NeedAtRisk(view, tuple((m, risk_of(m, funded=funded)) for m in view.at_risk))
            for view in report.needs
            if view.at_risk
        ]
        return tuple(sorted(found, key=lambda n: (n.view.covered, shortage_order(n.view))))


class NeedRisk:
    """Why a linked measure no longer answers its need in a year, in Swedish as
    `followup status` shows it (as core.round_report.Risk words a measure's risks)."""

    NOT_COMPLETED = "rapporterad Ej slutförd"
    DONE = "klar"
    NO_MONEY = "inga pengar det året"
    NOTHING_FORECAST = "prognos 0 kr"
    NOT_RUNNING = "pågår inte det året"


def risk_of(measure: LinkedMeasure, *, funded: bool) -> str:
    """Why `measure` does not answer its need in the report's year (core.needs.covers,
    said); `funded`: the city has a fund that year."""
    if measure.status == Status.NOT_COMPLETED:
        return NeedRisk.NOT_COMPLETED
    if measure.status == Status.DONE:
        return NeedRisk.DONE
    if not funded:
        return NeedRisk.NOT_RUNNING
    if measure.money <= 0:
        return NeedRisk.NO_MONEY
    return NeedRisk.NOTHING_FORECAST


@dataclass(frozen=True)
class NeedAtRisk:
    """A need with the linked measures that no longer answer it, each with why;
    `view.covered` says whether another linked measure still does."""

    view: NeedView
    measures: tuple[tuple[LinkedMeasure, str], ...]
