"""Dataset attribute labels (PA-100K, PETA, RAP v1/v2, Market-1501) -> the six SPAC attribute slots.

Each table maps a dataset's label names to a role in one slot: the gender, a colour, a descriptor or the garment
noun of a phrase, or a separate item (a hat, a backpack). :func:`attributes_from_labels` turns one image's
labels (a ``{name: value}`` dict; ``attributes_from_label_vector`` for a vector plus the names) into
:class:`~spac.records.Attributes` whose phrases use lexicon words, so ``extract_attributes`` of a rendered
prompt gives them back. Labels that say nothing about a slot leave it unknown. Market-1501_Attribute codes
binary fields 1 = no / 2 = yes (see its ``label_coding``); the other datasets use 0/1.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from spac.records import Attributes

DATASETS = ("market1501", "pa100k", "peta", "rap")
COLOURS = ("black", "white", "gray", "red", "green", "blue", "yellow", "brown", "purple", "pink", "orange")
# Default garment noun of a slot whose colour or descriptor is known but whose type is not.
_DEFAULT_NOUN = {"head": "hair", "upper": "shirt", "lower": "pants", "shoes": "shoes"}

# (label name, slot, role, word); roles: "gender" (word if positive, else the other gender), "colour",
# "descriptor", "noun" (first positive noun of a slot wins), "item" (a phrase of its own).
Rule = tuple[str, str, str, str]

PA100K: tuple[Rule, ...] = (
    ("Female", "gender", "gender", "woman"),
    ("Hat", "head", "item", "hat"),
    ("Glasses", "head", "item", "glasses"),
    ("LongCoat", "upper", "noun", "coat"),
    ("UpperPlaid", "upper", "descriptor", "plaid"),
    ("UpperStride", "upper", "descriptor", "striped"),
    ("ShortSleeve", "upper", "noun", "t-shirt"),
    ("LongSleeve", "upper", "descriptor", "long-sleeved"),
    ("Trousers", "lower", "noun", "trousers"),
    ("Shorts", "lower", "noun", "shorts"),
    ("Skirt&Dress", "lower", "noun", "skirt"),
    ("LowerStripe", "lower", "descriptor", "striped"),
    ("boots", "shoes", "noun", "boots"),
    ("Backpack", "belongings", "item", "backpack"),
    ("ShoulderBag", "belongings", "item", "shoulder bag"),
    ("HandBag", "belongings", "item", "handbag"),
    ("HoldObjectsInFront", "belongings", "item", "box"),
)

PETA: tuple[Rule, ...] = (
    ("personalMale", "gender", "gender", "man"),
    ("hairLong", "head", "descriptor", "long"),
    ("hairShort", "head", "descriptor", "short"),
    *((f"hair{c.capitalize()}", "head", "colour", c) for c in ("black", "brown", "white", "yellow")),
    ("hairGrey", "head", "colour", "gray"),
    ("accessoryHat", "head", "item", "hat"),
    ("accessorySunglasses", "head", "item", "sunglasses"),
    ("accessoryMuffler", "upper", "item", "scarf"),
    ("upperBodyJacket", "upper", "noun", "jacket"),
    ("upperBodyTshirt", "upper", "noun", "t-shirt"),
    ("upperBodyVNeck", "upper", "descriptor", "v-neck"),
    ("upperBodyPlaid", "upper", "descriptor", "plaid"),
    ("upperBodyThinStripes", "upper", "descriptor", "striped"),
    ("upperBodyFormal", "upper", "descriptor", "formal"),
    ("upperBodyShortSleeve", "upper", "descriptor", "short-sleeved"),
    ("upperBodySuit", "upper", "noun", "suit"),
    ("upperBodySweater", "upper", "noun", "sweater"),
    *((f"upperBody{c.capitalize()}", "upper", "colour", c) for c in COLOURS if c != "gray"),
    ("upperBodyGrey", "upper", "colour", "gray"),
    ("lowerBodyJeans", "lower", "noun", "jeans"),
    ("lowerBodyShorts", "lower", "noun", "shorts"),
    ("lowerBodyShortSkirt", "lower", "noun", "skirt"),
    ("lowerBodyTrousers", "lower", "noun", "trousers"),
    ("lowerBodyFormal", "lower", "descriptor", "formal"),
    *((f"lowerBody{c.capitalize()}", "lower", "colour", c) for c in COLOURS if c != "gray"),
    ("lowerBodyGrey", "lower", "colour", "gray"),
    ("footwearSneaker", "shoes", "noun", "sneakers"),
    ("footwearSandals", "shoes", "noun", "sandals"),
    ("footwearBoots", "shoes", "noun", "boots"),
    ("footwearLeatherShoes", "shoes", "descriptor", "leather"),
    ("footwearShoes", "shoes", "noun", "shoes"),
    *((f"footwear{c.capitalize()}", "shoes", "colour", c) for c in COLOURS if c != "gray"),
    ("footwearGrey", "shoes", "colour", "gray"),
    ("carryingBackpack", "belongings", "item", "backpack"),
    ("carryingMessengerBag", "belongings", "item", "messenger bag"),
    ("carryingPlasticBags", "belongings", "item", "plastic bag"),
    ("carryingBabyBuggy", "belongings", "item", "stroller"),
    ("carryingSuitcase", "belongings", "item", "suitcase"),
    ("carryingUmbrella", "belongings", "item", "umbrella"),
)

_RAP_COLOURS = {
    "Black": "black",
    "White": "white",
    "Gray": "gray",
    "Red": "red",
    "Green": "green",
    "Blue": "blue",
    "Yellow": "yellow",
    "Brown": "brown",
    "Purple": "purple",
    "Pink": "pink",
    "Orange": "orange",
}
RAP: tuple[Rule, ...] = (
    ("Female", "gender", "gender", "woman"),
    ("hs-LongHair", "head", "descriptor", "long"),
    ("hs-BaldHead", "head", "descriptor", "bald"),
    ("hs-BlackHair", "head", "colour", "black"),
    ("hs-Hat", "head", "item", "hat"),
    ("hs-Glasses", "head", "item", "glasses"),
    ("hs-Muffler", "upper", "item", "scarf"),
    ("ub-Jacket", "upper", "noun", "jacket"),
    ("ub-Sweater", "upper", "noun", "sweater"),
    ("ub-Vest", "upper", "noun", "vest"),
    ("ub-TShirt", "upper", "noun", "t-shirt"),
    ("ub-SuitUp", "upper", "noun", "suit"),
    ("ub-Shirt", "upper", "noun", "shirt"),
    ("ub-Cotton", "upper", "noun", "coat"),
    ("ub-ShortSleeve", "upper", "descriptor", "short-sleeved"),
    ("ub-Tight", "upper", "descriptor", "tight"),
    *((f"{p}-{k}", "upper", "colour", v) for p in ("up", "ub") for k, v in _RAP_COLOURS.items()),
    ("lb-Jeans", "lower", "noun", "jeans"),
    ("lb-Dress", "lower", "noun", "dress"),
    ("lb-Skirt", "lower", "noun", "skirt"),
    ("lb-ShortSkirt", "lower", "noun", "skirt"),
    ("lb-LongTrousers", "lower", "noun", "trousers"),
    ("lb-TightTrousers", "lower", "noun", "leggings"),
    ("lb-Shorts", "lower", "noun", "shorts"),
    *((f"{p}-{k}", "lower", "colour", v) for p in ("low", "lb") for k, v in _RAP_COLOURS.items()),
    ("shoes-Boots", "shoes", "noun", "boots"),
    ("shoes-Sport", "shoes", "noun", "sneakers"),
    ("shoes-Leather", "shoes", "descriptor", "leather"),
    ("shoes-Cloth", "shoes", "descriptor", "canvas"),
    ("shoes-Casual", "shoes", "noun", "shoes"),
    *((f"shoes-{k}", "shoes", "colour", v) for k, v in _RAP_COLOURS.items()),
    ("attach-Backpack", "belongings", "item", "backpack"),
    ("attach-SingleShoulderBag", "belongings", "item", "shoulder bag"),
    ("attach-ShoulderBag", "belongings", "item", "shoulder bag"),
    ("attach-HandBag", "belongings", "item", "handbag"),
    ("attach-Box", "belongings", "item", "box"),
    ("attach-PlasticBag", "belongings", "item", "plastic bag"),
    ("attach-PaperBag", "belongings", "item", "paper bag"),
    ("attach-HandTrunk", "belongings", "item", "suitcase"),
)

# Market-1501_Attribute after decoding (see _market_flags): booleans by label name.
MARKET1501: tuple[Rule, ...] = (
    ("female", "gender", "gender", "woman"),
    ("hair_long", "head", "descriptor", "long"),
    ("hair_short", "head", "descriptor", "short"),
    ("hat", "head", "item", "hat"),
    *(
        (f"up{c}", "upper", "colour", c)
        for c in ("black", "white", "red", "purple", "yellow", "gray", "blue", "green")
    ),
    ("up_short", "upper", "noun", "t-shirt"),
    ("up_long", "upper", "descriptor", "long-sleeved"),
    *(
        (f"down{c}", "lower", "colour", c)
        for c in ("black", "white", "pink", "purple", "yellow", "gray", "blue", "green", "brown")
    ),
    ("dress_short", "lower", "noun", "skirt"),
    ("dress_long", "lower", "noun", "dress"),
    ("pants_short", "lower", "noun", "shorts"),
    ("pants_long", "lower", "noun", "pants"),
    ("backpack", "belongings", "item", "backpack"),
    ("bag", "belongings", "item", "bag"),
    ("handbag", "belongings", "item", "handbag"),
)

TABLES: dict[str, tuple[Rule, ...]] = {"market1501": MARKET1501, "pa100k": PA100K, "peta": PETA, "rap": RAP}


class LabelError(ValueError):
    """Labels that cannot be mapped (unknown dataset, wrong vector length, unreadable label file)."""


def _positive(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value) and value > 0


def _market_flags(labels: Mapping[str, Any]) -> dict[str, bool]:
    """Decode Market-1501_Attribute codes (1 = no / 2 = yes; gender 1 male 2 female; ...) into booleans."""
    flags = {k: labels[k] == 2 for k in labels if isinstance(labels[k], int) and not isinstance(labels[k], bool)}
    if "gender" in labels:
        flags["female"] = labels["gender"] == 2
    if "hair" in labels:
        flags["hair_long"], flags["hair_short"] = labels["hair"] == 2, labels["hair"] == 1
    if "up" in labels:
        flags["up_short"], flags["up_long"] = labels["up"] == 2, labels["up"] == 1
    if "down" in labels and "clothes" in labels:
        short, dress = labels["down"] == 2, labels["clothes"] == 1
        flags.update(
            dress_short=dress and short,
            dress_long=dress and not short,
            pants_short=not dress and short,
            pants_long=not dress and not short,
        )
    return flags


def attributes_from_labels(labels: Mapping[str, Any], *, dataset: str) -> Attributes:
    """Map one image's (or identity's) labels ``{name: value}`` of ``dataset`` to the six slots."""
    if dataset not in TABLES:
        raise LabelError(f"unknown label dataset {dataset!r}; known: {DATASETS}")
    flags = _market_flags(labels) if dataset == "market1501" else {k: _positive(v) for k, v in labels.items()}
    gender: str | None = None
    parts: dict[str, dict[str, list[str]]] = {}
    for name, slot, role, word in TABLES[dataset]:
        if name not in flags:
            continue
        if role == "gender":
            gender = word if flags[name] else ("man" if word == "woman" else "woman")
            continue
        if not flags[name]:
            continue
        bucket = parts.setdefault(slot, {"colour": [], "descriptor": [], "noun": [], "item": []})
        if word not in bucket[role]:
            bucket[role].append(word)
    values: dict[str, str] = {}
    for slot, b in parts.items():
        phrases = []
        if b["colour"] or b["descriptor"] or b["noun"]:
            noun = b["noun"][0] if b["noun"] else _DEFAULT_NOUN.get(slot)
            if noun is not None:
                phrases.append(
                    " ".join([*b["descriptor"], " and ".join(b["colour"][:2]), noun]).replace("  ", " ").strip()
                )
        phrases += b["item"]
        if phrases:
            values[slot] = " and ".join(phrases)
    return Attributes(gender=gender, **values)


def attributes_from_label_vector(values: Sequence[Any], names: Sequence[str], *, dataset: str) -> Attributes:
    """As :func:`attributes_from_labels`, for a label vector and the dataset's attribute names (same order)."""
    if len(values) != len(names):
        raise LabelError(f"{dataset}: label vector has {len(values)} values for {len(names)} attribute names")
    return attributes_from_labels(dict(zip(names, values, strict=True)), dataset=dataset)


def read_market1501_labels(path: str | Path) -> dict[str, Attributes]:
    """Identity labels of a Market-1501_Attribute JSON file (``{"identities": {pid: {...}}}``) by 4-digit pid."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        identities = data["identities"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise LabelError(f"{path}: not a Market-1501 attribute file ({type(err).__name__}: {err})") from None
    return {pid: attributes_from_labels(lab, dataset="market1501") for pid, lab in identities.items()}
