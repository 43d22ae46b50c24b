"""Carrier names as warehouses type them map to the names Etsy accepts; the rest to "other"."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etsyflow.fulfilment.carriers import (DEFAULTS_PATH, CarrierFileError, build_map, carrier_words,
                                          get_carrier_map, normalise_carrier, normalise_tracking,
                                          resolve_carrier)

DEFAULTS = build_map()
ETSY_NAMES = json.loads(DEFAULTS_PATH.read_text(encoding="utf-8"))["etsy_carriers"]

# (as typed upstream, Etsy carrier_name)
TABLE = [
    ("Royal Mail", "royal-mail"), ("royalmail", "royal-mail"), ("ROYAL-MAIL", "royal-mail"),
    ("royal_mail", "royal-mail"), ("  Royal   Mail  ", "royal-mail"), ("Royal Mail Tracked 48", "royal-mail"),
    ("RM Tracked 24", "royal-mail"), ("Parcelforce Worldwide", "parcel-force"),
    ("DHL Express", "dhl"), ("DHL", "dhl"), ("dhl express worldwide", "dhl"), ("DHLExpress", "dhl"),
    ("DHL eCommerce", "dhl-global-mail"), ("DHL Paket", "dhl-germany"),
    ("UPS", "ups"), ("ups", "ups"), ("UPS Ground", "ups"), ("UPSGround", "ups"), ("United Parcel Service", "ups"),
    ("USPS", "usps"), ("U.S. Postal Service", "usps"), ("USPS Priority Mail Express", "usps"),
    ("Evri", "hermes"), ("Hermes", "hermes"), ("myHermes", "hermes"), ("Hermes Germany", "hermes-de"),
    ("DPD UK", "dpd-uk"), ("dpd-uk", "dpd-uk"), ("DPD Local", "dpd-uk"), ("DPD", "dpd"),
    ("Canada Post", "canada-post"), ("Postes Canada", "canada-post"),
    ("La Poste", "la-poste-colissimo"), ("Colissimo", "colissimo"),
    ("Deutsche Post", "deutsch-post"), ("Australia Post", "australia-post"), ("AusPost", "australia-post"),
    ("FedEx", "fedex"), ("Fed Ex", "fedex"), ("Federal Express", "fedex"), ("FedEx Ground Home Delivery", "fedex"),
    ("Yodel", "yodel"), ("Correos España", "spain-correos-es"), ("Österreichische Post", "austrian-post"),
    ("NZ Post", "new-zealand-post"), ("PostNL", "postnl"), ("An Post", "an-post"), ("Chit Chats", "chitchats"),
]


@pytest.mark.parametrize("typed, etsy", TABLE)
def test_common_spellings_map_to_etsy_names(typed, etsy):
    choice = DEFAULTS.resolve(typed)
    assert (choice.etsy_name, choice.mapped, choice.fallback) == (etsy, True, False)
    assert choice.original == typed


@pytest.mark.parametrize("name", ETSY_NAMES)
def test_every_etsy_name_maps_to_itself(name):
    assert DEFAULTS.resolve(name).etsy_name == name


@pytest.mark.parametrize("typed", ["Courier Express", "ePost Global", "Postal Service", "Bob's Van", "",
                                   "   ", "---", "other", "Other", "Custom courier", "upsilon couriers"])
def test_unknown_carriers_fall_back_to_other(typed):
    choice = DEFAULTS.resolve(typed)
    assert (choice.etsy_name, choice.mapped, choice.fallback) == ("other", False, True)


def test_prefix_matches_whole_words_only():
    assert DEFAULTS.resolve("UPS Ground").etsy_name == "ups"
    assert DEFAULTS.resolve("Upsilon").etsy_name == "other"  # "ups" is not a word of it
    assert DEFAULTS.resolve("Postal Service").etsy_name == "other"  # Etsy has "posta"; not a match
    assert DEFAULTS.resolve("RM 48").match == "prefix"


def test_normalisation_ignores_case_accents_spaces_and_punctuation():
    assert normalise_carrier("Česká  pošta") == normalise_carrier("ceska-posta") == "ceskaposta"
    assert carrier_words("DHLExpress-48h") == ["dhl", "express", "48", "h"]
    assert normalise_tracking(" jc 2431-3788 5gb ") == normalise_tracking("JC243137885GB") == "JC243137885GB"


def test_every_default_alias_targets_a_name_etsy_accepts():
    assert set(DEFAULTS.aliases.values()) <= set(ETSY_NAMES)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.none(), st.integers(), st.binary(), st.lists(st.text())))
def test_odd_input_never_crashes_and_always_names_a_carrier(value):
    choice = DEFAULTS.resolve(value)
    assert choice.etsy_name in set(ETSY_NAMES)
    assert choice.fallback == (choice.etsy_name == "other")
    normalise_tracking(value)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([t for t, _ in TABLE]), st.sampled_from([str.upper, str.lower, str.title, lambda s: s]),
       st.sampled_from([" ", "-", "_", ".", "  ", "/"]))
def test_case_and_separators_do_not_change_the_mapping(typed, case, separator):
    expected = DEFAULTS.resolve(typed).etsy_name
    odd = separator + case(separator.join(typed.split())) + separator
    assert DEFAULTS.resolve(odd).etsy_name == expected


# -- the operator's file ------------------------------------------------------------------

def test_csv_override_adds_and_replaces_aliases(tmp_path):
    path = tmp_path / "carriers.csv"
    path.write_text("alias,etsy_name\n# our warehouse's codes\nRMT48,royal-mail\nHermes,hermes-de\n\n"
                    "Speedy Parcels,other\nParcelforce,Royal Mail\n", encoding="utf-8")
    carriers = build_map(override_path=path)
    assert carriers.resolve("rmt48").etsy_name == "royal-mail"
    assert carriers.resolve("HERMES").etsy_name == "hermes-de"  # the operator wins
    assert carriers.resolve("Speedy Parcels").fallback
    assert carriers.resolve("Parcelforce").etsy_name == "royal-mail"  # "Royal Mail" read as royal-mail
    assert carriers.resolve("Evri").etsy_name == "hermes"  # defaults kept


def test_json_override_may_declare_carriers_etsy_added(tmp_path):
    path = tmp_path / "carriers.json"
    path.write_text(json.dumps({"etsy_carriers": ["epost-global"], "aliases": {"ePost Global": "epost-global"}}))
    carriers = build_map(override_path=path)
    assert carriers.resolve("ePost Global").etsy_name == "epost-global"
    assert carriers.resolve("epost_global").mapped
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"Our Courier": "dpd"}))
    assert build_map(override_path=flat).resolve("our courier").etsy_name == "dpd"


@pytest.mark.parametrize("content, suffix, message", [
    ("alias,etsy_name\nFoo\n", ".csv", "line 2: needs two columns"),
    ("Foo,Foo Express\n", ".csv", '"Foo Express" is not a carrier name Etsy accepts'),
    ("{not json", ".json", "not valid JSON"),
    ('["a"]', ".json", "must be a JSON object"),
    ('{"aliases": {"Foo": 3}}', ".json", "must be a string"),
    ('{"aliases": {"---": "ups"}}', ".json", "no letters or digits"),
])
def test_a_bad_override_file_is_refused_with_the_reason(tmp_path, content, suffix, message):
    path = tmp_path / f"carriers{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CarrierFileError) as error:
        build_map(override_path=path)
    assert message in str(error.value)


def test_missing_override_file_is_refused(tmp_path):
    with pytest.raises(CarrierFileError, match="does not exist"):
        build_map(override_path=tmp_path / "nope.csv")


def test_carriers_file_setting_is_read_and_reloaded_when_edited(tmp_path, configure):
    path = tmp_path / "extra.csv"
    path.write_text("Speedy,ups\n", encoding="utf-8")
    configure(CARRIERS_FILE=str(path))
    assert resolve_carrier("Speedy").etsy_name == "ups"
    path.write_text("Speedy,fedex\nSlowly,usps\n", encoding="utf-8")
    assert resolve_carrier("Speedy").etsy_name == "fedex"
    assert get_carrier_map().resolve("slowly").etsy_name == "usps"


def test_cli_shows_the_mapping_and_checks_the_operators_file(tmp_path, configure):
    from click.testing import CliRunner

    from etsyflow.cli import main

    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("RMT48,royal-mail\n", encoding="utf-8")
    bad.write_text("Foo,Foo Express\n", encoding="utf-8")
    configure(CARRIERS_FILE=str(good))
    runner = CliRunner()
    shown = runner.invoke(main, ["carriers", "map", "rmt 48", "Speedy Van", "--json"])
    assert shown.exit_code == 0, shown.output
    lines = [json.loads(line) for line in shown.output.splitlines()]
    assert [(x["carrier_name"], x["fallback"]) for x in lines] == [("royal-mail", False), ("other", True)]
    ok = runner.invoke(main, ["carriers", "check"])
    assert ok.exit_code == 0 and "good.csv" in ok.output
    refused = runner.invoke(main, ["carriers", "check", str(bad)])
    assert refused.exit_code == 1
    assert '"Foo Express" is not a carrier name Etsy accepts' in refused.output
