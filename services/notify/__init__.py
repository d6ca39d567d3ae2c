"""Notifications and alerts: channels, the outbox and its delivery, preferences, alert rules."""
