#!/usr/bin/python
# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpve_webhook
short_description: Webhook subscribers to the gpve registry's cluster events, and their deliveries
version_added: 0.1.0
description:
  - Manages webhook subscribers stored in the gpve cluster registry - URL, secret (encrypted), the event types wanted -
    and delivers cluster events to them.
  - Every phase change and operation is an event in the registry. Each delivery is a JSON C(POST) of the seed design's
    ClusterEvent (C(id), C(type), C(clusterId), C(clusterName), C(clusterType), C(timestamp), C(source), C(data)) with
    the headers C(X-GPVE-Event), C(X-GPVE-Delivery) (an id kept across retries), C(X-GPVE-Timestamp) (Unix seconds) and
    C(X-GPVE-Signature) (C(sha256=) and the hex HMAC-SHA256 of C(<delivery id>.<timestamp>.<body>) with the secret), so a
    receiver can verify it and reject replays by timestamp and id.
  - Failed attempts (no answer, a timeout, 408, 425, 429, 5xx) are retried with exponential backoff up to
    O(max_attempts); other answers are final. Every attempt is recorded in the registry.
  - gpve.cluster modules that write events deliver them right away (two attempts, a short time budget; what does not get
    through waits for the next run); O(state=delivered) runs every pending delivery with the full retry policy, for
    example from a schedule.
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - gpve.cluster.registry
  - gpve.cluster.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is written or sent; O(state=delivered) reports how many events are pending per subscriber.
  diff_mode:
    support: full
    details: The subscriber's settings before and after; the secret shows only as stored or new. O(state=delivered) shows
      how far each subscriber has been delivered (in check mode, its pending events).
  idempotent:
    support: full
options:
  name:
    description: Name of the subscriber. Required unless O(state=delivered), where it limits delivery to that subscriber.
    type: str
  state:
    description:
      - V(present) creates or updates the subscriber; V(absent) removes it (and its delivery records);
        V(delivered) delivers every pending event now.
    type: str
    choices: [present, absent, delivered]
    default: present
  url:
    description: Where deliveries are posted (C(https://...)). Required to create a subscriber.
    type: str
  secret:
    description: Shared secret for the signatures. Required to create a subscriber; stored encrypted.
    type: str
  event_types:
    description:
      - Event types wanted, shell-style patterns - V(*), V(cluster.*), V(cluster.created), V(cluster.deleted),
        V(cluster.status.changed), V(cluster.health.changed), V(cluster.scaled), V(cluster.upgraded),
        V(cluster.kubeconfig.issued), V(cluster.backup.created), V(cluster.event) (any other event).
    type: list
    elements: str
    default: ['*']
  enabled:
    description: A disabled subscriber keeps its place but receives nothing until enabled again.
    type: bool
    default: true
  max_attempts:
    description: Attempts per delivery before giving up.
    type: int
    default: 5
  retry_delay:
    description: Seconds before the first retry; each further retry waits twice as long (at most a minute).
    type: float
    default: 1
  timeout:
    description: Seconds to wait for the receiver's answer.
    type: float
    default: 10
  from_beginning:
    description: A new subscriber also receives the events already in the registry (by default only newer ones).
    type: bool
    default: false
  deliver:
    description: After converging the subscriber, deliver its pending events now.
    type: bool
    default: false
notes:
  - The secret is never returned. Rotating it is a task with the new O(secret).
seealso:
  - module: gpve.cluster.gpve_cluster_info
  - name: gpve.cluster documentation of this module
    description: Payload, headers, signature check and replay protection, with a receiver example.
    link: https://github.com/gpve/cluster/blob/main/docs/gpve_webhook.md
"""

EXAMPLES = r"""
- name: Phase changes and health changes to the on-call tool
  gpve.cluster.gpve_webhook:
    name: oncall
    url: https://hooks.example.com/gpve
    secret: "{{ vault_gpve_webhook_secret }}"
    event_types: [cluster.status.changed, cluster.health.changed]

- name: Deliver whatever is pending (from a schedule)
  gpve.cluster.gpve_webhook:
    state: delivered
  register: sent

- name: Remove the subscriber
  gpve.cluster.gpve_webhook:
    name: oncall
    state: absent
"""

RETURN = r"""
subscriber:
  description: The subscriber (id, name, url, event_types, enabled, last_seq, details with the retry policy); never the secret.
  returned: with O(state=present) or O(state=absent)
  type: dict
deliveries:
  description: Deliveries made by this run (subscriber, delivery_id, event_id, event_type, outcome, attempts, status_code).
  returned: with O(state=delivered) or O(deliver=true)
  type: list
  elements: dict
pending:
  description: Pending events per subscriber.
  returned: with O(state=delivered) in check mode
  type: dict
"""


from ansible_collections.gpve.cluster.plugins.module_utils.ansible_module import GpveModule
from ansible_collections.gpve.cluster.plugins.module_utils.events.manage import Request, WebhookService
from ansible_collections.gpve.cluster.plugins.module_utils.registry_runner import run_on_registry


def argument_spec():
    return dict(
        name=dict(type='str'),
        state=dict(type='str', choices=['present', 'absent', 'delivered'], default='present'),
        url=dict(type='str'),
        secret=dict(type='str', no_log=True),
        event_types=dict(type='list', elements='str', default=['*']),
        enabled=dict(type='bool', default=True),
        max_attempts=dict(type='int', default=5),
        retry_delay=dict(type='float', default=1),
        timeout=dict(type='float', default=10),
        from_beginning=dict(type='bool', default=False),
        deliver=dict(type='bool', default=False),
        registry=dict(type='str'),
    )


def build_request(params, check_mode):
    return Request(name=params['name'], state=params['state'], url=params['url'], secret=params['secret'],
                   event_types=params['event_types'], enabled=params['enabled'], max_attempts=params['max_attempts'],
                   retry_delay=params['retry_delay'], timeout=params['timeout'], from_beginning=params['from_beginning'],
                   deliver=params['deliver'], check_mode=check_mode)


def main():
    module = GpveModule(argument_spec=argument_spec(), supports_check_mode=True,
                        required_if=[('state', 'present', ('name',)), ('state', 'absent', ('name',))])
    # Delivery is this module's own business (state=delivered, deliver=true): no automatic round.
    run_on_registry(module, lambda store: WebhookService(store).run(build_request(module.params, module.check_mode)),
                    deliver_events=False)


if __name__ == '__main__':
    main()
