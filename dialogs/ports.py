"""What the dialogs ask of the rest of the bot: the city's services, the
rounds' services and the turn that carries them. The bot fills these per turn
(bot.turn_services puts one `TurnServices` in the turn state, dialogs.turn reads
it); the dialogs import nothing else of the bot, and nothing of the storage.

The services are synchronous (they read and write the database): a dialog runs
them through `dialogs.turn.call`, on a worker thread, except the methods of an
`InMemory` object, which answer from what the turn has already read and run in
place.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from core.balances import FundBalance
from core.entries import ReallocationEntry
from core.errors import AlreadySaved
from core.ledger import Ledger
from core.model import Decision, FollowUp, Measure, Principal, Status
from core.needs import NeedEntry
from core.needs_report import NeedsReport
from core.proposal_sets import ProposalSetView, ProposalsSent, SetDecided
from core.round_report import RoundReport
from core.rounds import CardNeeds, LateList, MyCard, OpenPlan, RemindersSent, Round, SendKind
from core.substitutes import Substitution
from core.views import MeasureView

T = TypeVar("T")


class CityQueries(Protocol):
    """The questions a dialog asks about the city (bot.services.Services)."""

    def summary_ledger(self) -> Ledger: ...

    def principal(self, user: str) -> Principal: ...

    def funds(
        self, user: str | None, year: int, unit: str | None = None, *, as_of: date | None = None
    ) -> FundBalance: ...

    def measures(
        self,
        user: str | None,
        *,
        unit: str | None = None,
        status: Status | None = None,
        overdue: bool = False,
        year: int | None = None,
        as_of: date,
    ) -> list[MeasureView]: ...

    def measure(self, user: str | None, ref: str, as_of: date) -> MeasureView: ...

    def derived(self, key: Any, compute: Callable[[Ledger], T], as_of: date | None = None) -> T: ...


class InMemory(ABC):  # noqa: B024 - a marker: what it means is in its docstring, not in its methods
    """An object whose every method answers from what the turn has already read
    (never the database, never blocking): `dialogs.turn.call` runs its methods
    in place instead of on a worker thread. Being one is a matter of type, so a
    subclass must not add a method that reads the database: a connection taken
    while `call` runs one in place raises `core.in_memory.ReadInPlace`."""


class CityView(InMemory, CityQueries):
    """The city's queries answered from the turn's snapshot of the city and the
    acting person (bot.services.Services.in_memory hands one out only when both
    are read and the figures asked for are the snapshot's)."""


class CityServices(CityQueries, Protocol):
    """The city's services as the dialogs use them (bot.services.Services)."""

    @property
    def clock(self) -> Callable[[], datetime]:
        """The time stamps of the services' writes."""
        ...

    def in_memory(self, user: str | None, as_of: date | None = None) -> CityView | None:
        """The view answering `user`'s queries about the city as known on `as_of`
        from what the turn has read, or None when a query would read the database."""
        ...

    def ledger(self) -> Ledger: ...

    def once_used(self, once: str) -> AlreadySaved | None: ...

    def period_refusal(self, period: str) -> str | None: ...

    def submit_measure(
        self,
        user: str | None,
        measure: Measure,
        grants: dict[str, int] | None = None,
        decision: Decision | None = None,
        author: str | None = None,
        once: str | None = None,
        *,
        needs: Sequence[str] = (),
    ) -> Measure:
        """`needs`: the ids of needs the measure answers, linked in the same write (issue 21)."""
        ...

    def add_followup(
        self,
        user: str | None,
        measure_ref: str,
        *,
        period: str,
        status: Status,
        spent: int,
        forecast: int,
        usable_as_planned: bool,
        note: str = "",
        author: str | None = None,
        once: str | None = None,
        amount_confirmed: bool = False,
        after_close_reason: str | None = None,
        reached: int | None = None,
    ) -> FollowUp: ...

    def measure_needs(self, user: str | None, measure_id: int) -> CardNeeds:
        """The competence needs a measure answers, as far as `user` may read them (issue 21:
        the follow-up asks how many people a linked measure has reached)."""
        ...

    def linked_needs(self, user: str | None, measure_ids: Collection[int]) -> Mapping[int, CardNeeds]:
        """measure_needs of each of `measure_ids` that answers a need (the others left out),
        in one read: the follow-up form asks how many people a linked measure has reached."""
        ...

    def reallocate(
        self,
        user: str | None,
        from_ref: str,
        to_ref: str,
        amount: int,
        decision: Decision,
        once: str | None = None,
    ) -> ReallocationEntry: ...


class SentCard(Protocol):
    """A card a round sent to a person (storage.rounds.Send), as far as a dialog needs it."""

    @property
    def id(self) -> int: ...

    @property
    def kind(self) -> SendKind: ...

    @property
    def activity_id(self) -> str | None: ...

    @property
    def conversation_id(self) -> str | None: ...


class RoundServicesPort(Protocol):
    """The rounds' services as the dialogs use them (bot.round_services.RoundServices)."""

    def principal(self, user: str) -> Principal: ...

    def ledger(self) -> Ledger: ...

    def reallocate(
        self,
        user: str | None,
        from_ref: str,
        to_ref: str,
        amount: int,
        decision: Decision,
        once: str | None = None,
    ) -> ReallocationEntry: ...

    def late_list(
        self,
        user: str | None,
        as_of: date,
        round_id: int | None = None,
        *,
        month: int | None = None,
        year: int | None = None,
    ) -> LateList: ...

    def my_card(self, user: str, as_of: date, round_id: int | None = None) -> MyCard: ...

    def answer(
        self,
        user: str,
        round_id: int,
        values: Mapping[str, Any],
        *,
        as_of: date,
        author: str | None = None,
    ) -> tuple[Round, list[FollowUp], bool]: ...

    def latest_report(
        self, user: str | None, as_of: date, month: int | None = None, year: int | None = None
    ) -> RoundReport | None:
        """The results of the round a question means (the month and/or year named, else the
        running round, else the latest opened, a planned one last) as `user` may see them;
        None: the city has had no round. A month or year no round has: NotFound."""
        ...

    def card_sends(self, round_id: int, recipient: str) -> Sequence[SentCard]: ...

    def mark_answered(self, send_ids: Sequence[int]) -> None: ...

    # issue 20: KSAU's decision from a card (core.proposal_sets)

    def send_proposals(self, user: str | None, period: str | None = None) -> ProposalsSent:
        """Send the round's proposals to everyone with the ksau role (once a round)."""
        ...

    def proposals(self, user: str | None, period: str | None = None) -> ProposalSetView: ...

    def proposal_set(self, user: str | None, set_id: int) -> ProposalSetView: ...

    def decide_proposals(
        self,
        user: str | None,
        set_id: int,
        ticked: Collection[int],
        decision: Decision,
        by_name: str = "",
    ) -> SetDecided: ...

    def decided_proposal(self, year: int, from_measure: int, to_measure: int) -> ProposalSetView | None: ...

    # issue 20: the round from chat (the same services as `kompetensbot followup open|close`)

    def open_plan(self, user: str | None, period: str, as_of: date) -> OpenPlan: ...

    def open(self, user: str | None, period: str) -> Round: ...

    def enqueue_due(self, as_of: date) -> int:
        """Record what the city's open rounds owe on `as_of` (the round runner sends it)."""
        ...

    def close_plan(self, user: str | None, period: str | None, as_of: date) -> RoundReport: ...

    def close(self, user: str | None, period: str) -> tuple[Round, bool]: ...

    def remind(self, user: str | None, as_of: date, period: str | None = None) -> RemindersSent: ...


class TurnServices(Protocol):
    """What the bot hands the dialogs for one turn (in the turn state, see
    dialogs.turn.services_of): the acting city's services, its rounds, and the
    bot's date and clock."""

    @property
    def city(self) -> CityServices: ...

    @property
    def rounds(self) -> RoundServicesPort: ...

    @property
    def today(self) -> date:
        """The date the dialogs take as today (the bot's date when it is set)."""
        ...

    def clock(self) -> datetime:
        """The time stamp of the turn's writes (on the bot's date when it is set)."""
        ...


# --- files in the chat (issue 20) ---------------------------------------------------------------


class ExportKind(StrEnum):
    """Which file a person asks for: the year's measures (`kompetensbot export --format
    xlsx`) or a round's follow-up (`kompetensbot followup export`)."""

    MEASURES = "insatser"
    ROUND = "uppfoljning"


@dataclass(frozen=True, slots=True)
class FileOffer:
    """A file offered through Teams' file consent card: `token` is the opaque one-time
    id the bot stored with what file for whom (the card carries nothing else)."""

    token: str
    name: str
    size: int
    description: str


class FileOffersPort(Protocol):
    """The bot's file offers (bot.file_offers.FileOffers): the file is made for `user`
    with their permissions now, to say its size, and again when they accept it."""

    def offer(
        self, user: str, kind: ExportKind, year: int | None, month: int | None, as_of: date
    ) -> FileOffer:
        """Store an offer of the file and return it; DomainError (Swedish) when there is
        nothing to offer (no round, no measure the person may see)."""
        ...


class FileTurnServices(TurnServices, Protocol):
    """A turn's services with the file offers (bot.turn_services.BotTurnServices)."""

    @property
    def files(self) -> FileOffersPort: ...


# --- competence needs (issue 21) ------------------------------------------------------------------


class NeedsPort(Protocol):
    """The needs' use cases as the dialogs use them (bot.needs_services.NeedServices)."""

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
    ) -> NeedsReport:
        """The needs `user` may read in `year` (core.needs_report.needs_report)."""
        ...

    def unit_needs(self, user: str | None, unit: str) -> list[NeedEntry]:
        """The current needs of one unit the person may read, by id."""
        ...

    def need(self, user: str | None, key: str) -> NeedEntry:
        """One need the person may read, by its id; NotFound naming only the ids they may read
        (an unknown id and another committee's are refused alike)."""
        ...

    def history(self, user: str | None, key: str) -> tuple[NeedEntry, ...]:
        """Every assessment of a need the person may read, oldest first; refused as `need`."""
        ...


