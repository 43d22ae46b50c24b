"""Carrier names as people type them → the ``carrier_name`` Etsy accepts.

Etsy keeps the tracking number of a shipment only when ``carrier_name`` is one
of its supported carriers (an unsupported name makes Etsy drop the tracking
silently, etsy/open-api#135, etsy/open-api#569, etsy/open-api#465). ``other`` is accepted with a
tracking code. This module turns "Royal Mail", "royalmail", "ROYAL-MAIL",
"Royal Mail Tracked 48" into ``royal-mail``, and anything it cannot place into
``other`` (the caller then keeps carrier and number in the note to the buyer).

The mapping is data: ``carriers.json`` beside this module (Etsy's list and the
common spellings), merged with the operator's file named by ``CARRIERS_FILE``
(JSON or CSV, see :func:`load_override`). The operator's aliases win.

Matching, in order:

1. *exact*: the normalised name (:func:`normalise_carrier`: case, accents,
   spaces and punctuation ignored) is an alias or an Etsy name;
2. *prefix*: the longest alias or Etsy name that covers the first whole words
   of the name ("UPS Ground" → ``ups``, "DHLExpress Worldwide" → ``dhl``);
   whole words only, so "Postal Service" never matches ``posta``;
3. otherwise ``other`` (a fallback).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..config import get_settings
from ..schemas.tracking import CarrierChoice, clean_tracking, normalise_tracking  # noqa: F401  (public here too)

DEFAULTS_PATH = Path(__file__).with_name("carriers.json")
OTHER = "other"
#: Longest carrier name or alias accepted from a file (characters).
MAX_NAME = 100

_WORDS = re.compile(r"[0-9]+|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[^\W\d_]+", re.UNICODE)


class CarrierFileError(ValueError):
    """A carrier file cannot be used; ``problems`` lists every reason (with line numbers)."""

    def __init__(self, path, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__(f"carrier file {self.path}: " + "; ".join(problems))


def _plain(text: str) -> str:
    """NFKD without combining marks: "Česká" → "Ceska", "Österreich" → "Osterreich"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def carrier_words(name) -> list[str]:
    """The words of a carrier name, lower case: "DHLExpress-48h" → ["dhl", "express", "48", "h"]."""
    if not isinstance(name, str):
        return []
    words: list[str] = []
    for chunk in re.split(r"[\W_]+", _plain(name), flags=re.UNICODE):
        words.extend(w.casefold() for w in _WORDS.findall(chunk))
    return [w for w in words if w]


def normalise_carrier(name) -> str:
    """The matching key of a carrier name: its words run together ("Royal-Mail " → "royalmail")."""
    return "".join(carrier_words(name))


class CarrierMap:
    """Normalised aliases → Etsy carrier names. Build with :func:`load_carrier_map`."""

    def __init__(self, etsy_carriers: Iterable[str], aliases: dict[str, str], sources: tuple[str, ...] = ()):
        self.etsy_carriers = frozenset(etsy_carriers)
        self.aliases = dict(aliases)  # normalised key -> Etsy name
        self.sources = sources
        # Longest keys first so the first whole-word prefix found is the longest.
        self._by_length = sorted(self.aliases, key=len, reverse=True)

    def resolve(self, name) -> CarrierChoice:
        """Map an upstream carrier name; never raises, whatever ``name`` is."""
        original = name if isinstance(name, str) else ("" if name is None else str(name))
        words = carrier_words(original)
        key = "".join(words)
        if not key:
            return CarrierChoice(original, OTHER, False, "none")
        target = self.aliases.get(key)
        if target is not None:
            return CarrierChoice(original, target, target != OTHER, "exact")
        boundaries = set()
        length = 0
        for word in words[:-1]:
            length += len(word)
            boundaries.add(length)
        for alias in self._by_length:
            if len(alias) in boundaries and key.startswith(alias):
                target = self.aliases[alias]
                return CarrierChoice(original, target, target != OTHER, "prefix")
        return CarrierChoice(original, OTHER, False, "none")

    def __len__(self) -> int:
        return len(self.aliases)


# -- loading ---------------------------------------------------------------------------

def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        raise CarrierFileError(path, [f"cannot be read: {error}"]) from None
    except ValueError as error:
        raise CarrierFileError(path, [f"is not valid JSON: {error}"]) from None


def _defaults(path: Path = DEFAULTS_PATH) -> tuple[set[str], list[tuple[str, str, str]]]:
    raw = _read_json(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("etsy_carriers"), list) \
            or not isinstance(raw.get("aliases"), dict):
        raise CarrierFileError(path, ['must hold "etsy_carriers" (a list) and "aliases" (an object)'])
    names = {str(n) for n in raw["etsy_carriers"]}
    entries = [(str(alias), str(target), f'alias "{alias}"') for alias, target in raw["aliases"].items()]
    return names, entries


