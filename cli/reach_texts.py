"""What the command line says about reaching people (issue 22), in Swedish: the
installs through Microsoft Graph in `followup tick`, and `followup reach`. (Beside
cli/texts.py, as its own module, so these words stay together.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.reach import ReachReport
from core.dates import format_period

INSTALL_STATES = {
    "installed": "installerade",
    "no_consent": "utan administratörens medgivande",
    "not_found": "finns inte i Entra ID",
    "failed": "misslyckades (försöks igen)",
}


def tick_installs(installs: Mapping[str, int]) -> str:
    """`followup tick`: what the installs through Microsoft Graph came to."""
    parts = ", ".join(f"{INSTALL_STATES.get(s, s)} {n}" for s, n in sorted(installs.items()) if n)
    return f"Appen installerad genom Microsoft Graph för dem utan konversation: {parts}."


WHY = {
    "no_conversation": "ingen konversation",
    "not_in_tenant": "finns inte i Entra ID",
    "blocked": "blockerad eller appen borttagen",
    "no_consent": "inget administratörsmedgivande",
    "install_failed": "installationen misslyckades",
    "to_install": "installeras när omgången öppnar",
}


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def reach_lines(report: ReachReport) -> list[str]:
    """`followup reach`: who of the round's recipients cannot be reached, why, and the
    measures and units that leaves without an answer, so HR can act before it opens."""
    total = len(report.recipients)
    unreachable = report.unreachable
    to_install = report.to_install
    reached = total - len(unreachable) - len(to_install)
    lines = [
        f"Nåbarhet för uppföljningsomgången {format_period(report.period)} ({report.period}): "
        f"{_n(total, 'mottagare', 'mottagare')} med obesvarade insatser"
        + ("." if report.opened else " (omgången är inte öppnad än)."),
    ]
    if report.graph_install:
        consent = {True: "ja", False: "nej", None: "okänt"}[report.consent]
        lines.append(f"Installation genom Microsoft Graph: på (administratörens medgivande: {consent}).")
    else:
        lines.append("Installation genom Microsoft Graph: av (KOMPETENSBOT_GRAPH_INSTALL).")
    lines.append(
        f"Nås i sin chatt med boten: {reached}. Installeras när omgången öppnar: {len(to_install)}. "
        f"Kan inte nås: {len(unreachable)}."
    )
    nobody = report.no_recipient
    if not unreachable:
        lines.append(
            "Alla mottagare kan nås."
            if not nobody
            else f"Alla mottagare kan nås, men {_n(len(nobody), 'obesvarad insats', 'obesvarade insatser')} "
            "har ingen mottagare alls (se nedan)."
        )
        return lines + _no_recipient_lines(report)
    lines += ["", f"Kan inte nås ({len(unreachable)}):"]
    for r in unreachable:
        who = f"{r.name} ({r.user_id})" if r.name else r.user_id
        lines.append(
            f"  - {who}: {WHY.get(r.why, r.why)}: {r.reason}. "
            f"{_n(len(r.measure_ids), 'insats', 'insatser')} i {', '.join(r.units)}."
        )
    measures, units = report.affected()
    in_units = _n(len(units), "nämnd", "nämnder")
    lines += ["", f"Insatser som blir utan svar om inget görs: {len(measures)}, i {in_units}:"]
    for code, count in units.items():
        lines.append(f"  - {report.unit_names.get(code, code)} ({code}): {_n(count, 'insats', 'insatser')}")
    return lines + _no_recipient_lines(report)


def _no_recipient_lines(report: ReachReport) -> list[str]:
    """The round's unanswered measures with nobody to ask, per unit (as `followup open` says
    them): no card goes out for them, whoever can be reached."""
    if not report.no_recipient:
        return []
    units = report.no_recipient_units()
    lines = [
        "",
        f"Ingen mottagare för {_n(len(report.no_recipient), 'obesvarad insats', 'obesvarade insatser')}, i "
        f"{_n(len(units), 'nämnd', 'nämnder')}: ingen ansvarig och ingen med rollen hr för nämnden, så inget "
        "kort skickas för dem.",
    ]
    names = report.unit_names
    for code, count in sorted(
        units.items(), key=lambda item: (names.get(item[0], item[0]).casefold(), item[0])
    ):
        lines.append(f"  - {names.get(code, code)} ({code}): {_n(count, 'insats', 'insatser')}")
    if sum(units.values()) > len(report.no_recipient):
        lines.append("  (En gemensam insats räknas i var och en av sina nämnder.)")
    lines.append(
        "  Ge nämndens HR rollen: kompetensbot roles grant <AAD-objekt-id> hr --unit KOD "
        "(eller ange en ansvarig för insatsen)."
    )
    return lines


def reach_json(report: ReachReport) -> dict[str, Any]:
    measures, units = report.affected()
    return {
        "period": report.period,
        "opened": report.opened,
        "graph_install": report.graph_install,
        "consent": report.consent,
        "recipients": len(report.recipients),
        "reached": len(report.recipients) - len(report.unreachable) - len(report.to_install),
        "to_install": [r.user_id for r in report.to_install],
        "unreachable": [
            {
                "recipient": r.user_id,
                "name": r.name,
                "why": r.why,
                "reason": r.reason,
                "measures": list(r.measure_ids),
                "units": list(r.units),
            }
            for r in report.unreachable
        ],
        "measures_affected": measures,
        # the unanswered measures nobody can be asked about: no card goes out for them
        "no_recipient": {
            "measures": list(report.no_recipient),
            "units": [
                {"code": code, "name": report.unit_names.get(code, code), "measures": n}
                for code, n in report.no_recipient_units().items()
            ],
        },
        "units_affected": [
            {"code": code, "name": report.unit_names.get(code, code), "measures": n}
            for code, n in units.items()
        ],
    }
