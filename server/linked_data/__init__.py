"""Linked Data: describing a resource, its pages, the dataset description, dumps and the
ontology's documentation."""
