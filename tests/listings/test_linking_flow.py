"""A shop that already sells on Etsy: listings linked by SKU, the rest discovered, products retired.

Listings the seller made on Etsy.com are seeded through the sandbox's admin
API (``POST /_sandbox/shops/<id>/listings``); everything else goes through
the bus, the actors, real Redis and the sandbox over HTTP.
"""

from __future__ import annotations

import time
import uuid

from etsyflow.messages import CloudEvent, publish

from tests.waiting import wait_for

from .helpers import product, published, stock, synced_template


def seed(cat, *listings) -> list[int]:
    answer = cat.sandbox.admin.request("POST", f"/shops/{cat.shop_id}/listings", {"listings": list(listings)})
    return answer["listing_ids"]


def item(title, sku, state="active", price="30.00", quantity=4):
    return {"title": title, "state": state, "price": price, "quantity": quantity, "sku": sku, "taxonomy_id": 374}


def sizes(prefix, state="active", quantities=(2, 5)):
    return {"title": f"{prefix} tee", "state": state, "price": "20.00", "quantity": 1, "taxonomy_id": 374,
            "variations": [{"sku": f"{prefix}-{size}", "options": {"Size": size}, "price": price, "quantity": q}
                           for size, price, q in zip(("S", "M"), ("20.00", "22.00"), quantities)]}


def events(cat, event_type, cause=None) -> list[dict]:
    return cat.tail.of_type(event_type, (lambda e: e.get("causationid") == cause.id) if cause else None)


def ops(cat, since) -> list[str]:
    return [c["operation_id"] for c in cat.calls(since)]


def tee_product(cat, product_id, prefix, **more):
    return product(cat, product_id, sku=None, variations=[
        {"sku": f"{prefix}-S", "options": {"Size": "S"}, "price": "20.00", "quantity": 3},
        {"sku": f"{prefix}-M", "options": {"Size": "M"}, "price": "22.00", "quantity": 1}], **more)


def test_first_listing_ready_links_the_existing_listing_and_announces_the_others(catalogue):
    cat = catalogue
    synced_template(cat)
    mug, tee, dup_a, dup_b, lone, split_a, split_b = seed(
        cat, item("Blue mug", "MUG-1"), sizes("TEE", state="draft"), item("Old vase", "VASE-1", state="inactive"),
        item("Old vase again", "VASE-1", state="sold_out", quantity=0), item("Lamp", "LAMP-1", state="expired"),
        item("Cup", "SET-CUP"), item("Saucer", "SET-SAUCER"))
    before = len(cat.listings())
    mark = cat.mark()

    # The shop was never synced: the first ListingReady reads every listing (5 states, 1 page each) first.
    event = cat.publish("ListingReady", product(cat, "P-MUG", sku="MUG-1", title="Blue mug, large"))
    answer = cat.outcome(event, ("ListingPublished", "ListingRejected"), timeout=60)
    assert answer["type"] == "ListingPublished", answer
    assert answer["data"]["listing_id"] == mug and answer["data"]["created"] is False
    assert "title" in answer["data"]["fields_changed"]
    called = ops(cat, mark)
    assert "createDraftListing" not in called
    reads = [c for c in cat.calls(mark) if c["operation_id"] == "getListingsByShop"]
    assert sorted(c["query"]["state"] for c in reads) == sorted(["active", "draft", "inactive", "sold_out", "expired"])
    assert all("Inventory" in c["query"]["includes"] for c in reads)
    assert len(cat.listings()) == before and cat.listing(mug)["title"] == "Blue mug, large"
    linked = events(cat, "ListingLinked", event)
    assert [(e["data"]["product_id"], e["data"]["listing_id"], e["data"]["matched_by"]) for e in linked] == [
        ("P-MUG", mug, "sku")]
    wait_for(lambda: len(events(cat, "ListingDiscovered", event)) == 6, what="six discoveries")
    found = {e["data"]["listing_id"]: e["data"] for e in events(cat, "ListingDiscovered", event)}
    assert set(found) == {tee, dup_a, dup_b, lone, split_a, split_b}
    assert found[tee]["skus"] == ["TEE-S", "TEE-M"] and found[tee]["state"] == "draft"
    assert found[lone] == {"shop_id": cat.shop_id, "listing_id": lone, "state": "expired", "title": "Lamp",
                           "url": found[lone]["url"], "skus": ["LAMP-1"], "price": "30.00", "currency": "USD",
                           "quantity": 4}

    # Synced: a later product whose SKUs a discovered listing holds is linked to it, not created.
    mark = cat.mark()
    data = published(cat, tee_product(cat, "P-TEE", "TEE", state="draft"))
    assert data["listing_id"] == tee and "createDraftListing" not in ops(cat, mark)
    assert {p["sku"] for p in cat.listing(tee)["inventory"]["products"]} == {"TEE-S", "TEE-M"}

    # A SKU on two Etsy listings, and SKUs split across two: not linked, the candidates named.
    mark = cat.mark()
    for data, candidates in ((product(cat, "P-VASE", sku="VASE-1"), [dup_a, dup_b]),
                             (product(cat, "P-SET", sku=None, variations=[
                                 {"sku": "SET-CUP", "options": {"Part": "Cup"}, "price": "9.00", "quantity": 1},
                                 {"sku": "SET-SAUCER", "options": {"Part": "Saucer"}, "price": "7.00",
                                  "quantity": 1}]), [split_a, split_b])):
        answer = cat.send("ListingReady", data, ("ListingPublished", "ListingRejected"))
        assert answer["type"] == "ListingRejected", answer
        assert answer["data"]["candidates"] == candidates
        assert all(str(c) in answer["data"]["reason"] for c in candidates)
    assert "createDraftListing" not in ops(cat, mark) and len(cat.listings()) == before

    # An explicit sync: each discovery was announced once already; the ambiguities are named again.
    asked = time.time()
    sync = cat.publish("ShopListingsSync", {"shop_id": cat.shop_id})
    wait_for(lambda: (sync_status(cat) or {}).get("status") == "done"
             and sync_status(cat).get("finished_at", 0) > asked, what="the sync to finish")
    assert sync_status(cat)["listings"] == 7 and sync_status(cat)["calls"] == 5
    assert events(cat, "ListingDiscovered", sync) == [] and events(cat, "ListingLinked", sync) == []
    assert {e["data"]["product_id"] for e in events(cat, "ListingRejected", sync)} == {"P-VASE", "P-SET"}


