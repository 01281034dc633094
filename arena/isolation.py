"""The kernel-enforced layers around a sandboxed agent, and the command that starts one inside them.

A sandboxed agent (see :mod:`arena.sandbox`) runs ``python -m arena.sandbox_worker`` under bubblewrap
(``bwrap``, Debian's ``bubblewrap``), which builds these layers before the interpreter starts:

- **namespaces**: its own PID (the worker is PID 1; when it dies the kernel kills everything it started),
  mount, network (no interface but a down loopback), IPC, UTS and cgroup namespaces;
- **uid**: when the arena runs as root, ``setpriv`` drops the worker to a fresh unprivileged host uid and gid
  (never root, never the arena's), with no capabilities in any set and ``no_new_privs``; as an ordinary
  user, bubblewrap's user namespace (``--disable-userns``: no nested ones) with no capabilities;
- **filesystem**: read-only binds of the system libraries (``/usr``, the ``/lib*`` links, the loader cache),
  the Python installation, the venv's site-packages, the ``arena``, ``envs`` and ``agents`` packages (never
  the repository root, where boards, runs and results live), the agent's own package at ``/agent`` and
  the cached language-model conversions at ``/models``;
  ``/dev/null``, ``/dev/zero``, ``/dev/urandom``; a fresh ``/proc`` of its own PID namespace; size-capped
  private tmpfs at ``/tmp`` (holding its home and working directory ``/tmp/home``) and ``/dev/shm``; GPU
  device nodes only when granted. Nothing else: no board, no home directory, no other package, no ``/proc``
  of the arena;
- **seccomp** (:func:`seccomp_program`, compiled by libseccomp): no ptrace or cross-process memory access, no
  namespace, mount, keyring, BPF, perf or io_uring calls, no new user namespaces (``clone3`` answers ENOSYS
  so that libc falls back to ``clone``, whose namespace flags are refused), no sockets but AF_UNIX;
- **cgroups** (:mod:`arena.cgroups`): memory, process and CPU limits for the whole process tree;
- **rlimits**, set by the worker before any agent code runs (:func:`arena.sandbox_worker.apply_limits`).

The arena process itself is made non-dumpable (:func:`harden_arena`), so no process of its uid outside a
sandbox can ptrace it or read its memory. :func:`layers` says which layers this machine provides (``arena
doctor`` prints them); :func:`missing_layers` names the absent ones. See SECURITY.md for the threat model.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import agents
import arena
import envs
from arena import cgroups

AGENT_MOUNT = "/agent"  # where the agent's package appears inside the sandbox
TMP_MB = 256  # the private /tmp (holding HOME); charged to the agent's memory cgroup
HOME = "/tmp/home"  # the agent's home and working directory, apart from mount points of a checkout in /tmp
MODELS_MOUNT = "/models"  # where the cached language-model conversions appear (read-only), when there are any
SHM_MB = 64
UID_RANGE = (1 << 30, (1 << 30) + (1 << 29))  # fresh host uids for agents when the arena is root
SYSTEM_PATHS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom")
BLOCKED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "setns", "unshare", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "open_by_handle_at",
    "bpf", "keyctl", "add_key", "request_key", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "swapon", "swapoff", "reboot", "acct", "quotactl",
)  # fmt: skip
NAMESPACE_FLAGS = (  # clone(2) flags that would make a new namespace
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
    0x00000080,  # CLONE_NEWTIME
)
PR_SET_DUMPABLE = 4


@dataclass(frozen=True, kw_only=True)
class Layer:
    """One protection layer: its name, whether it is active on this machine, and how (or why not)."""

    name: str
    active: bool
    detail: str


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@functools.cache
def layers() -> tuple[Layer, ...]:
    """The layers a sandboxed agent gets on this machine (probed once per process)."""
    linux = sys.platform.startswith("linux")
    bwrap = shutil.which("bwrap")
    program, seccomp_error = None, "needs Linux"
    if linux:
        try:
            program = seccomp_program()
        except (ImportError, OSError, RuntimeError, ValueError) as error:
            seccomp_error = (
                f"libseccomp unavailable ({error}); pip install pyseccomp, apt install libseccomp2"
            )
    found = cgroups.hierarchies() if linux else {}
    missing_controllers = [c for c in cgroups.CONTROLLERS if c not in found]
    if bwrap is None:
        namespaces = Layer(
            name="namespaces", active=False, detail="bubblewrap not found (apt install bubblewrap)"
        )
    else:
        works, why = _probe_bwrap(program)
        kinds = f"{'' if running_as_root() else 'user, '}PID, mount, network, IPC, UTS and cgroup namespaces"
        namespaces = Layer(name="namespaces", active=works, detail=f"{kinds} (bubblewrap)" if works else why)
    if running_as_root():
        uid = Layer(
            name="uid",
            active=bool(shutil.which("setpriv")),
            detail="a fresh unprivileged host uid per agent (setpriv)",
        )
    else:
        uid = Layer(
            name="uid",
            active=namespaces.active,
            detail="the arena's own uid inside a user namespace (not root)",
        )
    controllers = ", ".join(f"{c}: cgroup v{2 if h.v2 else 1}" for c, h in sorted(found.items()))
    return (
        namespaces,
        uid,
        Layer(
            name="seccomp",
            active=program is not None,
            detail="syscall filter (libseccomp)" if program else seccomp_error,
        ),
        Layer(
            name="cgroups",
            active=not missing_controllers,
            detail=controllers
            if not missing_controllers
            else f"no writable cgroup for {missing_controllers}",
        ),
        Layer(
            name="rlimits",
            active=hasattr(os, "fork"),
            detail="address space, processes, file size, CPU time, open files, core",
        ),
        Layer(
            name="arena not dumpable",
            active=linux,
            detail="PR_SET_DUMPABLE=0 on the arena" if linux else "needs Linux",
        ),
    )


def missing_layers() -> list[str]:
    """Names of the layers this machine lacks (empty when a sandboxed agent gets all of them)."""
    return [layer.name for layer in layers() if not layer.active]


def confine_packages(labels: list[str], trust_agents: bool) -> bool:
    """Whether agent packages (``labels``) run confined: True when every layer is active; False only when
    some layer is missing and the user trusts the agents. Raises ValueError when a layer is missing and the
    user does not trust them."""
    missing = missing_layers()
    if labels and missing and not trust_agents:
        raise ValueError(
            f"agent packages ({', '.join(labels)}) run only in the full sandbox, and this machine lacks "
            f"{', '.join(missing)} (see `arena doctor`); pass --trust-agents to run them anyway, only for "
            "code you trust"
        )
    return not (missing and trust_agents)


def harden_arena() -> None:
    """Make this process non-dumpable: no process of the same uid may ptrace it or read /proc/<pid>/mem."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


