"""Dead-lettered messages: list, show, replay and purge them (``etsyflow dlq``).

A message lands in ``<queue>.XQ`` when Dramatiq gives up on it (retries
exhausted). :class:`DeadLetterQueue` reads those queues on the configured
broker and joins each message with the record :class:`~.middleware.DeadLetters`
kept (last error, attempts, when).

Replay puts a fresh copy on the message's original queue — retries reset,
same Dramatiq message id, timestamp "now" (so ``max_age`` counts from the
replay) — and only then removes it from the dead-letter queue: a crash in
between leaves it in both places (handled twice, harmlessly: actors are
idempotent), never in neither.

Redis broker: ``dramatiq:<q>.XQ`` (ids by dead-letter time) and
``dramatiq:<q>.XQ.msgs`` (id → message). RabbitMQ: the ``<q>.XQ`` queue,
read with ``basic_get`` and left in place unless replayed or purged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dramatiq import Message
from dramatiq.common import current_millis, q_name

from ..config import get_settings
from ..messages.contract import QUEUES
from ..state import get_redis
from . import records
from .broker import build_broker
from .middleware import LAST_ERROR, REPLAYS
from .queues import NAMESPACE, broker_redis, is_amqp

# Options Dramatiq or the broker add per delivery; a replayed message starts without them.
_DELIVERY_OPTIONS = {"retries", "traceback", "requeue_timestamp", "eta", "redis_message_id", LAST_ERROR}


@dataclass
class DeadLetter:
    """One dead-lettered message. Times are epoch seconds."""

    message_id: str
    queue: str
    actor: str
    event_id: str | None
    event_type: str | None
    shop_id: object
    retries: int
    last_error: str | None
    dead_at: float | None
    replays: int
    message: Message = field(repr=False)
    ref: object = field(default=None, repr=False)  # broker handle: Redis id or AMQP delivery tag

    def as_dict(self, *, full: bool = False) -> dict:
        out = {"message_id": self.message_id, "queue": self.queue, "actor": self.actor, "event_id": self.event_id,
               "event_type": self.event_type, "shop_id": self.shop_id, "retries": self.retries,
               "last_error": self.last_error, "dead_at": self.dead_at, "replays": self.replays}
        if full:
            out["envelope"] = self.message.args[0] if self.message.args else None
            out["options"] = {k: v for k, v in self.message.options.items() if k != "traceback"}
            out["traceback"] = self.message.options.get("traceback")
        return out


@dataclass
class Selection:
    """Which dead letters an operation applies to; empty means all."""

    message_ids: tuple[str, ...] = ()
    queue: str | None = None
    actor: str | None = None
    shop_id: int | None = None

    def matches(self, letter: DeadLetter) -> bool:
        if self.queue and letter.queue != self.queue:
            return False
        if self.actor and letter.actor not in (self.actor, f"on_{self.actor}"):
            return False
        if self.shop_id is not None and str(letter.shop_id) != str(self.shop_id):
            return False
        if self.message_ids and not any(letter.message_id.startswith(m) for m in self.message_ids):
            return False
        return True


class UnknownMessage(LookupError):
    pass


def _letter(message: Message, queue: str, record: dict | None, dead_at: float | None, ref) -> DeadLetter:
    envelope = message.args[0] if message.args and isinstance(message.args[0], dict) else {}
    data = envelope.get("data") if isinstance(envelope.get("data"), dict) else {}
    record = record or {}
    retries = record.get("retries", message.options.get("retries", 0))
    last_error = record.get("last_error") or message.options.get(LAST_ERROR) or _traceback_tail(message)
    return DeadLetter(
        message_id=message.message_id, queue=queue, actor=message.actor_name,
        event_id=envelope.get("id"), event_type=envelope.get("type"), shop_id=data.get("shop_id"),
        retries=int(retries or 0), last_error=last_error, dead_at=record.get("dead_at", dead_at),
        replays=int(message.options.get(REPLAYS, 0) or 0), message=message, ref=ref)


def _traceback_tail(message: Message) -> str | None:
    text = message.options.get("traceback")
    if not text:
        return None
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


def fresh_copy(message: Message) -> Message:
    """The message as a replay sends it: retries reset, replays + 1, timestamp now, on its own queue."""
    options = {k: v for k, v in message.options.items() if k not in _DELIVERY_OPTIONS}
    options[REPLAYS] = int(message.options.get(REPLAYS, 0) or 0) + 1
    return Message(queue_name=q_name(message.queue_name), actor_name=message.actor_name, args=message.args,
                   kwargs=message.kwargs, options=options, message_id=message.message_id,
                   message_timestamp=current_millis())


class DeadLetterQueue:
    """The dead-letter queues of etsyflow's work queues on the configured broker."""

    def __init__(self, settings=None, *, queues: list[str] | None = None, broker=None, state=None):
        self.settings = settings or get_settings()
        self.queues = list(queues or QUEUES)
        self._broker = broker
        self._state = state
        url = self.settings.effective_broker_url
        self.backend = _AmqpBackend(url) if is_amqp(url) else _RedisBackend(self.settings)

    @property
    def state(self):
        if self._state is None:
            self._state = get_redis()
        return self._state

    @property
    def broker(self):
        if self._broker is None:
            self._broker = build_broker(self.settings)
        return self._broker

    def list(self, selection: Selection | None = None) -> list[DeadLetter]:
        """Dead letters matching ``selection``, oldest first."""
        selection = selection or Selection()
        queues = [selection.queue] if selection.queue else self.queues
        found = []
        for queue, message, dead_at, ref in self.backend.messages(queues):
            found.append((queue, message, dead_at, ref))
        saved = records.load_many(self.state, [m.message_id for _, m, _, _ in found])
        letters = [_letter(m, q, saved.get(m.message_id), d, ref) for q, m, d, ref in found]
        letters = [letter for letter in letters if selection.matches(letter)]
        letters.sort(key=lambda letter: letter.dead_at or 0)
        return letters

    def get(self, message_id: str) -> DeadLetter:
        """The one dead letter whose id is (or starts with) ``message_id``."""
        matches = self.list(Selection(message_ids=(message_id,)))
        exact = [m for m in matches if m.message_id == message_id]
        if exact:
            return exact[0]
        if not matches:
            raise UnknownMessage(f"no dead-lettered message {message_id!r} (see `etsyflow dlq list`)")
        if len(matches) > 1:
            raise UnknownMessage(f"{message_id!r} matches {len(matches)} messages; give more of the id")
        return matches[0]

    def replay(self, selection: Selection) -> list[DeadLetter]:
        """Put the selected dead letters back on their queues; returns them."""
        letters = self.select(selection)
        done = self.backend.take(letters, lambda letter: self.broker.enqueue(fresh_copy(letter.message)))
        records.forget(self.state, [letter.message_id for letter in done])
        return done

    def purge(self, selection: Selection) -> list[DeadLetter]:
        """Delete the selected dead letters for good; returns them."""
        letters = self.select(selection)
        done = self.backend.take(letters, None)
        records.forget(self.state, [letter.message_id for letter in done])
        return done

    def select(self, selection: Selection) -> list[DeadLetter]:
        letters = self.list(selection)
        missing = [m for m in selection.message_ids if not any(x.message_id.startswith(m) for x in letters)]
        if missing:
            raise UnknownMessage(f"no dead-lettered message {', '.join(missing)} (see `etsyflow dlq list`)")
        return letters


