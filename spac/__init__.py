"""spac: Stylish Pedestrian Attributes-union Captioning -- person crops in, SYNTH-PEDES-style shards out.

Importing ``spac`` never imports torch; only ``spac.captioner`` needs it.
"""

from spac.records import SCHEMA, SLOTS, Attributes, Caption, PersonRecord, PromptCaption, RecordError, Span

__all__ = ["SCHEMA", "SLOTS", "Attributes", "Caption", "PersonRecord", "PromptCaption", "RecordError", "Span"]
__version__ = "0.1.0"
