"""vCluster benchmark: gpve_vcluster from start to Running, 100 at once on stand-in nodes, and a few on real ones.

Scale run, on a testbed whose Nodes the node stand-in plays (no container runs there):

1. SINGLE vClusters created one after another through ansible: the wall time of each
   run, and the module's own time from registration to Running (the registry's
   ``created_at`` to the status ``ready_at``).
2. COUNT vClusters created by one play with FORKS forks: total time, every one Running in
   the registry, then all deleted by a second play and nothing left behind (no namespace,
   no cluster-scoped RBAC object, no live registry entry).

The node stand-in makes pods ready at once, but under 25 forks the host's scheduler and
controllers still take their time: the wait for the pods (Starting to Running) is reported
apart from the module's own work. Goal: under 3 s median module overhead per vCluster
(registration to Running without that wait) in the parallel play.

Real run, on the testbed's real node (containerd and the kubelet in a systemd-nspawn
machine): REAL vClusters created by one play (one fork each; syncer off, every image
under the testbed's registry prefix, exposed by NodePort), timed from the play's start
until every virtual API server answers ``/readyz`` through the kubeconfig the module
wrote. The floor, in the same invocation, in namespaces of its own: the same objects,
rendered by the module's own code (runner.build_spec, manifests.render with a PKI bundle
from pki.bundle, coredns.objects), applied with the testbed's kubectl (server-side, one
List for the namespaces and quotas, then one for the rest), timed until every virtual API
server answers ``/readyz`` and CoreDNS's objects are applied inside, as the module does.
Goal: the collection within 1.2 x the floor. Both are deleted afterwards.

The last lines are ``real_ratio=`` (the real run's collection time over the floor's; at
most 1.2 meets its goal) and ``ratio=`` (the scale run's median overhead over 3 s; below
1 meets the goal), ``ratio=`` last.

    python bench/vcluster.py [--size tiny|full]

``--size`` defaults to ``GPVE_BENCH_SIZE``, else full (tiny: 4 vClusters at scale and 1
real one; full: 100 and 5). The scale run uses the stand-in testbed named by
``GPVE_BENCH_STANDIN_ENV``, else ``GPVE_TESTBED_ENV`` when that one's nodes are stand-ins,
else starts a fresh one; the real run uses ``GPVE_TESTBED_ENV`` when its nodes are real,
else starts a fresh testbed. What the bench starts it stops afterwards. The volumes
earlier runs' claims left Released (the pool's policy is Retain) are returned to the pool
first, so runs can follow one another on one testbed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for import_root in (REPO / ".build" / "collections", REPO):
    if import_root.is_dir() and str(import_root) not in sys.path:
        sys.path.insert(0, str(import_root))

from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import Resources  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.pki import bundle as bundles  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.pki import layout  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import coredns, endpoint, host, manifests, names  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import spec as specs  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.runner import build_spec  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.service import FIRST_KINDS  # noqa: E402
from tests.testbed import storage_pool  # noqa: E402
from tests.testbed.testbed import REAL, STANDIN, Testbed  # noqa: E402

SIZES = {"full": {"single": 5, "count": 100, "forks": 25, "real": 5},
         "tiny": {"single": 2, "count": 4, "forks": 2, "real": 1}}
GOAL_SECONDS = 3.0
REAL_GOAL = 1.2
# 1Gi claims fit the smallest volumes of the testbed's pool, which has 224.
STORAGE_SIZE = "1Gi"
# The stand-in nodes offer 3 x 8 CPUs: 100 control planes fit only with small requests.
SMALL = {"requests": {"cpu": "5m", "memory": "16Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
RESOURCES = {component: SMALL for component in
             ("api_server", "controller_manager", "scheduler", "etcd", "syncer", "coredns")}
# The real node has 2 CPUs to allocate: the default requests (4 x 100m a control plane) fit 4 vClusters beside the
# testbed's CoreDNS, not 5; a quarter of them leaves room. Limits stay the module's defaults.
REAL_RESOURCES = {component: {"requests": {"cpu": "25m", "memory": "64Mi"}, "limits": specs.CONTROL_PLANE_RESOURCES["limits"]}
                  for component in specs.CONTROL_PLANE_COMPONENTS}
REAL_TIMEOUT = 600
PREFIX = "bench-"
FLOOR_NAMESPACE = f"vc-{PREFIX}floor-"
FIELD_MANAGER = "gpve-bench-floor"


def running_testbed(node_mode, env_file):
    """The testbed of env_file if its nodes are of node_mode, else None."""
    if env_file and Path(env_file).is_file():
        testbed = Testbed.load(Path(env_file).parent)
        if testbed.node_mode == node_mode:
            testbed.ensure_running()
            return testbed
    return None


def testbeds():
    """(stand-in testbed, real testbed, those started here): 100 vClusters' control planes need far more nodes than
    real machines here give, so the scale run's Nodes are stand-ins; the real run needs real ones."""
    started = []
    standin = (running_testbed(STANDIN, os.environ.get("GPVE_BENCH_STANDIN_ENV"))
               or running_testbed(STANDIN, os.environ.get("GPVE_TESTBED_ENV")))
    if standin is None:
        standin = Testbed.create(Path(tempfile.mkdtemp(prefix="gpve-bench-standin-")), nodes=3, node_mode=STANDIN)
        started.append(standin)
    real = running_testbed(REAL, os.environ.get("GPVE_TESTBED_ENV"))
    if real is None:
        real = Testbed.create(Path(tempfile.mkdtemp(prefix="gpve-bench-testbed-")))
        started.append(real)
    return standin, real, started


