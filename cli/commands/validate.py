"""`kompetensbot validate`: replay the ledger, check every rule and the seal."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from bot.needs_services import NeedServices
from cli import texts
from cli.common import Commands, handles, services
from core.rules.decision import ungiven_decisions
from core.validation import validate, validate_needs
from storage.seal import ledger_key


def register(commands: Commands) -> None:
    v = commands.add_parser("validate", help="spela upp liggaren och kontrollera alla regler")
    v.add_argument("--json", action="store_true")
    handles(v, run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    city = services(args)
    ledger = city.ledger()
    errors = validate(ledger) + validate_needs(NeedServices(city.engine, city.org).all_needs(), ledger)
    ungiven = ungiven_decisions(ledger)
    key = ledger_key()
    chain = city.seal_report(key)
    seal_lines = texts.seal_text(chain, key)
    broken = bool(chain.problems) or chain.unverifiable
    if args.json:
        print(
            json.dumps(
                {
                    "entries": len(ledger.entries),
                    "errors": [e.message for e in errors],
                    "decisions_not_given": [
                        {
                            "measure": u.measure.id,
                            "unit": u.unit,
                            "amount": u.amount,
                            "stored": u.stored_as,
                        }
                        for u in ungiven
                    ],
                    "seal": {
                        "org": chain.slug,
                        "length": chain.length,
                        "head": chain.head,
                        "ok": not broken,
                        "development_key": chain.development or key.development,
                        "problems": [
                            {"kind": p.kind, "id": p.row_id, "seq": p.seq, "message": p.message}
                            for p in chain.problems
                        ],
                        "text": seal_lines,
                    },
                },
                ensure_ascii=False,
            ),
            file=out,
        )
    else:
        if errors:
            for e in errors:
                print(e.message, file=out)
        elif not broken:
            print(texts.ledger_valid(len(ledger.entries), len(ledger.followups)), file=out)
        for u in ungiven:
            print(texts.note(u.message), file=out)
        for line in seal_lines:
            print(line, file=out)
    return 1 if errors or broken else 0
