"""From findings to numbers: the effort model, per-target scores and the report model."""
