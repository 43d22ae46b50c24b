"""``etsyflow status`` and ``etsyflow dlq …``: watch the queues, put failed work back."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click

from ..config import get_settings

#: Lines of a dead letter's traceback that ``dlq show`` prints.
TRACEBACK_LINES = 12


def _require_shared_parts():
    settings = get_settings()
    if settings.embedded:
        raise click.ClickException("set REDIS_URL (and BROKER_URL if the broker is elsewhere): with the embedded "
                                   "in-memory parts there is nothing shared to look at")
    return settings


def _echo_json(value) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def _broker_errors(func, *args, **kwargs):
    """Run ``func``; connection problems and unknown ids become one clear line."""
    from ..ops import UnknownMessage
    from ..workers.outcomes import is_connection_error

    try:
        return func(*args, **kwargs)
    except UnknownMessage as error:
        raise click.ClickException(str(error)) from None
    except Exception as error:
        if is_connection_error(error) or isinstance(error, OSError):
            raise click.ClickException(f"cannot reach the broker or Redis: {error}") from None
        raise


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object (for scripts)")
def status(as_json: bool) -> None:
    """Queues (ready, in flight, delayed, dead-lettered), shops (token, last poll, order cursor,
    parked work) and the Etsy quota left today."""
    from ..ops.status import gather, render

    settings = _require_shared_parts()
    report = _broker_errors(gather, settings)
    if as_json:
        _echo_json(report)
    else:
        click.echo(render(report))


# -- dlq ---------------------------------------------------------------------------------

def _queue():
    from ..ops import DeadLetterQueue

    return DeadLetterQueue(_require_shared_parts())


def _selection(message_ids=(), queue=None, actor=None, shop=None, every=False):
    from ..ops import Selection

    if not (message_ids or queue or actor or shop is not None or every):
        raise click.UsageError("say which messages: MESSAGE_ID…, --all, --queue, --actor or --shop")
    if message_ids and every:
        raise click.UsageError("give message ids or --all, not both")
    return Selection(message_ids=tuple(message_ids), queue=queue, actor=actor, shop_id=shop)


def _filters(func):
    func = click.option("--shop", type=click.IntRange(min=1), help="only this shop id")(func)
    func = click.option("--actor", help="only this actor (on_ListingReady or ListingReady)")(func)
    func = click.option("--queue", help="only this queue (e.g. etsyflow.listings)")(func)
    return func


def _stamp(epoch) -> str:
    if not epoch:
        return "-"
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def _short(text, width) -> str:
    text = "-" if text is None else str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


@click.group("dlq")
def dlq() -> None:
    """Dead-lettered messages: see why they failed, replay them once the cause is fixed, or purge them."""


@dlq.command("list")
@_filters
@click.option("--json", "as_json", is_flag=True, help="print JSON (for scripts)")
def dlq_list(queue, actor, shop, as_json) -> None:
    """Dead-lettered messages, oldest first: actor, event, shop, attempts, last error."""
    from ..ops import Selection

    letters = _broker_errors(_queue().list, Selection(queue=queue, actor=actor, shop_id=shop))
    if as_json:
        _echo_json([letter.as_dict() for letter in letters])
        return
    if not letters:
        click.echo("no dead-lettered messages")
        return
    from ..ops.status import table

    rows = [[letter.message_id, letter.actor, letter.event_type or "-", _short(letter.event_id, 36),
             letter.shop_id, letter.retries, _stamp(letter.dead_at), _short(letter.last_error, 70)]
            for letter in letters]
    for line in table(["message id", "actor", "event", "event id", "shop", "attempts", "dead since",
                        "last error"], rows):
        click.echo(line)
    click.echo(f"\n{len(letters)} message(s). `etsyflow dlq show ID` for one in full, "
               "`etsyflow dlq replay ID…|--all` once the cause is fixed.")


@dlq.command("show")
@click.argument("message_id")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def dlq_show(message_id, as_json) -> None:
    """One dead-lettered message in full: its event, options, last error and traceback."""
    letter = _broker_errors(_queue().get, message_id)
    full = letter.as_dict(full=True)
    if as_json:
        _echo_json(full)
        return
    labels = {"message_id": "message id", "event_type": "event", "event_id": "event id", "shop_id": "shop",
              "retries": "attempts"}
    for name in ("message_id", "queue", "actor", "event_type", "event_id", "shop_id", "retries", "replays"):
        click.echo(f"{labels.get(name, name) + ':':<12} {full[name]}")
    click.echo(f"{'dead since:':<12} {_stamp(full['dead_at'])}")
    click.echo(f"{'last error:':<12} {full['last_error'] or '-'}")
    click.echo("event:")
    click.echo(json.dumps(full["envelope"], indent=2, sort_keys=True))
    if full["traceback"]:
        lines = full["traceback"].rstrip().splitlines()
        click.echo(f"traceback of an earlier attempt (last {min(len(lines), TRACEBACK_LINES)} lines; "
                   "--json has it all):")
        click.echo("\n".join(lines[-TRACEBACK_LINES:]))


@dlq.command("replay")
@click.argument("message_ids", nargs=-1)
@click.option("--all", "every", is_flag=True, help="every dead-lettered message (within the filters)")
@_filters
def dlq_replay(message_ids, every, queue, actor, shop) -> None:
    """Put dead-lettered messages back on their queues, retries reset."""
    selection = _selection(message_ids, queue, actor, shop, every)
    done = _broker_errors(_queue().replay, selection)
    for letter in done:
        click.echo(f"replayed {letter.message_id} ({letter.actor}, event {letter.event_id}) "
                   f"on {letter.queue}")
    click.echo(f"{len(done)} message(s) replayed")


@dlq.command("purge")
@click.argument("message_ids", nargs=-1)
@click.option("--all", "every", is_flag=True, help="every dead-lettered message (within the filters)")
@_filters
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def dlq_purge(message_ids, every, queue, actor, shop, yes) -> None:
    """Delete dead-lettered messages for good."""
    selection = _selection(message_ids, queue, actor, shop, every)
    dead = _queue()
    letters = _broker_errors(dead.select, selection)
    if not letters:
        click.echo("no dead-lettered message matches")
        return
    if not yes:
        click.confirm(f"delete {len(letters)} dead-lettered message(s) for good?", abort=True)
    done = _broker_errors(dead.purge, selection)
    click.echo(f"{len(done)} message(s) purged")


COMMANDS = [status, dlq]
