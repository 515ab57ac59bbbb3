#!/usr/bin/python3
"""End-to-end tests of etcd-hooks: real etcd servers in the StatefulSet simulator.

    tests/e2e/run_e2e.py --series 3.5.30 [--hooks-bin build/hooks] [--keep] [--only NAME...]
                         [--keep-going] [--sanitizer-log DIR]
    tests/e2e/run_e2e.py --list-versions

Fetches the etcd server of that version and its etcdctl with tests/fetch-etcd, then runs
scenarios against pods built by sim/sim with the programs of --hooks-bin. The versions of
the matrix are in tests/e2e/versions (meson makes one test of each, run-tests fetches
them); --series takes any version tests/fetch-etcd knows (or a series: 3.5 = 3.5.16).
With --sanitizer-log DIR the programs must be an ASan and UBSan build (build-fuzz of
run-tests): every container and hook gets ASAN_OPTIONS and UBSAN_OPTIONS that write each
report to DIR (leaks included), and after each group, once its pods are gone, any report
fails it (result "sanitizers(FIRST-SCENARIO)").

  bootstrap-parallel  3 pods, podManagementPolicy Parallel; write keys
  restart-and-kill    (continues the cluster above) restart every pod gracefully in turn,
                      then SIGKILL one container; after each step: 3 started members with
                      the IDs of the bootstrap, the keys readable, no pod restarted twice
  scale-up-parallel   (continues) 3 -> 5 with Parallel: learners (3.4+) added one at a
                      time and promoted by etcd-promote
  volume-lost-scaled  (continues) delete-pvc 4, restart it: replaced with a new ID
  bootstrap-ordered   3 pods, OrderedReady
  scale-up-ordered    (continues) 3 -> 5 with OrderedReady
  volume-lost-initial (continues) delete-pvc 0, restart it while the others are healthy:
                      replaced with a new ID, no "already bootstrapped" crash loop
  removed-returns     (continues) etcd-4's member is removed behind its back; it comes
                      back with its old data, which is moved aside (quarantine, with a
                      reason), and joins again
  stale-members       (continues) scale 5 -> 3 with no preStop (the members of 3 and 4
                      dangle) and their volumes lost, then 3 -> 5: replaced, not dangling
  whole-restart       (continues) every pod deleted and created again with its data: the
                      same cluster comes back, nothing moved aside, no member changed
  poststart-killed    3 -> 4 with etcd-promote SIGKILLed half-way, four times: the
                      learner is promoted all the same
  crash-after-add     3 pods (Parallel) whose etcd crashes once right after a member add
                      (a wrapper first on PATH); scale to 4: the restarted container
                      reuses the unstarted member
  leave-5-3           3 pods (OrderedReady) scaled to 5 then 3: etcd-leave (preStop)
                      removes members 4 and 3, no member dangles, no data is lost
  leader-leaves       (continues) 3 -> 5, leadership moved to etcd-4, then 5 -> 3 while a
                      client writes: leadership is handed over before the removal and no
                      write fails after one retry
  leave-3-1           (continues) 3 -> 1: members 2 and 1 leave one by one, then 1 -> 3
  quorum-refused      (continues) etcd-1 frozen, 3 -> 2: removing etcd-2 would break
                      quorum, so etcd-leave refuses (exit 3) and the member stays
  replace-refused     (continues) etcd-1 frozen, etcd-2's volume lost: etcd-join refuses
                      to remove its old member (exit 3) before any snapshot; thawed,
                      the next start replaces it, a snapshot first
  no-churn            (continues) 3 -> 5; etcd-leave run twice by hand in etcd-4, restarts of
                      etcd-4 (above the initial size), one after a preStop killed after its
                      intent: the member is kept, not churned; then 5 -> 3
  wipe-refused        (continues) etcd-clean --wipe --force while etcd runs: refused
  scale-cycles        (continues) 3 -> 5 -> 3 three times: no leftovers, the quarantine
                      stays bounded
  bad-config          1 pod whose SET_NAME does not match its hostname, etcd-join 1 s
                      later than its postStart: the container exits 2, says why in one
                      line (log and termination message) and creates no data dir

Data safety (each failed before its fix; see the scenarios' docstrings):

  volume-lost-size1        size 1 scaled to 3, pod 0's volume lost: replaced, not a second
                           cluster
  volume-lost-peers-down   3 -> 5, pods 1 and 2 frozen, pod 0's volume lost: no bootstrap;
                           replaced once they return, every key kept
  whole-restart-lost-parallel, whole-restart-lost-ordered
                           a whole-cluster stop, pod 0's volume lost, its peers 8 s slow:
                           the survivors keep their data and IDs, pod 0 is replaced
  hostile-endpoints        200 with HTML, a member list that cannot be read, an untrusted
                           TLS certificate: never a bootstrap
  leave-foreign            (continues) etcd-leave against another cluster: refused
  policy-auto-api          (continues) the API hangs, answers 403, 404: the member stays
  forbidden-env            (continues) ETCD_INITIAL_CLUSTER_STATE on a scale-up: exit 2
                           before any add
  sigterm-wait             (continues) SIGTERM to a waiting etcd-join as PID 1: exit 143
  wipe-by-hand             (continues) --wipe with no peers, unresolvable names, a full
                           outage, a started member: refused, data kept
  join-fails-thrice        three failed joins after a quarantine: the member data stays,
                           --restore brings it back
  slow-start               a member added first whose etcd starts 15 s late: kept
  data-dir-not-on-volume   the data dir as the mount point, and off the volume: refused
  auth-on                  auth on after the bootstrap: 3 -> 5 -> 3 and a lost volume; no
                           password in argv, environment, logs or helper files
  annotation-keeps-formed  the StatefulSet's mark alone keeps a lost-volume member from
                           bootstrapping while its peers stay silent
  bootstrap-staggered      Parallel bootstrap with the pods 3 s apart: the first etcd's
                           mute client port does not hold the others up
  bootstrap-staggered-endpoints
                           (own cluster) the same with ETCDCTL_ENDPOINTS naming the pods
  restore-one-volume       (continues) a backup restored into one volume, another token:
                           the empty pods wait, they do not bootstrap beside it

After every step: every pod's member is started and voting, there are no other members,
the keys written at the start are readable, and untouched pods keep their member IDs.

Each version has its own cluster name (e2e + its digits: e2e3530), subnet (from
tests/e2e/versions) and state dir, so that the versions can run at the same time; another
--cluster gets a subnet derived from its name. 'sim down' runs after each scenario group,
also on failure, after the logs of the failed pods are printed.
Exit status: 0 all passed, 1 a scenario failed, 77 cannot run here (not root, no etcd).
"""

import argparse
import base64
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import signal
import tempfile
import threading
import time
import traceback
import zlib

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SIM = os.path.join(REPO, "sim", "sim")
FETCH = os.path.join(REPO, "tests", "fetch-etcd")
SKIP = 77
N = 3
OUR_LINE_PREFIXES = ("etcd-join:", "etcd-promote:", "etcd-leave:", "etcd-clean:", "[postStart]",
                     "[preStop]", "====")
WAIT = "90"  # seconds, the bound of each wait of the simulator (bootstrap takes ~3 s)
KEYS = {"e2e/key-%02d" % i: "value-%02d" % i for i in range(20)}


