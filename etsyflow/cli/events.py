"""``etsyflow publish`` and ``etsyflow events tail``."""

from __future__ import annotations

import json
import sys
import time

import click

from ..messages import CloudEvent, publish, publish_raw
from ..messages.tail import format_line


@click.command("publish")
@click.argument("event_type")
@click.option("--data", "data_json", help="the event's data as JSON")
@click.option("--file", "data_file", type=click.File("r"), help="a JSON file: the data, or a whole CloudEvent")
@click.option("--source", default="cli", show_default=True, help="the CloudEvents source")
def publish_command(event_type: str, data_json: str | None, data_file, source: str) -> None:
    """Publish one event of EVENT_TYPE to the bus (the bridge validates it)."""
    if (data_json is None) == (data_file is None):
        raise click.UsageError("give exactly one of --data or --file")
    text = data_json if data_json is not None else data_file.read()
    try:
        value = json.loads(text)
    except ValueError as error:
        raise click.BadParameter(f"not valid JSON: {error}") from None
    if isinstance(value, dict) and "specversion" in value:
        if value.get("type") != event_type:
            raise click.BadParameter(f"the file's event type {value.get('type')!r} is not {event_type!r}")
        publish_raw(json.dumps(value), event_type)
        click.echo(json.dumps({"published": event_type, "id": value.get("id")}))
        return
    if not isinstance(value, dict):
        raise click.BadParameter("the data must be a JSON object")
    event = publish(CloudEvent.new(event_type, value, source=source))
    click.echo(json.dumps({"published": event.type, "id": event.id}))


@click.group("events")
def events() -> None:
    """Watch the event bus."""


@events.command("tail")
@click.option("--type", "types", multiple=True, help="only this type (repeatable)")
@click.option("--json", "as_json", is_flag=True, help="print each event as one JSON line")
@click.option("--count", type=int, default=None, help="stop after this many events")
@click.option("--timeout", type=float, default=None, help="stop after this many seconds")
def tail_command(types, as_json: bool, count: int | None, timeout: float | None) -> None:
    """Print events from the bus as they pass."""
    from ..messages.tail import EventTail

    printed = 0

    def show(event: dict) -> None:
        nonlocal printed
        click.echo(json.dumps(event) if as_json else format_line(event))
        sys.stdout.flush()
        printed += 1

    deadline = None if timeout is None else time.monotonic() + timeout
    with EventTail(list(types) or None, on_event=show):
        try:
            while (count is None or printed < count) and (deadline is None or time.monotonic() < deadline):
                time.sleep(0.1)
        except KeyboardInterrupt:
            pass


COMMANDS = [publish_command, events]