def reclaim_volumes(testbed):
    """The volumes earlier runs' claims left Released go back to the pool (a full run binds 105 of 224)."""
    from kubernetes import config
    api = config.new_client_from_config(testbed.kubeconfig)
    try:
        return storage_pool.reclaim_released(api, namespace_prefix=f"vc-{PREFIX}")
    finally:
        api.close()


def plays(testbed, registry, work):
    """play(vcluster_names, state, forks, options=None) -> seconds: one gpve_vcluster task per vCluster (an inventory
    host each, local connection) on testbed's host cluster with the registry; fails the bench when the play fails."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build/collections"), ANSIBLE_HOME=str(work / "home"),
               ANSIBLE_LOCAL_TEMP=str(work / "tmp"), ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="0",
               GPVE_HOST_CLUSTER_KUBECONFIG=testbed.kubeconfig, GPVE_REGISTRY=registry)

    def play(vcluster_names, state, forks, options=None):
        options = options or {"storage": {"size": STORAGE_SIZE}, "resources": RESOURCES, "wait_timeout": 900}
        inventory, playbook = write_play(work, vcluster_names, state, options)
        started = time.perf_counter()
        done = subprocess.run([str(REPO / ".venv/bin/ansible-playbook"), "-i", str(inventory), "-f", str(forks),
                               str(playbook)], env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            sys.stderr.write(failures(done.stdout) + done.stderr[-2000:])
            raise SystemExit(f"the {state} play failed")
        return elapsed

    return play


def write_play(work, vcluster_names, state, options):
    inventory = work / f"inventory-{state}.ini"
    interpreter = REPO / ".venv" / "bin" / "python"
    inventory.write_text("[vclusters]\n" + "".join(
        f"{name} ansible_connection=local ansible_python_interpreter={interpreter}\n" for name in vcluster_names))
    playbook = work / f"play-{state}.yml"
    task = {"gpve.cluster.gpve_vcluster": dict(options, name="{{ inventory_hostname }}", state=state)}
    playbook.write_text(json.dumps([{"hosts": "vclusters", "gather_facts": False, "tasks": [task]}]))
    return inventory, playbook


def failures(play_output):
    """The failed tasks' lines of a play's output (each host's fatal line), else its end."""
    fatal = [line for line in play_output.splitlines() if line.startswith("fatal:")]
    return "\n".join(fatal[:10]) + "\n" if fatal else play_output[-5000:]


def module_seconds(registry, vcluster_names):
    """Per vCluster from the registry: (registration to Running, of which waiting for the pods).

    The wait is the time between the Starting and Running transitions: the host's
    controllers, scheduler and the node stand-in at work. The rest is the module's own.
    """
    with open_registry(registry) as store:
        clusters = [store.get_cluster_by_name(name) for name in vcluster_names]
        not_running = [c.name for c in clusters if c.status.phase != "Running"]
        if not_running:
            raise SystemExit(f"not Running after the play: {', '.join(not_running)}")
        timings = []
        for cluster in clusters:
            entered = {event.metadata.get("to"): event.timestamp
                       for event in store.list_events(cluster.id, type="Transition", limit=20)}
            total = (cluster.status.ready_at - cluster.created_at).total_seconds()
            timings.append((total, (entered["Running"] - entered["Starting"]).total_seconds()))
    return timings


def stage_medians(registry, vcluster_names):
    """Median seconds from entering each phase to the next one, over the named vClusters: where the time goes."""
    stages = {}
    with open_registry(registry) as store:
        for name in vcluster_names:
            cluster = store.get_cluster_by_name(name)
            moves = sorted((event.timestamp, event.metadata.get("to"))
                           for event in store.list_events(cluster.id, type="Transition", limit=20))
            for (entered, phase), (left, _next) in zip(moves, moves[1:]):
                stages.setdefault(phase, []).append((left - entered).total_seconds())
    order = ("Pending", "Provisioning", "Initializing", "Starting")
    return ", ".join(f"{phase} {statistics.median(stages[phase]):.2f}s" for phase in order if phase in stages)


def describe(timings):
    totals = [timing[0] for timing in timings]
    own = [total - waited for total, waited in timings]
    return statistics.median(totals), statistics.median(own), max(totals)


def leftovers(testbed, registry, prefix):
    """(namespaces, cluster roles, live registry entries) the bench's vClusters left (names starting with prefix)."""
    client = connect(host_kubeconfig=testbed.kubeconfig)
    try:
        resources = Resources(client)
        namespaces = [n["metadata"]["name"] for n in resources.list("Namespace") if n["metadata"]["name"].startswith(prefix)]
        roles = [r["metadata"]["name"] for r in resources.list("ClusterRole") if r["metadata"]["name"].startswith(prefix)]
    finally:
        client.close()
    with open_registry(registry) as store:
        live = store.count_clusters(type="vcluster")
    return namespaces, roles, live


def scale_run(testbed, size, work):
    """The stand-in testbed's run: singles one after another, then COUNT by one play; returns the overhead median."""
    registry = str(work / "registry.db")
    play = plays(testbed, registry, work)
    singles = [f"{PREFIX}single-{index}" for index in range(size["single"])]
    walls = [play([name], "present", 1) for name in singles]
    total, own, _longest = describe(module_seconds(registry, singles))
    print(f"single: {len(singles)} vClusters, ansible wall median {statistics.median(walls):.2f}s, "
          f"module (registered -> Running) median {total:.2f}s, of it the module's own work {own:.2f}s")
    play(singles, "absent", size["forks"])

    vcluster_names = [f"{PREFIX}{index:03d}" for index in range(size["count"])]
    wall = play(vcluster_names, "present", size["forks"])
    median, own, longest = describe(module_seconds(registry, vcluster_names))
    print(f"play: {len(vcluster_names)} vClusters with {size['forks']} forks on stand-in nodes in {wall:.1f}s, all Running; "
          f"module (registered -> Running) median {median:.2f}s, max {longest:.2f}s; "
          f"module overhead (without the wait for the pods) median {own:.2f}s")
    print(f"stages (median time in each phase): {stage_medians(registry, vcluster_names)}")
    removal = play(vcluster_names, "absent", size["forks"])
    namespaces, roles, live = leftovers(testbed, registry, f"vc-{PREFIX}")
    print(f"delete play: {removal:.1f}s; left behind: {len(namespaces)} namespaces, {len(roles)} cluster roles, "
          f"{live} live registry entries")
    if namespaces or roles or live:
        raise SystemExit("objects were left behind")
    return own


# The real run ---------------------------------------------------------------------------------


def real_options(testbed):
    """The module's options for the real run, as the real control-plane test gives them."""
    return {"syncer": {"enabled": False}, "image_registry": testbed.env()["GPVE_TESTBED_IMAGE_REGISTRY"],
            "storage": {"storage_class": testbed.storage_class, "size": STORAGE_SIZE},
            "networking": {"expose": {"type": "NodePort"}}, "resources": REAL_RESOURCES}


def answering(kubeconfigs, timeout=REAL_TIMEOUT):
    """Wait until every kubeconfig's API server answers GET /readyz with 200 ok; seconds since the call."""
    from kubernetes import config
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError
    started = time.perf_counter()
    for path in kubeconfigs:
        api = config.new_client_from_config(str(path))
        try:
            while True:
                try:
                    answer = api.call_api("/readyz", "GET", auth_settings=["BearerToken"], _return_http_data_only=True,
                                          _preload_content=False, _request_timeout=5)
                    if answer.data == b"ok":
                        break
                except (ApiException, HTTPError, OSError):
                    pass
                if time.perf_counter() - started > timeout:
                    raise SystemExit(f"the virtual API server of {path} did not answer /readyz within {timeout}s")
                time.sleep(0.2)
        finally:
            api.close()
    return time.perf_counter() - started


def collection_side(testbed, vcluster_names, work):
    """One play creating every vCluster (a fork each), then /readyz through each returned kubeconfig: timings."""
    registry = str(work / "real-registry.db")
    play = plays(testbed, registry, work)
    kubeconfigs = [work / "kube" / f"{name}.kubeconfig" for name in vcluster_names]
    kubeconfigs[0].parent.mkdir(parents=True, exist_ok=True)
    options = dict(real_options(testbed), wait_timeout=REAL_TIMEOUT,
                   kubeconfig_dest=str(work / "kube" / "{{ inventory_hostname }}.kubeconfig"))
    try:
        created = play(vcluster_names, "present", len(vcluster_names), options)
        ready = answering(kubeconfigs)
        stages = stage_medians(registry, vcluster_names)
        module = max(total for total, _waited in module_seconds(registry, vcluster_names))
    finally:
        removal = play(vcluster_names, "absent", len(vcluster_names), options)
    namespaces, roles, live = leftovers(testbed, registry, f"vc-{PREFIX}real-")
    if namespaces or roles or live:
        raise SystemExit(f"the real run left behind: {namespaces} {roles} {live} live registry entries")
    return {"total": created + ready, "play": created, "readyz": ready, "stages": stages, "module": module, "removal": removal}


def floor_manifests(testbed, name, namespace, node_address):
    """(host objects in applying order, CoreDNS objects for inside, the PKI bundle) of one vCluster, rendered by the
    module's own code: its spec, PKI bundle, manifests and CoreDNS objects."""
    spec = build_spec(dict(real_options(testbed), name=name, namespace=namespace))
    # Before any Service exists: the endpoint's names are the node address (the cluster IP is not known yet).
    reach = endpoint.resolve(spec, None, node_address)
    params = layout.PkiParams(name=spec["name"], namespace=spec["namespace"], service_cidr=spec["networking"]["service_cidr"],
                              dns_domain=spec["networking"]["dns_domain"], extra_sans=tuple(reach.sans),
                              headless_service_name=names.headless_service(spec["name"]), algorithm=spec["pki"]["algorithm"])
    bundle = bundles.generate_bundle(params)
    objects = manifests.render(spec, bundles.secret_data(bundle),
                               bundles.vcluster_kubeconfig_data(bundle, reach.server, names.context(name)))
    return objects, coredns.objects(spec), bundle


def kubectl(testbed, *argv, kubeconfig=None, check=True):
    binary = Path(testbed.record["kube"]["bin_dir"]) / "kubectl"
    done = subprocess.run([str(binary), "--kubeconfig", kubeconfig or testbed.kubeconfig, *argv], capture_output=True,
                          text=True, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"kubectl {' '.join(argv)} failed: {done.stderr.strip()[-2000:]}")
    return done


def write_list(path, objects):
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    return str(path)


def floor_side(testbed, vcluster_names, work):
    """The same objects applied with kubectl and the same readiness: timings (rendering is not timed)."""
    connection = connect(host_kubeconfig=testbed.kubeconfig)
    try:
        node_address = host.first_node_address(Resources(connection))
    finally:
        connection.close()
    namespaces = [f"{FLOOR_NAMESPACE}{index}" for index in range(len(vcluster_names))]
    rendered = [floor_manifests(testbed, name, namespace, node_address) for name, namespace in zip(vcluster_names, namespaces)]
    objects = [obj for host_objects, _inside, _bundle in rendered for obj in host_objects]
    first = write_list(work / "floor-first.json", [obj for obj in objects if obj["kind"] in FIRST_KINDS])
    rest = write_list(work / "floor-rest.json", [obj for obj in objects if obj["kind"] not in FIRST_KINDS])
    inside_files = [write_list(work / f"floor-inside-{name}.json", inside)
                    for name, (_objects, inside, _bundle) in zip(vcluster_names, rendered)]
    apply = ("apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f")
    try:
        started = time.perf_counter()
        kubectl(testbed, *apply, first)
        # The host's admission refuses what a new quota covers until the quota controller has counted it.
        with ThreadPoolExecutor(max_workers=len(vcluster_names)) as pool:
            list(pool.map(lambda pair: kubectl(testbed, "wait", "-n", pair[1], "--for=jsonpath={.status.hard}",
                                               f"--timeout={REAL_TIMEOUT}s", f"resourcequota/{names.resource_quota(pair[0])}"),
                          zip(vcluster_names, namespaces)))
        kubectl(testbed, *apply, rest)
        applied = time.perf_counter() - started
        kubeconfigs = []
        for name, namespace, (_objects, _inside, bundle) in zip(vcluster_names, namespaces, rendered):
            port = kubectl(testbed, "get", "service", names.client_service(name), "-n", namespace, "-o",
                           "jsonpath={.spec.ports[0].nodePort}").stdout.strip()
            config = bundles.admin_kubeconfig(bundle, f"https://{node_address}:{port}", names.context(name))
            kubeconfigs.append(work / f"floor-{name}.kubeconfig")
            kubeconfigs[-1].write_text(json.dumps(config))
        ready = answering(kubeconfigs)
        answered = time.perf_counter() - started
        with ThreadPoolExecutor(max_workers=len(vcluster_names)) as pool:
            refused = list(pool.map(lambda pair: apply_inside(testbed, *pair), zip(kubeconfigs, inside_files)))
        total = time.perf_counter() - started
        return {"total": total, "apply": applied, "readyz": ready, "answered": answered, "inside": total - answered,
                "refused": [refusal for refusals in refused for refusal in refusals]}
    finally:
        kubectl(testbed, "delete", "namespace", *namespaces, "--ignore-not-found", "--wait=true", f"--timeout={REAL_TIMEOUT}s")


def apply_inside(testbed, kubeconfig, objects_file):
    """kubectl apply through the virtual API server, again while its kube-system namespace is not there yet."""
    deadline = time.perf_counter() + REAL_TIMEOUT
    refusals = []
    while True:
        done = kubectl(testbed, "apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", objects_file,
                       kubeconfig=str(kubeconfig), check=False)
        if done.returncode == 0:
            return refusals
        refusals.append(done.stderr.strip().splitlines()[-1:])
        if time.perf_counter() > deadline:
            raise SystemExit(f"applying CoreDNS inside through {kubeconfig} failed: {done.stderr.strip()[-2000:]}")
        time.sleep(0.2)


def real_run(testbed, count, work):
    """COUNT vClusters on the real node by the collection, then the floor: (collection timings, floor timings)."""
    vcluster_names = [f"{PREFIX}real-{index}" for index in range(count)]
    collection = collection_side(testbed, vcluster_names, work)
    floor = floor_side(testbed, vcluster_names, work)
    print(f"real: {count} vClusters on real nodes by one play in {collection['total']:.1f}s to every /readyz answering "
          f"(play {collection['play']:.1f}s, of it registration -> Running {collection['module']:.1f}s at most, the rest "
          f"Ansible around the module runs; then /readyz {collection['readyz']:.2f}s; median stages: {collection['stages']}); "
          f"delete play {collection['removal']:.1f}s, left behind: nothing")
    print(f"real floor: the same objects by kubectl in {floor['total']:.1f}s (applied {floor['apply']:.1f}s, "
          f"every /readyz answering {floor['answered']:.1f}s after the start, of it the wait {floor['readyz']:.1f}s; "
          f"then CoreDNS inside {floor['inside']:.1f}s, {len(floor['refused'])} applies refused and repeated"
          f"{': ' + str(floor['refused'][-1]) if floor['refused'] else ''})")
    print(f"real: collection / floor without CoreDNS inside (until /readyz only) "
          f"{collection['total'] / floor['answered']:.3f}")
    return collection["total"] / floor["total"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=os.environ.get("GPVE_BENCH_SIZE", "full"))
    size = SIZES[parser.parse_args().size]
    standin, real, started = testbeds()
    work = Path(tempfile.mkdtemp(prefix="gpve-bench-vcluster-"))
    try:
        for testbed in (standin, real):
            reclaimed = reclaim_volumes(testbed)
            if reclaimed:
                print(f"{reclaimed} Released volumes of earlier runs returned to a testbed's pool")
        own = scale_run(standin, size, work)
        real_ratio = real_run(real, size["real"], work)
        reclaim_volumes(real)
        print(f"real_ratio={real_ratio:.3f}")
        print(f"ratio={own / GOAL_SECONDS:.3f}")
    finally:
        for testbed in started:
            testbed.stop()


if __name__ == "__main__":
    main()
