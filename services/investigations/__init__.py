"""Investigations: the record of an incident, its notes, its timeline and correlated events."""
