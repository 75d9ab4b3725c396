"""A testbed machine: the machine image booted with systemd-nspawn in its own network namespace.

Host-cluster nodes and the Proxmox VMs fakepve starts are both machines. A machine is:
- a copy-on-write root: an overlay of the machine image (``binaries.machine_image()``),
  with ``/var/lib/containerd`` on a plain directory (containerd's overlay snapshots cannot
  sit on an overlay);
- a NoCloud seed (meta-data, user-data, network-config) in /var/lib/cloud/seed/nocloud,
  which cloud-init reads at boot as it reads a Proxmox VM's cloud-init drive;
- a network namespace ``gpve-<name>`` whose eth0 (with the machine's MAC) is a veth on the
  testbed bridge (``network.py``);
- cgroups of its own under the testbed's in every cgroup v1 hierarchy, limited to the
  machine's CPUs and memory; the kubelet inside uses them as its cgroupRoot;
- one systemd-nspawn process (``--boot``: systemd is PID 1 inside), detached, with a pidfile.

- a unit of the testbed's own in its root (``gpve-machine.service``, first thing at boot) that
  gives the guest what a VM's own kernel would: writable cgroup hierarchies (nspawn mounts
  them read-only but for the machine's own cgroup) and a writable /proc/sys/net (the
  machine's network namespace is its own: nspawn, not told so, mounts it read-only), and
  the three global sysctls the kubelet insists on (kernel.panic, kernel.panic_on_oops,
  vm.overcommit_memory) as files holding its values, bound over the real ones in the
  machine's mount namespace: writing them would change this whole host.

What a machine is not: it shares the host's kernel (no modules or sysctls of its own beyond
its network namespace), it has no disk device and no qemu. The nspawn flags are the ones
measured here to run a kubelet and containerd on this host (docs/testbed.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import network, processes

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PARENT = "gpve-testbed"
SEED_DIR = "var/lib/cloud/seed/nocloud"
CPU_PERIOD_US = 100_000
# Where a machine's private mount namespace keeps the cgroup hierarchies while /sys is remounted.
SYS_KEEP = "/run/gpve-testbed-cgroup"


# A removed machine's processes get SIGTERM, then SIGKILL after this long.
REMOVE_GRACE_SECONDS = 1.0
GLOBAL_SYSCTLS = {"kernel/panic": "10", "kernel/panic_on_oops": "1", "vm/overcommit_memory": "1"}
# Every machine's root is the host's root user: systemd, containerd and the kubelet in each take inotify
# instances from one per-user budget (128 by default), which six VMs and a node exhaust (the kubelet then exits
# with "inotify_init: too many open files" and never registers). As kind asks of its hosts, the budget is raised
# before a machine boots, never lowered.
HOST_INOTIFY_LIMITS = {"fs/inotify/max_user_instances": 8192, "fs/inotify/max_user_watches": 524288}
_SYSCTL_BINDS = " ".join(f"echo {value} > /run/gpve-sysctl/{key.replace('/', '.')};"
                         f" mount --bind /run/gpve-sysctl/{key.replace('/', '.')} /proc/sys/{key};"
                         for key, value in GLOBAL_SYSCTLS.items())
# $$ is systemd's escaped $.
MACHINE_UNIT = f"""\
[Unit]
Description=what a VM's own kernel would allow: writable cgroups and net sysctls (gpve testbed machine)
DefaultDependencies=no
Before=sysinit.target systemd-sysctl.service containerd.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'for c in /sys/fs/cgroup/*/; do mount -o remount,bind,rw "$$c"; done'
ExecStart=/bin/sh -c 'mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw /proc/sys/net'
ExecStart=/bin/sh -c 'mkdir -p /run/gpve-sysctl; {_SYSCTL_BINDS}'

