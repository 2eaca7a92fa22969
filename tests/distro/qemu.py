"""The distro bed's machine (issue 23): one Debian guest under qemu TCG, booted
once and saved, then restored for every run.

    Guest(work, kernel, initrd)       the machine's fixed shape (512 MiB, 2 vCPUs,
                                      the root disk, the control port)
    guest.boot_and_save(log)          boot, wait for the agent's READY, savevm
    guest.run(job_tar, timeout)       -loadvm, send one JOB, return its OUT tar

The control channel is a virtio-serial port (chardev socket on the host,
/dev/virtio-ports/mw.ctl in the guest, tests/distro/guest/mw-agent); qemu's
QMP socket saves the machine. A saved machine can only be restored by a qemu
with the same devices, so every qemu here is started by one function.
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
        for s in (self.ctl, self.qmp):
            if os.path.exists(s):
                os.unlink(s)
        cmd = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(MEM_MB), "-smp", str(CPUS),
               "-nic", "none", "-display", "none", "-monitor", "none", "-nographic", "-no-reboot",
               "-serial", f"file:{serial}",
               "-kernel", self.kernel, "-initrd", self.initrd, "-append", CMDLINE,
               "-drive", f"file={self.disk},format=qcow2,if=none,id=root",
               "-device", "virtio-blk-pci,drive=root",
               "-device", "virtio-serial-pci",
               "-chardev", f"socket,id=ctl,path={self.ctl},server=on,wait=off",
               "-device", "virtserialport,chardev=ctl,name=mw.ctl",
               "-qmp", f"unix:{self.qmp},server=on,wait=off"]
        if loadvm:
            cmd += ["-loadvm", SNAPSHOT]
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
        proc = self._start(serial, loadvm=False)
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
            h = self._qmp(proc, {"execute": "human-monitor-command",
                                 "arguments": {"command-line": f"savevm {SNAPSHOT}"}})
            if h.strip():
                raise GuestError(f"savevm: {h.strip()}")
            t_save = time.monotonic() - t0 - t_ready
            self._qmp(proc, {"execute": "quit"})
            proc.wait(60)
        finally:
            self._stop(proc)
        return t_ready, t_save

    def run(self, job, serial, timeout):
        """Restores SNAPSHOT, sends JOB (tar bytes), waits at most TIMEOUT s for
        its OUT tar. Returns (out tar bytes, timings dict)."""
        t0 = time.monotonic()
        proc = self._start(serial, loadvm=True)
        try:
            s = self._connect(self.ctl, proc, 60)
            s.settimeout(5)
            f = s.makefile("rwb")
            # The first answer to PING is when the restored guest runs again.
            while True:
                if time.monotonic() - t0 > 120:
                    raise GuestError("the restored guest does not answer PING in 120 s")
                try:
                    f.write(b"PING\n")
                    f.flush()
                    line = f.readline()
                    if line.startswith(b"PONG") or line.startswith(b"READY"):
                        if line.startswith(b"PONG"):
                            break
                except socket.timeout:
                    pass
            t_restore = time.monotonic() - t0
            s.settimeout(timeout)
            f.write(b"JOB %d\n" % len(job) + job)
            f.flush()
            while True:
                line = f.readline()
                if not line:
                    raise GuestError("the control port closed before OUT")
                if line.startswith(b"OUT "):
                    break
            n = int(line.split()[1])
            out = f.read(n)
            if len(out) != n:
                raise GuestError(f"OUT: {len(out)} of {n} bytes")
            t_job = time.monotonic() - t0 - t_restore
            s.close()
        except socket.timeout:
            raise GuestError(f"no OUT from the guest in {timeout} s")
        finally:
            self._stop(proc)
        return out, {"restore_s": round(t_restore, 1), "job_s": round(t_job, 1)}
