"""Local durable state: the spool, the dedupe store and its filter, delivery claims (SQLite or Redis)."""