[Install]
WantedBy=sysinit.target
"""


class MachineError(RuntimeError):
    """A machine did not boot, stop or run a command; the message names the machine and its log."""


@dataclass
class Bind:
    source: str
    target: str
    read_only: bool = True


@dataclass
class Machine:
    """One machine's definition and where it keeps its state; plain data, recorded as JSON."""

    name: str
    state_dir: str
    image: str
    mac: str
    cpus: int = 2
    memory_mb: int = 2048
    binds: list[Bind] = field(default_factory=list)

    # ------------------------------------------------------------ names and paths

    @property
    def root(self) -> Path:
        return Path(self.state_dir) / "root"

    @property
    def namespace(self) -> str:
        return f"{network.NETNS_PREFIX}{self.name}"

    @property
    def veth(self) -> str:
        # Interface names are at most 15 bytes: a prefix and a hash of the machine's name.
        return network.VETH_PREFIX + hashlib.sha256(self.name.encode()).hexdigest()[:10]

    @property
    def pidfile(self) -> Path:
        return Path(self.state_dir) / "nspawn.pid"

    @property
    def log(self) -> Path:
        return Path(self.state_dir) / "console.log"

    @property
    def cgroup(self) -> str:
        """The machine's cgroup path, relative to each hierarchy's root as this process sees it."""
        return f"{CGROUP_PARENT}/{self.name}"

    # ------------------------------------------------------------ life cycle

    def write_seed(self, meta_data: str, user_data: str, network_config: str | None,
                   vendor_data: str | None = None) -> None:
        """The NoCloud seed cloud-init reads at the next boot (a new instance-id reruns it)."""
        self._mount_root()
        seed = self.root / SEED_DIR
        seed.mkdir(parents=True, exist_ok=True)
        (seed / "meta-data").write_text(meta_data)
        (seed / "user-data").write_text(user_data)
        for part, content in (("network-config", network_config), ("vendor-data", vendor_data)):
            if content is None:
                (seed / part).unlink(missing_ok=True)
            else:
                (seed / part).write_text(content)
        for part in seed.iterdir():
            part.chmod(0o600)

    def write_file(self, path: str, content: str | bytes, mode: int = 0o644) -> None:
        """A file in the machine's root before it boots (units, configuration, keys)."""
        self._mount_root()
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        target.write_bytes(data)
        target.chmod(mode)

    def boot(self) -> int:
        """Start the machine (no-op when it runs); returns the nspawn pid. Does not wait for the guest."""
        running = processes.read_pid(self.pidfile)
        if running is not None:
            return running
        raise_host_inotify_limits()
        self._mount_root()
        self.write_file("/etc/systemd/system/gpve-machine.service", MACHINE_UNIT)
        wants = self.root / "etc/systemd/system/sysinit.target.wants/gpve-machine.service"
        wants.parent.mkdir(parents=True, exist_ok=True)
        if not wants.is_symlink():
            wants.symlink_to("/etc/systemd/system/gpve-machine.service")
        network.attach(self.namespace, self.veth, self.mac)
        cgroup_dirs = _make_cgroups(self.cgroup, self.cpus, self.memory_mb)
        enter = " ".join(f"echo $$ > {d}/cgroup.procs;" for d in cgroup_dirs)
        # nspawn starts inside the namespace with that namespace's own /sys (rather than with
        # --network-namespace-path, where nspawn 252 gives the guest the host's /sys/class/net
        # and cloud-init never finds its NIC), in a private mount namespace that keeps the
        # host's cgroup hierarchies.
        script = (f"{enter} mkdir -p {SYS_KEEP} && mount --rbind /sys/fs/cgroup {SYS_KEEP} && umount -l /sys"
                  f" && mount -t sysfs sysfs /sys && mount --rbind {SYS_KEEP} /sys/fs/cgroup"
                  ' && exec "$@"')
        argv = ["nsenter", f"--net=/run/netns/{self.namespace}", "unshare", "--mount", "--propagation", "slave",
                "sh", "-c", script, "nspawn", *self._nspawn_argv()]
        return processes.start_detached(argv, self.log, self.pidfile)

    def running(self) -> bool:
        return processes.is_running(self.pidfile)

    def stop(self, timeout: float = 60.0) -> bool:
        """Power off (systemd's halt through nspawn), SIGKILL after timeout; True if it was running."""
        was_running = processes.stop(self.pidfile, sig=signal.SIGTERM, timeout=timeout)
        _kill_cgroup(self.cgroup)
        # A VM powered off keeps nothing of its processes: the cgroups its kubelet made go too, or a restarted
        # kubelet finds the old containers' cgroups and never reports the runtime ready (seen after a VM restart).
        try:
            _remove_cgroups(self.cgroup)
        except OSError:
            pass  # a process that outlived the kill keeps its cgroup; remove() tries again
        network.detach(self.namespace, self.veth)
        self._unmount_root()
        return was_running

    def remove(self) -> None:
        """Kill and delete everything of the machine: its disk (overlay upper), seed, cgroups.

        No clean shutdown first: the disk goes anyway, as when Proxmox destroys a VM (its qemu is killed).
        A guest whose systemd tracks its units' processes (a kubelet, containerd and its shims) may take
        the whole grace time to halt, per machine, holding up the next test's reset.
        """
        self.stop(timeout=REMOVE_GRACE_SECONDS)
        _remove_cgroups(self.cgroup)
        shutil.rmtree(self.state_dir, ignore_errors=True)

    # ------------------------------------------------------------ inside

    def leader_pid(self) -> int:
        """PID of the machine's init (systemd) as the host sees it."""
        nspawn = processes.read_pid(self.pidfile)
        if nspawn is None:
            raise MachineError(f"machine {self.name} is not running; see {self.log}")
        children = Path(f"/proc/{nspawn}/task/{nspawn}/children").read_text().split()
        if not children:
            raise MachineError(f"machine {self.name} has no init process yet; see {self.log}")
        return int(children[0])

    def run(self, *argv: str, check: bool = True, timeout: float = 120.0,
            input_text: str | None = None) -> subprocess.CompletedProcess:
        """A command inside the machine (all its namespaces), as root."""
        command = ["nsenter", "-t", str(self.leader_pid()), "-m", "-u", "-i", "-n", "-p", "--", *argv]
        done = subprocess.run(command, input=input_text, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise MachineError(f"{self.name}: {' '.join(argv)} exited {done.returncode}: "
                               f"{(done.stderr or done.stdout).strip()[-2000:]}")
        return done

    def addresses(self) -> list[dict]:
        """The guest's eth0 addresses as `ip -j addr` gives them (empty before its network is up)."""
        out = network.ip("-n", self.namespace, "-j", "addr", "show", "dev", "eth0", check=False).stdout
        links = json.loads(out or "[]")
        return [info for link in links for info in link.get("addr_info", [])]

    def ipv4(self) -> str | None:
        for info in self.addresses():
            if info.get("family") == "inet":
                return info["local"]
        return None

    def wait_booted(self, timeout: float = 120.0) -> None:
        """Until systemd inside says the boot finished (running or degraded), with the testbed's unit done."""
        def booted() -> bool:
            state = self.run("systemctl", "is-system-running", check=False, timeout=10).stdout.strip()
            return state in ("running", "degraded")
        processes.wait_until(booted, timeout, f"machine {self.name} boot", self.log, self.pidfile, interval=0.5)
        self._ensure_machine_unit()

    def _ensure_machine_unit(self) -> None:
        """gpve-machine.service made the cgroups and /proc/sys/net writable; run it once more if it failed.

        Seen once on a host under heavy load: a VM booted "degraded" with /proc/sys/net read-only, and
        node_prep's sysctl failed. Each of the unit's mounts may be made again, so a second start is safe.
        """
        if self.run("systemctl", "is-active", "gpve-machine.service", check=False, timeout=10).returncode == 0:
            return
        failed = self.run("journalctl", "--no-pager", "-n", "20", "-u", "gpve-machine.service", check=False).stdout
        if self.run("systemctl", "restart", "gpve-machine.service", check=False, timeout=60).returncode != 0:
            raise MachineError(f"machine {self.name}: gpve-machine.service failed twice (log {self.log}):\n{failed}")

    # ------------------------------------------------------------ helpers

    def _nspawn_argv(self) -> list[str]:
        argv = ["systemd-nspawn", "--boot", "--register=no", "--keep-unit", "--capability=all",
                "--system-call-filter=@keyring bpf", "--bind=/dev/kmsg", f"--directory={self.root}",
                f"--machine={self.name}",
                "--resolv-conf=off", "--timezone=off", "--link-journal=no", "--console=read-only",
                f"--bind={Path(self.state_dir) / 'containerd'}:/var/lib/containerd"]
        for bind in self.binds:
            argv.append(f"--bind{'-ro' if bind.read_only else ''}={bind.source}:{bind.target}")
        return argv

    def _mount_root(self) -> None:
        state = Path(self.state_dir)
        if os.path.ismount(self.root):
            return
        for part in ("upper", "work", "root", "containerd"):
            (state / part).mkdir(parents=True, exist_ok=True)
        state.chmod(0o700)
        options = f"lowerdir={self.image},upperdir={state / 'upper'},workdir={state / 'work'}"
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(self.root)], check=True)

    def _unmount_root(self) -> None:
        # Mounts the guest left under its root (it shares our mount namespace's propagation) go first.
        for mount in sorted(_mounts_under(self.root), key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], check=False)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Machine":
        values = dict(data)
        values["binds"] = [Bind(**bind) for bind in values.get("binds", [])]
        return cls(**values)


