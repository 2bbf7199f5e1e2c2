"""The Swedish texts of `kompetensbot roles map-group | unmap-group | groups | sync` (issue 22)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.group_sync import SyncLine, SyncReport
from core.calendar import SWEDISH_TIME
from core.group_sync import GroupMapping
from storage.group_mappings import MappingStatus


def when(at: datetime | None) -> str:
    """A time as Swedish people read it: Swedish time, to the minute."""
    return at.astimezone(SWEDISH_TIME).strftime("%Y-%m-%d %H:%M") if at else "aldrig"


def _gives(role: str, unit: str | None) -> str:
    return f"rollen {role}{' för ' + unit if unit else ''}"


def _group(group_id: str, name: str) -> str:
    return f'"{name}" ({group_id})' if name else group_id


GRAPH_NEEDED = (
    "Microsoft Graph är inte inställt, så ingen synk kan läsa gruppen och ingen får rollen av den än. "
    "Synken behöver botens appregistrering (CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID, "
    "…CLIENTSECRET, …TENANTID) med applikationsbehörigheten GroupMember.Read.All och administratörens "
    'medgivande: se README, avsnitten "Roles from Entra groups" och "Microsoft Graph: samtycke och '
    'behörigheter". Därefter får medlemmarna rollen vid nästa synk (kompetensbot roles sync).'
)


def mapped(mapping: GroupMapping, *, new: bool, graph: bool = True) -> str:
    """`roles map-group`: what the mapping gives, and when the members get it (`graph`: a sync
    can read Microsoft Graph; without it, what must be set first)."""
    group = _group(mapping.group_id, mapping.name)
    gives = _gives(mapping.role.value, mapping.unit)
    if not new:
        said = f"Gruppen {group} ger redan {gives}."
    elif graph:
        said = (
            f"Gruppen {group} ger nu {gives}. Medlemmarna får rollen vid nästa synk "
            "(kompetensbot roles sync, eller serverns schemalagda synk)."
        )
    else:
        said = f"Gruppen {group} ger nu {gives}."
    return said if graph else f"{said} {GRAPH_NEEDED}"


def unmapped(mapping: GroupMapping) -> str:
    return (
        f"Gruppen {mapping.group_id} ger inte längre {_gives(mapping.role.value, mapping.unit)}. "
        "De roller gruppen gav tas bort vid nästa synk (utom för den som får rollen av en annan grupp "
        "eller har fått den för hand)."
    )


NO_MAPPINGS = (
    "Inga grupper är kopplade till roller. Koppla en med kompetensbot roles map-group <grupp-id> <roll>."
)


MAPPING_HEADER = "Grupp-id\tNamn\tRoll\tNämnd\tSenast synkad\tMedlemmar"


def mapping_lines(statuses: list[MappingStatus]) -> list[str]:
    """`roles groups`: a header, then one line a mapping (tab-separated, under the header's
    columns), its last error under it when the last sync failed."""
    if not statuses:
        return [NO_MAPPINGS]
    lines: list[str] = [MAPPING_HEADER]
    for s in statuses:
        m = s.mapping
        members = str(s.members) if s.members is not None else "–"
        lines.append(
            f"{m.group_id}\t{m.name or '–'}\t{m.role.value}\t{m.unit or 'hela staden'}\t"
            f"{when(s.synced_at)}\t{members}"
        )
        if s.error:
            lines.append(f"  Fel vid synken {when(s.tried_at)}: {s.error}")
    return lines


def mapping_json(s: MappingStatus) -> dict[str, Any]:
    return {
        "group_id": s.mapping.group_id,
        "name": s.mapping.name,
        "role": s.mapping.role.value,
        "unit": s.mapping.unit,
        "created_by": s.created_by,
        "created_at": s.created_at.isoformat(),
        "synced_at": s.synced_at.isoformat() if s.synced_at else None,
        "tried_at": s.tried_at.isoformat() if s.tried_at else None,
        "members": s.members,
        "error": s.error or None,
    }


def _person(line: SyncLine) -> str:
    return f"{line.name} ({line.user})" if line.name and line.name != line.user else line.user


def sync_lines(report: SyncReport) -> list[str]:
    """`roles sync`: who got and lost what, what was kept, and the groups not read."""
    lines = [
        f"{_person(a)} fick {_gives(a.role.value, a.unit)} (grupp {_group(a.group_id, a.group_name)})."
        for a in report.added
    ]
    lines += [
        f"{_person(r)} förlorade {_gives(r.role.value, r.unit)}: inte längre med i någon grupp som ger den."
        for r in report.revoked
    ]
    lines += [
        f"{_person(k)} behåller {_gives(k.role.value, k.unit)} tills vidare: en grupp som ger den "
        "kunde inte läsas."
        for k in report.held_back
    ]
    lines += [f"Fel: {error}" for _group_id, error in report.failed]
    groups = f"{report.groups} {'grupp' if report.groups == 1 else 'grupper'}"
    if report.failed:
        done = f"Synken läste {report.groups - len(report.failed)} av {groups}"
    else:
        done = f"Synken läste {groups}"
    counts = f"{len(report.added)} roller tillagda, {len(report.revoked)} borttagna"
    lines.append(f"{done}: {counts}." if report.changed else f"{done}: inga ändringar.")
    return lines


def _line_json(line: SyncLine) -> dict[str, Any]:
    return {
        "user": line.user,
        "name": line.name,
        "role": line.role.value,
        "unit": line.unit,
        "group_id": line.group_id,
        "group_name": line.group_name,
    }


def sync_json(report: SyncReport) -> dict[str, Any]:
    return {
        "at": report.at.isoformat() if report.at else None,
        "groups": report.groups,
        "added": [_line_json(a) for a in report.added],
        "revoked": [_line_json(r) for r in report.revoked],
        "kept": [_line_json(k) for k in report.held_back],
        "failed": [{"group": g, "error": e} for g, e in report.failed],
    }
