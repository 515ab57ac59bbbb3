#!/usr/bin/python3
"""End-to-end tests of etcd-hooks: real etcd servers in the StatefulSet simulator.

    tests/e2e/run_e2e.py --series 3.5.30 [--hooks-bin build/hooks] [--keep] [--only NAME...]
    tests/e2e/run_e2e.py --list-versions

Fetches the etcd server of that version and its etcdctl with tests/fetch-etcd, then runs
scenarios against pods built by sim/sim with the programs of --hooks-bin. The versions of
the matrix are in tests/e2e/versions (meson makes one test of each, run-tests fetches
them); --series takes any version tests/fetch-etcd knows (or a series: 3.5 = 3.5.16).

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
  no-churn            (continues) 3 -> 5; etcd-leave run twice by hand in etcd-4, restarts of
                      etcd-4 (above the initial size), one after a preStop killed after its
                      intent: the member is kept, not churned; then 5 -> 3
  wipe-refused        (continues) etcd-clean --wipe --force while etcd runs: refused
  scale-cycles        (continues) 3 -> 5 -> 3 three times: no leftovers, the quarantine
                      stays bounded
  bad-config          1 pod whose SET_NAME does not match its hostname: the container
                      exits 2, says why in one line (log and termination message) and
                      creates no data dir

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
import json
import os
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
        return self.timed("up", *args, "--timeout", WAIT, "--subnet", str(self.subnet),
                          "--hooks-bin", self.bins["hooks"], "--etcd-bin", self.bins["etcd"],
                          "--etcdctl", self.bins["etcdctl"])

    def down(self):
        self.run("down", check=False, timeout=180)

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


def volume_lost(sim, times, ctx, i):
    """delete-pvc i and restart it: the member is replaced (new ID), the rest unchanged."""
    old = ctx["ids"]["etcd-%d" % i]
    sim.run("delete-pvc", str(i))
    times["volume lost, replace etcd-%d" % i] = sim.timed("restart", str(i), "--timeout", WAIT)
    ids = check_all(sim, without(ctx["ids"], "etcd-%d" % i), 5)
    expect(ids["etcd-%d" % i] != old, "etcd-%d kept its old member ID %x" % (i, old))
    expect(log_has(sim, i, "decision: replace"), "etcd-%d did not decide 'replace'" % i)
    expect(log_has(sim, i, "removed this member's old entry"), "etcd-%d did not remove its old member" % i)
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
    # etcd refuses to remove a running member for 5 s after any member (re)connected
    # (strict reconfiguration, "unhealthy cluster"): retry as an operator would. Asked
    # through the other members only: etcd-4 itself stops as it applies its removal and
    # may answer "etcdserver: server stopped" (seen under load) although it was removed.
    others = ",".join("http://%s:2379" % sim.ip(i) for i in range(4))
    deadline = time.monotonic() + 30
    while True:
        p = subprocess.run(sim.base + ["etcdctl", "member", "remove", "%x" % old,
                                       "--endpoints=" + others],
                           capture_output=True, text=True, timeout=60)
        if p.returncode == 0:
            break
        expect("unhealthy cluster" in p.stderr and time.monotonic() < deadline,
               "etcdctl member remove failed: %s" % p.stderr.strip()[-500:])
        time.sleep(1)
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
    expect("reason=" in reason and "member ID" in reason, "reason file: %r" % reason)
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
    expect("id=%d " % ids4["etcd-3"] in added[0] + " ", "etcd-3 runs as another member than it added")


def bootstrap_ordered(sim, times, ctx):
    times["bootstrap 3, OrderedReady"] = sim.up(str(N))
    ctx["ids"] = check_members(sim)
    write_keys(sim)
    check_keys(sim)
    check_restarts(sim, at_most=0)


def bad_config(sim, times, ctx):
    sim.up("1", "--env", "SET_NAME=wrong", "--no-wait")
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
        sim.run("scale", "5", "--timeout", WAIT)
        check_all(sim, ctx["ids"], 5)
        sim.run("scale", "3", "--timeout", WAIT)
        check_all(sim, ctx["ids"], 3)
        times["cycle %d: 3 -> 5 -> 3" % (cycle + 1)] = time.monotonic() - t0
        for i in (3, 4):
            q = quarantined(sim, i)
            expect(len(q) <= 3, "etcd-%d's quarantine holds %d entries" % (i, len(q)))


GROUPS = [  # scenarios in a group share one cluster; 'sim down' between groups
    [("bootstrap-parallel", bootstrap_parallel), ("restart-and-kill", restart_and_kill),
     ("scale-up-parallel", scale_up_parallel), ("volume-lost-scaled", volume_lost_scaled)],
    [("bootstrap-ordered", bootstrap_ordered), ("scale-up-ordered", scale_up_ordered),
     ("volume-lost-initial", volume_lost_initial), ("removed-returns", removed_returns),
     ("stale-members", stale_members), ("whole-restart", whole_restart)],
    [("crash-after-add", crash_after_add)],
    [("leave-5-3", leave_5_3), ("leader-leaves", leader_leaves), ("leave-3-1", leave_3_1),
     ("quorum-refused", quorum_refused), ("no-churn", no_churn), ("wipe-refused", wipe_refused),
     ("scale-cycles", scale_cycles)],
    [("bad-config", bad_config)],
]


# ----------------------------------------------------------------------------------------


def run_group(sim, scenarios, version, results, times):
    """Run scenarios that share one cluster, in order; after a failure print the logs of
    the failed pods and skip the rest of the group."""
    major, minor = (int(x) for x in version.split(".")[:2])
    ctx, failed = {"learners": (major, minor) >= (3, 4)}, False
    for name, func in scenarios:
        if failed:
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
    try:
        for group in GROUPS:
            scenarios = [(n, f) for n, f in group if not a.only or n in a.only]
            if scenarios:
                sim.down()  # the previous group's cluster, or leftovers of an interrupted run
                run_group(sim, scenarios, version, results, times)
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