def raise_host_inotify_limits() -> None:
    """HOST_INOTIFY_LIMITS on this host, where it has less."""
    for key, wanted in HOST_INOTIFY_LIMITS.items():
        setting = Path("/proc/sys") / key
        if int(setting.read_text()) < wanted:
            setting.write_text(f"{wanted}\n")


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path)
    mounts = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        target = line.split()[1].encode().decode("unicode_escape")
        if target == prefix or target.startswith(prefix + "/"):
            mounts.append(target)
    return mounts


def hierarchies() -> dict[str, Path]:
    """Each cgroup hierarchy's directory of this process's own cgroup, by controller name ("unified": v2).

    The unified hierarchy of this hybrid host has no controllers, but a machine needs a cgroup of its
    own there too: nspawn takes its cgroup from it and makes the guest's payload/ and supervisor/ below.
    Left at the root, every machine's systemd shared one /payload and each trimmed the others' unit
    cgroups ("Failed to attach to cgroup /system.slice/...: No such file or directory", status 219/CGROUP),
    seen when six VMs booted at once.
    """
    found = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _number, controllers, path = line.split(":", 2)
        name = controllers.replace("name=", "") or "unified"
        mount = CGROUP_ROOT / name.split(",")[0]
        if mount.is_dir():
            found[name] = mount / path.lstrip("/")
    return found


