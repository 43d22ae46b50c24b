"""The console's flows in a real headless browser: sign in, connect a shop through the sandbox's
authorize page and back to the callback, change a setting, replay a dead letter, sign out."""

from __future__ import annotations

import os

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from etsyflow import ATTRIBUTION
from etsyflow.messages import CloudEvent

from .conftest import ADMIN, PASSWORD, wait_out_settle

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:Unsupported scheme type")]


def wait(browser, condition, timeout=20):
    return WebDriverWait(browser, timeout).until(condition)


def text(browser) -> str:
    return browser.find_element(By.TAG_NAME, "body").text


def shot(browser, screenshots, name, width=1280, height=None):
    """Save a screenshot of the whole page for the README (only with ETSYFLOW_SCREENSHOTS)."""
    if not screenshots:
        return
    full = height or browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(max(int(full) + 90, 600), 2400))
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(os.path.join(screenshots, f"{name}.png"))
    browser.set_window_size(1280, 900)


def sign_in(browser, console, user=ADMIN, password=PASSWORD):
    browser.find_element(By.ID, "username").send_keys(user)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "signin").click()


def test_sign_in_connect_change_setting_replay_dead_letter_sign_out(console, sandbox, runtime, tail, browser,
                                                                    screenshots):
    # Sign in: an anonymous visit lands on the sign-in page, then on the page asked for.
    browser.get(console.url + "/shops")
    wait(browser, EC.presence_of_element_located((By.ID, "username")))
    assert "/signin" in browser.current_url and ATTRIBUTION in text(browser)
    shot(browser, screenshots, "signin")
    sign_in(browser, console)
    wait(browser, EC.presence_of_element_located((By.ID, "connect")))
    assert browser.current_url.endswith("/shops") and f"Signed in as {ADMIN}" in text(browser)

    # Connect in one click: the sandbox's authorize page approves for this seller and sends the browser
    # back to the console's /etsy/callback, which completes the exchange.
    made = sandbox.admin.create_shop(shop_name="BrowserShop")
    shop_id = int(made["shop_id"])
    sandbox.admin.oauth(shop_id=shop_id, decision="approve")
    browser.find_element(By.ID, "connect-shop-id").send_keys(str(shop_id))
    browser.find_element(By.ID, "connect").click()
    result = wait(browser, EC.presence_of_element_located((By.ID, "connect-result")))
    assert "/etsy/callback?" in browser.current_url
    assert f"Shop {shop_id} (BrowserShop) is connected" in result.text
    stored = console.store().get(shop_id)
    assert stored is not None and stored.usable and console.store().load_tokens(shop_id) is not None
    assert ATTRIBUTION in text(browser)

    # Change a setting with its switch.
    browser.find_element(By.LINK_TEXT, "Back to the shops").click()
    switch = wait(browser, EC.element_to_be_clickable((By.ID, f"s-{shop_id}-update_shipping_templates")))
    assert not switch.is_selected()
    switch.click()
    browser.find_element(By.ID, f"save-{shop_id}").click()
    wait(browser, EC.text_to_be_present_in_element((By.CLASS_NAME, "flashes"), "Update shipping templates on"))
    assert console.store().get(shop_id).settings == {"update_shipping_templates": True, "send_bcc": False}
    assert browser.find_element(By.ID, f"s-{shop_id}-update_shipping_templates").is_selected()
    assert browser.find_element(By.ID, f"shop-{shop_id}-status").text == "ok"
    shot(browser, screenshots, "shops")

    # A shipment that Etsy keeps refusing is dead-lettered; the cause is fixed; replay it from the console.
    receipt_id = int(sandbox.admin.create_receipt(shop_id, country_iso="GB")["receipt_id"])
    sandbox.admin.add_fault(operation="*", kind="status", status=500)
    event = CloudEvent.new("OrderShipped", {"shop_id": shop_id, "receipt_id": receipt_id, "carrier": "Royal Mail",
                                            "tracking_number": "JC243137885GB",
                                            "shipped_at": "2026-11-29T16:05:00Z"}, source="wms")
    runtime.actors[event.type].send_with_options(args=(event.to_dict(),), max_retries=0)
    tail.wait_for("ShipmentRejected", lambda e: e.get("causationid") == event.id, timeout=40)
    from etsyflow.admin import samples

    samples.record_once(console.redis, console.settings, force=True)
    sandbox.admin.clear_faults()
    wait_out_settle(shop_id, receipt_id, "JC243137885GB")
    browser.find_element(By.LINK_TEXT, "Operations").click()
    row = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "#dead-form tbody tr")))
    assert "on_OrderShipped" in row.text and str(shop_id) in row.text and "500" in row.text
    events = browser.find_element(By.ID, "events").text
    assert "ShipmentRejected" in events  # the recorder saw the notice
    shot(browser, screenshots, "operations")
    row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    browser.find_element(By.ID, "replay").click()
    wait(browser, EC.text_to_be_present_in_element((By.CLASS_NAME, "flashes"), "1 message(s) replayed"))
    tail.wait_for("ShipmentConfirmed", lambda e: e.get("causationid") == event.id, timeout=30)
    assert len(sandbox.admin.receipt(receipt_id)["receipt"]["shipments"]) == 1
    # The live tail picks up the confirmation without a reload.
    wait(browser, EC.text_to_be_present_in_element((By.ID, "events"), "ShipmentConfirmed"), timeout=30)

    # The audit log names who did each of these.
    browser.find_element(By.LINK_TEXT, "Audit log").click()
    audit = wait(browser, EC.presence_of_element_located((By.ID, "audit"))).text
    for action in ("signed in", "connect started", "shop connected", "shop settings changed",
                   "dead letters replayed"):
        assert action in audit, action
    shot(browser, screenshots, "audit")
    browser.find_element(By.LINK_TEXT, "Settings").click()
    wait(browser, EC.presence_of_element_located((By.CLASS_NAME, "facts")))
    shot(browser, screenshots, "settings")
    if screenshots:
        browser.find_element(By.LINK_TEXT, "Shops").click()
        shot(browser, screenshots, "shops-phone", width=390)

    # Sign out: back at sign-in, and the console is closed again.
    browser.find_element(By.ID, "signout").click()
    wait(browser, EC.presence_of_element_located((By.ID, "username")))
    assert "Signed out." in text(browser)
    browser.get(console.url + "/operations")
    wait(browser, EC.presence_of_element_located((By.ID, "username")))
    assert "/signin" in browser.current_url


def test_keyboard_only_sign_in_and_labelled_controls(console, browser):
    from selenium.webdriver.common.keys import Keys

    browser.get(console.url + "/signin")
    wait(browser, EC.presence_of_element_located((By.ID, "username")))
    active = browser.switch_to.active_element
    assert active.get_attribute("id") == "username"  # focus starts in the form
    active.send_keys(ADMIN, Keys.TAB)
    browser.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)
    wait(browser, EC.presence_of_element_located((By.ID, "connect")))
    # Every form control on every page has a label (or an aria-label).
    for path in ("/shops", "/operations", "/settings", "/audit"):
        browser.get(console.url + path)
        unlabelled = browser.execute_script("""
            return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
              .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
              .map(e => e.name || e.id);""")
        assert unlabelled == [], (path, unlabelled)
        assert ATTRIBUTION in text(browser)