class _RedisBackend:
    def __init__(self, settings):
        self.client = broker_redis(settings)

    def messages(self, queues):
        for queue in queues:
            xq = f"{NAMESPACE}:{queue}.XQ"
            entries = self.client.zrange(xq, 0, -1, withscores=True)
            if not entries:
                continue
            ids = [i for i, _ in entries]
            bodies = self.client.hmget(f"{xq}.msgs", ids)
            for (redis_id, score), body in zip(entries, bodies):
                if body is None:
                    continue  # expired between the two reads
                yield queue, Message.decode(body), score / 1000.0, redis_id

    def take(self, letters, before_remove):
        """Run ``before_remove(letter)`` (if any) then remove each letter from its XQ."""
        done = []
        for letter in letters:
            if before_remove is not None:
                before_remove(letter)
            xq = f"{NAMESPACE}:{letter.queue}.XQ"
            pipe = self.client.pipeline(transaction=True)
            pipe.zrem(xq, letter.ref)
            pipe.hdel(f"{xq}.msgs", letter.ref)
            pipe.execute()
            done.append(letter)
        return done


class _AmqpBackend:
    """RabbitMQ: messages are fetched unacknowledged; closing the channel puts back what was not taken."""

    def __init__(self, url):
        self.url = url

    def _connect(self):
        import pika  # only a RabbitMQ deployment needs pika at run time

        params = pika.URLParameters(self.url)
        params.socket_timeout = 5
        params.blocked_connection_timeout = 5
        return pika.BlockingConnection(params)

    def _drain(self, channel, queue):
        import pika  # only a RabbitMQ deployment needs pika at run time

        try:
            channel.queue_declare(f"{queue}.XQ", passive=True)
        except pika.exceptions.ChannelClosedByBroker:
            return None
        got = []
        while True:
            method, properties, body = channel.basic_get(f"{queue}.XQ", auto_ack=False)
            if method is None:
                return got
            got.append((method.delivery_tag, properties, body))

    def messages(self, queues):
        connection = self._connect()
        try:
            for queue in queues:
                channel = connection.channel()
                got = self._drain(channel, queue)
                if got is None:
                    continue
                for tag, properties, body in got:
                    yield queue, Message.decode(body), _death_time(properties), tag
                if channel.is_open:
                    channel.close()  # unacknowledged: back in the queue
        finally:
            connection.close()

    def take(self, letters, before_remove):
        wanted = {(letter.queue, letter.message_id): letter for letter in letters}
        done = []
        connection = self._connect()
        try:
            for queue in sorted({letter.queue for letter in letters}):
                channel = connection.channel()
                for tag, _properties, body in self._drain(channel, queue) or []:
                    letter = wanted.get((queue, Message.decode(body).message_id))
                    if letter is None:
                        continue
                    if before_remove is not None:
                        before_remove(letter)
                    channel.basic_ack(tag)
                    done.append(letter)
                channel.close()
        finally:
            connection.close()
        return done


def _death_time(properties) -> float | None:
    deaths = (properties.headers or {}).get("x-death") if properties is not None else None
    if deaths:
        stamp = deaths[0].get("time")
        if hasattr(stamp, "timestamp"):
            return stamp.timestamp()
    return None
