"""Attribute label files of pedestrian-attribute datasets -> the annotation JSONL that ``spac generate
--attributes`` joins by ``source_ref`` (``spac labels``).

Layouts (FORMATS.md; read with ``scipy.io.loadmat``, MATLAB structs by field position as the reference
converters do, since field names differ between releases):

- ``pa100k``: ``annotation.mat`` with ``{train,val,test}_images_name``, ``{train,val,test}_label`` and
  ``attributes`` (26 names); rows are named by image file (``000001.jpg``).
- ``peta``: ``PETA.mat``, struct ``peta``: field 0 = matrix (4 metadata columns, then 105 labels), field 1 = the
  105 names; row ``i`` is ``images/{i + 1:05d}.png`` (named ``00001.png``).
- ``rap``: RAP v1 ``RAP_annotation.mat`` (struct ``RAP_annotation``: field 1 = labels, field 3 = names,
  field 5 = image names) or RAP v2 (fields ``name``, ``data``, ``attribute`` by name).
- ``market1501``: the Market-1501_Attribute JSON (identity labels); ``images=`` lists the image folder so that
  every image of a labelled identity gets a row (``source_ref`` = file name, as the ``folder`` source writes).

A label counts as present only when it equals 1 (RAP marks uncertain labels with 2). The names become
``source_ref`` values relative to the image folder you give ``spac generate --src folder --root``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spac.attribute_labels import LabelError, attributes_from_label_vector, read_market1501_labels
from spac.records import SLOTS, Attributes
from spac.shards.tar import replace_atomically

LABEL_FILES = ("pa100k", "peta", "rap", "market1501")
PA100K_SPLITS = ("train", "val", "test")


def _loadmat(path: Path, *keys: str) -> dict[str, Any]:
    from scipy.io import loadmat

    try:
        mat = loadmat(str(path))
    except (OSError, ValueError, TypeError, NotImplementedError) as err:
        # NotImplementedError: a v7.3 (HDF5) file; the releases are v5, re-save with `save -v7` in MATLAB
        raise LabelError(f"{path}: not a readable MATLAB .mat file ({type(err).__name__}: {err})") from None
    missing = [k for k in keys if k not in mat]
    if missing:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise LabelError(f"{path}: missing variable(s) {missing}; found {found}")
    return mat


def _strings(cell: Any, path: Path, what: str) -> list[str]:
    """A MATLAB cell array (or char matrix) of strings -> ``list[str]``."""
    arr = np.asarray(cell)
    if arr.dtype.kind in "US":
        return [str(s).strip() for s in arr.ravel()]
    out = []
    for item in arr.ravel():
        flat = np.asarray(item).ravel()
        if flat.size != 1 or np.asarray(flat[0]).dtype.kind not in "US":
            raise LabelError(f"{path}: {what}: expected a cell array of strings, found an item {item!r}")
        out.append(str(flat[0]).strip())
    return out


def _labels(matrix: Any, rows: int, names: Sequence[str], path: Path, what: str) -> np.ndarray:
    labels = np.asarray(matrix)
    if labels.ndim != 2 or labels.shape != (rows, len(names)):
        raise LabelError(f"{path}: {what}: label matrix {labels.shape} does not match {rows} images x "
                         f"{len(names)} attribute names")
    return labels == 1


def _struct_field(struct: Any, index: int, path: Path, what: str) -> Any:
    try:
        return struct[0, 0][index]
    except (IndexError, TypeError, KeyError) as err:
        raise LabelError(f"{path}: {what} has no field {index} ({type(err).__name__}: {err})") from None


def read_pa100k(path: Path) -> Iterator[tuple[str, Attributes]]:
    mat = _loadmat(path, "attributes", *(f"{s}_{k}" for s in PA100K_SPLITS for k in ("images_name", "label")))
    names = _strings(mat["attributes"], path, "attributes")
    for split in PA100K_SPLITS:
        images = _strings(mat[f"{split}_images_name"], path, f"{split}_images_name")
        labels = _labels(mat[f"{split}_label"], len(images), names, path, f"{split}_label")
        for image, row in zip(images, labels, strict=True):
            yield image, attributes_from_label_vector(row, names, dataset="pa100k")


def read_peta(path: Path) -> Iterator[tuple[str, Attributes]]:
    peta = _loadmat(path, "peta")["peta"]
    data = np.asarray(_struct_field(peta, 0, path, "struct 'peta'"))
    names = _strings(_struct_field(peta, 1, path, "struct 'peta'"), path, "attribute names (field 1)")
    if data.ndim != 2 or data.shape[1] != 4 + len(names):
        raise LabelError(f"{path}: peta field 0 is {data.shape}; expected 4 metadata columns + {len(names)} labels")
    labels = _labels(data[:, 4:], data.shape[0], names, path, "peta field 0")
    for i, row in enumerate(labels):
        yield f"{i + 1:05d}.png", attributes_from_label_vector(row, names, dataset="peta")


def read_rap(path: Path) -> Iterator[tuple[str, Attributes]]:
    rap = _loadmat(path, "RAP_annotation")["RAP_annotation"]
    fields = rap.dtype.names or ()
    if "name" in fields and "data" in fields and "attribute" in fields:  # RAP v2
        images = _strings(rap[0, 0]["name"], path, "RAP v2 'name'")
        names = _strings(rap[0, 0]["attribute"], path, "RAP v2 'attribute'")
        labels = _labels(rap[0, 0]["data"], len(images), names, path, "RAP v2 'data'")
    else:  # RAP v1, by position
        images = _strings(_struct_field(rap, 5, path, "RAP_annotation"), path, "image names (field 5)")
        names = _strings(_struct_field(rap, 3, path, "RAP_annotation"), path, "attribute names (field 3)")
        labels = _labels(_struct_field(rap, 1, path, "RAP_annotation"), len(images), names, path, "field 1")
    for image, row in zip(images, labels, strict=True):
        yield image, attributes_from_label_vector(row, names, dataset="rap")


def read_market1501(path: Path, images: Path | None) -> Iterator[tuple[str, Attributes]]:
    by_pid = read_market1501_labels(path)
    if images is None:
        raise LabelError(f"{path}: Market-1501 labels are per identity; give the image folder (--images DIR) so "
                         "each image of a labelled identity gets a row")
    if not Path(images).is_dir():
        raise LabelError(f"{images}: no such image folder")
    for file in sorted(Path(images).iterdir()):
        if file.suffix.lower() in (".jpg", ".jpeg", ".png") and file.name[:4] in by_pid:
            yield file.name, by_pid[file.name[:4]]


def read_label_file(path: str | Path, dataset: str, *, images: str | Path | None = None
                    ) -> Iterator[tuple[str, Attributes]]:
    """``(image name, attributes)`` for every labelled image of ``path``, a ``dataset`` label file."""
    path = Path(path)
    if dataset not in LABEL_FILES:
        raise LabelError(f"unknown label dataset {dataset!r}; known: {LABEL_FILES}")
    if not path.is_file():
        raise LabelError(f"{path}: no such label file")
    if dataset == "market1501":
        return read_market1501(path, None if images is None else Path(images))
    return {"pa100k": read_pa100k, "peta": read_peta, "rap": read_rap}[dataset](path)


def write_annotations(rows: Iterator[tuple[str, Attributes]], out: str | Path, *, prefix: str = "") -> dict[str, int]:
    """Write ``{"source_ref": prefix + name, "attributes": {...}}`` lines to ``out``; returns counts per slot."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(("images", *SLOTS), 0)
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for name, attributes in rows:
            known = {k: v for k, v in attributes.as_dict().items() if v is not None}
            fh.write(json.dumps({"source_ref": prefix + name, "attributes": known}, ensure_ascii=False) + "\n")
            counts["images"] += 1
            for slot in known:
                counts[slot] += 1
    replace_atomically(tmp, out)
    return counts