class NeedsTurnServices(TurnServices, Protocol):
    """A turn's services with the needs' (bot.turn_services.BotTurnServices)."""

    @property
    def needs(self) -> NeedsPort: ...


# --- substitutes during absence (issue 22) --------------------------------------------------------


class NamedPerson(Protocol):
    """A person as the bot knows them (storage.people.Person)."""

    @property
    def user_id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def shown(self) -> str: ...


class SubstitutionMade(Protocol):
    """A substitution set, or checked before it is (bot.substitute_services.SubstitutionSet)."""

    @property
    def substitution(self) -> Substitution: ...

    @property
    def absent(self) -> NamedPerson: ...

    @property
    def substitute(self) -> NamedPerson: ...

    @property
    def by(self) -> NamedPerson: ...

    @property
    def written(self) -> bool: ...

    @property
    def tell(self) -> bool:
        """Someone else set it: the absent person is told."""
        ...

    @property
    def tell_substitute(self) -> bool:
        """The substitute did not set it: they are told."""
        ...

    @property
    def replaces(self) -> Sequence[SubstitutionReplaced]:
        """The substitutes it takes the place of, for some of its days."""
        ...

    @property
    def committees(self) -> Sequence[str]:
        """The names of the committees whose measures the substitute follows up."""
        ...

    @property
    def kept_roles(self) -> Sequence[str]:
        """The absent person's roles that never pass to a substitute ("KSAU", "stadskontoret")."""
        ...


