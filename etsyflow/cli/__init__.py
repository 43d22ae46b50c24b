"""The ``etsyflow`` command line. Each command group lives in its own module.

Commands import what they run inside their function: ``etsyflow --help`` and
a command that needs little (``shop list``) do not load Dramatiq, kombu,
Flask and the Etsy client.
"""

from __future__ import annotations

import importlib
import sys

import click

from .. import ATTRIBUTION, __version__
from ..config import ConfigError, get_settings
from ..config.logging import configure_logging

# Modules that each add one command or group to ``main``.
COMMAND_MODULES = [
    "etsyflow.cli.shop",
    "etsyflow.cli.events",
    "etsyflow.cli.processes",
    "etsyflow.cli.orders",
    "etsyflow.cli.carriers",
    "etsyflow.cli.sandbox",
    "etsyflow.cli.demo",
    "etsyflow.cli.ops",
]


@click.group(
    help=f"etsyflow {__version__}: keeps Etsy shops in step with your back office.\n\n{ATTRIBUTION}",
    epilog=ATTRIBUTION,
)
@click.version_option(__version__, prog_name="etsyflow")
@click.pass_context
def main(ctx: click.Context) -> None:
    try:
        settings = get_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    configure_logging(settings.log_level)
    # Shop complete/import: a reconnected shop gets the work parked for it back.
    from ..workers import replay_on_reconnect  # lazily: see the module docstring

    replay_on_reconnect()


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for command in getattr(module, "COMMANDS", []):
            main.add_command(command)


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
