"""The ``demo`` source: an embedded, deterministic, procedurally drawn pedestrian set (no files, no licences).

Every identity is a person-like figure with six ground-truth attributes (gender, hair, upper-body garment,
lower-body garment, shoes, carried item) that are visibly drawn with known colours and types; each identity has
several images under varied pose, scale, position, background, lighting and noise (``demo_render.py`` draws
them). Attribute values are phrases of the shared lexicon ("short black hair", "red jacket", "blue jeans",
"white sneakers", "black backpack"), so text tools extract back exactly what the source says.

Everything is a pure function of ``(seed, person_id, image index)``: the identity's look and each image's
bytes (fixed JPEG quality), so a worker process that rebuilds the source from its options reproduces them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from spac.records import Attributes, PersonRecord
from spac.sources.base import ImageReadError, Source, SourceError, register_source

# Colour names are the lexicon's; RGB values are what the renderer paints (before per-identity shade jitter).
COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (28, 28, 32),
    "white": (232, 232, 228),
    "red": (196, 32, 38),
    "blue": (36, 72, 188),
    "green": (42, 138, 62),
    "yellow": (232, 202, 44),
    "gray": (128, 128, 130),
    "pink": (238, 150, 188),
    "purple": (118, 52, 150),
    "orange": (238, 128, 32),
    "brown": (118, 74, 40),
}
HAIR_LENGTHS = ("short", "long")
HAIR_COLOURS = ("black", "brown", "yellow", "gray")
# type -> colours it comes in (keeps combinations plausible: "white jeans" is rare, "yellow boots" absent).
UPPER = {t: tuple(COLOURS) for t in ("t-shirt", "shirt", "sweater", "jacket", "coat")}
LOWER = {
    "jeans": ("blue", "black", "gray", "white"),
    "trousers": ("black", "gray", "brown", "blue", "white", "green"),
    "shorts": ("black", "blue", "gray", "white", "red", "green", "brown", "pink"),
    "skirt": ("black", "red", "blue", "pink", "white", "gray", "purple", "yellow"),
}
SHOES = {
    "sneakers": ("white", "black", "gray", "red", "blue", "pink"),
    "shoes": ("black", "brown", "white", "gray"),
    "boots": ("black", "brown", "gray"),
}
BELONGINGS = {
    "backpack": ("black", "gray", "blue", "red", "green", "purple", "orange", "pink"),
    "handbag": ("black", "brown", "red", "white", "pink", "yellow"),
    "bag": ("black", "brown", "gray", "blue"),
}
# P(lower type | gender): skirts only on women, in this toy world.
_LOWER_P = {"man": (0.42, 0.38, 0.20, 0.0), "woman": (0.30, 0.22, 0.16, 0.32)}
_LONG_HAIR_P = {"man": 0.1, "woman": 0.75}
_NO_BELONGING_P = 0.3
N_CAMERAS = 6
JPEG_QUALITY = 90
HEIGHT, WIDTH = 256, 128
_REF = re.compile(r"^(\d{6,})_(\d{2,})$")


def demo_vocabulary() -> dict[str, list[str]]:
    """Every value each slot can take in the demo set (``belongings`` may also be unknown/None)."""
    return {
        "gender": ["man", "woman"],
        "head": [f"{n} {c} hair" for n in HAIR_LENGTHS for c in HAIR_COLOURS],
        "upper": [f"{c} {t}" for t, cs in UPPER.items() for c in cs],
        "lower": [f"{c} {t}" for t, cs in LOWER.items() for c in cs],
        "shoes": [f"{c} {t}" for t, cs in SHOES.items() for c in cs],
        "belongings": [f"{c} {t}" for t, cs in BELONGINGS.items() for c in cs],
    }


@dataclass(frozen=True, slots=True)
class Look:
    """What one identity looks like: the drawn attributes plus hidden traits (skin, build, colour shades)."""

    gender: str
    hair: tuple[str, str]  # (length, colour)
    upper: tuple[str, str]  # (type, colour)
    lower: tuple[str, str]
    shoes: tuple[str, str]
    belonging: tuple[str, str] | None
    skin: tuple[int, int, int]
    build: float  # body width factor
    stature: float  # height factor
    shade: tuple[int, int, int]  # per-identity colour jitter added to garment colours

    def attributes(self) -> Attributes:
        return Attributes(
            gender=self.gender,
            head=f"{self.hair[0]} {self.hair[1]} hair",
            upper=f"{self.upper[1]} {self.upper[0]}",
            lower=f"{self.lower[1]} {self.lower[0]}",
            shoes=f"{self.shoes[1]} {self.shoes[0]}",
            belongings=None if self.belonging is None else f"{self.belonging[1]} {self.belonging[0]}",
        )


@dataclass(frozen=True, slots=True)
class Shot:
    """How one image of an identity is taken: camera, pose, framing, background, lighting and noise."""

    camera: int
    back_view: bool
    scale: float
    dx: float
    foot_margin: float
    stride: float
    swing: float
    handed: int  # +1 / -1: which side carries the bag
    lowres: bool
    background: int
    gain: tuple[float, float, float]
    noise: float
    noise_offset: tuple[int, int]
    rng_seed: int


def _pick(rng: random.Random, options: dict[str, tuple[str, ...]], weights=None) -> tuple[str, str]:
    kind = rng.choices(list(options), weights=weights)[0]
    return kind, rng.choice(options[kind])


def identity_look(seed: int, person_id: int) -> Look:
    """The look of identity ``person_id`` in the demo set drawn with ``seed`` (string-seeded: stable everywhere)."""
    rng = random.Random(f"spac-demo/{seed}/{person_id}")
    gender = rng.choice(("man", "woman"))
    length = "long" if rng.random() < _LONG_HAIR_P[gender] else "short"
    belonging = None if rng.random() < _NO_BELONGING_P else _pick(rng, BELONGINGS)
    skin = rng.choice(((236, 196, 168), (214, 170, 132), (176, 124, 88), (120, 80, 56), (246, 214, 190)))
    return Look(
        gender=gender,
        hair=(length, rng.choice(HAIR_COLOURS)),
        upper=_pick(rng, UPPER),
        lower=_pick(rng, LOWER, _LOWER_P[gender]),
        shoes=_pick(rng, SHOES, (0.45, 0.35, 0.20)),
        belonging=belonging,
        skin=skin,
        build=rng.uniform(0.88, 1.12) * (1.06 if gender == "man" else 0.94),
        stature=rng.uniform(0.9, 1.0),
        shade=tuple(rng.randint(-14, 14) for _ in range(3)),
    )


def image_shot(seed: int, person_id: int, index: int) -> Shot:
    """The conditions of image ``index`` of identity ``person_id``."""
    rng = random.Random(f"spac-demo/{seed}/{person_id}/{index}")
    camera = rng.randint(1, N_CAMERAS)
    light = rng.uniform(0.78, 1.2)
    return Shot(
        camera=camera,
        back_view=rng.random() < 0.4,
        scale=rng.uniform(0.78, 0.95),
        dx=rng.uniform(-0.1, 0.1),
        foot_margin=rng.uniform(0.0, 1.0),
        stride=rng.uniform(0.2, 1.0),
        swing=rng.uniform(-1.0, 1.0),
        handed=rng.choice((-1, 1)),
        lowres=rng.random() < 0.35,
        background=rng.randrange(1 << 30),
        gain=tuple(light * rng.uniform(0.92, 1.08) for _ in range(3)),
        noise=rng.uniform(1.0, 9.0),
        noise_offset=(rng.randrange(256), rng.randrange(128)),
        rng_seed=rng.randrange(1 << 30),
    )


def render_demo_image(seed: int, person_id: int, index: int) -> bytes:
    """The JPEG bytes (256x128, quality ``JPEG_QUALITY``) of one demo image."""
    from spac.sources.demo_render import render  # Pillow/numpy only when pixels are needed

    return render(identity_look(seed, person_id), image_shot(seed, person_id, index), quality=JPEG_QUALITY)


@register_source
class DemoSource(Source):
    """``demo``: ``identities`` people x ``images_per_identity`` images, drawn from ``seed``; person ids 0..N-1."""

    name = "demo"

    def __init__(self, *, identities: int = 300, images_per_identity: int = 6, seed: int = 0) -> None:
        for label, value, low in (("identities", identities, 1), ("images_per_identity", images_per_identity, 1),
                                  ("seed", seed, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise SourceError(f"demo source: {label} must be an int >= {low}, got {value!r}")
        super().__init__(identities=identities, images_per_identity=images_per_identity, seed=seed)
        self.n_identities, self.images_per_identity, self.seed = identities, images_per_identity, seed

    def identities(self) -> Iterator[list[PersonRecord]]:
        for pid in range(self.n_identities):
            attributes = identity_look(self.seed, pid).attributes()
            yield [
                PersonRecord(
                    source=self.name,
                    source_ref=f"{pid:06d}_{k:02d}",
                    person_id=pid,
                    camera=image_shot(self.seed, pid, k).camera,
                    attributes=attributes,
                    provenance={"seed": self.seed},
                )
                for k in range(self.images_per_identity)
            ]

    def read_image(self, record: PersonRecord) -> bytes:
        match = _REF.match(record.source_ref)
        if match is None:
            raise ImageReadError(f"demo source: {record.source_ref!r} is not a demo reference", reason="bad_ref")
        pid, index = int(match.group(1)), int(match.group(2))
        if pid >= self.n_identities or index >= self.images_per_identity:
            raise ImageReadError(f"demo source: {record.source_ref!r} is outside this demo set", reason="bad_ref")
        return render_demo_image(self.seed, pid, index)