class SubstitutionReplaced(Protocol):
    """A substitute a new substitution takes the place of (bot.substitute_services.Replaced)."""

    @property
    def substitute(self) -> NamedPerson: ...

    @property
    def first(self) -> date: ...

    @property
    def last(self) -> date: ...

    @property
    def units(self) -> frozenset[str]: ...


class SubstitutionShown(Protocol):
    """A substitution as listed (bot.substitute_services.SubstitutionView)."""

    @property
    def substitution(self) -> Substitution: ...

    @property
    def absent(self) -> NamedPerson: ...

    @property
    def substitute(self) -> NamedPerson: ...

    @property
    def current(self) -> bool: ...


class SubstitutionsEndedPort(Protocol):
    """Substitutions ended early (bot.substitute_services.SubstitutionsEnded)."""

    @property
    def absent(self) -> NamedPerson: ...

    @property
    def on(self) -> date: ...

    @property
    def by(self) -> NamedPerson: ...

    @property
    def substitutes(self) -> Sequence[NamedPerson]: ...

    @property
    def tell(self) -> bool: ...

    @property
    def told_substitutes(self) -> Sequence[NamedPerson]: ...


class SubstitutesPort(Protocol):
    """The substitutes' use cases as the dialogs use them (bot.substitute_services)."""

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
    ) -> SubstitutionMade: ...

    def list_substitutions(
        self, user: str | None, as_of: date | None = None
    ) -> Sequence[SubstitutionShown]: ...

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
    ) -> SubstitutionsEndedPort: ...

    def person_named(self, user: str | None, text: str) -> NamedPerson: ...


class SubstitutesTurnServices(TurnServices, Protocol):
    """A turn's services with the substitutes' (bot.turn_services.BotTurnServices)."""

    @property
    def substitutes(self) -> SubstitutesPort: ...

    async def tell(self, user_id: str, text: str) -> str | None:
        """A message to the person's 1:1 chat with the bot: None when sent, else why not."""
        ...
