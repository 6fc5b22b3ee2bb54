"""What happens to one request: its source and authentication, mapping, envelope and records."""