def sync_status(cat) -> dict | None:
    from etsyflow.catalogue.linking import status
    from etsyflow.state import get_redis

    return status(get_redis(), cat.shop_id)


def test_stock_of_a_listing_made_on_etsy_changes_one_offering_only(catalogue):
    from etsyflow.catalogue.linking import remember_product
    from etsyflow.state import get_redis

    cat = catalogue
    synced_template(cat)
    tee, linked = seed(cat, sizes("KEEP", quantities=(2, 5)), sizes("LINK", quantities=(1, 1)))
    remember_product(get_redis(), cat.shop_id, "P-LINK", ["LINK-S", "LINK-M"])
    sync = cat.publish("ShopListingsSync", {"shop_id": cat.shop_id})
    wait_for(lambda: events(cat, "ListingLinked", sync) and events(cat, "ListingDiscovered", sync),
             what="KEEP-* discovered and LINK-* linked")
    assert events(cat, "ListingLinked", sync)[0]["data"]["listing_id"] == linked
    for listing_id, prefix, untouched in ((tee, "KEEP", 2), (linked, "LINK", 1)):
        before = {p["sku"]: p for p in cat.listing(listing_id)["inventory"]["products"]}
        mark = cat.mark()
        answer = stock(cat, f"{prefix}-M", 9)
        assert answer["type"] == "StockUpdated" and answer["data"]["listing_id"] == listing_id, answer
        assert "getListingsByShop" not in ops(cat, mark)  # found through the index the sync wrote
        after = {p["sku"]: p for p in cat.listing(listing_id)["inventory"]["products"]}
        assert after[f"{prefix}-M"]["offerings"][0]["quantity"] == 9
        assert after[f"{prefix}-S"]["offerings"][0]["quantity"] == untouched
        for sku in before:
            assert [(pv["property_id"], pv["property_name"], pv["values"]) for pv in after[sku]["property_values"]] \
                == [(pv["property_id"], pv["property_name"], pv["values"]) for pv in before[sku]["property_values"]]
            assert after[sku]["offerings"][0]["price"] == before[sku]["offerings"][0]["price"]


