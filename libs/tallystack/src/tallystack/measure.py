"""Small helpers the benchmarks share."""

import os
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
