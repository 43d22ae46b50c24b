"""Console flows over HTTP that the browser test does not walk: disconnect and purge (each behind a
confirmation), a dead letter in full, the CLI's connect URL finishing on the console's callback, a
pasted redirect URL, a seller who refuses; and ``etsyflow admin`` as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from etsyflow.messages import CloudEvent

from tests.waiting import wait_for

from .conftest import csrf_of, free_port

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:Unsupported scheme type")]


def test_disconnect_asks_first_then_erases_tokens_and_work_parks(console, sandbox, runtime, tail):
    from tests.conftest import connect_shop

    shop_id = connect_shop(sandbox)
    http = console.session()
    page = http.get(console.url + f"/shops/{shop_id}/disconnect", timeout=10)
    assert page.status_code == 200 and "Its Etsy tokens are erased" in page.text
    token = csrf_of(page.text)
    unconfirmed = http.post(console.url + f"/shops/{shop_id}/disconnect", data={"csrf_token": token}, timeout=10)
    assert unconfirmed.status_code == 200 and console.store().load_tokens(shop_id) is not None
    done = http.post(console.url + f"/shops/{shop_id}/disconnect", data={"csrf_token": token, "confirm": "yes"},
                     timeout=10)
    assert f"Shop {shop_id} disconnected; its tokens are erased." in done.text
    assert console.store().load_tokens(shop_id) is None
    assert f'id="shop-{shop_id}-status">disconnected' in done.text
    # Work for the shop is kept (parked), not lost, until it is reconnected.
    receipt_id = int(sandbox.admin.create_receipt(shop_id, country_iso="GB")["receipt_id"])
    event = CloudEvent.new("OrderShipped", {"shop_id": shop_id, "receipt_id": receipt_id, "carrier": "Royal Mail",
                                            "tracking_number": "JC243137885GB", "shipped_at": "2026-11-29T16:05:00Z"},
                           source="wms")
    runtime.actors[event.type].send(event.to_dict())
    from etsyflow.workers import parked_count

    wait_for(lambda: parked_count(shop_id) == 1, timeout=20, what="the parked shipment")
    operations = http.get(console.url + "/operations", timeout=10).text
    assert f"#{shop_id}</th><td>1</td>" in operations
    # Reconnect from the console: the parked shipment goes back on its queue and reaches Etsy.
    sandbox.admin.oauth(shop_id=shop_id, decision="approve")
    started = http.post(console.url + f"/shops/{shop_id}/reconnect", data={"csrf_token": token},
                        allow_redirects=False, timeout=10)
    back = requests.get(started.headers["Location"], allow_redirects=False, timeout=10).headers["Location"]
    assert "is connected" in http.get(back, timeout=20).text
    tail.wait_for("ShipmentConfirmed", lambda e: e.get("causationid") == event.id, timeout=30)
    assert parked_count(shop_id) == 0
    assert len(sandbox.admin.receipt(receipt_id)["receipt"]["shipments"]) == 1


def test_dead_letter_shown_then_purged_after_confirmation(console, sandbox, runtime, tail):
    from tests.conftest import connect_shop

    shop_id = connect_shop(sandbox)
    sandbox.admin.add_fault(operation="*", kind="status", status=500)
    receipt_id = int(sandbox.admin.create_receipt(shop_id, country_iso="GB")["receipt_id"])
    event = CloudEvent.new("OrderShipped", {"shop_id": shop_id, "receipt_id": receipt_id, "carrier": "Royal Mail",
                                            "tracking_number": "JC243137885GB", "shipped_at": "2026-11-29T16:05:00Z"},
                           source="wms")
    runtime.actors[event.type].send_with_options(args=(event.to_dict(),), max_retries=0)
    tail.wait_for("ShipmentRejected", lambda e: e.get("causationid") == event.id, timeout=40)
    http = console.session()
    from etsyflow.workers.deadletters import DeadLetterQueue

    [letter] = wait_for(lambda: DeadLetterQueue(console.settings).list(), what="the dead letter")
    shown = http.get(console.url + f"/operations/dead/{letter.message_id}", timeout=10)
    assert shown.status_code == 200 and event.id in shown.text and "JC243137885GB" in shown.text
    assert http.get(console.url + "/operations/dead/nope", timeout=10).status_code == 404
    token = csrf_of(shown.text)
    ask = http.post(console.url + "/operations/dead/purge", data={"csrf_token": token,
                                                                  "message_id": letter.message_id}, timeout=10)
    assert "Delete 1 dead-lettered message(s) for good?" in ask.text
    assert len(DeadLetterQueue(console.settings).list()) == 1
    done = http.post(console.url + "/operations/dead/purge", data={"csrf_token": token, "confirm": "yes",
                                                                   "message_id": letter.message_id}, timeout=10)
    assert "1 message(s) purged." in done.text and DeadLetterQueue(console.settings).list() == []
    from etsyflow.admin.audit import recent

    assert recent(console.redis)[0]["action"] == "dead letters purged"


def test_the_cli_connect_url_finishes_on_the_console_callback(console, sandbox):
    from etsyflow.shops import connect

    made = sandbox.admin.create_shop(shop_name="FromCli")
    sandbox.admin.oauth(shop_id=made["shop_id"], decision="approve")
    link = connect(made["shop_id"])  # what `etsyflow shop connect` prints
    back = requests.get(link.url, allow_redirects=False, timeout=10).headers["Location"]
    answer = requests.get(back, timeout=10)  # the seller's browser, not signed in to the console
    assert answer.status_code == 200 and f"Shop {made['shop_id']} (FromCli) is connected" in answer.text
    assert "You can close this window" in answer.text and 'href="/shops"' not in answer.text
    assert console.store().get(made["shop_id"]).usable
    again = requests.get(back, timeout=10)  # a code works once
    assert again.status_code == 400 and "already used" in again.text


def test_a_pasted_redirect_url_completes_and_a_refusal_is_explained(console, sandbox):
    from etsyflow.shops import connect

    made = sandbox.admin.create_shop()
    sandbox.admin.oauth(shop_id=made["shop_id"], decision="deny")
    http = console.session()
    token = csrf_of(http.get(console.url + "/shops", timeout=10).text)
    started = http.post(console.url + "/shops/connect", data={"csrf_token": token, "shop_id": made["shop_id"]},
                        allow_redirects=False, timeout=10)
    back = requests.get(started.headers["Location"], allow_redirects=False, timeout=10).headers["Location"]
    refused = http.get(back, timeout=10)
    assert refused.status_code == 400 and "Etsy did not grant access: access_denied" in refused.text
    sandbox.admin.oauth(shop_id=made["shop_id"], decision="approve")
    back = requests.get(connect(made["shop_id"]).url, allow_redirects=False, timeout=10).headers["Location"]
    done = http.post(console.url + "/shops/complete", data={"csrf_token": token, "redirect_url": back}, timeout=10)
    assert done.status_code == 200 and f"Shop {made['shop_id']}" in done.text and "is connected" in done.text
    bad = http.post(console.url + "/shops/connect", data={"csrf_token": token, "shop_id": "x1"}, timeout=10)
    assert bad.status_code == 400 and "shop id must be a positive whole number" in bad.text


def test_etsyflow_admin_serves_and_stops_promptly_on_sigterm(redis_url, sandbox):
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "SECRET_KEY": "test-secret-key-0123456789abcdef", **sandbox.env()}
    process = subprocess.Popen([sys.executable, "-m", "etsyflow.cli", "admin", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def up():
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json() == {"status": "ok"}
            except requests.RequestException:
                assert process.poll() is None, process.stderr.read()
                return False

        wait_for(up, timeout=20, what="etsyflow admin to answer")
        signin = requests.get(f"http://127.0.0.1:{port}/shops", timeout=5)
        assert signin.url.endswith("/signin?next=/shops") and "etsyflow admin users add NAME" in signin.text
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        process.stdout.close()
        process.stderr.close()


def test_shop_status_calls_and_sync_times_as_the_shops_page_shows_them(console, sandbox):
    from etsyflow.catalogue import records
    from etsyflow.catalogue.records import ListingLink
    from etsyflow.etsy.ratelimit import RateLimiter
    from tests.conftest import connect_shop

    shop_id = connect_shop(sandbox)
    http = console.session()
    page = http.get(console.url + "/shops", timeout=10).text
    calls = RateLimiter(console.redis, console.settings).used_today_by_shop()[shop_id]
    assert calls >= 2  # the connection's own checks (users/me, the shop)
    assert f"Etsy calls, last 24 h</dt><dd>{calls}</dd>" in page
    assert f'id="shop-{shop_id}-status">ok' in page and "Last listing sync</dt><dd>never" in page
    records.save_listing(console.redis, ListingLink(shop_id=shop_id, product_id="P-1"))
    assert abs(records.last_listing_sync(console.redis, shop_id) - time.time()) < 5
    console.store().mark_polled(shop_id)
    page = http.get(console.url + "/shops", timeout=10).text
    assert page.count(" s ago)") >= 2  # last order poll and last listing sync: just now
    from etsyflow.workers import park

    park(shop_id, "OrderShipped", {"id": "e1"})
    page = http.get(console.url + "/shops", timeout=10).text
    assert f'id="shop-{shop_id}-status">parked work' in page
    console.store().mark_auth_failed(shop_id, "Etsy refused to refresh the token (invalid_grant)")
    page = http.get(console.url + "/shops", timeout=10).text
    assert f'id="shop-{shop_id}-status">auth failed' in page and "invalid_grant" in page
