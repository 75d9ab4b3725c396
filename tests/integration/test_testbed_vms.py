"""fakepve's VMs boot: a VM cloned from the template and started through the Proxmox API is a
testbed machine that reads its cloud-init drive, answers SSH as ``ciuser`` with the key from
``sshkeys``, runs sudo without a password, reports its real address through the guest agent,
powers off when the VM stops and loses its disk when the VM is destroyed."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import urllib.parse
from pathlib import Path

import pytest
import yaml
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

from tests.testbed import cloud_init_drive, network
from tests.testbed.machine import hierarchies
from tests.testbed.processes import wait_until
from tests.testbed.pve_seed import TEMPLATE_VMIDS

pytestmark = pytest.mark.testbed

NODE = "pve1"
FIRST_VMID = 8101
VM_COUNT = 6
BOOT_WAIT = 180
USER = "ubuntu"


def _api(pve) -> ProxmoxAPI:
    return pve.api()


def _wait_task(api, upid: str) -> None:
    wait_until(lambda: api.nodes(NODE).tasks(upid).status.get()["status"] == "stopped", 60, f"task {upid}")
    assert api.nodes(NODE).tasks(upid).status.get()["exitstatus"] == "OK"


def _address(index: int) -> str:
    return str(ipaddress.ip_address(network.VmNetwork().range_start) + 100 + index)


def _ssh(testbed, address: str, *command: str, check: bool = True) -> subprocess.CompletedProcess:
    return testbed.ssh(USER, address, *command, check=check)


def _agent_ipv4(api, vmid: int) -> list[str]:
    try:
        answer = api.nodes(NODE).qemu(vmid).agent("network-get-interfaces").get()
    except ResourceException:
        return []
    return [a["ip-address"] for nic in answer["result"] if nic["name"] != "lo"
            for a in nic.get("ip-addresses", []) if a["ip-address-type"] == "ipv4"]


def _create_vm(api, testbed, index: int, **config) -> int:
    vmid = FIRST_VMID + index
    _wait_task(api, api.nodes(NODE).qemu(TEMPLATE_VMIDS[NODE]).clone.post(newid=vmid, name=f"vm-{index}", full=1))
    public_key = Path(f"{testbed.ssh_key}.pub").read_text().strip()
    settings = {"ciuser": USER, "sshkeys": urllib.parse.quote(public_key + "\n", safe=""), "ciupgrade": 0,
                "ipconfig0": f"ip={_address(index)}/16,gw={network.VmNetwork().gateway}", "cores": 1,
                "memory": 1024, **config}
    api.nodes(NODE).qemu(vmid).config.put(**settings)
    return vmid


@pytest.fixture(scope="module")
def booted_vms(testbed):
    """Six VMs cloned and started at once with boot_vms on; destroyed (machines and disks) afterwards."""
    control = testbed.pve_control
    control.set("boot_vms", True)
    api = _api(testbed.pve)
    vmids = [_create_vm(api, testbed, index) for index in range(VM_COUNT)]
    try:
        for vmid in vmids:
            _wait_task(api, api.nodes(NODE).qemu(vmid).status.start.post())
        for index, vmid in enumerate(vmids):
            wait_until(lambda vmid=vmid, index=index: _address(index) in _agent_ipv4(api, vmid), BOOT_WAIT,
                       f"VM {vmid}'s guest agent to report {_address(index)}", interval=1.0)
        for index, vmid in enumerate(vmids):  # the agent answers before sshd has started, as on a real VM
            wait_until(lambda index=index: _ssh(testbed, _address(index), "true", check=False).returncode == 0,
                       BOOT_WAIT, f"VM {vmid} to answer SSH", interval=1.0)
        yield api, vmids
    finally:
        control.reset()
        control.clear_faults()


def test_the_cloud_init_drive_is_built_as_pve_builds_it(tmp_path):
    (tmp_path / "net.yaml").write_text("version: 2\n")
    config = {"name": "cp-1", "searchdomain": "lab", "ciuser": "ops", "cipassword": "$6$hash",
              "sshkeys": "ssh-ed25519%20AAAA%20a%0Assh-rsa%20BBBB%20b%0A", "ciupgrade": "0",
              "net0": "virtio=BC:24:11:00:01:02,bridge=vmbr0", "ipconfig0": "ip=10.0.0.5/24,gw=10.0.0.1",
              "net1": "virtio=BC:24:11:00:01:03,bridge=vmbr0", "ipconfig1": "ip=dhcp,ip6=fd00::5/64"}
    seed = cloud_init_drive.build(7, config, tmp_path, (["192.0.2.53"], []))
    user = yaml.safe_load(seed.user_data)
    assert seed.user_data.startswith("#cloud-config\n")
    assert user == {"hostname": "cp-1", "manage_etc_hosts": True, "fqdn": "cp-1.lab", "user": "ops",
                    "password": "$6$hash", "ssh_authorized_keys": ["ssh-ed25519 AAAA a", "ssh-rsa BBBB b"],
                    "chpasswd": {"expire": False}, "users": ["default"], "package_upgrade": False}
    net = yaml.safe_load(seed.network_config)
    assert net["config"][0]["subnets"] == [{"type": "static", "address": "10.0.0.5", "netmask": "255.255.255.0",
                                            "gateway": "10.0.0.1"}]
    assert net["config"][1]["mac_address"] == "bc:24:11:00:01:03"
    assert net["config"][1]["subnets"] == [{"type": "dhcp4"}, {"type": "static", "address": "fd00::5/64"}]
    assert net["config"][2] == {"type": "nameserver", "address": ["192.0.2.53"], "search": ["lab"]}
    changed = cloud_init_drive.build(7, dict(config, name="cp-2"), tmp_path, (["192.0.2.53"], []))
    assert changed.meta_data != seed.meta_data and changed.meta_data.startswith("instance-id: ")
    custom = cloud_init_drive.build(7, dict(config, cicustom="network=local:snippets/net.yaml"), tmp_path, ([], []))
    assert custom.network_config == "version: 2\n" and custom.user_data == seed.user_data
    with pytest.raises(cloud_init_drive.CloudInitDriveError, match="not a snippets volume"):
        cloud_init_drive.build(7, dict(config, cicustom="user=local:snippets/../../etc/shadow"), tmp_path, ([], []))


def test_a_started_vm_answers_ssh_as_its_cloud_init_user_with_its_name(testbed, booted_vms):
    _api_client, vmids = booted_vms
    for index, _vmid in enumerate(vmids):
        done = _ssh(testbed, _address(index), "hostname; id -un; sudo -n id -u; cat ~/.ssh/authorized_keys")
        hostname, user, root_uid, *keys = done.stdout.splitlines()
        assert (hostname, user, root_uid) == (f"vm-{index}", USER, "0")
        assert Path(f"{testbed.ssh_key}.pub").read_text().strip() in keys


def test_cloud_init_has_finished_when_the_guest_agent_reports_the_address(testbed, booted_vms):
    api, vmids = booted_vms
    status = _ssh(testbed, _address(0), "cloud-init status --wait --long")
    assert "status: done" in status.stdout
    interfaces = api.nodes(NODE).qemu(vmids[0]).agent("network-get-interfaces").get()["result"]
    eth0 = next(nic for nic in interfaces if nic["name"] == "eth0")
    config = api.nodes(NODE).qemu(vmids[0]).config.get()
    assert eth0["hardware-address"] == cloud_init_drive.nic_mac(config["net0"])
    assert {"ip-address": _address(0), "ip-address-type": "ipv4", "prefix": 16} in eth0["ip-addresses"]


def test_ansible_waits_for_the_vms_and_becomes_root(testbed, booted_vms, tmp_path):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[vms]\n" + "".join(f"vm-{i} ansible_host={_address(i)}\n" for i in range(VM_COUNT)))
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3")
    base = ["ansible", "vms", "-i", str(inventory), "-u", USER, "--private-key", testbed.ssh_key]
    for module_args in (["-m", "ansible.builtin.wait_for_connection", "-a", "timeout=60"],
                        ["-m", "ansible.builtin.command", "-a", "cloud-init status --wait"],
                        ["-b", "-m", "ansible.builtin.command", "-a", "id -u"]):
        done = subprocess.run([*base, *module_args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout
    assert done.stdout.count("| CHANGED | rc=0 >>\n0") == VM_COUNT


def test_vms_booted_at_once_each_keep_their_own_systemd_cgroups(testbed, booted_vms):
    """Each guest's systemd lives under its own machine cgroup (name=systemd and unified hierarchies); when the
    six shared one, their systemds trimmed each other's unit cgroups and the testbed's unit failed (219/CGROUP)."""
    _api_client, vmids = booted_vms
    for index, vmid in enumerate(vmids):
        unit = _ssh(testbed, _address(index), "systemctl is-active gpve-machine.service", check=False).stdout.split()
        assert unit[0] == "active", unit
        systemd_hierarchies = {name: base for name, base in hierarchies().items() if name in ("systemd", "unified")}
        assert systemd_hierarchies
        for name, base in systemd_hierarchies.items():
            assert (base / "gpve-testbed" / f"vm{vmid}" / "payload" / "init.scope").is_dir(), name


def test_six_idle_vms_fit_in_memory(booted_vms):
    _api_client, vmids = booted_vms
    memory = hierarchies()["memory"] / "gpve-testbed"
    used = {vmid: int((memory / f"vm{vmid}" / "memory.usage_in_bytes").read_text()) for vmid in vmids}
    per_vm_mb = sum(used.values()) / len(used) / 2 ** 20
    print(f"memory per idle VM: {per_vm_mb:.0f} MB (cgroup usage, page cache included), {VM_COUNT} VMs")
    assert all(value < 1024 * 2 ** 20 for value in used.values())
    available = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemAvailable:"))) * 1024
    assert available > 2 * 2 ** 30


def test_a_cicustom_snippet_replaces_the_user_data(testbed, booted_vms):
    api, _vmids = booted_vms
    snippets = Path(testbed.env()["GPVE_TESTBED_PVE_SNIPPETS"])
    public_key = Path(f"{testbed.ssh_key}.pub").read_text().strip()
    (snippets / "marker.yaml").write_text("#cloud-config\n" + json.dumps({
        "users": [{"name": USER, "sudo": "ALL=(ALL) NOPASSWD:ALL", "ssh_authorized_keys": [public_key]}],
        "write_files": [{"path": "/etc/gpve-marker", "content": "from a snippet\n"}]}) + "\n")
    vmid = _create_vm(api, testbed, VM_COUNT, cicustom="user=local:snippets/marker.yaml")
    _wait_task(api, api.nodes(NODE).qemu(vmid).status.start.post())
    wait_until(lambda: _address(VM_COUNT) in _agent_ipv4(api, vmid), BOOT_WAIT, f"VM {vmid} address", interval=1.0)
    wait_until(lambda: _ssh(testbed, _address(VM_COUNT), "cloud-init status --wait", check=False).returncode == 0,
               BOOT_WAIT, f"VM {vmid} cloud-init", interval=2.0)
    assert _ssh(testbed, _address(VM_COUNT), "cat /etc/gpve-marker").stdout == "from a snippet\n"


def test_a_virtual_ip_on_the_bridge_reaches_the_vm_that_holds_it(testbed, booted_vms):
    vip = str(ipaddress.ip_address(network.VmNetwork().range_end) - 1)
    try:
        for holder in (0, 1):
            for index in (0, 1):
                _ssh(testbed, _address(index), f"sudo ip addr del {vip}/16 dev eth0", check=False)
            _ssh(testbed, _address(holder), f"sudo ip addr add {vip}/16 dev eth0")
            # keepalived announces a moved address with gratuitous ARP; forgetting the old entry does the same here.
            network.ip("neigh", "flush", "to", vip, "dev", network.BRIDGE, check=False)
            assert _ssh(testbed, vip, "hostname").stdout.strip() == f"vm-{holder}"
    finally:
        for index in (0, 1):
            _ssh(testbed, _address(index), f"sudo ip addr del {vip}/16 dev eth0", check=False)


KEEPALIVED_CONF = """vrrp_instance gpve_test {{
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {vip}/16 dev eth0
    }}
}}
"""


def _install_keepalived(testbed, index: int, priority: int, vip: str) -> None:
    """keepalived from the air-gap bundle's loadbalancer packages (offline, as the loadbalancer role installs it)."""
    debs = sorted(Path(testbed.airgap_dir, "loadbalancer").glob("*.deb"))
    archive = subprocess.run(["tar", "-c", "-C", str(debs[0].parent), *[deb.name for deb in debs]],
                             stdout=subprocess.PIPE, check=True).stdout
    unpack = "sudo mkdir -p /var/tmp/lb && sudo tar -x -C /var/tmp/lb"
    subprocess.run(testbed.ssh_argv(USER, _address(index), unpack), input=archive, check=True, timeout=120)
    install = ("sudo DEBIAN_FRONTEND=noninteractive apt-get install -qq --yes --no-install-recommends /var/tmp/lb/*.deb"
               " >/dev/null && sudo mkdir -p /etc/keepalived && sudo tee /etc/keepalived/keepalived.conf >/dev/null"
               " && sudo systemctl restart keepalived")
    done = subprocess.run(testbed.ssh_argv(USER, _address(index), install), capture_output=True, timeout=300,
                          input=KEEPALIVED_CONF.format(priority=priority, vip=vip).encode(), check=False)
    assert done.returncode == 0, done.stderr.decode()


