"""The key that encrypts stored tokens (issue 12, item 6; issue 11, item 5):
strength, key ids, fallbacks and rotation, version binding, the start-up check,
and a wrong key being a configuration error rather than a revoked shop."""

from __future__ import annotations

import base64
import os

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from etsyflow.cli import main
from etsyflow.config import ConfigError, Settings
from etsyflow.shops import DecryptError, ShopStore
from etsyflow.shops.crypto import key_id
from etsyflow.state import get_redis

OLD = "old-key-Vq3mZ8xKp2Lr7Tn4Wd9Hs6Jf"
NEW = "new-key-Bc5Ng1Qe8Uy3Io7Pa2Sd4Fg6"
SHOP = 4242
ACCESS, REFRESH = "4242.accessAAAAAAAAAAAAAAAAAAAAA", "4242.refreshRRRRRRRRRRRRRRRRRRRR"


@pytest.mark.parametrize("weak", ["a" * 16, "ab" * 8, "abcd" * 6, "password12345678", "0000000000000000000000"])
def test_weak_keys_are_refused_without_being_shown(weak):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"SECRET_KEY": weak})
    assert "SECRET_KEY" in str(caught.value) and "etsyflow keygen" in str(caught.value)
    assert weak not in str(caught.value)
    with pytest.raises(ConfigError, match="SECRET_KEY_FALLBACKS: key 2"):
        Settings.from_env({"SECRET_KEY": NEW, "SECRET_KEY_FALLBACKS": f"{OLD},{weak}"})


def test_keygen_prints_a_strong_new_key():
    first = CliRunner().invoke(main, ["keygen"]).output.strip()
    second = CliRunner().invoke(main, ["keygen"]).output.strip()
    assert first != second and len(first) >= 40
    assert Settings.from_env({"SECRET_KEY": first}).secret_key == first


@pytest.fixture
def keyed(configure, redis_url):
    """Settings on a real Redis with ``SECRET_KEY``/``SECRET_KEY_FALLBACKS`` of the caller's choice."""
    def use(key: str, fallbacks: str = "") -> ShopStore:
        configure(REDIS_URL=redis_url, SECRET_KEY=key, SECRET_KEY_FALLBACKS=fallbacks)
        return ShopStore()
    return use


def test_values_carry_the_key_id(keyed):
    store = keyed(OLD)
    store.save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    stored = get_redis().hget(store.shop_key(SHOP), "access_token").decode()
    assert stored.startswith(f"v2.{key_id(OLD)}.")
    assert key_id(OLD) != key_id(NEW) and OLD not in stored


def test_fallback_reads_and_rotation_rewrites(keyed):
    keyed(OLD).save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    with pytest.raises(DecryptError, match="SECRET_KEY_FALLBACKS"):
        keyed(NEW).load_tokens(SHOP)
    store = keyed(NEW, OLD)
    assert store.load_tokens(SHOP).access_token == ACCESS  # read with the fallback
    result = CliRunner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "1 shop(s)" in result.output
    assert keyed(NEW).load_tokens(SHOP).refresh_token == REFRESH  # the old key is no longer needed
    with pytest.raises(DecryptError):
        keyed(OLD).load_tokens(SHOP)
    keyed(NEW)
    again = CliRunner().invoke(main, ["keys", "rotate"])
    assert "already current: 1" in again.output


def test_rotation_names_shops_no_key_can_read(keyed):
    keyed(OLD).save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    keyed(NEW)
    result = CliRunner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 1 and str(SHOP) in result.output and "SECRET_KEY_FALLBACKS" in result.output


def test_an_older_ciphertext_written_back_does_not_decrypt(keyed):
    store = keyed(NEW)
    store.save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    redis = get_redis()
    old_access = redis.hget(store.shop_key(SHOP), "access_token")
    old_refresh = redis.hget(store.shop_key(SHOP), "refresh_token")
    store.save_tokens(SHOP, "4242.newaccessBBBBBBBBBBBBBBBBB", "4242.newrefreshCCCCCCCCCCCCCCC", 3600)
    redis.hset(store.shop_key(SHOP), mapping={"access_token": old_access, "refresh_token": old_refresh})
    with pytest.raises(DecryptError):
        store.load_tokens(SHOP)


def _first_format(key: str, plaintext: str, context: str) -> str:
    """A value as the first format stored it (no key id, no version)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"etsyflow",
                   info=b"etsyflow shop secrets v1").derive(key.encode())
    nonce = os.urandom(12)
    return "v1." + base64.urlsafe_b64encode(nonce + AESGCM(derived).encrypt(nonce, plaintext.encode(),
                                                                            context.encode())).decode()


def test_first_format_values_are_read_and_rotated(keyed):
    store = keyed(NEW, OLD)
    get_redis().hset(store.shop_key(SHOP), mapping={
        "access_token": _first_format(OLD, ACCESS, f"shop:{SHOP}:access_token"),
        "refresh_token": _first_format(OLD, REFRESH, f"shop:{SHOP}:refresh_token"),
        "token_version": "3", "expires_at": "9999999999", "token_status": "ok"})
    get_redis().sadd(store.shops_key, SHOP)
    assert store.load_tokens(SHOP).access_token == ACCESS
    assert store.rotate_keys()["rotated"] == 1
    assert keyed(NEW).load_tokens(SHOP).access_token == ACCESS


@pytest.mark.parametrize("process", ["worker", "bridge", "scheduler", "webhooks"])
def test_processes_refuse_to_start_with_a_key_that_cannot_decrypt(keyed, process):
    keyed(OLD).save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    keyed(NEW)
    result = CliRunner().invoke(main, [process], env={"WEBHOOK_SIGNING_SECRET": "whsec_" + "A" * 32})
    assert result.exit_code == 1
    assert "SECRET_KEY" in result.output and str(SHOP) in result.output and "will not start" in result.output


def test_start_up_check_passes_with_the_right_key_or_a_fallback(keyed):
    from etsyflow.cli.keys import require_readable_secrets

    keyed(OLD).save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    require_readable_secrets("worker")
    keyed(NEW, OLD)
    require_readable_secrets("worker")


def test_a_wrong_key_is_a_configuration_error_not_a_revoked_shop(keyed):
    """A worker with another key once parked work as 'revoked' while the shop showed ok."""
    from etsyflow.messages.tail import EventTail
    from etsyflow.shops import shop_client
    from etsyflow.workers.parking import parked_count

    keyed(OLD).save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    store = keyed(NEW)
    with EventTail() as tail:
        with pytest.raises(DecryptError):
            shop_client(SHOP, store.settings, get_redis(), store=store).get_shop()
        with pytest.raises(TimeoutError):
            tail.wait_for("ShopAuthFailed", timeout=1)
    assert store.get(SHOP).token_status == "ok"
    assert parked_count(SHOP) == 0
