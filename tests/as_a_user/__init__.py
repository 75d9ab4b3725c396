"""Running the collection as its users do, and what those runs need: Ansible CLI and module runs in a clean
environment (ansible_cli), a registry seeded through the store API as the modules write it (seed), the testbed's
cluster as the registry would hold it (testbed_cluster), a reader ServiceAccount (service_account), and a webhook
receiver written as a subscriber would write one (receiver). Used by the integration tests of the inventory, the
read side, external clusters, kubeconfigs, webhooks, the registry module, security and the failure shape."""
