#!/usr/bin/env python3
"""Structural checks of the packaging examples (schema-light).

- rootwalk.service: the capability and sandbox settings the README promises,
  and a flag set rootwalk accepts;
- k8s-sidecar.yaml: valid YAML; a ConfigMap of zones that load; a Pod whose
  rootwalk is a native sidecar (an init container with restartPolicy
  Always and a startup probe on /ready, so the app starts after it), with
  /healthz and /ready probes on its --http port, the zones mounted at
  --zones-dir, the cluster DNS from the environment, flags rootwalk accepts,
  and the pod's DNS pointed at it; and the whole Pod within Pod Security
  "restricted" (the rules are below, in restricted());
- Containerfile: Debian 12 stages, the runtime packages that hold the
  libraries the binary links, a non-root user, and build commands that
  work (run here, on this tree, with --build).
Prints one line per failed check; exit 0 when all pass.

usage: check.py DIR PATH/TO/rootwalk [--build]
       check.py --self-test DIR PATH/TO/rootwalk   (each planted violation
                                                  must be caught)"""
import configparser
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml  # python3-yaml

# Pod Security Standards, "restricted" (which includes "baseline").
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}
VOLUME_TYPES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                "persistentVolumeClaim", "projected", "secret"}


def restricted(pod, need):
    """The Pod Security "restricted" rules for a pod spec."""
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        need(not pod.get(key), "restricted: %s is not allowed" % key)
    psc = pod.get("securityContext") or {}
    for s in psc.get("sysctls") or []:
        need(s.get("name") in SAFE_SYSCTLS, "restricted: sysctl %s is not a safe one" % s.get("name"))
    for v in pod.get("volumes") or []:
        kinds = set(v) - {"name"}
        need(kinds <= VOLUME_TYPES, "restricted: volume %s of type %s" % (v.get("name"), kinds))
    for c in (pod.get("initContainers") or []) + (pod.get("containers") or []):
        n = c.get("name")
        sc = c.get("securityContext") or {}
        need(not sc.get("privileged"), "restricted: %s is privileged" % n)
        need(sc.get("allowPrivilegeEscalation") is False,
             "restricted: %s needs allowPrivilegeEscalation: false" % n)
        non_root = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        need(non_root is True, "restricted: %s needs runAsNonRoot: true" % n)
        need(sc.get("runAsUser", psc.get("runAsUser")) != 0, "restricted: %s runs as uid 0" % n)
        sec = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        need(sec in ("RuntimeDefault", "Localhost"),
             "restricted: %s needs seccompProfile RuntimeDefault or Localhost" % n)
        caps = sc.get("capabilities") or {}
        need("ALL" in (caps.get("drop") or []), "restricted: %s must drop ALL capabilities" % n)
        need(set(caps.get("add") or []) <= {"NET_BIND_SERVICE"},
             "restricted: %s adds capabilities %s" % (n, caps.get("add")))
        for p in c.get("ports") or []:
            need(not p.get("hostPort"), "restricted: %s uses a hostPort" % n)


