"""jobguard: one rule engine for Kubernetes Job and CronJob manifests."""

__version__ = "0.2.0"
