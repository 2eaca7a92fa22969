"""The distro bed's machine (issue 23): one Debian guest under qemu TCG, booted
once and saved, then restored for every run.

    Guest(work, kernel, initrd)       the machine's fixed shape (512 MiB, 2 vCPUs,
                                      the root disk, the control port)
    guest.boot_and_save(log)          boot, wait for the agent's READY, savevm
    guest.run(job_tar, timeout)       -loadvm, send one JOB, return its OUT tar

The control channel is a virtio-serial port (chardev socket on the host,
/dev/virtio-ports/mw.ctl in the guest, tests/distro/guest/mw-agent); qemu's
QMP socket saves the machine. A saved machine can only be restored by a qemu
with the same devices, so every qemu here is started from SHAPE.
"""
import json
import os
import socket
import subprocess
import time

MEM_MB = 512
CPUS = 2
SNAPSHOT = "ready"
# Kernel command line: the ext4 root on the first virtio disk; kernel
# messages (OOM reports) stay off the emulated UART, which would stall the
# guest while it prints them (tests/vm/README.md); 4 MiB of ring buffer
# keeps every OOM report of a storm in dmesg.
CMDLINE = ("root=/dev/vda rw console=ttyS0 loglevel=1 log_buf_len=4M panic=-1 "
           "mitigations=off systemd.show_status=auto")


# The machine: a saved one only loads into the same devices, so every qemu
# here is started from this list (bed.py hashes it into the guest's key).
SHAPE = ["-accel", "tcg", "-m", str(MEM_MB), "-smp", str(CPUS),
         "-nic", "none", "-display", "none", "-monitor", "none", "-nographic", "-no-reboot",
         "-serial", "file:{serial}",
         "-kernel", "{kernel}", "-initrd", "{initrd}", "-append", CMDLINE,
         "-drive", "file={disk},format=qcow2,if=none,id=root",
         "-device", "virtio-blk-pci,drive=root",
         "-device", "virtio-serial-pci",
         "-chardev", "socket,id=ctl,path={ctl},server=on,wait=off",
         "-device", "virtserialport,chardev=ctl,name=mw.ctl",
         "-qmp", "unix:{qmp},server=on,wait=off"]


class GuestError(Exception):
    pass


