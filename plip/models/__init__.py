"""PLIP encoders: modified ResNet (50/101/152) with paper/released poolings, BERT-family text encoder, ``Plip``."""

from .config import PlipConfig
from .plip import ImageFeatures, Plip, TextFeatures, build_model
from .resnet import RESNET_LAYERS, ModifiedResNet

__all__ = ["RESNET_LAYERS", "ImageFeatures", "ModifiedResNet", "Plip", "PlipConfig", "TextFeatures", "build_model"]
