"""Runs a command with connect() denied (EPERM), the way a sandbox without
network does (Codex's workspace-write sandbox on Linux uses seccomp too).

usage: python3 no_network.py <command> [args...]
Linux x86_64 / aarch64 only. Test support for the "network blocked" error.
"""
import ctypes
import os
import platform
import struct
import sys

ARCH = {
    "x86_64": (0xC000003E, 42),  # AUDIT_ARCH_X86_64, __NR_connect
    "aarch64": (0xC00000B7, 203),  # AUDIT_ARCH_AARCH64, __NR_connect
}
audit_arch, nr_connect = ARCH[platform.machine()]

LD_ABS_W, JEQ_K, RET_K = 0x20, 0x15, 0x06
ALLOW, ERRNO_EPERM = 0x7FFF0000, 0x00050000 | 1
program = [
    (LD_ABS_W, 0, 0, 4),  # A = seccomp_data.arch
    (JEQ_K, 0, 3, audit_arch),  # other arch: allow
    (LD_ABS_W, 0, 0, 0),  # A = seccomp_data.nr
    (JEQ_K, 0, 1, nr_connect),
    (RET_K, 0, 0, ERRNO_EPERM),
    (RET_K, 0, 0, ALLOW),
]
raw = b"".join(struct.pack("HBBI", *ins) for ins in program)
buf = ctypes.create_string_buffer(raw, len(raw))


class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


prog = Fprog(len(program), ctypes.cast(buf, ctypes.c_void_p))
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
    sys.exit("prctl(NO_NEW_PRIVS) failed: errno %d" % ctypes.get_errno())
if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
    sys.exit("prctl(SECCOMP) failed: errno %d" % ctypes.get_errno())
os.execvp(sys.argv[1], sys.argv[1:])
