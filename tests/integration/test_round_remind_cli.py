"""Issue 20: `kompetensbot followup remind --period`, the command line's "påminn de som inte
svarat": the same service and rules as the chat (at most one extra reminder a Swedish day per
round; HR for its own units; the sends recorded for the next tick)."""

from __future__ import annotations

from datetime import date

from bot.round_services import RoundServices
from storage.db import make_engine
from tests.integration.test_cli import Kb, city, kb, loaded_example  # noqa: F401,F811 - fixtures


def test_followup_remind_records_an_extra_reminder_once_a_day(city: str, kb: Kb) -> None:  # noqa: F811
    assert kb("roles", "grant", "hr-fskn", "hr", "--unit", "FSKN").code == 0
    assert kb("roles", "grant", "chef-gvn", "chef", "--unit", "GVN").code == 0
    assert kb("followup", "open", "--period", "2025-06", "--as-of", "2025-05-20").code == 0
    engine = make_engine(city)
    try:
        RoundServices(engine, org="malmo").enqueue_due(date(2025, 6, 5))  # the cards (a tick)
        refused = kb(
            "followup", "remind", "--period", "2025-06", "--as-of", "2025-06-05", "--user", "chef-gvn"
        )
        assert refused.code == 2 and "påminna om uppföljningen" in refused.err
        done = kb("followup", "remind", "--period", "2025-06", "--as-of", "2025-06-05", "--user", "hr-fskn")
        assert done.code == 0, done.err
        assert "En extra påminnelse till 1 person i FSKN i uppföljningen juni 2025" in done.out
        again = kb("followup", "remind", "--period", "2025-06", "--as-of", "2025-06-05")
        assert again.code == 2 and "gick redan ut i dag kl. " in again.err and "hr-fskn" in again.err
        kinds = [s.kind.value for s in RoundServices(engine, org="malmo").sends("2025-06")]
        assert kinds.count("extra") == 1 and kinds.count("prompt") == 1
    finally:
        engine.dispose()
