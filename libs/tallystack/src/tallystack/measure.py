"""Small helpers the benchmarks share."""

import os
import subprocess
import sys
from pathlib import Path


def percentile(samples: list[float], p: float) -> float:
    """The nearest-rank `p`th percentile of `samples` (NaN for no samples)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def sharing(load_average: float) -> str:
    """How busy the machine was, for a results table: figures from a busy one are not comparable."""
    cores = os.cpu_count() or 1
    return "other work shared the machine" if load_average > cores else "the machine was otherwise quiet"


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it (children, their children...), from one pass over /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def rss_mib(*pids: int) -> float:
    """Resident memory of these processes together, in MiB (a process gone meanwhile counts 0)."""
    total_kib = 0
    for pid in pids:
        try:
            for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


def _status_kib(pid: int, field: str) -> int:
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def peak_rss_mib(pid: int) -> float:
    """The most resident memory `pid` held since it started or since `reset_peak_rss` (VmHWM), in MiB."""
    return _status_kib(pid, "VmHWM") / 1024


def reset_peak_rss(pid: int) -> None:
    """Start `pid`'s peak (VmHWM) again from its current resident memory, to measure one phase's peak."""
    (Path("/proc") / str(pid) / "clear_refs").write_text("5")


def spawned_children(pid: int) -> list[int]:
    """The worker processes below `pid` that multiprocessing spawned (a process pool's workers; its
    resource tracker, a small helper that outlives a pool, is not one)."""
    out = []
    for child in process_tree(pid)[1:]:
        try:
            if b"spawn_main" in (Path("/proc") / str(child) / "cmdline").read_bytes():
                out.append(child)
        except OSError:
            continue  # gone meanwhile
    return out


def bare_service_rss_mib() -> float:
    """A baseline for a service's memory: a bare Python process importing what every service of ours
    imports first (fastapi, sqlalchemy, aiokafka), in MiB."""
    probe = (
        "import fastapi, sqlalchemy, aiokafka, os\n"
        "print(next(l.split()[1] for l in open(f'/proc/{os.getpid()}/status') if l.startswith('VmRSS')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return int(out.stdout.strip()) / 1024
