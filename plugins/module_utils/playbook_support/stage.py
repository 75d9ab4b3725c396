# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phases and stage events a playbook records for its cluster.

A phase moves only through lifecycle.transition (the table decides); ``only_from`` lets a
playbook say "move to Installing if the cluster is bootstrapping, else leave it" so a
rerun on a Running cluster changes no phase. Every check happens before the first write,
and check mode writes nothing.
"""

from __future__ import annotations

import dataclasses
from typing import List, Optional

from ansible_collections.gpve.cluster.plugins.module_utils import checks, lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.planner import versions
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support import cluster_view

EVENT_TYPES = ('Normal', 'Warning')
STATUS_FIELDS = ('version', 'endpoint', 'message')


@dataclasses.dataclass
class StageRequest:
    name: str
    phase: Optional[str] = None
    reason: Optional[str] = None
    message: Optional[str] = None
    only_from: Optional[List[str]] = None
    event: Optional[dict] = None
    status: dict = dataclasses.field(default_factory=dict)
    check_mode: bool = False


def _phase(value, field):
    if value not in lifecycle.PHASES:
        raise ValidationError(field, 'unknown phase {0}; phases: {1}'.format(checks.shown(value), ', '.join(lifecycle.PHASES)))
    return value


def check(request):
    """The one validation pass over the request, before the registry is read: names, phases, reasons, version."""
    checks.cluster_name(request.name, 'name')
    if request.phase:
        _phase(request.phase, 'phase')
    for index, phase in enumerate(request.only_from or []):
        _phase(phase, 'only_from[{0}]'.format(index))
    checks.optional(checks.event_reason, request.reason, 'reason')
    version = (request.status or {}).get('version')
    if version is not None and versions.parse(version) is None:
        raise ValidationError('version', '{0} is not a MAJOR.MINOR.PATCH version'.format(checks.shown(version)))
    return _check_event(request.event)


def _check_event(event):
    if not event:
        return None
    event = dict(event)
    event.setdefault('type', 'Normal')
    if event['type'] not in EVENT_TYPES:
        raise ValidationError('event.type', 'must be one of {0}, not {1!r}'.format(', '.join(EVENT_TYPES), event['type']))
    if not event.get('reason'):
        raise ValidationError('event.reason', 'give a short CamelCase reason, such as StageStarted')
    checks.event_reason(event['reason'], 'event.reason')
    return event


def _wanted_status(current, status):
    unknown = sorted(set(status) - set(STATUS_FIELDS))
    if unknown:
        raise ValidationError('status', 'unknown fields {0}; allowed: {1}'.format(', '.join(unknown), ', '.join(STATUS_FIELDS)))
    return dict((key, value) for key, value in status.items() if value is not None and getattr(current, key) != value)


def _phase_move(request, current_phase, cluster_id):
    """The phase to move to, or None: unchanged, or outside only_from."""
    if not request.phase or request.phase == current_phase:
        return None
    if request.only_from is not None and current_phase not in request.only_from:
        return None
    lifecycle.check(cluster_id, current_phase, request.phase)
    return request.phase


def _diff(status, move, status_changes, event):
    """Phase and status fields before and after; a recorded event shows as a new entry."""
    before = dict({'phase': status.phase}, **dict((key, getattr(status, key)) for key in status_changes))
    after = dict({'phase': move or status.phase}, **status_changes)
    if event:
        before['new_event'] = None
        after['new_event'] = '{0} {1}: {2}'.format(event['type'], event['reason'], event.get('text') or '')
    return {'before': before, 'after': after}


def apply(store, request):
    """Record what the request asks for; returns {changed, cluster, previous_phase, phase_changed, event}."""
    event = check(request)
    cluster = cluster_view.find(store, request.name)
    status_changes = _wanted_status(cluster.status, dict(request.status or {}))
    move = _phase_move(request, cluster.status.phase, cluster.id)
    changed = bool(move or event or status_changes)
    result = {'changed': changed, 'previous_phase': cluster.status.phase, 'phase_changed': bool(move),
              'event': event, 'diff': _diff(cluster.status, move, status_changes, event)}
    if request.check_mode or not changed:
        view = cluster_view.cluster_dict(cluster)
        if move:
            view['phase'] = move
        result['cluster'] = view
        return result
    if event:
        store.add_event(cluster.id, event['type'], event['reason'], event.get('text'), event.get('metadata'))
    if move:
        lifecycle.transition(store, cluster.id, move, request.reason or 'PlaybookStage', request.message, **status_changes)
    elif status_changes:
        store.update_status(cluster.id, **status_changes)
    result['cluster'] = cluster_view.cluster_dict(cluster_view.find(store, request.name))
    return result
