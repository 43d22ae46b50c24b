"""``etsyflow sandbox``: run the local Etsy stand-in (the separate ``etsy-sandbox`` program)."""

from __future__ import annotations

import os
import sys

import click

from ..sandbox_process import SandboxMissing, sandbox_program


@click.command("sandbox", context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                            "help_option_names": []},
               help="Run the local Etsy Open API v3 sandbox (admin API under /_sandbox/). "
                    "All options go to `etsy-sandbox`; see `etsyflow sandbox --help`.")
@click.pass_context
def sandbox(ctx):
    try:
        program = sandbox_program()
    except SandboxMissing as error:
        raise click.ClickException(str(error)) from None
    argv = program + list(ctx.args)
    sys.stdout.flush()
    sys.stderr.flush()
    # The sandbox takes this process's place: signals (Ctrl-C, SIGTERM) reach it directly.
    os.execv(argv[0], argv)


COMMANDS = [sandbox]
