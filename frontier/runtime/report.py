"""The run report: a versions table, the Pareto front plot (PNG, embedded in the HTML) and the decision.

matplotlib is imported here only, with the non-interactive Agg backend, so a headless run can draw.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from frontier.api.resource import ClassifierModel
from frontier.api.status import ClassifierModelStatus, Interval, Metrics, ModelVersion, RelativeLatency


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def plot_front(status: ClassifierModelStatus, percentile: str, path: Path) -> bool:
    """Macro-F1 against latency, marker area by cost; the front joined by a line. False if nothing to plot."""
    measured = [v for v in status.versions if v.metrics is not None and v.state != "Retired"]
    if not measured:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.5, 4.8), dpi=110)
    costs = [v.metrics.cost_per_1m for v in measured if v.metrics]
    biggest = max(costs) or 1.0
    promoted = status.promoted.version if status.promoted else None
    for v in measured:
        assert v.metrics is not None
        x, y = v.metrics.latency(percentile), v.metrics.macro_f1
        colour = "tab:green" if v.version == promoted else ("tab:blue" if v.on_pareto_front else "tab:gray")
        if v.state == "Rejected":
            colour = "tab:red"
        axes.scatter(x, y, s=60 + 540 * v.metrics.cost_per_1m / biggest, c=colour, alpha=0.7, edgecolors="black")
        x_span, y_span = _interval(v.metrics, percentile), v.metrics.macro_f1_interval
        if x_span is not None or y_span is not None:  # how sure each number is: the benchmark's intervals
            axes.errorbar(
                x,
                y,
                xerr=[[x - x_span.low], [x_span.high - x]] if x_span else None,
                yerr=[[y - y_span.low], [y_span.high - y]] if y_span else None,
                fmt="none",
                ecolor=colour,
                elinewidth=1,
                capsize=3,
            )
        axes.annotate(
            f"v{v.version} {v.candidate}/{v.precision}",
            (x, y),
            textcoords="offset points",
            xytext=(6, 6),
            fontsize=8,
        )
    for b in status.baselines:  # declared figures on the same axes: shown, never served
        latency = {"p50": b.p50_ms, "p95": b.p95_ms}.get(percentile)
        if latency is None or b.macro_f1 is None:
            continue
        axes.scatter(latency, b.macro_f1, s=80, marker="X", c="tab:purple", alpha=0.8)
        axes.annotate(b.name, (latency, b.macro_f1), textcoords="offset points", xytext=(6, -10), fontsize=8)
    front = sorted(
        (v.metrics.latency(percentile), v.metrics.macro_f1) for v in measured if v.on_pareto_front and v.metrics
    )
    if len(front) > 1:
        axes.plot([p[0] for p in front], [p[1] for p in front], "--", color="tab:blue", linewidth=1)
    axes.set_xlabel(f"latency {percentile} (ms) — lower is better")
    axes.set_ylabel("macro-F1 through Triton — higher is better")
    axes.set_title(
        "green promoted, blue Pareto front, red rejected, purple X baselines; area ∝ cost/1M; bars: 90% intervals",
        fontsize=9,
    )
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return True


def _interval(m: Metrics, percentile: str) -> Interval | None:
    return {"p50": m.p50_interval_ms, "p95": m.p95_interval_ms, "p99": m.p99_interval_ms}[percentile]


def _with_interval(value: float | None, interval: Interval | None, spec: str) -> str:
    if value is None:
        return "—"
    if interval is None:
        return format(value, spec)
    return f"{format(value, spec)} [{format(interval.low, spec)}, {format(interval.high, spec)}]"


def _relative(r: RelativeLatency) -> str:
    return f"<br>×{r.ratio:.2f} [{r.interval.low:.2f}, {r.interval.high:.2f}] of v{r.to_version}"


def _row(v: ModelVersion, promoted: int | None) -> str:
    m = v.metrics
    cells = [
        f"v{v.version}" + (" ★" if v.version == promoted else ""),
        html.escape(v.candidate),
        v.precision,
        str(v.spec_generation),
        v.state,
        _with_interval(m.macro_f1 if m else None, m.macro_f1_interval if m else None, ".4f"),
        _fmt(m.accuracy if m else None, ".4f"),
        _with_interval(m.test.macro_f1, m.test.macro_f1_interval, ".4f") if m and m.test else "—",
        _with_interval(m.p50_ms if m else None, m.p50_interval_ms if m else None, ".1f")
        + (_relative(m.p50_relative) if m and m.p50_relative else "")
        + (" ⚠ disturbed" if m and m.disturbed else ""),
        _fmt(m.p95_ms if m else None, ".1f"),
        _fmt(m.p99_ms if m else None, ".1f"),
        _fmt(m.throughput_rps if m else None, ".1f"),
        _fmt(m.cost_per_1m if m else None, ".4f"),
        _fmt(v.utility, ".5g"),
        "yes" if v.on_pareto_front else "",
        html.escape(v.message or v.reason or ""),
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def write(model: ClassifierModel, status: ClassifierModelStatus, out_dir: Path) -> Path:
    """Write ``report.html`` (and ``pareto.png``) into ``out_dir``; returns the HTML path."""
    spec = model.spec
    png = out_dir / "pareto.png"
    image = ""
    if plot_front(status, spec.promotion.latency_percentile, png):
        encoded = base64.b64encode(png.read_bytes()).decode()
        image = f'<img alt="Pareto front" src="data:image/png;base64,{encoded}">'
    promoted = status.promoted.version if status.promoted else None
    headers = [
        "version",
        "candidate",
        "precision",
        "gen",
        "state",
        "eval macro-F1 [90% interval]",
        "eval accuracy",
        "test macro-F1 (not decided on)",
        "p50 ms [90% interval], and × the lowest version's (same rounds)",
        "p95 ms",
        "p99 ms",
        "rps",
        "$/1M",
        "utility",
        "Pareto",
        "note",
    ]
    decision = status.decision
    decision_html = "<p>No decision yet.</p>"
    if decision is not None:
        variants = "".join(f"<li>{html.escape(line)}</li>" for line in decision.variants)
        decision_html = (
            f"<p><b>{decision.action}</b> ({html.escape(decision.reason)}): {html.escape(decision.message)}</p>"
            + (f"<p>Precision variants against their fp32 parent:</p><ul>{variants}</ul>" if variants else "")
        )
    conditions = "".join(
        "<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in (c.type, c.status, c.reason, c.message)) + "</tr>"
        for c in status.conditions
    )
    baselines = "".join(
        "<tr>"
        + "".join(
            f"<td>{c}</td>"
            for c in (
                html.escape(b.name),
                b.kind,
                _fmt(b.macro_f1, ".4f"),
                _fmt(b.p50_ms, ".1f"),
                _fmt(b.p95_ms, ".1f"),
                _fmt(b.cost_per_1m, ".4f"),
                _fmt(b.utility, ".5g"),
                html.escape(b.source + (f" — {b.message}" if b.message else "")),
            )
        )
        + "</tr>"
        for b in status.baselines
    )
    baselines_html = (
        "<h2>Baselines (compared, never served)</h2><table><tr><th>baseline</th><th>kind</th>"
        "<th>macro-F1</th><th>p50 ms</th><th>p95 ms</th><th>$/1M</th><th>utility</th><th>source</th></tr>"
        f"{baselines}</table>"
        if baselines
        else ""
    )
    pricing = spec.benchmark.pricing
    serving = f"v{promoted}" if promoted else "nothing yet"
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Frontier — {html.escape(model.metadata.name)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:75em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}td:nth-child(2),td:last-child{{text-align:left}}
th{{background:#f3f3f3}}</style></head><body>
<h1>{html.escape(model.metadata.name)}: phase {status.phase}</h1>
<p>Stable model name <code>{html.escape(model.model_name)}</code> serves {serving}.
Utility U = F1 / cost · exp(−{spec.promotion.latency_percentile} / τ), τ = {spec.promotion.tau};
cost model <i>{pricing.cost_model}</i> on {html.escape(pricing.hardware.description)}.</p>
<h2>Decision</h2>{decision_html}
<h2>Pareto front</h2>{image}
<h2>Versions</h2><table><tr>{"".join(f"<th>{h}</th>" for h in headers)}</tr>
{"".join(_row(v, promoted) for v in status.versions)}</table>
{baselines_html}
<h2>Conditions</h2><table><tr><th>type</th><th>status</th><th>reason</th><th>message</th></tr>{conditions}</table>
</body></html>
"""
    path = out_dir / "report.html"
    path.write_text(page)
    return path
