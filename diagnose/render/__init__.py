"""Renderers: pure functions from a Diagnosis to text, JSON (and later widgets and Word)."""
