"""``python -m etsy_sandbox``: the same as the ``etsy-sandbox`` command."""

from .cli import main

main(prog_name="etsy-sandbox")