def read_matrix():
    """The servers of the e2e matrix (tests/e2e/versions): {version: subnet K}."""
    matrix = {}
    with open(os.path.join(HERE, "versions")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                version, k = line.split()
                matrix[version] = int(k)
    return matrix


MATRIX = read_matrix()


def say(msg):
    print(msg, flush=True)


class Failed(Exception):
    """A scenario's expectation did not hold."""


def expect(cond, msg):
    if not cond:
        raise Failed(msg)


class Sim:
    """sim/sim bound to one cluster."""

    def __init__(self, cluster, subnet, state, bins):
        self.base = [SIM, "--cluster", cluster, "--state", state]
        self.subnet, self.state, self.bins = subnet, state, bins
        self.bridge_ns = cluster + "-br"
        # the bridge's own address: what the tests start beside the pods listens there
        self.host_ip = "198.18.%d.1" % subnet
        self.helpers = []  # processes the scenarios started in the bridge namespace
        self.env = []  # KEY=VALUE for every container and hook of every 'up'

    def ip(self, i):
        return "198.18.%d.%d" % (self.subnet, 10 + i)

    def run(self, *args, check=True, timeout=300):
        """Run a sim command with its output shown; return its exit status."""
        say("$ sim %s" % " ".join(args))
        try:
            rc = subprocess.run(self.base + list(args), timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            raise Failed("sim %s did not finish within %d s" % (" ".join(args), timeout))
        if check and rc != 0:
            raise Failed("sim %s failed (exit %d)" % (" ".join(args), rc))
        return rc

    def timed(self, *args):
        t0 = time.monotonic()
        self.run(*args)
        return time.monotonic() - t0

    def output(self, *args, timeout=60):
        p = subprocess.run(self.base + list(args), capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise Failed("sim %s failed (exit %d): %s" % (" ".join(args), p.returncode,
                                                          p.stderr.strip()[-2000:]))
        return p.stdout

    def up(self, *args):
        env = [x for kv in self.env for x in ("--env", kv)]
        return self.timed("up", *args, *env, "--timeout", WAIT, "--subnet", str(self.subnet),
                          "--hooks-bin", self.bins["hooks"], "--etcd-bin", self.bins["etcd"],
                          "--etcdctl", self.bins["etcdctl"])

    def down(self):
        self.stop_helpers()
        self.run("down", check=False, timeout=180)

    def start_helper(self, argv, log_name):
        """Start argv in the bridge's namespace (a foreign etcd, a hostile server), output to
        STATE/log_name; stopped by stop_helpers() and by down()."""
        os.makedirs(self.state, exist_ok=True)
        log = open(os.path.join(self.state, log_name), "ab")
        p = subprocess.Popen(["ip", "netns", "exec", self.bridge_ns] + argv, stdout=log,
                             stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        self.helpers.append(p)
        return p

    def stop_helpers(self):
        for p in self.helpers:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        self.helpers = []

    def exec(self, i, *argv, timeout=120):
        """Run argv in pod i; return (exit status, stdout, stderr)."""
        p = subprocess.run(self.base + ["exec", str(i), "--"] + list(argv), capture_output=True,
                           text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def cluster_ids(self, ordinals):
        """The cluster ID each pod's etcd reports, {ordinal: ID}."""
        ids = {}
        for i in ordinals:
            ep = "http://198.18.%d.%d:2379" % (self.subnet, 10 + i)
            st = self.etcdctl_json("endpoint", "status", "--endpoints", ep)
            ids[i] = st[0]["Status"]["header"]["cluster_id"]
        return ids

    def pods(self):
        return json.loads(self.output("status", "--json", "--pods"))["pods"]

    def etcdctl_json(self, *args):
        return json.loads(self.output("etcdctl", *args, "-w", "json"))

    def members(self):
        return self.etcdctl_json("member", "list")["members"]

    def volume(self, i):
        return os.path.join(self.state, "volumes", str(i))

    def pod_log(self, i, name="container.log"):
        try:
            with open(os.path.join(self.state, "pods", str(i), name), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def print_failed_logs(self):
        """The container and kubelet logs of pods that are not well (all if none is)."""
        try:
            pods = {p["ordinal"]: p for p in self.pods()}
        except Exception as e:  # the cluster may be half gone
            say("(no pod status: %s)" % e)
            pods = {}
        ordinals = sorted(int(d) for d in os.listdir(os.path.join(self.state, "pods"))
                          if d.isdigit()) if os.path.isdir(os.path.join(self.state, "pods")) else []
        failed = [i for i in ordinals if i not in pods or not pods[i].get("ready")
                  or pods[i].get("restartCount") or pods[i].get("lastExitCode") is not None]
        for i in failed or ordinals:
            log = self.pod_log(i).splitlines(True)
            ours = [l for l in log if l.startswith(OUR_LINE_PREFIXES)]
            say("\n======== pod %d: %s" % (i, json.dumps(pods.get(i, "deleted"))))
            say("-------- kubelet.log (end)\n" + "".join(self.pod_log(i, "kubelet.log").splitlines(True)[-30:]))
            say("-------- container.log: the lines of etcd-hooks and the simulator\n" + "".join(ours[-80:]))
            if log[-60:] != ours[-60:]:
                say("-------- container.log (end)\n" + "".join(log[-60:]))


# ----------------------------------------------------------------------------------------
# Checks


def check_members(sim, want_ids=None, n=N):
    """n started voting members etcd-0..n-1 and no other; return {name: ID}. want_ids, a
    {name: ID} of members that must have kept their IDs, is checked too."""
    members = sim.members()
    names = sorted(m.get("name", "") for m in members)
    expect(len(members) == n, "want %d members, member list has %d: %s" % (n, len(members), names))
    # started = has published its client URLs: an initial member that never ran already
    # has the name that --initial-cluster gave it
    expect(all(m.get("name") and m.get("clientURLs") for m in members),
           "unstarted members: %s" % members)
    expect(not any(m.get("isLearner") for m in members), "learners left: %s" % members)
    expect(names == sorted("etcd-%d" % i for i in range(n)), "member names %s" % names)
    ids = {m["name"]: m["ID"] for m in members}
    for name, want in (want_ids or {}).items():
        expect(ids.get(name) == want, "the member ID of %s changed: %x -> %s" % (
            name, want, "%x" % ids[name] if name in ids else "gone"))
    return ids


def write_keys(sim):
    for k, v in KEYS.items():
        sim.output("etcdctl", "put", k, v)


def check_keys(sim):
    got = sim.etcdctl_json("get", "e2e/", "--prefix")
    kvs = {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]).decode()
           for kv in got.get("kvs", [])}
    expect(kvs == KEYS, "keys differ: want %d, got %d (%s)" % (len(KEYS), len(kvs),
                                                              sorted(set(KEYS) ^ set(kvs))[:5]))


def check_restarts(sim, at_most=1):
    for p in sim.pods():
        expect(p.get("restartCount", 0) <= at_most, "%s restarted %d times (at most %d): last exit %s, %r"
               % (p["name"], p["restartCount"], at_most, p.get("lastExitCode"),
                  p.get("terminationMessage")))


def check_all(sim, ids, n=N):
    ids = check_members(sim, ids, n)
    check_keys(sim)
    check_restarts(sim)
    return ids


def without(ids, *names):
    return {k: v for k, v in ids.items() if k not in names}


def pod(sim, i):
    return [p for p in sim.pods() if p["ordinal"] == i][0]


def log_has(sim, i, text):
    return text in sim.pod_log(i)


def expect_left(sim, i):
    """etcd-leave removed pod i's member: its log says so, or, when the kubelet killed the
    hook as etcd exited right after the removal, its tombstone records the removal."""
    tomb = os.path.join(sim.volume(i), ".etcd-hooks", "tombstone")
    expect(log_has(sim, i, "etcd-leave: info: removed this member") or os.path.exists(tomb),
           "etcd-%d's preStop did not remove its member (no log line, no tombstone)" % i)


def quarantined(sim, i):
    """The entries of pod i's quarantine folder."""
    q = os.path.join(sim.volume(i), ".etcd-hooks", "quarantine")
    return sorted(os.listdir(q)) if os.path.isdir(q) else []


# ----------------------------------------------------------------------------------------
# Scenarios: each gets the Sim and a dict of timings to fill


def bootstrap_parallel(sim, times, ctx):
    times["bootstrap 3, Parallel"] = sim.up(str(N), "--parallel")
    ctx["ids"] = check_members(sim)
    write_keys(sim)
    check_keys(sim)
    check_restarts(sim, at_most=0)


def bootstrap_staggered(sim, times, ctx):
    """Parallel bootstrap of 3 with the pods 3 s apart: the last one hears both and
    bootstraps first; the two waiting then find its client port taking connections and
    answering nothing (etcd serves clients only once its cluster formed). Its peer port
    says it is bootstrapping, so that is no cluster: one of them at least bootstraps too,
    the cluster forms, and the last one, if it finds it formed, starts as its member."""
    times["bootstrap 3, Parallel, pods 3 s apart"] = sim.up(
        str(N), "--parallel", "--start-delay=1=3", "--start-delay=2=6")
    ctx["ids"] = check_members(sim)
    new = [i for i in range(N) if "initial_cluster_state=new" in sim.pod_log(i)]
    expect(2 in new and len(new) >= 2, "bootstrapped: %s; etcd-2 and one other expected" % new)
    for i in set(range(N)) - set(new):
        expect("action=reuse initial_cluster_state=existing" in sim.pod_log(i),
               "etcd-%d neither bootstrapped nor started as the formed cluster's member" % i)
    write_keys(sim)
    check_keys(sim)
    one_cluster(sim, N)
    check_restarts(sim, at_most=0)


def bootstrap_staggered_endpoints(sim, times, ctx):
    """The same, with ETCDCTL_ENDPOINTS naming the pods' own client URLs (an etcdctl habit):
    the URL of the pod found bootstrapping gets the same excuse, so it still forms."""
    sim.down()
    eps = ",".join("http://etcd-%d.etcd.default.svc.cluster.local:2379" % i for i in range(N))
    times["bootstrap 3, Parallel, pods 3 s apart, --endpoints"] = sim.up(
        str(N), "--parallel", "--start-delay=1=3", "--start-delay=2=6",
        "--env", "ETCDCTL_ENDPOINTS=" + eps)
    ctx["ids"] = check_members(sim)
    expect("initial_cluster_state=new" in sim.pod_log(2), "etcd-2 did not bootstrap")
    one_cluster(sim, N)
    check_restarts(sim, at_most=0)


def restore_one_volume(sim, times, ctx):
    """A backup restored into one volume (etcdutl or etcdctl snapshot restore, another
    token), the other two empty, nothing that says the set formed: the restored member's
    peer port lists its members unstarted and its client port is mute until it has
    quorum, like a bootstrapping etcd; but its cluster ID is not this set's bootstrap's.
    The empty pods must not bootstrap beside it (a second cluster, the backup stranded)."""
    if "ids" not in ctx:
        sim.up(str(N), "--parallel")
        ctx["ids"] = check_members(sim)
        write_keys(sim)
    d = tempfile.mkdtemp(prefix="etcd-hooks-e2e-restore-", dir="/var/tmp")
    ctx.setdefault("cleanups", []).append(lambda: shutil.rmtree(d, ignore_errors=True))
    etcdutl = os.path.join(sim.bins["etcd"], "etcdutl")
    tool = etcdutl if os.access(etcdutl, os.X_OK) else sim.bins["etcdctl"]
    env = dict(os.environ, ETCDCTL_API="3")
    subprocess.run(["ip", "netns", "exec", sim.bridge_ns, sim.bins["etcdctl"], "--endpoints",
                    "http://%s:2379" % sim.ip(0), "snapshot", "save", d + "/backup.db"],
                   env=env, check=True, capture_output=True, timeout=60)
    sim.run("scale", "0", "--no-prestop", "--timeout", WAIT)
    for i in range(N):
        sim.run("delete-pvc", str(i))
    if os.path.exists(os.path.join(sim.state, "annotations.json")):
        os.unlink(os.path.join(sim.state, "annotations.json"))
    initial = ",".join("etcd-%d=http://etcd-%d.etcd.default:2380" % (i, i) for i in range(N))
    os.makedirs(sim.volume(1), exist_ok=True)
    p = subprocess.run([tool, "snapshot", "restore", d + "/backup.db", "--name", "etcd-1",
                        "--initial-cluster", initial, "--initial-cluster-token", "restored",
                        "--initial-advertise-peer-urls", "http://etcd-1.etcd.default:2380",
                        "--data-dir", os.path.join(sim.volume(1), "default.etcd")],
                       env=env, capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, "%s snapshot restore: %s" % (os.path.basename(tool), p.stderr[-500:]))
    sim.run("scale", str(N), "--no-wait", "--start-delay=0=6", "--start-delay=2=6",
            "--timeout", WAIT)
    marks = {i: len(sim.pod_log(i)) for i in (0, 2)}
    time.sleep(25)  # they start after 6 s; before the fix they bootstrapped at once
    for i in (0, 2):
        never_bootstrapped(sim, i, marks[i], "beside a member restored from a backup")
        expect("cannot tell whether a cluster is there" in since(sim, i, marks[i]),
               "etcd-%d does not say why it waits: %r" % (i, since(sim, i, marks[i])[-800:]))
    expect(os.path.isdir(os.path.join(sim.volume(1), "default.etcd", "member", "wal")),
           "the restored data of etcd-1 is gone")
    expect("initial_cluster_state=new" not in sim.pod_log(1).split("container etcd start")[-1],
           "etcd-1 bootstrapped instead of starting on the restored data")
    ctx.pop("ids", None)


def poststart_killed(sim, times, ctx):
    """3 -> 4 with etcd-3's postStart (etcd-promote) SIGKILLed within 0.5 s, four times:
    the kubelet kills the container, etcd restarts on the learner's data, and the new
    postStart must still find the learner (a restarted etcd replaying its log lists the
    earlier etcd-3 with its peer URL for a moment) and promote it. The chaos soak found it
    stuck as a learner on 3.5.30."""
    if "ids" not in ctx:
        sim.up(str(N))
        ctx["ids"] = check_members(sim)
        write_keys(sim)
    for k in range(4):
        sim.run("scale", "4", "--no-wait", "--timeout", WAIT)
        killed = sim.run("kill-hook", "3", "--hook", "postStart", "--within", "0.5",
                         "--seed", str(k), "--timeout", "60", check=False) == 0
        # The kubelet kills the container of a failed postStart: wait until it is back, or
        # a scale-down meanwhile deletes a pod whose preStop never runs (an etcd 3.3 that
        # the SIGTERM meets while it starts takes the whole 30 s grace to go).
        deadline = time.monotonic() + int(WAIT)
        while killed and time.monotonic() < deadline:
            p = pod(sim, 3)
            if p["restartCount"] >= 1 and p["ready"]:
                break
            time.sleep(0.5)
        expect(not killed or (pod(sim, 3)["restartCount"] >= 1 and pod(sim, 3)["ready"]),
               "etcd-3's container did not come back after its postStart was killed: %s"
               % pod(sim, 3))
        times["scale 3 -> 4, postStart killed (%d)" % (k + 1)] = sim.timed(
            "scale", "4", "--timeout", WAIT)
        check_members(sim, without(ctx["ids"], "etcd-3"), 4)
        check_keys(sim)
        sim.run("scale", "3", "--timeout", WAIT)
    ctx["ids"] = check_members(sim, ctx["ids"], N)


def restart_and_kill(sim, times, ctx):
    ids = ctx["ids"]
    for i in range(N):
        times["restart etcd-%d" % i] = sim.timed("restart", str(i), "--timeout", WAIT)
        check_all(sim, ids)
        pod = [p for p in sim.pods() if p["ordinal"] == i][0]
        expect(pod["restartCount"] == 0, "recreated etcd-%d has restartCount %d" % (i, pod["restartCount"]))
    times["kill etcd-1"] = sim.timed("kill", "1", "--timeout", WAIT)
    check_all(sim, ids)
    pod = [p for p in sim.pods() if p["ordinal"] == 1][0]
    expect(pod["restartCount"] == 1, "killed etcd-1 has restartCount %d" % pod["restartCount"])


def scale_up(sim, times, ctx, policy):
    times["scale 3 -> 5, %s" % policy] = sim.timed("scale", "5", "--timeout", WAIT)
    ctx["ids"] = check_all(sim, ctx["ids"], 5)
    for i in (3, 4):
        expect(log_has(sim, i, "decision: add"), "etcd-%d did not decide 'add'" % i)
        expect(pod(sim, i)["restartCount"] == 0, "etcd-%d restarted" % i)
    if ctx["learners"]:
        for i in (3, 4):
            expect(log_has(sim, i, "as a learner"), "etcd-%d was not added as a learner" % i)
            expect(log_has(sim, i, "etcd-promote: info: promoted this member"),
                   "etcd-%d was not promoted by etcd-promote" % i)


def scale_up_parallel(sim, times, ctx):
    scale_up(sim, times, ctx, "Parallel")


def scale_up_ordered(sim, times, ctx):
    scale_up(sim, times, ctx, "OrderedReady")


def check_snapshot(sim, i, what):
    """A snapshot taken before a membership change is on pod i's volume, and etcd's own
    tool opens it (etcdutl from 3.6, etcdctl before) with the keys written at the start."""
    d = os.path.join(sim.volume(i), ".etcd-hooks", "snapshots")
    names = sorted(n for n in os.listdir(d) if n.endswith(".db")) if os.path.isdir(d) else []
    expect(names, "no snapshot on etcd-%d's volume before %s (log: %r)"
           % (i, what, [l for l in sim.pod_log(i).splitlines() if "snapshot" in l][-3:]))
    etcdutl = os.path.join(sim.bins["etcd"], "etcdutl")
    tool = etcdutl if os.access(etcdutl, os.X_OK) else sim.bins["etcdctl"]
    p = subprocess.run([tool, "snapshot", "status", os.path.join(d, names[-1]), "-w", "json"],
                       env=dict(os.environ, ETCDCTL_API="3"), capture_output=True, text=True,
                       timeout=60)
    expect(p.returncode == 0, "%s snapshot status %s: %s" % (os.path.basename(tool), names[-1],
                                                             (p.stderr or p.stdout)[-400:]))
    status = json.loads(p.stdout)
    expect(status.get("totalKey", 0) >= len(KEYS), "the snapshot %s holds %s keys, want %d or more"
           % (names[-1], status.get("totalKey"), len(KEYS)))
    expect("-cluster" in names[-1] and "-rev" in names[-1], "snapshot name %s" % names[-1])


def volume_lost(sim, times, ctx, i):
    """delete-pvc i and restart it: the member is replaced (new ID), the rest unchanged."""
    old = ctx["ids"]["etcd-%d" % i]
    sim.run("delete-pvc", str(i))
    times["volume lost, replace etcd-%d" % i] = sim.timed("restart", str(i), "--timeout", WAIT)
    ids = check_all(sim, without(ctx["ids"], "etcd-%d" % i), 5)
    expect(ids["etcd-%d" % i] != old, "etcd-%d kept its old member ID %x" % (i, old))
    expect(log_has(sim, i, "decision: replace"), "etcd-%d did not decide 'replace'" % i)
    expect(log_has(sim, i, "removed this member's old entry"), "etcd-%d did not remove its old member" % i)
    check_snapshot(sim, i, "the replacement")
    expect(pod(sim, i)["restartCount"] == 0, "etcd-%d crash-looped: restartCount %d"
           % (i, pod(sim, i)["restartCount"]))
    ctx["ids"] = ids


def volume_lost_scaled(sim, times, ctx):
    volume_lost(sim, times, ctx, 4)


def volume_lost_initial(sim, times, ctx):
    volume_lost(sim, times, ctx, 0)


def removed_returns(sim, times, ctx):
    """etcd-4's member is removed while it runs: its etcd exits; the kubelet restarts the
    container; etcd-join moves the old data aside and joins again."""
    old = ctx["ids"]["etcd-4"]
    before = pod(sim, 4)["restartCount"]
    remove_member_by_hand(sim, old, [i for i in range(5) if i != 4])
    t0 = time.monotonic()
    deadline = t0 + float(WAIT)
    while pod(sim, 4)["restartCount"] == before:
        expect(time.monotonic() < deadline, "etcd-4 did not restart after its removal")
        time.sleep(0.2)
    sim.run("scale", "5", "--timeout", WAIT)  # no change: waits for a healthy cluster of 5
    times["removed member rejoins"] = time.monotonic() - t0
    ids = check_all(sim, without(ctx["ids"], "etcd-4"), 5)
    expect(ids["etcd-4"] != old, "etcd-4 kept its removed member ID")
    expect(log_has(sim, 4, "decision: quarantine"), "etcd-4 did not move its data aside")
    q = quarantined(sim, 4)
    expect(len(q) == 1 and q[0].endswith("-removed"), "quarantine of etcd-4: %s" % q)
    entry = os.path.join(sim.volume(4), ".etcd-hooks", "quarantine", q[0])
    with open(os.path.join(entry, "reason")) as f:
        reason = f.read()
    expect("reason=" in reason and "does not list this member" in reason, "reason file: %r" % reason)
    expect(os.path.isdir(os.path.join(entry, "default.etcd", "member", "wal")),
           "the old data is not in the quarantine: %s" % os.listdir(entry))
    ctx["ids"] = ids


def stale_members(sim, times, ctx):
    """5 -> 3 with no preStop: members 3 and 4 dangle; their volumes are lost; 3 -> 5
    replaces them."""
    sim.run("scale", "3", "--no-prestop", "--no-wait", "--timeout", WAIT)
    expect(len(sim.members()) == 5, "scale-down without preStop removed members")
    for i in (3, 4):
        sim.run("delete-pvc", str(i))
    times["scale 3 -> 5 over stale members"] = sim.timed("scale", "5", "--timeout", WAIT)
    ids = check_all(sim, without(ctx["ids"], "etcd-3", "etcd-4"), 5)
    for i in (3, 4):
        expect(ids["etcd-%d" % i] != ctx["ids"]["etcd-%d" % i], "etcd-%d kept its ID" % i)
    expect(log_has(sim, 3, "decision: replace"), "etcd-3 did not replace its member")
    # OrderedReady: etcd-4's stale voter blocks etcd-3's add (strict reconfiguration) and
    # etcd-4 does not run yet, so etcd-3 removes it; Parallel: etcd-4 may replace it first.
    expect(log_has(sim, 4, "decision: replace")
           or log_has(sim, 3, "removed the stale member 'etcd-4'"),
           "etcd-4's stale member was neither replaced by etcd-4 nor removed by etcd-3")
    if log_has(sim, 3, "removed the stale member 'etcd-4'"):
        # a snapshot first: a new one, or the replacement's a moment ago (one per 10 min)
        expect(log_has(sim, 3, "snapshot before the stale member's removal"),
               "etcd-3 removed the stale member without a snapshot first")
        check_snapshot(sim, 3, "the stale member's removal")
    ctx["ids"] = ids


def whole_restart(sim, times, ctx):
    """Every pod deleted, then created again with its data: nothing changes."""
    before = {i: quarantined(sim, i) for i in range(5)}
    sim.run("scale", "0", "--timeout", WAIT)
    times["whole cluster back"] = sim.timed("scale", "5", "--timeout", WAIT)
    check_all(sim, ctx["ids"], 5)
    for i in range(5):
        expect(quarantined(sim, i) == before[i], "etcd-%d moved data aside" % i)
        expect(pod(sim, i)["restartCount"] == 0, "etcd-%d restarted" % i)


CRASH_WRAPPER = """#!/bin/sh
# e2e: this etcd crashes once, right after a member add (the first start with 'existing')
for a in "$@"; do
	case "$a" in
	--initial-cluster-state=existing)
		if [ ! -e /var/run/etcd/.e2e-crashed ]; then
			: > /var/run/etcd/.e2e-crashed
			echo "e2e wrapper: crashing once after the add" >&2
			exit 1
		fi;;
	esac
done
exec %s "$@"
"""


def crash_after_add(sim, times, ctx):
    wrap = tempfile.mkdtemp(prefix="etcd-hooks-e2e-", dir="/var/tmp")
    ctx["cleanup"] = lambda: shutil.rmtree(wrap, ignore_errors=True)
    with open(os.path.join(wrap, "etcd"), "w") as f:
        f.write(CRASH_WRAPPER % os.path.join(sim.bins["etcd"], "etcd"))
    os.chmod(os.path.join(wrap, "etcd"), 0o755)
    sim.up(str(N), "--parallel", "--path-prepend", wrap)
    ids = check_members(sim)
    write_keys(sim)
    times["crash after add, scale 3 -> 4"] = sim.timed("scale", "4", "--timeout", WAIT)
    ids4 = check_all(sim, ids, 4)
    expect(pod(sim, 3)["restartCount"] == 1, "etcd-3 restartCount %d, want 1 (one crash)"
           % pod(sim, 3)["restartCount"])
    expect(log_has(sim, 3, "e2e wrapper: crashing once"), "the wrapper did not crash etcd-3")
    expect(log_has(sim, 3, "decision: reuse"), "etcd-3 did not reuse its unstarted member")
    added = [l for l in sim.pod_log(3).splitlines() if "added this member id=" in l]
    expect(len(added) == 1, "etcd-3 added itself %d times: %s" % (len(added), added))
    expect("id=%x " % ids4["etcd-3"] in added[0] + " ", "etcd-3 runs as another member than it added")


def bootstrap_ordered(sim, times, ctx):
    times["bootstrap 3, OrderedReady"] = sim.up(str(N))
    ctx["ids"] = check_members(sim)
    write_keys(sim)
    check_keys(sim)
    check_restarts(sim, at_most=0)


SLOW_JOIN_WRAPPER = """#!/bin/sh
# e2e: etcd-join starts 1 s late (a loaded node), after its postStart hook
sleep 1
exec %s "$@"
"""


def bad_config(sim, times, ctx):
    """etcd-promote (postStart) meets the same error as etcd-join and would fail first when
    etcd-join starts late: the kubelet would then kill the container, exit 143, no message
    (seen on a loaded CI machine). The wrapper makes etcd-join 1 s late every time."""
    wrap = wrapper(ctx, SLOW_JOIN_WRAPPER % os.path.join(sim.bins["hooks"], "etcd-join"),
                   "etcd-join")
    sim.up("1", "--env", "SET_NAME=wrong", "--no-wait", "--path-prepend", wrap)
    deadline = time.monotonic() + 30
    while True:
        pod = sim.pods()[0]
        if pod.get("lastExitCode") is not None:
            break
        expect(time.monotonic() < deadline, "the container did not exit within 30 s: %s" % pod)
        time.sleep(0.2)
    say("pod: exit %s, message %r" % (pod["lastExitCode"], pod["terminationMessage"]))
    expect(pod["lastExitCode"] == 2, "exit code %s, want 2 (configuration error)" % pod["lastExitCode"])
    message = pod["terminationMessage"]
    expect(message, "empty termination message")
    expect("\n" not in message, "termination message has several lines: %r" % message)
    log_lines = [line.strip() for line in sim.pod_log(0).splitlines()]
    expect(message in log_lines, "the message %r is not a line of the container log" % message)
    expect("wrong" in message, "the message %r does not name the bad SET_NAME" % message)
    data_dir = os.path.join(sim.volume(0), "default.etcd")
    expect(not os.path.exists(data_dir), "a data dir was created: %s" % os.listdir(sim.volume(0)))


def leave_5_3(sim, times, ctx):
    times["bootstrap 3, OrderedReady"] = sim.up(str(N))
    ids = check_members(sim)
    write_keys(sim)
    sim.run("scale", "5", "--timeout", WAIT)
    ids5 = check_all(sim, ids, 5)
    times["scale 5 -> 3 (preStop etcd-leave)"] = sim.timed("scale", "3", "--timeout", WAIT)
    ctx["ids"] = check_all(sim, without(ids5, "etcd-3", "etcd-4"), 3)
    for i in (3, 4):
        expect(log_has(sim, i, "scale-down, this member leaves"),
               "etcd-%d's preStop did not see the scale-down" % i)
        expect_left(sim, i)
        check_snapshot(sim, i, "the removal")


class Writer(threading.Thread):
    """A client that keeps writing, each write retried once; counts what failed after the
    retry."""

    def __init__(self, sim):
        super().__init__(daemon=True)
        self.sim, self.stop, self.written, self.failed, self.errors = sim, False, {}, 0, []

    def put(self, key, value):
        p = subprocess.run(self.sim.base + ["etcdctl", "put", key, value, "--command-timeout=3s"],
                           capture_output=True, text=True, timeout=30)
        return p.returncode == 0, p.stderr.strip()[-300:]

    def run(self):
        n = 0
        while not self.stop:
            key, value = "e2e-writer/%04d" % n, "v%d" % n
            ok, err = self.put(key, value)
            if not ok:
                ok, err = self.put(key, value)
            if ok:
                self.written[key] = value
            else:
                self.failed += 1
                self.errors.append(err)
            n += 1


def leader_leaves(sim, times, ctx):
    sim.run("scale", "5", "--timeout", WAIT)
    ids5 = check_all(sim, ctx["ids"], 5)
    sim.output("etcdctl", "move-leader", "%x" % ids5["etcd-4"])
    status = sim.etcdctl_json("endpoint", "status")
    leader = {s["Status"]["leader"] for s in status}
    expect(leader == {ids5["etcd-4"]}, "etcd-4 does not lead: %s" % leader)
    writer = Writer(sim)
    writer.start()
    time.sleep(1)
    times["scale 5 -> 3, leader among the removed"] = sim.timed("scale", "3", "--timeout", WAIT)
    time.sleep(1)
    writer.stop = True
    writer.join(60)
    say("writer: %d writes, %d failed after one retry" % (len(writer.written) + writer.failed,
                                                       writer.failed))
    expect(writer.failed == 0, "writes failed after one retry: %s" % writer.errors[:3])
    expect(len(writer.written) > 0, "the writer wrote nothing")
    expect(log_has(sim, 4, "etcd-leave: info: moved leadership"),
           "etcd-4 did not move leadership away before leaving")
    ctx["ids"] = check_all(sim, without(ids5, "etcd-3", "etcd-4"), 3)
    got = sim.etcdctl_json("get", "e2e-writer/", "--prefix")
    kvs = {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]).decode()
           for kv in got.get("kvs", [])}
    expect(all(kvs.get(k) == v for k, v in writer.written.items()),
           "acknowledged writes are missing")


def leave_3_1(sim, times, ctx):
    times["scale 3 -> 1"] = sim.timed("scale", "1", "--timeout", WAIT)
    check_all(sim, without(ctx["ids"], "etcd-1", "etcd-2"), 1)
    for i in (1, 2):
        expect_left(sim, i)
    times["scale 1 -> 3"] = sim.timed("scale", "3", "--timeout", WAIT)
    ctx["ids"] = check_all(sim, without(ctx["ids"], "etcd-1", "etcd-2"), 3)


def quorum_refused(sim, times, ctx):
    frozen = pod(sim, 1)["containerPid"]
    os.kill(frozen, signal.SIGSTOP)
    try:
        sim.run("scale", "2", "--no-wait", "--timeout", WAIT)
    finally:
        os.kill(frozen, signal.SIGCONT)
    expect(log_has(sim, 2, "etcd-leave: error: refusing to leave"),
           "etcd-2's preStop did not refuse to break quorum")
    expect(len(sim.members()) == 3, "etcd-2's member was removed despite the quorum guard")
    sim.run("scale", "3", "--timeout", WAIT)
    ctx["ids"] = check_all(sim, ctx["ids"], 3)


def replace_refused(sim, times, ctx):
    """etcd-1 frozen, etcd-2's volume lost and its pod created again: removing etcd-2's old
    member would leave 1 healthy voter of the 2 needed, so etcd-join refuses (exit 3), and
    spends no time on a snapshot first. Once etcd-1 is thawed, the container's next start
    replaces the member, a snapshot first."""
    mark = len(sim.pod_log(2))
    snaps = os.path.join(sim.volume(2), ".etcd-hooks", "snapshots")
    old = ctx["ids"]["etcd-2"]
    frozen = pod(sim, 1)["containerPid"]
    os.kill(frozen, signal.SIGSTOP)
    try:
        sim.run("delete-pvc", "2")
        sim.run("restart", "2", "--no-wait", "--no-ready", "--timeout", WAIT)
        deadline = time.monotonic() + 90
        refusal = "refusing to remove this member's old entry"
        while refusal not in since(sim, 2, mark):
            expect(time.monotonic() < deadline, "etcd-2 did not refuse the replacement: %r"
                   % since(sim, 2, mark)[-800:])
            time.sleep(0.5)
    finally:
        os.kill(frozen, signal.SIGCONT)
    before = since(sim, 2, mark).split(refusal)[0]
    expect("snapshot before the replacement" not in before,
           "etcd-2 took a snapshot for a replacement it then refused: %r" % before[-800:])
    sim.run("scale", "3", "--timeout", WAIT)
    ids = check_members(sim, without(ctx["ids"], "etcd-2"), 3)
    check_keys(sim)
    expect(ids["etcd-2"] != old, "etcd-2 kept its old member ID")
    expect(log_has(sim, 2, "removed this member's old entry"), "etcd-2 was not replaced")
    check_snapshot(sim, 2, "the replacement")
    ctx["ids"] = ids
    sim.run("restart", "2", "--timeout", WAIT)  # the refusals' restarts forgotten
    check_all(sim, ids, 3)


def no_churn(sim, times, ctx):
    """etcd-4 is above the initial size: the classic rule would remove and add its member on
    every restart. With the scale-down policy it stays."""
    sim.run("scale", "5", "--timeout", WAIT)
    ids = check_all(sim, ctx["ids"], 5)
    for _ in range(2):  # preStop run twice, by hand, while the pod stays
        out = subprocess.run(sim.base + ["exec", "4", "--", "etcd-leave"], capture_output=True,
                             text=True, timeout=60)
        expect(out.returncode == 0 and "member stays" in out.stderr,
               "etcd-leave by hand: exit %d: %s" % (out.returncode, out.stderr[-500:]))
    sim.run("restart", "4", "--timeout", WAIT)
    check_all(sim, ids, 5)
    expect(log_has(sim, 4, "this pod comes back, the member stays"),
           "etcd-4's preStop did not keep the member on a restart")
    # a preStop killed right after it recorded its intent, before the remove call
    before = quarantined(sim, 4)
    tomb = os.path.join(sim.volume(4), ".etcd-hooks", "tombstone")
    with open(tomb, "w") as f:
        f.write("member_id=%d\ncluster_id=1\nstate=removing\n" % ids["etcd-4"])
    sim.run("restart", "4", "--timeout", WAIT)
    check_all(sim, ids, 5)
    expect(quarantined(sim, 4) == before, "etcd-4's data was moved aside: %s" % quarantined(sim, 4))
    sim.run("scale", "3", "--timeout", WAIT)
    ctx["ids"] = check_all(sim, without(ids, "etcd-3", "etcd-4"), 3)


def wipe_refused(sim, times, ctx):
    p = subprocess.run(sim.base + ["exec", "0", "--", "etcd-clean", "--wipe", "--force"],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 3, "etcd-clean --wipe --force while etcd runs: exit %d: %s"
           % (p.returncode, p.stderr[-500:]))
    check_all(sim, ctx["ids"], 3)


def scale_cycles(sim, times, ctx):
    for cycle in range(3):
        t0 = time.monotonic()
        restarts = {i: pod(sim, i)["restartCount"] for i in range(3)}
        sim.run("scale", "5", "--timeout", WAIT)
        check_all(sim, ctx["ids"], 5)
        # etcd 3.6+ derives member IDs from the URL and the second: a fast re-add must
        # be retried, never fatal, and no postStart may wait out its deadline
        for i in (3, 4):
            expect(pod(sim, i)["restartCount"] == 0, "cycle %d: etcd-%d restarted: %s"
                   % (cycle + 1, i, pod(sim, i)))
            # the retention (3) holds once etcd-join ran, whatever a killed preStop left
            q = quarantined(sim, i)
            expect(len(q) <= 3, "cycle %d: etcd-%d started with %d quarantine entries: %s"
                   % (cycle + 1, i, len(q), q))
        expect(all(pod(sim, i)["restartCount"] == restarts[i] for i in range(3)),
               "cycle %d: a member of the initial three restarted" % (cycle + 1))
        sim.run("scale", "3", "--timeout", WAIT)
        check_all(sim, ctx["ids"], 3)
        times["cycle %d: 3 -> 5 -> 3" % (cycle + 1)] = time.monotonic() - t0
        # etcd-leave moves the data aside once etcd stopped; the container may end before
        # it applied the retention: one entry more until the next start
        for i in (3, 4):
            q = quarantined(sim, i)
            expect(len(q) <= 4, "etcd-%d's quarantine holds %d entries: %s" % (i, len(q), q))


# ----------------------------------------------------------------------------------------
# Data safety: each of these lost data or formed a second cluster before the fix


def since(sim, i, mark):
    """Pod i's container log after `mark` (its length at some earlier point)."""
    return sim.pod_log(i)[mark:]


def never_bootstrapped(sim, i, mark, what):
    log = since(sim, i, mark)
    expect("decision: bootstrap" not in log and "initial_cluster_state=new" not in log,
           "etcd-%d bootstrapped a new cluster %s" % (i, what))


def one_cluster(sim, n):
    ids = sim.cluster_ids(range(n))
    expect(len(set(ids.values())) == 1, "more than one cluster ID: %s" % ids)


def volume_lost_size1(sim, times, ctx):
    """INITIAL_CLUSTER_SIZE=1 scaled to 3; pod 0's volume lost while 1 and 2 run: pod 0 asks
    every pod the set has, is replaced (new ID), one cluster ID, no crash loop."""
    sim.up("1")
    ids = check_members(sim, n=1)
    write_keys(sim)
    sim.run("scale", "3", "--timeout", WAIT)
    ids = check_all(sim, ids, 3)
    mark = len(sim.pod_log(0))
    sim.run("delete-pvc", "0")
    times["size 1 -> 3, volume of etcd-0 lost"] = sim.timed("restart", "0", "--timeout", WAIT)
    new = check_all(sim, without(ids, "etcd-0"), 3)
    expect(new["etcd-0"] != ids["etcd-0"], "etcd-0 kept its old member ID")
    never_bootstrapped(sim, 0, mark, "beside the cluster of etcd-1 and etcd-2")
    expect("decision: replace" in since(sim, 0, mark), "etcd-0 did not decide 'replace'")
    expect(pod(sim, 0)["restartCount"] == 0, "etcd-0 crash-looped")
    one_cluster(sim, 3)


def volume_lost_peers_down(sim, times, ctx):
    """Size 3 scaled to 5; pods 1 and 2 down (frozen), pod 0's volume lost: pod 0 finds
    the cluster through pods 3 and 4 and does not bootstrap; when 1 and 2 return, pod 0 is
    replaced and every key is there."""
    sim.up(str(N))
    ids = check_members(sim)
    write_keys(sim)
    sim.run("scale", "5", "--timeout", WAIT)
    ids = check_all(sim, ids, 5)
    for i in (1, 2):
        sim.run("freeze", str(i))
    mark = len(sim.pod_log(0))
    try:
        sim.run("delete-pvc", "0")
        sim.run("restart", "0", "--no-ready", "--timeout", WAIT)
        time.sleep(15)
        never_bootstrapped(sim, 0, mark, "while its peers were down")
    finally:
        for i in (1, 2):
            sim.run("thaw", str(i))
    times["volume lost with 2 of 5 down, replaced once they return"] = sim.timed(
        "scale", "5", "--timeout", WAIT)
    new = check_members(sim, without(ids, "etcd-0"), 5)
    check_keys(sim)
    expect(new["etcd-0"] != ids["etcd-0"], "etcd-0 kept its old member ID")
    never_bootstrapped(sim, 0, mark, "at all")
    one_cluster(sim, 5)


def whole_restart_volume_lost(sim, times, ctx, size, parallel):
    """Whole-cluster stop; pod 0's volume lost; pod 0 starts first and its peers 8 s later
    (a slow image pull): pods 1 and 2 keep their data and IDs, pod 0 is replaced, every key
    is there."""
    if size == 1:
        sim.up("1", *(["--parallel"] if parallel else []))
        sim.run("scale", "3", "--timeout", WAIT)
    else:
        sim.up(str(size), *(["--parallel"] if parallel else []))
    ids = check_members(sim, n=3)
    write_keys(sim)
    sim.run("scale", "0", "--timeout", WAIT)
    sim.run("delete-pvc", "0")
    before = {i: quarantined(sim, i) for i in (1, 2)}
    mark = {i: len(sim.pod_log(i)) for i in range(3)}
    times["whole restart, etcd-0's volume lost, peers 8 s late"] = sim.timed(
        "scale", "3", "--start-delay", "1=8", "--start-delay", "2=8", "--timeout", WAIT)
    new = check_all(sim, without(ids, "etcd-0"), 3)
    expect(new["etcd-0"] != ids["etcd-0"], "etcd-0 kept its old member ID")
    never_bootstrapped(sim, 0, mark[0], "while etcd-1 and etcd-2 had the cluster's data")
    for i in (1, 2):
        expect(quarantined(sim, i) == before[i], "etcd-%d moved its data aside: %s"
               % (i, quarantined(sim, i)))
        expect("decision: restart" in since(sim, i, mark[i]), "etcd-%d did not restart" % i)
    one_cluster(sim, 3)


def whole_restart_lost_parallel(sim, times, ctx):
    whole_restart_volume_lost(sim, times, ctx, 3, True)


def whole_restart_lost_ordered(sim, times, ctx):
    whole_restart_volume_lost(sim, times, ctx, 1, False)


def set_mode(path, mode):
    """The hostile server's mode, written atomically: it reads the file at every request,
    and an empty file would mean 'off' for a moment."""
    with open(path + ".tmp", "w") as f:
        f.write(mode + "\n")
    os.rename(path + ".tmp", path)


def hostile_endpoints(sim, times, ctx):
    """A server that answers 200 with HTML, a member list that cannot be read, or a TLS
    certificate nobody trusts: never a bootstrap. Once it is gone, the cluster forms."""
    d = tempfile.mkdtemp(prefix="etcd-hooks-e2e-hostile-", dir="/var/tmp")
    ctx.setdefault("cleanups", []).append(lambda: shutil.rmtree(d, ignore_errors=True))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", d + "/key.pem", "-out",
                    d + "/crt.pem", "-days", "2", "-subj", "/CN=hostile", "-addext",
                    "subjectAltName=IP:%s" % sim.host_ip], check=True, capture_output=True)
    plain, tls = d + "/plain.mode", d + "/tls.mode"
    set_mode(plain, "html")
    hostile = os.path.join(HERE, "hostile.py")
    # The pods start 5 s after the network exists; the hostile server listens by then.
    sim.up(str(N), "--parallel", "--no-wait", "--env",
           "ETCDCTL_ENDPOINTS=http://%s:2379,https://%s:2381" % (sim.host_ip, sim.host_ip),
           *["--start-delay=%d=5" % i for i in range(N)])
    sim.start_helper([sys.executable, hostile, "--address", sim.host_ip, "--port", "2379",
                      "--mode-file", plain], "hostile.log")
    sim.start_helper([sys.executable, hostile, "--address", sim.host_ip, "--port", "2381",
                      "--mode-file", tls, "--tls-cert", d + "/crt.pem", "--tls-key",
                      d + "/key.pem"], "hostile.log")
    deadline = time.monotonic() + 5
    while subprocess.run(["ip", "netns", "exec", sim.bridge_ns, "bash", "-c",
                          "exec 3<>/dev/tcp/%s/2379" % sim.host_ip],
                         capture_output=True).returncode != 0:
        expect(time.monotonic() < deadline, "the hostile server does not listen")
        time.sleep(0.1)
    steps = [("html", "off", "malformed JSON"), ("badlist", "off", "a member has no ID"),
             ("off", "tls", "SSL")]
    for plain_mode, tls_mode, said in steps:
        # the one turned on first: at no moment are both off (a fair bootstrap then)
        for path, mode in sorted(((plain, plain_mode), (tls, tls_mode)),
                                 key=lambda pm: pm[1] == "off"):
            set_mode(path, mode)
        marks = {i: len(sim.pod_log(i)) for i in range(N)}
        time.sleep(12)
        for i in range(N):
            never_bootstrapped(sim, i, 0, "on an answer that cannot be read (%s)" % plain_mode)
            # a TLS handshake on a loaded machine may take longer than a probe call: that
            # is "no answer in time", also never a bootstrap; but someone must see the TLS
            # failure itself
            log = since(sim, i, marks[i])
            expect(said in log or (tls_mode == "tls" and "no answer in time" in log),
                   "etcd-%d does not say it cannot read the answer (%s/%s): no '%s' in %r"
                   % (i, plain_mode, tls_mode, said, log[-600:]))
        expect(any(said in since(sim, i, marks[i]) for i in range(N)),
               "no pod says '%s' (%s/%s)" % (said, plain_mode, tls_mode))
    set_mode(tls, "off")
    times["bootstrap once the hostile server is gone"] = sim.timed("scale", str(N), "--timeout",
                                                                   WAIT)
    ctx["ids"] = check_members(sim)
    write_keys(sim)
    one_cluster(sim, N)


