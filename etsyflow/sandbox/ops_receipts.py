"""Receipts (orders): listing with Etsy's filters, one receipt, shipments."""
