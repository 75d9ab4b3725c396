# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What gpve_webhook does: converge one subscriber (present / absent), or deliver pending events now."""

from __future__ import annotations

import dataclasses
import re
from typing import List, Optional

from ansible_collections.gpve.cluster.plugins.module_utils import checks
from ansible_collections.gpve.cluster.plugins.module_utils.diffs import diff
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.events import dispatch, types
from ansible_collections.gpve.cluster.plugins.module_utils.registry.webhooks import DEFAULT_POLICY


MAX_ATTEMPTS = 100
MAX_DELAY_S = 3600
NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$")


@dataclasses.dataclass
class Request:
    name: Optional[str] = None
    state: str = "present"
    url: Optional[str] = None
    secret: Optional[str] = None
    event_types: Optional[List[str]] = None
    enabled: bool = True
    max_attempts: int = DEFAULT_POLICY["max_attempts"]
    retry_delay: float = DEFAULT_POLICY["retry_delay"]
    timeout: float = DEFAULT_POLICY["timeout"]
    from_beginning: bool = False
    deliver: bool = False
    check_mode: bool = False

    def policy(self):
        checks.whole(self.max_attempts, "max_attempts", 1, MAX_ATTEMPTS)
        checks.number(self.retry_delay, "retry_delay", 0, MAX_DELAY_S)
        checks.number(self.timeout, "timeout", 0.1, MAX_DELAY_S)
        return {"max_attempts": self.max_attempts, "retry_delay": float(self.retry_delay), "timeout": float(self.timeout)}


SECRET_KEPT, SECRET_NEW = "(stored, unchanged)", "(new secret)"


def _view(url, event_types, policy, enabled, secret):
    """A subscriber as a diff shows it; secret is a marker, never the secret."""
    return dict({"url": url, "event_types": list(event_types), "enabled": enabled, "secret": secret}, **policy)


def _current_view(subscriber):
    return _view(subscriber.url, subscriber.event_types, subscriber.policy(), subscriber.enabled, SECRET_KEPT)


def _check_name(name):
    if not isinstance(name, str) or not NAME.match(name):
        raise ValidationError("name", f"{checks.shown(name)} is not a subscriber name (up to 63 letters, digits, \"-\", "
                                      "\"_\" and \".\", starting with a letter or digit)")


class WebhookService:
    def __init__(self, store):
        self.store = store

    def run(self, request):
        if request.state == "delivered":
            return self._deliver(request)
        if not request.name:
            raise ValidationError("name", f"is required with state={request.state}")
        if request.state == "absent":
            return self._absent(request)
        result = self._present(request)
        if request.deliver and not request.check_mode:
            delivered = self._deliver(Request(name=request.name, state="delivered"))
            result["deliveries"] = delivered["deliveries"]
            result["changed"] = result["changed"] or delivered["changed"]
        return result

    def _present(self, request):
        _check_name(request.name)
        if request.url is not None:
            checks.url(request.url, "url")
        event_types = types.parse_patterns(request.event_types)
        policy = request.policy()
        current = self.store.get_subscriber(request.name)
        if current is None:
            if not (request.url and request.secret):
                raise ValidationError("secret", "url and secret are required to create a subscriber")
            change = diff({}, _view(request.url, event_types, policy, request.enabled, SECRET_NEW))
            if request.check_mode:
                return {"changed": True, "diff": change,
                        "subscriber": {"name": request.name, "url": request.url, "event_types": event_types,
                                       "enabled": request.enabled, "details": policy}}
            created = self.store.create_subscriber(request.name, request.url, request.secret, event_types, policy,
                                                   enabled=request.enabled, from_now=not request.from_beginning)
            return {"changed": True, "subscriber": created.as_dict(), "diff": change}
        url = request.url or current.url
        new_secret = request.secret if request.secret and request.secret != self.store.subscriber_secret(current) else None
        before = _current_view(current)
        after = _view(url, event_types, policy, request.enabled, SECRET_NEW if new_secret else SECRET_KEPT)
        if before == after:
            return {"changed": False, "subscriber": current.as_dict(), "diff": diff(before, after)}
        if request.check_mode:
            return {"changed": True, "diff": diff(before, after),
                    "subscriber": dict(current.as_dict(), url=url, event_types=event_types, details=policy)}
        updated = self.store.update_subscriber(current, url, event_types, policy, request.enabled, secret=new_secret)
        return {"changed": True, "subscriber": updated.as_dict(), "diff": diff(before, after)}

    def _absent(self, request):
        current = self.store.get_subscriber(request.name)
        if current is None:
            return {"changed": False, "subscriber": None, "diff": diff({}, {})}
        if not request.check_mode:
            self.store.delete_subscriber(current)
        return {"changed": True, "subscriber": current.as_dict(), "diff": diff(_current_view(current), {})}

    def _cursors(self):
        return {s.name: s.last_seq for s in self.store.list_subscribers()}

    def _deliver(self, request):
        if request.name and self.store.get_subscriber(request.name) is None:
            raise ValidationError("name", f"no webhook subscriber named {request.name!r}")
        if request.check_mode:
            pending = {s.name: len(self.store.events_after(s.last_seq)) for s in self.store.list_subscribers(enabled_only=True)
                       if not request.name or s.name == request.name}
            return {"changed": any(pending.values()), "deliveries": [], "pending": pending,
                    "diff": diff({"pending_events": pending}, {"pending_events": dict.fromkeys(pending, 0)})}
        before = self._cursors()
        results = dispatch.deliver_pending(self.store, names=[request.name] if request.name else None)
        after = self._cursors()
        return {"changed": after != before, "deliveries": results,
                "diff": diff({"delivered_up_to": before}, {"delivered_up_to": after})}
