# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Delivering the registry's new events to webhook subscribers.

For each enabled subscriber, the events after its cursor are taken in order: the cursor
moves past each one by compare-and-swap (a claim) before it is sent, so concurrent runs
never send one event twice to the same subscriber; events of types it did not ask for are
passed over. A delivery that gives up after every attempt is recorded and passed over.

Modules call ``deliver_pending_quietly`` after they wrote events: at most two attempts per
event and a short time budget; an event whose delivery did not get through is put back
(the cursor returns) for the next run, and delivery problems are warnings. The
``gpve_webhook`` module's ``state: delivered`` runs the full retry policy.
"""

from __future__ import annotations

import json
import time
import uuid

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError
from ansible_collections.gpve.cluster.plugins.module_utils.events import delivery, types

BATCH = 100
QUIET_ATTEMPTS = 2
QUIET_BUDGET_SECONDS = 20.0
SOURCE = "gpve.cluster"


def payload(event, kind):
    """The JSON body of one event (the seed's ClusterEvent)."""
    document = {"id": event["id"], "type": kind, "clusterId": event["cluster_id"], "clusterName": event["cluster_name"],
                "clusterType": event["cluster_type"], "timestamp": event["timestamp"].isoformat(), "source": SOURCE,
                "data": {"registryType": event["type"], "reason": event["reason"], "message": event["message"],
                         "metadata": event["metadata"] or {}}}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


class _Run:
    def __init__(self, store, quiet, clock, sleep):
        self.store = store
        self.quiet = quiet
        self.clock = clock
        self.sleep = sleep
        self.deadline = time.monotonic() + QUIET_BUDGET_SECONDS if quiet else None
        self.results = []

    def out_of_time(self):
        return self.deadline is not None and time.monotonic() > self.deadline

    def subscriber(self, subscriber):
        secret = self.store.subscriber_secret(subscriber)
        policy = subscriber.policy()
        if self.quiet:
            policy["max_attempts"] = min(QUIET_ATTEMPTS, int(policy["max_attempts"]))
        cursor = subscriber.last_seq
        while not self.out_of_time():
            events = self.store.events_after(cursor, BATCH)
            if not events:
                return
            for event in events:
                if self.out_of_time() or not self.store.claim_event(subscriber, cursor, event["seq"]):
                    return
                previous, cursor = cursor, event["seq"]
                outcome = self.event(subscriber, secret, policy, event)
                if outcome == delivery.GAVE_UP and self.quiet:
                    self.store.claim_event(subscriber, cursor, previous)  # put it back for the next run
                    return

    def event(self, subscriber, secret, policy, event):
        kind = types.event_type(event["type"], event["reason"], event["metadata"])
        if not types.wanted(subscriber.event_types, kind):
            return None
        target = {"url": subscriber.url, "secret": secret, "kind": kind, "delivery_id": uuid.uuid4().hex}
        base = {"id": target["delivery_id"], "subscriber_id": subscriber.id, "event_id": event["id"], "event_type": kind}
        attempts = []

        def record(attempt):
            attempts.append(attempt)
            self.store.record_delivery(dict(base, **attempt))

        outcome = delivery.deliver(target, payload(event, kind), policy, record, self.clock, self.sleep)
        self.results.append({"subscriber": subscriber.name, "delivery_id": target["delivery_id"], "event_id": event["id"],
                             "event_type": kind, "outcome": outcome, "attempts": len(attempts),
                             "status_code": attempts[-1]["status_code"] if attempts else None})
        return outcome


def deliver_pending(store, names=None, quiet=False, clock=time.time, sleep=time.sleep):
    """Deliver every pending event to the enabled subscribers (those named, when names is given); returns the results."""
    run = _Run(store, quiet, clock, sleep)
    for subscriber in run.store.list_subscribers(enabled_only=True):
        if names and subscriber.name not in names:
            continue
        run.subscriber(subscriber)
        if run.out_of_time():
            break
    return run.results


def deliver_pending_quietly(store, warn):
    """deliver_pending for a module that already did its work: problems become warnings, never failures."""
    try:
        results = deliver_pending(store, quiet=True)
    except GpveError as exc:
        warn(f"webhook deliveries: {exc}")
        return []
    for result in results:
        if result["outcome"] != delivery.DELIVERED:
            warn(f"webhook {result['subscriber']}: {result['event_type']} {result['outcome']} after {result['attempts']} "
                 f"attempt(s) (HTTP {result['status_code']})")
    return results
