"""``etsyflow carriers``: see how carrier names map to Etsy's, and check the operator's file."""

from __future__ import annotations

import json

import click

from ..fulfilment.carriers import CarrierFileError, build_map, get_carrier_map


@click.group(help="Carrier names → the names Etsy accepts (defaults + CARRIERS_FILE).")
def carriers() -> None:
    pass


@carriers.command("check", help="Load the defaults and CARRIERS_FILE (or FILE); report every problem.")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
def check(file: str | None) -> None:
    try:
        mapping = build_map(override_path=file) if file else get_carrier_map()
    except CarrierFileError as error:
        click.echo(f"carrier file {error.path} is not usable:", err=True)
        for problem in error.problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1) from None
    click.echo(f"ok: {len(mapping.aliases)} spellings for {len(mapping.etsy_carriers)} Etsy carriers "
               f"from {', '.join(mapping.sources)}")


@carriers.command("map", help="Show what Etsy gets for each NAME (as a warehouse would type it).")
@click.argument("names", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per name.")
def map_names(names: tuple[str, ...], as_json: bool) -> None:
    try:
        mapping = get_carrier_map()
    except CarrierFileError as error:
        raise click.ClickException(str(error)) from None
    for name in names:
        choice = mapping.resolve(name)
        if as_json:
            click.echo(json.dumps({"carrier": name, "carrier_name": choice.etsy_name, "mapped": choice.mapped,
                                   "fallback": choice.fallback, "match": choice.match}))
        else:
            how = "fallback: tracking number also goes into the note" if choice.fallback else choice.match
            click.echo(f"{name!r} -> {choice.etsy_name} ({how})")


COMMANDS = [carriers]
