"""Greedy and beam search over a KV cache vs brute-force computations without a cache, on a tiny GPT-2."""

import itertools

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from spac.captioner.decoding import beam_search, generate, greedy

EOS, VOCAB, MAX_NEW = 0, 5, 3


@pytest.fixture(scope="module")
def decoder():
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=VOCAB, n_embd=16, n_layer=2, n_head=2, n_positions=32, bos_token_id=EOS,
                     eos_token_id=EOS)
    return GPT2LMHeadModel(cfg).eval()


@pytest.fixture(scope="module")
def prefix():
    return torch.randn(4, 3, 16, generator=torch.Generator().manual_seed(1)) * 2


def _next_logp(decoder, prefix_row, ids):
    """log p(. | prefix, ids) by a full forward pass (no cache)."""
    embeds = torch.cat([prefix_row, decoder.get_input_embeddings()(torch.tensor(ids, dtype=torch.long))])[None]
    return torch.log_softmax(decoder(inputs_embeds=embeds).logits[0, -1].float(), dim=-1)


def _score(decoder, prefix_row, seq, memo=None):
    memo = {} if memo is None else memo  # one forward per distinct partial sequence
    total = 0.0
    for i, tok in enumerate(seq):
        key = tuple(seq[:i])
        if key not in memo:
            memo[key] = _next_logp(decoder, prefix_row, seq[:i])
        total += float(memo[key][tok])
    return total


@torch.no_grad()
def test_greedy_matches_recomputed_argmax(decoder, prefix):
    out = greedy(decoder, prefix, eos_token_id=EOS, max_new_tokens=6)
    for row, ids, score in zip(prefix, out.ids, out.scores, strict=True):
        ref = []
        for _ in range(6):
            tok = int(_next_logp(decoder, row, ref).argmax())
            ref.append(tok)
            if tok == EOS:
                break
        assert ids == [t for t in ref if t != EOS]
        assert score == pytest.approx(_score(decoder, row, ref), abs=1e-4)


@torch.no_grad()
def test_wide_beam_is_exhaustive_search(decoder, prefix):
    # every hypothesis: EOS at step 1..MAX_NEW, or MAX_NEW non-EOS tokens
    hyps = [list(p) + [EOS] for n in range(MAX_NEW) for p in itertools.product(range(1, VOCAB), repeat=n)]
    hyps += [list(p) for p in itertools.product(range(1, VOCAB), repeat=MAX_NEW)]
    out = beam_search(decoder, prefix, eos_token_id=EOS, max_new_tokens=MAX_NEW, num_beams=len(hyps))
    for row, ids, score in zip(prefix, out.ids, out.scores, strict=True):
        memo = {}
        scored = [(_score(decoder, row, h, memo), h) for h in hyps]
        best_score, best = max(scored, key=lambda s: s[0])
        assert ids == [t for t in best if t != EOS]
        assert score == pytest.approx(best_score, abs=1e-4)


@torch.no_grad()
def test_narrow_beam_matches_naive_beam(decoder, prefix):
    k, max_new = 2, 4
    out = beam_search(decoder, prefix, eos_token_id=EOS, max_new_tokens=max_new, num_beams=k)
    for row, ids, score in zip(prefix, out.ids, out.scores, strict=True):
        beams = [([], 0.0, False)]
        for _ in range(max_new):
            cands = []
            for seq, s, fin in beams:
                if fin:
                    cands.append((seq, s, True))
                    continue
                logp = _next_logp(decoder, row, seq)
                cands += [(seq + [v], s + float(logp[v]), v == EOS) for v in range(VOCAB)]
            beams = sorted(cands, key=lambda c: -c[1])[:k]
        seq, s, _ = beams[0]
        assert ids == [t for t in seq if t != EOS]
        assert score == pytest.approx(s, abs=1e-4)


@torch.no_grad()
def test_one_beam_equals_greedy(decoder, prefix):
    a = generate(decoder, prefix, eos_token_id=EOS, max_new_tokens=5, num_beams=1)
    b = beam_search(decoder, prefix, eos_token_id=EOS, max_new_tokens=5, num_beams=1)
    assert a.ids == b.ids
    assert a.scores == pytest.approx(b.scores, abs=1e-5)
