"""A small, realistic seller taxonomy: a few nodes, their properties and values.

Shapes follow ``SellerTaxonomyNode`` and ``TaxonomyNodeProperty``. Colour value
ids are Etsy's own (Black 1 … Yellow 11); the rest are stable sandbox ids.
Property ids 513 and 514 are Etsy's custom variation properties, accepted in
any inventory whatever the taxonomy.
"""

from __future__ import annotations

CUSTOM_PROPERTY_IDS = (513, 514)
CUSTOM_PROPERTY_NAMES = {513: "Custom Property", 514: "Custom Property"}

COLOR, SIZE, MATERIAL, OCCASION, LENGTH, SCENT, WIDTH = 200, 100, 505, 506, 507, 508, 509

_COLORS = [
    (1213, "Beige"), (1, "Black"), (2, "Blue"), (1216, "Bronze"), (3, "Brown"), (1219, "Clear"),
    (1218, "Copper"), (1214, "Gold"), (5, "Gray"), (4, "Green"), (6, "Orange"), (7, "Pink"),
    (8, "Purple"), (1220, "Rainbow"), (9, "Red"), (1217, "Rose gold"), (1215, "Silver"),
    (10, "White"), (11, "Yellow"),
]
# Size: two scales with their own values, as Etsy has ("Letter", "US women's").
_SIZE_SCALES = [
    {"scale_id": 301, "display_name": "Letter", "description": "International letter sizes"},
    {"scale_id": 302, "display_name": "US women's", "description": "US women's numeric sizes"},
]
_SIZE_VALUES = [(1795 + i, name, 301) for i, name in enumerate(["XXS", "XS", "S", "M", "L", "XL", "XXL"])] + [
    (1850 + i, str(n), 302) for i, n in enumerate([0, 2, 4, 6, 8, 10, 12, 14, 16])
]


def _values(pairs, scale_id=None):
    return [{"value_id": vid, "name": name, "scale_id": scale_id, "equal_to": []} for vid, name in pairs]


def _property(pid, name, *, values=(), scales=(), variations=False, attributes=True,
              required=False, multivalued=False, max_values=None):
    return {
        "property_id": pid,
        "name": name,
        "display_name": name,
        "scales": list(scales),
        "is_required": required,
        "supports_attributes": attributes,
        "supports_variations": variations,
        "is_multivalued": multivalued,
        "max_values_allowed": max_values,
        "possible_values": list(values),
        "selected_values": [],
    }


def _color():
    return _property(COLOR, "Primary color", values=_values(_COLORS), variations=True)


def _size():
    values = [{"value_id": vid, "name": name, "scale_id": scale, "equal_to": []} for vid, name, scale in _SIZE_VALUES]
    return _property(SIZE, "Size", values=values, scales=_SIZE_SCALES, variations=True)


def _material(names, start):
    return _property(MATERIAL, "Material", values=_values([(start + i, n) for i, n in enumerate(names)]),
                     multivalued=True, max_values=5)


_CLOTHING_PROPS = lambda: [  # noqa: E731
    _color(), _size(),
    _material(["Cotton", "Linen", "Wool", "Silk", "Polyester", "Denim"], 4001),
    _property(OCCASION, "Occasion", values=_values([(4101, "Wedding"), (4102, "Birthday"), (4103, "Everyday")])),
]
_JEWELRY_PROPS = lambda: [  # noqa: E731
    _material(["Gold", "Silver", "Brass", "Copper", "Stainless steel"], 4201),
    # No possible values: the seller names the length; variations allowed.
    _property(LENGTH, "Necklace length", variations=True),
]
_HOME_PROPS = lambda: [  # noqa: E731
    _material(["Soy wax", "Beeswax", "Paraffin", "Coconut wax"], 4301),
    _property(SCENT, "Scent", variations=True),
    _property(WIDTH, "Width", variations=True, attributes=False),
]

# id, name, parent id, properties factory (leaves only)
_NODES = [
    (1000, "Clothing", None, None),
    (1001, "Women's Clothing", 1000, None),
    (1002, "Dresses", 1001, _CLOTHING_PROPS),
    (1003, "Tops & Tees", 1001, _CLOTHING_PROPS),
    (1004, "Men's Clothing", 1000, None),
    (1005, "Shirts", 1004, _CLOTHING_PROPS),
    (1100, "Jewelry", None, None),
    (1101, "Necklaces", 1100, _JEWELRY_PROPS),
    (1102, "Earrings", 1100, _JEWELRY_PROPS),
    (1200, "Home & Living", None, None),
    (1201, "Candles", 1200, _HOME_PROPS),
    (1202, "Wall Decor", 1200, _HOME_PROPS),
]

_BY_ID = {nid: (nid, name, parent, props) for nid, name, parent, props in _NODES}
_PROPERTIES = {nid: (props() if props else []) for nid, _n, _p, props in _NODES}


def _path(nid):
    path = []
    while nid is not None:
        path.insert(0, nid)
        nid = _BY_ID[nid][2]
    return path


def _node(nid):
    _id, name, parent, _props = _BY_ID[nid]
    path = _path(nid)
    return {
        "id": nid,
        "level": len(path) - 1,
        "name": name,
        "parent_id": parent,
        "children": [_node(child) for child, _n, p, _x in _NODES if p == nid],
        "full_path_taxonomy_ids": path,
    }


def nodes() -> list[dict]:
    """The taxonomy tree: top-level nodes with their children (``SellerTaxonomyNode``)."""
    return [_node(nid) for nid, _n, parent, _p in _NODES if parent is None]


def exists(taxonomy_id: int) -> bool:
    return taxonomy_id in _BY_ID


def properties(taxonomy_id: int) -> list[dict] | None:
    """``TaxonomyNodeProperty`` list of a node (inner nodes have none), None when unknown."""
    if taxonomy_id not in _BY_ID:
        return None
    return _PROPERTIES[taxonomy_id]


def find_property(taxonomy_id: int, property_id: int) -> dict | None:
    for prop in _PROPERTIES.get(taxonomy_id, []):
        if prop["property_id"] == property_id:
            return prop
    return None


def value_names(prop: dict) -> dict[int, dict]:
    return {v["value_id"]: v for v in prop["possible_values"]}
