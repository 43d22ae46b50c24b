"""Shop credentials: the encrypted token store, OAuth connection, token refresh.

What other parts use::

    store = ShopStore()                 # process-wide Redis and settings
    store.list_shops() -> [Shop]        # no secrets in Shop
    store.get(shop_id) -> Shop | None
    store.is_usable(shop_id) -> bool    # connected and not auth_failed
    store.set_setting(shop_id, "send_bcc", True)
    store.mark_polled(shop_id)
    on_reconnect.append(hook)           # hook(shop_id) after every (re)connection
    client, once = clients(shop_id)     # Etsy clients with the shop's tokens (once: never resends)
"""

from .clients import clients, shop_client
from .crypto import DecryptError, SecretKeyMissing
from .hooks import on_reconnect
from .oauth import ConnectError, LoginLink, complete, connect, import_legacy, import_tokens
from .store import SETTINGS, Shop, ShopNotFound, ShopStore, check_shop_id
from .tokens import ShopTokens

__all__ = [
    "ShopStore", "Shop", "ShopNotFound", "SETTINGS", "check_shop_id", "ShopTokens",
    "connect", "complete", "import_tokens", "import_legacy", "LoginLink", "ConnectError",
    "SecretKeyMissing", "DecryptError", "on_reconnect", "clients", "shop_client",
]
