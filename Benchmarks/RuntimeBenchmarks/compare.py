#!/usr/bin/env python3
"""Container start-up, intermodal-runtime vs runc vs crun, measured in one run.

Method (as youki's and crun's benchmarks): a busybox bundle running /bin/true, config.json from
`runc spec` (new pid/net/ipc/uts/mount namespaces, read-only root, device cgroup rules), warm-up
runs, then N cycles of `create; start; delete --force` per runtime, interleaved round-robin so
that load from other processes hits every runtime alike. Also the single-process `run` (create,
start, wait, delete). Each command is spawned directly (posix_spawn, no shell) and timed with
CLOCK_MONOTONIC.

crun 1.8.1 refuses this host's hybrid cgroups and spec 1.0.2-dev: it runs in a private mount
namespace with /sys/fs/cgroup/unified unmounted (this script setns()es into it around crun's
commands only, outside the timed region) and with ociVersion 1.0.2 in its own bundle copy.

usage: compare.py [--runs N] [--warmup N] [--ours PATH] [--only ours,runc,crun]
"""
import argparse, ctypes, json, os, shutil, statistics, subprocess, sys, tempfile, time

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS = 0x00020000
MS_REC, MS_PRIVATE = 16384, 1 << 18
MNT_DETACH = 2


def check(rc, what):
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def spawn(argv):
    t0 = time.monotonic_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ)
    _, status = os.waitpid(pid, 0)
    t1 = time.monotonic_ns()
    return os.waitstatus_to_exitcode(status), (t1 - t0) / 1e6


