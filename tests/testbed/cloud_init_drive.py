"""A VM's cloud-init drive as Proxmox VE builds it, in NoCloud form: what the booted VM reads.

PVE generates the drive at each start from the VM's config (qemu-server's
``PVE/QemuServer/Cloudinit.pm``, nocloud flavour): ``user-data`` from ``name``, ``searchdomain``,
``ciuser``, ``cipassword``, ``sshkeys`` (URL-encoded, one key per line) and ``ciupgrade``
(default on); ``network-config`` (version 1) with one ``physical`` entry per ``net<n>`` that has an
``ipconfig<n>`` (static, ``dhcp``, IPv6 likewise) and a ``nameserver`` entry from ``nameserver``
and ``searchdomain``, the host's own DNS settings when the VM sets none; ``meta-data`` holding an
``instance-id`` that is a digest of the rest, so a changed config reruns cloud-init at the next
boot. ``cicustom`` replaces a part with a snippet file (``user=local:snippets/u.yaml``), read here
from the testbed's snippets directory, which stands for the storage's ``snippets/`` folder.
"""

from __future__ import annotations

import hashlib
import ipaddress
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import yaml


class CloudInitDriveError(RuntimeError):
    """The config names something the drive cannot be built from (a missing snippet, a bad address)."""


@dataclass(frozen=True)
class NoCloudSeed:
    meta_data: str
    user_data: str
    network_config: str
    vendor_data: str | None = None


def properties(value) -> dict[str, str]:
    """``key=value,key=value`` (a PVE property string) as a dict; a bare first item keeps its text as key."""
    found = {}
    for part in str(value or "").split(","):
        key, sep, item = part.partition("=")
        if key:
            found[key.strip()] = item.strip() if sep else ""
    return found


def nic_mac(net_value: str) -> str:
    """The MAC of a ``net<n>`` value (``virtio=BC:24:11:..,bridge=vmbr0``), lower case."""
    for key, value in properties(net_value).items():
        if key == "macaddr" or (value.count(":") == 5 and key not in ("bridge", "tag")):
            return value.lower()
    raise CloudInitDriveError(f"no MAC address in {net_value!r}")


def nic_bridge(net_value: str) -> str | None:
    return properties(net_value).get("bridge")


def build(vmid: int, config: dict, snippets: Path, host_dns: tuple[list[str], list[str]]) -> NoCloudSeed:
    """The NoCloud seed PVE would write for this VM config; host_dns: (nameservers, search domains)."""
    custom = properties(config.get("cicustom"))
    user_data = _snippet(custom["user"], snippets) if "user" in custom else _user_data(vmid, config)
    network_config = (_snippet(custom["network"], snippets) if "network" in custom
                      else _network_config(config, host_dns))
    vendor_data = _snippet(custom["vendor"], snippets) if "vendor" in custom else None
    if "meta" in custom:
        meta_data = _snippet(custom["meta"], snippets)
    else:
        digest = hashlib.sha1((user_data + network_config + (vendor_data or "")).encode()).hexdigest()
        meta_data = f"instance-id: {digest}\n"
    return NoCloudSeed(meta_data, user_data, network_config, vendor_data)


def hostname_fqdn(vmid: int, config: dict) -> tuple[str, str | None]:
    hostname = str(config.get("name") or f"VM{vmid}")
    domain = config.get("searchdomain")
    if "." in hostname:
        return hostname.split(".", 1)[0], hostname
    return hostname, f"{hostname}.{domain}" if domain else None


def _user_data(vmid: int, config: dict) -> str:
    hostname, fqdn = hostname_fqdn(vmid, config)
    data: dict = {"hostname": hostname, "manage_etc_hosts": True}
    if fqdn:
        data["fqdn"] = fqdn
    user = config.get("ciuser")
    if user:
        data["user"] = str(user)
        if user == "root":
            data["disable_root"] = False
    if config.get("cipassword"):
        data["password"] = str(config["cipassword"])
    keys = [line.strip() for line in urllib.parse.unquote(str(config.get("sshkeys", ""))).splitlines() if line.strip()]
    if keys:
        data["ssh_authorized_keys"] = keys
    data["chpasswd"] = {"expire": False}
    if user != "root":
        data["users"] = ["default"]
    data["package_upgrade"] = str(config.get("ciupgrade", "1")) not in ("0", "false")
    return "#cloud-config\n" + yaml.safe_dump(data, sort_keys=False)


def _network_config(config: dict, host_dns: tuple[list[str], list[str]]) -> str:
    entries = []
    nics = sorted(int(key[3:]) for key in config if key.startswith("net") and key[3:].isdigit())
    for nic in nics:
        ipconfig = properties(config.get(f"ipconfig{nic}"))
        if not ipconfig:
            continue
        entries.append({"type": "physical", "name": f"eth{nic}", "mac_address": nic_mac(config[f"net{nic}"]),
                        "subnets": _subnets(nic, ipconfig)})
    nameservers = str(config["nameserver"]).split() if config.get("nameserver") else host_dns[0]
    search = str(config["searchdomain"]).split() if config.get("searchdomain") else host_dns[1]
    if nameservers or search:
        entry: dict = {"type": "nameserver"}
        if nameservers:
            entry["address"] = nameservers
        if search:
            entry["search"] = search
        entries.append(entry)
    return yaml.safe_dump({"version": 1, "config": entries}, sort_keys=False)


def _subnets(nic: int, ipconfig: dict[str, str]) -> list[dict]:
    subnets = []
    ip4 = ipconfig.get("ip")
    if ip4 == "dhcp":
        subnets.append({"type": "dhcp4"})
    elif ip4:
        subnets.append(_static(nic, ip4, ipconfig.get("gw"), "ip"))
    ip6 = ipconfig.get("ip6")
    if ip6 in ("dhcp", "auto"):
        subnets.append({"type": "dhcp6" if ip6 == "dhcp" else "ipv6_slaac"})
    elif ip6:
        subnets.append(_static(nic, ip6, ipconfig.get("gw6"), "ip6"))
    return subnets


def _static(nic: int, address: str, gateway: str | None, key: str) -> dict:
    try:
        interface = ipaddress.ip_interface(address)
    except ValueError as exc:
        raise CloudInitDriveError(f"ipconfig{nic}: {key}={address} is not an address with a prefix") from exc
    subnet = {"type": "static", "address": str(interface.ip)}
    if interface.version == 4:
        subnet["netmask"] = str(interface.netmask)
    else:
        subnet["address"] = str(interface)
    if gateway:
        subnet["gateway"] = gateway
    return subnet


def _snippet(volume: str, snippets: Path) -> str:
    """``<storage>:snippets/<file>`` read from the snippets directory; nothing outside it."""
    path = volume.partition(":")[2]
    name = path.removeprefix("snippets/")
    if not path.startswith("snippets/") or "/" in name or name in ("", ".", ".."):
        raise CloudInitDriveError(f"cicustom: {volume!r} is not a snippets volume (<storage>:snippets/<file>)")
    file = snippets / name
    if not file.is_file():
        raise CloudInitDriveError(f"cicustom: volume {volume!r} does not exist ({file})")
    return file.read_text()
