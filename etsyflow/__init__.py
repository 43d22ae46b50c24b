"""etsyflow: keeps Etsy shops in step with a multichannel commerce back office.

The term 'Etsy' is a trademark of Etsy, Inc. This application uses the Etsy API
but is not endorsed or certified by Etsy, Inc.
"""

ATTRIBUTION = (
    "The term 'Etsy' is a trademark of Etsy, Inc. This application uses the "
    "Etsy API but is not endorsed or certified by Etsy, Inc."
)

__version__ = "0.1.0"
