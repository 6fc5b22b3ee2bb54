"""The HTTP edge: the app, the webhook endpoint, problem documents, the coalescing transport."""
