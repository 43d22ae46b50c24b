"""``etsyflow demo``."""

import click


@click.command("demo")
def demo() -> None:
    """Run the whole flow end to end on embedded defaults (sandbox, in-memory Redis and bus)."""
    from ..config.logging import configure_logging
    from ..demo import run

    configure_logging("ERROR")  # the timeline is the output; rejections show in it
    try:
        run(click.echo)
    except TimeoutError as error:
        raise click.ClickException(str(error)) from None


COMMANDS = [demo]
