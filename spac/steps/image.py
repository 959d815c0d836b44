"""Read each record's image from its source and make sure it decodes; non-JPEG images are re-encoded to JPEG.

Decoding fully (``Image.load``), not just ``verify``, catches truncated JPEGs whose headers look fine. Every
sample of a shard carries a ``.jpg`` member (same member set for every sample, which HF's feature inference
and open_clip's filters need), so PNG and other formats are converted once here.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass

from spac.records import PersonRecord
from spac.sources.base import ImageReadError
from spac.steps.base import Drop, RecordStep, StepContext


@dataclass(frozen=True, kw_only=True)
class ImageConfig:
    min_width: int = 8
    """Images narrower than this are dropped (``too_small``)."""
    min_height: int = 16
    """Images lower than this are dropped (``too_small``)."""
    jpeg_quality: int = 95
    """Quality used when a non-JPEG image is re-encoded."""


class ReadImage(RecordStep):
    """Fetch the bytes (``source.read_image``), decode them, check the size; drop with a reason otherwise."""

    name = "image"

    def __init__(self, cfg: ImageConfig) -> None:
        self.cfg = cfg

    def apply(self, record: PersonRecord, ctx: StepContext) -> PersonRecord | Drop:
        from PIL import Image

        try:
            data = ctx.source.read_image(record) if record.image is None else record.image
        except ImageReadError as err:
            return Drop(err.reason, str(err))
        except OSError as err:  # a source that lets a file error through still only loses this record
            return Drop("missing_image", f"{type(err).__name__}: {err}")
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                fmt, (width, height) = img.format, img.size
                if width < self.cfg.min_width or height < self.cfg.min_height:
                    return Drop("too_small", f"{width}x{height}")
                if fmt != "JPEG":
                    buf = io.BytesIO()
                    img.convert("RGB").save(buf, format="JPEG", quality=self.cfg.jpeg_quality)
                    data = buf.getvalue()
        except Exception as err:  # noqa: BLE001 -- PIL raises OSError, SyntaxError, ValueError, ... on bad data
            return Drop("corrupt_image", f"{type(err).__name__}: {err}")
        return dataclasses.replace(record, image=data, image_ext="jpg")
