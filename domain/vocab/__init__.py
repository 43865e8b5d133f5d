"""Value objects for both wire vocabularies; no behaviour, no serialization."""
