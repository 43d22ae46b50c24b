"""The catalogue half of etsyflow: the logic behind the listing, delivery-template and stock actors.

- :mod:`.keys` — every Redis key this package writes;
- :mod:`.records` — link records (template ↔ Etsy profiles, product ↔ listing, SKU index) and the
  fingerprints (stable hashes) of what was last written, part by part;
- :mod:`.locks` — per-product / per-template locks with a bounded wait;
- :mod:`.taxonomy` — category properties, cached in Redis with a TTL;
- :mod:`.images` — image download with timeout, size cap and type check;
- :mod:`.shop` — the shop's currency, country and return policy (cached);
- :mod:`.templates` — delivery template → shipping + processing profile;
- :mod:`.listings` — product → listing sync (create, recover, update only what changed);
- :mod:`.stock` — one SKU's quantity.

Etsy's shapes (listing fields, the inventory matrix, profiles) are read and
built by :mod:`etsyflow.schemas`; the Etsy clients come from
:func:`etsyflow.shops.clients`.
"""