def ensure_cluster(sim, ctx):
    """A healthy cluster of N with the keys, for a scenario run alone (--only)."""
    if "ids" not in ctx:
        sim.up(str(N))
        ctx["ids"] = check_members(sim)
        write_keys(sim)


def leave_foreign(sim, times, ctx):
    """etcd-leave against an endpoint of another cluster: refused, no tombstone, no data
    moved, the member stays."""
    ensure_cluster(sim, ctx)
    d = tempfile.mkdtemp(prefix="etcd-hooks-e2e-foreign-", dir="/var/tmp")
    ctx.setdefault("cleanups", []).append(lambda: shutil.rmtree(d, ignore_errors=True))
    client, peer = "http://%s:2479" % sim.host_ip, "http://%s:2480" % sim.host_ip
    sim.start_helper([os.path.join(sim.bins["etcd"], "etcd"), "--name", "foreign", "--data-dir",
                      d + "/foreign.etcd", "--listen-client-urls", client,
                      "--advertise-client-urls", client, "--listen-peer-urls", peer,
                      "--initial-advertise-peer-urls", peer, "--initial-cluster",
                      "foreign=" + peer, "--initial-cluster-token", "e2e-foreign"],
                     "foreign-etcd.log")
    deadline = time.monotonic() + 30
    while subprocess.run(sim.base + ["etcdctl", "endpoint", "health", "--endpoints", client],
                         capture_output=True).returncode != 0:
        expect(time.monotonic() < deadline, "the foreign etcd did not start")
        time.sleep(0.5)
    before = quarantined(sim, 2)
    rc, out, err = sim.exec(2, "etcd-leave", "--policy", "always", "--endpoints", client)
    say(err)
    expect(rc == 3 and "refusing to leave" in err, "etcd-leave against another cluster: exit %d" % rc)
    tomb = os.path.join(sim.volume(2), ".etcd-hooks", "tombstone")
    expect(not os.path.exists(tomb), "a tombstone was written: %s" % open(tomb).read()
           if os.path.exists(tomb) else "")
    expect(quarantined(sim, 2) == before, "etcd-2's data was moved aside")
    ctx["ids"] = check_all(sim, ctx["ids"], N)
    sim.stop_helpers()


