"""Upstream delivery template → one Etsy shipping profile + processing profile, shared by listings.

Rules:

* first time: create the processing profile (Etsy's 409 "exists" answer is
  reused, see the client), then the shipping profile with the first
  destination, then one destination call per extra destination; the link
  (``etsyflow:tpl:<shop>:<template_id>``) is written after each step;
* same content again: nothing is written;
* changed content: the profile is updated in place — only when the shop's
  ``update_shipping_templates`` option is on; otherwise it is kept and the
  follow-up says it was not updated. An unfinished creation of our own is
  always finished (that is not an update of the seller's profile);
* a worker that dies after Etsy created the profile but before the link was
  written: the link says ``creating``; the retry looks the profile up by
  title, origin and first destination among the shop's profiles that no
  template owns, and adopts it instead of creating a second one.

Destinations are reconciled by reading the profile (one call): updated
where they differ, created where missing, deleted where no longer wanted
(and where a crash left a duplicate).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..etsy.errors import PermanentError
from ..schemas import templates as mapping
from . import keys, locks, records

#: A template sync makes a handful of calls (seconds).
LEASE_SECONDS = 5 * 60


@dataclass
class Outcome:
    shipping_profile_id: int
    readiness_state_id: int | None
    created: bool
    updated: bool
    note: str | None = None


def _fingerprint(template: dict) -> str:
    return records.fingerprint({k: v for k, v in template.items() if k != "shop_id"})


def sync(template: dict, *, client, once, redis, update_allowed: bool) -> Outcome:
    """Make Etsy hold ``template``. ``once`` is a client that never resends (for creates)."""
    shop_id, template_id = template["shop_id"], template["template_id"]
    with locks.held(redis, keys.template_lock(shop_id, template_id), lease_seconds=LEASE_SECONDS):
        link = records.load_template(redis, shop_id, template_id)
        fp = _fingerprint(template)
        if link.linked and link.fingerprint == fp:
            return Outcome(link.shipping_profile_id, link.readiness_state_id, created=False, updated=False,
                           note="unchanged")
        finishing = link.linked and not link.fingerprint  # our own creation, interrupted
        if link.linked and not finishing and not update_allowed:
            return Outcome(link.shipping_profile_id, link.readiness_state_id, created=False, updated=False,
                           note="the template changed but this shop's update_shipping_templates option is off: "
                                "the existing Etsy shipping profile was kept as it is")
        created = False
        if not link.linked:
            _create(template, link, client=client, once=once, redis=redis)
            created = True
        else:
            found = _reconcile(template, link, client=client, once=once, redis=redis)
            if not found:  # the seller deleted the profile on Etsy: make a new one
                link = records.TemplateLink(shop_id, template_id)
                _create(template, link, client=client, once=once, redis=redis)
                created = True
            link.readiness_state_id = client.create_shop_readiness_state_definition(
                mapping.processing_form(template))
        link.fingerprint = fp
        records.save_template(redis, link)
        return Outcome(link.shipping_profile_id, link.readiness_state_id, created=created,
                       updated=not created and not finishing)


def _create(template, link, *, client, once, redis) -> None:
    shop_id = template["shop_id"]
    link.readiness_state_id = client.create_shop_readiness_state_definition(mapping.processing_form(template))
    profile = _recover(template, link, client=client, redis=redis) if link.status == records.CREATING else None
    if profile is None:
        link.status, link.intent_at = records.CREATING, time.time()
        records.save_template(redis, link)
        profile = once.create_shop_shipping_profile(mapping.profile_form(template))
    profile_id = mapping.profile_id(profile)
    redis.set(keys.profile_owner(shop_id, profile_id), template["template_id"])
    primary = mapping.primary_destination_id(profile, template)
    link.shipping_profile_id = profile_id
    link.destinations = {mapping.destination_key(template["destinations"][0]): primary} if primary else {}
    link.status, link.fingerprint = records.LINKED, None
    records.save_template(redis, link)
    if len(mapping.profile_destinations(profile) or []) > 1:
        # Adopted after a crash with more than the primary destination: reconcile by reading.
        _reconcile(template, link, client=client, once=once, redis=redis)
        return
    for destination in template["destinations"][1:]:
        made = once.create_shop_shipping_profile_destination(profile_id, mapping.destination_form(destination))
        link.destinations[mapping.destination_key(destination)] = mapping.destination_id(made)
        records.save_template(redis, link)


def _recover(template, link, *, client, redis) -> dict | None:
    """The profile a dead worker created for this template, if Etsy has it."""
    answer = client.get_shop_shipping_profiles() or {}
    candidates = [p for p in answer.get("results") or []
                  if mapping.matches_profile(p, template)
                  and redis.get(keys.profile_owner(template["shop_id"], mapping.profile_id(p))) is None]
    if not candidates:
        return None
    return max(candidates, key=mapping.profile_id)  # the newest


def _reconcile(template, link, *, client, once, redis) -> bool:
    """Bring the linked profile and its destinations in line; False when Etsy no longer has it."""
    profile_id = link.shipping_profile_id
    try:
        profile = client.get_shop_shipping_profile(profile_id)
    except PermanentError as error:
        if error.status == 404:
            return False
        raise
    if mapping.is_deleted(profile):
        return False
    if mapping.profile_differs(profile, template):
        client.update_shop_shipping_profile(profile_id, mapping.profile_update_form(template))
    current = mapping.profile_destinations(profile)
    if current is None:
        current = list(client.iter_shipping_profile_destinations(profile_id))
    by_key: dict[str, list[dict]] = {}
    for dest in current:
        by_key.setdefault(mapping.etsy_destination_key(dest), []).append(dest)
    wanted = {mapping.destination_key(d): d for d in template["destinations"]}
    ids: dict[str, int] = {}
    surplus: list[int] = []
    for key, destination in wanted.items():
        existing = sorted(by_key.get(key, []), key=mapping.destination_id)
        if existing:
            keep = existing[0]
            dest_id = mapping.destination_id(keep)
            if mapping.destination_differs(keep, destination):
                client.update_shop_shipping_profile_destination(profile_id, dest_id,
                                                                mapping.destination_update_form(destination))
            surplus += [mapping.destination_id(d) for d in existing[1:]]
        else:
            made = once.create_shop_shipping_profile_destination(profile_id, mapping.destination_form(destination))
            dest_id = mapping.destination_id(made)
        ids[key] = dest_id
        link.destinations = dict(ids)
        records.save_template(redis, link)
    for key, dests in by_key.items():
        if key not in wanted:
            surplus += [mapping.destination_id(d) for d in dests]
    for dest_id in surplus:
        try:
            client.delete_shop_shipping_profile_destination(profile_id, dest_id)
        except PermanentError as error:
            if error.status != 404:  # already gone (a resent delete) is fine
                raise
    link.destinations = ids
    return True
