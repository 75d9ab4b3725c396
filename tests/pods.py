"""Pods of the testbed's test image (busybox: sh, httpd, nslookup) on any cluster a test reaches: make one,
wait until it runs, run a command in it."""

from __future__ import annotations

from kubernetes import client
from kubernetes.stream import stream

from tests.testbed import images
from tests.testbed.processes import wait_until


def busybox_pod(name: str, command: str, **spec) -> dict:
    """A Pod of the test image running command with sh, labelled app=name; spec adds Pod spec fields
    (``container`` adds fields to its one container)."""
    container = {"name": "main", "image": images.TEST_IMAGE, "command": ["/bin/sh", "-c", command]}
    container.update(spec.pop("container", {}))
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [container], "terminationGracePeriodSeconds": 1, **spec}}


def wait_running(core: client.CoreV1Api, name: str, namespace: str, timeout: float = 120) -> client.V1Pod:
    """The pod once it is Running and Ready."""
    def running() -> bool:
        pod = core.read_namespaced_pod(name, namespace)
        ready = {c.type: c.status for c in pod.status.conditions or []}.get("Ready")
        return pod.status.phase == "Running" and ready == "True"
    wait_until(running, timeout, f"pod {namespace}/{name} Running and Ready", interval=0.5)
    return core.read_namespaced_pod(name, namespace)


def exec_in(core: client.CoreV1Api, name: str, namespace: str, command: str) -> str:
    """What command, run with sh in the pod, printed (stdout and stderr)."""
    return stream(core.connect_get_namespaced_pod_exec, name, namespace, command=["/bin/sh", "-c", command],
                  stderr=True, stdin=False, stdout=True, tty=False)
