"""The booking webhook gateway: vendors' webhooks in, canonical booking CloudEvents out."""

__version__ = "0.1.0"
