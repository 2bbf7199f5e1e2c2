"""What the command line says about reaching people (issue 22), in Swedish: the
installs through Microsoft Graph in `followup tick`, and `followup reach`. (Beside
cli/texts.py, as its own module, so these words stay together.)"""

from __future__ import annotations

from collections.abc import Mapping

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
