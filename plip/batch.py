"""The typed batch every pretext task reads: uint8 images, token ids, attribute-phrase token masks, identities.

The loader (``plip.data``) builds it on CPU workers; the trainer moves it with ``.to(device)``. Images stay uint8
until the model normalises them on the device (a quarter of the host-to-device bytes of float32).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch


@dataclass
class Batch:
    """A batch of B (image, caption, identity) triples.

    Attributes:
        images: uint8 ``[B, 3, H, W]`` RGB.
        input_ids: long ``[B, L]`` token ids of one caption per image (``[CLS] ... [SEP] [PAD]...``).
        attention_mask: long ``[B, L]``, 1 on real tokens.
        phrase_ids: long ``[B, L]``; 0 on tokens outside attribute phrases, k >= 1 on the tokens of the caption's
            k-th attribute phrase (so a task can mask whole phrases).
        phrase_slots: long ``[B, L]``; the slot index (``spac.records.SLOTS``) of the phrase a token belongs to,
            -1 outside phrases.
        person_ids: long ``[B]`` dataset-global identity.
    """

    images: torch.Tensor
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    phrase_ids: torch.Tensor
    phrase_slots: torch.Tensor
    person_ids: torch.Tensor

    def __post_init__(self) -> None:
        B = self.images.shape[0]
        if self.images.dim() != 4 or self.images.shape[1] != 3:
            raise ValueError(f"images must be [B, 3, H, W], got {tuple(self.images.shape)}")
        L = self.input_ids.shape
        for name in ("attention_mask", "phrase_ids", "phrase_slots"):
            if getattr(self, name).shape != L:
                raise ValueError(f"{name} has shape {tuple(getattr(self, name).shape)}, expected {tuple(L)}")
        if L[0] != B or self.person_ids.shape != (B,):
            raise ValueError(
                f"batch sizes disagree: images {B}, input_ids {L[0]}, person_ids {tuple(self.person_ids.shape)}"
            )

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def attribute_mask(self) -> torch.Tensor:
        """bool ``[B, L]``: tokens that belong to an attribute phrase."""
        return self.phrase_ids > 0

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        return Batch(**{f.name: getattr(self, f.name).to(device, non_blocking=non_blocking) for f in fields(self)})

    def pin_memory(self) -> Batch:
        # DataLoader calls this on custom batch types when pin_memory=True.
        return Batch(**{f.name: getattr(self, f.name).pin_memory() for f in fields(self)})
