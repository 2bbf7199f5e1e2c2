"""A unit of work: one transaction over one city's data.

It rolls back unless `commit()` ran. A writing unit of work first bumps the
city's ledger version: that one UPDATE takes the city's row lock (PostgreSQL)
or the database's write lock (SQLite) before anything is read, so two
concurrent writers are serialised and the second one checks the rules against
what the first one committed. That is what keeps two racing allocations or
reallocations from overdrawing a fund or a unit.

The application services (bot/services.py) are given a `UnitOfWorkFactory`
(`units(org, write=...)`), as cosmicpython's service layer is: the default,
`units_of(engine)`, opens this class on that engine; a test or another
storage can hand them another.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.errors import NotFound
from storage.read_model import CitySnapshot, read_models
from storage.repository import Repository, create_organisation, find_organisation
from storage.tables import OrganisationRow


class UnitOfWork:
    """`org`: the city's slug, or None for the only city. `write`: take the city's
    write lock first (see the module). `create`: the name of a city to create when
    there is none of slug `org` (`Repository.created` then says it was made now)."""

    def __init__(
        self, engine: Engine, org: str | None = None, *, write: bool = False, create: str | None = None
    ):
        self.engine = engine
        self.org_slug = org
        self.write = write
        self.create = create
        self._committed = False

    def __enter__(self) -> Repository:
        self.session = Session(self.engine, expire_on_commit=False)
        try:
            created = False
            try:
                org = find_organisation(self.session, self.org_slug)
            except NotFound:
                if self.create is None or not self.org_slug:
                    raise
                org, created = create_organisation(self.session, self.org_slug, self.create), True
            if self.write and not created:  # a city made in this transaction is ours alone
                self.session.execute(
                    update(OrganisationRow)
                    .where(OrganisationRow.id == org.id)  # type: ignore[arg-type]  # SQLModel types the column as int
                    .values(ledger_version=OrganisationRow.ledger_version + 1)
                )
            self.repo = Repository(self.session, org, created=created)
        except BaseException:
            self.session.close()
            raise
        return self.repo

    def committed(self) -> CitySnapshot:
        """The city's read model as committed before this writing unit of work
        (storage.read_model.ReadModels.committed), read on its connection under
        its write lock: what the rules check a write against."""
        assert self.write, "only a writing unit of work holds the lock that makes this the committed state"
        return read_models(self.engine).committed(self.session.connection(), self.repo.organisation.slug)

    def commit(self) -> None:
        self.session.commit()
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self.session.rollback()
        self.session.close()


class UnitOfWorkFactory(Protocol):
    """What the application services open their units of work with."""

    def __call__(self, org: str | None, *, write: bool = False, create: str | None = None) -> UnitOfWork: ...


def units_of(engine: Engine) -> UnitOfWorkFactory:
    """The units of work over `engine` (UnitOfWork)."""

    def units(org: str | None, *, write: bool = False, create: str | None = None) -> UnitOfWork:
        return UnitOfWork(engine, org, write=write, create=create)

    return units