def _make_cgroups(relative: str, cpus: int, memory_mb: int) -> list[Path]:
    made = []
    for name, base in hierarchies().items():
        directory = base / relative
        directory.mkdir(parents=True, exist_ok=True)
        if name == "cpuset":
            _inherit_cpuset(directory)
        made.append(directory)
        if name == "memory":
            (directory / "memory.limit_in_bytes").write_text(str(memory_mb * 1024 * 1024))
        if name == "cpu":
            (directory / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
            (directory / "cpu.cfs_quota_us").write_text(str(cpus * CPU_PERIOD_US))
    return made


def _inherit_cpuset(directory: Path) -> None:
    """A new cpuset cgroup is empty until given its parent's CPUs and memory nodes."""
    chain = []
    current = directory
    while not (current / "cpuset.cpus").read_text().strip() and current != CGROUP_ROOT / "cpuset":
        chain.append(current)
        current = current.parent
    for child in reversed(chain):
        for part in ("cpuset.cpus", "cpuset.mems"):
            (child / part).write_text((child.parent / part).read_text())


def _kill_cgroup(relative: str) -> None:
    """SIGKILL whatever the machine left behind (a stop timed out), deepest cgroups first."""
    base = hierarchies().get("pids") or next(iter(hierarchies().values()))
    top = base / relative
    if not top.is_dir():
        return
    for _attempt in range(50):
        pids = [int(p) for procs in top.rglob("cgroup.procs") for p in procs.read_text().split()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def _remove_cgroups(relative: str) -> None:
    for base in hierarchies().values():
        top = base / relative
        if not top.is_dir():
            continue
        for directory in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            directory.rmdir()
        top.rmdir()


def remove_testbed_cgroups() -> None:
    """The testbed's parent cgroup in every hierarchy, once its machines are gone."""
    for base in hierarchies().values():
        parent = base / CGROUP_PARENT
        if parent.is_dir():
            for child in parent.iterdir():
                if child.is_dir():
                    _remove_cgroups(f"{CGROUP_PARENT}/{child.name}")
            parent.rmdir()
