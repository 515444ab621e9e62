"""The embedded runtime: ``frontier run`` drives the whole lifecycle on one machine, no cluster.

It plays the operator's part with local means: a subprocess per training Job, an embedded Triton
server for serving and benchmarks, a work directory for what a cluster keeps in status and storage.
The decisions are the same pure functions the operator calls (``frontier.decision.lifecycle``).
"""
