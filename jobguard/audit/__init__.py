"""``jobguard audit``: the rules over the Jobs and CronJobs already stored in a cluster.

:mod:`~jobguard.audit.cluster` is the only module that talks to the API server (through the
kubernetes client, imported lazily); the others are pure functions of stored objects:
:mod:`~jobguard.audit.judge` gives each object the verdict the webhook would give it,
:mod:`~jobguard.audit.policyreport` builds wg-policy PolicyReports, :mod:`~jobguard.audit.cleanup`
finds finished Jobs nothing deletes, :mod:`~jobguard.audit.fixes` plans the patches live objects
accept, and :mod:`~jobguard.audit.run` drives one streaming pass over the listed pages.
"""
