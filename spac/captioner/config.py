"""Typed configs of the SPAC captioner: the model, the training run and its held-out evaluation.

Frozen dataclasses (STYLE.md §4.7); recipes in ``pipelines/`` return a :class:`TrainCaptionerConfig` and
``--set a.b=value`` overrides any field. Defaults follow METHOD.md §1.4 (ResNet-101-FPN, 3/5 prefix tokens,
2 styles, GPT-2, 384x128, AdamW 1e-4, 30 epochs, batch 64, lambda 0.15).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spac.records import SLOTS

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RESNET_DEPTHS = (50, 101, 152)


@dataclass(frozen=True, kw_only=True)
class DecoderConfig:
    """The GPT-2 decoder: ``name`` is ``"config"`` (built from the sizes below, random init, for tests and the
    demo), ``"gpt2"`` or a local folder (``GPT2LMHeadModel.from_pretrained``; its tokenizer comes along)."""

    name: str = "gpt2"
    n_embd: int = 768
    n_layer: int = 12
    n_head: int = 12
    n_positions: int = 1024


@dataclass(frozen=True, kw_only=True)
class CaptionerModelConfig:
    depth: int = 101
    """ResNet depth (50/101/152); ignored when ``layers`` is given."""
    layers: tuple[int, int, int, int] | None = None
    """Blocks per ResNet stage, e.g. ``(1, 1, 1, 1)`` for tiny models."""
    width: int = 64
    """ResNet stem width (stage channels are 4/8/16/32 x width)."""
    fpn_dim: int = 256
    """Channels of every FPN level."""
    fpn_level: int = 4
    """Which FPN level P2..P5 feeds the branches (METHOD.md §7.8 leaves it open). P4 (stride 16; 24x8 for a
    384x128 crop) keeps enough resolution for shoes and carried items after the branches' own stride-2 convs
    (attribute branch 12x4, sentence branch 6x2) while already carrying the top-down semantics of P5."""
    attribute_pool: tuple[int, int] = (1, 1)
    """Output grid (rows, columns) of each attribute branch's AvgPool. (1, 1) is the paper's global pool. A coarse
    grid such as (4, 2) lets the Linear after it see *where* a feature is (hair at the top, shoes at the bottom),
    which a small encoder trained from scratch does not learn in minutes (the CPU demo recipe uses it)."""
    attribute_tokens: int = 3
    sentence_tokens: int = 5
    styles: tuple[str, ...] = ("cuhk-pedes", "icfg-pedes")
    """One style encoder per name; a training caption is routed to the encoder of its corpus' style."""
    dropout: float = 0.25
    leaky_slope: float = 1 / 5.5
    image_size: tuple[int, int] = (384, 128)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    decoder: DecoderConfig = field(default_factory=DecoderConfig)

    def __post_init__(self) -> None:
        if self.layers is None and self.depth not in RESNET_DEPTHS:
            raise ValueError(f"model.depth must be one of {RESNET_DEPTHS} (or give model.layers), got {self.depth}")
        if self.fpn_level not in (2, 3, 4, 5):
            raise ValueError(f"model.fpn_level must be 2, 3, 4 or 5, got {self.fpn_level}")
        if len(self.attribute_pool) != 2 or min(self.attribute_pool) < 1:
            raise ValueError(f"model.attribute_pool must be two ints >= 1, got {self.attribute_pool}")
        if not self.styles or len(set(self.styles)) != len(self.styles):
            raise ValueError(f"model.styles must be distinct names, got {self.styles}")

    @property
    def prefix_tokens(self) -> int:
        """Length of a caption prefix: all attribute prefixes plus the sentence prefix (6 x 3 + 5 = 23)."""
        return len(SLOTS) * self.attribute_tokens + self.sentence_tokens


@dataclass(frozen=True, kw_only=True)
class CorpusConfig:
    """One training corpus: a registered source, its options and the style its captions teach."""

    source: str
    options: dict[str, Any] = field(default_factory=dict)
    style: str | None = None
    """Style name (one of ``model.styles``); None = the style recorded on the source's captions."""
    demo_styles: tuple[str, ...] = ()
    """For sources without captions (``demo``): render one caption per style name from the ground-truth
    attributes with ``spac.text.render.render_prompt(style=...)``; these names must be in ``model.styles``."""


@dataclass(frozen=True, kw_only=True)
class EvalConfig:
    """Held-out evaluation written to ``eval.json`` beside the checkpoint after training."""

    source: str = "demo"
    options: dict[str, Any] = field(default_factory=dict)
    min_person_id: int = 0
    """Only identities with ``person_id >= min_person_id`` are evaluated (the held-out tail of a demo set)."""
    max_images: int = 400
    num_beams: int = 1


@dataclass(frozen=True, kw_only=True)
class TrainCaptionerConfig:
    model: CaptionerModelConfig = field(default_factory=CaptionerModelConfig)
    corpora: tuple[CorpusConfig, ...] = (
        CorpusConfig(source="cuhk-pedes", options={"split": "train"}),
        CorpusConfig(source="icfg-pedes", options={"split": "train"}),
    )
    max_person_id: int | None = None
    """Train only on identities with ``person_id < max_person_id`` (keeps demo eval identities held out)."""
    val_fraction: float = 0.02
    """Identities kept out of training for the validation loss (identity-disjoint, chosen by seed)."""
    tokenizer: str | None = None
    """A tokenizer folder; None = the decoder's own (pretrained) or a byte-level BPE trained on the captions."""
    vocab_size: int = 512
    max_attribute_tokens: int = 8
    max_caption_tokens: int = 64
    attribute_weight: float = 0.15
    lr: float = 1e-4
    lr_schedule: str = "constant"
    """``constant`` (the paper: AdamW at a fixed lr) or ``cosine`` (decay to 0 over the run). A run's progress is
    the larger of step / total steps and elapsed / ``max_minutes``, so a time-limited run ends its decay when its
    time is up instead of being cut off at a high lr."""
    warmup_steps: int = 0
    """Linear lr warmup from ~0 over this many steps (either schedule)."""
    weight_decay: float = 0.01
    epochs: int = 30
    max_steps: int | None = None
    max_minutes: float | None = None
    """Training time budget; counted over all runs of one output folder (a resume continues the clock)."""
    batch_size: int = 64
    """Global batch (split across processes)."""
    hflip: float = 0.5
    precision: str = "no"
    """Accelerate mixed precision: ``no``, ``bf16`` or ``fp16``."""
    seed: int = 0
    num_workers: int = 0
    threads: int | None = None
    """torch intra-op threads on CPU (None = torch's default). 1 is often much faster on a busy machine: OpenMP
    threads that spin-wait on oversubscribed cores made a demo step 25x slower here (10 s vs 0.4 s)."""
    cache_images: bool = False
    """Keep decoded, resized uint8 images in memory (small corpora such as the demo)."""
    log_every: int = 20
    val_every: int = 200
    checkpoint_every: int = 500
    sample_captions: int = 2
    evaluation: EvalConfig | None = None

    def __post_init__(self) -> None:
        if self.precision not in ("no", "bf16", "fp16"):
            raise ValueError(f"precision must be no, bf16 or fp16, got {self.precision!r}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if not self.corpora:
            raise ValueError("corpora: give at least one training corpus")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be constant or cosine, got {self.lr_schedule!r}")
        if self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0, got {self.warmup_steps}")
