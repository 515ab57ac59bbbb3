#!/usr/bin/python3
"""End-to-end tests of etcd-hooks: real etcd servers in the StatefulSet simulator.

    tests/e2e/run_e2e.py --series 3.4 [--hooks-bin build/hooks] [--keep] [--only NAME...]

Fetches the etcd server of the series and etcdctl with tests/fetch-etcd, then runs
scenarios against pods built by sim/sim with the programs of --hooks-bin:

  bootstrap-parallel  3 pods, podManagementPolicy Parallel; write keys
  restart-and-kill    (continues the cluster above) restart every pod gracefully in turn,
                      then SIGKILL one container; after each step: 3 started members with
                      the IDs of the bootstrap, the keys readable, no pod restarted twice
  bootstrap-ordered   3 pods, OrderedReady
  bad-config          1 pod whose SET_NAME does not match its hostname: the container
                      exits 2, says why in one line (log and termination message) and
                      creates no data dir

Each series has its own cluster name, subnet and state dir. 'sim down' runs after each
scenario group, also on failure, after the logs of the failed pods are printed.
Exit status: 0 all passed, 1 a scenario failed, 77 cannot run here (not root, no etcd).
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import time
import traceback

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


def check_members(sim, want_ids=None):
    """N started voting members (with the IDs of want_ids if given); return the IDs."""
    members = sim.members()
    ids = {m["ID"] for m in members}
    names = sorted(m.get("name", "") for m in members)
    expect(len(members) == N, "want %d members, member list has %d: %s" % (N, len(members), names))
    # started = has published its client URLs: an initial member that never ran already
    # has the name that --initial-cluster gave it
    expect(all(m.get("name") and m.get("clientURLs") for m in members),
           "unstarted members: %s" % members)
    expect(not any(m.get("isLearner") for m in members), "learners left: %s" % members)
    expect(names == ["etcd-%d" % i for i in range(N)], "member names %s" % names)
    if want_ids is not None:
        expect(ids == want_ids, "member IDs changed: %s -> %s" % (
            sorted("%x" % i for i in want_ids), sorted("%x" % i for i in ids)))
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


def check_all(sim, ids):
    check_members(sim, ids)
    check_keys(sim)
    check_restarts(sim)


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


def bootstrap_ordered(sim, times, ctx):
    times["bootstrap 3, OrderedReady"] = sim.up(str(N))
    check_members(sim)
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


GROUPS = [  # scenarios in a group share one cluster; 'sim down' between groups
    [("bootstrap-parallel", bootstrap_parallel), ("restart-and-kill", restart_and_kill)],
    [("bootstrap-ordered", bootstrap_ordered)],
    [("bad-config", bad_config)],
]


# ----------------------------------------------------------------------------------------


def run_group(sim, scenarios, series, results, times):
    """Run scenarios that share one cluster, in order; after a failure print the logs of
    the failed pods and skip the rest of the group."""
    ctx, failed = {}, False
    for name, func in scenarios:
        if failed:
            results.append((name, "not run (an earlier scenario of its group failed)"))
            continue
        say("\n=== %s (etcd %s)" % (name, series))
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


def skip(reason):
    say("\n*** SKIPPED: %s ***\n" % reason)
    sys.exit(SKIP)


def fetch(series):
    """The bin dirs of the etcd server of the series and of etcdctl (skip if unavailable)."""
    dirs = {}
    for what in (series, "etcdctl"):
        p = subprocess.run([FETCH, "--dir", what], capture_output=True, text=True)
        if p.returncode != 0:
            skip("cannot fetch etcd %s with tests/fetch-etcd: %s" % (what, p.stderr.strip()))
        dirs[what] = p.stdout.strip()
    return dirs[series], os.path.join(dirs["etcdctl"], "etcdctl")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", required=True, help="etcd series: 3.3, 3.4, 3.5")
    ap.add_argument("--hooks-bin", default=os.path.join(REPO, "build", "hooks"))
    ap.add_argument("--cluster", help="cluster name (default: e2e + series digits)")
    ap.add_argument("--keep", action="store_true", help="leave the last cluster up")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run only these scenarios")
    a = ap.parse_args()

    if os.geteuid() != 0:
        skip("the end-to-end tests need root (network and mount namespaces)")
    etcd_bin, etcdctl = fetch(a.series)
    hooks = os.path.realpath(a.hooks_bin)
    if not os.access(os.path.join(hooks, "etcd-join"), os.X_OK):
        say("FAIL: no etcd-join in %s (build first: meson compile -C build)" % hooks)
        return 1
    major, minor = a.series.split(".")
    cluster = a.cluster or "e2e%s%s" % (major, minor)
    sim = Sim(cluster, 200 + int(minor) % 50, "/run/etcd-hooks-sim/" + cluster,
              {"hooks": hooks, "etcd": etcd_bin, "etcdctl": etcdctl})
    say("e2e: etcd %s (%s), etcdctl %s, hooks %s, cluster %s"
        % (a.series, etcd_bin, etcdctl, hooks, cluster))

    results, times = [], {}
    try:
        for group in GROUPS:
            scenarios = [(n, f) for n, f in group if not a.only or n in a.only]
            if scenarios:
                sim.down()  # the previous group's cluster, or leftovers of an interrupted run
                run_group(sim, scenarios, a.series, results, times)
    finally:
        if not a.keep:
            sim.down()

    say("\n--- etcd %s results" % a.series)
    for name, error in results:
        say("%-20s %s" % (name, "PASS" if error is None else "FAIL: " + error.splitlines()[0]))
    for what, secs in times.items():
        say("timing: %-28s %6.2f s" % (what, secs))
    passed = sum(1 for _, e in results if e is None)
    say("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
