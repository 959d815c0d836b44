"""Generation from prefix embeddings with a GPT-2-like decoder: greedy and beam search over a KV cache.

Small explicit loops instead of ``generate()`` because the inputs are prefix *embeddings*, many prefixes
decode at once (6 attribute sequences and m styled captions per image), and the loops stay easy to check
against a brute-force computation (tests/spac/test_captioner_decoding.py). ``decoder`` is any causal LM whose
forward takes ``inputs_embeds``/``past_key_values``/``use_cache`` and returns ``.logits`` and
``.past_key_values`` (GPT2LMHeadModel). Returned ids stop before EOS; scores are summed log-probabilities.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Generated:
    ids: list[list[int]]  # per input, without EOS
    scores: list[float]  # summed log-probability of ids (+ EOS when it was produced)


def _cache_argument(decoder: nn.Module) -> str:
    # transformers >= 5.2x calls the KV cache ``cache``; earlier versions ``past_key_values``.
    return "cache" if "cache" in inspect.signature(decoder.forward).parameters else "past_key_values"


def _step(decoder: nn.Module, embeds: torch.Tensor, past=None):
    out = decoder(inputs_embeds=embeds, use_cache=True, **{_cache_argument(decoder): past})
    cache = getattr(out, "cache", None)
    return torch.log_softmax(out.logits[:, -1].float(), dim=-1), cache if cache is not None else out.past_key_values


@torch.inference_mode()
def greedy(decoder: nn.Module, prefix: torch.Tensor, *, eos_token_id: int, max_new_tokens: int) -> Generated:
    """Pick the most likely token at each step until EOS or ``max_new_tokens``. ``prefix``: ``[N, P, d]``."""
    n = prefix.shape[0]
    embed = decoder.get_input_embeddings()
    logp, past = _step(decoder, prefix)
    tokens = torch.empty(n, 0, dtype=torch.long, device=prefix.device)
    scores = torch.zeros(n, device=prefix.device)
    done = torch.zeros(n, dtype=torch.bool, device=prefix.device)
    for step in range(max_new_tokens):
        best, tok = logp.max(dim=-1)
        scores += torch.where(done, torch.zeros_like(best), best)
        tok = torch.where(done, torch.full_like(tok, eos_token_id), tok)
        tokens = torch.cat([tokens, tok[:, None]], dim=1)
        done |= tok == eos_token_id
        if bool(done.all()) or step == max_new_tokens - 1:
            break
        logp, past = _step(decoder, embed(tok[:, None]), past)
    return Generated(ids=[_until_eos(row, eos_token_id) for row in tokens.tolist()], scores=scores.tolist())


@torch.inference_mode()
def beam_search(decoder: nn.Module, prefix: torch.Tensor, *, eos_token_id: int, max_new_tokens: int,
                num_beams: int = 3, length_penalty: float = 0.0) -> Generated:
    """Keep the ``num_beams`` best partial sequences per input; finished beams stay in the beam with a frozen
    score (they can only continue with a free EOS). The best final beam by ``score / length**length_penalty``
    wins (0 = plain log-probability)."""
    n, k = prefix.shape[0], num_beams
    device = prefix.device
    embed = decoder.get_input_embeddings()
    logp, past = _step(decoder, prefix.repeat_interleave(k, dim=0))  # [n*k, V]
    vocab = logp.shape[-1]
    beam_scores = torch.full((n, k), float("-inf"), device=device)
    beam_scores[:, 0] = 0.0  # all beams start identical: only the first may expand at step 1
    tokens = torch.empty(n * k, 0, dtype=torch.long, device=device)
    done = torch.zeros(n * k, dtype=torch.bool, device=device)
    lengths = torch.zeros(n * k, device=device)
    for step in range(max_new_tokens):
        frozen = torch.full_like(logp, float("-inf"))
        frozen[:, eos_token_id] = 0.0
        logp = torch.where(done[:, None], frozen, logp)
        candidates = (beam_scores.view(-1, 1) + logp).view(n, k * vocab)
        beam_scores, flat = candidates.topk(k, dim=-1)  # [n, k]
        source = (torch.arange(n, device=device)[:, None] * k + flat // vocab).view(-1)
        tok = (flat % vocab).view(-1)
        lengths = lengths[source] + (~done[source]).float()
        done = done[source] | (tok == eos_token_id)
        tokens = torch.cat([tokens[source], tok[:, None]], dim=1)
        if bool(done.all()) or step == max_new_tokens - 1:
            break
        past.reorder_cache(source)
        logp, past = _step(decoder, embed(tok[:, None]), past)
    final = beam_scores / lengths.view(n, k).clamp(min=1) ** length_penalty
    best = final.argmax(dim=-1)
    rows = torch.arange(n, device=device) * k + best
    return Generated(ids=[_until_eos(tokens[r].tolist(), eos_token_id) for r in rows.tolist()],
                     scores=beam_scores.view(-1)[rows].tolist())


def generate(decoder: nn.Module, prefix: torch.Tensor, *, eos_token_id: int, max_new_tokens: int,
             num_beams: int = 1, length_penalty: float = 0.0) -> Generated:
    """Greedy when ``num_beams == 1``, else beam search."""
    if num_beams <= 1:
        return greedy(decoder, prefix, eos_token_id=eos_token_id, max_new_tokens=max_new_tokens)
    return beam_search(decoder, prefix, eos_token_id=eos_token_id, max_new_tokens=max_new_tokens,
                       num_beams=num_beams, length_penalty=length_penalty)


def _until_eos(row: list[int], eos: int) -> list[int]:
    return row[: row.index(eos)] if eos in row else row
