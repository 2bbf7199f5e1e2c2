"""The people the bot knows in a city (issue 22): who an id, a UPN, an e-mail
address or a name is.

A directory cache (table `people`), filled from what Teams shows of a person
(their name, with every turn's conversation reference), from Microsoft Graph
(a user search, a group sync: name, UPN, e-mail) and kept up to date in place.
It decides nothing but how people are named and found: their rights are their
role grants.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage.rounds import display_names
from storage.tables import PersonRow, table, utcnow

_people = table(PersonRow)


@dataclass(frozen=True, slots=True)
class Person:
    """A person as the bot knows them: the Entra object id, with name, UPN and e-mail
    when known ("" when not)."""

    user_id: str
    name: str = ""
    upn: str = ""
    mail: str = ""

    @property
    def shown(self) -> str:
        """How the person is shown: their name, else UPN, else id."""
        return self.name or self.upn or self.mail or self.user_id


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().strip()


def remember(conn: Connection, org_id: int, people: Iterable[Person], source: str) -> int:
    """Store or update what is known of each person (a value left "" keeps the stored
    one); returns how many rows were added or changed."""
    changed = 0
    for p in people:
        if not p.user_id:
            continue
        row = conn.execute(
            select(_people).where(_people.c.org_id == org_id, _people.c.user_id == p.user_id)
        ).first()
        values = {k: v for k, v in (("name", p.name), ("upn", p.upn), ("mail", p.mail)) if v}
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        _people.insert().values(
                            org_id=org_id,
                            user_id=p.user_id,
                            name=p.name,
                            upn=_folded(p.upn),
                            mail=_folded(p.mail),
                            source=source,
                            updated_at=utcnow(),
                        )
                    )
                changed += 1
                continue
            except IntegrityError:  # another process stored the person first: update theirs
                row = conn.execute(
                    select(_people).where(_people.c.org_id == org_id, _people.c.user_id == p.user_id)
                ).one()
        values = {k: (_folded(v) if k != "name" else v) for k, v in values.items()}
        if any(getattr(row, k) != v for k, v in values.items()):
            conn.execute(
                update(_people)
                .where(_people.c.id == row.id)
                .values(**values, source=source, updated_at=utcnow())
            )
            changed += 1
    return changed


def known(conn: Connection, org_id: int) -> list[Person]:
    """Everyone the city's bot knows: the directory, with the names Teams last showed
    for people who wrote to the bot (storage.rounds.display_names) where it has none."""
    rows = conn.execute(select(_people).where(_people.c.org_id == org_id).order_by(_people.c.id)).all()
    found = {r.user_id: Person(r.user_id, r.name, r.upn, r.mail) for r in rows}
    for user, name in display_names(conn, org_id).items():
        p = found.get(user)
        if p is None:
            found[user] = Person(user, name)
        elif not p.name:
            found[user] = Person(user, name, p.upn, p.mail)
    return list(found.values())


def by_address(conn: Connection, org_id: int, address: str) -> Person | None:
    """The person with that UPN or e-mail address (case does not matter), if known."""
    folded = _folded(address)
    row = conn.execute(
        select(_people)
        .where(
            _people.c.org_id == org_id,
            or_(func.lower(_people.c.upn) == folded, func.lower(_people.c.mail) == folded),
        )
        .limit(1)
    ).first()
    return Person(row.user_id, row.name, row.upn, row.mail) if row is not None else None
