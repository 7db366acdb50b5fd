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
