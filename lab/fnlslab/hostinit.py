"""PID 1 of a lab host.

Copied into each host's root as /usr/sbin/fnlslab-init and run there with the host's python3
(standard library only). It

* runs the SysV start scripts linked in /etc/rc2.d (except ssh, which it supervises itself), as a
  Debian host does at boot, so a service enabled with update-rc.d comes back after a host restart;
* starts ``/usr/sbin/sshd -D -e -o UseDNS=no`` and starts it again if it dies;
* reaps every child, including the orphans of daemons that init scripts detach;
* names itself "init" (/proc/1/comm);
* on SIGTERM or SIGINT stops sshd and exits (the kernel then ends every process of the host).
"""

import os
import signal
import subprocess
import sys
import time

SSHD = ["/usr/sbin/sshd", "-D", "-e", "-o", "UseDNS=no"]
RC_DIR = "/etc/rc2.d"
ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/root",
    "TERM": "dumb",
}

_stopping = False


def log(msg):
    sys.stderr.write("fnlslab-init: %s\n" % msg)
    sys.stderr.flush()


def _on_term(signum, frame):
    global _stopping
    _stopping = True


def reap():
    """Collect every exited child; return the pids collected."""
    done = []
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        done.append(pid)
    return done


def start_sshd():
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    proc = subprocess.Popen(SSHD, env=ENV, stdin=subprocess.DEVNULL)
    log("sshd started (pid %d)" % proc.pid)
    return proc.pid


def boot_scripts():
    """Start the services linked into runlevel 2 (S??name), in order; ssh is ours."""
    try:
        names = sorted(os.listdir(RC_DIR))
    except OSError:
        return
    for name in names:
        if not name.startswith("S") or name[3:] in ("ssh", "rc.local"):
            continue
        path = os.path.join(RC_DIR, name)
        if not os.access(path, os.X_OK):
            continue
        log("boot: %s start" % name)
        try:
            proc = subprocess.Popen([path, "start"], env=ENV, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline and not _stopping:
                reap()
                time.sleep(0.05)
        except OSError as exc:
            log("boot: %s failed: %s" % (name, exc))


def set_comm(name):
    """Call this process "init" (/proc/1/comm): tools that look at PID 1, such as Ansible's
    service manager detection, then see a SysV host, which is what the host emulates."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(15, ctypes.c_char_p(name.encode()), 0, 0, 0)   # PR_SET_NAME
    except Exception as exc:  # best effort
        log("cannot set the process name: %s" % exc)


def main():
    set_comm("init")
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    os.chdir("/")
    os.makedirs("/run/lock", exist_ok=True)
    sshd = start_sshd()
    boot_scripts()
    last_start = time.monotonic()
    while not _stopping:
        for pid in reap():
            if pid == sshd and not _stopping:
                log("sshd exited; starting it again")
                time.sleep(max(0.0, 1.0 - (time.monotonic() - last_start)))
                sshd = start_sshd()
                last_start = time.monotonic()
        # SIGCHLD interrupts the sleep (PEP 475 resumes it), so poll at a short interval.
        time.sleep(0.2)
    log("stopping")
    try:
        os.kill(sshd, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        reap()
        try:
            os.kill(sshd, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main())
