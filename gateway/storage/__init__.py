"""Local durable state: the spool, the dedupe store and its filter, per-key locks."""
