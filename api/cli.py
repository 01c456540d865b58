"""``brightkitchen``: the single entry point for every job.

Each job lives in a module under ``api/commands/`` that exposes ``register(app)``; heavy
imports (torch, ultralytics, FastAPI) happen inside the command bodies so ``--help`` is fast.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="brightkitchen",
    help="BrightKitchen: Internet+ bright kitchen (明厨亮灶) supervision.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES: tuple[str, ...] = (
    "api.commands.synth",
    "api.commands.demo",
    "api.commands.run",
    "api.commands.server",
    "api.commands.analyze",
    "api.commands.dispatch",
    "api.commands.model",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:  # pragma: no cover - console script shim
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
