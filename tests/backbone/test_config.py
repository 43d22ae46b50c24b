"""Settings validation, log redaction, and the notice of attribution."""

import io
import json

import pytest
from click.testing import CliRunner

from etsyflow import ATTRIBUTION
from etsyflow.config import ConfigError, Settings
from etsyflow.config.logging import configure_logging, get_logger


def test_every_wrong_value_is_named_in_one_message():
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"REDIS_URL": "http://nope", "ETSY_RATE_PER_SECOND": "ten", "ETSY_RATE_PER_DAY": "0",
                           "SECRET_KEY": "short", "LOG_LEVEL": "LOUD", "ETSY_API_URL": "ftp://x"})
    text = str(raised.value)
    for name in ("REDIS_URL", "ETSY_RATE_PER_SECOND", "ETSY_RATE_PER_DAY", "SECRET_KEY", "LOG_LEVEL", "ETSY_API_URL"):
        assert name in text
    assert len(raised.value.problems) == 6


def test_defaults_are_the_contracts_and_embedded_without_redis():
    settings = Settings.from_env({})
    assert settings.embedded
    assert (settings.etsy_rate_per_second, settings.etsy_rate_per_day) == (10, 10000)
    assert settings.token_url == "https://api.etsy.com/v3/public/oauth/token"
    both = Settings.from_env({"ETSY_KEYSTRING": "key", "ETSY_SHARED_SECRET": "s3cr3t-value", "REDIS_URL": "redis://h:6379/0"})
    assert both.api_key_header == "key:s3cr3t-value" and not both.embedded
    assert both.effective_broker_url == both.effective_events_url == "redis://h:6379/0"
    assert "s3cr3t-value" not in repr(both)


def test_secrets_never_reach_a_log_line():
    out = io.StringIO()
    configure_logging("INFO", json=True, stream=out)
    get_logger("t").info("calling etsy", access_token="12345678.abcdefghijklmnopqrstuvwxyz",
                         headers={"Authorization": "Bearer 12345678.abcdefghijklmnopqrstuvwxyz"},
                         url="https://x/cb?code=SECRETCODE&state=s", note="token 12345678.abcdefghijklmnopqrstuvwxyz",
                         shop_id=5)
    line = json.loads(out.getvalue())
    text = out.getvalue()
    assert "abcdefghijklmnopqrstuvwxyz" not in text and "SECRETCODE" not in text
    assert line["shop_id"] == 5 and line["access_token"] == "[redacted]"
    configure_logging("INFO", json=True)


def test_help_shows_the_notice_of_attribution():
    from etsyflow.cli import main

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert " ".join(ATTRIBUTION.split()) in " ".join(result.output.split())


def test_wrong_configuration_stops_the_cli_with_the_reason(monkeypatch):
    from etsyflow.cli import main
    from etsyflow.config import reset_settings

    monkeypatch.setenv("ETSY_RATE_PER_SECOND", "lots")
    reset_settings()
    try:
        result = CliRunner().invoke(main, ["shop", "list"])
    finally:
        monkeypatch.delenv("ETSY_RATE_PER_SECOND")
        reset_settings()
    assert result.exit_code != 0
    assert "ETSY_RATE_PER_SECOND='lots': must be a whole number" in result.output
