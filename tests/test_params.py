from __future__ import annotations

import datetime as dt

import pytest
from tests.conftest import ROOT

from clv_engine.params import ParamsError, load_params, parse_params


def test_project_params_file_is_valid():
    params = load_params(ROOT / "params.yaml")
    assert params.ingest.path == "data/raw/cdnow_master.csv"
    assert params.ingest.columns.order_id is None


def test_the_shipped_params_are_the_code_defaults_but_for_the_bundled_log():
    # One source of defaults: a test built with parse_params({...}) runs the shipped
    # configuration. params.yaml departs from the code only where it describes its own log
    # (CDNOW: the file, its columns, its legitimate identical lines, its currency).
    import dataclasses

    import yaml

    def leaves(value, path=""):
        if dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                yield from leaves(getattr(value, f.name), f"{path}.{f.name}".lstrip("."))
        else:
            yield path, value

    shipped = dict(leaves(parse_params(yaml.safe_load((ROOT / "params.yaml").read_text()))))
    defaults = dict(leaves(parse_params({})))
    differ = {key for key in shipped if shipped[key] != defaults[key]}
    the_log = {"ingest.path", "ingest.duplicates", "report.currency"}
    assert {k for k in differ if not k.startswith("ingest.columns.")} == the_log


def test_defaults_when_empty():
    params = parse_params({})
    assert params.as_of is None and params.ingest.duplicates == "quarantine"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"ingest": {"pathh": "x.csv"}}, "unknown key ingest.pathh; allowed keys in ingest: columns, "),
        ({"colour": 1}, "unknown key colour"),
        ({"ingest": {"columns": {"customer": "id"}}}, "unknown key ingest.columns.customer"),
        ({"ingest": {"max_reject_share": "high"}}, "ingest.max_reject_share must be a number, got 'high'"),
        ({"ingest": {"max_reject_share": 1.5}}, "ingest.max_reject_share must be <= 1.0, got 1.5"),
        ({"ingest": {"max_reject_share": -0.1}}, "ingest.max_reject_share must be >= 0.0"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"seed": True}, "seed must be a whole number"),
        (
            {"ingest": {"duplicates": "drop"}},
            "ingest.duplicates must be one of 'quarantine', 'keep', got 'drop'",
        ),
        ({"ingest": {"decimal_comma": "yes"}}, "ingest.decimal_comma must be true or false"),
        ({"as_of": "31/12/1997"}, 'as_of must be an ISO date like "1997-12-31"'),
        ({"as_of": dt.date(1997, 12, 31)}, "as_of must be a quoted ISO date"),
        ({"ingest": {"timezone": "Mars/Olympus"}}, "ingest.timezone 'Mars/Olympus' is not an IANA time zone"),
        ({"ingest": {"columns": {"revenue": "customer_id"}}}, "maps two fields to the same column"),
        ({"ingest": "data.csv"}, "ingest must be a mapping of keys"),
        ({"ingest": {"path": ""}}, "ingest.path is empty"),
    ],
)
def test_bad_params_name_the_key(raw, message):
    with pytest.raises(ParamsError) as err:
        parse_params(raw)
    assert message in str(err.value)


def test_load_params_names_the_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("ingest:\n  columns:\n    revenu: amount\n")
    with pytest.raises(ParamsError, match=r"params\.yaml: unknown key ingest\.columns\.revenu"):
        load_params(path)
    path.write_text("ingest: [unclosed\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(path)


def test_as_of_parses_iso_string():
    assert parse_params({"as_of": "1997-12-31"}).as_of == dt.date(1997, 12, 31)
