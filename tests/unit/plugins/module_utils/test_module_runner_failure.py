"""A failure after writes reads as one: changed, and the message says what exists and how to resume."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import module_runner
from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError, ValidationError, after_writes

pytestmark = pytest.mark.registry


def test_a_failure_before_any_write_is_the_error_alone_and_unchanged():
    exc = ValidationError('network.pod_cidr', 'overlaps the VM network')
    assert module_runner.failure_message(exc) == 'network.pod_cidr: overlaps the VM network'
    assert module_runner.error_details(exc) == {'error_type': 'ValidationError', 'field': 'network.pod_cidr',
                                                'changed': False}


def test_a_failure_after_writes_says_what_exists_and_how_to_resume_and_is_changed():
    made = {'cluster': {'id': 'c1'}, 'vms': [], 'exists': [{'name': 'demo-cp-1', 'vmid': 9101}], 'missing': ['demo-cp-2']}
    exc = after_writes(GpveError('demo-cp-2: clone failed'), made, 'run the same task again',
                       'VMs that exist: demo-cp-1 (vmid 9101). Not made: demo-cp-2.')
    assert module_runner.failure_message(exc) == ('demo-cp-2: clone failed. VMs that exist: demo-cp-1 (vmid 9101). '
                                                  'Not made: demo-cp-2. run the same task again.')
    details = module_runner.error_details(exc)
    assert details['changed'] is True and details['made'] is made and details['resume'] == 'run the same task again'
    assert details['error_type'] == 'GpveError'
