"""With haproxy/keepalived on the control planes (gpve_lb_placement: control_planes), haproxy holds the virtual
IP's API port there: the K8s-on-VM playbooks' vars must bind every distribution's API server to the node address
and keep haproxy off the ports a distribution cannot bind that way. The playbooks' own vars files, templated by
Ansible as a play would."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

pytestmark = pytest.mark.roles

VARS = Path(__file__).resolve().parents[3] / "playbooks" / "k8s_vm" / "vars"
BIND_SWITCH = {"kubeadm": "kubeadm_apiserver_bind_node_ip", "k3s": "k3s_bind_node_ip", "rke2": "rke2_bind_node_ip",
               "k0s": "k0s_bind_node_ip"}


def playbook_vars(distribution, placement, lb_type):
    loader = DataLoader()
    variables = {}
    for name in ("defaults", "loadbalancer", "kubeadm", "k3s", "rke2", "k0s"):
        variables.update(loader.load_from_file(str(VARS / f"{name}.yml"), trusted_as_template=True))
    variables["gpve_lb_placement"] = placement
    variables["gpve_cluster"] = {"distribution": distribution, "spec": {"load_balancer": {"type": lb_type}}}
    templar = Templar(loader=loader, variables=variables)
    return lambda name: templar.template(variables[name])


@pytest.mark.parametrize("distribution", sorted(BIND_SWITCH))
def test_on_the_control_planes_the_api_server_binds_the_node_address(distribution):
    value = playbook_vars(distribution, "control_planes", "keepalived")
    assert value(BIND_SWITCH[distribution]) is True


@pytest.mark.parametrize("placement,lb_type", [("lb_vm", "keepalived"), ("control_planes", "kube-vip")])
@pytest.mark.parametrize("distribution", sorted(BIND_SWITCH))
def test_elsewhere_the_api_server_keeps_every_address(distribution, placement, lb_type):
    assert playbook_vars(distribution, placement, lb_type)(BIND_SWITCH[distribution]) is False


@pytest.mark.parametrize("placement,ports", [("lb_vm", [8132, 9443]), ("control_planes", [])])
def test_haproxy_leaves_k0s_own_ports_alone_on_the_controllers(placement, ports):
    assert playbook_vars("k0s", placement, "haproxy")("loadbalancer_extra_ports") == ports


def test_haproxy_keeps_the_rke2_supervisor_port_which_rke2_binds_to_the_node_address():
    assert playbook_vars("rke2", "control_planes", "haproxy")("loadbalancer_extra_ports") == [9345]