def test_seller_edits_on_etsy_are_kept_or_named_when_overwritten(catalogue):
    cat = catalogue
    synced_template(cat)
    (mug,) = seed(cat, item("Mug", "EDIT-1"))
    base = product(cat, "P-EDIT", sku="EDIT-1", title="Mug", description="Upstream words.")
    first = published(cat, base)
    assert first["listing_id"] == mug and cat.listing(mug)["state"] == "active"

    # The seller rewrites the description on Etsy; upstream then changes only the title.
    cat.etsy("PATCH", f"/shops/{cat.shop_id}/listings/{mug}", data={"description": "The seller's own words."})
    second = published(cat, {**base, "title": "Mug, blue"})
    assert second["fields_changed"] == ["title"]
    assert second["kept_seller_edits"] == ["description"] and second["overwritten_seller_edits"] == []
    assert cat.listing(mug)["description"] == "The seller's own words."

    # Upstream changes the description too: written, and named as a seller edit overwritten.
    third = published(cat, {**base, "title": "Mug, blue", "description": "Upstream, revised."})
    assert third["fields_changed"] == ["description"] and third["overwritten_seller_edits"] == ["description"]
    assert cat.listing(mug)["description"] == "Upstream, revised."


def test_removed_product_is_deactivated_then_reactivated_then_deleted_and_recreated(catalogue):
    cat = catalogue
    synced_template(cat)
    data = product(cat, "P-RET")
    listing_id = published(cat, data)["listing_id"]

    removal = CloudEvent.new("ListingRemoved", {"shop_id": cat.shop_id, "product_id": "P-RET"}, source="pim",
                             id=str(uuid.uuid4()))
    publish(removal)
    answer = cat.outcome(removal, ("ListingUnpublished", "ListingRejected"))
    assert answer["type"] == "ListingUnpublished", answer
    assert answer["data"] == {"shop_id": cat.shop_id, "product_id": "P-RET", "listing_id": listing_id,
                              "state": "inactive"}
    assert cat.listing(listing_id)["state"] == "inactive"

    # Redelivered (same id): answered once, nothing written again. Stock returning keeps it retired.
    mark = cat.mark()
    publish(removal)
    assert stock(cat, data["sku"], 8)["type"] == "StockUpdated"
    assert "updateListing" not in ops(cat, mark) and cat.listing(listing_id)["state"] == "inactive"
    assert len(events(cat, "ListingUnpublished", removal)) == 1

    # Published again: the same listing is active again.
    again = published(cat, data)
    assert again["listing_id"] == listing_id and again["state"] == "active"
    assert cat.listing(listing_id)["state"] == "active"

    answer = cat.send("ListingRemoved", {"shop_id": cat.shop_id, "product_id": "P-RET", "mode": "delete"},
                      ("ListingUnpublished", "ListingRejected"))
    assert answer["type"] == "ListingUnpublished" and answer["data"]["state"] == "deleted", answer
    assert all(l["listing_id"] != listing_id for l in cat.listings())

    recreated = published(cat, data)
    assert recreated["created"] is True and recreated["listing_id"] != listing_id

    answer = cat.send("ListingRemoved", {"shop_id": cat.shop_id, "product_id": "NEVER-SEEN"},
                      ("ListingUnpublished", "ListingRejected"))
    assert answer["type"] == "ListingRejected" and "no Etsy listing" in answer["data"]["reason"], answer


