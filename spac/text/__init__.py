"""Caption text tools of SPAC: attribute phrases, template libraries, prompt captions, corpus statistics.

- ``phrases``: caption -> attribute phrases with slot and character span (lexicon matcher; ``spac.attributes``);
- ``extract``: public ``extract_spans`` / ``extract_attributes`` (the six-slot attribute set, METHOD.md §1.3);
- ``templates``: template libraries (one versioned JSON per style; ``available_styles``);
- ``render``: ``render_prompt(attributes, style=..., seed=...)`` -> PromptCaption with spans (METHOD.md §1.6);
- ``corpus`` / ``mine``: caption corpora -> mined template libraries (``spac mine``);
- ``report``: caption statistics and plots (``spac text-report``).

Nothing here imports torch or spaCy; submodules are imported on use.
"""
