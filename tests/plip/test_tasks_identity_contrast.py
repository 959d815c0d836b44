"""IVLC: CMPM (both forms) against a literal re-computation, identity positives, and the cross-process gather."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
import torch.multiprocessing as mp

from plip.distributed import all_gather_with_grad
from plip.tasks.identity_contrast import IdentityContrast, IdentityContrastConfig, cmpm_loss


def literal_cmpm(V, T, ids, form, eps=1e-8):
    """Eq. 4-6 (cosine, q = y / sum y) or the released code (projection onto the unit other side, q = y / |y|_2)."""
    N = len(ids)
    y = [[1.0 if ids[i] == ids[j] else 0.0 for j in range(N)] for i in range(N)]

    def direction(A, B):
        total = 0.0
        for i in range(N):
            if form == "cosine":
                s = [float(A[i] @ B[j] / (A[i].norm() * B[j].norm())) for j in range(N)]
                q = [y[i][j] / sum(y[i]) for j in range(N)]
            else:
                s = [float(A[i] @ B[j] / B[j].norm()) for j in range(N)]
                q = [y[i][j] / math.sqrt(sum(v * v for v in y[i])) for j in range(N)]
            z = sum(math.exp(v) for v in s)
            p = [math.exp(v) / z for v in s]
            total += sum(p[j] * math.log(p[j] / (q[j] + eps)) for j in range(N))
        return total / N

    return direction(V, T) + direction(T, V)


@pytest.mark.parametrize("form", ["cosine", "projection"])
def test_cmpm_matches_formula_with_several_images_per_identity(form):
    torch.manual_seed(0)
    V, T = torch.randn(7, 5, dtype=torch.float64), torch.randn(7, 5, dtype=torch.float64)
    ids = torch.tensor([3, 3, 3, 7, 7, 1, 9])
    expected = literal_cmpm(V, T, ids.tolist(), form)
    assert cmpm_loss(V, T, ids, form=form).item() == pytest.approx(expected, rel=1e-9)


def test_cmpm_forms_differ_and_all_same_identity_pairs_are_positive():
    torch.manual_seed(1)
    V, T = torch.randn(4, 6, dtype=torch.float64) * 3, torch.randn(4, 6, dtype=torch.float64)
    ids = torch.tensor([0, 0, 1, 1])
    assert cmpm_loss(V, T, ids, "cosine").item() != pytest.approx(cmpm_loss(V, T, ids, "projection").item())
    # Texts of the same identity are interchangeable targets: swapping them within an identity changes nothing.
    swapped = T[[1, 0, 3, 2]]
    for form in ("cosine", "projection"):
        assert cmpm_loss(V, swapped, ids, form).item() == pytest.approx(cmpm_loss(V, T, ids, form).item(), rel=1e-9)
    # Perfectly aligned, well-separated identities give a small loss.
    E = torch.eye(2, dtype=torch.float64).repeat_interleave(2, 0) * 50
    assert cmpm_loss(E, E, ids, "projection").item() < 1e-6


def test_task_uses_global_embeddings_and_reports_metrics():
    torch.manual_seed(0)
    task = IdentityContrast(IdentityContrastConfig(form="projection"), SimpleNamespace())
    V, T = torch.randn(6, 4, requires_grad=True), torch.randn(6, 4, requires_grad=True)
    ids = torch.tensor([5, 5, 2, 2, 2, 8])
    feats = SimpleNamespace(image=SimpleNamespace(embed=V), text=SimpleNamespace(embed=T))
    out = task(None, SimpleNamespace(person_ids=ids), feats, 0.0)
    torch.testing.assert_close(out.loss, cmpm_loss(V, T, ids, "projection"))
    out.loss.backward()
    assert V.grad.abs().sum() > 0 and T.grad.abs().sum() > 0
    assert set(out.metrics) == {"pos_sim", "neg_sim", "i2t_top1"}
    with pytest.raises(ValueError, match="form"):
        IdentityContrastConfig(form="infonce")


def test_gather_is_a_noop_in_one_process():
    x = torch.randn(3, 2, requires_grad=True)
    assert all_gather_with_grad(x) is x


def _worker(rank, world, init_file, V, T, ids, out):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    n = len(ids) // world
    for full_grad in (False, True):
        v = V[rank * n : (rank + 1) * n].clone().requires_grad_(True)
        t = T[rank * n : (rank + 1) * n].clone().requires_grad_(True)
        task = IdentityContrast(IdentityContrastConfig(full_grad=full_grad), None)
        feats = SimpleNamespace(image=SimpleNamespace(embed=v), text=SimpleNamespace(embed=t))
        loss = task(None, SimpleNamespace(person_ids=ids[rank * n : (rank + 1) * n]), feats, 0.0).loss
        loss.backward()
        out[(rank, full_grad)] = torch.cat([loss.detach().view(1), v.grad.flatten(), t.grad.flatten()])
    dist.destroy_process_group()


def test_two_processes_contrast_the_global_batch_with_gradients(tmp_path):
    torch.manual_seed(0)
    V, T = torch.randn(8, 4), torch.randn(8, 4)
    ids = torch.tensor([0, 1, 2, 0, 1, 3, 3, 2])  # positives straddle the two processes
    out = mp.Manager().dict()
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), V, T, ids, out), nprocs=2, join=True)
    Vr, Tr = V.clone().requires_grad_(True), T.clone().requires_grad_(True)
    loss = cmpm_loss(Vr, Tr, ids)
    loss.backward()
    for full_grad in (False, True):
        scale = 2.0 if full_grad else 1.0  # with full_grad every process's loss reaches every slice
        for rank in range(2):
            got = out[(rank, full_grad)]
            assert got[0].item() == pytest.approx(loss.item(), rel=1e-5)
            gv, gt = got[1:17].view(4, 4), got[17:].view(4, 4)
            torch.testing.assert_close(gv, scale * Vr.grad[rank * 4 : rank * 4 + 4], rtol=1e-4, atol=1e-6)
            torch.testing.assert_close(gt, scale * Tr.grad[rank * 4 : rank * 4 + 4], rtol=1e-4, atol=1e-6)
