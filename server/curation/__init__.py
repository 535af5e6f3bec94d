"""Curated writes: the validated write transaction, the change log, new sources, and who may
write."""
