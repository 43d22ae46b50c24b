"""A message dead-lettered by a permanent Etsy failure: notice, `dlq list/show`, fix, `dlq replay`, follow-up."""

from __future__ import annotations

import pytest

from .conftest import cli, cli_json, eventually, shipped_event

pytestmark = pytest.mark.integration

# Small retry options for the test message (ms): two attempts, quickly.
FAST = {"max_retries": 1, "min_backoff": 100, "max_backoff": 200}


def send(runtime, event, **options):
    runtime.actors[event.type].send_with_options(args=(event.to_dict(),), **{**FAST, **options})


def test_dead_letter_is_announced_listed_and_replayed_once_fixed(ops_shop, sandbox, tail, runtime):
    receipt_id = int(sandbox.admin.create_receipt(ops_shop, country_iso="GB")["receipt_id"])
    sandbox.admin.add_fault(operation="*", kind="status", status=500)
    event = shipped_event(ops_shop, receipt_id)
    send(runtime, event)

    # 1. Retries exhausted: the rejection notice says why and where the message is.
    [notice] = tail.wait_for("ShipmentRejected", lambda e: e.get("causationid") == event.id, timeout=40)
    reason = notice["data"]["reason"]
    assert reason.startswith("gave up after 2 attempts: "), reason
    assert "500" in reason and "kept in the dead-letter queue for replay (etsyflow dlq)" in reason
    assert notice["data"]["shop_id"] == ops_shop and notice["data"]["receipt_id"] == receipt_id
    assert sandbox.admin.receipt(receipt_id)["receipt"]["shipments"] == []

    # 2. `dlq list` shows it with actor, event, shop, attempts and the last error.
    [letter] = eventually(lambda: cli_json("dlq", "list"), what="the dead letter")
    assert letter["actor"] == "on_OrderShipped" and letter["queue"] == "etsyflow.fulfilment"
    assert letter["event_id"] == event.id and letter["event_type"] == "OrderShipped"
    assert letter["shop_id"] == ops_shop and letter["retries"] == 2
    assert "500" in letter["last_error"] and letter["last_error"] in reason
    table = cli("dlq", "list")
    assert letter["message_id"] in table and "on_OrderShipped" in table and str(ops_shop) in table
    shown = cli_json("dlq", "show", letter["message_id"][:8])  # a unique prefix is enough
    assert shown["envelope"]["id"] == event.id and shown["last_error"] == letter["last_error"]
    assert cli_json("dlq", "list", "--shop", str(ops_shop + 1)) == []
    assert cli_json("dlq", "list", "--actor", "OrderShipped")[0]["message_id"] == letter["message_id"]
    status = cli_json("status")
    fulfilment = next(q for q in status["queues"] if q["queue"] == "etsyflow.fulfilment")
    assert fulfilment["dead"] == 1 and fulfilment["ready"] == 0
    assert next(s for s in status["shops"] if s["shop_id"] == ops_shop)["dead_lettered"] == 1

    # 3. The cause is fixed; replay: it runs again, and this time Etsy has the shipment.
    sandbox.admin.clear_faults()
    out = cli("dlq", "replay", letter["message_id"])
    assert "1 message(s) replayed" in out
    [confirmed] = tail.wait_for("ShipmentConfirmed", lambda e: e.get("causationid") == event.id, timeout=20)
    assert confirmed["data"]["tracking_number"] == "JC243137885GB"
    assert len(sandbox.admin.receipt(receipt_id)["receipt"]["shipments"]) == 1
    assert cli_json("dlq", "list") == []
    assert runtime.join(10)
    fulfilment = next(q for q in cli_json("status")["queues"] if q["queue"] == "etsyflow.fulfilment")
    assert fulfilment == {"queue": "etsyflow.fulfilment", "ready": 0, "in_flight": 0, "delayed": 0, "dead": 0,
                          "orphaned": 0, "orphans_return_at": None}


def test_a_replayed_message_that_fails_again_gets_a_new_notice(ops_shop, sandbox, tail, runtime):
    receipt_id = int(sandbox.admin.create_receipt(ops_shop, country_iso="GB")["receipt_id"])
    sandbox.admin.add_fault(operation="*", kind="status", status=503)
    event = shipped_event(ops_shop, receipt_id)
    send(runtime, event, max_retries=0)
    [first] = tail.wait_for("ShipmentRejected", lambda e: e.get("causationid") == event.id, timeout=30)
    assert first["data"]["reason"].startswith("gave up after 1 attempt: ")
    [letter] = eventually(lambda: cli_json("dlq", "list"), what="the dead letter")
    cli("dlq", "replay", "--all")
    notices = tail.wait_for("ShipmentRejected", lambda e: e.get("causationid") == event.id, count=2, timeout=30)
    assert len({n["id"] for n in notices}) == 2  # a new failure, a new notice id
    [again] = eventually(lambda: cli_json("dlq", "list"), what="the dead letter again")
    assert again["message_id"] == letter["message_id"] and again["replays"] == 1


def test_purge_by_filter_asks_then_deletes(ops_shop, sandbox, tail, runtime):
    sandbox.admin.add_fault(operation="*", kind="status", status=500)
    events = [shipped_event(ops_shop, int(sandbox.admin.create_receipt(ops_shop, country_iso="GB")["receipt_id"]),
                            tracking=f"JC24313788{i}GB") for i in range(2)]
    for event in events:
        send(runtime, event, max_retries=0)
    eventually(lambda: len(cli_json("dlq", "list")) == 2, timeout=30, what="two dead letters")
    from etsyflow.cli import main
    from click.testing import CliRunner

    declined = CliRunner().invoke(main, ["dlq", "purge", "--shop", str(ops_shop)], input="n\n")
    assert declined.exit_code == 1 and len(cli_json("dlq", "list")) == 2
    refused = CliRunner().invoke(main, ["dlq", "purge"])
    assert refused.exit_code == 2 and "say which messages" in refused.output
    unknown = CliRunner().invoke(main, ["dlq", "replay", "nope"])
    assert unknown.exit_code == 1 and "no dead-lettered message nope" in unknown.output
    assert "2 message(s) purged" in cli("dlq", "purge", "--actor", "on_OrderShipped", "--yes")
    assert cli_json("dlq", "list") == []
    assert "no dead-lettered messages" in cli("dlq", "list")
