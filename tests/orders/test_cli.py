"""`etsyflow scheduler` and `etsyflow webhooks` refuse what cannot work, with a reason."""

from click.testing import CliRunner

from etsyflow.cli import main


def test_processes_need_redis(embedded):
    runner = CliRunner()
    for command in (["scheduler"], ["webhooks", "--port", "8099"]):
        result = runner.invoke(main, command)
        assert result.exit_code != 0 and "REDIS_URL" in result.output, result.output


def test_webhooks_need_a_signing_secret(configure, redis_url):
    configure(REDIS_URL=redis_url)
    result = CliRunner().invoke(main, ["webhooks", "--port", "8099"])
    assert result.exit_code != 0 and "WEBHOOK_SIGNING_SECRET" in result.output


def test_bad_orders_setting_is_named_at_start(configure, redis_url, monkeypatch):
    from etsyflow.config import reset_settings

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERS_OVERLAP_SECONDS", "soon")
    reset_settings()  # the CLI reads and checks the environment at start
    result = CliRunner().invoke(main, ["scheduler", "--once"])
    assert result.exit_code != 0 and "ORDERS_OVERLAP_SECONDS='soon'" in result.output


def test_scheduler_once_publishes_due_ticks(embedded):
    from etsyflow.shops.store import ShopStore

    ShopStore().save_tokens(5, "5.a", "5.r", 3600, connected=True)
    result = CliRunner().invoke(main, ["scheduler", "--once"])
    assert result.exit_code == 0 and "2 poll tick(s) published" in result.output
