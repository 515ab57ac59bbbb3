#!/usr/bin/python3
"""Self-test of the StatefulSet simulator (sim/sim): does it behave like the kubelet?

The end-to-end tests trust the simulator's pod lifecycle, so this checks it with small
shell containers instead of etcd-join (variants of sim/pod.json written to a temp dir):
pod identity (hostname, env, PATH, DNS, volume, termination log), init containers retried
until they succeed, postStart/preStop order and output, SIGKILL at the end of the grace
period, a failed postStart killing the container, a hook killed when the main process
exits, crash back-off with restartCount, delete-pvc, the faults ('partition', 'heal',
'dns-drop', 'kill-hook', 'fill' of a size-limited volume), the Kubernetes API stub (the
StatefulSet read of etcd-leave, with curl inside a pod: TLS against the pod's ca.crt,
bearer token, replicas following 'scale' as a preStop hook sees them, 401/404/405,
'apiserver stop'/'start'), and a clean 'down'.
Exit status: 0 passed, 1 failed, 77 cannot run here (not root, no etcd for 'up').
Env SIM_TEST_CLUSTER names the simulated cluster (default simtest).
"""

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SIM = os.path.join(REPO, "sim", "sim")
CLUSTER = os.environ.get("SIM_TEST_CLUSTER", "simtest")
STATE = "/run/etcd-hooks-sim/" + CLUSTER
SKIP = 77

LOOP = "while :; do sleep 0.1; done"
GOOD = ("trap 'echo got TERM; exit 0' TERM; echo boot >>/var/run/etcd/boots; "
        "echo \"message from $HOSTNAME\" >/dev/termination-log; " + LOOP)


def say(msg):
    print(msg, flush=True)