@functools.cache
def seccomp_program() -> bytes:
    """The seccomp filter as a BPF program (what ``bwrap --seccomp`` loads)."""
    import pyseccomp as seccomp

    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in BLOCKED_SYSCALLS:
        try:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (ValueError, RuntimeError):  # not a syscall of this architecture
            continue
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in NAMESPACE_FLAGS:
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    for call in ("socket", "socketpair"):
        rules.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), call, seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    with tempfile.TemporaryFile() as handle:
        rules.export_bpf(handle)
        handle.seek(0)
        return handle.read()


@dataclass(frozen=True, kw_only=True)
class Launch:
    """How to start one sandboxed worker: its argv, the fds it inherits and the fd bwrap reports on."""

    argv: list[str]
    pass_fds: tuple[int, ...]
    info_fd: int  # read end: bwrap writes {"child-pid": <host pid of the worker>} here, then closes it
    close_after_spawn: tuple[int, ...]


def package_roots() -> list[Path]:
    """The directories of the importable packages an agent may use: arena, envs and agents."""
    return [Path(module.__file__).resolve().parent for module in (arena, envs, agents)]


def unreadable_by_others(package: str | Path) -> Path | None:
    """The first entry of ``package`` (itself included) that a fresh uid could not read, or None: a file
    without the read bit for others, or a directory without read and search. The arena as root plays an
    agent under such a uid; safetensors, for one, writes its files 0600."""
    for parent, _, files in os.walk(package):
        for path, needed in [(Path(parent), 0o005), *((Path(parent) / name, 0o004) for name in files)]:
            if path.lstat().st_mode & needed != needed:  # a link is not followed (it may dangle)
                return path
    return None