def load_override(path) -> tuple[set[str], list[tuple[str, str, str]]]:
    """Read the operator's file: extra Etsy names and ``(alias, etsy_name, where)`` entries.

    Formats (chosen by the file's suffix, ``.csv`` or anything else = JSON):

    * JSON ``{"aliases": {"Royal Mail 24": "royal-mail"}, "etsy_carriers": ["new-carrier"]}``
      (``etsy_carriers`` optional: carriers Etsy supports that the defaults lack),
      or simply ``{"Royal Mail 24": "royal-mail"}``;
    * CSV ``alias,etsy_name`` per line; an optional header line
      (``alias,etsy_name``); blank lines and lines starting with ``#`` are skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise CarrierFileError(path, ["does not exist (CARRIERS_FILE)"])
    if path.suffix.lower() == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CarrierFileError(path, [f"cannot be read: {error}"]) from None
        entries: list[tuple[str, str, str]] = []
        problems: list[str] = []
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            cells = [c.strip() for c in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if number == 1 and [c.casefold() for c in cells[:2]] in (["alias", "etsy_name"],
                                                                      ["carrier", "carrier_name"]):
                continue
            if len(cells) < 2 or not cells[1]:
                problems.append(f"line {number}: needs two columns: alias,etsy_name")
                continue
            entries.append((cells[0], cells[1], f"line {number}"))
        if problems:
            raise CarrierFileError(path, problems)
        return set(), entries
    raw = _read_json(path)
    if not isinstance(raw, dict):
        raise CarrierFileError(path, ['must be a JSON object: {"aliases": {"name": "etsy-name"}}'])
    if "aliases" in raw or "etsy_carriers" in raw:
        aliases = raw.get("aliases", {})
        extra = raw.get("etsy_carriers", [])
    else:
        aliases, extra = raw, []
    problems = []
    if not isinstance(aliases, dict):
        problems.append('"aliases" must be an object of "name": "etsy-name"')
        aliases = {}
    if not isinstance(extra, list) or not all(isinstance(n, str) and n.strip() for n in extra):
        problems.append('"etsy_carriers" must be a list of names')
        extra = []
    entries = []
    for alias, target in aliases.items():
        if not isinstance(target, str):
            problems.append(f'alias "{alias}": the Etsy name must be a string')
            continue
        entries.append((alias, target, f'alias "{alias}"'))
    if problems:
        raise CarrierFileError(path, problems)
    return {n.strip() for n in extra}, entries


def build_map(defaults_path: Path = DEFAULTS_PATH, override_path=None) -> CarrierMap:
    """Defaults merged with the operator's file; raises :class:`CarrierFileError` listing every problem."""
    names, default_entries = _defaults(defaults_path)
    aliases: dict[str, str] = {}
    problems: list[str] = []
    # Each Etsy name matches itself ("royal-mail", "Royal Mail", "ROYALMAIL").
    for name in names:
        aliases[normalise_carrier(name)] = name
    aliases[OTHER] = OTHER
    by_key_source: dict[str, str] = {}
    _merge(aliases, default_entries, names, problems, by_key_source, strict=True)
    if problems:
        raise CarrierFileError(defaults_path, problems)
    sources = [str(defaults_path)]
    if override_path:
        extra, entries = load_override(override_path)
        names |= extra
        for name in extra:
            aliases.setdefault(normalise_carrier(name), name)
        _merge(aliases, entries, names, problems, {}, strict=False)
        if problems:
            raise CarrierFileError(override_path, problems)
        sources.append(str(override_path))
    return CarrierMap(names, aliases, tuple(sources))


def _merge(aliases: dict[str, str], entries, names: set[str], problems: list[str],
           seen: dict[str, str], *, strict: bool) -> None:
    """Add ``entries`` to ``aliases``. ``strict`` (the defaults): two spellings of one
    key must agree. The operator's entries simply win over the defaults."""
    by_normalised = {normalise_carrier(n): n for n in names}
    for alias, target, where in entries:
        key = normalise_carrier(alias)
        target = target.strip()
        if not key:
            problems.append(f"{where}: the alias has no letters or digits")
            continue
        if len(alias) > MAX_NAME or len(target) > MAX_NAME:
            problems.append(f"{where}: longer than {MAX_NAME} characters")
            continue
        if target != OTHER and target not in names:
            # Be kind to "Royal Mail" where "royal-mail" was meant; refuse the rest,
            # because Etsy drops the tracking number of a name it does not support.
            known = by_normalised.get(normalise_carrier(target))
            if known is None:
                problems.append(f'{where}: "{target}" is not a carrier name Etsy accepts '
                                f'(use one of carriers.json "etsy_carriers", or "other")')
                continue
            target = known
        if strict and key in seen and aliases.get(key) != target:
            problems.append(f'{where}: "{alias}" already maps to "{aliases[key]}" ({seen[key]})')
            continue
        if strict and key in aliases and key not in seen and aliases[key] != target:
            problems.append(f'{where}: "{alias}" is spelt like the Etsy carrier "{aliases[key]}"')
            continue
        aliases[key] = target
        seen[key] = where


# -- the process-wide map, reloaded when the operator's file changes -------------------

_lock = threading.Lock()
_cache: dict[tuple, CarrierMap] = {}


def _override_path(settings=None) -> str | None:
    """``CARRIERS_FILE``, from the settings."""
    return (settings or get_settings()).carriers_file


def _stamp(path) -> tuple:
    try:
        stat = os.stat(path)
    except OSError:
        return (str(path), None)
    return (str(path), stat.st_mtime_ns, stat.st_size)


def get_carrier_map(settings=None) -> CarrierMap:
    """The map for the current settings; re-read when ``CARRIERS_FILE`` changes on disk.

    Raises :class:`CarrierFileError` when the operator's file is unusable, so a
    shipment waits (and is retried) rather than going out with a wrong carrier.
    """
    path = _override_path(settings)
    stamp = _stamp(path) if path else None
    key = (_stamp(DEFAULTS_PATH), stamp)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        built = build_map(DEFAULTS_PATH, path)
        _cache.clear()
        _cache[key] = built
        return built


def resolve_carrier(name, settings=None) -> CarrierChoice:
    """Shorthand: :meth:`CarrierMap.resolve` on :func:`get_carrier_map`."""
    return get_carrier_map(settings).resolve(name)
