"""The commands of `kompetensbot`, one module per command or group of commands.

Every module has `register(commands)`, which adds its parsers and binds each to its
handler (cli.common.handles); `REGISTRY` holds them, in the order --help lists the
commands. A new command: a module here, and its `register` in REGISTRY.
"""

from __future__ import annotations

from collections.abc import Callable

from cli.commands import (
    db,
    examples,
    followup,
    funds,
    health,
    measures,
    money,
    needs,
    package,
    roles,
    serve,
    substitutes,
    templates,
    tenants,
    validate,
)
from cli.common import Commands

REGISTRY: tuple[Callable[[Commands], None], ...] = (
    db.register,
    examples.register,
    templates.register,
    funds.register,
    measures.register,
    needs.register,  # needs, and need add | link | unlink | history
    followup.register,  # followup add, and the round's commands (rounds.register)
    money.register,
    roles.register,
    substitutes.register,  # substitute set | list | end (issue 22)
    serve.register,
    health.register,  # GET /healthz from outside: the container's health check
    tenants.register,
    validate.register,
    package.register,
)
