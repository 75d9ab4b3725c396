"""Fixtures of the K8s-on-VM integration tests: the testbed's fakepve (reset per test), a fresh
SQLite registry, and ways to run gpve_k8s_vm in process (the service) or as the real module."""

from __future__ import annotations

import pytest
from k8s_vm_support import ModuleRunner, Proxmox, registry_for, service_for


@pytest.fixture
def proxmox(pve, pve_control):
    """The testbed's fakepve with only its seed (three nodes, a template on each); faults cleared after."""
    pve_control.reset()
    yield Proxmox(pve, pve_control)
    pve_control.reset()


@pytest.fixture
def registry_path(tmp_path):
    return str(tmp_path / 'registry.db')


@pytest.fixture
def store(registry_path):
    with registry_for(registry_path) as opened:
        yield opened


@pytest.fixture
def service(store, proxmox):
    return service_for(store, proxmox)


@pytest.fixture
def module(proxmox, registry_path, tmp_path):
    return ModuleRunner(proxmox, registry_path, tmp_path)