def check_unit(d, rootwalk, need):
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string(open(d + "/rootwalk.service").read().replace("SystemCallFilter=~",
                                                                  "SystemCallFilterNot="))
    svc = unit["Service"] if unit.has_section("Service") else {}
    need(unit.has_section("Unit") and unit.has_section("Install"), "unit: [Unit] and [Install]")
    need(svc.get("AmbientCapabilities") == "CAP_NET_BIND_SERVICE",
         "unit: AmbientCapabilities=CAP_NET_BIND_SERVICE")
    need(svc.get("CapabilityBoundingSet") == "CAP_NET_BIND_SERVICE", "unit: bounded capabilities")
    for key in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp",
                "RestrictAddressFamilies", "SystemCallFilter", "MemoryDenyWriteExecute"):
        need(key in svc, "unit: " + key)
    need(svc.get("ExecReload", "").endswith("-HUP $MAINPID"), "unit: ExecReload sends SIGHUP")
    need(svc.get("Type") == "notify", "unit: Type=notify (rootwalk sends READY=1)")
    exe = svc.get("ExecStart", "").split()
    # where `meson install` puts the binary and the default configuration
    # must be where the unit looks (the build dir: the binary's, three up)
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(rootwalk))))
    r = subprocess.run(["meson", "introspect", build, "--installed"], capture_output=True, text=True)
    installed = json.loads(r.stdout) if r.returncode == 0 else {}
    dests = {os.path.basename(k): v for k, v in installed.items()}
    need(exe[:1] == [dests.get("rootwalk")], "unit: ExecStart runs the installed binary %s, not %s"
         % (dests.get("rootwalk"), exe[:1]))
    conf = exe[exe.index("--config") + 1] if "--config" in exe else None
    need(conf is not None and conf == dests.get("rootwalk.yaml"),
         "unit: --config names the installed default configuration %s" % dests.get("rootwalk.yaml"))
    need(dests.get("rootwalk.service", "").endswith("/lib/systemd/system/rootwalk.service"),
         "unit: meson installs the unit where systemd looks")
    # the default configuration, with the unit's other flags, passes
    args = [a for a in exe[1:] if a not in ("--config", conf)]
    r = subprocess.run([rootwalk, "--config", d + "/rootwalk.yaml"] + args + ["--check-config"],
                       capture_output=True, text=True)
    need(r.returncode == 0, "unit: the default configuration is refused: " + r.stderr.strip())
    # systemd's own verdict, on a copy running this build's binary
    with tempfile.TemporaryDirectory() as t:
        text = open(d + "/rootwalk.service").read().replace(exe[0], os.path.abspath(rootwalk))
        with open(os.path.join(t, "rootwalk.service"), "w", encoding="utf-8") as f:
            f.write(text)
        r = subprocess.run(["systemd-analyze", "verify", os.path.join(t, "rootwalk.service")],
                           capture_output=True, text=True)
        need(r.returncode == 0 and not r.stderr.strip() and not r.stdout.strip(),
             "unit: systemd-analyze verify: " + (r.stderr + r.stdout).strip()[-300:])


