"""Typed payloads: the canonical event and each vendor's webhook payloads."""
