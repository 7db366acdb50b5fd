"""`dvc plots show` works offline: the configured template carries vega inline."""

from __future__ import annotations

import configparser
import re

from tests.conftest import ROOT


def test_dvc_config_points_at_the_offline_template():
    config = configparser.ConfigParser()
    config.read(ROOT / ".dvc" / "config")
    assert config["core"]["analytics"] == "false" and config["core"]["check_update"] == "false"
    template = (ROOT / ".dvc" / config["plots"]["html_template"]).resolve()
    assert template == ROOT / "templates" / "dvc_plots_offline.html"
    text = template.read_text(encoding="utf-8")
    assert "{plot_divs}" in text and "{scripts}" not in text  # DVC's CDN script tags never get in
    assert not re.search(r"<script[^>]+src=", text)
    for library in ("vega-5.33.1", "vega-lite-5.23.0", "vega-embed-6.29.0"):
        assert f"<!-- {library}" in text


def test_every_plot_template_exists_and_lines_get_one_colour_per_column():
    import json

    import dvc_render.vega_templates as builtin
    import yaml

    names = {t.DEFAULT_NAME for t in builtin.TEMPLATES}
    plots = yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"]
    used = {spec["template"] for entry in plots for spec in entry.values()}
    for name in used - names:
        spec = json.loads((ROOT / ".dvc" / "plots" / f"{name}.json").read_text())
        assert "<DVC_METRIC_DATA>" in json.dumps(spec)
        # DVC's own line templates colour by revision only: every approach one colour.
        assert spec["encoding"]["color"]["field"] == "field"
    assert {"lines", "dates"} <= used
