"""Build templates/dvc_plots_offline.html: DVC's plots page with vega inlined, for offline use.

`dvc plots show` writes a page that loads vega, vega-lite and vega-embed from a CDN; on a
machine without internet it renders blank. This template (set as `plots.html_template`
in .dvc/config) carries the three libraries inline, so the page works offline.

    cd "$(mktemp -d)" && npm pack vega@5.33.1 vega-lite@5.23.0 vega-embed@6.29.0
    for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
    python tools/build_offline_plots_template.py THAT_DIR

The libraries are BSD-3-Clause licensed (University of Washington Interactive Data Lab);
each one's licence text, or its package.json licence field where it ships no LICENSE
file, is copied into the template.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

LIBRARIES = (
    ("vega-5.33.1", "vega.min.js"),
    ("vega-lite-5.23.0", "vega-lite.min.js"),
    ("vega-embed-6.29.0", "vega-embed.min.js"),
)


def main(source: Path, target: Path) -> None:
    scripts = []
    for package, name in LIBRARIES:
        root = source / package / "package"
        licence_file = root / "LICENSE"
        if licence_file.exists():
            licence = licence_file.read_text(encoding="utf-8").replace("--", "- -")
        else:  # the vega package ships no LICENSE file, only the field in package.json
            licence = (
                f"License: {json.loads((root / 'package.json').read_text())['license']} (package.json)\n"
            )
        code = (root / "build" / name).read_text(encoding="utf-8").replace("</script", "<\\/script")
        scripts.append(f"<!-- {package}\n{licence}-->\n<script>{code}</script>")
    page = f"""<!DOCTYPE html>
<html>
<head>
    {{refresh_tag}}
    <meta charset="utf-8">
    <title>DVC Plot (offline)</title>
    {"".join(scripts)}
    <style>
        table {{ border-spacing: 15px; }}
    </style>
</head>
<body>
    {{plot_divs}}
</body>
</html>
"""
    target.write_text(page, encoding="utf-8")
    print(f"wrote {target} ({len(page):,} characters)")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).resolve().parents[1] / "templates" / "dvc_plots_offline.html")