def _vip_holder(testbed, vip: str) -> str:
    """The hostname answering on vip, or "" (no answer within a few seconds: the address is between holders)."""
    try:
        return testbed.ssh(USER, vip, "hostname", timeout=15, check=False).stdout.strip()
    except subprocess.TimeoutExpired:
        return ""


def test_keepalived_moves_the_virtual_ip_to_the_backup_when_the_holder_vm_stops(testbed, booted_vms):
    api, vmids = booted_vms
    vip = str(ipaddress.ip_address(network.VmNetwork().range_end) - 2)
    holder, backup = 2, 3
    _install_keepalived(testbed, holder, 150, vip)
    _install_keepalived(testbed, backup, 100, vip)
    wait_until(lambda: _vip_holder(testbed, vip) == f"vm-{holder}", 60, f"vm-{holder} to hold {vip} (VRRP master)",
               interval=1.0)

    _wait_task(api, api.nodes(NODE).qemu(vmids[holder]).status.stop.post())

    # No address is moved by hand: the backup's keepalived misses three adverts, takes the address and announces it
    # with gratuitous ARP, which updates the bridge host's neighbour entry.
    wait_until(lambda: _vip_holder(testbed, vip) == f"vm-{backup}", 60, f"vm-{backup} to take {vip} over",
               interval=1.0)


