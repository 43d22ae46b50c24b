"""Tracking numbers and the carrier chosen for one parcel: the values the
``createReceiptShipment`` mapping (:mod:`.shipments`) and the carrier map
(:mod:`etsyflow.fulfilment.carriers`) share."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


def normalise_tracking(code) -> str:
    """The comparison key of a tracking number: letters and digits only, upper case.

    "jc 2431-3788 5gb" and "JC243137885GB" are the same parcel.
    """
    if not isinstance(code, str):
        return ""
    text = unicodedata.normalize("NFKC", code)
    return "".join(ch for ch in text if ch.isalnum() and ch.isascii()).upper()


def clean_tracking(code) -> str:
    """The tracking number as sent to Etsy: the upstream's text without any whitespace."""
    if not isinstance(code, str):
        return ""
    return "".join(unicodedata.normalize("NFKC", code).split())


@dataclass(frozen=True)
class CarrierChoice:
    """The outcome of mapping one upstream carrier name.

    ``etsy_name`` is what goes to Etsy as ``carrier_name``; ``mapped`` is True
    when it is a supported Etsy carrier (not ``other``); ``match`` says how it
    was found: ``exact``, ``prefix`` or ``none``.
    """

    original: str
    etsy_name: str
    mapped: bool
    match: str

    @property
    def fallback(self) -> bool:
        """True when Etsy gets ``other``: the tracking link cannot name the carrier."""
        return not self.mapped
