"""Exports of a model instance's IR to other tools (today: Promela for SPIN)."""
