"""CPU-seconds for the benchmarks (bench/scale, bench/fanout): what a timed block's
processes and the emulator used. A module the benchmarks import, not a benchmark."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def children_cpu() -> float:
    """CPU-seconds (user + system) of this process's children that have been waited for,
    and theirs (Terraform waits for its provider plugins): a difference of two readings
    is the CPU of what ran to completion in between."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """CPU-seconds one running process has used (the emulator's), from /proc."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Cpu:
    """CPU-seconds used while a block ran: its processes' (children) and the emulator's."""

    children: float = 0.0
    emulator: float = 0.0

    @property
    def total(self) -> float:
        return self.children + self.emulator


@contextmanager
def cpu_used(emulator_pid: int) -> Iterator[Cpu]:
    """The CPU the block's processes (all waited for by its end) and the emulator used."""
    cpu = Cpu()
    children, emulator = children_cpu(), process_cpu(emulator_pid)
    try:
        yield cpu
    finally:
        cpu.children = children_cpu() - children
        cpu.emulator = process_cpu(emulator_pid) - emulator
