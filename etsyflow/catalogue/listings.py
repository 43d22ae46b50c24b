"""Product → Etsy listing: created once, then only what changed is written.

:func:`sync` runs under a per-product lock (``etsyflow:lock:listing:<shop>:<product>``)
and keeps the product's link record (``etsyflow:listing:<shop>:<product>``,
see :mod:`.keys`) part by part:

======================  ==============================================================
part                    written when
======================  ==============================================================
listing fields          their fingerprint changed (one ``updateListing``, together with
                        the state change when there is one)
images                  the ordered list of (URL, alt text) changed: unchanged images
                        stay (moved by id when their rank changed), new ones are
                        downloaded and uploaded one at a time, obsolete ones
                        overwritten or deleted
inventory               the matrix changed: Etsy's current matrix is read; if it does
                        not already match, the whole new matrix is written
item specifics          per property, when its values changed; removed ones deleted
state                   active / draft (inactive for a live listing), and inactive
                        while nothing is in stock
======================  ==============================================================

Identical content makes no write call at all.

Creating exactly once: before ``createDraftListing`` the record is set to
``creating`` with the intent (title, description, taxonomy, quantity,
shipping profile, time). A retry that finds ``creating`` looks for that
draft among the shop's drafts created since the intent, not owned by any
other product (``etsyflow:listing-owner:<shop>:<listing_id>``), and adopts it.
Creates are sent with a client that never resends (``once``): a resend after
a lost answer is exactly how a duplicate would be made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..config import get_settings
from ..etsy.errors import PermanentError
from ..etsy.transport import longest_call_seconds
from ..messages import Refused, RetryLater
from ..schemas import inventory as inv
from ..schemas import listings as mapping
from ..schemas.linking import kept_field
from . import freshness, keys, locks, records, shop, taxonomy
from . import images as image_fetch

#: A draft created more than this long before the intent record is not ours (seconds).
INTENT_SLACK_SECONDS = 300
#: Crash recovery reads at most this many pages of 100 drafts.
RECOVERY_PAGES = 10
MAX_IMAGES = 10


@dataclass
class Desired:
    """What Etsy should hold for one product (Etsy's field names)."""

    data: dict
    template_id: str
    shipping_profile_id: int
    readiness_state_id: int | None
    fields: dict
    create_form: dict
    images: list[dict]
    properties: dict[str, dict]
    inventory: dict
    state: str


@dataclass
class Result:
    listing_id: int
    state: str
    created: bool
    changed: list[str] = field(default_factory=list)
    #: The listing fields written (names as in ``listing_fields``).
    fields: list[str] = field(default_factory=list)
    #: Fields the seller had edited on Etsy that this update replaced (upstream changed them too).
    overwritten: list[str] = field(default_factory=list)
    #: Fields the seller had edited on Etsy that were left as the seller made them.
    kept: list[str] = field(default_factory=list)


def image_key(image: dict) -> str:
    return records.fingerprint([image["url"], image.get("alt_text") or ""])


# -- what Etsy should hold ----------------------------------------------------------

def prepare(data: dict, *, client, once, redis) -> Desired:
    """Resolve everything that needs no listing yet (reads, cached; may create the return policy)."""
    tpl = records.load_template(redis, data["shop_id"], data["delivery_template_id"])
    if not tpl.linked:
        raise Refused(f"delivery template {data['delivery_template_id']} has not been synced to Etsy yet; "
                      "publish DeliveryTemplateReady first")
    sells_in = shop.currency(client, redis, data["shop_id"])
    if sells_in and sells_in != data["currency"]:
        raise Refused(f"prices are in {data['currency']} but the Etsy shop sells in {sells_in}: "
                      f"send prices in {sells_in}")
    properties = []
    if data.get("specifics") or data.get("variations"):
        properties = taxonomy.properties(client, redis, data["taxonomy_id"])
    specifics = mapping.resolve_specifics(data.get("specifics") or [], properties, data["taxonomy_id"])
    products, ids = mapping.inventory_products(data, properties, readiness_state_id=tpl.readiness_state_id)
    policy = shop.return_policy_id(client, once, redis, data["shop_id"])
    fields = mapping.listing_fields(data, shipping_profile_id=tpl.shipping_profile_id, return_policy_id=policy)
    images = [{"key": image_key(i), "url": i["url"], "alt_text": i.get("alt_text") or ""}
              for i in data.get("images") or []]
    if len({i["key"] for i in images}) != len(images):
        raise Refused("the same image (URL and alt text) is listed twice")
    return Desired(
        data=data, template_id=data["delivery_template_id"], shipping_profile_id=tpl.shipping_profile_id,
        readiness_state_id=tpl.readiness_state_id, fields=fields,
        create_form=mapping.create_form(data, fields, readiness_state_id=tpl.readiness_state_id),
        images=images, properties={str(pid): v for pid, v in specifics.items()},
        inventory=inv.matrix(products, ids), state=data.get("state") or "active",
    )


# -- the sync --------------------------------------------------------------------------

def sync(data: dict, *, client, once, redis, session=None, lock_wait_seconds: float = locks.DEFAULT_WAIT_SECONDS,
         event_time: str | None = None, on_locked=None) -> Result:
    """Create or update the product's listing so Etsy holds ``data``; refused when a newer
    ListingReady (by ``event_time``) is already on Etsy.

    ``on_locked()`` is called once the product's lock is held and the event is
    not stale (:func:`.unchanged.begin`).
    """
    desired = prepare(data, client=client, once=once, redis=redis)
    shop_id, product_id = data["shop_id"], data["product_id"]
    with locks.held(redis, keys.listing_lock(shop_id, product_id), wait_seconds=lock_wait_seconds):
        stale = freshness.stale_product(redis, shop_id, product_id, event_time)
        if stale:
            raise Refused(stale)
        if on_locked is not None:
            on_locked()
        link = records.load_listing(redis, shop_id, product_id)
        old_skus = inv.skus(link.inventory or {}) + inv.skus(link.held or {})
        changed: list[str] = []
        created = False
        downloads: dict[str, image_fetch.Image] = {}
        if not link.linked:
            if inv.in_stock(desired.inventory) == 0:
                raise Refused("nothing is in stock: Etsy does not take a new listing with quantity 0; "
                              "send the product again when there is stock")
            downloads = _download(desired.images, session)  # every image checked before anything is made
            _create_or_adopt(desired, link, client=client, once=once, redis=redis)
            created = True
            changed.append("created")
        else:
            known = {i["key"] for i in link.images}
            downloads = _download([i for i in desired.images if i["key"] not in known], session)
        if _sync_images(desired, link, downloads, client=client, once=once, redis=redis):
            changed.append("images")
        if _sync_inventory(desired, link, fresh=created, client=client, redis=redis):
            changed.append("inventory")
        if _sync_properties(desired, link, client=client, redis=redis):
            changed.append("properties")
        edits: dict = {}
        changed += _sync_fields_and_state(desired, link, client=client, redis=redis, edits=edits)
        records.index_skus(redis, shop_id, link.listing_id, product_id, inv.skus(desired.inventory), old_skus)
        freshness.record_product(redis, shop_id, product_id, event_time)
        freshness.record_stock(redis, shop_id, inv.skus(desired.inventory), event_time)
        return Result(link.listing_id, link.state or "draft", created, changed, **edits)


def _download(wanted: list[dict], session) -> dict:
    return {image["key"]: image_fetch.fetch(image["url"], session=session) for image in wanted}


# -- creating once --------------------------------------------------------------------

def _intent(form: dict) -> dict:
    return {k: form.get(k) for k in ("title", "description", "taxonomy_id", "quantity", "shipping_profile_id")}


def _create_or_adopt(desired: Desired, link: records.ListingLink, *, client, once, redis) -> None:
    shop_id, product_id = desired.data["shop_id"], desired.data["product_id"]
    adopted = None
    if link.creating and link.create_fp:
        adopted = _find_draft(client, redis, shop_id, records.load_json(link.create_fp, {}), link.intent_at or 0)
        if adopted is None:
            _wait_for_settle(link, once)
    if adopted is None:
        link.status, link.intent_at = records.CREATING, time.time()
        link.create_fp = records.canonical(_intent(desired.create_form))
        records.save_listing(redis, link, "status", "intent_at", "create_fp")
        try:
            listing = once.create_draft_listing(desired.create_form)
        except PermanentError:
            link.status = None
            records.save_listing(redis, link, "status")
            raise
        known = True
    else:
        listing = adopted
        known = _intent(desired.create_form) == records.load_json(link.create_fp, {})
    listing_id = mapping.listing_id(listing)
    records.claim_listing(redis, shop_id, listing_id, product_id)
    link.listing_id, link.status, link.state = listing_id, records.LINKED, listing.get("state") or "draft"
    link.template_id, link.readiness_state_id = desired.template_id, desired.readiness_state_id
    link.images, link.image_intent, link.properties, link.held = [], None, {}, None
    link.stock_inactive = False
    if known:
        # What createDraftListing made: the fields as sent, a one-product inventory.
        link.fields, link.fp_fields = desired.fields, records.fingerprint(desired.fields)
        link.inventory = _default_inventory(desired)
    else:
        link.fields, link.fp_fields, link.inventory = {}, None, None  # unknown: compare with Etsy
    records.save_listing(redis, link)


def _wait_for_settle(link: records.ListingLink, once) -> None:
    """An earlier create's outcome is unknown (timeout, lost answer) and Etsy shows no draft yet.

    Etsy may still carry that create out (a request held past our timeout), so
    a new one is sent only once the earlier one cannot land any more: its
    longest duration (rate-limit wait + timeout) plus ``WRITE_SETTLE_SECONDS``
    after the intent. Until then the message is retried after the remaining time.
    (Found by the fault suite: a create delayed 2.5 s by Etsy, retried after
    a 1 s timeout, made a second listing.)
    """
    settings = get_settings()
    remaining = (link.intent_at or 0) + longest_call_seconds(settings) + settings.write_settle_seconds - time.time()
    if remaining > 0:
        raise RetryLater(remaining + 0.001, f"waiting {remaining:.1f} s for Etsy to show an earlier create")


def _default_inventory(desired: Desired) -> dict:
    form = desired.create_form
    product = {"sku": "", "property_values": [],
               "offerings": [mapping.offering(form["price"], form["quantity"], desired.readiness_state_id)]}
    return inv.matrix([product], [])


def _find_draft(client, redis, shop_id: int, intent: dict, intent_at: float) -> dict | None:
    """The draft a dead worker created from ``intent``, if Etsy has it and no product owns it."""
    if not intent:
        return None
    cutoff = intent_at - INTENT_SLACK_SECONDS
    for page in range(RECOVERY_PAGES):
        answer = client.get_listings_by_shop(state="draft", limit=100, offset=page * 100,
                                             sort_on="created", sort_order="desc") or {}
        results = answer.get("results") or []
        for listing in results:
            created = mapping.created_at(listing)
            if created < cutoff:
                continue
            if mapping.matches_created(listing, intent) and \
                    records.listing_owner(redis, shop_id, mapping.listing_id(listing)) is None:
                return listing
        oldest = min((mapping.created_at(entry) for entry in results), default=0)
        if len(results) < 100 or oldest < cutoff:
            return None
    return None


# -- images ---------------------------------------------------------------------------

def _save_images(redis, link):
    records.save_listing(redis, link, "images", "image_intent")


def _reconcile_images(link, desired, *, client, redis) -> None:
    """After an interrupted upload: make the record match Etsy (adopt or delete the orphan)."""
    answer = client.get_listing_images(link.listing_id) or {}
    etsy = sorted(answer.get("results") or [], key=mapping.image_rank)
    known = {int(i["id"]): i["key"] for i in link.images}
    intended = next((i for i in desired.images if i["key"] == link.image_intent), None)
    rebuilt = []
    for image in etsy:
        image_id = mapping.image_id(image)
        if image_id in known:
            rebuilt.append({"key": known[image_id], "id": image_id})
        elif intended is not None and (image.get("alt_text") or "") == intended["alt_text"] \
                and all(i["key"] != intended["key"] for i in rebuilt):
            rebuilt.append({"key": intended["key"], "id": image_id})  # the upload did land: keep it
        else:
            client.delete_listing_image(link.listing_id, image_id)
    link.images, link.image_intent = rebuilt, None
    _save_images(redis, link)


def _sync_images(desired: Desired, link, downloads, *, client, once, redis) -> bool:
    wanted = [i["key"] for i in desired.images]
    if link.image_intent:
        _reconcile_images(link, desired, client=client, redis=redis)
    if [i["key"] for i in link.images] == wanted:
        return False
    by_key = {i["key"]: i for i in desired.images}
    wanted_set = set(wanted)
    current = list(link.images)  # [{key, id}] in rank order: our model of Etsy's list
    new_count = sum(1 for k in wanted if k not in {i["key"] for i in current})
    # Room first: Etsy holds at most 10 images.
    while len(current) + new_count > MAX_IMAGES:
        obsolete = [i for i in current if i["key"] not in wanted_set]
        if not obsolete or len(current) <= 1:
            break
        victim = obsolete[-1]
        _delete_image(client, link, victim["id"])
        current.remove(victim)
        link.images = list(current)
        _save_images(redis, link)
    for rank, key in enumerate(wanted, start=1):
        position = rank - 1
        if position < len(current) and current[position]["key"] == key:
            continue
        existing = next((i for i in current if i["key"] == key), None)
        if existing is not None:  # an unchanged image at another rank: move it by id, no upload
            _assign_rank(client, link.listing_id, existing["id"], rank)
            current.remove(existing)
            current.insert(position, existing)
        else:
            image = downloads[key]
            overwrite = position < len(current) and current[position]["key"] not in wanted_set
            link.image_intent = key
            _save_images(redis, link)
            made = once.upload_listing_image(link.listing_id, image.data, filename=image.filename,
                                             content_type=image.content_type, rank=rank,
                                             alt_text=by_key[key]["alt_text"] or None,
                                             overwrite=True if overwrite else None)
            entry = {"key": key, "id": mapping.image_id(made)}
            if overwrite:
                current[position] = entry
            else:
                current.insert(position, entry)
        link.images, link.image_intent = list(current), None
        _save_images(redis, link)
    for extra in current[len(wanted):]:
        if len(current) <= 1 and link.state == "active":
            break  # an active listing keeps one image
        _delete_image(client, link, extra["id"])
        current.remove(extra)
    link.images = current
    _save_images(redis, link)
    return True


def _assign_rank(client, listing_id: int, image_id: int, rank: int) -> None:
    """Move an image already on the listing to ``rank`` (idempotent)."""
    client.rank_listing_image(listing_id, image_id, rank)


def _delete_image(client, link, image_id: int) -> None:
    try:
        client.delete_listing_image(link.listing_id, image_id)
    except PermanentError as error:
        if error.status != 404:
            raise


# -- inventory ------------------------------------------------------------------------

def _sync_inventory(desired: Desired, link, *, fresh: bool, client, redis) -> bool:
    target = desired.inventory
    known = link.held if link.held is not None else link.inventory
    if known is not None and inv.comparable(known) == inv.comparable(target):
        return False
    if inv.in_stock(target) == 0:
        # Etsy refuses a matrix with nothing to sell: keep it until stock returns (see stock.py).
        link.held = target
        records.save_listing(redis, link, "held")
        return True
    if not fresh or link.inventory is None:
        current = mapping.inventory_from_etsy(client.get_listing_inventory(link.listing_id) or {})
        if inv.same(current, target):
            link.inventory, link.held = target, None
            records.save_listing(redis, link, "inventory", "held")
            return False
    client.update_listing_inventory(link.listing_id, target)
    link.inventory, link.held = target, None
    records.save_listing(redis, link, "inventory", "held")
    return True


# -- item specifics -------------------------------------------------------------------

def _sync_properties(desired: Desired, link, *, client, redis) -> bool:
    changed = False
    for pid, value in desired.properties.items():
        if link.properties.get(pid) == value:
            continue
        client.update_listing_property(link.listing_id, int(pid), value_ids=value["value_ids"],
                                       values=value["values"], scale_id=value.get("scale_id"))
        link.properties[pid] = value
        records.save_listing(redis, link, "properties")
        changed = True
    for pid in [p for p in link.properties if p not in desired.properties]:
        try:
            client.delete_listing_property(link.listing_id, int(pid))
        except PermanentError as error:
            if error.status != 404:
                raise
        del link.properties[pid]
        records.save_listing(redis, link, "properties")
        changed = True
    return changed


# -- fields and state -----------------------------------------------------------------

def target_state(wanted: str, current: str | None, in_stock: bool) -> str:
    """The Etsy state to end in. Etsy has no way back to draft: a live listing asked to be a
    draft becomes inactive; a listing with nothing in stock is inactive (or stays a draft)."""
    current = current or "draft"
    if wanted == "draft":
        return "draft" if current == "draft" else "inactive"
    if not in_stock:
        return "draft" if current == "draft" else "inactive"
    return "active"


def _fields_to_write(desired: Desired, link, *, client) -> tuple[dict, list[str], list[str]]:
    """The fields to send, and the seller's edits on Etsy: (form, overwritten, kept).

    Only what upstream changed since etsyflow last wrote (or, for a listing
    linked by a sync, since the sync read it) is sent. Etsy's current values
    are read first: a field the seller edited on Etsy is kept unless upstream
    changed that very field, and then it is named as overwritten.
    """
    if not link.fields:  # nothing known of Etsy's side: write everything (a fresh create)
        return dict(desired.fields), [], []  # updateListing takes the kept fields as they are
    upstream = [k for k, v in desired.fields.items() if link.fields.get(k) != v]
    if not upstream:
        return {}, [], []
    etsy = client.get_listing(link.listing_id) or {}
    edited = [k for k, v in link.fields.items() if kept_field(etsy, k) is not None and kept_field(etsy, k) != v]
    form = {k: desired.fields[k] for k in upstream}
    return form, sorted(k for k in upstream if k in edited), sorted(k for k in edited if k not in upstream)


def _sync_fields_and_state(desired: Desired, link, *, client, redis, edits: dict) -> list[str]:
    """Write the changed fields and the state; ``edits`` receives ``fields``, ``overwritten``, ``kept``."""
    changed = []
    form = {}
    fp = records.fingerprint(desired.fields)
    if link.fp_fields != fp:
        fields_form, edits["overwritten"], edits["kept"] = _fields_to_write(desired, link, client=client)
        form.update(fields_form)
        edits["fields"] = sorted(fields_form)
        if fields_form:
            changed.append("fields")
    stock = inv.in_stock(link.held if link.held is not None else (link.inventory or desired.inventory)) > 0
    state = target_state(desired.state, link.state, stock)
    if state != (link.state or "draft") and state != "draft":
        form["state"] = state
        changed.append("state")
    link.desired_state = desired.state
    link.stock_inactive = desired.state == "active" and not stock
    if form:
        answer = client.update_listing(link.listing_id, form) or {}
        link.state = answer.get("state") or form.get("state") or link.state
    # Upstream's values: a seller's edit kept on Etsy stays an edit until upstream changes that field.
    link.fields, link.fp_fields = desired.fields, fp
    link.template_id, link.readiness_state_id = desired.template_id, desired.readiness_state_id
    records.save_listing(redis, link, "state", "desired_state", "stock_inactive", "fields", "fp_fields",
                         "template_id", "readiness_state_id")
    return changed
