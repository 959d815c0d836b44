"""The SPAC prefix captioner (METHOD.md §1.4) and the other captioner back-ends of ``spac caption``.

Modules: ``config`` (typed configs), ``encoder`` (ResNet-FPN prefix encoder), ``branches`` (attribute, sentence
and style heads), ``model`` (:class:`SpacCaptioner`: prefixes + shared GPT-2 decoder + loss), ``decoding``
(greedy and beam search over prefix embeddings), ``tokenizer``, ``data`` (training examples from caption
corpora), ``train`` (Accelerate loop), ``checkpoint``, ``backends`` (registry: ``spac``, ``hf``, ``template``),
``inference`` (resumable, multi-process JSONL parts) and ``evaluate`` (slot accuracy on held-out images).

This package is the only part of ``spac`` that imports torch; this ``__init__`` imports nothing heavy.
"""
