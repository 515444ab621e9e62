"""Every exported precision, scored on the eval set against its reference.

fp32 is compared with the trained torch model (the parity check's numbers); int8 and bf16 with the
fp32 ONNX model over the whole eval set: largest |Δlogit|, share of equal argmax (``agreement``, which
the decision layer holds against ``export.minAgreement``) and their own macro-F1 and accuracy. Dynamic
INT8 is made from the served fp32 graph (fused); static INT8 from the graph as exported, whose layers it
selects by their exported names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frontier.api.spec import ExportSpec
from frontier.artifact import PrecisionEntry
from frontier.data import metrics
from frontier.trainer import quantize
from frontier.trainer.batching import Encoded
from frontier.trainer.evaluation import onnx_logits, onnx_session
from frontier.trainer.export import Exported

FP32_METHOD = "torch.onnx.export (TorchScript exporter), fp32"


def model_file(precision: str) -> str:
    return f"model.{precision}.onnx"


@dataclass
class Variants:
    entries: dict[str, PrecisionEntry] = field(default_factory=dict)
    predictions: dict[str, list[int]] = field(default_factory=dict)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)


def build(
    directory: Path,
    export: ExportSpec,
    exported: Exported,
    eval_encoded: Encoded,
    eval_labels: npt.NDArray[np.int64],
    calibration: Encoded,
    input_names: list[str],
    labels: list[str],
) -> Variants:
    out = Variants()
    fp32_path = directory / model_file("fp32")
    reference = onnx_logits(onnx_session(str(fp32_path)), eval_encoded)
    fp32_report = metrics.report(eval_labels, reference.argmax(1), labels)
    out.entries["fp32"] = PrecisionEntry(
        model=fp32_path.name,
        macro_f1=fp32_report["macro_f1"],
        accuracy=fp32_report["accuracy"],
        max_abs_logit_delta=exported.parity.max_abs_delta,
        agreement=exported.parity.agreement,
        method=exported.method,
    )
    out.predictions["fp32"] = reference.argmax(1).tolist()
    out.reports["fp32"] = fp32_report
    for precision in export.precisions:
        if precision == "fp32":
            continue
        path = directory / model_file(precision)
        if precision == "int8" and export.int8.mode == "static":
            method = quantize.quantize_int8_static(exported.unfused, path, calibration, input_names)
        elif precision == "int8":
            method = quantize.quantize_int8_dynamic(
                fp32_path, path, calibration, eval_encoded, export.min_agreement
            ).method
        else:
            method = quantize.convert_bf16_weights(fp32_path, path)
        logits = onnx_logits(onnx_session(str(path)), eval_encoded)
        report = metrics.report(eval_labels, logits.argmax(1), labels)
        out.entries[precision] = PrecisionEntry(
            model=path.name,
            macro_f1=report["macro_f1"],
            accuracy=report["accuracy"],
            max_abs_logit_delta=float(np.abs(logits - reference).max()),
            agreement=float((logits.argmax(1) == reference.argmax(1)).mean()),
            method=method,
        )
        out.predictions[precision] = logits.argmax(1).tolist()
        out.reports[precision] = report
    return out
