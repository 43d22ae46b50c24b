#!/usr/bin/env python3
"""Write the project's facts-only copy of Etsy's OpenAPI document.

    python3 scripts/etsy_facts.py PATH/TO/openapi.json            # rewrite the facts file
    python3 scripts/etsy_facts.py PATH/TO/openapi.json --check    # exit 1 if it would change

Etsy publishes its Open API v3 description at
https://www.etsy.com/openapi/generated/oas/3.0.0.json. The project does not
carry that document: it carries the facts a program needs from it — paths,
methods, operation ids, parameters with their types, formats, enums and
required flags, request body content types and schemas, response schemas,
security requirements — and none of its prose (descriptions, summaries,
titles, examples, tag texts, scope texts). The result is still an OpenAPI 3.0
document, so openapi-core validates requests and responses with it.

Written with the standard library only, so it runs before anything is
installed. The output is deterministic (sorted keys, 1-space indent): a new
Etsy document gives a reviewable diff.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "sandbox" / "etsy_sandbox" / "data" / "etsy-openapi-facts.json"

#: Keys that only carry prose (or sample data) wherever they are an OpenAPI keyword.
PROSE = {"description", "summary", "title", "example", "examples", "externalDocs", "termsOfService",
         "contact", "license", "x-tagGroups"}


def strip(node, *, names_map: bool = False):
    """A copy of ``node`` without prose keys.

    ``names_map`` is true for a schema's ``properties`` object, whose keys are
    field names (Etsy listings have fields called ``title`` and ``description``)
    and must all be kept.
    """
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if not names_map and key in PROSE:
                continue
            out[key] = strip(value, names_map=(key == "properties" and not names_map))
        return out
    if isinstance(node, list):
        return [strip(value) for value in node]
    return node


def facts(document: dict, source_sha256: str) -> dict:
    """The facts-only document derived from Etsy's ``document``."""
    out = {
        "openapi": document["openapi"],
        "info": {"version": document["info"]["version"],
                 "x-source": "https://www.etsy.com/openapi/generated/oas/3.0.0.json",
                 "x-source-sha256": source_sha256},
        "servers": [{"url": "https://openapi.etsy.com"}],
        "security": strip(document.get("security", [])),
        # Operation tags are names; the top-level tag list only adds texts.
        "paths": strip(document["paths"]),
        "components": strip(document.get("components", {})),
    }
    for scheme in out["components"].get("securitySchemes", {}).values():
        for flow in scheme.get("flows", {}).values():
            # Scope names are facts; their explanations are prose (the map needs string values).
            flow["scopes"] = {name: "" for name in flow.get("scopes", {})}
    return out


def render(document: dict) -> str:
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("openapi", type=Path, help="Etsy's OpenAPI document (JSON)")
    parser.add_argument("--output", type=Path, default=TARGET, help=f"where to write (default: {TARGET.relative_to(ROOT)})")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 when the file would change")
    args = parser.parse_args(argv)
    raw = args.openapi.read_bytes()
    text = render(facts(json.loads(raw), hashlib.sha256(raw).hexdigest()))
    current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
    if args.check:
        if current != text:
            print(f"{args.output} is not what {args.openapi} gives: run without --check", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    operations = sum(1 for item in json.loads(text)["paths"].values() for op in item.values()
                     if isinstance(op, dict) and "operationId" in op)
    print(f"wrote {args.output} ({len(text.encode())} bytes, {operations} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
