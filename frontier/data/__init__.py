"""Data both workloads read the same way: reading sources, mapping rows onto the label set, splitting and
sampling them, the rows a benchmark scores, and scoring predictions against gold labels.

``sources`` reads one split (JSONL/CSV/Parquet, local or remote); ``data`` maps and shapes the rows of a
run (held-out split, ``maxTrainSamples`` / ``maxEvalSamples``, balancing); ``sampling`` holds the
stratified, seeded sampling they use; ``evaluation`` gives the eval rows a benchmark scores; ``metrics``
scores predictions (macro-F1, accuracy, confusion matrix). ``frontier.trainer`` and ``frontier.serving``
both import this package and neither imports the other; nothing here imports torch, the Kubernetes
client or a Triton client (numpy, and the readers a remote URI needs, only).
"""
