"""Who Kubernetes controllers act as, where jobguard must tell their requests from a user's."""

from __future__ import annotations

#: Who creates a CronJob's Jobs: the controller's own service account (kube-controller-manager
#: with --use-service-account-credentials, the default of kubeadm and managed clusters) or the
#: controller manager's identity.
CRONJOB_CONTROLLER_USERS = frozenset(
    {"system:serviceaccount:kube-system:cronjob-controller", "system:kube-controller-manager"}
)