def test_stopping_a_vm_stops_its_machine_and_destroying_it_removes_its_disk(testbed, booted_vms):
    api, vmids = booted_vms
    vmid, address = vmids[-1], _address(len(vmids) - 1)
    disk = testbed.state_dir / "vms" / str(vmid)
    assert (disk / "upper").is_dir()

    _wait_task(api, api.nodes(NODE).qemu(vmid).status.stop.post())

    wait_until(lambda: not _machine_running(disk), 60, f"VM {vmid}'s machine to power off")
    assert _ssh(testbed, address, "true", check=False).returncode != 0
    with pytest.raises(ResourceException, match="not running"):
        api.nodes(NODE).qemu(vmid).agent("network-get-interfaces").get()
    assert (disk / "upper").is_dir()

    _wait_task(api, api.nodes(NODE).qemu(vmid).delete())

    wait_until(lambda: not disk.exists(), 60, f"VM {vmid}'s disk to be removed")


def test_a_guest_that_powers_itself_off_is_a_stopped_vm(testbed, booted_vms):
    api, vmids = booted_vms
    vmid = vmids[-2]
    _ssh(testbed, _address(len(vmids) - 2), "sudo systemctl poweroff", check=False)
    wait_until(lambda: api.nodes(NODE).qemu(vmid).status.current.get()["status"] == "stopped", 60,
               f"VM {vmid} stopped after its guest powered off")
    _wait_task(api, api.nodes(NODE).qemu(vmid).status.start.post())
    wait_until(lambda: _ssh(testbed, _address(len(vmids) - 2), "true", check=False).returncode == 0, BOOT_WAIT,
               f"VM {vmid} to answer SSH again after its start", interval=2.0)


def test_a_vm_on_a_bridge_the_testbed_lacks_does_not_boot(testbed, booted_vms):
    api, _vmids = booted_vms
    vmid = _create_vm(api, testbed, VM_COUNT + 1, net0="virtio=BC:24:11:AA:00:01,bridge=vmbr9")
    _wait_task(api, api.nodes(NODE).qemu(vmid).status.start.post())
    wait_until(lambda: str(vmid) in testbed.pve_control.state()["boot_errors"], 30, f"VM {vmid}'s boot error")
    assert "bridge 'vmbr9' does not exist" in testbed.pve_control.state()["boot_errors"][str(vmid)]
    assert not (testbed.state_dir / "vms" / str(vmid) / "nspawn.pid").exists()


def _machine_running(state_dir: Path) -> bool:
    from tests.testbed.processes import is_running
    return is_running(state_dir / "nspawn.pid")
