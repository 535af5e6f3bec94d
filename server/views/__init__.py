"""Blueprints, one per kind of page."""
