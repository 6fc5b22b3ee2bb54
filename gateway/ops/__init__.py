"""What operators read: structured logs, Prometheus metrics, child processes."""