def policy_auto_api(sim, times, ctx):
    """--policy auto with the API timing out, answering 403 and answering 404: the member
    stays, with the right log line; nothing is written."""
    ensure_cluster(sim, ctx)
    sim.run("scale", "5", "--timeout", WAIT)
    ids = check_all(sim, ctx["ids"], 5)
    tomb = os.path.join(sim.volume(4), ".etcd-hooks", "tombstone")
    try:
        for mode, said in (("hang", "without knowing the desired replicas"),
                           ("forbidden", "grant it a Role"),
                           ("notfound", "being deleted")):
            sim.run("apiserver", "mode", mode)
            rc, out, err = sim.exec(4, "etcd-leave")
            say(err)
            expect(said in err and "this member stays" in err,
                   "etcd-leave with the API %s: exit %d, no '%s'" % (mode, rc, said))
            expect(not os.path.exists(tomb), "a tombstone was written (API %s)" % mode)
            check_members(sim, ids, 5)
    finally:
        sim.run("apiserver", "mode", "normal")
    sim.run("scale", "3", "--timeout", WAIT)
    ctx["ids"] = check_all(sim, without(ids, "etcd-3", "etcd-4"), 3)


def forbidden_env(sim, times, ctx):
    """ETCD_INITIAL_CLUSTER_STATE set on a scale-up: exit 2 before any member is added."""
    ensure_cluster(sim, ctx)
    rc, out, err = sim.exec(0, "env", "ETCD_INITIAL_CLUSTER_STATE=existing", "etcd-join",
                            "--name", "etcd-3", "--data-dir", "/var/run/etcd/e2e/env.etcd")
    say(err)
    expect(rc == 2 and "ETCD_INITIAL_CLUSTER_STATE" in err, "exit %d: %s" % (rc, err[-300:]))
    check_all(sim, ctx["ids"], N)
    expect(not os.path.exists(os.path.join(sim.volume(0), "e2e")), "etcd-join wrote something")