class Failed(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Failed(msg)


def sh(script):
    return ["/bin/sh", "-c", script]


def write_spec(tmp, name, main, post_start=None, pre_stop=None, init=None, grace=3):
    """A variant of sim/pod.json whose container runs the shell script main."""
    with open(os.path.join(REPO, "sim", "pod.json")) as f:
        sts = json.load(f)
    pod = sts["spec"]["template"]["spec"]
    pod["terminationGracePeriodSeconds"] = grace
    c = pod["containers"][0]
    c["command"] = sh(main)
    c["lifecycle"] = {}
    if post_start:
        c["lifecycle"]["postStart"] = {"exec": {"command": sh(post_start)}}
    if pre_stop:
        c["lifecycle"]["preStop"] = {"exec": {"command": sh(pre_stop)}}
    # only the shell init container given here, not the spec's etcd-clean
    pod["initContainers"] = []
    if init:
        pod["initContainers"] = [{"name": "init", "command": sh(init), "env": copy.deepcopy(c["env"])}]
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(sts, f)
    return path


class Sim:
    def __init__(self, etcd_bin, etcdctl):
        self.etcd_bin, self.etcdctl = etcd_bin, etcdctl

    def run(self, *args, check=True):
        p = subprocess.run([SIM, "--cluster", CLUSTER] + list(args), capture_output=True,
                           text=True, timeout=180)
        if check and p.returncode != 0:
            raise Failed("sim %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
        return p

    def up(self, spec, n=1, *extra):
        self.run("down")
        self.run("up", str(n), "--no-wait", "--parallel", "--pod-spec", spec, "--hooks-bin", "/nonexistent",
                 "--etcd-bin", self.etcd_bin, "--etcdctl", self.etcdctl, *extra)

    def pod(self, i=0):
        pods = json.loads(self.run("status", "--json", "--pods").stdout)["pods"]
        return [p for p in pods if p["ordinal"] == i][0]

    def exec(self, i, *command):
        return self.run("exec", str(i), "--", *command).stdout

    def log(self, i=0, name="container.log"):
        with open(os.path.join(STATE, "pods", str(i), name)) as f:
            return f.read()

    def wait(self, what, test, timeout=20):
        end = time.monotonic() + timeout
        while True:
            try:
                if test():
                    return
            except (Failed, IndexError, KeyError):
                pass
            if time.monotonic() > end:
                raise Failed("timed out waiting for %s; pod: %s" % (what, self.run("status", "--pods", check=False).stdout))
            time.sleep(0.1)

    def ready(self, i=0):
        self.wait("pod %d Ready" % i, lambda: self.pod(i)["ready"])

    def delete(self, i=0):
        """Delete pod i the way 'restart' does, minus the re-creation: time it."""
        t0 = time.monotonic()
        with open(os.path.join(STATE, "pods", str(i), "deletion"), "w") as f:
            f.write("test\n")
        self.wait("pod %d deleted" % i, lambda: not os.path.exists(os.path.join(STATE, "pods", str(i), "pod.json")), 30)
        return time.monotonic() - t0


# ----------------------------------------------------------------------------------------


def identity(sim, tmp):
    """Two pods: hostname, env, PATH, DNS of both, volume, termination message, restart."""
    sim.up(write_spec(tmp, "identity", GOOD), 2, "--env", "EXTRA=1", "--path-prepend", "/opt/x")
    sim.ready(0)
    sim.ready(1)
    expect(sim.exec(0, "hostname").strip() == "etcd-0", "hostname")
    env = dict(l.split("=", 1) for l in sim.exec(1, "env").splitlines() if "=" in l)
    want = {"HOSTNAME": "etcd-1", "POD_NAME": "etcd-1", "CLUSTER_NAMESPACE": "default", "SET_NAME": "etcd",
            "INITIAL_CLUSTER_SIZE": "2", "ETCD_DATA_DIR": "/var/run/etcd/default.etcd", "EXTRA": "1"}
    expect(all(env.get(k) == v for k, v in want.items()), "env %s, want %s" % (env, want))
    path = env["PATH"].split(":")
    expect(path[0] == "/opt/x" and path[1] == "/nonexistent" and path[2].endswith("/bin")
           and path[3:] == ["/usr/sbin", "/usr/bin", "/sbin", "/bin"], "PATH %s" % path)
    hosts = sim.exec(0, "getent", "hosts", "etcd-1.etcd.default").split()
    expect(hosts[:1] == [sim_ip(1)], "etcd-1.etcd.default resolves to %s" % hosts)
    expect("default.etcd" not in sim.exec(0, "ls", "/var/run/etcd"), "volume not empty")
    expect(sim.exec(0, "cat", "/var/run/etcd/boots").split() == ["boot"], "volume content")
    sim.run("restart", "0", "--no-wait")
    expect(sim.exec(0, "cat", "/var/run/etcd/boots").split() == ["boot", "boot"], "volume kept across restart")
    sim.run("kill", "1", "--no-wait")
    p = sim.pod(1)
    expect(p["restartCount"] == 1 and p["lastExitCode"] == 137, "after kill: %s" % p)
    expect(p["terminationMessage"] == "message from etcd-1", "termination message %r" % p["terminationMessage"])
    sim.run("delete-pvc", "1")
    sim.run("restart", "1", "--no-wait")
    expect(sim.exec(1, "cat", "/var/run/etcd/boots").split() == ["boot"], "volume not replaced after delete-pvc")
    expect(sim.pod(1)["restartCount"] == 0, "a re-created pod starts at restartCount 0")


def sim_state():
    with open(os.path.join(STATE, "state.json")) as f:
        return json.load(f)


def sim_ip(i):
    return "198.18.%d.%d" % (sim_state()["subnet"], 10 + i)


def hooks_and_init(sim, tmp):
    """Init container retried; postStart before Ready; preStop before SIGTERM."""
    init = ("if [ -e /var/run/etcd/init-ran ]; then echo init ok; exit 0; fi; "
            "touch /var/run/etcd/init-ran; echo init fails; exit 3")
    sim.up(write_spec(tmp, "hooks", GOOD, post_start="echo post begins; sleep 1; echo post ends",
                      pre_stop="echo pre begins; sleep 1; echo pre ends", init=init))
    t0 = time.monotonic()
    sim.ready()
    expect(time.monotonic() - t0 >= 1.5, "Ready before init back-off (1 s) and postStart (1 s)")
    took = sim.delete()
    expect(took >= 1, "preStop (1 s) did not delay the deletion: %.2f s" % took)
    log = [l for l in sim.log().splitlines() if not l.startswith("====")]
    want = ["init fails", "init ok", "[postStart] post begins", "[postStart] post ends",
            "[preStop] pre begins", "[preStop] pre ends", "got TERM"]
    expect(log == want, "container log %s, want %s" % (log, want))


def grace_then_sigkill(sim, tmp):
    sim.up(write_spec(tmp, "stubborn", "trap 'echo ignoring TERM' TERM; " + LOOP, grace=2))
    sim.ready()
    took = sim.delete()
    expect(2 <= took < 5, "deletion took %.2f s, want the grace period (2 s)" % took)
    expect("SIGKILL" in sim.log(0, "kubelet.log") and "exited 137" in sim.log(0, "kubelet.log"),
           "no SIGKILL after the grace period")


def failed_post_start(sim, tmp):
    sim.up(write_spec(tmp, "badpost", GOOD, post_start="echo no; exit 1"))
    sim.wait("two restarts", lambda: sim.pod()["restartCount"] >= 2, 15)
    # stopped by SIGTERM: its trap says so, or (a busy machine: the kill came before the
    # shell set its trap) it died of the signal, exit 143
    stopped = sim.log().count("got TERM") + sim.log(0, "kubelet.log").count("container exited 143 ")
    expect(stopped >= 2, "the container was not stopped after postStart failed")


def hook_dies_with_container(sim, tmp):
    main = "trap 'exit 0' USR1; echo $$ >/var/run/etcd/pid; " + LOOP
    pre = "echo pre begins; kill -USR1 $(cat /var/run/etcd/pid); sleep 20; echo pre not killed"
    sim.up(write_spec(tmp, "prekill", main, pre_stop=pre, grace=30))
    sim.ready()
    took = sim.delete()
    expect(took < 5, "deletion took %.2f s: the preStop hook outlived the container" % took)
    expect("pre not killed" not in sim.log(), "the preStop hook went on after the container exited")


def crash_backoff(sim, tmp):
    sim.up(write_spec(tmp, "crash", "echo crash; echo one line reason >/dev/termination-log; exit 5"))
    sim.wait("three restarts", lambda: sim.pod()["restartCount"] >= 3, 20)
    p = sim.pod()
    expect(p["lastExitCode"] == 5 and p["terminationMessage"] == "one line reason", "status %s" % p)
    starts = [l for l in sim.log(0, "kubelet.log").splitlines() if "back-off" in l]
    expect([l.split("back-off ")[1].split()[0] for l in starts[:3]] == ["1", "2", "4"],
           "back-off delays %s, want 1, 2, 4 s" % starts[:3])


SA = "/var/run/secrets/kubernetes.io/serviceaccount"
STS_PATH = "/apis/apps/v1/namespaces/default/statefulsets/etcd"
READ_STS = ('SA=%s; curl -sS --max-time 5 --cacert $SA/ca.crt -H "Authorization: Bearer $(cat $SA/token)" '
            'https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/apis/apps/v1/namespaces/'
            '$(cat $SA/namespace)/statefulsets/$SET_NAME' % SA)


def api(sim, i=0, path=STS_PATH, token="pod", host="$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT",
        method="GET", curl_args=""):
    """curl the API stub from inside pod i with the pod's service account: return (curl's
    exit code, HTTP status, decoded body)."""
    auth = {"pod": '-H "Authorization: Bearer $(cat $SA/token)"',
            "wrong": '-H "Authorization: Bearer not-the-token"', "none": ""}[token]
    script = ('SA=%s; exec curl -sS --max-time 5 --cacert $SA/ca.crt -X %s %s %s -w "\n%%{http_code}" "https://%s%s"'
              % (SA, method, auth, curl_args, host, path))
    p = sim.run("exec", str(i), "--", "/bin/sh", "-c", script, check=False)
    if p.returncode != 0:
        return p.returncode, None, p.stderr.strip()
    body, _, code = p.stdout.rpartition("\n")
    try:
        return 0, int(code), json.loads(body)
    except ValueError:
        raise Failed("%s %s: not a JSON answer: %r" % (method, path, p.stdout[:300]))


def apiserver_running(sim):
    return json.loads(sim.run("status", "--json", "--pods").stdout)["apiServer"]["running"]


def apiserver(sim, tmp):
    """The Kubernetes API stub that etcd-leave reads spec.replicas from."""
    if not shutil.which("curl"):
        raise Failed("curl is not installed (tests/install-deps installs it)")
    main = "echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT >/var/run/etcd/k8s-env; " + GOOD
    sim.up(write_spec(tmp, "api", main, pre_stop=READ_STS + " >/var/run/etcd/prestop.json"), 3)
    for i in range(3):
        sim.ready(i)
    state = sim_state()
    ip = "198.18.%d.2" % state["subnet"]
    st = json.loads(sim.run("status", "--json", "--pods").stdout)["apiServer"]
    expect(st["url"] == "https://%s:6443" % ip and st["running"], "status apiServer %s" % st)
    # what the pod sees: env (container and exec), service account, hosts
    with open(os.path.join(STATE, "volumes", "0", "k8s-env")) as f:
        expect(f.read().strip() == ip + ":6443", "the container's KUBERNETES_SERVICE_HOST:PORT")
    env = dict(l.split("=", 1) for l in sim.exec(1, "env").splitlines() if "=" in l)
    expect(env.get("KUBERNETES_SERVICE_HOST") == ip and env.get("KUBERNETES_SERVICE_PORT") == "6443",
           "exec env %s" % {k: v for k, v in env.items() if k.startswith("KUBERNETES")})
    out = sim.exec(0, "/bin/sh", "-c", "cd %s && stat -L -c '%%n %%a' token ca.crt namespace && cat namespace "
                   "&& echo && { touch x 2>/dev/null && echo writable || echo read-only; }" % SA).split("\n")
    expect(out[:5] == ["token 644", "ca.crt 644", "namespace 644", "default", "read-only"],
           "service account files %s" % out)
    expect(sim.exec(0, "cat", SA + "/token") == state["apiServer"]["token"], "the pod's token")
    keys = [os.stat(os.path.join(STATE, "pki", k)).st_mode & 0o777 for k in ("ca.key", "apiserver.key")]
    expect(keys == [0o600, 0o600], "key modes %s" % [oct(k) for k in keys])
    hosts = sim.exec(2, "getent", "hosts", "kubernetes.default.svc").split()
    expect(hosts[:1] == [ip], "kubernetes.default.svc resolves to %s" % hosts)
    # the StatefulSet, over TLS verified with the pod's ca.crt, by IP and by name
    rc, code, sts = api(sim, 0)
    expect(rc == 0 and code == 200, "GET the StatefulSet: curl %d, HTTP %s: %s" % (rc, code, sts))
    expect(sts["apiVersion"] == "apps/v1" and sts["kind"] == "StatefulSet"
           and sts["metadata"]["name"] == "etcd" and sts["metadata"]["namespace"] == "default"
           and sts["metadata"]["uid"] and sts["metadata"]["resourceVersion"]
           and sts["spec"]["replicas"] == 3 and sts["spec"]["serviceName"] == "etcd"
           and sts["spec"]["podManagementPolicy"] == "Parallel"
           and sts["status"]["replicas"] == 3 and sts["status"]["readyReplicas"] == 3,
           "the StatefulSet %s" % sts)
    for host in ("kubernetes.default.svc:6443", "kubernetes:6443"):
        rc, code, _ = api(sim, 1, host=host)
        expect(rc == 0 and code == 200, "GET via %s: curl %d, HTTP %s" % (host, rc, code))
    # the certificate is really checked: not without the CA, not for a name it does not carry
    p = sim.run("exec", "0", "--", "curl", "-sS", "--max-time", "5", "https://kubernetes.default.svc:6443/", check=False)
    expect(p.returncode == 60, "curl without the pod's CA: exit %d, want 60 (%s)" % (p.returncode, p.stderr.strip()))
    rc, code, _ = api(sim, 0, host="wrong.example:6443", curl_args="--resolve wrong.example:6443:" + ip)
    expect(rc == 60, "a name not in the certificate: curl exit %d, want 60" % rc)
    # errors: Kubernetes Status objects
    unauthorized = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
    for token in ("wrong", "none"):
        rc, code, body = api(sim, 0, token=token)
        expect(rc == 0 and code == 401 and body == unauthorized, "token %s: HTTP %s %s" % (token, code, body))
    for path, message in (("/apis/apps/v1/namespaces/default/statefulsets/nope", 'statefulsets.apps "nope" not found'),
                          ("/apis/apps/v1/namespaces/other/statefulsets/etcd", 'statefulsets.apps "etcd" not found'),
                          ("/api/v1/namespaces/default/pods", None)):
        rc, code, body = api(sim, 0, path=path)
        expect(rc == 0 and code == 404 and body["kind"] == "Status" and body["reason"] == "NotFound"
               and body["code"] == 404 and (message is None or body["message"] == message),
               "GET %s: HTTP %s %s" % (path, code, body))
    rc, code, body = api(sim, 0, method="POST")
    expect(rc == 0 and code == 405 and body["reason"] == "MethodNotAllowed", "POST: HTTP %s %s" % (code, body))
    # PATCH (merge patch) of metadata.annotations; ?dryRun=All is checked alike, stores nothing
    merge = "-H 'Content-Type: application/merge-patch+json' -d '%s'"
    mark = merge % '{"metadata":{"annotations":{"x.io/k":"v"}}}'
    rc, code, body = api(sim, 0, path=STS_PATH + "?dryRun=All", method="PATCH", curl_args=mark)
    expect(rc == 0 and code == 200 and body["kind"] == "StatefulSet"
           and "x.io/k" not in body["metadata"].get("annotations", {}),
           "dry-run PATCH: HTTP %s %s" % (code, body))
    rc, code, body = api(sim, 0, path=STS_PATH + "?dryRun=Bogus", method="PATCH", curl_args=mark)
    expect(rc == 0 and code == 400, "PATCH ?dryRun=Bogus: HTTP %s %s" % (code, body))
    rc, code, body = api(sim, 0, method="PATCH", curl_args=mark)
    expect(rc == 0 and code == 200 and body["metadata"]["annotations"].get("x.io/k") == "v",
           "PATCH: HTTP %s %s" % (code, body))
    rc, code, body = api(sim, 0, method="PATCH", curl_args=merge % '{"spec":{"replicas":9}}')
    expect(rc == 0 and code == 400, "PATCH of spec: HTTP %s %s" % (code, body))
    sim.run("apiserver", "mode", "readonly")
    for path in (STS_PATH, STS_PATH + "?dryRun=All"):
        rc, code, body = api(sim, 0, path=path, method="PATCH", curl_args=mark)
        expect(rc == 0 and code == 403 and body["reason"] == "Forbidden",
               "readonly: PATCH %s: HTTP %s %s" % (path, code, body))
    rc, code, body = api(sim, 0)
    expect(code == 200 and body["metadata"]["annotations"].get("x.io/k") == "v",
           "readonly: GET HTTP %s %s" % (code, body))
    sim.run("apiserver", "mode", "normal")
    # scale 3 -> 1: the preStop hooks of the deleted pods read the new replicas
    sim.run("scale", "1", "--no-wait")
    for i in (1, 2):
        with open(os.path.join(STATE, "volumes", str(i), "prestop.json")) as f:
            seen = json.load(f)
        expect(seen["spec"]["replicas"] == 1, "pod %d's preStop saw spec.replicas %s, want 1" % (i, seen["spec"]["replicas"]))
    rc, code, sts = api(sim, 0)
    expect(code == 200 and sts["spec"]["replicas"] == 1 and sts["status"]["replicas"] == 1,
           "after scale 1: HTTP %s %s" % (code, sts and sts.get("spec")))
    # stop: connection refused (curl exit 7); start: answers again
    sim.run("apiserver", "stop")
    expect(not apiserver_running(sim), "status says the stopped stub runs")
    rc, code, _ = api(sim, 0)
    expect(rc == 7, "GET with the stub stopped: curl exit %d, want 7 (connection refused)" % rc)
    sim.run("apiserver", "start")
    expect(apiserver_running(sim), "status says the started stub does not run")
    rc, code, sts = api(sim, 0)
    expect(rc == 0 and code == 200 and sts["spec"]["replicas"] == 1, "GET after start: curl %d, HTTP %s" % (rc, code))
    with open(os.path.join(STATE, "apiserver.log")) as f:
        log = f.read()
    expect(state["apiServer"]["token"] not in log, "the token is in apiserver.log")
    for want in (" GET %s 200 token=match" % STS_PATH, " 401 token=wrong", " 401 token=missing",
                 "/statefulsets/nope 404 token=match", " POST %s 405 token=match" % STS_PATH):
        expect(want in log, "apiserver.log has no line with %r:\n%s" % (want, log[-2000:]))
    sim.run("down")
    left = leftovers()
    expect(not left, "down left things behind: %s" % left)


def reach(sim, i, j, port):
    """From pod i, does TCP to pod j's port answer within 2 s? curl's exit code: 0 an
    answer, 7 refused, 28 timed out."""
    p = sim.run("exec", str(i), "--", "curl", "-s", "-o", "/dev/null", "--max-time", "2",
                "http://%s:%d/" % (sim_ip(j), port), check=False)
    return p.returncode


SERVE = ("cd /var/run/etcd && python3 -m http.server 2379 >/dev/null 2>&1 & "
         "cd /var/run/etcd && python3 -m http.server 2380 >/dev/null 2>&1 & " + GOOD)


def partition(sim, tmp):
    """'partition I' drops pod I's traffic both ways (calls time out, nothing refuses);
    '--peer' only its peer port's; 'heal' ends it."""
    if not shutil.which("curl") or not shutil.which("clang"):
        raise Failed("curl and clang are needed (tests/install-deps installs them)")
    sim.up(write_spec(tmp, "serve", SERVE), 2)
    sim.ready(0)
    sim.ready(1)
    sim.wait("pod 1's servers", lambda: reach(sim, 0, 1, 2379) == 0 and reach(sim, 0, 1, 2380) == 0)
    sim.run("partition", "1", "--peer")
    expect(reach(sim, 0, 1, 2380) == 28, "--peer: the peer port still answers")
    expect(reach(sim, 0, 1, 2379) == 0, "--peer: the client port is cut too")
    expect(reach(sim, 1, 0, 2380) == 28, "--peer: pod 1 still reaches pod 0's peer port")
    sim.run("partition", "1")
    expect(reach(sim, 0, 1, 2379) == 28 and reach(sim, 1, 0, 2379) == 28,
           "a partition: pod 1 still talks to pod 0")
    sim.run("heal", "1")
    expect(reach(sim, 0, 1, 2380) == 0 and reach(sim, 1, 0, 2379) == 0, "heal: still cut")


def dns_drop(sim, tmp):
    """'dns-drop I SECONDS': pod I's name does not resolve for that long, then does."""
    sim.up(write_spec(tmp, "dns", GOOD), 2)
    sim.ready(1)
    name = "etcd-1.etcd.default"
    resolves = lambda: sim.run("exec", "0", "--", "getent", "hosts", name, check=False).returncode == 0
    expect(resolves(), "%s does not resolve" % name)
    t0 = time.monotonic()
    sim.run("dns-drop", "1", "3")
    expect(not resolves(), "%s resolves during its dns-drop" % name)
    sim.wait("%s to resolve again" % name, resolves, 15)
    expect(time.monotonic() - t0 >= 2.9, "%s back after %.1f s, not 3 s" % (name, time.monotonic() - t0))


def kill_hook(sim, tmp):
    """'kill-hook I': a running postStart SIGKILLed (the container is then killed and
    restarted, as a failed postStart does)."""
    sim.up(write_spec(tmp, "slowpost", GOOD, post_start="echo post begins; sleep 30; echo post ends"))
    sim.run("kill-hook", "0", "--hook", "postStart", "--within", "0.5", "--seed", "1")
    sim.wait("the container restarted", lambda: sim.pod()["restartCount"] >= 1, 20)
    expect("postStart exited 137" in sim.log(0, "kubelet.log"), "no killed postStart in the kubelet log")
    expect("post ends" not in sim.log(), "the postStart hook was not killed")


def fill(sim, tmp):
    """'up --volume-size MIB' gives size-limited volumes; 'fill I' fills one (ENOSPC),
    'unfill I' frees it; 'delete-pvc' still removes it."""
    sim.up(write_spec(tmp, "fill", GOOD), 1, "--volume-size", "4")
    sim.ready()
    write = ["sh", "-c", "dd if=/dev/zero of=/var/run/etcd/x bs=1k count=64 2>&1"]
    sim.run("fill", "0")
    p = sim.run("exec", "0", "--", *write, check=False)
    expect(p.returncode != 0 and "No space left" in p.stdout + p.stderr, "a full volume took 64 KiB: %r" % p.stdout)
    sim.run("unfill", "0")
    p = sim.run("exec", "0", "--", *write, check=False)
    expect(p.returncode == 0, "the volume is still full after unfill: %r" % p.stdout)
    sim.run("delete-pvc", "0")
    sim.delete()
    expect(not os.path.exists(os.path.join(STATE, "volumes", "0")), "the volume outlived its claim")


SCENARIOS = [identity, hooks_and_init, grace_then_sigkill, failed_post_start,
             hook_dies_with_container, crash_backoff, apiserver, partition, dns_drop, kill_hook,
             fill]


def leftovers():
    """Namespaces or processes of the test cluster that survived 'down'."""
    ns = [l.split()[0] for l in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                               text=True).stdout.splitlines()
          if l.startswith(CLUSTER + "-")]
    procs = [l for l in subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout.splitlines()
             if "--cluster %s " % CLUSTER in l and ("_kubelet" in l or "_apiserver" in l)]
    # the host never gets an address in the simulated subnets
    addrs = [l for l in subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout.splitlines()
             if " inet 198.18." in l]
    return ns + procs + addrs + ([STATE] if os.path.exists(STATE) else [])


def main():
    if os.geteuid() != 0:
        say("*** SKIPPED: the simulator needs root ***")
        return SKIP
    dirs = []
    for what in ("3.4.23", "etcdctl"):
        p = subprocess.run([os.path.join(REPO, "tests", "fetch-etcd"), "--dir", what],
                           capture_output=True, text=True)
        if p.returncode != 0:
            say("*** SKIPPED: tests/fetch-etcd --dir %s failed: %s ***" % (what, p.stderr.strip()))
            return SKIP
        dirs.append(p.stdout.strip())
    sim = Sim(dirs[0], os.path.join(dirs[1], "etcdctl"))
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        only = sys.argv[1:]  # scenario names: run only these
        for scenario in [f for f in SCENARIOS if not only or f.__name__ in only]:
            t0 = time.monotonic()
            try:
                scenario(sim, tmp)
                passed += 1
                say("PASS %-26s %5.1f s" % (scenario.__name__, time.monotonic() - t0))
            except Failed as e:
                failed += 1
                say("FAIL %-26s %s" % (scenario.__name__, e))
                for name in ("kubelet.log", "container.log"):
                    try:
                        say("---- pod 0 %s\n%s" % (name, sim.log(0, name)[-3000:]))
                    except OSError:
                        pass
            finally:
                sim.run("down", check=False)
    left = leftovers()
    if left:
        failed += 1
        say("FAIL down left things behind: %s" % left)
    say("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
