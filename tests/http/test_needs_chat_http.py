"""Issue 21 through the Bot Framework protocol (the real aiohttp app, an anonymous server with
roles, the bot's date 2025-06-05): HR of ASN asks "vilka behov saknar insatser?" and gets her
committee's uncovered needs with their sources, then submits a measure on the form linked to one
of them (the link written with the measure), and a forged form naming another committee's need
is refused with nothing written. The needs are made here through NeedServices."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bot.clock import clock_for
from bot.needs_services import NeedServices
from core.model import Role
from dialogs import texts
from storage.db import make_engine
from tests.http.harness import ConnectorStub, activity
from tests.http.inprocess import InProcessBot
from tests.needs_builders import need

JUNE = date(2025, 6, 5)
HR = "aad-hr-asn"
AT = datetime(2025, 5, 2, 9, 0, tzinfo=UTC)


def _form(need_value: str) -> dict[str, Any]:
    return {
        "action": "submit_measure",
        "once": f"form-{need_value}",
        "unit": "ASN",
        "title": "Introduktion för nya biståndshandläggare",
        "end_date": "2025-12-31",
        "amount": "100 tkr",
        "decision": "ASN 2025-01-23 § 36",
        "need": need_value,
    }


def _send(
    app: InProcessBot, stub: ConnectorStub, text: str | None, value: object = None
) -> list[dict[str, Any]]:
    before = len(stub.activities("conv-hr"))
    status, _ = app.post(
        activity(
            text, value=value, service_url=stub.url, user_id=HR, name="Hanna HR", conversation_id="conv-hr"
        )
    )
    assert status in (200, 201, 202), status
    return [a for a in stub.activities("conv-hr")[before:] if a.get("type") == "message"]


def test_uncovered_needs_and_a_measure_linked_from_the_form(database_url: str) -> None:
    engine = make_engine(database_url)
    needs = NeedServices(engine, org="malmo", clock=clock_for(JUNE))
    needs.grant_role(None, HR, Role.HR, "ASN")
    needs.assess(None, need("S1", "ASN", "socialsekreterare", retirements=5, people=12))
    needs.assess(None, need("S2", "ASN", "biståndshandläggare", retirements=1, assessed=date(2022, 11, 1)))
    needs.assess(None, need("G1", "GVN", "yrkeslärare"))
    needs.link(None, "S1", "Insats utbildning i neuropsykiatriska diagnoser", author="Stadskontoret")
    stub = ConnectorStub().start()
    app = InProcessBot(database_url, demo=False, anonymous_requested=True, today=JUNE).start()
    try:
        [answer] = _send(app, stub, "vilka behov saknar insatser?")
        said = answer["text"]
        assert said.startswith("**Behov utan insatser 2025: 1 av 2.**")
        assert "**biståndshandläggare** (ASN, behov S2)" in said and "socialsekreterare" not in said
        assert "Källa: Kompetensförsörjningsplan 2024 (1 februari 2024), bedömd 1 november 2022" in said
        assert "**bedömningen är äldre än två år**" in said
        assert "yrkeslärare" not in said  # GVN's need is not HR of ASN's to read

        # The form she is given offers her committee's needs.
        [intro, *_] = _send(app, stub, "ny insats")
        form = intro["attachments"][0]["content"]
        [offered] = [e for e in form["body"] if e.get("id") == "need"]
        assert [c["value"] for c in offered["choices"]] == ["S1", "S2", "inget"]
        _send(app, stub, "avbryt")

        measures = len(needs.ledger().measures)
        entries = len(needs.all_needs().entries)
        [refused] = _send(app, stub, None, _form("G1"))  # another committee's need, forged
        assert refused["text"].startswith("Formuläret sparades inte.")
        assert (
            'Behovet "G1" är inget av behoven för Arbetsmarknads- och socialnämnden (ASN).' in refused["text"]
        )
        assert (len(needs.ledger().measures), len(needs.all_needs().entries)) == (measures, entries)

        [confirm] = _send(app, stub, None, _form("S2"))
        label = texts.need_label("S2", "biståndshandläggare", "Ersättningsrekrytering")
        assert confirm["text"] == texts.CONFIRM_MEASURE and label in str(confirm["attachments"])
        [receipt] = _send(app, stub, "ja")
        assert receipt["text"].endswith(texts.measure_linked(label))
        stored = max(needs.ledger().measures.values(), key=lambda m: m.id)
        assert stored.title == "Introduktion för nya biståndshandläggare"
        [link] = needs.all_needs().links_of_measure(stored.id)
        assert (link.need, link.author_id) == ("S2", HR)

        [after] = _send(app, stub, "vilka behov saknar insatser?")  # S2 is answered now
        assert after["text"].startswith("**Alla 2 behov har en insats som svarar mot dem 2025.**")
        assert not app.errors.records, app.errors.lines()
    finally:
        app.stop()
        stub.stop()
        engine.dispose()