def expand(arg, env):
    """Kubernetes' $(VAR) expansion in args."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), arg)


def check_k8s(docs, rootwalk, need):
    kinds = {x.get("kind"): x for x in docs}
    need("ConfigMap" in kinds and "Pod" in kinds, "k8s: a ConfigMap and a Pod")
    cm = kinds.get("ConfigMap", {})
    zones = cm.get("data", {})
    need(any(k.endswith(".zone") for k in zones), "k8s: zone files in the ConfigMap")
    pod = kinds.get("Pod", {}).get("spec", {})
    restricted(pod, need)
    inits = {c.get("name"): c for c in pod.get("initContainers") or []}
    cs = {c.get("name"): c for c in pod.get("containers") or []}
    rw = inits.get("rootwalk", {})
    need(rw != {}, "k8s: rootwalk is an init container (a native sidecar)")
    need(rw.get("restartPolicy") == "Always", "k8s: the sidecar has restartPolicy: Always")
    need((rw.get("startupProbe") or {}).get("httpGet", {}).get("path") == "/ready",
         "k8s: a startup probe on /ready (the app starts after rootwalk serves)")
    need((rw.get("livenessProbe") or {}).get("httpGet", {}).get("path") == "/healthz",
         "k8s: liveness probe on /healthz")
    need((rw.get("readinessProbe") or {}).get("httpGet", {}).get("path") == "/ready",
         "k8s: readiness probe on /ready")
    env = {e.get("name"): str(e.get("value", "")) for e in rw.get("env") or []}
    args = [expand(a, env) for a in rw.get("args") or []]
    port = (rw.get("readinessProbe") or {}).get("httpGet", {}).get("port")
    need(any(a == "--http=0.0.0.0:%s" % port for a in args), "k8s: probes hit the --http port")
    need(any(a.startswith("--forward=$(") for a in rw.get("args") or []) and
         all("$(" not in a for a in args), "k8s: the cluster DNS comes from the environment")
    mounts = {m["name"]: m["mountPath"] for m in rw.get("volumeMounts") or []}
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    need(any(vols.get(n, {}).get("configMap", {}).get("name") == cm.get("metadata", {}).get("name")
             and "--zones-dir=" + p in args for n, p in mounts.items()),
         "k8s: the zones ConfigMap is mounted at --zones-dir")
    need("--watch-zones" in args, "k8s: --watch-zones follows the ConfigMap's updates")
    listen = [a.split("=", 1)[1].rsplit(":", 1)[0] for a in args if a.startswith("--listen=")]
    need(pod.get("dnsPolicy") == "None" and
         any(ns in listen for ns in pod.get("dnsConfig", {}).get("nameservers", [])),
         "k8s: the pod's DNS points at the sidecar's --listen address")
    need("app" in cs, "k8s: an app container")
    # the sidecar's flags must be ones rootwalk accepts
    a = [x for x in args if not x.startswith("--zones-dir=")]
    r = subprocess.run([rootwalk] + a + ["--check-config"], capture_output=True, text=True)
    need(r.returncode == 0, "k8s: sidecar args rejected: " + r.stderr.strip())
    # and the ConfigMap's zones must load
    with tempfile.TemporaryDirectory() as t:
        for k, v in zones.items():
            with open(os.path.join(t, k), "w", encoding="utf-8") as f:
                f.write(v)
        r = subprocess.run([rootwalk, "--zones-dir", t, "--check-config"], capture_output=True,
                           text=True)
        need(r.returncode == 0, "k8s: ConfigMap zones do not load: " + r.stderr.strip())


def check_node_local(docs, rootwalk, need):
    """The node-local cache's DaemonSet (a node component: host network,
    NET_ADMIN for its set-up; not a "restricted" pod)."""
    kinds = {(x.get("kind"), x.get("metadata", {}).get("name")): x for x in docs}
    ds = kinds.get(("DaemonSet", "rootwalk-node-local"), {})
    need(ds != {}, "node-local: a DaemonSet")
    need(("Service", "kube-dns-upstream") in kinds, "node-local: the kube-dns-upstream Service")
    pod = ds.get("spec", {}).get("template", {}).get("spec", {})
    need(pod.get("hostNetwork") is True, "node-local: on the host network")
    inits = pod.get("initContainers") or []
    need(any("node-local-setup" in " ".join(c.get("command") or []) for c in inits),
         "node-local: an init container runs node-local-setup")
    rw = {c.get("name"): c for c in pod.get("containers") or []}.get("rootwalk", {})
    env = {e.get("name"): str(e.get("value", "")) for e in rw.get("env") or []}
    env["KUBE_DNS_UPSTREAM_SERVICE_HOST"] = "10.96.0.11"  # injected by Kubernetes
    args = [expand(a, env) for a in rw.get("args") or []]
    need(all("$(" not in a for a in args), "node-local: every $(VAR) in the args is defined")
    fz = [a for a in args if a.startswith("--forward-zone=cluster.local=")]
    need(fz and " tcp" in fz[0], "node-local: the cluster zone goes to the cluster DNS over TCP")
    need(any(a.startswith("--forward-zone=in-addr.arpa=") for a in args),
         "node-local: reverse lookups go to the cluster DNS")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/ready")):
        g = (rw.get(probe) or {}).get("httpGet", {})
        need(g.get("path") == path and "--http=%s:%s" % (g.get("host"), g.get("port")) in args,
             "node-local: %s on %s at the --http address" % (probe, path))
    r = subprocess.run([rootwalk] + [a for a in args if not a.startswith("--user=")] +
                       ["--check-config"], capture_output=True, text=True)
    need(r.returncode == 0, "node-local: args rejected: " + r.stderr.strip())


def check_controller(d, docs, need):
    """The zones controller: a restricted pod whose account may only read
    services, endpoint slices and pods and write its one ConfigMap, running
    tools/k8s-zones with arguments it accepts."""
    kinds = {x.get("kind"): x for x in docs}
    dep = kinds.get("Deployment", {})
    pod = dep.get("spec", {}).get("template", {}).get("spec", {})
    need(pod != {}, "controller: a Deployment")
    restricted(pod, lambda c, w: need(c, "controller: " + w))
    for kind in ("ClusterRole", "Role"):
        for rule in kinds.get(kind, {}).get("rules", []):
            need("*" not in rule.get("verbs", []) and "*" not in rule.get("resources", []),
                 "controller: %s grants '*'" % kind)
            if kind == "ClusterRole":
                need(set(rule.get("verbs", [])) <= {"get", "list", "watch"},
                     "controller: the ClusterRole only reads")
    need(pod.get("serviceAccountName") == kinds.get("ServiceAccount", {}).get("metadata", {}).get("name"),
         "controller: runs as its ServiceAccount")
    c = (pod.get("containers") or [{}])[0]
    need(c.get("command") == ["/usr/local/bin/k8s-zones"], "controller: runs k8s-zones")
    with tempfile.TemporaryDirectory() as t:
        args = [a.replace("/work", t) for a in c.get("args") or []]
        r = subprocess.run([os.path.join(os.path.dirname(os.path.abspath(d)), "k8s-zones")] + args +
                           ["--iterations", "1", "--kubectl", "/bin/false"], capture_output=True,
                           text=True, timeout=60)
        need(r.returncode == 0 and "kubectl failed" in r.stderr,
             "controller: k8s-zones refuses its args: " + r.stderr.strip()[-300:])


def check_containerfile(d, rootwalk, build, need):
    text = open(d + "/Containerfile").read().replace("\\\n", " ")
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    need(froms and all(f.startswith("debian:12") for f in froms), "Containerfile: Debian 12 stages")
    need(len(froms) >= 2, "Containerfile: a build stage and a runtime stage")
    stages = re.split(r"^FROM\s", text, flags=re.M)
    runtime = stages[2] if len(stages) > 2 else ""
    # the packages holding the libraries the binary links
    libs = [l.split()[2] for l in subprocess.run(["ldd", rootwalk], capture_output=True,
                                                 text=True).stdout.splitlines() if "=>" in l]
    for lib in libs:
        r = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True, text=True)
        if r.returncode != 0:
            r = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
        pkg = r.stdout.split(":")[0] if r.returncode == 0 else None
        # the C library, and a sanitizer build's runtime (the test runs
        # under ASan too), are not the image's business
        if pkg and pkg not in ("libc6", "libgcc-s1", "libstdc++6") and \
                not re.match(r"lib[a-z]*san\d", pkg):
            need(re.search(r"\b%s\b" % re.escape(pkg), runtime),
                 "Containerfile: the runtime stage installs %s (%s)" % (pkg, os.path.basename(lib)))
    user = re.findall(r"^USER\s+(\S+)", runtime, re.M)
    need(user and not user[-1].split(":")[0] in ("0", "root"), "Containerfile: a non-root USER")
    need(re.search(r"COPY --from=build \S+/rootwalk /usr/local/sbin/rootwalk", runtime),
         "Containerfile: the binary from the build stage")
    m = re.search(r"RUN (meson setup .*?ninja -C \S+ src/daemon/rootwalk)", text)
    need(m is not None, "Containerfile: a meson build of rootwalk")
    if build and m:
        # the build commands, run here on this tree into a scratch folder
        top = os.path.dirname(os.path.dirname(os.path.abspath(d)))
        with tempfile.TemporaryDirectory() as t:
            cmd = m.group(1).replace("/build", os.path.join(t, "b"))
            r = subprocess.run(["bash", "-c", cmd], cwd=top, capture_output=True, text=True,
                               timeout=600)
            need(r.returncode == 0 and os.path.exists(os.path.join(t, "b/src/daemon/rootwalk")),
                 "Containerfile: its build commands fail here: " + r.stdout[-300:] + r.stderr[-300:])


def run(d, rootwalk, build, docs=None):
    bad = []

    def need(cond, what):
        if not cond:
            bad.append(what)
    if docs is None:
        check_unit(d, rootwalk, need)
        check_containerfile(d, rootwalk, build, need)
        check_node_local([x for x in yaml.safe_load_all(open(d + "/k8s-node-local.yaml")) if x],
                         rootwalk, need)
        check_controller(d, [x for x in yaml.safe_load_all(open(d + "/k8s-zones-controller.yaml"))
                             if x], need)
        docs = [x for x in yaml.safe_load_all(open(d + "/k8s-sidecar.yaml")) if x]
    check_k8s(docs, rootwalk, need)
    return bad


def self_test(d, rootwalk):
    """Each violation planted in a copy of the manifest must be caught."""
    base = [x for x in yaml.safe_load_all(open(d + "/k8s-sidecar.yaml")) if x]
    pod = lambda docs: next(x for x in docs if x.get("kind") == "Pod")["spec"]
    side = lambda docs: pod(docs)["initContainers"][0]
    plants = {
        "runs as root": lambda x: pod(x)["securityContext"].update(runAsNonRoot=False, runAsUser=0),
        "a capability": lambda x: side(x)["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
        "no drop ALL": lambda x: side(x)["securityContext"]["capabilities"].update(drop=[]),
        "privilege escalation": lambda x: side(x)["securityContext"].update(allowPrivilegeEscalation=True),
        "no seccomp": lambda x: pod(x)["securityContext"].pop("seccompProfile"),
        "hostNetwork": lambda x: pod(x).update(hostNetwork=True),
        "an unsafe sysctl": lambda x: pod(x)["securityContext"]["sysctls"].append(
            {"name": "net.core.somaxconn", "value": "1024"}),
        "a hostPath volume": lambda x: pod(x)["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
        "a hostPort": lambda x: side(x)["ports"][0].update(hostPort=9153),
        "not a native sidecar": lambda x: side(x).pop("restartPolicy"),
        "no startup probe": lambda x: side(x).pop("startupProbe"),
        "a hard-coded cluster DNS": lambda x: side(x).update(
            args=[a if not a.startswith("--forward=") else "--forward=10.96.0.10" for a in side(x)["args"]]),
        "a flag rootwalk refuses": lambda x: side(x)["args"].append("--no-such-flag"),
    }
    nl_base = [x for x in yaml.safe_load_all(open(d + "/k8s-node-local.yaml")) if x]
    ds = lambda docs: next(x for x in docs if x.get("kind") == "DaemonSet")["spec"]["template"]["spec"]
    nl_plants = {
        "node-local: UDP to the cluster DNS": lambda x: ds(x)["containers"][0].update(args=[
            a.replace(" tcp", "") for a in ds(x)["containers"][0]["args"]]),
        "node-local: no node set-up": lambda x: ds(x).pop("initContainers"),
        "node-local: an undefined variable": lambda x: ds(x)["containers"][0]["args"].append(
            "--forward=$(NOWHERE)"),
    }
    missed = []
    for what, plant in nl_plants.items():
        docs = copy.deepcopy(nl_base)
        plant(docs)
        bad = []
        check_node_local(docs, rootwalk, lambda c, w: None if c else bad.append(w))
        if not bad:
            missed.append(what)
    plants.update({k: None for k in nl_plants})
    for what, plant in plants.items():
        if plant is None:
            continue
        docs = copy.deepcopy(base)
        plant(docs)
        if not run(d, rootwalk, False, docs):
            missed.append(what)
    clean = run(d, rootwalk, False, copy.deepcopy(base))
    for m in missed:
        print("FAIL self-test: a planted violation was not caught: " + m)
    for b in clean:
        print("FAIL self-test: the shipped manifest fails: " + b)
    print("packaging self-test: %d planted violations, %d missed" % (len(plants), len(missed)))
    return 1 if missed or clean else 0


def main():
    args = sys.argv[1:]
    if args[:1] == ["--self-test"]:
        sys.exit(self_test(args[1], args[2]))
    build = "--build" in args
    args = [a for a in args if a != "--build"]
    bad = run(args[0], args[1], build)
    for b in bad:
        print("FAIL " + b)
    print("packaging: %d checks failed" % len(bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
