#!/usr/bin/python3
"""cri-bench.py: pods through containerd's CRI, nabla against runc.

Usage: cri-bench.py SOCKET LOGDIR CGROUP-PARENT NABLA-IMAGE NATIVE-IMAGE RUNS

Run by bench/oci.sh (cri), which starts the containerd and builds the
images. Alternately, RUNS times each, with the same pause image:
  nabla  a pod with runtime handler `nabla` and one container running
         /hello.nabla from NABLA-IMAGE (nabla-runc, the tender)
  runc   a pod with runtime handler `runc` and one container running
         /nabla-run /hello.nabla from NATIVE-IMAGE (the same tender and
         guest as an ordinary Linux program under runc)
and times create-to-running (RunPodSandbox, CreateContainer,
StartContainer) and stop-to-removed (StopPodSandbox, RemovePodSandbox).
Then containers per second: hello containers created and started one after
another in one pod, as many as RUNS, for each handler.
"""
import importlib.util
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("cri_client", os.path.join(here, "..", "tools", "cri", "cri-client.py"))
cri_client = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cri_client)


def median(values):
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def main():
    socket, logs, parent, nabla_image, native_image, runs = sys.argv[1:7]
    runs = int(runs)
    client = cri_client.Client(socket)
    setups = {"nabla": (nabla_image, ["/hello.nabla"]), "runc": (native_image, ["/nabla-run", "/hello.nabla"])}
    serial = [0]

    def sandbox(handler):
        serial[0] += 1
        name = "%s-%d" % (handler, serial[0])
        return {"metadata": {"name": name, "uid": name, "namespace": "bench"}, "hostname": name,
                "logDirectory": os.path.join(logs, name), "linux": {"cgroupParent": parent}}

    def container(pod, config, handler, index):
        image, command = setups[handler]
        created = client.call("CreateContainer", {"podSandboxId": pod, "sandboxConfig": config, "config": {
            "metadata": {"name": "hello%d" % index}, "image": {"image": image}, "command": command,
            "logPath": "hello%d.log" % index}})
        client.call("StartContainer", {"containerId": created["containerId"]})

    pods = []   # removed at the end, also after a failure

    def run_pod(config, handler):
        pod = client.call("RunPodSandbox", {"config": config, "runtimeHandler": handler})["podSandboxId"]
        pods.append(pod)
        return pod

    def remove_pod(pod):
        client.call("StopPodSandbox", {"podSandboxId": pod})
        client.call("RemovePodSandbox", {"podSandboxId": pod})
        pods.remove(pod)

    def cycle(handler):
        config = sandbox(handler)
        started = time.monotonic()
        pod = run_pod(config, handler)
        container(pod, config, handler, 0)
        running = time.monotonic()
        remove_pod(pod)
        return running - started, time.monotonic() - running

    def rate(handler):
        config = sandbox(handler)
        pod = run_pod(config, handler)
        started = time.monotonic()
        for index in range(runs):
            container(pod, config, handler, index)
        seconds = time.monotonic() - started
        remove_pod(pod)
        return runs / seconds

    try:
        measure(cycle, rate, runs)
    finally:
        for pod in list(pods):
            remove_pod(pod)
    return 0


def measure(cycle, rate, runs):
    """Prints the medians and ratios."""
    cycle("nabla"), cycle("runc")   # warm up: images unpacked, shims' binaries cached
    times = {"nabla": [], "runc": []}
    for _ in range(runs):
        for handler in ("nabla", "runc"):
            times[handler].append(cycle(handler))
    for index, label in ((0, "create-to-running"), (1, "stop-to-removed")):
        print("== pod %s (RunPodSandbox + CreateContainer + StartContainer)" % label if index == 0
              else "== pod %s (StopPodSandbox + RemovePodSandbox)" % label)
        medians = {}
        for handler in ("nabla", "runc"):
            values = [t[index] * 1000 for t in times[handler]]
            medians[handler] = median(values)
            print("%-12s median %6.1f ms   (all: %s)" % (handler, medians[handler], " ".join("%.0f" % v for v in sorted(values))))
        print("ratio        %.2fx (nabla / runc)" % (medians["nabla"] / medians["runc"]))
    print("== containers started per second in one pod (CreateContainer + StartContainer, %d one after another)" % runs)
    rates = {handler: rate(handler) for handler in ("nabla", "runc")}
    for handler in ("nabla", "runc"):
        print("%-12s %6.1f containers/s" % (handler, rates[handler]))
    print("ratio        %.2fx (nabla / runc)" % (rates["nabla"] / rates["runc"]))


if __name__ == "__main__":
    sys.exit(main())
