"""Alerts that are never lost: a transactional outbox delivering to WebSocket, signed webhooks and
MQTT, tiered by severity (分级分色). See ``docs/alerts.md``."""
