"""Dataset cards for spac shard folders: ``README.md`` with Hugging Face YAML front matter and auto-filled blocks.

The card is rendered from the folder's build stats (:mod:`spac.card_stats`). Generated text lives between
``<!-- spac:auto:NAME -->`` and ``<!-- /spac:auto:NAME -->`` markers (block names in :data:`spac.card_blocks.BLOCKS`);
a re-render replaces only those blocks and the front matter keys spac owns (``configs``, ``size_categories``), so
hand edits anywhere else survive. The first render starts from a template (``data_cards/default.md`` or
``--template``); ``{{pretty_name}}`` in its body is filled in once. Comments inside the front matter are not kept.

The front matter's ``configs`` point ``datasets.load_dataset`` at ``<split>-*.tar``; without them the builder is
inferred from the most common extension and can pick the parquet ledgers in ``meta/`` (INFRA.md §4.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spac.card_blocks import BLOCKS, HF_SPLIT
from spac.card_stats import CardStats, collect_stats
from spac.shards.tar import replace_atomically, write_bytes_atomically

CARD = "README.md"
DEFAULT_TEMPLATE = Path(__file__).resolve().parents[1] / "data_cards" / "default.md"
AUTO_KEYS = ("configs", "size_categories")  # front matter keys re-rendered every time; the rest is the user's
_OPEN = re.compile(r"<!-- spac:auto:([A-Za-z0-9_-]+) -->")
_CLOSE = re.compile(r"<!-- /spac:auto:([A-Za-z0-9_-]+) -->")
_BLOCK = re.compile(r"(<!-- spac:auto:([A-Za-z0-9_-]+) -->)(.*?)(<!-- /spac:auto:\2 -->)", re.DOTALL)
LEGACY_README = "# spac shards\n\nWebDataset shards written by `spac generate`"  # the pre-card loader README
_SIZES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
          (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]


class CardError(ValueError):
    """A template or existing card that cannot be rendered into; the message names the file and the problem."""


@dataclass(frozen=True, kw_only=True)
class CardConfig:
    pretty_name: str | None = None
    """Card title and ``pretty_name``; default ``spac <source> person dataset``."""
    license: str | None = None
    """``license`` for a first render; default ``mit`` for the synthetic demo source, else ``other``."""
    plot: bool = True
    """Draw ``stats.png`` (matplotlib) and show it in the ``figure`` block."""
    examples: int = 3
    """Example records shown (first record of the first identities)."""


def size_category(n: int) -> str:
    return next((name for limit, name in _SIZES if n < limit), "n>1T")


def data_files(splits) -> list[dict[str, str]]:
    """The ``configs[0].data_files`` list for ``splits`` (spac names; ``val`` is HF's ``validation``)."""
    return [{"split": HF_SPLIT[s], "path": f"{s}-*.tar"} for s in HF_SPLIT if s in splits]


def split_front_matter(text: str, where: str) -> tuple[dict[str, Any], str]:
    """``(front matter dict, body)``; a text without a leading ``---`` block has an empty front matter."""
    import yaml

    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 3)
    if end < 0:
        raise CardError(f"{where}: front matter starts with '---' but has no closing '---' line")
    try:
        meta = yaml.safe_load(text[4:end + 1]) or {}
    except yaml.YAMLError as err:
        raise CardError(f"{where}: front matter is not valid YAML ({err})") from None
    if not isinstance(meta, dict):
        raise CardError(f"{where}: front matter must be a YAML mapping")
    return meta, text[end + 5:]


def _defaults(stats: CardStats, cfg: CardConfig) -> dict[str, Any]:
    demo = stats.source == "demo"
    return {
        "pretty_name": cfg.pretty_name or f"spac {stats.source} person dataset",
        "license": cfg.license or ("mit" if demo else "other"),
        "language": ["en"],
        "task_categories": ["image-to-text", "text-to-image", "image-feature-extraction"],
        "tags": ["person-reid", "text-based-person-search", "pedestrian-attributes", "webdataset", "spac"]
        + (["synthetic"] if demo else []),
        "annotations_creators": ["machine-generated"],
    }


def check_blocks(body: str, where: str) -> list[str]:
    """Names of the auto blocks in ``body``; raises :class:`CardError` on unknown, unclosed or repeated blocks."""
    opened, closed = _OPEN.findall(body), _CLOSE.findall(body)
    matched = [m.group(2) for m in _BLOCK.finditer(body)]
    unknown = sorted(set(opened + closed) - set(BLOCKS))
    if unknown:
        raise CardError(f"{where}: unknown auto block(s) {unknown}; known: {sorted(BLOCKS)}")
    if sorted(opened) != sorted(matched) or sorted(closed) != sorted(matched):
        raise CardError(f"{where}: an auto block is not closed (every <!-- spac:auto:NAME --> needs its own "
                        f"<!-- /spac:auto:NAME --> after it); found openers {opened}, closers {closed}")
    repeated = sorted({n for n in matched if matched.count(n) > 1})
    if repeated:
        raise CardError(f"{where}: auto block(s) {repeated} appear more than once")
    return matched


