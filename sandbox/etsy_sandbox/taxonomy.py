"""A small part of Etsy's seller taxonomy: real nodes, their properties and values.

Shapes follow ``SellerTaxonomyNode`` and ``TaxonomyNodeProperty``. Etsy's own:
the ids and names of every node shipped (the 15 top-level categories, e.g.
Clothing 374, Jewelry 1179, Home & Living 891, Shoes 1429 with Girls' Shoes
1440 as in Etsy's document, Bathroom Decor 902 and Furniture 967 under Home &
Living); property ids 100 (Size), 200 (Primary color), 513 and 514 (Etsy's
custom variation properties, accepted in any inventory whatever the taxonomy);
colour value ids (Black 1 … Yellow 11); the EU shoe size value 1394 = "38"
(Etsy's document). Other property, scale and value ids are stable sandbox ids.
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
# Size: scales with their own values, as Etsy has ("Letter", "US women's", "EU" for shoes).
_SIZE_SCALES = [
    {"scale_id": 301, "display_name": "Letter", "description": "International letter sizes"},
    {"scale_id": 302, "display_name": "US women's", "description": "US women's numeric sizes"},
]
_SHOE_SCALE = {"scale_id": 303, "display_name": "EU", "description": "EU shoe sizes"}
_SIZE_VALUES = [(1795 + i, name, 301) for i, name in enumerate(["XXS", "XS", "S", "M", "L", "XL", "XXL"])] + [
    (1850 + i, str(n), 302) for i, n in enumerate([0, 2, 4, 6, 8, 10, 12, 14, 16])
]
# 1394 is "38" in Etsy's document; its neighbours are sandbox ids in the same order.
_SHOE_VALUES = [(1390 + i, str(n), 303) for i, n in enumerate(range(34, 44))]


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


def _size(shoes=False):
    pairs = _SIZE_VALUES + (_SHOE_VALUES if shoes else [])
    values = [{"value_id": vid, "name": name, "scale_id": scale, "equal_to": []} for vid, name, scale in pairs]
    scales = _SIZE_SCALES + ([_SHOE_SCALE] if shoes else [])
    return _property(SIZE, "Size", values=values, scales=scales, variations=True)


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

_SHOE_PROPS = lambda: [_color(), _size(shoes=True), *_CLOTHING_PROPS()[2:]]  # noqa: E731 (material, occasion)
_COLOR_ONLY = lambda: [_color()]  # noqa: E731

# id, name, parent id, properties factory: Etsy's ids and names (see the module's text).
_NODES = [
    (1, "Accessories", None, _COLOR_ONLY),
    (66, "Art & Collectibles", None, _COLOR_ONLY),
    (132, "Bags & Purses", None, _COLOR_ONLY),
    (199, "Bath & Beauty", None, _COLOR_ONLY),
    (323, "Books, Movies & Music", None, _COLOR_ONLY),
    (374, "Clothing", None, _CLOTHING_PROPS),
    (562, "Craft Supplies & Tools", None, _COLOR_ONLY),
    (825, "Electronics & Accessories", None, _COLOR_ONLY),
    (891, "Home & Living", None, _HOME_PROPS),
    (902, "Bathroom Decor", 891, _HOME_PROPS),
    (967, "Furniture", 891, _HOME_PROPS),
    (1179, "Jewelry", None, _JEWELRY_PROPS),
    (1250, "Paper & Party Supplies", None, _COLOR_ONLY),
    (1351, "Pet Supplies", None, _COLOR_ONLY),
    (1429, "Shoes", None, _SHOE_PROPS),
    (1440, "Girls' Shoes", 1429, _SHOE_PROPS),
    (1552, "Toys & Games", None, _COLOR_ONLY),
    (1633, "Weddings", None, _COLOR_ONLY),
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
    """``TaxonomyNodeProperty`` list of a node, None when unknown."""
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
