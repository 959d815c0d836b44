"""plip: person-centric language-image pre-training (ModifiedResNet + BERT, three pretext tasks) and evaluation."""

__version__ = "0.1.0"
