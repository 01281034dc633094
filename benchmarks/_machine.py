"""What the benchmarks report about the machine they ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch


def _cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo on Linux, else what :mod:`platform` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_name() -> str:
    """The CPU's model name and its logical core count."""
    return f"{_cpu_model()} ({os.cpu_count()} logical cores)"


def device_name(device: torch.device) -> str:
    """The GPU's name for a CUDA device, else the CPU's model name."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return _cpu_model()