def sigterm_wait(sim, times, ctx):
    """SIGTERM to an etcd-join that is PID 1 (as in a container) and waits for a cluster:
    it exits at once, with 128+15, having changed nothing."""
    ensure_cluster(sim, ctx)
    argv = ["etcd-join", "--name", "etcd-7", "--namespace", "nowhere", "--data-dir",
            "/var/run/etcd/e2e/term.etcd", "--timeout", "60"]
    p = subprocess.Popen(sim.base + ["exec", "0", "--", "unshare", "--pid", "--fork",
                                     "--kill-child"] + argv,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pid, deadline = None, time.monotonic() + 30
        while pid is None:
            expect(time.monotonic() < deadline and p.poll() is None, "etcd-join did not start")
            time.sleep(0.5)
            found = subprocess.run(["pgrep", "-f", "-x", " ".join(argv)], capture_output=True,
                                   text=True).stdout.split()
            pid = int(found[0]) if found else None
        time.sleep(3)  # well into its wait
        t0 = time.monotonic()
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            out, err = p.communicate(timeout=30)
            raise Failed("etcd-join exited before the SIGTERM (exit %s): %s"
                         % (p.returncode, err[-2000:]))
        while os.path.exists("/proc/%d" % pid) and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        took = time.monotonic() - t0
        times["SIGTERM to a waiting etcd-join: exit"] = took
        expect(not os.path.exists("/proc/%d" % pid), "etcd-join did not exit within 10 s")
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    say(err)
    expect("stopped by signal 15" in err, "etcd-join does not say it stopped on SIGTERM")
    expect(took < 3, "etcd-join took %.1f s to exit on SIGTERM" % took)
    check_all(sim, ctx["ids"], N)


def wipe_by_hand(sim, times, ctx):
    """etcd-clean --wipe by hand of a copy of etcd-1's data: with no peers configured, with
    names that do not resolve, during a full outage, and while its member is started:
    refused without --force, data kept; --force wipes it."""
    ensure_cluster(sim, ctx)
    rc, _, err = sim.exec(1, "sh", "-c", "mkdir -p /var/run/etcd/e2e && "
                          "cp -a /var/run/etcd/default.etcd /var/run/etcd/e2e/copy.etcd")
    expect(rc == 0, "cannot copy etcd-1's data: %s" % err)
    copy = os.path.join(sim.volume(1), "e2e", "copy.etcd")
    wipe = ["etcd-clean", "--wipe", "--data-dir", "/var/run/etcd/e2e/copy.etcd"]
    cases = [("no peers, names that do not resolve",
              ["env", "-u", "INITIAL_CLUSTER_SIZE"] + wipe + ["--namespace", "nowhere"],
              "no cluster answers"),
             ("its member started in the cluster", wipe, "is a started member")]
    for what, argv, said in cases:
        rc, _, err = sim.exec(1, *argv)
        expect(rc == 3 and said in err, "--wipe, %s: exit %d: %s" % (what, rc, err[-400:]))
        expect(os.path.isdir(os.path.join(copy, "member", "wal")), "--wipe, %s: data gone" % what)
    for i in range(N):
        sim.run("freeze", str(i))
    try:
        rc, _, err = sim.exec(1, *wipe)
    finally:
        for i in range(N):
            sim.run("thaw", str(i))
    # frozen members still accept connections: no answer in time, which is not silence
    expect(rc == 3 and "cannot tell whether a cluster is there" in err,
           "--wipe in a full outage: exit %d: %s" % (rc, err[-400:]))
    expect(os.path.isdir(os.path.join(copy, "member", "wal")), "--wipe in an outage: data gone")
    rc, _, err = sim.exec(1, *(wipe + ["--force"]))
    expect(rc == 0 and not os.path.exists(copy), "--wipe --force: exit %d: %s" % (rc, err[-300:]))
    sim.run("scale", str(N), "--timeout", WAIT)  # a leader again after the outage
    ctx["ids"] = check_all(sim, ctx["ids"], N)



FAIL_JOIN_WRAPPER = """#!/bin/sh
# e2e: while /var/run/etcd/.e2e-fail-joins holds a count above 0, a start with 'existing'
# fails the way etcd 3.4 does: it creates member/snap/db, then exits 1
f=/var/run/etcd/.e2e-fail-joins
for a in "$@"; do
	case "$a" in
	--initial-cluster-state=existing)
		n=$(cat "$f" 2>/dev/null || echo 0)
		if [ "$n" -gt 0 ]; then
			echo $((n - 1)) >"$f"
			mkdir -p /var/run/etcd/default.etcd/member/snap
			echo skeleton >/var/run/etcd/default.etcd/member/snap/db
			echo "e2e wrapper: failing this join ($n left)" >&2
			exit 1
		fi;;
	esac
done
exec %s "$@"
"""


def wrapper(ctx, text, name="etcd"):
    """A folder with a wrapper script called name (etcd unless told), for --path-prepend;
    removed after the group."""
    wrap = tempfile.mkdtemp(prefix="etcd-hooks-e2e-", dir="/var/tmp")
    ctx.setdefault("cleanups", []).append(lambda: shutil.rmtree(wrap, ignore_errors=True))
    with open(os.path.join(wrap, name), "w") as f:
        f.write(text)
    os.chmod(os.path.join(wrap, name), 0o755)
    return wrap


def remove_member_by_hand(sim, member_id, through):
    """etcdctl member remove, through the members of the ordinals `through` only: the member
    removed stops as it applies its removal and may answer 'etcdserver: server stopped'
    (seen under load) although it was removed. Retried while etcd says 'unhealthy cluster':
    it refuses to remove a running member for 5 s after any member (re)connected."""
    others = ",".join("http://%s:2379" % sim.ip(i) for i in through)
    deadline = time.monotonic() + 30
    while True:
        p = subprocess.run(sim.base + ["etcdctl", "member", "remove", "%x" % member_id,
                                       "--endpoints=" + others],
                           capture_output=True, text=True, timeout=60)
        if p.returncode == 0:
            return
        expect("unhealthy cluster" in p.stderr and time.monotonic() < deadline,
               "etcdctl member remove failed: %s" % p.stderr.strip()[-500:])
        time.sleep(1)


def join_fails_thrice(sim, times, ctx):
    """etcd-2's member is removed; its data is moved aside (tag removed); its join then
    fails three times, each leaving a partial skeleton: the quarantined member data is still
    there, and etcd-clean --restore brings it back."""
    wrap = wrapper(ctx, FAIL_JOIN_WRAPPER % os.path.join(sim.bins["etcd"], "etcd"))
    sim.up(str(N), "--path-prepend", wrap)
    ids = check_members(sim)
    write_keys(sim)
    with open(os.path.join(sim.volume(2), ".e2e-fail-joins"), "w") as f:
        f.write("3\n")
    before = pod(sim, 2)["restartCount"]
    remove_member_by_hand(sim, ids["etcd-2"], [0, 1])
    deadline = time.monotonic() + 90
    while pod(sim, 2)["restartCount"] < before + 4 or not pod(sim, 2).get("ready"):
        expect(time.monotonic() < deadline, "etcd-2 did not come back after 3 failed joins: %s"
               % pod(sim, 2))
        time.sleep(0.5)
    sim.run("scale", str(N), "--timeout", WAIT)
    new = check_members(sim, without(ids, "etcd-2"))
    check_keys(sim)
    expect(sim.pod_log(2).count("e2e wrapper: failing this join") == 3,
           "the wrapper did not fail 3 joins")
    q = quarantined(sim, 2)
    removed = [e for e in q if e.endswith("-removed")]
    expect(len(removed) == 1, "the member data was not kept in the quarantine: %s" % q)
    entry = os.path.join(sim.volume(2), ".etcd-hooks", "quarantine", removed[0])
    expect(os.path.isdir(os.path.join(entry, "default.etcd", "member", "wal")),
           "the removed member's data is gone from %s: %s" % (removed[0], os.listdir(entry)))
    expect(len(q) <= 3, "the quarantine holds %d entries: %s" % (len(q), q))
    rc, _, err = sim.exec(2, "etcd-clean", "--restore", removed[0], "--data-dir",
                          "/var/run/etcd/restored.etcd")
    expect(rc == 0, "etcd-clean --restore: exit %d: %s" % (rc, err[-400:]))
    restored = os.path.join(sim.volume(2), "restored.etcd", "member", "wal")
    expect(os.path.isdir(restored) and os.listdir(restored), "nothing restored: %s" % restored)
    ctx["ids"] = new


SLOW_START_WRAPPER = """#!/bin/sh
# e2e: etcd-4's first start after its add takes 15 s (an etcd slow to start: a big db, a
# slow disk), as a pod whose container needs long to start would
for a in "$@"; do
	case "$a" in
	--initial-cluster-state=existing)
		if [ "$POD_NAME" = etcd-4 ] && [ ! -e /var/run/etcd/.e2e-slow-started ]; then
			: >/var/run/etcd/.e2e-slow-started
			echo "e2e wrapper: starting 15 s late" >&2
			sleep 15
		fi;;
	esac
done
exec %s "$@"
"""


def slow_start(sim, times, ctx):
    """Scale 3 -> 5 (Parallel) where etcd-4 is added first and its etcd starts 15 s late:
    etcd-3 waits for the pending member, nobody removes it."""
    wrap = wrapper(ctx, SLOW_START_WRAPPER % os.path.join(sim.bins["etcd"], "etcd"))
    sim.up(str(N), "--parallel", "--path-prepend", wrap)
    ids = check_members(sim)
    write_keys(sim)
    times["scale 3 -> 5, etcd-4 15 s slow to start"] = sim.timed(
        "scale", "5", "--start-delay", "3=3", "--timeout", WAIT)
    ctx["ids"] = check_all(sim, ids, 5)
    expect(log_has(sim, 4, "e2e wrapper: starting 15 s late"), "etcd-4 did not start late")
    added = [l for l in sim.pod_log(4).splitlines() if "added this member id=" in l]
    expect(len(added) == 1, "etcd-4 was added %d times: %s" % (len(added), added))
    for i in (3, 4):
        expect(not log_has(sim, i, "removed the stale member"), "etcd-%d removed a member" % i)
        expect(pod(sim, i)["restartCount"] == 0, "etcd-%d restarted" % i)


def data_dir_not_on_volume(sim, times, ctx):
    """A data dir that is the volume's mount point, and one whose volume is not mounted: the
    initContainer and etcd-join refuse (exit 2) with what to fix, nothing is written outside
    the volume."""
    outside = "/srv/etcd-hooks-e2e-%s" % sim.bridge_ns
    shutil.rmtree(outside, ignore_errors=True)
    for data_dir, said in (("/var/run/etcd", "is the mount point of a volume"),
                           (outside + "/default.etcd", "is not on a volume")):
        sim.down()
        sim.up("1", "--no-wait", "--env", "ETCD_DATA_DIR=" + data_dir)
        deadline = time.monotonic() + 30
        while pod(sim, 0).get("initLastExitCode") is None:
            expect(time.monotonic() < deadline, "the initContainer did not exit: %s" % pod(sim, 0))
            time.sleep(0.2)
        expect(pod(sim, 0)["initLastExitCode"] == 2, "initContainer exit %s, want 2"
               % pod(sim, 0)["initLastExitCode"])
        expect(log_has(sim, 0, said), "the log does not say '%s'" % said)
        rc, _, err = sim.exec(0, "etcd-join", "--data-dir", data_dir)
        expect(rc == 2 and said in err, "etcd-join: exit %d: %s" % (rc, err[-300:]))
        rc, out, _ = sim.exec(0, "ls", "-A", "/var/run")
        expect(".etcd-hooks" not in out.split(), "a helper folder on the container's root")
        expect(not os.path.exists(outside), "%s was created" % outside)



def secrets_kept(sim, password, n):
    """The password is in no process's argv or environment in the pods (etcd's included),
    in no log and in no file of the helper folders."""
    for i in range(n):
        p = pod(sim, i)
        pid = p.get("containerPid")
        if pid:
            for what in ("cmdline", "environ"):
                with open("/proc/%d/%s" % (pid, what), "rb") as f:
                    data = f.read()
                expect(password.encode() not in data, "the password is in etcd-%d's %s" % (i, what))
            with open("/proc/%d/environ" % pid, "rb") as f:
                names = [v.split(b"=", 1)[0] for v in f.read().split(b"\0") if v]
            leaked = [v.decode() for v in names if v.startswith(b"ETCDCTL_") or
                      v.startswith(b"ROOT_PASSWORD")]
            expect(not leaked, "etcd-%d's environment holds %s" % (i, leaked))
        for log in ("container.log", "kubelet.log"):
            expect(password not in sim.pod_log(i, log), "the password is in etcd-%d's %s" % (i, log))
        helper = os.path.join(sim.volume(i), ".etcd-hooks")
        for root, _, files in os.walk(helper):
            if "/quarantine/" in root + "/":
                continue  # moved-aside data dirs: etcd's own files
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    expect(password.encode() not in f.read(),
                           "the password is in %s" % os.path.join(root, name))


def auth_on(sim, times, ctx):
    """Auth on after the bootstrap (the root user, its password in a mounted Secret): scale
    3 -> 5 with the learners promoted, a lost volume replaced, 5 -> 3 with the leavers
    removed; the password in no argv, environment, log or file."""
    password = "e2e-" + os.urandom(12).hex()
    d = tempfile.mkdtemp(prefix="etcd-hooks-e2e-auth-", dir="/var/tmp")
    ctx.setdefault("cleanups", []).append(lambda: shutil.rmtree(d, ignore_errors=True))
    with open(d + "/root-password", "w") as f:
        f.write(password + "\n")
    sim.up(str(N), "--root-password-file", d + "/root-password", "--env", "ETCDCTL_USER=root",
           "--env", "ROOT_PASSWORD_FILE=/var/run/secrets/etcd-hooks/root-password")
    ids = check_members(sim)
    write_keys(sim)
    sim.run("auth", "enable")
    times["auth on: scale 3 -> 5"] = sim.timed("scale", "5", "--timeout", WAIT)
    ids = check_all(sim, ids, 5)
    for i in (3, 4):
        expect(log_has(sim, i, "decision: add"), "etcd-%d did not decide 'add'" % i)
        if ctx["learners"]:
            expect(log_has(sim, i, "etcd-promote: info: promoted this member"),
                   "etcd-%d was not promoted by etcd-promote" % i)
    old = ids["etcd-4"]
    sim.run("delete-pvc", "4")
    times["auth on: volume lost, replace etcd-4"] = sim.timed("restart", "4", "--timeout", WAIT)
    ids = check_all(sim, without(ids, "etcd-4"), 5)
    expect(ids["etcd-4"] != old, "etcd-4 kept its old member ID")
    secrets_kept(sim, password, 5)
    times["auth on: scale 5 -> 3"] = sim.timed("scale", "3", "--timeout", WAIT)
    ctx["ids"] = check_all(sim, without(ids, "etcd-3", "etcd-4"), 3)
    for i in (3, 4):
        expect_left(sim, i)
    secrets_kept(sim, password, 3)



FORMED_ANNOTATION = "etcd-hooks.io/formed-cluster-id"


def annotations(sim):
    try:
        with open(os.path.join(sim.state, "annotations.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def promote_log(sim, i):
    """The log of pod i's background etcd-promote watches, in its helper folder."""
    try:
        with open(os.path.join(sim.volume(i), ".etcd-hooks", "etcd-promote.log"),
                  errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def log_marks(sim, ordinals):
    """Where the container log and the background watch log of each pod end now."""
    return {i: (len(sim.pod_log(i)), len(promote_log(sim, i))) for i in ordinals}


def background_watches_done(sim, marks, timeout=60):
    """Wait until every etcd-promote that handed its watch over to the background since
    marks (log_marks) says, in its own log, that it is done: each by its pid."""
    for i, (mark, promote_mark) in marks.items():
        deadline = time.monotonic() + timeout
        for pid in re.findall(r"watching in the background \(pid (\d+),", since(sim, i, mark)):
            done = "the background watch pid %s is done" % pid
            while done not in promote_log(sim, i)[promote_mark:]:
                expect(time.monotonic() < deadline, "etcd-%d's background etcd-promote pid %s "
                       "is not done after %d s; its log ends with: %r"
                       % (i, pid, timeout, promote_log(sim, i)[-600:]))
                time.sleep(0.5)


def annotation_keeps_formed(sim, times, ctx):
    """The mark outside the volumes: once the cluster formed, etcd-promote annotates the
    StatefulSet with its cluster ID. A whole-cluster stop with pod 0's volume lost and its
    peers silent for longer than the bootstrap wait (3 s here): the annotation alone keeps
    pod 0 from bootstrapping. Without the 'patch' right, etcd-promote says what is missing."""
    sim.up(str(N), "--parallel", "--env", "ETCD_HOOKS_BOOTSTRAP_WAIT=3s")
    ids = check_members(sim)
    write_keys(sim)
    cluster_id = sim.etcdctl_json("member", "list")["header"]["cluster_id"]
    deadline = time.monotonic() + 30
    while annotations(sim).get(FORMED_ANNOTATION) != "%x" % cluster_id:
        expect(time.monotonic() < deadline, "the StatefulSet is not marked: %s" % annotations(sim))
        time.sleep(0.5)
    sim.run("scale", "0", "--timeout", WAIT)
    sim.run("delete-pvc", "0")
    marks = log_marks(sim, range(N))
    mark = marks[0][0]
    times["whole restart, peers 15 s late, bootstrap wait 3 s"] = sim.timed(
        "scale", str(N), "--start-delay", "1=15", "--start-delay", "2=15", "--timeout", WAIT)
    new = check_all(sim, without(ids, "etcd-0"), N)
    expect(new["etcd-0"] != ids["etcd-0"], "etcd-0 kept its old member ID")
    never_bootstrapped(sim, 0, mark, "although the StatefulSet says its cluster formed")
    expect("says its cluster formed" in since(sim, 0, mark), "etcd-0 does not cite the annotation")
    one_cluster(sim, N)
    # RBAC without 'patch': said, not fatal. The background watchers of the restart (3.3
    # adds voters: they find them and mark the StatefulSet) must be done first, or one
    # marks it again once the annotation is gone.
    background_watches_done(sim, marks)
    os.unlink(os.path.join(sim.state, "annotations.json"))
    sim.run("apiserver", "mode", "readonly")
    try:
        mark = len(sim.pod_log(2))
        sim.run("restart", "2", "--timeout", WAIT)
        expect("grant the service account 'patch'" in since(sim, 2, mark),
               "etcd-promote does not say it may not mark the StatefulSet")
    finally:
        sim.run("apiserver", "mode", "normal")
    ctx["ids"] = check_all(sim, new, N)



def mark_unknowable(sim, times, ctx):
    """The same whole restart with pod 0's volume lost, but the mark is absent and nothing
    says it would be there: RBAC without 'patch' (the mark could never have been written),
    then no 'get' at all. The bootstrap wait (3 s) is over long before the peers return
    (15 s): pod 0 waits for them all the same, and joins their cluster."""
    if "ids" not in ctx:
        sim.up(str(N), "--parallel", "--env", "ETCD_HOOKS_BOOTSTRAP_WAIT=3s")
        ctx["ids"] = check_members(sim)
        write_keys(sim)
    ids = ctx["ids"]
    for mode, why in (("readonly", "cannot be marked"), ("forbidden", "cannot be read")):
        sim.run("scale", "0", "--timeout", WAIT)
        sim.run("delete-pvc", "0")
        if os.path.exists(os.path.join(sim.state, "annotations.json")):
            os.unlink(os.path.join(sim.state, "annotations.json"))
        sim.run("apiserver", "mode", mode)
        try:
            mark = len(sim.pod_log(0))
            times["whole restart, API %s, peers 15 s late" % mode] = sim.timed(
                "scale", str(N), "--start-delay", "1=15", "--start-delay", "2=15",
                "--timeout", WAIT)
            ids = check_all(sim, without(ids, "etcd-0"), N)
            never_bootstrapped(sim, 0, mark, "with the mark unknowable (API %s)" % mode)
            log = since(sim, 0, mark)
            expect("nothing says whether their cluster formed" in log and why in log,
                   "etcd-0 does not say why it waits on (API %s): %r" % (mode, log[-800:]))
            one_cluster(sim, N)
            check_keys(sim)
        finally:
            sim.run("apiserver", "mode", "normal")
    ctx["ids"] = ids


def hosts_edit(sim, edit):
    """Rewrite the cluster's hosts file in place (the pods bind-mount it) under the
    simulator's lock, as edit(old text) says; return the old text. The simulator writes it
    anew at the next pod event."""
    with open(os.path.join(sim.state, "hosts.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(os.path.join(sim.state, "hosts"), "r+") as f:
            old = f.read()
            f.seek(0)
            f.truncate()
            f.write(edit(old))
    return old


def hosts_without(sim, name):
    """Drop pod `name` from the hosts file (a DNS outage for one name); return the old text."""
    return hosts_edit(sim, lambda old: "".join(l + "\n" for l in old.splitlines()
                                               if not l.endswith(" " + name)))


def stale_needs_the_api(sim, times, ctx):
    """etcd-3's volume is lost while etcd-4 is down (frozen) and its name does not resolve
    for a while: etcd-3's replace leaves an add that etcd refuses while a voter is down. Its
    pod exists (the StatefulSet created 5 and wants 5), so it is not stale: etcd-3 waits,
    never removes it, and joins once etcd-4 is back."""
    sim.up(str(N))
    ids = check_members(sim)
    write_keys(sim)
    sim.run("scale", "5", "--timeout", WAIT)
    ids = check_all(sim, ids, 5)
    sim.run("freeze", "4")
    try:
        mark = len(sim.pod_log(3))
        sim.run("delete-pvc", "3")
        sim.run("restart", "3", "--no-ready", "--timeout", WAIT)
        deadline = time.monotonic() + 60
        while "decision: replace" not in since(sim, 3, mark):
            expect(time.monotonic() < deadline, "etcd-3 does not replace its member: %r"
                   % since(sim, 3, mark)[-600:])
            time.sleep(0.2)
        hosts = hosts_without(sim, "etcd-4")
        try:
            time.sleep(25)  # past the 8 s of refused adds and the 3 s of confirmation
            members = {m["name"]: m["ID"] for m in sim.members() if m.get("name")}
            expect(members.get("etcd-4") == ids["etcd-4"],
                   "etcd-4's member was removed while its pod exists: %s" % members)
            expect("removed the stale member" not in since(sim, 3, mark),
                   "etcd-3 removed a stale member: %r" % since(sim, 3, mark)[-600:])
        finally:
            hosts_edit(sim, lambda _: hosts)
    finally:
        sim.run("thaw", "4")
    times["lost volume beside a down voter, joined once it is back"] = sim.timed(
        "scale", "5", "--timeout", WAIT)
    new = check_all(sim, without(ids, "etcd-3"), 5)
    expect(new["etcd-3"] != ids["etcd-3"], "etcd-3 kept its old member ID")


def raft_index(sim):
    """The highest raft index the endpoints report (etcdctl's JSON: raftIndex or raft_index)."""
    return max(st["Status"].get("raftIndex", st["Status"].get("raft_index", 0))
               for st in sim.etcdctl_json("endpoint", "status"))


def impostor_longer_log(sim, times, ctx):
    """etcd-3 and etcd-4 (added later, so with member IDs of their own) hold data; every
    initial volume is lost and the annotation removed, so pods 0-2 bootstrap again: the same
    token, so the same cluster ID and initial member IDs, and soon a longer log than the
    survivors'. Its leader does not list etcd-3 or etcd-4 and has the data's cluster ID, but
    its peer port says it never had them: they keep their data and refuse (exit 3), never
    moved aside as if removed."""
    sim.up(str(N), "--parallel")
    ids = check_members(sim)
    write_keys(sim)
    sim.run("scale", "5", "--timeout", WAIT)
    ids = check_all(sim, ids, 5)
    old_index = raft_index(sim)
    sim.run("scale", "0", "--timeout", WAIT)
    for i in range(N):
        sim.run("delete-pvc", str(i))
    if os.path.exists(os.path.join(sim.state, "annotations.json")):
        os.unlink(os.path.join(sim.state, "annotations.json"))
    sim.run("scale", str(N), "--timeout", WAIT)
    impostor = check_members(sim)
    expect(all(impostor["etcd-%d" % i] == ids["etcd-%d" % i] for i in range(N)),
           "the bootstrap again did not repeat the initial member IDs: %s %s" % (impostor, ids))
    etcdctl = sim.bins["etcdctl"]
    endpoints = ",".join("http://%s:2379" % pod(sim, i)["ip"] for i in range(N))
    deadline = time.monotonic() + 120
    while raft_index(sim) <= old_index + 20:
        expect(time.monotonic() < deadline, "the impostor's log does not grow")
        # one etcdctl per write, all in one shell: a failed write is only retried
        subprocess.run(["ip", "netns", "exec", sim.bridge_ns, "sh", "-c",
                        "for i in $(seq 40); do ETCDCTL_API=3 %s --endpoints=%s "
                        "--command-timeout=10s put e2e-impostor/$i x >/dev/null; done"
                        % (etcdctl, endpoints)], timeout=600)
    marks = {i: len(sim.pod_log(i)) for i in (3, 4)}
    sim.run("scale", "5", "--no-wait", "--timeout", WAIT)
    deadline = time.monotonic() + 90
    for i in (3, 4):
        while "never had this member" not in since(sim, i, marks[i]):
            expect(time.monotonic() < deadline and "decision: add" not in since(sim, i, marks[i]),
                   "etcd-%d does not refuse beside the impostor: %r" % (i, since(sim, i, marks[i])[-800:]))
            time.sleep(0.5)
        expect("decision: quarantine" not in since(sim, i, marks[i]), "etcd-%d moved its data aside" % i)
        expect(not quarantined(sim, i), "etcd-%d's quarantine: %s" % (i, quarantined(sim, i)))
        expect(os.path.isdir(os.path.join(sim.volume(i), "default.etcd", "member", "wal")),
               "etcd-%d's data is gone" % i)
    expect(len(sim.members()) == N, "the impostor gained members: %s" % sim.members())


GROUPS = [  # scenarios in a group share one cluster; 'sim down' between groups
    [("bootstrap-parallel", bootstrap_parallel), ("restart-and-kill", restart_and_kill),
     ("scale-up-parallel", scale_up_parallel), ("volume-lost-scaled", volume_lost_scaled)],
    [("bootstrap-ordered", bootstrap_ordered), ("scale-up-ordered", scale_up_ordered),
     ("volume-lost-initial", volume_lost_initial), ("removed-returns", removed_returns),
     ("stale-members", stale_members), ("whole-restart", whole_restart)],
    [("crash-after-add", crash_after_add)],
    [("poststart-killed", poststart_killed)],
    [("leave-5-3", leave_5_3), ("leader-leaves", leader_leaves), ("leave-3-1", leave_3_1),
     ("quorum-refused", quorum_refused), ("replace-refused", replace_refused),
     ("no-churn", no_churn), ("wipe-refused", wipe_refused),
     ("scale-cycles", scale_cycles)],
    [("bad-config", bad_config)],
    [("volume-lost-size1", volume_lost_size1)],
    [("volume-lost-peers-down", volume_lost_peers_down)],
    [("whole-restart-lost-parallel", whole_restart_lost_parallel)],
    [("whole-restart-lost-ordered", whole_restart_lost_ordered)],
    [("hostile-endpoints", hostile_endpoints), ("leave-foreign", leave_foreign),
     ("policy-auto-api", policy_auto_api), ("forbidden-env", forbidden_env),
     ("sigterm-wait", sigterm_wait), ("wipe-by-hand", wipe_by_hand)],
    [("join-fails-thrice", join_fails_thrice)],
    [("bootstrap-staggered", bootstrap_staggered),
     ("bootstrap-staggered-endpoints", bootstrap_staggered_endpoints),
     ("restore-one-volume", restore_one_volume)],
    [("slow-start", slow_start)],
    [("data-dir-not-on-volume", data_dir_not_on_volume)],
    [("auth-on", auth_on)],
    [("annotation-keeps-formed", annotation_keeps_formed), ("mark-unknowable", mark_unknowable)],
    [("impostor-longer-log", impostor_longer_log)],
    [("stale-needs-the-api", stale_needs_the_api)],
]


# ----------------------------------------------------------------------------------------


def run_group(sim, scenarios, version, results, times, keep_going=False):
    """Run scenarios that share one cluster, in order; after a failure print the logs of
    the failed pods and skip the rest of the group (keep_going: run them anyway, on what is
    left of the cluster; for checking that each scenario fails without its fix)."""
    major, minor = (int(x) for x in version.split(".")[:2])
    ctx, failed = {"learners": (major, minor) >= (3, 4)}, False
    for name, func in scenarios:
        if failed and not keep_going:
            results.append((name, "not run (an earlier scenario of its group failed)"))
            continue
        say("\n=== %s (etcd %s)" % (name, version))
        t0 = time.monotonic()
        try:
            func(sim, times, ctx)
            results.append((name, None))
            say("=== %s: PASS (%.1f s)" % (name, time.monotonic() - t0))
        except Exception as e:
            failed = True
            detail = str(e) if isinstance(e, Failed) else traceback.format_exc()
            results.append((name, detail))
            say("=== %s: FAIL: %s" % (name, detail))
            sim.print_failed_logs()
    if "cleanup" in ctx:
        ctx["cleanup"]()
    sim.stop_helpers()
    for cleanup in ctx.get("cleanups", []):
        cleanup()


PROGRAMS = ("etcd-join", "etcd-promote", "etcd-leave", "etcd-clean")
SANITIZER_MARKS = {"AddressSanitizer": b"__asan_init", "UndefinedBehaviorSanitizer":
                   b"__ubsan_handle_"}


def sanitizer_setup(sim, hooks, log_dir):
    """Every program of hooks must be built with ASan and UBSan (a plain build would make
    the check below one that cannot fail); their reports go to log_dir, which the pods see
    (the host's file system, not /run), one file per program and process. etcd-join checks
    for leaks before it execs etcd, a background etcd-promote before it sleeps for good
    (common/leakcheck.h): the exit's own check never runs for them."""
    for prog in PROGRAMS:
        with open(os.path.join(hooks, prog), "rb") as f:
            data = f.read()
        for name, mark in SANITIZER_MARKS.items():
            if mark not in data:
                raise Failed("--sanitizer-log: %s is not built with %s (meson setup "
                             "-Db_sanitize=address,undefined)" % (prog, name))
    os.makedirs(log_dir, exist_ok=True)
    for f in os.listdir(log_dir):
        os.unlink(os.path.join(log_dir, f))
    sim.env += ["ASAN_OPTIONS=log_path=%s/asan:log_exe_name=1:detect_leaks=1:halt_on_error=1"
                % log_dir,
                "UBSAN_OPTIONS=log_path=%s/ubsan:log_exe_name=1:halt_on_error=1:"
                "print_stacktrace=1" % log_dir]


def sanitizer_findings(log_dir):
    """What the sanitizers reported since the last call (each report file read, removed)."""
    found = []
    for f in sorted(os.listdir(log_dir)):
        path = os.path.join(log_dir, f)
        with open(path, errors="replace") as fh:
            found.append("%s:\n%s" % (f, fh.read()[-6000:]))
        os.unlink(path)
    return found


def skip(reason):
    say("\n*** SKIPPED: %s ***\n" % reason)
    sys.exit(SKIP)


def fetch(series):
    """The exact version, the bin dir of its etcd server and the etcdctl to use with it
    (skip if unavailable: CI counts a skip as a failure)."""
    out = {}
    for opt in ("--dir", "--etcdctl"):
        p = subprocess.run([FETCH, opt, series], capture_output=True, text=True)
        if p.returncode != 0:
            skip("cannot fetch etcd %s with tests/fetch-etcd %s: %s" % (series, opt, p.stderr.strip()))
        out[opt] = p.stdout.strip()
    # the cache holds each server under its exact version: CACHE/3.5.30/bin
    return os.path.basename(os.path.dirname(out["--dir"])), out["--dir"], out["--etcdctl"]


def cluster_name(version):
    """e2e and the version's digits (3.5.30: e2e3530); sim allows [a-z][a-z0-9]{0,7}."""
    name = "e2e" + version.replace(".", "")
    if len(name) > 8:
        raise SystemExit("run_e2e: version %s makes too long a cluster name; give --cluster" % version)
    return name


def subnet(version, cluster):
    """The matrix's subnet for the version's own cluster; for any other (a version outside
    the matrix, or a --cluster of a manual run beside CI's) one in 150..249 from its name."""
    if version in MATRIX and cluster == cluster_name(version):
        return MATRIX[version]
    return 150 + zlib.crc32(cluster.encode()) % 100


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", metavar="VERSION",
                    help="etcd version: %s (or a series: 3.5 = 3.5.16)" % ", ".join(MATRIX))
    ap.add_argument("--list-versions", action="store_true",
                    help="print the versions of the matrix, one a line, and exit")
    ap.add_argument("--hooks-bin", default=os.path.join(REPO, "build", "hooks"))
    ap.add_argument("--cluster", help="cluster name (default: e2e + version digits)")
    ap.add_argument("--subnet", type=int,
                    help="K of 198.18.K.0/24 (default: from tests/e2e/versions)")
    ap.add_argument("--keep", action="store_true", help="leave the last cluster up")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run only these scenarios")
    ap.add_argument("--keep-going", action="store_true",
                    help="after a failure, run the rest of its group anyway")
    ap.add_argument("--sanitizer-log", metavar="DIR",
                    help="the programs are an ASan and UBSan build: their reports go to DIR "
                    "(not under /run), and any report fails the group it came from")
    a = ap.parse_args()
    if a.list_versions:
        print("\n".join(MATRIX))
        return 0
    if not a.series:
        ap.error("--series is required")
    known = [n for group in GROUPS for n, _ in group]
    unknown = [n for n in a.only or [] if n not in known]
    if unknown:
        ap.error("unknown scenario %s (known: %s)" % (", ".join(unknown), " ".join(known)))

    if os.geteuid() != 0:
        skip("the end-to-end tests need root (network and mount namespaces)")
    version, etcd_bin, etcdctl = fetch(a.series)
    hooks = os.path.realpath(a.hooks_bin)
    if not os.access(os.path.join(hooks, "etcd-join"), os.X_OK):
        say("FAIL: no etcd-join in %s (build first: meson compile -C build)" % hooks)
        return 1
    cluster = a.cluster or cluster_name(version)
    if cluster == "demo" or cluster == os.environ.get("SIM_TEST_CLUSTER", "simtest"):
        ap.error("cluster '%s' belongs to the demo or the simulator's self-test" % cluster)
    net = a.subnet or subnet(version, cluster)
    sim = Sim(cluster, net, "/run/etcd-hooks-sim/" + cluster,
              {"hooks": hooks, "etcd": etcd_bin, "etcdctl": etcdctl})
    say("e2e: etcd %s (%s), etcdctl %s, hooks %s, cluster %s, subnet 198.18.%d.0/24"
        % (version, etcd_bin, etcdctl, hooks, cluster, net))

    results, times = [], {}
    if a.sanitizer_log:
        try:
            sanitizer_setup(sim, hooks, os.path.realpath(a.sanitizer_log))
        except (Failed, OSError) as e:
            say("FAIL: %s" % e)
            return 1
    try:
        for group in GROUPS:
            scenarios = [(n, f) for n, f in group if not a.only or n in a.only]
            if scenarios:
                sim.down()  # the previous group's cluster, or leftovers of an interrupted run
                run_group(sim, scenarios, version, results, times, a.keep_going)
                if a.sanitizer_log:
                    sim.down()  # every program has exited: its leaks are reported
                    found = sanitizer_findings(os.path.realpath(a.sanitizer_log))
                    results.append(("sanitizers(%s)" % scenarios[0][0],
                                    "\n".join(found) if found else None))
                    say("=== sanitizers after %s: %s" % (
                        ", ".join(n for n, _ in scenarios),
                        "%d report(s)\n%s" % (len(found), "\n".join(found)) if found
                        else "no report"))
    finally:
        if not a.keep:
            sim.down()

    say("\n--- etcd %s results" % version)
    for name, error in results:
        say("%-20s %s" % (name, "PASS" if error is None else "FAIL: " + error.splitlines()[0]))
    for what, secs in times.items():
        say("timing: %-28s %6.2f s" % (what, secs))
    passed = sum(1 for _, e in results if e is None)
    say("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
