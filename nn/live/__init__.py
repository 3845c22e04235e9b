"""Watching a network learn: a live view for Jupyter and a standalone replay page."""
