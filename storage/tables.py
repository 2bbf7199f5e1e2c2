"""The database tables (SQLModel). The domain's records live in core/; the
mapping between the two is storage/mapping.py.

Money rows (ledger_entries), follow-ups, measures, decisions and the seals
are append-only: the database refuses UPDATE, DELETE, REPLACE and TRUNCATE on
them (migrations 0002 and 0009), and each of them, like every role grant and
revocation, is sealed in its city's keyed hash chain (storage/seal.py).
Every row belongs to one organisation (a city), and every query filters by it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Table, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def table(row: type[SQLModel]) -> Table:
    """A row class's Core table, typed: `table(RoundSendRow).c.state` is a column
    SQLAlchemy's typed `select` takes (SQLModel types `RoundSendRow.state` as a str)."""
    found = row.__table__  # type: ignore[attr-defined]  # SQLModel sets it on table classes but declares no type
    assert isinstance(found, Table)
    return found


def _ts() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=False)


class OrganisationRow(SQLModel, table=True):
    """A city. `ledger_version` is bumped first thing by every writing unit of work
    (storage.unit_of_work): not optimistic concurrency (no writer compares it or
    retries) but a lock: that UPDATE takes the city's row lock on PostgreSQL (the
    write lock on SQLite), so writers of one city run one after another, each
    checking the rules against what the one before committed. Readers also use it
    as a change marker (storage.read_model.Freshness)."""

    __tablename__ = "organisations"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    ledger_version: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class UnitRow(SQLModel, table=True):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("org_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    aliases: str = Field(default="")  # "|"-separated


class DecisionRow(SQLModel, table=True):
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("org_id", "body", "reference"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    body: str = Field(max_length=16)
    reference: str = Field(max_length=300)  # the full citation, unique per city
    decided_on: date | None = None
    paragraph: str | None = Field(default=None, max_length=32)
    case_number: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, max_length=300)
    # Who decided under delegation ("förvaltningsdirektör"); NULL for any other decision (0011).
    delegate: str | None = Field(default=None, max_length=200)


class MeasureRow(SQLModel, table=True):
    __tablename__ = "measures"
    # The read model's change check: a city's highest measure id (migration 0005).
    __table_args__ = (Index("ix_measures_org_id_id", "org_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    year: int = Field(index=True)
    title: str = Field(max_length=200)
    units: str  # "|"-separated unit codes, in order
    description: str = ""
    target_group: str = ""
    categories: str = ""  # "|"-separated
    requested: int | None = Field(default=None, sa_type=BigInteger)
    cost: int | None = Field(default=None, sa_type=BigInteger)
    in_base_budget: bool = False
    performer: str = ""
    start_date: date | None = None
    end_date: date | None = None
    status: str = Field(max_length=32)
    parent_id: int | None = Field(default=None, foreign_key="measures.id")
    kom_kr: bool = False
    responsible: str | None = Field(default=None, max_length=200)
    evaluation: str = ""
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class LedgerEntryRow(SQLModel, table=True):
    """One ledger entry. `kind` says which core entry it is; the columns that
    kind does not use are null."""

    __tablename__ = "ledger_entries"
    __table_args__ = (UniqueConstraint("org_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    seq: int
    kind: str = Field(max_length=32)
    year: int | None = Field(default=None, index=True)
    unit_code: str | None = Field(default=None, max_length=32)
    measure_id: int | None = Field(default=None, foreign_key="measures.id", index=True)
    to_measure_id: int | None = Field(default=None, foreign_key="measures.id")
    amount: int | None = Field(default=None, sa_type=BigInteger)
    recurring: bool = False
    last_year: int | None = None
    ends_seq: int | None = None
    decision_id: int = Field(foreign_key="decisions.id")
    author: str = Field(max_length=200)  # the name shown
    author_id: str = Field(default="", max_length=200)  # who: "" on rows before 0007
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class FollowUpRow(SQLModel, table=True):
    __tablename__ = "followups"
    __table_args__ = (UniqueConstraint("org_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    seq: int
    measure_id: int = Field(foreign_key="measures.id", index=True)
    period: str = Field(max_length=7)
    status: str = Field(max_length=32)
    spent: int = Field(sa_type=BigInteger)
    forecast: int = Field(sa_type=BigInteger)
    usable_as_planned: bool
    note: str = ""
    author: str = Field(max_length=200)  # the name shown
    author_id: str = Field(default="", max_length=200)  # who: "" on rows before 0007
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    reached: int | None = None  # people reached so far (issue 21, migration 0014)
    for_id: str | None = Field(default=None, max_length=200)  # answered for this absent person (issue 22)
    for_name: str | None = Field(default=None, max_length=200)  # their name as shown


class NeedEntryRow(SQLModel, table=True):
    """One entry of a city's competence needs (core.needs): `kind` "need" (an
    assessment), "link" (a need linked to a measure) or "unlink" (a link ended);
    the columns a kind does not use are null. Append-only and sealed like the ledger."""

    __tablename__ = "need_entries"
    __table_args__ = (UniqueConstraint("org_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    seq: int
    kind: str = Field(max_length=16)
    need_key: str = Field(max_length=40)  # the city's id of the need, as written ("B1")
    unit_code: str | None = Field(default=None, max_length=32)
    area: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, max_length=200)
    ssyk: str | None = Field(default=None, max_length=8)
    need_kind: str | None = Field(default=None, max_length=32)
    competence: str | None = None
    people: int | None = None
    retirements: int | None = None
    recruitment: str | None = Field(default=None, max_length=16)
    period_first: int | None = None
    period_last: int | None = None
    source: str | None = None
    source_date: date | None = None
    assessed: date | None = None
    measure_id: int | None = Field(default=None, foreign_key="measures.id", index=True)
    share: int | None = None  # basis points, 1–10 000
    note: str = ""
    author: str = Field(max_length=200)  # the name shown
    author_id: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class RoleGrantRow(SQLModel, table=True):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("org_id", "user_id", "role", "unit_code"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    user_id: str = Field(max_length=200, index=True)
    role: str = Field(max_length=32)
    unit_code: str | None = Field(default=None, max_length=32)
    granted_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class RoleRevocationRow(SQLModel, table=True):
    """A role taken back: the grant as it was (so its seal can still be
    checked after the grant row is deleted), who took it back and when. The
    database deletes a grant only when its revocation is stored."""

    __tablename__ = "role_revocations"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    grant_id: int = Field(index=True)
    user_id: str = Field(max_length=200)
    role: str = Field(max_length=32)
    unit_code: str | None = Field(default=None, max_length=32)
    granted_by: str = Field(default="", max_length=200)
    granted_at: datetime = Field(sa_column=_ts())
    revoked_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class SealRow(SQLModel, table=True):
    """One link of a city's keyed hash chain (storage/seal.py): the row it
    seals (`kind`, `row_id`) and HMAC(key, previous link || the row's
    canonical bytes), in the order the rows were written."""

    __tablename__ = "seals"
    __table_args__ = (UniqueConstraint("org_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id")
    seq: int
    kind: str = Field(max_length=16)
    row_id: int
    link: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class SealKeyRow(SQLModel, table=True):
    """The fingerprint (HMAC of a fixed label, never the key) of the key that
    seals from seal id `since_seal` on: a writer with another key is refused."""

    __tablename__ = "seal_keys"
    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=64)
    development: bool = False
    since_seal: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class TenantRow(SQLModel, table=True):
    """A Teams tenant (channelData.tenant.id) served by a city."""

    __tablename__ = "tenants"
    tenant_id: str = Field(primary_key=True, max_length=100)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class BotStateRow(SQLModel, table=True):
    """The bot's dialog and user state, one JSON document per key, with a
    version for optimistic concurrency: a write names the version it read."""

    __tablename__ = "bot_state"
    key: str = Field(primary_key=True, max_length=512)
    data: str
    version: int
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ConversationRefRow(SQLModel, table=True):
    """Where a person or channel can be reached proactively: the Bot Framework
    conversation reference, kept up to date from every turn."""

    __tablename__ = "conversation_refs"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int | None = Field(default=None, foreign_key="organisations.id", index=True)
    tenant_id: str = Field(default="", max_length=100)
    user_id: str = Field(default="", max_length=200, index=True)  # "" for a channel
    conversation_id: str = Field(max_length=512)
    conversation_type: str = Field(default="personal", max_length=32)
    reference: str  # JSON
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ProcessedActivityRow(SQLModel, table=True):
    """Activities claimed by a turn (Teams retries a slow turn with the same
    id), and writes' `once` keys. `key` is the SHA-256 of the whole claim
    (storage.bot_state.claim_key): an id of any length is told apart from
    every other, in a fixed-width primary key.

    An activity's claim is leased: `lease_until` is when the turn that claimed
    it is taken to have died (a retry after that is handled again); NULL once
    the turn finished (a retry is then answered by nothing). A `once` key has
    no lease (it is committed with its write) and is never pruned; activity
    claims older than storage.bot_state.CLAIMS_KEPT are, by created_at. `saved`
    names what a `once` key's write saved ("measure:12"), so that a repeat can
    say what is already saved."""

    __tablename__ = "processed_activities"
    __table_args__ = (Index("ix_processed_activities_created_at", "created_at"),)
    key: str = Field(primary_key=True, min_length=64, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    lease_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    once: bool = Field(default=False)
    saved: str | None = Field(default=None, max_length=64)


class FollowUpRoundRow(SQLModel, table=True):
    """A follow-up round (uppföljningsomgång) of one city: its period and dates."""

    __tablename__ = "followup_rounds"
    __table_args__ = (UniqueConstraint("org_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    period: str = Field(max_length=7)
    opens: date
    deadline: date
    reminders: str = ""  # "|"-separated ISO dates
    escalate_on: date
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    closed_by: str = Field(default="", max_length=200)


class RoundSendRow(SQLModel, table=True):
    """One prompt, reminder or escalation of a round to one person.

    The unique key (round, recipient, kind) makes every send happen at most
    once. `state` goes pending → claimed → sent (or failed / unreachable); a
    claim older than the lease belongs to a process that died mid-send and
    is taken again once, marked `possibly_repeated`."""

    __tablename__ = "round_sends"
    __table_args__ = (
        UniqueConstraint("round_id", "recipient", "kind"),
        # migration 0016: the round runner claims city by city (storage.rounds.claim)
        Index("ix_round_sends_org_id_state", "org_id", "state"),
    )
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="followup_rounds.id", index=True)
    org_id: int = Field(foreign_key="organisations.id")
    recipient: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    state: str = Field(default="pending", max_length=16, index=True)
    measure_ids: str = ""  # "|"-separated, the card's measures when it was due
    units: str = ""  # "|"-separated, for an escalation
    attempts: int = 0
    claim_token: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    not_before: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    activity_id: str | None = Field(default=None, max_length=256)
    conversation_id: str | None = Field(default=None, max_length=512)
    reference: str | None = None  # JSON of the conversation it went to, to update the card
    possibly_repeated: bool = False
    marked_answered: bool = False  # the card was updated in place to say it is answered
    reason: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # issue 22 (migration 0015): the absent person the recipient answers for (a handover, its
    # reminders, an absent HR lead's escalation); "" for the recipient's own. The kind carries
    # the person's short key (core.rounds.stored_key), so the unique key holds one of each.
    on_behalf: str = Field(default="", max_length=200)


class SendBudgetRow(SQLModel, table=True):
    """The send budget of one bot registration in one Teams tenant, shared by every
    process (issue 23, migration 0016; storage/send_budget.py): `next_slot` is the
    next free send slot (GCRA's theoretical arrival time), `reserved_at` the database's
    clock at the last booking. Updated in place; PostgreSQL only uses it."""

    __tablename__ = "send_budgets"
    app_id: str = Field(primary_key=True, max_length=100)  # "" when anonymous
    tenant_id: str = Field(primary_key=True, max_length=100)  # "" when not known
    next_slot: datetime = Field(sa_column=_ts())
    reserved_at: datetime = Field(sa_column=_ts())


# --- issue 20: KSAU's decision from a card (migration 0013) ---------------------------


class ProposalSetRow(SQLModel, table=True):
    """The reallocation proposals of one round as sent to KSAU (core.proposal_sets):
    one set per round, made once, never changed (its items in proposal_set_items,
    its decision, once recorded, in proposal_decisions)."""

    __tablename__ = "proposal_sets"
    __table_args__ = (UniqueConstraint("round_id"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    round_id: int = Field(foreign_key="followup_rounds.id")
    period: str = Field(max_length=7)
    year: int
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ProposalItemRow(SQLModel, table=True):
    """One proposal of a set with its basis: the source measure's forecast-unused
    money and the follow-up (period, seq) it was read from."""

    __tablename__ = "proposal_set_items"
    __table_args__ = (UniqueConstraint("set_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    set_id: int = Field(foreign_key="proposal_sets.id", index=True)
    number: int
    year: int
    from_measure: int = Field(foreign_key="measures.id")
    to_measure: int = Field(foreign_key="measures.id")
    amount: int = Field(sa_type=BigInteger)
    same_unit: bool = False
    basis_unused: int = Field(sa_type=BigInteger)
    basis_period: str = Field(max_length=7)
    basis_seq: int


class ProposalDecisionRow(SQLModel, table=True):
    """KSAU's decision on a set: at most one a set (the unique key closes it). The
    money moved is in ledger_entries (`entry_seqs`), written in the same transaction."""

    __tablename__ = "proposal_decisions"
    __table_args__ = (UniqueConstraint("set_id"),)
    id: int | None = Field(default=None, primary_key=True)
    set_id: int = Field(foreign_key="proposal_sets.id")
    org_id: int = Field(foreign_key="organisations.id", index=True)
    reference: str = Field(max_length=300)
    by_user: str = Field(max_length=200)
    by_name: str = Field(default="", max_length=200)
    at: datetime = Field(sa_column=_ts())
    recorded: str = ""  # "|"-separated proposal numbers
    refused: str = ""  # JSON: [[number, reason], ...]
    not_ticked: str = ""  # "|"-separated proposal numbers
    entry_seqs: str = ""  # "|"-separated ledger seqs of the entries recorded


class RoundReminderRow(SQLModel, table=True):
    """An extra reminder of a round asked for in chat (issue 20): who asked, when, for which
    units, to how many. Several a day (an HR lead's for its units, stadskontoret's for the rest):
    each person gets at most one a Swedish calendar day, as its sends are rows of round_sends of
    kind "extra-<day>" (unique per round, person and kind)."""

    __tablename__ = "round_reminders"
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="followup_rounds.id", index=True)
    org_id: int = Field(foreign_key="organisations.id")
    day: date
    at: datetime = Field(sa_column=_ts())
    by: str = Field(max_length=200)
    units: str = ""  # "|"-separated; empty: every unit
    recipients: int = 0


# --- issue 22: substitutes, people, reach through Graph, roles from Entra groups (0015) ----------


class SubstitutionRow(SQLModel, table=True):
    """A substitution (core.substitutes): kind "set" names the absent person, the
    substitute, the first and last day and the units it is limited to; kind "end"
    ends the one of seq `ends` from `ended_on`. Append-only and sealed (kind
    "substitution"), numbered per city."""

    __tablename__ = "substitutions"
    __table_args__ = (UniqueConstraint("org_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    seq: int
    kind: str = Field(max_length=8)  # "set" or "end"
    absent: str = Field(default="", max_length=200)
    substitute: str = Field(default="", max_length=200)
    first_day: date | None = None
    last_day: date | None = None
    units: str = ""  # "|"-separated; empty: every unit
    ends: int | None = None  # kind "end": the seq of the substitution ended
    ended_on: date | None = None
    author: str = Field(max_length=200)  # the name shown
    author_id: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class PersonRow(SQLModel, table=True):
    """A person the bot knows in a city: the Entra object id with the name, UPN and
    e-mail last seen (from Teams, Microsoft Graph or a group sync). A directory cache,
    updated in place: it decides nothing but how people are named and found."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("org_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    user_id: str = Field(max_length=200)
    name: str = Field(default="", max_length=200)
    upn: str = Field(default="", max_length=320, index=True)
    mail: str = Field(default="", max_length=320)
    source: str = Field(default="", max_length=16)  # "teams", "graph", "group"
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class GroupMappingRow(SQLModel, table=True):
    """An Entra security group whose members hold a role (for a unit): `roles
    map-group`. The grants a sync makes name the group in `granted_by`
    ("entra-grupp:<id>"), so hand-made grants are told apart and left alone."""

    __tablename__ = "group_mappings"
    __table_args__ = (UniqueConstraint("org_id", "group_id", "role", "unit_code"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    group_id: str = Field(max_length=200)
    group_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=32)
    unit_code: str | None = Field(default=None, max_length=32)
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    synced_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    sync_error: str = ""
    # The last sync's attempt (synced_at: the last one that read the group) and how
    # many users the group had then (None: never read).
    tried_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    members: int | None = None


class GraphInstallRow(SQLModel, table=True):
    """Installing the app for one person through Microsoft Graph before a round's first
    send: at most one per (round, person). `state` goes claimed → installed (or
    failed, no_consent); a claim older than its lease belongs to a process that died
    mid-install and is taken again (a 409 "already installed" counts as installed)."""

    __tablename__ = "graph_installs"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    round_id: int = Field(foreign_key="followup_rounds.id", index=True)
    user_id: str = Field(max_length=200)
    state: str = Field(default="claimed", max_length=16)
    attempts: int = 0
    claim_token: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    reason: str = ""
    # The 1:1 chat found through the installed app (Graph's "19:…@unq.gbl.spaces"), and
    # Graph's last HTTP status for the install (0: no answer), for `followup reach`.
    chat_id: str | None = Field(default=None, max_length=512)
    http_status: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
