"""System information of the customer's PC (psutil), as one bounded JSON object.

Lists (disks, network interfaces, users) are cut to fit :data:`~opensupport.tools.messages.MAX_JSON_SIZE`
with the answer's other fields, and ``truncated`` says so.
"""

from __future__ import annotations

import getpass
import os
import platform
import socket
import time
from typing import Any

import psutil

from .messages import MAX_JSON_SIZE, encoded_size

__all__ = ["collect_system_info"]

#: Room kept for the answer's envelope (``{"id": ..., "info": ...}``).
_ENVELOPE = 64
#: Pseudo file systems that say nothing about the customer's disks.
_PSEUDO_FS = {"tmpfs", "devtmpfs", "squashfs", "overlay", "proc", "sysfs", "cgroup", "cgroup2", "autofs"}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", "") or platform.system()
    except OSError:
        return f"{platform.system()} {platform.release()}"


def _disks() -> list[dict[str, Any]]:
    out = []
    for part in psutil.disk_partitions(all=False):
        if part.fstype in _PSEUDO_FS:
            continue
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        out.append(
            {
                "device": part.device,
                "mountpoint": part.mountpoint,
                "fstype": part.fstype,
                "total": usage.total,
                "used": usage.used,
                "free": usage.free,
                "percent": usage.percent,
            }
        )
    return out


def _interfaces() -> list[dict[str, Any]]:
    stats = psutil.net_if_stats()
    out = []
    for name, addrs in sorted(psutil.net_if_addrs().items()):
        addresses = []
        mac = None
        for a in addrs:
            if a.family == socket.AF_INET:
                addresses.append({"family": "ipv4", "address": a.address, "netmask": a.netmask})
            elif a.family == socket.AF_INET6:
                addresses.append({"family": "ipv6", "address": a.address, "netmask": a.netmask})
            elif a.family == psutil.AF_LINK:
                mac = a.address
        st = stats.get(name)
        out.append(
            {
                "name": name,
                "up": bool(st.isup) if st else False,
                "speed_mbps": st.speed if st else 0,
                "mtu": st.mtu if st else 0,
                "mac": mac,
                "addresses": addresses,
            }
        )
    return out


def _users() -> list[dict[str, Any]]:
    return [
        {"name": u.name, "terminal": u.terminal, "host": u.host, "started": u.started} for u in psutil.users()
    ]


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else ""


def collect_system_info(limit: int = MAX_JSON_SIZE - _ENVELOPE) -> dict[str, Any]:
    """OS, CPU, memory, disks, network interfaces, uptime and users of this machine, at most ``limit``
    bytes as JSON (the longest lists are cut first; ``truncated`` is then true)."""
    vm = psutil.virtual_memory()
    swap = psutil.swap_memory()
    freq = psutil.cpu_freq()
    boot = psutil.boot_time()
    info: dict[str, Any] = {
        "os": {
            "name": _os_name(),
            "system": platform.system(),
            "release": platform.release(),
            "version": platform.version(),
            "machine": platform.machine(),
            "hostname": socket.gethostname(),
        },
        "cpu": {
            "model": _cpu_model(),
            "physical_cores": psutil.cpu_count(logical=False),
            "logical_cores": psutil.cpu_count(logical=True),
            "percent": psutil.cpu_percent(interval=None),
            "frequency_mhz": round(freq.current) if freq else None,
        },
        "memory": {
            "total": vm.total,
            "available": vm.available,
            "used": vm.used,
            "percent": vm.percent,
            "swap_total": swap.total,
            "swap_used": swap.used,
        },
        "boot_time": boot,
        "uptime_s": int(time.time() - boot),
        "user": _current_user(),
        "users": _users(),
        "disks": _disks(),
        "network": _interfaces(),
        "truncated": False,
    }
    while encoded_size(info) > limit:
        longest = max(("network", "disks", "users"), key=lambda k: encoded_size({k: info[k]}))
        if not info[longest]:
            raise ValueError("system information does not fit even without its lists")
        info[longest] = info[longest][:-1]
        info["truncated"] = True
    return info
