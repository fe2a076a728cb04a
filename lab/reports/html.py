"""Self-contained HTML pages: interactive plotly figures, PNG and SVG figures and tables inline, no network at view time.

A page that holds plotly figures embeds plotly.js once, in one `<script>` in its head, and each figure is a `<div>`
with its own small script (`fig.to_html(include_plotlyjs=False)`), so the file opens offline in any browser.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # headless: reports are written by the CLI and by workers, never shown
import pandas as pd  # noqa: E402

if TYPE_CHECKING:
    import matplotlib.pyplot as plt
    import plotly.graph_objects as go

#: Marks a plotly figure's `<div>`; a page that contains it gets the plotly.js bundle.
PLOTLY_CLASS = "plotly-graph-div"

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222;
padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0;display:block;overflow-x:auto;max-width:100%}td,th{border:1px solid #ccc;padding:.25rem .5rem;
text-align:right}th{background:#f3f3f3}figure{margin:1rem 0}figcaption{font-size:.85rem;color:#555;max-width:60rem}
.facts td:first-child{text-align:left;font-weight:600}.lead{font-size:1rem;color:#333;max-width:60rem}
nav.toc{font-size:.85rem;color:#555}nav.toc a{color:#1f5fa8;text-decoration:none;margin-right:.9rem}
.note{font-size:.85rem;color:#666}img,svg.graph{max-width:100%;height:auto}
"""


def figure_to_html(fig: plt.Figure, caption: str = "") -> str:
    """Render a matplotlib figure as an inline PNG `<figure>` and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}"/>{cap}</figure>'


def plotly_to_html(fig: go.Figure, figure_id: str, caption: str = "") -> str:
    """An interactive plotly figure as a `<figure>` whose `<div>` has id `figure_id` (plotly.js comes from `page`)."""
    div = fig.to_html(full_html=False, include_plotlyjs=False, div_id=figure_id,
                      config={"displaylogo": False, "responsive": True})
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure id="fig-{figure_id}">{div}{cap}</figure>'


def svg_figure(svg: str, caption: str = "") -> str:
    """An inline SVG drawing as a `<figure>`."""
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f"<figure>{svg}{cap}</figure>"


def table_to_html(frame: pd.DataFrame, float_format: str = "{:.4g}", css_class: str = "") -> str:
    """An HTML table of `frame` with compact number formatting."""
    return frame.to_html(index=False, float_format=lambda v: float_format.format(v), classes=css_class, border=0)


def _anchor(heading: str) -> str:
    return "s-" + "".join(c if c.isalnum() else "-" for c in heading.lower()).strip("-")


def page(title: str, sections: list[tuple[str, str]], lead: str = "") -> str:
    """A complete HTML document: a title, a lead paragraph, a contents line, then (heading, html body) sections.

    plotly.js is embedded once, in the head, when any section holds a plotly figure.
    """
    headed = [h for h, _ in sections if h]
    toc = ""
    if len(headed) >= 4:
        toc = "<nav class='toc'>" + "".join(f"<a href='#{_anchor(h)}'>{html.escape(h)}</a>" for h in headed) + "</nav>"
    body = "\n".join(
        f"<h2 id='{_anchor(h)}'>{html.escape(h)}</h2>\n{content}" if h else content for h, content in sections
    )
    script = ""
    if PLOTLY_CLASS in body:
        from plotly.offline import get_plotlyjs

        script = f"<script type='text/javascript'>{get_plotlyjs()}</script>"
    lead_html = f"<p class='lead'>{lead}</p>" if lead else ""
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style>{script}</head><body><h1>{html.escape(title)}</h1>\n{lead_html}{toc}\n{body}\n"
        "</body></html>"
    )
