"""The Dramatiq broker chosen by ``BROKER_URL``.

- unset (and no ``REDIS_URL``): Dramatiq's Redis broker on the embedded
  fakeredis server, for one process (``etsyflow demo``);
- ``redis://…``: Dramatiq's Redis broker;
- ``amqp://…``: Dramatiq's RabbitMQ broker with publisher confirms, so an
  enqueue returns only once RabbitMQ has the message.

Dead letters are Dramatiq's own: the ``<queue>.XQ`` queues, kept
``DEAD_MESSAGE_TTL`` milliseconds.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from ..config.settings import Settings, get_settings
from ..state.connection import make_client
from .middleware import DeadLetters
from .options import DEAD_MESSAGE_TTL, HEARTBEAT_TIMEOUT



def build_broker(settings: Settings | None = None) -> dramatiq.Broker:
    """A new broker for ``settings`` with etsyflow's middleware added."""
    settings = settings or get_settings()
    url = settings.effective_broker_url
    if url and url.startswith(("amqp://", "amqps://")):
        # RabbitMQ's dead-letter TTL comes from dramatiq's `dramatiq_dead_message_ttl`
        # environment variable, read when dramatiq is imported (7 days by default).
        broker = RabbitmqBroker(url=url, confirm_delivery=True)
    elif url:
        broker = RedisBroker(url=url, dead_message_ttl=DEAD_MESSAGE_TTL, heartbeat_timeout=HEARTBEAT_TIMEOUT,
                             socket_timeout=10, socket_connect_timeout=5)
    else:
        broker = RedisBroker(client=make_client(None), dead_message_ttl=DEAD_MESSAGE_TTL,
                             heartbeat_timeout=HEARTBEAT_TIMEOUT)
    add_middleware(broker)
    return broker


def add_middleware(broker: dramatiq.Broker) -> None:
    """Middleware every etsyflow broker needs (also applied to test brokers)."""
    present = {type(m) for m in broker.middleware}
    if CurrentMessage not in present:
        broker.add_middleware(CurrentMessage())
    if DeadLetters not in present:
        # Records why a message was dead-lettered and publishes the rejection notice.
        broker.add_middleware(DeadLetters())
