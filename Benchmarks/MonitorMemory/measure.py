#!/usr/bin/env python3
"""Memory of the per-container helper process, ours against podman's conmon, in one run.

Method (issue 17): N idle `busybox sleep 300` containers per engine, started detached one after
the other; once all run, each engine's per-container helper is read from /proc/PID/smaps_rollup
(PSS and RSS; PSS shares a page among the processes that map it, so N helpers of one binary
split its text) and MemAvailable is read before and after (its drop divided by N, which also
counts the container's own processes, cgroups and mounts). The helpers:
  ours        the container record's ownerPID: the small C `intermodal-monitor` (issue 17)
  ours-swift  the same engine with the resident Swift monitor it replaces (today's design before
              issue 17): the `intermodal` binary copied alone into a temporary directory, so it
              finds no `intermodal-monitor` beside it and stays resident
  podman      conmon (`podman inspect` .State.ConmonPid), runc as its runtime
Every store is temporary (podman's --root/--runroot too) and removed afterwards.

podman 4.3 on this hybrid-cgroup host needs runc (crun refuses) and no default ulimits: both
come from a containers.conf named by CONTAINERS_CONF.

usage: measure.py [--containers N] [--intermodal PATH] [--only ours,ours-swift,podman] [--json OUT]
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time


def sh(argv, env=None, check=True):
    r = subprocess.run(argv, env=env, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def rollup(pid):
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2] == "kB":
                values[parts[0].rstrip(":")] = int(parts[1])
    return values


def mem_available_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return "?"


def settle():
    """Lets page cache and freed memory settle so MemAvailable compares like with like."""
    time.sleep(2)


class Ours:
    def __init__(self, name, binary, base):
        self.name, self.binary = name, binary
        self.root = os.path.join(base, name, "store")
        os.makedirs(self.root)
        self.ids = []

    def cli(self, *args, check=True, words=1):
        """`words`: how many leading arguments name the subcommand (--root goes after them)."""
        return sh([self.binary, *args[:words], "--root", self.root, *args[words:]], check=check)

    def prepare(self):
        self.cli("image", "bootstrap", "busybox", "busybox:latest", words=3)

    def start(self):
        self.ids.append(self.cli("run", "-d", "busybox", "sleep", "300").strip())

    def helpers(self):
        records = json.loads(self.cli("inspect", *self.ids))
        return [r["container"]["ownerPID"] for r in records]

    def cleanup(self):
        for i in self.ids:
            self.cli("rm", "-f", i, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


class Podman:
    name = "podman"

    def __init__(self, base):
        d = os.path.join(base, "podman")
        os.makedirs(d)
        conf = os.path.join(d, "containers.conf")
        with open(conf, "w") as f:
            f.write('[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n')
        self.env = dict(os.environ, CONTAINERS_CONF=conf)
        self.flags = ["--root", os.path.join(d, "storage"), "--runroot", os.path.join(d, "run"), "--storage-driver", "overlay"]
        self.dir, self.ids = d, []

    def podman(self, *args, check=True):
        return sh(["podman", *self.flags, *args], env=self.env, check=check)

    def prepare(self):
        # busybox-static as the image's only file system content, as our `image bootstrap busybox`.
        rootfs = os.path.join(self.dir, "rootfs")
        os.makedirs(os.path.join(rootfs, "bin"))
        shutil.copy("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
        for tool in ("sh", "sleep"):
            os.symlink("busybox", os.path.join(rootfs, "bin", tool))
        tar = os.path.join(self.dir, "rootfs.tar")
        sh(["tar", "-C", rootfs, "-cf", tar, "."])
        self.podman("import", tar, "localhost/busybox:latest")

    def start(self):
        self.ids.append(self.podman("run", "-d", "--network", "none", "localhost/busybox:latest", "/bin/sleep", "300").strip())

    def helpers(self):
        return [int(self.podman("inspect", "--format", "{{.State.ConmonPid}}", i).strip()) for i in self.ids]

    def cleanup(self):
        if self.ids:
            self.podman("rm", "-f", "-t", "0", *self.ids, check=False)
        self.podman("system", "reset", "--force", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def measure(engine, n):
    engine.prepare()
    settle()
    before = mem_available_kb()
    start_seconds = []
    for _ in range(n):
        t0 = time.monotonic()
        engine.start()
        start_seconds.append(time.monotonic() - t0)
    settle()
    after = mem_available_kb()
    pids = engine.helpers()
    samples = []
    for pid in pids:
        r = rollup(pid)
        samples.append({"pid": pid, "exe": exe(pid), "pssKB": r.get("Pss"), "rssKB": r.get("Rss"),
                        "pssAnonKB": r.get("Pss_Anon"), "pssFileKB": r.get("Pss_File")})
    pss = [s["pssKB"] for s in samples]
    rss = [s["rssKB"] for s in samples]
    return {
        "engine": engine.name, "containers": n, "helpers": samples,
        "pssKB": {"mean": sum(pss) / n, "min": min(pss), "max": max(pss)},
        "rssKB": {"mean": sum(rss) / n, "min": min(rss), "max": max(rss)},
        "memAvailableDropPerContainerKB": (before - after) / n,
        # `run -d` (or `podman run -d`) until it returned, each container.
        "startSeconds": start_seconds,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--containers", type=int, default=5)
    p.add_argument("--intermodal", default=os.path.join(os.path.dirname(__file__), "../../.build/release/intermodal"))
    p.add_argument("--only", default="ours,ours-swift,podman")
    p.add_argument("--json")
    a = p.parse_args()
    binary = os.path.abspath(a.intermodal)
    base = tempfile.mkdtemp(prefix="monitor-memory-", dir="/var/lib")
    results = []
    try:
        for name in a.only.split(","):
            if name == "ours":
                engine = Ours("ours", binary, base)
            elif name == "ours-swift":
                alone = os.path.join(base, "swift-monitor-bin")
                os.makedirs(alone)
                shutil.copy(binary, alone)
                engine = Ours("ours-swift", os.path.join(alone, "intermodal"), base)
            elif name == "podman":
                engine = Podman(base)
            else:
                sys.exit(f"unknown engine {name}")
            try:
                results.append(measure(engine, a.containers))
            finally:
                engine.cleanup()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    with open("/proc/loadavg") as f:
        load = f.read().strip()
    out = {"benchmark": "per-container helper memory, idle busybox sleep 300, same run",
           "host": os.uname().release, "loadAverageAfter": load, "results": results}
    text = json.dumps(out, indent=2)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    print(text)
    for r in results:
        print(f"{r['engine']:>11}: PSS {r['pssKB']['mean'] / 1024:.2f} MB ({r['pssKB']['min']}-{r['pssKB']['max']} kB), "
              f"RSS {r['rssKB']['mean'] / 1024:.2f} MB, MemAvailable drop {r['memAvailableDropPerContainerKB'] / 1024:.2f} MB/container, "
              f"run -d median {sorted(r['startSeconds'])[len(r['startSeconds']) // 2] * 1000:.0f} ms",
              file=sys.stderr)


if __name__ == "__main__":
    main()