class Guest:
    def __init__(self, work, kernel, initrd, disk="guest.qcow2"):
        self.work = work
        self.kernel = kernel
        self.initrd = initrd
        self.disk = os.path.join(work, disk)
        self.ctl = os.path.join(work, "ctl.sock")
        self.qmp = os.path.join(work, "qmp.sock")

    def _start(self, serial, loadvm):
        """LOADVM: the snapshot to restore, or None to boot."""
        for s in (self.ctl, self.qmp):
            if os.path.exists(s):
                os.unlink(s)
        cmd = ["qemu-system-x86_64"] + [a.format(serial=serial, kernel=self.kernel, initrd=self.initrd,
                                                 disk=self.disk, ctl=self.ctl, qmp=self.qmp)
                                        for a in SHAPE]
        if loadvm:
            cmd += ["-loadvm", loadvm]
        with open(os.path.join(self.work, "qemu.cmd"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        err = open(os.path.join(self.work, "qemu.err"), "w")
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err)

    @staticmethod
    def _connect(path, proc, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise GuestError(f"qemu exited with status {proc.returncode}")
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(path)
                return s
            except OSError:
                s.close()
                time.sleep(0.05)
        raise GuestError(f"no socket {path} after {timeout} s")

    @staticmethod
    def _stop(proc):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _qmp(self, proc, command, timeout=300):
        s = self._connect(self.qmp, proc, 30)
        s.settimeout(timeout)
        f = s.makefile("rwb")
        f.readline()  # greeting
        for req in ({"execute": "qmp_capabilities"}, command):
            f.write(json.dumps(req).encode() + b"\n")
            f.flush()
            while True:
                reply = json.loads(f.readline())
                if "return" in reply or "error" in reply:
                    break
            if "error" in reply:
                raise GuestError(f"qmp {req}: {reply['error']}")
        s.close()
        return reply["return"]

    def boot_and_save(self, serial, timeout=900):
        """Boots the disk, waits until the agent says READY (boot done, uid
        1000 logged in, zram swap on), saves the machine as SNAPSHOT inside
        the disk and stops qemu. Returns (seconds to READY, seconds to save)."""
        t0 = time.monotonic()
        proc = self._start(serial, loadvm=None)
        try:
            s = self._connect(self.ctl, proc, 60)
            s.settimeout(2)
            buf = b""
            while b"READY" not in buf and b"PONG" not in buf:
                if time.monotonic() - t0 > timeout:
                    raise GuestError(f"no READY from the guest in {timeout} s; see {serial}")
                if proc.poll() is not None:
                    raise GuestError(f"qemu exited with status {proc.returncode}; see {serial}")
                try:
                    s.sendall(b"PING\n")
                    buf += s.recv(4096)
                except socket.timeout:
                    pass
            t_ready = time.monotonic() - t0
            s.close()
            t_save = self._save_and_quit(proc, SNAPSHOT)
        finally:
            self._stop(proc)
        return t_ready, t_save

    def _save_and_quit(self, proc, name):
        """savevm NAME through QMP, then quit. Returns the seconds it took."""
        t = time.monotonic()
        h = self._qmp(proc, {"execute": "human-monitor-command",
                             "arguments": {"command-line": f"savevm {name}"}})
        if h.strip():
            raise GuestError(f"savevm {name}: {h.strip()}")
        t_save = time.monotonic() - t
        self._qmp(proc, {"execute": "quit"})
        proc.wait(60)
        return t_save

    def snapshots(self):
        """The names of the snapshots saved in the disk (qemu not running)."""
        p = subprocess.run(["qemu-img", "snapshot", "-l", self.disk], capture_output=True, text=True)
        return [l.split()[1] for l in p.stdout.splitlines()[2:] if len(l.split()) > 1]

    def drop_snapshot(self, name):
        subprocess.run(["qemu-img", "snapshot", "-d", name, self.disk], check=True)

    def run(self, job, serial, timeout, snapshot=SNAPSHOT, save_as=None):
        """Restores SNAPSHOT, sends JOB (tar bytes), waits at most TIMEOUT s for
        its OUT tar; with SAVE_AS, then saves the machine under that name
        (the agent waits for its next job in it). Returns (out tar bytes,
        timings dict)."""
        t0 = time.monotonic()
        proc = self._start(serial, loadvm=snapshot)
        try:
            port = _Port(self._connect(self.ctl, proc, 60))
            # The first answer to a PING is when the restored guest runs again.
            while True:
                if time.monotonic() - t0 > 120:
                    raise GuestError("the restored guest does not answer PING in 120 s")
                port.send(b"PING\n")
                line = port.line(2)
                if line is not None and line.startswith(b"PONG"):
                    break
            t_restore = time.monotonic() - t0
            port.send(b"JOB %d\n" % len(job) + job)
            end = time.monotonic() + timeout
            while True:
                line = port.line(max(1, end - time.monotonic()))
                if line is None:
                    raise GuestError(f"no OUT from the guest in {timeout} s")
                if line.startswith(b"OUT "):
                    break
            out = port.read(int(line.split()[1]), max(1, end - time.monotonic()))
            t_job = time.monotonic() - t0 - t_restore
            cpu = _cpu_s(proc.pid)
            wait = _wait_s(proc.pid)
            if save_as:
                self._save_and_quit(proc, save_as)
        finally:
            self._stop(proc)
        wall = time.monotonic() - t0
        # The guest's clock runs at the host's pace whether or not qemu gets
        # the host's CPUs: on a shared host a starved run shows stalls that no
        # guardian caused. qemu's CPU time over wall time (2 vCPUs: at most
        # 2.0), and the time its threads waited on the host's run queues over
        # wall time (0: never waited) say how much of the host the run had.
        return out, {"restore_s": round(t_restore, 1), "job_s": round(t_job, 1),
                     "qemu_cpus": round(cpu / wall, 2) if cpu is not None else None,
                     "qemu_wait": round(wait / wall, 2) if wait is not None else None,
                     "host_load": round(os.getloadavg()[0], 1)}


def _cpu_s(pid):
    """User + system CPU seconds of process PID (its threads included)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _wait_s(pid):
    """Seconds process PID's threads waited on a run queue (schedstat)."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return total / 1e9


class _Port:
    """Lines and byte counts from the control socket, with timeouts that
    leave it usable (a socket file object is spoilt by its first timeout)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        self.sock.settimeout(None)
        self.sock.sendall(data)

    def _fill(self, until):
        left = until - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(1 << 16)
        except socket.timeout:
            return False
        if not d:
            raise GuestError("the control port closed")
        self.buf += d
        return True

    def line(self, timeout):
        """One line (without its newline), or None after TIMEOUT s."""
        until = time.monotonic() + timeout
        while b"\n" not in self.buf:
            if not self._fill(until):
                return None
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def read(self, n, timeout):
        until = time.monotonic() + timeout
        while len(self.buf) < n:
            if not self._fill(until):
                raise GuestError(f"OUT: {len(self.buf)} of {n} bytes in {timeout:.0f} s")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data
