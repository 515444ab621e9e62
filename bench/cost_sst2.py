"""Cost per 1M requests of served SST-2 versions, beside the paper's DistilBERT on SST-2.

    .venv/bin/frontier run examples/sst2.yaml --workdir runs/sst2 --data-root ../shared/datasets
    .venv/bin/python bench/cost_sst2.py runs/sst2

Reads the run's status.json (every version measured through the embedded Triton) and prices each one
two ways: the paper's own Cloud Run model (2 vCPU + 2 GiB billed for each request's duration:
0.053 · p50 ms, as ``examples/sst2.yaml`` declares) and dedicated capacity (the same instance's hourly
price over the sustainable throughput the benchmark measured). The paper's DistilBERT on SST-2:
p50 98 ms → $5.19 per 1M on the same price model (``tests/fixtures/paper-2602.06370.json``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from frontier.decision import cost

ANCHORS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "paper-2602.06370.json"


def main() -> int:
    workdir = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/sst2")
    status = json.loads((workdir / "status.json").read_text())
    anchors = json.loads(ANCHORS.read_text())
    paper_p50 = anchors["figures"]["latency_ms"]["sst2"]["distilbert"]["p50"]
    instance = cost.CLOUD_RUN_2CPU_2GIB
    paper = cost.occupancy(paper_p50, instance)
    print(f"paper DistilBERT SST-2: p50 {paper_p50} ms → ${paper:.2f} per 1M (Cloud Run occupancy)\n")
    print("| version | macro-F1 (Triton, 872 test) | p50 ms | p95 ms | sustainable req/s | $/1M occupancy "
          "| × cheaper than paper | $/1M dedicated |")
    print("|---|---|---|---|---|---|---|---|")
    for v in status["versions"]:
        m = v.get("metrics")
        if not m:
            continue
        occupancy = cost.occupancy(m["p50Ms"], instance)
        dedicated = cost.dedicated(m["throughputRps"], instance)
        print(
            f"| v{v['version']} {v['candidate']}/{v['precision']} | {m['macroF1']:.4f} | {m['p50Ms']:.1f} | "
            f"{m['p95Ms']:.1f} | {m['throughputRps']:.1f} (c={m.get('concurrency')}) | {occupancy:.3f} | "
            f"{paper / occupancy:.1f}× | {dedicated:.4f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
