"""A unit of work: one transaction over one city's data.

It rolls back unless `commit()` ran. A writing unit of work first bumps the
city's ledger version: that one UPDATE takes the city's row lock (PostgreSQL)
or the database's write lock (SQLite) before anything is read, so two
concurrent writers are serialised and the second one checks the rules against
what the first one committed. That is what keeps two racing allocations or
reallocations from overdrawing a fund or a unit.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.repository import Repository, find_organisation
from storage.tables import OrganisationRow


class UnitOfWork:
    def __init__(self, engine: Engine, org: str | None = None, *, write: bool = False):
        self.engine = engine
        self.org_slug = org
        self.write = write
        self._committed = False

    def __enter__(self) -> Repository:
        self.session = Session(self.engine, expire_on_commit=False)
        try:
            org = find_organisation(self.session, self.org_slug)
            if self.write:
                self.session.execute(
                    update(OrganisationRow)
                    .where(OrganisationRow.id == org.id)  # type: ignore[arg-type]
                    .values(ledger_version=OrganisationRow.ledger_version + 1)
                )
            self.repo = Repository(self.session, org)
        except BaseException:
            self.session.close()
            raise
        return self.repo

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