def make_bundle(base):
    bundle = os.path.join(base, "bundle")
    rootfs = os.path.join(bundle, "rootfs")
    for d in ["bin", "proc", "sys", "dev", "tmp", "etc"]:
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    shutil.copy2("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    for applet in ["true", "sh"]:
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    subprocess.run(["runc", "spec", "--bundle", bundle], check=True)
    path = os.path.join(bundle, "config.json")
    config = json.load(open(path))
    config["process"]["args"] = ["/bin/true"]
    config["process"]["terminal"] = False
    json.dump(config, open(path, "w"), indent=1)
    crun_bundle = os.path.join(base, "crun-bundle")
    os.makedirs(crun_bundle)
    config["ociVersion"] = "1.0.2"
    config["root"]["path"] = rootfs
    json.dump(config, open(os.path.join(crun_bundle, "config.json"), "w"), indent=1)
    return bundle, crun_bundle


def summary(name, samples):
    s = sorted(samples)
    n = len(s)
    q = lambda p: s[min(n - 1, int(p * n))]
    return (f"{name:34s} median {statistics.median(s):7.2f} ms   p10 {q(0.10):6.2f}   p90 {q(0.90):6.2f}"
            f"   min {s[0]:6.2f}   max {s[-1]:7.2f}   n={n}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--ours", default=os.path.join(os.path.dirname(__file__), "../../.build/release/intermodal-runtime"))
    ap.add_argument("--only", default="ours,runc,crun")
    ap.add_argument("--json", help="write the samples here")
    a = ap.parse_args()
    load_before = open("/proc/loadavg").read().split()[:3]
    # setns() into a mount namespace moves the cwd to its root: resolve the output path first.
    a.json = os.path.abspath(a.json) if a.json else None
    ours = os.path.abspath(a.ours)
    base = tempfile.mkdtemp(prefix="intermodal-bench.")
    os.chmod(base, 0o755)
    bundle, crun_bundle = make_bundle(base)
    roots = {k: os.path.join(base, f"state-{k}") for k in ["ours", "runc", "crun"]}
    # State roots on a tmpfs, as /run is on most hosts (here /run is on ext4, where creating a
    # directory after many deletions costs ext4 a bitmap scan); the same for every runtime.
    run_dir = tempfile.mkdtemp(prefix="intermodal-bench.", dir="/dev/shm")
    roots = {k: os.path.join(run_dir, k) for k in ["ours", "runc", "crun"]}

    host_ns = os.open("/proc/self/ns/mnt", os.O_RDONLY)
    check(libc.unshare(CLONE_NEWNS), "unshare")
    check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    libc.umount2(b"/sys/fs/cgroup/unified", MNT_DETACH)
    crun_ns = os.open("/proc/self/ns/mnt", os.O_RDONLY)
    check(libc.setns(host_ns, CLONE_NEWNS), "setns host")

    runtimes = {
        "ours": ([ours, "--root", roots["ours"]], bundle, None),
        "runc": (["/usr/sbin/runc" if os.path.exists("/usr/sbin/runc") else shutil.which("runc"), "--root", roots["runc"]], bundle, None),
        "crun": ([shutil.which("crun"), "--root", roots["crun"]], crun_bundle, crun_ns),
    }
    selected = [k for k in a.only.split(",") if k in runtimes]
    cycle = {k: [] for k in selected}
    run = {k: [] for k in selected}
    failures = {k: 0 for k in selected}
    steps = {k: {"create": [], "start": [], "delete": []} for k in selected}

    def one(kind, name, i, shape):
        cmd, b, ns = runtimes[kind]
        if ns is not None:
            check(libc.setns(ns, CLONE_NEWNS), "setns crun")
        try:
            cid = f"intermodal-bench-{kind}-{i}"
            if shape == "cycle":
                total = 0.0
                for step, argv in (("create", cmd + ["create", "--bundle", b, cid]), ("start", cmd + ["start", cid]),
                                   ("delete", cmd + ["delete", "--force", cid])):
                    rc, ms = spawn(argv)
                    total += ms
                    if i >= a.warmup:
                        steps[kind][step].append(ms)
                    if rc != 0:
                        failures[kind] += 1
                        spawn(cmd + ["delete", "--force", cid])
                        return None
                return total
            rc, ms = spawn(cmd + ["run", "--bundle", b, cid])
            if rc != 0:
                failures[kind] += 1
                return None
            return ms
        finally:
            if ns is not None:
                libc.setns(host_ns, CLONE_NEWNS)

    for i in range(a.warmup + a.runs):
        for kind in selected:
            for shape, into in (("cycle", cycle), ("run", run)):
                ms = one(kind, kind, i, shape)
                if ms is not None and i >= a.warmup:
                    into[kind].append(ms)

    names = {"ours": "intermodal-runtime (CLI)", "runc": f"runc", "crun": "crun (private mount ns)"}
    print(f"create+start+delete -f of /bin/true, busybox bundle, {a.runs} runs after {a.warmup} warm-up, interleaved")
    for k in selected:
        if cycle[k]:
            print(summary(names[k] + " create/start/delete", cycle[k]))
    for k in selected:
        print(f"{names[k]:34s} per step (medians): " + ", ".join(
            f"{st} {statistics.median(v):.2f} ms" for st, v in steps[k].items() if v))
    for k in selected:
        if run[k]:
            print(summary(names[k] + " run", run[k]))
    if any(failures.values()):
        print("failures:", failures)
    if "ours" in selected and "runc" in selected and cycle["ours"] and cycle["runc"]:
        print(f"ours/runc (create/start/delete medians) = {statistics.median(cycle['ours']) / statistics.median(cycle['runc']):.3f}")
    if "ours" in selected and "crun" in selected and cycle["ours"] and cycle["crun"]:
        print(f"ours/crun (create/start/delete medians) = {statistics.median(cycle['ours']) / statistics.median(cycle['crun']):.3f}")
    if a.json:
        # Every sample, with what a reader needs to judge them: versions, host, load, method.
        def version(argv):
            try:
                return subprocess.run(argv + ["--version"], capture_output=True, text=True, timeout=10).stdout.splitlines()[0]
            except Exception as e:
                return f"unknown ({e})"
        med = lambda xs: statistics.median(xs) if xs else None
        json.dump({
            "benchmark": "create+start+delete --force (cycle) and run of /bin/true in a busybox bundle from `runc spec`, interleaved",
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "host": {"kernel": os.uname().release, "cpus": os.cpu_count(), "loadavg_before": load_before,
                     "loadavg_after": open("/proc/loadavg").read().split()[:3]},
            "runs": a.runs, "warmup": a.warmup,
            "versions": {k: version(runtimes[k][0][:1]) for k in selected},
            "unit": "ms",
            "cycle": cycle, "run": run, "steps": steps, "failures": failures,
            "medians": {k: {"cycle": med(cycle[k]), "run": med(run[k])} for k in selected},
            "ratios": {f"ours/{k}": statistics.median(cycle["ours"]) / statistics.median(cycle[k])
                       for k in selected if k != "ours" and cycle.get("ours") and cycle[k]},
        }, open(a.json, "w"), indent=1)
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
