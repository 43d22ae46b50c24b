"""Tokens never on the command line (issue 12, item 5), and no shop change on the
embedded store (issue 11, item 6)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from etsyflow.cli import main
from tests.etsy.sandbox_env import env, etsy_redis_url, sandbox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type")

TOKEN = "5150.cmdlinesecretAAAAAAAAAAAAAAAAAAAAAA"


@pytest.mark.parametrize("args", [
    ["shop", "import", "--shop-id", "5", "--access-token", TOKEN, "--refresh-token", TOKEN + "R"],
    ["shop", "import", "--shop-id", "5", "--access-token", TOKEN],
    ["shop", "import-legacy", "--shop-id", "5", "--oauth-token", TOKEN, "--oauth-token-secret", "s3cr3t"],
])
def test_token_values_as_arguments_are_refused_saying_how(real_redis, args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "standard input" in result.output and "ps" in result.output
    assert ("ETSY_ACCESS_TOKEN" in result.output) or ("ETSY_LEGACY_OAUTH_TOKEN" in result.output)
    assert TOKEN not in result.output and "cmdlinesecret" not in result.output


def test_import_reads_tokens_from_the_environment(env):
    from etsyflow.shops import ShopStore

    shop = env.admin.create_shop(shop_name="FromEnv")
    result = CliRunner().invoke(main, ["shop", "import", "--shop-id", str(shop["shop_id"])],
                                env={"ETSY_ACCESS_TOKEN": shop["access_token"],
                                     "ETSY_REFRESH_TOKEN": shop["refresh_token"]})
    assert result.exit_code == 0, result.output
    assert "FromEnv" in result.output and shop["access_token"] not in result.output
    assert ShopStore().load_tokens(shop["shop_id"]) is not None


def test_import_reads_two_lines_from_standard_input(env):
    shop = env.admin.create_shop(shop_name="FromStdin")
    result = CliRunner().invoke(main, ["shop", "import", "--shop-id", str(shop["shop_id"])],
                                input=f"{shop['access_token']}\n{shop['refresh_token']}\n")
    assert result.exit_code == 0, result.output
    assert "FromStdin" in result.output and shop["refresh_token"] not in result.output
    one_line = CliRunner().invoke(main, ["shop", "import", "--shop-id", str(shop["shop_id"])],
                                  input=f"{shop['access_token']}\n")
    assert one_line.exit_code == 2 and "two lines" in one_line.output


def test_import_asks_with_hidden_input_on_a_terminal(env):
    """The real command on a pseudo-terminal: prompts, and what is typed is not echoed."""
    shop = env.admin.create_shop(shop_name="FromPrompt")
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("ETSY_")}
    child_env.update({"REDIS_URL": env.settings.redis_url, "ETSY_API_URL": env.settings.etsy_api_url,
                      "ETSY_KEYSTRING": env.settings.etsy_keystring,
                      "ETSY_SHARED_SECRET": env.settings.etsy_shared_secret,
                      "SECRET_KEY": env.settings.secret_key, "LOG_LEVEL": "ERROR"})
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "etsyflow.cli", "shop", "import", "--shop-id",
                             str(shop["shop_id"])], stdin=follower, stdout=follower, stderr=follower,
                            env=child_env, close_fds=True)
    os.close(follower)
    seen = b""

    def read_until(marker: bytes, timeout: float = 30) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(leader, 4096)
                except OSError:
                    break
        assert marker in seen, seen

    try:
        read_until(b"Access token:")
        os.write(leader, shop["access_token"].encode() + b"\n")
        read_until(b"Refresh token:")
        os.write(leader, shop["refresh_token"].encode() + b"\n")
        read_until(b"Imported tokens")
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    assert shop["access_token"].encode() not in seen and shop["refresh_token"].encode() not in seen


@pytest.mark.parametrize("args", [
    ["shop", "connect", "--shop-id", "5"],
    ["shop", "complete", "--redirect-url", "https://ops.example.com/cb?code=c&state=s"],
    ["shop", "import", "--shop-id", "5"],
    ["shop", "import-legacy", "--shop-id", "5"],
    ["shop", "settings", "--shop-id", "5", "--send-bcc", "on"],
    ["shop", "sync-listings", "--shop-id", "5"],
])
def test_shop_changes_are_refused_on_the_embedded_store(embedded, args):
    result = CliRunner().invoke(main, args, env={"ETSY_ACCESS_TOKEN": TOKEN, "ETSY_REFRESH_TOKEN": TOKEN,
                                                 "ETSY_LEGACY_OAUTH_TOKEN": TOKEN,
                                                 "ETSY_LEGACY_OAUTH_TOKEN_SECRET": TOKEN})
    assert result.exit_code == 1
    assert "needs REDIS_URL" in result.output and "vanishes" in result.output


def test_reading_shops_still_works_on_the_embedded_store(embedded):
    assert CliRunner().invoke(main, ["shop", "list"]).exit_code == 0
