"""Notifications port: a local sink, or SNS topics (warning / critical)."""
