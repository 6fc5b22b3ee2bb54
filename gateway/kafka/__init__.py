"""Delivery to Kafka: the producer, the spool-backed deliverer, record builders, topics, the dev broker."""
