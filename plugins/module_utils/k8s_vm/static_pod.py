# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a static pod answers, read from its own manifest (pure: the manifest in, a URL out).

The kubelet probes a static pod where its manifest says: the probe's httpGet host (the pod's address when it names
none: the node's, for a pod on the host network), its port (a number, or the name of one of the container's ports,
as kubeadm 1.37 writes the API server's ``port: probe-port``) and its scheme. A caller asking whether the pod is
up asks the same place: an API server that binds the node's address only (a load balancer on the control planes
holds the endpoint's port) never answers on 127.0.0.1.
"""

from __future__ import annotations


class StaticPodError(ValueError):
    """A manifest that does not say where its probe points (the message names what is missing)."""


def _container(manifest):
    containers = ((manifest or {}).get('spec') or {}).get('containers') or []
    if not containers or not isinstance(containers[0], dict):
        raise StaticPodError('the manifest has no container (spec.containers is empty)')
    return containers[0]


def _port(container, port):
    if isinstance(port, bool) or port is None:
        raise StaticPodError('the probe names no port')
    if isinstance(port, int) or str(port).isdigit():
        number = int(port)
    else:
        named = {p.get('name'): p.get('containerPort') for p in container.get('ports') or [] if isinstance(p, dict)}
        if named.get(port) is None:
            raise StaticPodError(f"the probe's port {port!r} is no port of the container ({', '.join(sorted(str(n) for n in named)) or 'it names none'})")
        number = int(named[port])
    if not 0 < number < 65536:
        raise StaticPodError(f"the probe's port {port!r} is no TCP port ({number})")
    return number


def probe_url(manifest, path=None, probe='livenessProbe', default_host='127.0.0.1'):
    """The URL the manifest's first container's probe (livenessProbe by default) points at, with path in place of the
    probe's own when given; default_host stands for the pod's address when the probe names no host."""
    container = _container(manifest)
    http_get = (container.get(probe) or {}).get('httpGet')
    if not isinstance(http_get, dict):
        raise StaticPodError(f'the container {container.get("name", "?")!r} has no {probe} with httpGet')
    host = str(http_get.get('host') or default_host)
    if ':' in host and not host.startswith('['):
        host = f'[{host}]'
    scheme = str(http_get.get('scheme') or 'HTTP').lower()
    path = str(path if path is not None else http_get.get('path') or '/')
    return f"{scheme}://{host}:{_port(container, http_get.get('port'))}{path if path.startswith('/') else '/' + path}"
