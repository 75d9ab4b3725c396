"""Helpers shared by the tests of issue 6 (inventory, cluster info, external clusters, kubeconfigs, webhooks)."""
