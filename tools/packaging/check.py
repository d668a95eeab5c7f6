#!/usr/bin/env python3
"""Structural checks of the packaging examples (schema-light): the systemd
unit has the capability and sandbox settings the README promises and runs
a real rootwalk flag set; the Kubernetes manifest is valid YAML with a
ConfigMap of zones and a Pod whose rootwalk sidecar has /healthz and
/ready probes, the zones mounted, and the app container's DNS pointed at
it. Prints one line per failed check; exit 0 when all pass.
usage: check.py DIR PATH/TO/rootwalk"""
import configparser
import subprocess
import sys

import yaml  # python3-yaml

d, rootwalk = sys.argv[1], sys.argv[2]
bad = []


def need(cond, what):
    if not cond:
        bad.append(what)


unit = configparser.ConfigParser(strict=False, interpolation=None)
unit.optionxform = str
unit.read_string(open(d + "/rootwalk.service").read().replace("SystemCallFilter=~", "SystemCallFilterNot="))
svc = unit["Service"] if unit.has_section("Service") else {}
need(unit.has_section("Unit") and unit.has_section("Install"), "unit: [Unit] and [Install]")
need(svc.get("AmbientCapabilities") == "CAP_NET_BIND_SERVICE", "unit: AmbientCapabilities=CAP_NET_BIND_SERVICE")
need(svc.get("CapabilityBoundingSet") == "CAP_NET_BIND_SERVICE", "unit: bounded capabilities")
for key in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "RestrictAddressFamilies",
            "SystemCallFilter", "MemoryDenyWriteExecute"):
    need(key in svc, "unit: " + key)
need(svc.get("ExecReload", "").endswith("-HUP $MAINPID"), "unit: ExecReload sends SIGHUP")
exe = svc.get("ExecStart", "").split()
need(exe[:1] == ["/usr/local/sbin/rootwalk"], "unit: ExecStart runs rootwalk")
# the flags must be ones rootwalk knows (checked by rootwalk itself, minus
# the config file, which does not exist here)
args = [a for a in exe[1:] if not a.startswith("/etc/")]
args = [a for a in args if a != "--config"]
r = subprocess.run([rootwalk] + args + ["--check-config"], capture_output=True, text=True)
need(r.returncode == 0, "unit: ExecStart flags rejected: " + r.stderr.strip())

docs = [x for x in yaml.safe_load_all(open(d + "/k8s-sidecar.yaml")) if x]
kinds = {x.get("kind"): x for x in docs}
need("ConfigMap" in kinds and "Pod" in kinds, "k8s: a ConfigMap and a Pod")
cm = kinds.get("ConfigMap", {})
zones = cm.get("data", {})
need(any(k.endswith(".zone") for k in zones), "k8s: zone files in the ConfigMap")
pod = kinds.get("Pod", {}).get("spec", {})
cs = {c.get("name"): c for c in pod.get("containers", [])}
rw = cs.get("rootwalk", {})
need(rw.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz", "k8s: liveness probe on /healthz")
need(rw.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/ready", "k8s: readiness probe on /ready")
port = rw.get("readinessProbe", {}).get("httpGet", {}).get("port")
need(any(a == "--http=0.0.0.0:%s" % port for a in rw.get("args", [])), "k8s: probes hit the --http port")
mounts = {m["name"]: m["mountPath"] for m in rw.get("volumeMounts", [])}
vols = {v["name"]: v for v in pod.get("volumes", [])}
need(any(vols.get(n, {}).get("configMap", {}).get("name") == cm.get("metadata", {}).get("name")
         and "--zones-dir=" + p in rw.get("args", []) for n, p in mounts.items()),
     "k8s: the zones ConfigMap is mounted at --zones-dir")
need(pod.get("dnsPolicy") == "None" and "127.0.0.1" in pod.get("dnsConfig", {}).get("nameservers", []),
     "k8s: the pod's DNS points at the sidecar")
need("app" in cs, "k8s: an app container")
# the sidecar's flags must be ones rootwalk accepts
a = [x for x in rw.get("args", []) if not x.startswith("--zones-dir=") and not x.startswith("--user=")]
r = subprocess.run([rootwalk] + a + ["--check-config"], capture_output=True, text=True)
need(r.returncode == 0, "k8s: sidecar args rejected: " + r.stderr.strip())
# and the ConfigMap's zones must load
import os
import tempfile
with tempfile.TemporaryDirectory() as t:
    for k, v in zones.items():
        open(os.path.join(t, k), "w").write(v)
    r = subprocess.run([rootwalk, "--zones-dir", t, "--check-config"], capture_output=True, text=True)
    need(r.returncode == 0, "k8s: ConfigMap zones do not load: " + r.stderr.strip())
for b in bad:
    print("FAIL " + b)
print("packaging: %d checks failed" % len(bad))
sys.exit(1 if bad else 0)
