"""structlog configuration: JSON lines in production, console when on a terminal.

Every line carries what :func:`bind_event` bound (event id, type, shop, actor)
through contextvars. :func:`redact` runs last before rendering so a secret
never reaches a log line, whatever a caller passes.

Standard-library log records (Dramatiq, kombu, requests…) are redacted when
they are created (a log record factory), not by one handler: the Dramatiq CLI
installs its own handler in each worker process, and whatever handler writes a
record, its message, arguments and traceback are already scrubbed.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback

import structlog

# Keys whose values are always secret, wherever they appear in a log line.
SECRET_KEYS = re.compile(
    r"(token|secret|password|authorization|api[_-]?key|code_verifier|verifier|signature|cookie|legacy)",
    re.IGNORECASE,
)
# Values that look like credentials even under an innocent key:
# Bearer headers, Etsy access tokens "<user_id>.<token>", KEY:SECRET api keys.
SECRET_VALUES = [
    re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
    re.compile(r"\b\d{3,}\.[A-Za-z0-9_-]{20,}"),
    re.compile(r"((?:access|refresh)_token=)[^&\s]+"),
    re.compile(r"((?:code_verifier|client_secret|legacy_token|code)=)[^&\s]+"),
    # a secret-named key with a quoted value inside text (the repr of a dict in a
    # Dramatiq message line, JSON), and secret-named key=value pairs
    re.compile(r"""(['"][\w-]*(?:token|secret|password|authorization|api[_-]?key|verifier|signature)[\w-]*['"]"""
               r"""\s*:\s*['"])(?!\[redacted\])[^'"]+""", re.IGNORECASE),
    re.compile(r"\b([\w-]*(?:token|secret|password|api[_-]?key)[\w-]*=)(?!\[redacted\])[^&\s'\",;]+",
               re.IGNORECASE),
    re.compile(r"\b(whsec_)[A-Za-z0-9+/=]+"),
]
REDACTED = "[redacted]"


def _scrub(value):
    if isinstance(value, str):
        for pattern in SECRET_VALUES:
            value = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, value)
        return value
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and SECRET_KEYS.search(k) and v else _scrub(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v) for v in value)
    return value


def redact(_logger, _method, event_dict):
    """structlog processor: blank secret keys and scrub secret-looking values."""
    return _scrub(event_dict)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Scrub a standard-library record in place: message (with its arguments
    merged), traceback and stack. Formatters then find nothing left to leak."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the raw parts, scrubbed
        message = f"{record.msg} {record.args!r}"
    record.msg, record.args = _scrub(str(message)), None
    if record.exc_info and not record.exc_text:
        try:
            record.exc_text = _scrub("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        except Exception:  # pragma: no cover - formatting a traceback failed
            record.exc_text = "[traceback not shown]"
    if record.stack_info:
        record.stack_info = _scrub(record.stack_info)
    return record


def install_record_redaction() -> None:
    """Make every standard-library log record of this process redacted at birth."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_etsyflow_redacting", False):
        return

    def factory(*args, **kwargs):
        return redact_record(current(*args, **kwargs))

    factory._etsyflow_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_configured = False


def configure_logging(level: str = "INFO", *, json: bool | None = None, stream=None) -> None:
    """Configure structlog and the standard library root logger once per process.

    ``json=None`` chooses JSON unless ``stream`` is a terminal.
    """
    global _configured
    install_record_redaction()
    stream = stream or sys.stderr
    if json is None:
        json = not (hasattr(stream, "isatty") and stream.isatty())
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level, logging.INFO)),
        logger_factory=structlog.WriteLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    # Library loggers (dramatiq, kombu) go through the same redaction.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_etsyflow", False):
            root.removeHandler(old)
    handler._etsyflow = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING if level == "INFO" else getattr(logging, level, logging.INFO))
    _configured = True


def get_logger(name: str | None = None, **bound):
    """A structlog logger with ``bound`` keys on every line."""
    return structlog.get_logger(name).bind(**bound) if bound else structlog.get_logger(name)


def bind_event(*, event_id=None, event_type=None, shop_id=None, actor=None):
    """Bind the event's identity to every log line of the current context.

    Returns the contextvars tokens; pass them to :func:`unbind_event`.
    """
    values = {k: v for k, v in {
        "event_id": event_id, "event_type": event_type, "shop_id": shop_id, "actor": actor,
    }.items() if v is not None}
    return structlog.contextvars.bind_contextvars(**values)


def unbind_event(tokens) -> None:
    structlog.contextvars.reset_contextvars(**tokens)
