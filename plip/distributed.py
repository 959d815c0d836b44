"""Cross-process feature gathering that keeps autograd, for the identity contrast over the global batch.

``accelerator.gather`` returns tensors detached from autograd; the contrastive loss needs the local slice to stay
differentiable (open_clip ``gather_features``). In a single process every function here is a no-op.
"""

from __future__ import annotations

import torch
import torch.distributed as dist


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def all_gather_with_grad(tensor: torch.Tensor, full_grad: bool = False) -> torch.Tensor:
    """Concatenate ``tensor`` ([n, ...], same n on every rank) from all ranks along dim 0, in rank order.

    Args:
        full_grad: False keeps the gradient of this rank's own slice only (the other slices are constants; with
            DDP's gradient averaging this gives the true gradient divided by the world size, as open_clip's
            default). True back-propagates through the collective to every rank's slice
            (``torch.distributed.nn.functional.all_gather``).
    """
    ws = world_size()
    if ws == 1:
        return tensor
    if full_grad:
        from torch.distributed.nn.functional import all_gather

        return torch.cat(all_gather(tensor.contiguous()), dim=0)
    parts = [torch.empty_like(tensor) for _ in range(ws)]
    dist.all_gather(parts, tensor.contiguous())
    parts[rank()] = tensor
    return torch.cat(parts, dim=0)


def all_gather_nograd(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate a tensor that needs no gradient (e.g. identity labels) from all ranks along dim 0."""
    ws = world_size()
    if ws == 1:
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(ws)]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts, dim=0)
