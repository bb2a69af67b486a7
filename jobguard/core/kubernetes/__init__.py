"""What jobguard knows of Kubernetes itself: the API server's defaulting and validation, its
schema, cron schedules, quantities, names, time zones, selectors and index lists. Pure: no I/O
but reading the bundled schema data."""
