"""The Dramatiq broker chosen by ``BROKER_URL``.

- unset (and no ``REDIS_URL``): Dramatiq's Redis broker on the embedded
  fakeredis server, for one process (``etsyflow demo``);
- ``redis://…``: Dramatiq's Redis broker (:class:`.redis_broker.RedisBroker`:
  nothing stranded by a lost connection), with :class:`.upkeep.Upkeep`
  returning dead workers' messages on a timer;
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
from . import outcomes
from .middleware import DeadLetters
from .options import DEAD_MESSAGE_TTL, HEARTBEAT_TIMEOUT, MAINTENANCE_CHANCE
from .redis_broker import RedisBroker as SafeRedisBroker
from .upkeep import Upkeep

#: Errors of a Dramatiq broker that cannot be reached (the bridge requeues on these only).
BROKER_CONNECTION_ERRORS: tuple = (dramatiq.errors.BrokerConnectionError,)



def build_broker(settings: Settings | None = None) -> dramatiq.Broker:
    """A new broker for ``settings`` with etsyflow's middleware added."""
    settings = settings or get_settings()
    url = settings.effective_broker_url
    if url and url.startswith(("amqp://", "amqps://")):
        # RabbitMQ's dead-letter TTL comes from dramatiq's `dramatiq_dead_message_ttl`
        # environment variable, read when dramatiq is imported (7 days by default).
        broker = RabbitmqBroker(url=url, confirm_delivery=True)
    elif url:
        broker = SafeRedisBroker(url=url, dead_message_ttl=DEAD_MESSAGE_TTL, heartbeat_timeout=HEARTBEAT_TIMEOUT,
                                 maintenance_chance=MAINTENANCE_CHANCE, socket_timeout=10, socket_connect_timeout=5)
    else:
        broker = SafeRedisBroker(client=make_client(None), dead_message_ttl=DEAD_MESSAGE_TTL,
                                 heartbeat_timeout=HEARTBEAT_TIMEOUT, maintenance_chance=MAINTENANCE_CHANCE)
    add_middleware(broker)
    return broker


def add_middleware(broker: dramatiq.Broker) -> None:
    """Middleware every etsyflow broker needs (also applied to test brokers)."""
    # Retries whose enqueue failure holds the acknowledgement back (nothing acked before its retry is stored).
    outcomes.install(broker)
    present = {type(m) for m in broker.middleware}
    if CurrentMessage not in present:
        broker.add_middleware(CurrentMessage())
    if DeadLetters not in present:
        # Records why a message was dead-lettered and publishes the rejection notice.
        broker.add_middleware(DeadLetters())
    if isinstance(broker, RedisBroker) and Upkeep not in present:
        # Heartbeat and return of dead workers' messages on a timer, in every worker.
        broker.add_middleware(Upkeep())