def test_sync_listings_command_dry_run_table_then_the_real_sync_and_status(catalogue):
    from click.testing import CliRunner

    from etsyflow.catalogue.linking import remember_product
    from etsyflow.cli import main
    from etsyflow.state import get_redis

    cat = catalogue
    cup, dup_a, dup_b, lone = seed(cat, item("Cup", "CUP-1"), item("Bowl", "BOWL-1"),
                                   item("Bowl copy", "BOWL-1", state="draft"), item("Rug", "RUG-1", state="expired"))
    # Products upstream has published before (what etsyflow remembers of each ListingReady).
    for product_id, skus in (("P-CUP", ["CUP-1"]), ("P-BOWL", ["BOWL-1"]), ("P-NEW", ["NEW-1"])):
        remember_product(get_redis(), cat.shop_id, product_id, skus)
    mark = cat.mark()

    result = CliRunner().invoke(main, ["shop", "sync-listings", "--shop-id", str(cat.shop_id), "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"Reading shop {cat.shop_id}'s listings" in out  # the progress bar's label
    assert "4 Etsy listings" in out and "read in 5 calls (fewest possible: 5)" in out
    rows = {tuple(line.split()[:3]) for line in out.splitlines()}
    assert ("to", "link", "P-CUP") in rows and ("to", "be", "created") in rows
    assert any(line.startswith("ambiguous") and "P-BOWL" in line and str(dup_a) in line and str(dup_b) in line
               for line in out.splitlines())
    assert any(line.startswith("discovered") and str(lone) in line for line in out.splitlines())
    assert "Dry run" in out
    assert [c for c in cat.calls(mark) if c["method"] != "GET"] == []
    assert cat.tail.of_type("ListingLinked") == [] and cat.tail.of_type("ListingDiscovered") == []

    result = CliRunner().invoke(main, ["shop", "sync-listings", "--shop-id", str(cat.shop_id), "--json"])
    assert result.exit_code == 0, result.output
    summary = __import__("json").loads(result.stdout)  # log lines go to stderr
    assert (summary["linked"], summary["to_create"], summary["ambiguous"], summary["discovered"]) == (1, 1, 1, 1)
    wait_for(lambda: cat.tail.of_type("ListingLinked") and cat.tail.of_type("ListingDiscovered"),
             what="the announcements on the bus")
    assert cat.tail.of_type("ListingLinked")[0]["data"]["listing_id"] == cup
    assert [e["data"]["listing_id"] for e in cat.tail.of_type("ListingDiscovered")] == [lone]
    rejected = cat.tail.of_type("ListingRejected")
    assert rejected and rejected[0]["data"]["candidates"] == [dup_a, dup_b]

    status = CliRunner().invoke(main, ["status"])
    assert f"shop {cat.shop_id}: listings synced" in status.output, status.output
    assert "4 listings in 5 calls; linked 1, ambiguous 1, discovered 1" in status.output


def test_bad_removal_is_refused_by_name_and_the_next_event_goes_on(catalogue):
    cat = catalogue
    bad = cat.publish("ListingRemoved", {"shop_id": cat.shop_id, "product_id": "P-1", "mode": "archive"})
    answer = cat.outcome(bad, ("EventRejected",))
    assert any(e["field"] == "data.mode" for e in answer["data"]["errors"]), answer
    typed = cat.outcome(bad, ("ListingRejected",))
    assert typed["data"]["product_id"] == "P-1" and "mode" in typed["data"]["reason"]
    answer = cat.send("ListingRemoved", {"shop_id": cat.shop_id, "product_id": "P-1"},
                      ("ListingUnpublished", "ListingRejected"))
    assert answer["type"] == "ListingRejected" and "no Etsy listing" in answer["data"]["reason"]


def test_a_long_sync_shows_its_progress_in_status(catalogue):
    from click.testing import CliRunner

    from etsyflow.cli import main

    cat = catalogue
    seed(cat, *[item(f"Thing {n}", f"T-{n}") for n in range(450)])
    # Etsy answers each page slowly: the sync is seen running, page by page.
    cat.admin.add_fault(operation="getListingsByShop", kind="delay", when="before", delay_seconds=0.4)
    sync = cat.publish("ShopListingsSync", {"shop_id": cat.shop_id})
    wait_for(lambda: (sync_status(cat) or {}).get("status") == "running"
             and 0 < sync_status(cat).get("read", 0) < 450, what="a running sync part-way")
    shown = CliRunner().invoke(main, ["status"]).stdout
    assert f"shop {cat.shop_id}: listings sync running" in shown and "of 450 listings read" in shown, shown
    wait_for(lambda: len(events(cat, "ListingDiscovered", sync)) == 450, timeout=60, what="450 discoveries")
    wait_for(lambda: sync_status(cat)["status"] == "done", what="the sync to finish")
    assert sync_status(cat)["calls"] == 5 + 4  # 450 active: 5 pages; the other four states: 1 each


def test_delete_whose_answer_is_lost_is_answered_once_as_deleted(catalogue):
    cat = catalogue
    synced_template(cat)
    listing_id = published(cat, product(cat, "P-LOST"))["listing_id"]
    # Etsy deletes the listing, then the connection drops: the resend finds it gone (404).
    cat.admin.add_fault(operation="deleteListing", kind="drop", when="after", times=1)
    answer = cat.send("ListingRemoved", {"shop_id": cat.shop_id, "product_id": "P-LOST", "mode": "delete"},
                      ("ListingUnpublished", "ListingRejected"), timeout=60)
    assert answer["type"] == "ListingUnpublished", answer
    assert answer["data"] == {"shop_id": cat.shop_id, "product_id": "P-LOST", "listing_id": listing_id,
                              "state": "deleted"}
    assert all(l["listing_id"] != listing_id for l in cat.listings())
    deletes = [c for c in cat.calls() if c["operation_id"] == "deleteListing"]
    assert len(deletes) == 2 and deletes[0]["fault"] and deletes[1]["status"] == 404
