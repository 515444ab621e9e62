"""Frontier's decisions as pure functions over plain data: no I/O, no clock, no Kubernetes, no torch.

- ``cost``: USD per 1M requests under the three price models (occupancy, dedicated, token-priced);
- ``utility``: U = F1 / cost · exp(−latency / τ), as arXiv 2602.06370 defines it;
- ``pareto``: dominance and the Pareto front over (max F1, min latency, min cost);
- ``guardrails``: which limits a version breaks;
- ``promotion``: which version the stable name serves, and why (pins, manual policy, hysteresis);
- ``rollback``: what to serve when the promoted version regresses;
- ``variants``: what each precision gained or cost against its fp32 parent.
"""
