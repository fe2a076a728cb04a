"""Self-contained HTML pages: figures embedded as base64 PNG, tables inline, no network at view time."""

from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th{background:#f3f3f3}figure{margin:1rem 0}figcaption{font-size:.85rem;color:#555}
.facts td:first-child{text-align:left;font-weight:600}
"""


def figure_to_html(fig: plt.Figure, caption: str = "") -> str:
    """Render a matplotlib figure as an inline PNG `<figure>` and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}"/>{cap}</figure>'


def table_to_html(frame: pd.DataFrame, float_format: str = "{:.4g}", css_class: str = "") -> str:
    """An HTML table of `frame` with compact number formatting."""
    return frame.to_html(index=False, float_format=lambda v: float_format.format(v), classes=css_class, border=0)


def page(title: str, sections: list[tuple[str, str]]) -> str:
    """A complete HTML document: a title, then (heading, html body) sections."""
    body = "\n".join(f"<h2>{html.escape(h)}</h2>\n{content}" if h else content for h, content in sections)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>"
    )
