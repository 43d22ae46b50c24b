"""A local stand-in for Etsy Open API v3: OAuth, shops, listings, receipts,
rate limits and faults, with an admin interface under ``/_sandbox/``.

``create_app(**config)`` gives the WSGI app; ``testing.run_sandbox`` runs one in
a background thread; ``etsy-sandbox`` (or ``python -m etsy_sandbox``) serves one
from the command line. The package stands alone: it imports nothing of etsyflow.
"""

from .app import Sandbox, create_app
from .config import SandboxConfig

__all__ = ["Sandbox", "SandboxConfig", "create_app"]