def python_paths() -> list[Path]:
    """The Python installation and every site-packages directory of this interpreter (read-only binds)."""
    paths = {Path(p).resolve() for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    paths.add(Path(sys.executable).resolve().parent.parent)
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if path.name in ("site-packages", "dist-packages") and path.is_dir():
            paths.add(path)
    return sorted(p for p in paths if p.is_dir())


def bwrap_command(
    worker_args: list[str], environment: dict[str, str], *, package: str | None, gpu: bool = False
) -> Launch:
    """The bubblewrap command that runs ``python -m arena.sandbox_worker WORKER_ARGS`` inside every layer.

    ``package`` (an agent package directory) is bound read-only at :data:`AGENT_MOUNT`. The seccomp program
    travels in a memfd, the child's host pid comes back on ``info_fd``.
    """
    program = os.memfd_create("arena-seccomp")
    os.write(program, seccomp_program())
    os.lseek(program, 0, os.SEEK_SET)
    info_read, info_write = os.pipe()
    argv = [
        "bwrap",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
    ]
    if running_as_root():
        # No user namespace: bwrap mounts with root's rights, then setpriv drops to a fresh uid (below).
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        argv += ["--cap-add", "CAP_SETPCAP"]
    else:
        argv += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
    argv += ["--as-pid-1", "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    argv += ["--seccomp", str(program), "--info-fd", str(info_write), "--clearenv"]
    for name, value in environment.items():
        argv += ["--setenv", name, value]
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    argv += ["--ro-bind", "/usr", "/usr"]
    if os.path.exists("/etc/ld.so.cache"):
        argv += ["--perms", "0755", "--dir", "/etc", "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    # The private /tmp comes before the binds, so that an installation under /tmp stays visible in it.
    argv += ["--perms", "1777", "--size", str(TMP_MB << 20), "--tmpfs", "/tmp"]
    binds = [*python_paths(), *package_roots()]
    for directory in sorted({p for path in binds for p in path.parents if p != Path("/")}):
        argv += ["--perms", "0755", "--dir", str(directory)]
    for path in binds:
        argv += ["--ro-bind", str(path), str(path)]
    if package is not None:
        argv += ["--ro-bind", package, AGENT_MOUNT]
    from agents.language import converted_models_dir  # imports torch: only when an agent starts

    if (models := converted_models_dir()).is_dir():  # public weights: spares each agent a conversion
        argv += ["--ro-bind", str(models), MODELS_MOUNT]
    argv += ["--proc", "/proc", "--perms", "0755", "--tmpfs", "/dev"]
    for device in DEVICES:
        argv += ["--dev-bind", device, device]
    if gpu:
        for device in sorted(Path("/dev").glob("nvidia*")):
            argv += ["--dev-bind", str(device), str(device)]
        argv += ["--ro-bind", "/sys", "/sys"]
    argv += ["--symlink", "/proc/self/fd", "/dev/fd"]
    argv += ["--perms", "1777", "--size", str(SHM_MB << 20), "--tmpfs", "/dev/shm"]
    argv += ["--perms", "1777", "--dir", HOME, "--chdir", HOME, "--"]
    if running_as_root():
        uid = secrets.randbelow(UID_RANGE[1] - UID_RANGE[0]) + UID_RANGE[0]
        argv += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all"]
        argv += ["--bounding-set=-all", "--no-new-privs", "--"]
    argv += [sys.executable, "-m", "arena.sandbox_worker", *worker_args]
    return Launch(
        argv=argv, pass_fds=(program, info_write), info_fd=info_read, close_after_spawn=(program, info_write)
    )


def _probe_bwrap(program: bytes | None) -> tuple[bool, str]:
    """Start an empty interpreter in the sandbox once: (it worked, why not)."""
    if program is None:
        return False, "not probed: the seccomp program is needed too"
    launch = bwrap_command([], {"PATH": "/usr/bin:/bin"}, package=None)
    argv = [*launch.argv[: launch.argv.index("arena.sandbox_worker") - 1], "-S", "-c", "pass"]
    try:
        done = subprocess.run(
            argv, pass_fds=launch.pass_fds, capture_output=True, timeout=30, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"bubblewrap failed to start: {error}"
    finally:
        for fd in (*launch.close_after_spawn, launch.info_fd):
            os.close(fd)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        return (
            False,
            f"bubblewrap cannot build the sandbox here: {message[-1] if message else done.returncode}",
        )
    return True, ""
