"""A private network namespace for the test session, so engines that bind every interface stay on loopback."""

from __future__ import annotations

import ctypes
import os
import subprocess

CLONE_NEWNET = 0x40000000

REASON = (
    "needs root: Milvus and Ray bind every interface and probe outside addresses, so these tests run only "
    "inside a private network namespace (set SEMSEARCH_TEST_NETNS=0 to opt out)"
)


def enter_private_network() -> bool:
    """Move this process into a new network namespace with only loopback up; False when not permitted."""
    if os.geteuid() != 0 or os.environ.get("SEMSEARCH_TEST_NETNS", "1") == "0":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return False
    # Children (ip, servers, browsers) inherit the calling thread's namespace.
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    return True