def fill_blocks(body: str, contents: dict[str, str]) -> str:
    """Replace the text inside every auto block of ``body`` by ``contents[name]``; text outside is untouched."""
    return _BLOCK.sub(lambda m: f"{m.group(1)}\n{contents[m.group(2)].rstrip()}\n{m.group(4)}", body)


def builtin_template() -> str:
    """The template used when ``data_cards/default.md`` is not available (e.g. a wheel install)."""
    body = "\n\n".join(f"## {name.capitalize()}\n\n<!-- spac:auto:{name} -->\n<!-- /spac:auto:{name} -->"
                       for name in BLOCKS)
    return f"# {{{{pretty_name}}}}\n\n{body}\n"


def render_card(folder: Path, *, template: Path | None = None, config: CardConfig = CardConfig(),
                stats: CardStats | None = None, progress: bool = False) -> Path:
    """Render (or re-render) ``folder/README.md`` and, with ``config.plot``, ``folder/stats.png``.

    An existing card with auto blocks is updated in place unless ``template`` is given (then the template is
    rendered afresh). An existing ``README.md`` without any auto block is refused rather than overwritten (except
    the minimal loader README older builds wrote).
    """
    import yaml

    folder = Path(folder)
    stats = stats if stats is not None else collect_stats(folder, examples=config.examples, progress=progress)
    path = folder / CARD
    existing = path.read_text(encoding="utf-8") if path.is_file() else None
    if existing is not None and template is None and LEGACY_README not in existing:
        meta, body = split_front_matter(existing, str(path))
        if not check_blocks(body, str(path)):
            raise CardError(f"{path}: has no <!-- spac:auto:NAME --> blocks, so re-rendering would lose it; "
                            "move it away or pass --template FILE to replace it")
    else:
        source = Path(template) if template is not None else DEFAULT_TEMPLATE
        where = str(source) if source.is_file() or template is not None else "built-in template"
        try:
            text = source.read_text(encoding="utf-8") if where != "built-in template" else builtin_template()
        except OSError as err:
            raise CardError(f"{source}: cannot read the card template ({err})") from None
        meta, body = split_front_matter(text, where)
        check_blocks(body, where)
        meta = {**_defaults(stats, config), **meta}
        if config.pretty_name:
            meta["pretty_name"] = config.pretty_name
        body = body.replace("{{pretty_name}}", str(meta["pretty_name"]))
    meta["size_categories"] = [size_category(stats.samples)]
    meta["configs"] = [{"config_name": "default", "data_files": data_files(stats.splits)}]
    contents = {name: fn(stats) for name, fn in BLOCKS.items()}
    if config.plot:
        from spac.card_plot import STATS_PNG, draw_stats

        tmp = folder / f".{STATS_PNG}.tmp"
        replace_atomically(draw_stats(stats, tmp), folder / STATS_PNG)
    elif not (folder / "stats.png").is_file():
        contents["figure"] = "_No figure: run `spac card` (with plotting) to draw `stats.png`._"
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
    body = fill_blocks(body, contents).lstrip("\n")
    write_bytes_atomically(path, f"---\n{front}---\n\n{body}".encode())
    return path


def card_problems(folder: Path) -> list[str]:
    """Why ``folder/README.md`` is not a usable card for the tars in ``folder`` (empty when it is)."""
    path = Path(folder) / CARD
    if not path.is_file():
        return [f"{path} not found: no dataset card; run `spac card {folder}` first"]
    try:
        meta, _ = split_front_matter(path.read_text(encoding="utf-8"), str(path))
    except (CardError, OSError, UnicodeDecodeError) as err:
        return [str(err)]
    splits = sorted({p.name.split("-", 1)[0] for p in Path(folder).glob("*-*.tar")})
    want = [{"config_name": "default", "data_files": data_files(splits)}]
    if meta.get("configs") != want:
        return [f"{path}: front matter 'configs' {meta.get('configs')!r} do not match the tars ({want!r}); "
                f"run `spac card {folder}`"]
    return []


def ensure_card(folder: Path) -> Path | None:
    """Render the card of a just-finished build unless the folder already has one (``spac generate`` calls this)."""
    path = Path(folder) / CARD
    if path.is_file() and LEGACY_README not in path.read_text(encoding="utf-8"):
        return None
    return render_card(folder)
