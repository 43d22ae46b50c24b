"""Matching rules of a listings sync (pure: Etsy listings and known products in, a plan out)."""

from etsyflow.catalogue.linking import minimum_calls, plan


def listing(listing_id, *skus, state="active"):
    return {"listing_id": listing_id, "state": state, "title": f"L{listing_id}",
            "inventory": {"products": [{"sku": s, "offerings": [], "property_values": []} for s in skus]}}


def run(listings, products, owners=None, linked=None):
    return plan(1, listings, products, owners=owners or {}, linked=linked or {})


def test_a_product_is_linked_by_its_own_sku_or_its_variations_skus():
    report = run([listing(10, "A"), listing(11, "V-S", "V-M"), listing(12, "Z")],
                 {"P-A": ["A"], "P-V": ["V", "V-S", "V-M"], "P-NEW": ["NEW"]})
    assert [(l.product_id, l.listing_id, l.skus) for l in report.linked] == [
        ("P-A", 10, ["A"]), ("P-V", 11, ["V-M", "V-S"])]
    assert report.to_create == ["P-NEW"]
    assert [l["listing_id"] for l in report.discovered] == [12]


def test_sku_on_two_listings_and_skus_split_across_listings_are_ambiguous():
    report = run([listing(10, "D"), listing(11, "D"), listing(12, "S1"), listing(13, "S2"), listing(14, "X")],
                 {"P-D": ["D"], "P-S": ["S1", "S2"]})
    assert report.linked == []
    found = {a.product_id: a for a in report.ambiguous}
    assert found["P-D"].candidates == [10, 11] and "more than one Etsy listing" in found["P-D"].reason
    assert found["P-S"].candidates == [12, 13] and "split" in found["P-S"].reason
    # Candidates are not "discovered": upstream has a product for them.
    assert [l["listing_id"] for l in report.discovered] == [14]


def test_two_products_on_one_listing_or_a_listing_owned_by_another_product_are_not_linked():
    report = run([listing(10, "A", "B"), listing(11, "C")], {"P-A": ["A"], "P-B": ["B"], "P-C": ["C"]},
                 owners={11: "P-OLD"})
    assert report.linked == []
    assert sorted(a.product_id for a in report.ambiguous) == ["P-A", "P-B", "P-C"]
    assert "already linked to product P-OLD" in next(a for a in report.ambiguous if a.product_id == "P-C").reason


def test_already_linked_products_and_owned_listings_are_left_alone():
    report = run([listing(10, "A"), listing(11, "B")], {"P-A": ["A"]}, owners={10: "P-A", 11: "P-GONE"},
                 linked={"P-A": 10})
    assert report.already == [("P-A", 10)] and report.linked == [] and report.discovered == []


def test_fewest_calls_one_page_of_100_per_state_and_one_call_per_empty_state():
    assert minimum_calls({}) == 5
    assert minimum_calls({"active": 2000}) == 24
    assert minimum_calls({"active": 9950, "draft": 50}) == 104
    assert minimum_calls({"active": 101, "draft": 100, "inactive": 1}) == 2 + 1 + 1 + 1 + 1


def test_status_shows_a_running_sync_with_its_progress_and_the_last_outcome():
    from etsyflow.ops.status import _listings_sync

    now = 1_800_000_000.0
    running = {"status": "running", "read": 1200, "total": 10000, "started_at": now - 30}
    assert _listings_sync(7, running, now).startswith(
        "shop 7: listings sync running, 1200 of 10000 listings read (12 %), started ")
    done = {"status": "done", "finished_at": now - 60, "listings": 10000, "calls": 104, "linked": 9000,
            "ambiguous": 3, "discovered": 997}
    assert "10000 listings in 104 calls; linked 9000, ambiguous 3, discovered 997" in _listings_sync(7, done, now)
    failed = {"status": "failed", "finished_at": now, "error": "Etsy said no"}
    assert "listings sync failed" in _listings_sync(7, failed, now) and "Etsy said no" in _listings_sync(7, failed, now)
