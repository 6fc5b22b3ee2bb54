"""The HTTP edge: the connection protocol and its limits, the app, the webhook endpoint, problem documents."""
