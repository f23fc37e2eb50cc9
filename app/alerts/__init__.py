"""Monitoring alerts (Prometheus Alertmanager webhooks) turned into incidents."""
