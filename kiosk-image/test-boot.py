#!/usr/bin/env python3
"""Boots the borne's image in qemu, UEFI (OVMF) and legacy BIOS (SeaBIOS), and checks what issue #7 asks.

    kiosk-image/test-boot.py [--image mkosi.output/borne.raw] [--out test-output] [--modes uefi,bios]
                             [--accel auto|kvm|tcg] [--timeout 900]

For each mode, on a copy-on-write layer over the image (the image itself is never written):
  boot 1 (UEFI: with a USB stick holding a borne-setup.toml with the federation's SSH key)
  1. the kiosk's serial marker "BORNE-PORTAL-SHOWN" (boot time = qemu start to marker; KVM when it works
     here, else TCG) and a screen dump of the portal once the screen has settled (<out>/<mode>-portal.png);
  2. UEFI: the setup applied (BORNE-SETUP-APPLIED) and SSH with the federation's key works; through it,
     as the kiosk's user: logind's reboot and power-off allowed (polkit), not to another user, and
     root's part of the state partition neither readable nor movable; Wi-Fi for real (--wifi-modes,
     the dev image): two mac80211_hwsim radios, hostapd on one (a WPA2 network and a hidden one, DHCP
     by dnsmasq, in a network namespace of their own), and as the kiosk's user through `bornectl wifi`
     (polkit): the network listed, a wrong password refused in French leaving nothing, the right one
     joined with an address, its password stored by NetworkManager in root's part of the state
     partition out of the kiosk's user's reach, forgotten, the hidden one joined;
     BIOS (no setup file): no SSH at all;
  3. the CI hook (borne-vm-test.service, active only under qemu with our fw_cfg entry) reports, then
     plants a statistics row and files where a person's session could write;
  4. Ctrl+Alt+F2, Ctrl+Alt+Del and SysRq (Alt+SysRq+B, which reboots at once when SysRq is on) through
     the qemu monitor: no reset or shutdown, the screen stays the portal;
  5. more than the watchdog's period after the portal: the kiosk never restarted (its pings reach
     systemd), no getty running, no login session; no "login:" on the serial console;
  6. clean power-off (ACPI button); UEFI: the setup file is gone from the stick;
  boot 2
  7. the statistics row is there, the planted files are gone; UEFI: SSH again with the same host key,
     and the saved (hidden) Wi-Fi network joined again by itself;
  8. BIOS: the hook freezes the kiosk (SIGSTOP): the watchdog must restart it to the portal.
  At every boot: GRUB counted the boot in its environment (A_TRY=1 before the slot is marked good) and
  the slot is marked good once the portal is shown.
  updates (UEFI, with --update-keys: the federation's throwaway key the image trusts), still in boot 2,
  with bundles served over HTTPS from the host's loopback (qemu's user-mode network, 10.0.2.2):
  9. from a USB stick: a bundle signed by another key, one with a flipped byte in its signature and one
     with a flipped byte in its first block (all casync bundles, as the server has them) are refused,
     slot B untouched (its first 64 MiB hashed, GRUB's environment unchanged);
  10. v2 (slot A's filesystem with a newer version), from the HTTPS server as federation.sh makes it (a
     casync bundle, its chunk store beside it; the server's CA added to the VM's system store): installed
     by borne-update.service while the portal is shown; the VM killed while casync writes slot B: slot A
     boots, working; the next check installs v2 (the kiosk not restarted), fetching only the chunks
     slot A lacks: the bytes the server sent must stay under 15 % of the full image; the borne restarts
     by itself into v2, marked good after its portal; statistics, settings, PIN and SSH host key kept;
     a bundle signed by another key, published at the update address, refused by the updater itself
     (the record says signature, the other slot untouched, no chunk fetched); the référent's Maintenance screen, reached as a référent does (the mouse wheel to the portal's foot,
     a click on « Espace référent », the setup's PIN, Tab to « Maintenance ») and read by OCR (tesseract)
     on the VM's screen, says v2 runs on slot B and, one page down, why the last bundle was refused (in
     French); the v1 bundle (older than v2) is refused, slot A untouched;
  11. v3 (v2 whose kiosk exits at once), from the stick: installed on slot A, then power-on: its trial
     boots fail, GRUB goes back to slot B by itself, v2 shows its portal, the failure is recorded
     (failed-versions, events.log, slot A marked bad), v3 is refused from then on, and the Maintenance
     screen (read by OCR, one page down) says v3 did not start and the borne came back to v2 by itself.
  updates (BIOS, with --update-keys; no SSH there: the CI hook runs `rauc install` from the bundles' stick
  the UEFI run made, read-only, when its fw_cfg value says "install:NAME"), after boot 2:
  12. v2's full bundle installed on slot B (in boot 2, beside the watchdog check); at the next power-on
     GRUB (i386-pc, the same grub.cfg and grubenv) tries B, the portal marks it good, statistics kept;
  13. in that boot v3 installed on slot A; at power-on its trial boots fail and GRUB boots v2 again.
  last (UEFI, on the boot the run ends with, over SSH):
  14. the closed and dark screens: hours that make the borne closed now, the dark screen after the
     shortest delay (1 minute), in the référent's settings file, the kiosk restarted: the closed screen
     (OCR), then a screen dump almost all black, then a key over qemu's monitor: the closed screen again;
  15. the power-off after closing: a request refused while `power_off` is off; with it on, root's
     borne-power-off.service sets the clock's wake alarm (read from /sys/class/rtc/rtc0/wakealarm) and
     the guest powers off (the end of the run: no boot is lost to it).
Writes <out>/report.json and <out>/<mode>-serial*.log. Exit status 0 only if every check passed.
"""

import argparse
import concurrent.futures
import hashlib
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import ssl
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


class Qmp:
    """A minimal QMP client: commands, and the events seen so far."""

    def __init__(self, path, timeout):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.file = self.sock.makefile("rw")
        self.events = []
        json.loads(self.file.readline())  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.file.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.file.flush()
        while True:
            msg = json.loads(self.file.readline())
            if "event" in msg:
                self.events.append(msg["event"])
                continue
            if "error" in msg:
                raise RuntimeError(f"QMP {name}: {msg['error']}")
            return msg.get("return")

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line})

    def poll_events(self):
        """Reads events already queued, without blocking."""
        self.sock.setblocking(False)
        try:
            while True:
                line = self.file.readline()
                if not line:
                    break
                msg = json.loads(line)
                if "event" in msg:
                    self.events.append(msg["event"])
        except (BlockingIOError, ValueError, OSError):
            pass
        finally:
            self.sock.setblocking(True)
        return self.events

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    if not m:
        raise ValueError(f"{path}: not a binary PPM")
    w, h = int(m.group(1)), int(m.group(2))
    return w, h, data[m.end():m.end() + w * h * 3]


def distinct_colours(path):
    _, _, px = read_ppm(path)
    return len({px[i:i + 3] for i in range(0, len(px), 3 * 97)})


def differing_fraction(a, b):
    wa, ha, pa = read_ppm(a)
    wb, hb, pb = read_ppm(b)
    if (wa, ha) != (wb, hb):
        return 1.0
    step = 3 * 13
    diff = sum(1 for i in range(0, len(pa), step) if pa[i:i + 3] != pb[i:i + 3])
    return diff / (len(pa) / step)


# A drawn page with text shows hundreds of colours in the sample (the portal: about 300); the same page
# before its text is drawn, about 20.
PAGE_COLOURS = 100


def to_png(ppm, png):
    subprocess.run(["convert", ppm, png], check=False)


def kvm_works(workdir):
    """Whether KVM runs a guest here: OVMF must reach its boot manager within 30 s. (On some nested
    hosts /dev/kvm opens but the guest dies on its first FPU instruction, and accel=kvm:tcg would not
    fall back.)"""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    log = os.path.join(workdir, "kvm-probe.log")
    vars_copy = os.path.join(workdir, "kvm-probe-vars.fd")
    shutil.copy(OVMF_VARS, vars_copy)
    open(log, "w").close()
    p = subprocess.Popen(["qemu-system-x86_64", "-machine", "q35,accel=kvm", "-cpu", "host", "-m", "256",
                          "-display", "none", "-nic", "none", "-serial", f"file:{log}",
                          "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                          "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = False
    for _ in range(30):
        time.sleep(1)
        with open(log, "rb") as f:
            if b"BdsDxe" in f.read():
                ok = True
                break
        if p.poll() is not None:
            break
    if p.poll() is None:
        p.kill()
        p.wait()
    os.unlink(vars_copy)
    return ok


def setup_text(ssh_key):
    """The référent's example setup file (so the example is checked too), with this run's SSH key."""
    with open(os.path.join(HERE, "borne-setup.example.toml")) as f:
        text, n = re.subn(r"^keys = \[.*\]$", f'keys = ["{ssh_key}"]', f.read(), flags=re.M)
    if n != 1:
        raise ValueError("borne-setup.example.toml: no `keys = [...]` line in [ssh]")
    return text


def make_ssh_key(out, mode):
    """The federation's key pair for this run; returns (private key path, public key line)."""
    key = os.path.join(out, f"{mode}-federation-key")
    for p in (key, key + ".pub"):
        if os.path.exists(p):
            os.unlink(p)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "federation@test", "-f", key], check=True)
    with open(key + ".pub") as f:
        return key, f.read().strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ssh(key, port, known_hosts, command, strict="accept-new", timeout=180):
    """Runs `command` as root on the guest through qemu's forwarded port; (exit status, output)."""
    r = subprocess.run(["ssh", "-i", key, "-p", str(port), "-o", "BatchMode=yes", "-o", "ConnectTimeout=60", "-o", "LogLevel=ERROR",
                        "-o", f"StrictHostKeyChecking={strict}", "-o", f"UserKnownHostsFile={known_hosts}",
                        # The forwarded port changes at each boot: known_hosts names the borne instead.
                        "-o", "HostKeyAlias=borne-under-test",
                        "root@127.0.0.1", command], capture_output=True, text=True, timeout=timeout)
    return r.returncode, (r.stdout + r.stderr).strip()


# A file with two mistakes (an empty name, a PIN too short): both reported, nothing applied.
SETUP_TOML_BAD = """\
[centre]
name = ""

[admin]
pin = "12"
"""


def make_stick(path, text):
    """A 32 MB FAT USB stick holding borne-setup.toml with `text`."""
    toml = path + ".toml"
    with open(toml, "w") as f:
        f.write(text)
    subprocess.run(["truncate", "-s", "32M", path], check=True)
    subprocess.run(["mkfs.vfat", "-n", "CLE-USB", path], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["mcopy", "-i", path, toml, "::/borne-setup.toml"], check=True,
                   env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    os.unlink(toml)


def stick_read(path, name):
    out = subprocess.run(["mtype", "-i", path, f"::/{name}"], capture_output=True, text=True,
                         env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    return out.stdout if out.returncode == 0 else None


def stick_files(path):
    out = subprocess.run(["mdir", "-b", "-i", path, "::/"], capture_output=True, text=True,
                         env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    return [os.path.basename(line.strip()) for line in out.stdout.splitlines() if line.strip()]



class BundleServer:
    """A static HTTPS server on the host's loopback, as a federation's CDN would be: GET and HEAD with
    byte ranges (a cut download is resumed), ETag and Last-Modified, files by name from `self.files`
    (the test changes what `current.raucb` is), and the bytes sent for each name counted."""

    def __init__(self, workdir):
        self.files = {}
        self.dirs = {}  # URL prefix -> folder (a casync chunk store); bytes sent counted per prefix
        self.sent = {}
        self.requests = {}
        self.dir = os.path.join(workdir, "https")
        os.makedirs(self.dir, exist_ok=True)
        ca_key, self.ca = os.path.join(self.dir, "ca.key"), os.path.join(self.dir, "ca.pem")
        key, csr, crt = (os.path.join(self.dir, n) for n in ("server.key", "server.csr", "server.crt"))
        run = lambda *a: subprocess.run(a, check=True, capture_output=True)
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", self.ca,
            "-days", "2", "-subj", "/CN=Borne test update CA")
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=10.0.2.2")
        ext = os.path.join(self.dir, "ext.cnf")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:10.0.2.2\nextendedKeyUsage=serverAuth\n")
        run("openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", crt, "-days", "2", "-extfile", ext)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.serve(body=False)

            def do_GET(self):
                self.serve(body=True)

            def serve(self, body):
                name = self.path.lstrip("/")
                path = server.files.get(name)
                for prefix, folder in server.dirs.items():
                    if name.startswith(prefix + "/") and ".." not in name:
                        candidate = os.path.join(folder, name[len(prefix) + 1:])
                        path = candidate if os.path.isfile(candidate) else None
                        name = prefix
                server.requests[name] = server.requests.get(name, 0) + 1
                if not path:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                size = os.path.getsize(path)
                start, end = 0, size - 1
                m = re.match(r"bytes=(\d*)-(\d*)$", self.headers.get("Range", ""))
                if m and (m.group(1) or m.group(2)):
                    if m.group(1):
                        start = int(m.group(1))
                        end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                    else:
                        start = max(size - int(m.group(2)), 0)
                    if start >= size:
                        # As static servers answer a range past the end (a download already complete).
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{size}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                else:
                    self.send_response(200)
                st = os.stat(path)
                self.send_header("Content-Length", str(end - start + 1))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("ETag", f'"{st.st_size:x}-{st.st_mtime_ns:x}"')
                self.send_header("Last-Modified", self.date_time_string(int(st.st_mtime)))
                self.end_headers()
                if not body:
                    return
                with open(path, "rb") as f:
                    f.seek(start)
                    left = end - start + 1
                    while left > 0:
                        chunk = f.read(min(left, 1 << 20))
                        if not chunk:
                            break
                        self.wfile.write(chunk)
                        left -= len(chunk)
                        server.sent[name] = server.sent.get(name, 0) + len(chunk)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, name):
        return f"https://10.0.2.2:{self.port}/{name}"

    def close(self):
        self.httpd.shutdown()


def stamp_rootfs(src, dst, version, broken_kiosk=False):
    """A copy of slot A's filesystem as a newer build would be: another IMAGE_VERSION in os-release
    (what v2 and v3 differ by); `broken_kiosk`: the kiosk unit runs a program that exits at once, so
    the system never shows its portal."""
    subprocess.run(["cp", "--sparse=always", src, dst], check=True)
    osr = subprocess.run(["debugfs", "-R", "cat /usr/lib/os-release", dst], capture_output=True, text=True,
                         check=True).stdout
    osr = re.sub(r"(?m)^IMAGE_VERSION=.*\n?", "", osr) + f"IMAGE_VERSION={version}\n"
    tmp = dst + ".files"
    os.makedirs(tmp, exist_ok=True)
    with open(os.path.join(tmp, "os-release"), "w") as f:
        f.write(osr)
    cmds = ["rm /usr/lib/os-release", f"write {tmp}/os-release /usr/lib/os-release"]
    if broken_kiosk:
        with open(os.path.join(tmp, "broken.conf"), "w") as f:
            f.write("# Test bundle v3: a kiosk that never shows its portal.\n[Service]\nExecStart=\n"
                    "ExecStart=/bin/sh -c 'echo broken kiosk of the rollback test; exit 1'\n")
        cmds += ["mkdir /etc/systemd/system/borne-kiosk.service.d",
                 f"write {tmp}/broken.conf /etc/systemd/system/borne-kiosk.service.d/zz-broken.conf"]
    r = subprocess.run(["debugfs", "-w", "-f", "-", dst], input="\n".join(cmds) + "\n", capture_output=True,
                       text=True)
    shutil.rmtree(tmp)
    check = subprocess.run(["debugfs", "-R", "cat /usr/lib/os-release", dst], capture_output=True, text=True)
    if f"IMAGE_VERSION={version}" not in check.stdout:
        raise RuntimeError(f"stamping {dst} failed: {r.stdout} {r.stderr}")


def make_bundle(keys, rootfs, out, full_only=False):
    """federation.sh bundle: `out`, the casync bundle (its chunk store beside it, NAME.castr), and
    NAME-full.raucb, the whole system for a USB stick, at zstd level 3 (20 s where 19 takes minutes;
    what a borne downloads over the network does not depend on it). `full_only`: NAME-full.raucb alone."""
    r = subprocess.run([os.path.join(HERE, "federation.sh"), "bundle", "--key", os.path.join(keys, "federation.key"),
                        "--cert", os.path.join(keys, "federation.crt"), "--rootfs", rootfs, "--out", out]
                       + (["--full-only"] if full_only else []),
                       capture_output=True, text=True, env={**os.environ, "BORNE_BUNDLE_ZSTD": "3"})
    if r.returncode != 0:
        raise RuntimeError(f"federation.sh bundle --out {out} exited {r.returncode}: "
                           f"stderr: {r.stderr.strip()[-2000:]}; stdout: {r.stdout.strip()[-500:]}; "
                           f"{disk_free(os.path.dirname(out))}")
    return out


def disk_free(path):
    """Free space where `path` lives, for error messages (a full disk explains many failures)."""
    try:
        st = os.statvfs(path or ".")
        return f"{st.f_bavail * st.f_frsize / 1e9:.1f} GB free under {path}"
    except OSError as e:
        return f"free space under {path} unknown: {e}"


def chunk_files(store):
    """A casync chunk store's files: {name: size}."""
    return {f: os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(store) for f in files
            if f.endswith(".cacnk")}


def flip_byte(src, dst, offset):
    shutil.copy(src, dst)
    with open(dst, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))
    return dst


class Vm:
    def __init__(self, mode, disk, workdir, accel, log, stick=None, action="1", bundles_stick=None):
        self.mode, self.disk, self.workdir, self.log = mode, disk, workdir, log
        self.ssh_port = free_port()
        self.qmp_path = os.path.join(workdir, f"{mode}.qmp")
        if os.path.exists(self.qmp_path):
            os.unlink(self.qmp_path)
        cmd = [
            "qemu-system-x86_64", "-machine", f"q35,accel={accel}", "-cpu", "host" if accel == "kvm" else "max",
            "-m", "2048", "-smp", "2",
            "-drive", f"if=virtio,file={disk},format=qcow2",
            # virtio-vga: wlroots 0.15 needs PRIME import, which bochs (-vga std) lacks ("Failed to open any
            # DRM device"); the PCs' drivers (i915, amdgpu, radeon, nouveau) have it.
            "-vga", "none", "-device", "virtio-vga", "-display", "none",
            "-nic", f"user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22",
            "-serial", f"file:{log}",
            "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
            "-fw_cfg", "name=opt/fr.borne.test,string=" + action.replace(",", ",,"),  # a comma doubled
            "-device", "qemu-xhci,id=xhci",
            # A mouse with absolute positions (the référent's clicks: maintenance_screen).
            "-device", "usb-tablet,bus=xhci.0",
        ]
        if stick:
            cmd += ["-drive", f"if=none,id=stick,format=raw,file={stick}",
                    "-device", "usb-storage,bus=xhci.0,drive=stick,removable=on"]
        # A sound card whose output qemu writes to a WAV file (the voice's check, UEFI: over SSH).
        self.wav = log.rsplit(".", 1)[0] + ".wav"
        if mode == "uefi":
            cmd += ["-audiodev", f"wav,id=snd0,path={self.wav}", "-device", "intel-hda",
                    "-device", "hda-duplex,audiodev=snd0"]
        if bundles_stick:  # read-only: the other mode's VM may read the same file meanwhile
            cmd += ["-drive", f"if=none,id=bundles,format=raw,readonly=on,file={bundles_stick}",
                    "-device", "usb-storage,bus=xhci.0,drive=bundles,removable=on"]
        if mode == "uefi":
            vars_copy = os.path.join(workdir, "uefi-vars.fd")
            if not os.path.exists(vars_copy):
                shutil.copy(OVMF_VARS, vars_copy)
            cmd += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                    "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]
        self.start = time.time()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(log + ".qemu", "w"))
        self.qmp = Qmp(self.qmp_path, 30)
        self.accel = self.qmp.hmp("info kvm").strip()

    def why_exited(self):
        """What qemu said on stderr before it stopped, and the free disk: a run's log says why."""
        try:
            with open(self.log + ".qemu", "rb") as f:
                said = f.read().decode("utf-8", "replace").strip()[-1500:]
        except OSError as e:
            said = f"(no stderr: {e})"
        return f"qemu stderr: {said or '(empty)'}; {disk_free(os.path.dirname(self.log))}"

    def serial(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_for(self, pattern, timeout, count=1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = re.findall(pattern, self.serial())
            if len(found) >= count:
                return found[count - 1]
            if self.proc.poll() is not None:
                raise RuntimeError(f"qemu exited ({self.proc.returncode}) waiting for {pattern!r}: {self.why_exited()}")
            time.sleep(1)
        raise TimeoutError(f"{self.mode}: no {pattern!r} on the serial console after {timeout} s")

    def status_after(self, uptime, timeout):
        """The first "BORNE-TEST status" line (parsed) from a guest uptime of at least `uptime` s."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in re.findall(r"BORNE-TEST status [^\n]*", self.serial()):
                st = dict(kv.split("=", 1) for kv in line.split()[2:] if "=" in kv)
                if float(st.get("uptime", 0)) >= uptime:
                    return st
            if self.proc.poll() is not None:
                raise RuntimeError(f"qemu exited ({self.proc.returncode}) waiting for a status line: {self.why_exited()}")
            time.sleep(2)
        raise TimeoutError(f"{self.mode}: no status line from uptime {uptime} s after {timeout} s")

    def screendump(self, path):
        self.qmp.cmd("screendump", filename=path)
        time.sleep(0.5)
        return path

    def settled_screendump(self, path, timeout=180, min_colours=PAGE_COLOURS):
        """A screen dump once the screen has stopped changing (two dumps 5 s apart that differ on less
        than 0.5 % of the sampled pixels) and shows text (more than `min_colours` colours: anti-aliased
        text has many, the page before its fonts are drawn about 20): under TCG the portal paints for a
        while after its page has loaded. Returns (path, seconds waited)."""
        t0 = time.time()
        prev = self.screendump(path + ".prev.ppm")
        while True:
            time.sleep(5)
            cur = self.screendump(path)
            done = differing_fraction(prev, cur) < 0.005 and distinct_colours(cur) > min_colours
            if done or time.time() - t0 > timeout:
                os.unlink(prev)
                return path, round(time.time() - t0, 1)
            os.replace(cur, prev)

    def sendkey(self, keys):
        self.qmp.hmp(f"sendkey {keys}")

    def pointer(self, x, y, size):
        """Moves the tablet's pointer to pixel (x, y) of a screen of `size` (width, height)."""
        w, h = size
        self.qmp.cmd("input-send-event", events=[
            {"type": "abs", "data": {"axis": "x", "value": int(x * 32767 / max(w - 1, 1))}},
            {"type": "abs", "data": {"axis": "y", "value": int(y * 32767 / max(h - 1, 1))}}])
        time.sleep(0.3)

    def button(self, name, times=1):
        for _ in range(times):
            for down in (True, False):
                self.qmp.cmd("input-send-event", events=[{"type": "btn", "data": {"down": down, "button": name}}])
                time.sleep(0.05)
            time.sleep(0.1)

    def power_off(self, timeout):
        self.qmp.cmd("system_powerdown")
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TimeoutError(f"{self.mode}: no clean power-off after {timeout} s")
        finally:
            self.qmp.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.qmp.close()



def loud_seconds(wav, offset, threshold=1000):
    """Seconds of sound louder than `threshold` (of 32767) in what qemu's wav audiodev wrote after
    `offset` bytes (its default format: 16-bit little-endian stereo at 44.1 kHz, after a 44-byte header),
    and the loudest sample."""
    import array
    with open(wav, "rb") as f:
        f.seek(max(offset, 44))
        data = f.read()
    samples = array.array("h")
    samples.frombytes(data[: len(data) // 2 * 2])
    loud = sum(1 for x in samples if abs(x) > threshold)
    return round(loud / 2 / 44100, 2), max((abs(x) for x in samples), default=0)


def grubenv(key, port, known_hosts):
    """GRUB's environment on the guest, as a dict."""
    _, out = ssh(key, port, known_hosts, "grub-editenv /efi/grub/grubenv list", strict="yes")
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def versions(image):
    """v1 (the image's version), v2 and v3 (the test's updates)."""
    rootfs = os.path.join(os.path.dirname(os.path.abspath(image)), "root.ext4")
    osr = subprocess.run(["debugfs", "-R", "cat /usr/lib/os-release", rootfs], capture_output=True, text=True).stdout
    v1 = re.search(r"(?m)^IMAGE_VERSION=(.*)$", osr).group(1).strip('"')
    return v1, v1 + ".1", v1 + ".2"


def shared_stick(out):
    """The bundles' USB stick image the UEFI run makes (prepare_bundles), which the BIOS run reads too."""
    return os.path.join(out, "uefi-bundles", "bundles-stick.img")


def prepare_bundles(mode, image, out, keys):
    """make_test_bundles, and a marker beside the stick when it fails: the BIOS run waiting for the stick
    stops waiting."""
    try:
        return make_test_bundles(mode, image, out, keys)
    except BaseException:
        os.makedirs(os.path.dirname(shared_stick(out)), exist_ok=True)
        open(shared_stick(out) + ".failed", "w").close()
        raise


def make_test_bundles(mode, image, out, keys):
    """The update test's bundles, made on the host while the VM boots: v2 (served over HTTPS), and on an
    ext4 USB stick image v1, v3, one signed by another key, two tampered ones. Returns what
    update_phase needs."""
    work = os.path.join(out, f"{mode}-bundles")
    if os.path.exists(work):
        shutil.rmtree(work)
    stick_dir = os.path.join(work, "stick")
    os.makedirs(stick_dir)
    rootfs = os.path.join(os.path.dirname(os.path.abspath(image)), "root.ext4")
    v1, v2, v3 = versions(image)
    t0 = time.time()
    # v2 as the federation's server has it (a casync bundle with its chunk store) and as a USB stick
    # carries it (the full bundle: the BIOS VM installs it from the stick). v3 and v1 are made as USB
    # stick releases only (`--full-only`: no chunking, a conversion less each). v1 is a downgrade,
    # refused by the pre-install handler on its version before anything is written, so its bundle holds
    # a small filesystem with v1's os-release: what matters is its signed version, and if the refusal
    # ever failed, the slot written would not be the one hashed before (the check sees it).
    figures = {}
    stamp_rootfs(rootfs, os.path.join(work, "v2.ext4"), v2)
    b2 = make_bundle(keys, os.path.join(work, "v2.ext4"), os.path.join(work, "v2.raucb"))
    figures["bundle_v2_build_s"] = round(time.time() - t0, 1)
    figures["bundle_full_bytes"] = os.path.getsize(os.path.join(work, "v2-full.raucb"))
    os.replace(os.path.join(work, "v2-full.raucb"), os.path.join(stick_dir, "v2-full.raucb"))
    store_v2 = chunk_files(os.path.join(work, "v2.castr"))
    figures["store_bytes"] = sum(store_v2.values())
    t1 = time.time()
    stamp_rootfs(rootfs, os.path.join(work, "v3.ext4"), v3, broken_kiosk=True)
    make_bundle(keys, os.path.join(work, "v3.ext4"), os.path.join(work, "v3.raucb"), full_only=True)
    os.replace(os.path.join(work, "v3-full.raucb"), os.path.join(stick_dir, "v3.raucb"))
    figures["bundle_v3_full_only_build_s"] = round(time.time() - t1, 1)
    small = os.path.join(work, "v1-small")
    os.makedirs(os.path.join(small, "usr", "lib"))
    with open(os.path.join(small, "usr", "lib", "os-release"), "w") as f:
        f.write(f"ID=debian\nIMAGE_ID=borne\nIMAGE_VERSION={v1}\n")
    with open(os.path.join(small, "usr", "lib", "filler"), "wb") as f:
        f.write(os.urandom(64 << 10))  # RAUC wants a squashfs of more than one 4 KiB block
    subprocess.run(["mkfs.ext4", "-q", "-d", small, os.path.join(work, "v1.ext4"), "8M"], check=True)
    make_bundle(keys, os.path.join(work, "v1.ext4"), os.path.join(work, "v1.raucb"), full_only=True)
    os.replace(os.path.join(work, "v1-full.raucb"), os.path.join(stick_dir, "v1.raucb"))
    shutil.rmtree(small)
    for f in ("v1.ext4", "v2.ext4", "v3.ext4"):
        os.unlink(os.path.join(work, f))
    # Another key's bundle: v2 re-signed. Tampered: one byte flipped in the signature (a bundle ends with
    # its signature, then the signature's size), and one in the bundle's first 4 KiB block (the squashfs
    # superblock's block, which every install reads): dm-verity fails that block. (A chunk altered on the
    # server fails casync's check of its SHA-256, which the signed index holds.)
    other = os.path.join(work, "other-key")
    subprocess.run([os.path.join(HERE, "federation.sh"), "keys", other, "Not the federation"], check=True,
                   capture_output=True)
    subprocess.run(["rauc", "resign", "--cert", os.path.join(other, "federation.crt"), "--key",
                    os.path.join(other, "federation.key"), "--keyring", os.path.join(keys, "federation.crt"),
                    "--signing-keyring", os.path.join(other, "federation.crt"), b2,
                    os.path.join(stick_dir, "other-key.raucb")], check=True, capture_output=True)
    # The same one, kept for the HTTPS server: the updater's own path refuses it too (update_phase).
    shutil.copy(os.path.join(stick_dir, "other-key.raucb"), os.path.join(work, "other-key.raucb"))
    flip_byte(b2, os.path.join(stick_dir, "tampered-signature.raucb"), os.path.getsize(b2) - 300)
    flip_byte(b2, os.path.join(stick_dir, "tampered-image.raucb"), 1024)
    stick = os.path.join(work, "bundles-stick.img")
    size = sum(os.path.getsize(os.path.join(stick_dir, f)) for f in os.listdir(stick_dir)) + (256 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-L", "BUNDLES", "-d", stick_dir, stick, f"{size // 1024}k"], check=True)
    shutil.rmtree(stick_dir)
    figures["bundle_bytes"] = os.path.getsize(b2)
    figures["full_image_zst_bytes"] = os.path.getsize(image + ".zst") if os.path.exists(image + ".zst") else None
    figures["bundles_ready_s"] = round(time.time() - t0, 1)
    # The BIOS VM's run (another process) waits for this to use the same stick, read-only.
    open(stick + ".ready", "w").close()
    return {"v1": v1, "v2": v2, "v3": v3, "b2": b2, "stick": stick, "work": work, "figures": figures}


# What an update must leave as it was (besides the statistics, checked through the planted row): the
# référent's settings and their history, the PIN, the Matomo address and key. (Not `kiosk-starts`, which
# the kiosk rewrites at every start.)
KEPT_FILES = ("cd /var/lib/borne && sha256sum settings.toml matomo.toml matomo.token admin/pin.phc "
              "history/index.json history/*.toml")


def setup_pin():
    """The référent's PIN the example setup file gives (the good setup's)."""
    with open(os.path.join(HERE, "borne-setup.example.toml")) as f:
        return re.search(r'(?m)^pin = "(\d+)"', f.read()).group(1)


def ocr(png):
    """The text tesseract reads on a screen dump (French; the dump enlarged twice, which tesseract reads
    more surely at this size of type), spaces squeezed."""
    big = png.rsplit(".", 1)[0] + "-x2.png"
    subprocess.run(["convert", png, "-resize", "200%", big], check=True)
    said = subprocess.run(["tesseract", big, "-", "-l", "fra"], capture_output=True, text=True, timeout=120).stdout
    os.unlink(big)
    return re.sub(r"[ \t]+", " ", said)


def read_screen(vm, out, name, want, timeout=90):
    """Screen dumps read by OCR until `want` (a regex) is in the text or `timeout` s passed. Returns
    (text read, png)."""
    png = os.path.join(out, f"{vm.mode}-{name}.png")
    t0, said = time.time(), ""
    while time.time() - t0 < timeout:
        shot, _ = vm.settled_screendump(os.path.join(out, f"{vm.mode}-{name}.ppm"), timeout=30)
        to_png(shot, png)
        said = ocr(png)
        if re.search(want, said):
            break
        time.sleep(3)
    return said, png


def ocr_digits(token):
    """A version number as OCR read it, with the letter O (which tesseract reads for a zero now and
    then) taken as the digit it stands for."""
    return token.replace("O", "0").replace("o", "0")


def find_text(png, phrase):
    """The centre (x, y) of `phrase` (its words on one line) on a screen dump, as tesseract reads it, or
    None."""
    out = subprocess.run(["tesseract", png, "-", "-l", "fra", "tsv"], capture_output=True, text=True,
                         timeout=120).stdout
    rows = [r.split("\t") for r in out.splitlines()[1:]]
    rows = [r for r in rows if len(r) == 12 and r[11].strip()]
    words = phrase.split()
    for i in range(len(rows) - len(words) + 1):
        seq = rows[i:i + len(words)]
        if [r[11] for r in seq] == words and len({tuple(r[2:5]) for r in seq}) == 1:
            left = min(int(r[6]) for r in seq)
            top = min(int(r[7]) for r in seq)
            right = max(int(r[6]) + int(r[8]) for r in seq)
            bottom = max(int(r[7]) + int(r[9]) for r in seq)
            return (left + right) // 2, (top + bottom) // 2
    return None


def maintenance_screen(vm, out, name, pin):
    """Opens the référent's Maintenance screen on the portal just shown, as a référent does, each step once
    the screen shows the one before (read by OCR, so the PIN is typed once, into its field): the mouse
    wheel over the page down to its foot, a click on « Espace référent » (found on the screen by OCR), the
    PIN on the keyboard (digits with Shift: the borne's keyboard is French, AZERTY) and Enter, then Tab six
    times from the first screen button (« Tuiles », where the keyboard lands) to « Maintenance », and Enter.
    The click also gives the page the keyboard (which of the window's two views has it at start is GTK's
    choice). Returns (text read, png) of the Maintenance screen, or of the step that did not come."""
    png = os.path.join(out, f"{vm.mode}-{name}-portal.png")
    at = None
    for _ in range(3):
        shot = vm.screendump(png[:-4] + ".ppm")
        size = read_ppm(shot)[:2]
        vm.pointer(size[0] // 2, size[1] * 2 // 3, size)
        vm.button("wheel-down", 15)
        shot, _ = vm.settled_screendump(png[:-4] + ".ppm", timeout=30)
        to_png(shot, png)
        at = find_text(png, "Espace référent")
        if at:
            break
    if not at:
        return ocr(png), png
    vm.pointer(at[0], at[1], size)
    vm.button("left")
    pin_screen = r"Code de l.espace r.f.rent"
    said, png = read_screen(vm, out, name + "-pin", pin_screen, timeout=60)
    if not re.search(pin_screen, said):
        return said, png
    for k in [f"shift-{d}" for d in pin] + ["ret"]:
        vm.sendkey(k)
        time.sleep(0.6)
    # The screens' buttons: tesseract reads some of their names (not those in framed buttons of one word).
    screens = r"Centre et r.glages|Aide et fiches|Statistiques"
    said, png = read_screen(vm, out, name + "-screens", screens)
    if not re.search(screens, said):
        return said, png
    time.sleep(3)
    for k in ["tab"] * 6 + ["ret"]:
        vm.sendkey(k)
        time.sleep(0.6)
    return read_screen(vm, out, name, r"Version du syst.me", timeout=45)


def screen_page_down(vm, out, name):
    """Page Down (the keyboard is on a screen button, not in a field: the page scrolls by a screen), then
    the screen read again. Returns (text read, png)."""
    vm.sendkey("pgdn")
    time.sleep(1)
    return read_screen(vm, out, name, r".", timeout=30)


def rolled_back(vm, v2, v3, timeout, check, figures, where):
    """The VM just powered on with v3 (whose kiosk never shows its portal) installed on slot A and v2
    on B: two trial boots of A fail, GRUB boots B again by itself, v2 shows its portal."""
    rolled = vm.wait_for(r"BORNE-ROLLBACK failed=(\S+) slot=(\S+) running=(\S+) on=(\S+)", 1500)
    figures["v3_power_on_to_rollback_s"] = round(time.time() - vm.start, 1)
    good = vm.wait_for(r"BORNE-SLOT-GOOD slot=(\S+) version=(\S+)", timeout)
    figures["v3_power_on_to_v2_portal_s"] = round(time.time() - vm.start, 1)
    failed_boots = re.findall(r"BORNE-TRIAL-FAILED slot=(\S+) reason=(\S+)", vm.serial())
    check("v3 never shows its portal: after its tries GRUB boots v2 again by itself" + where,
          rolled == (v3, "A", v2, "B") and good == ("B", v2) and len(failed_boots) == 2,
          f"{rolled}; trial boots failed: {failed_boots}; v2 portal {figures['v3_power_on_to_v2_portal_s']} s "
          "after power-on")


def update_phase(mode, vm, bundles, out, accel, timeout, key, known_hosts, check, figures):
    """Checks 9-11 (see the module's text) from a running boot 2 with SSH; returns the VM running last.
    v2 comes over HTTPS through the updater (a casync bundle: the chunks slot A lacks); the bundles that
    must be refused, and v3 (a full bundle), come on a USB stick (an ext4 one, plugged into the running
    VM), as a centre with no usable connection would get them."""
    def sh(command, timeout=180):
        return ssh(key, vm.ssh_port, known_hosts, command, strict="yes", timeout=timeout)

    b = bundles.result()
    v1, v2, v3, b2, stick, work = b["v1"], b["v2"], b["v3"], b["b2"], b["stick"], b["work"]
    figures.update(b["figures"])

    def plug_stick():
        vm.qmp.hmp(f"drive_add 0 if=none,id=bundles,format=raw,readonly=on,file={stick}")
        vm.qmp.hmp("device_add usb-storage,bus=xhci.0,drive=bundles,id=bundles-stick")
        rc, said = sh("for i in $(seq 30); do [ -e /dev/disk/by-label/BUNDLES ] && break; sleep 1; done; "
                      "mkdir -p /mnt/bundles && mount -o ro /dev/disk/by-label/BUNDLES /mnt/bundles && ls /mnt/bundles")
        check("bundles' USB stick mounted", rc == 0 and "v3.raucb" in said, f"exit {rc}: {said[-200:]}")

    server = BundleServer(work)
    server.files.update({"current.raucb": b2})
    server.dirs["current.castr"] = os.path.join(work, "v2.castr")
    try:
        rc, said = sh("cat /var/lib/borne-state/system/update.conf")
        check("the setup file's update address is the updater's (system/update.conf)",
              rc == 0 and "url=https://maj.federation.example/borne/borne.raucb" in said, f"exit {rc}: {said[-200:]!r}")
        with open(server.ca) as f:
            ca = f.read()
        # The test server's CA into the system's store (curl, RAUC and casync use it), for this boot only:
        # the root is a RAM overlay. A real server has a certificate from a CA the store already holds.
        trust_ca = "cat >> /etc/ssl/certs/ca-certificates.crt <<'PEM'\n" + ca + "PEM\n"
        no_timer = "systemctl stop borne-update.timer borne-update-due.service; "
        # The test drives the updater itself (borne-update.service, as « Mettre à jour maintenant » does):
        # the timer's own check, due 10 minutes after boot, would hold the updater's lock meanwhile.
        rc, said = sh(no_timer + trust_ca + "printf 'url=%s\\n' '" + server.url("current.raucb") +
                      "' > /var/lib/borne-state/system/update.conf && . /etc/os-release && echo $IMAGE_VERSION")
        check("update channel set (state partition), running v1", rc == 0 and said.endswith(v1), f"exit {rc}: {said[-200:]}")
        env_before = grubenv(key, vm.ssh_port, known_hosts)
        check("GRUB's environment read through SSH: slot A good, B never installed",
              env_before.get("A_OK") == "1" and env_before.get("A_TRY") == "0" and env_before.get("ORDER") == "A B"
              and env_before.get("B_OK") == "0", f"grubenv {env_before}")

        slot_other = ("head -c 64M /dev/disk/by-partlabel/borne-root-$(sed -n 's/.*rauc.slot=\\([AB]\\).*/\\1/p' "
                      "/proc/cmdline | tr AB ba) | sha256sum | cut -c1-16")

        def refused(name, why, untouched=True):
            """`rauc install` of a bad bundle from the stick: fails with `why` (RAUC's words, or our
            pre-install handler's), GRUB's environment unchanged and, if `untouched`, the first 64 MiB of
            the other slot too."""
            _, before = sh(slot_other)
            env0 = grubenv(key, vm.ssh_port, known_hosts)
            rc, said = sh(f"rauc install /mnt/bundles/{name} 2>&1; r=$?; cat /run/borne/last-refusal 2>/dev/null; "
                          "rm -f /run/borne/last-refusal; exit $r", timeout=900)
            _, after = sh(slot_other)
            env1 = grubenv(key, vm.ssh_port, known_hosts)
            same = after == before
            ok = rc != 0 and why in said and env1 == env0 and (same or not untouched)
            check(f"bundle refused, {'other slot untouched' if untouched else 'other slot stays unbootable'}: {name}",
                  ok, f"exit {rc}; other slot {before} -> {after}; grubenv {'same' if env1 == env0 else env1}; "
                  f"rauc: {' / '.join(said.strip().splitlines()[-2:])[-300:]}")

        plug_stick()
        refused("other-key.raucb", "signature")
        refused("tampered-signature.raucb", "signature")
        # A flipped byte in the bundle's first block fails dm-verity as soon as RAUC mounts the bundle:
        # refused before anything is written.
        refused("tampered-image.raucb", "")

        # v2: the update service, as its timer would start it, while the portal is shown. The VM is killed
        # (a power cut) while RAUC writes slot B (casync has fetched a chunk: it has chunked the running
        # slot, its seed, and writes): the next boot is slot A, working, B not bootable.
        server.sent.clear()
        server.requests.clear()
        t1 = time.time()
        sh("systemctl start --no-block borne-update.service")
        deadline = time.time() + 1800
        installing = False
        while time.time() < deadline and not installing:
            time.sleep(5)
            _, events = sh("cat /var/lib/borne-state/updates/events.log 2>/dev/null | grep -c 'installing version'; "
                           "systemctl is-active borne-update.service || true")
            installing = events.split()[0] not in ("", "0")
            if not installing and events.split()[-1] not in ("active", "activating"):
                break  # the update ended before installing (its status says why: the check below fails)
        figures["v2_to_install_start_s"] = round(time.time() - t1, 1)
        while time.time() < deadline and not server.sent.get("current.castr"):
            time.sleep(3)
            _, active = sh("systemctl is-active borne-update.service || true")
            if active.strip() not in ("active", "activating"):
                break  # the install ended (failed) before fetching a chunk: the check below says so
        fetched = bool(server.sent.get("current.castr"))
        figures["v2_install_start_to_first_chunk_s"] = round(time.time() - t1 - figures["v2_to_install_start_s"], 1)
        time.sleep(5)  # casync is writing slot B
        figures["v2_bytes_before_power_cut"] = sum(server.sent.values())
        vm.kill()
        vm = Vm(mode, vm.disk, out, accel, os.path.join(out, f"{mode}-serial-boot2b-power-cut.log"), bundles_stick=stick)
        try:
            good = vm.wait_for(r"BORNE-SLOT-GOOD slot=(\S+) version=(\S+)", timeout)
        except TimeoutError:
            good = None
        env = grubenv(key, vm.ssh_port, known_hosts)
        check("power cut while slot B is written: the next boot is slot A (v1), working, and B is not bootable",
              installing and fetched and good == ("A", v1) and env.get("B_OK") == "0" and env.get("ORDER", "").startswith("A"),
              f"install started: {installing}, chunks fetched: {fetched} "
              f"({figures['v2_bytes_before_power_cut']} bytes); {good}; grubenv {env}")
        # The next check starts the update again: the small bundle, then the chunks slot A lacks (casync
        # keeps nothing of the cut install). The CA again: the RAM overlay forgot it.
        sh(no_timer + trust_ca)
        _, restarts0 = sh("systemctl show -P NRestarts borne-kiosk.service")
        markers0 = vm.serial().count("BORNE-PORTAL-SHOWN")
        server.sent.clear()
        server.requests.clear()
        t1 = time.time()
        rc, said = sh("systemctl start borne-update.service; systemctl is-failed borne-update.service; "
                      "cat /var/lib/borne-state/updates/status", timeout=1800)
        figures["v2_install_s"] = round(time.time() - t1, 1)
        figures["v2_bundle_bytes_downloaded"] = server.sent.get("current.raucb", 0)
        figures["v2_chunk_bytes_downloaded"] = server.sent.get("current.castr", 0)
        figures["v2_chunk_requests"] = server.requests.get("current.castr", 0)
        figures["v2_bytes_downloaded"] = figures["v2_bundle_bytes_downloaded"] + figures["v2_chunk_bytes_downloaded"]
        full = figures.get("full_image_zst_bytes") or 0
        figures["v2_download_percent_of_full_image"] = round(100 * figures["v2_bytes_downloaded"] / full, 2) if full else None
        env = grubenv(key, vm.ssh_port, known_hosts)
        _, restarts1 = sh("systemctl show -P NRestarts borne-kiosk.service")
        check("v2 downloaded and installed in the background on slot B (after the power cut), the kiosk untouched",
              "outcome=installed" in said and env.get("ORDER") == "B A" and env.get("B_OK") == "1"
              and restarts1 == restarts0 and vm.serial().count("BORNE-PORTAL-SHOWN") == markers0,
              f"{figures['v2_install_s']} s; grubenv {env}; kiosk restarts {restarts0} -> {restarts1}; "
              f"{said[-300:]!r}")
        check("v2 fetched only what slot A lacks: under 15 % of a full image",
              full and 0 < figures["v2_bytes_downloaded"] < 0.15 * full,
              f"{figures['v2_bytes_downloaded']} bytes: bundle {figures['v2_bundle_bytes_downloaded']} + "
              f"{figures['v2_chunk_requests']} chunk requests, {figures['v2_chunk_bytes_downloaded']} bytes; "
              f"{figures['v2_download_percent_of_full_image']} % of the full image ({full}); "
              f"whole store {figures['store_bytes']}, full bundle {figures['bundle_full_bytes']}")
        rc, said = sh("systemctl start borne-update.service; cat /var/lib/borne-state/updates/status", timeout=300)
        check("the updater does not download again what waits for a restart",
              "waits for the next restart" in said, f"{said[-200:]!r}")
        last = dict(re.findall(r"(?m)^(\w+)=(.*)$", said))  # the record's keys, the last line of each
        check("the record after a check that went well: no failure in a row, the next check in about 4 h, the "
              "address and where it comes from (the setup's)",
              last.get("failures") == "0" and last.get("next_check") and last.get("url_from") == "setup"
              and last.get("url") == server.url("current.raucb"),
              f"failures={last.get('failures')} next_check={last.get('next_check')} url_from={last.get('url_from')}")
        rc, said = sh("a=$(cat /var/lib/borne-state/updates/status); systemctl start borne-update-due.service; "
                      "b=$(cat /var/lib/borne-state/updates/status); [ \"$a\" = \"$b\" ] && echo unchanged; "
                      "systemctl show -P Unit borne-update.timer")
        check("the timer's check when none is due (same boot, 4 h not passed) leaves the record as it is, and the "
              "timer starts that check", rc == 0 and said.split() == ["unchanged", "borne-update-due.service"],
              f"exit {rc}: {said[-200:]!r}")
        # Boot 3: the borne restarts by itself into v2, since a version waits, nobody uses it and the time
        # is in its reboot window (the référent's settings: the whole day here; the kiosk restarted to
        # read them, and it looks a minute after its start). Nothing here reboots the VM.
        rc, said = sh("printf '\\n[updates]\\nreboot_window = \"00:00-23:59\"\\n' >> /var/lib/borne/settings.toml")
        _, state0 = sh(KEPT_FILES)
        t1 = time.time()
        sh("systemctl restart borne-kiosk.service")
        try:
            good = vm.wait_for(r"BORNE-SLOT-GOOD slot=(B) version=(\S+)", timeout)
        except TimeoutError:
            good = None
        figures["v2_kiosk_restart_to_slot_good_s"] = round(time.time() - t1, 1)
        report = vm.wait_for(r"BORNE-TEST report [^\n]*", 300, count=2)
        _, state1 = sh(KEPT_FILES)
        rc, ver = sh(". /etc/os-release && echo $IMAGE_VERSION")
        check("the borne restarts by itself into v2 (a version waits, nobody there, in its reboot window); slot B "
              "runs v2 and is marked good after its portal",
              good == ("B", v2) and ver == v2, f"{good}, os-release {ver!r}, {figures['v2_kiosk_restart_to_slot_good_s']} s "
              "from the kiosk's restart to the slot marked good (portal shown)")
        check("statistics, settings, PIN and SSH host key kept across the update",
              "stats=42" in report and "admin/pin.phc" in state0 and "matomo.token" in state0 and state1 == state0 and rc == 0,
              f"{report.strip()}; /var/lib/borne files {'same' if state1 == state0 else 'DIFFER'}; SSH strict host key: exit {rc}")
        # A bundle signed by another key, published at the update address and fetched by the updater
        # itself (not a bare `rauc install`, as from the stick below): refused, the reason in its record
        # (and the journal, in English), nothing written to the other slot, and said on the Maintenance
        # screen in French (read below). Its chunk store is v2's: RAUC refuses before reading a chunk.
        server.files["refused.raucb"] = os.path.join(work, "other-key.raucb")
        server.dirs["refused.castr"] = os.path.join(work, "v2.castr")
        env0 = grubenv(key, vm.ssh_port, known_hosts)
        _, other0 = sh(slot_other)
        server.sent.clear()
        rc, said = sh(no_timer + trust_ca + "printf 'url=%s\\n' '" + server.url("refused.raucb") +
                      "' > /var/lib/borne-state/system/update.conf; systemctl start borne-update.service; "
                      "cat /var/lib/borne-state/updates/status; journalctl -b -u borne-update.service -o cat | tail -n 3",
                      timeout=600)
        _, other1 = sh(slot_other)
        refusal = re.findall(r"(?m)^last_refusal=(.*)$", said)
        check("a bundle signed by another key, at the update address: the updater refuses it and records why "
              "(signature), nothing written to the other slot, no chunk fetched",
              refusal and "signature" in refusal[-1] and grubenv(key, vm.ssh_port, known_hosts) == env0
              and other0 == other1 and not server.sent.get("refused.castr"),
              f"last_refusal={refusal[-1] if refusal else None!r}; other slot {other0} -> {other1}; "
              f"{' / '.join(said.splitlines()[-3:])[-300:]!r}")
        # What the référent sees: the Maintenance screen, reached with the keyboard and the setup's PIN,
        # read by OCR on the VM's screen; one page down, the refusal just made.
        t1 = time.time()
        said, png = maintenance_screen(vm, out, "maintenance-v2", setup_pin())
        line = re.search(r"Version du syst.me ?: ?(\S+) \(emplacement (\w)\)", said)
        check("the Maintenance screen, opened as a référent does (a click on « Espace référent », the PIN), says "
              "v2 runs on slot B (read by OCR on the VM's screen)",
              line and ocr_digits(line.group(1)) == v2 and line.group(2) == "B",
              f"{line.group(0) if line else said[-300:]!r} ({os.path.basename(png)}, {round(time.time() - t1, 1)} s)")
        said2, png2 = screen_page_down(vm, out, "maintenance-v2-2")
        flat = re.sub(r"\s+", " ", said + " " + said2)
        why = re.search(r"Dernier refus \([^)]*\) ?: ?Elle n.est pas sign.e par la f.d.ration ou a .t. modifi.e", flat)
        check("the Maintenance screen says in French why the last bundle was refused (OCR)",
              why, f"{why.group(0) if why else flat[-400:]!r} ({os.path.basename(png2)})")
        sh(no_timer + "for i in $(seq 30); do [ -e /dev/disk/by-label/BUNDLES ] && break; sleep 1; done; "
           "mkdir -p /mnt/bundles && mount -o ro /dev/disk/by-label/BUNDLES /mnt/bundles")
        refused("v1.raucb", "not newer")  # a downgrade: v1 under v2

        # v3, whose kiosk never shows its portal: installed on slot A, then GRUB must come back to B.
        t1 = time.time()
        rc, said = sh("rauc install /mnt/bundles/v3.raucb > /tmp/v3.log 2>&1; r=$?; tail -n 1 /tmp/v3.log; exit $r",
                      timeout=1800)
        figures["v3_install_from_stick_s"] = round(time.time() - t1, 1)
        env = grubenv(key, vm.ssh_port, known_hosts)
        check("v3 installed on slot A", rc == 0 and env.get("ORDER") == "A B" and env.get("A_OK") == "1",
              f"{figures['v3_install_from_stick_s']} s; grubenv {env}; {said[-200:]!r}")
        vm.power_off(300)
        vm = Vm(mode, vm.disk, out, accel, os.path.join(out, f"{mode}-serial-boot4-v3.log"), bundles_stick=stick)
        rolled_back(vm, v2, v3, timeout, check, figures, "")
        rc, said = sh("cat /var/lib/borne-state/updates/failed-versions; tail -n 4 /var/lib/borne-state/updates/events.log;"
                      " rauc status --output-format=json 2>/dev/null")
        rauc_status = {}
        try:
            rauc_status = json.loads(said[said.index("{"):])
        except ValueError:
            pass
        a_state = next((st.get("boot_status") for d in rauc_status.get("slots", []) for st in d.values()
                        if st.get("bootname") == "A"), None)
        check("the failure is recorded: version, events, slot A marked bad",
              said.startswith(v3) and "rolled back" in said and a_state == "bad",
              f"slot A boot status {a_state}; {said[:500]!r}")
        sh(no_timer + "for i in $(seq 30); do [ -e /dev/disk/by-label/BUNDLES ] && break; sleep 1; done; "
           "mkdir -p /mnt/bundles && mount -o ro /dev/disk/by-label/BUNDLES /mnt/bundles")
        refused("v3.raucb", "already failed")
        # The rollback as the référent sees it: the Maintenance screen, one page down, says which version
        # did not start and which one the borne came back to (read by OCR).
        said, png = maintenance_screen(vm, out, "maintenance-rollback", setup_pin())
        said2, png2 = screen_page_down(vm, out, "maintenance-rollback-2")
        flat = re.sub(r"\s+", " ", said + " " + said2)
        back = re.search(r"Retour en arri.re \([^)]*\) ?: la version (\S+) n.a pas d.marr. correctement, la borne est "
                         r"revenue seule . la version (\S+?)\.? ", flat + " ")
        check("the Maintenance screen says the borne came back by itself to v2 after v3 did not start (OCR)",
              back and ocr_digits(back.group(1)) == v3 and ocr_digits(back.group(2)) == v2,
              f"{back.group(0) if back else flat[-400:]!r} ({os.path.basename(png2)})")
    finally:
        server.close()
    return vm


def wait_for_stick(stick):
    """Waits for the bundles' stick the UEFI run makes (prepare_bundles)."""
    deadline = time.time() + 2400
    while not os.path.exists(stick + ".ready"):
        if os.path.exists(stick + ".failed"):
            raise RuntimeError("the UEFI run could not make the bundles' stick")
        if time.time() > deadline:
            raise TimeoutError(f"no bundles' stick at {stick} after 2400 s")
        time.sleep(5)


def stick_update_phase(mode, vm, stick, image, out, accel, timeout, check, figures):
    """Checks 12-13 in a mode the test has no SSH into (legacy BIOS): the same RAUC, GRUB and grubenv,
    driven by the CI hook (fw_cfg "install:NAME": `rauc install` from the bundles' stick, as root, once
    the running slot is marked good). `vm` is boot 2, started with "install:v2-full.raucb": v2's full
    bundle installed on slot B meanwhile; then the borne boots v2 from B and marks it good, statistics
    kept, and in that boot v3 (never shows its portal) is installed on slot A; at power-on its trial
    boots fail and GRUB boots v2 again by itself. Returns the VM running last."""
    v1, v2, v3 = versions(image)

    def installed(name):
        """What the hook reported of `name`'s install in this boot: (rc, RAUC's last words, grubenv)."""
        rc, said = vm.wait_for(r"BORNE-TEST install " + re.escape(name) + r" rc=(\d+): ([^\n]*)", 2400)
        figures[f"{name}_power_on_to_installed_s"] = round(time.time() - vm.start, 1)
        env_line = vm.wait_for(r"BORNE-TEST grubenv ([^\n]*)", 60)
        # grub-editenv's lines joined by spaces, and values may hold spaces (ORDER=B A).
        env = dict(re.findall(r"(\w+)=(.*?)\s*(?=\s\w+=|$)", env_line.strip()))
        return int(rc), said, env

    rc, said, env = installed("v2-full.raucb")
    check("v2 installed on slot B from a USB stick (legacy BIOS, GRUB's i386-pc environment)",
          rc == 0 and env.get("ORDER") == "B A" and env.get("B_OK") == "1",
          f"{figures['v2-full.raucb_power_on_to_installed_s']} s from power-on; grubenv {env}; rauc: {said[-200:]!r}")
    vm.power_off(300)
    vm = Vm(mode, vm.disk, out, accel, os.path.join(out, f"{mode}-serial-boot3-v2.log"), action="install:v3.raucb",
            bundles_stick=stick)
    boot = vm.wait_for(r"BORNE-BOOT [^\n]*", 300)
    good = vm.wait_for(r"BORNE-SLOT-GOOD slot=(\S+) version=(\S+)", timeout)
    figures["v2_power_on_to_slot_good_s"] = round(time.time() - vm.start, 1)
    report = vm.wait_for(r"BORNE-TEST report [^\n]*", 300)
    check("the borne boots v2 from slot B (a trial boot counted by GRUB), marked good after its portal; "
          "statistics kept", "slot=B" in boot and "B_TRY=1" in boot and good == ("B", v2) and "stats=42" in report,
          f"{boot.strip()}; {good}; {report.strip()}; {figures['v2_power_on_to_slot_good_s']} s from power-on")

    rc, said, env = installed("v3.raucb")
    check("v3 installed on slot A from the stick (legacy BIOS)",
          rc == 0 and env.get("ORDER") == "A B" and env.get("A_OK") == "1",
          f"{figures['v3.raucb_power_on_to_installed_s']} s from power-on; grubenv {env}; rauc: {said[-200:]!r}")
    vm.power_off(300)
    vm = Vm(mode, vm.disk, out, accel, os.path.join(out, f"{mode}-serial-boot4-v3.log"))
    rolled_back(vm, v2, v3, timeout, check, figures, " (legacy BIOS)")
    return vm


# The boot test's Wi-Fi (dev image: mkosi.profiles/dev, borne-test-wifi.service): on the second of two
# simulated radios, in a network namespace of its own, a WPA2 network and a hidden one, each with a DHCP
# server (192.168.77.0/24 and 192.168.78.0/24); the first radio is the borne's card. Test values only.
WIFI_SSID, WIFI_PSK = "Borne-Test", "bonne-cle-2026"
WIFI_HIDDEN_SSID, WIFI_HIDDEN_PSK = "Borne-Cachee", "cle-cachee-2026"
WIFI_WRONG_PSK = "mauvaise-cle-2026"
HOSTAPD_CONF = f"""interface=ap0
driver=nl80211
hw_mode=g
channel=6
ssid={WIFI_SSID}
wpa=2
wpa_key_mgmt=WPA-PSK
rsn_pairwise=CCMP
wpa_passphrase={WIFI_PSK}
bss=ap1
ssid={WIFI_HIDDEN_SSID}
ignore_broadcast_ssid=1
wpa=2
wpa_key_mgmt=WPA-PSK
rsn_pairwise=CCMP
wpa_passphrase={WIFI_HIDDEN_PSK}
"""
# The French words bornectl says (the admin screen's own, ui/i18n/fr.json).
WIFI_WRONG_PASSWORD_FR = "Le mot de passe du Wi-Fi n'est pas le bon."
# The kiosk's user runs bornectl as the admin screen would: NetworkManager asks polkit, whose image
# rule allows that user its three actions. As the kiosk runs: the user's ids and groups, and no login
# session (runuser would open one through PAM, and boot 1 checks that the borne has none).
AS_BORNE = "setpriv --reuid=borne --regid=borne --init-groups "
AS_KIOSK = AS_BORNE + "bornectl wifi "
NM_KEYFILES = "/var/lib/borne-state/system/network"


def wifi_boot1(sh, check, figures):
    """Wi-Fi for real, as the kiosk's user (boot 1, UEFI, over SSH): the access point started (its
    configuration written into root's part of the state partition: the dev unit starts it again at
    the next boot), the network listed, a wrong password refused in French and leaving nothing, the
    right one joined with an address from the access point's DHCP (and the borne's card in the access
    point's station list), the password stored by NetworkManager in root's part of the state partition,
    out of the kiosk's user's reach, forgotten, then the hidden network joined: the one boot 2 must
    join again by itself."""
    t0 = time.time()
    rc, said = sh("mkdir -p -m 700 /var/lib/borne-state/system/test-wifi && "
                  "cat > /var/lib/borne-state/system/test-wifi/hostapd.conf <<'CONF'\n" + HOSTAPD_CONF + "CONF\n"
                  "systemctl start borne-test-wifi.service || journalctl -b -u borne-test-wifi.service -o cat | tail -n 6; "
                  "systemctl is-active borne-test-wifi.service; "
                  "echo AP=$(ip netns exec ap iw dev | grep -c 'type AP'); "
                  "for i in $(seq 30); do nmcli -t -f DEVICE,TYPE device status | grep -q ':wifi$' && break; sleep 1; done; "
                  "nmcli -t -f DEVICE,TYPE device status | grep ':wifi$'")
    figures["wifi_access_point_up_s"] = round(time.time() - t0, 1)
    card = re.search(r"(?m)^(\w+):wifi$", said)
    check("Wi-Fi: two simulated radios, hostapd's two networks up on one, NetworkManager sees the other as the "
          "borne's card", rc == 0 and re.search(r"(?m)^active$", said) and "AP=2" in said and card,
          f"{figures['wifi_access_point_up_s']} s; {' / '.join(said.splitlines())[-300:]}")
    dev = card.group(1) if card else "wlan0"

    t0 = time.time()
    for _ in range(4):  # the card's first scan may come before the access point's first beacons
        rc, said = sh(AS_KIOSK + "list --rescan")
        if WIFI_SSID in said:
            break
        time.sleep(5)
    figures["wifi_list_s"] = round(time.time() - t0, 1)
    check("Wi-Fi: the network listed by `bornectl wifi list` as the kiosk's user (in French), the hidden one not",
          rc == 0 and f"{WIFI_SSID} : WPA2 (mot de passe)" in said and WIFI_HIDDEN_SSID not in said,
          f"{figures['wifi_list_s']} s: {' / '.join(said.splitlines())[-300:]}")

    state = f"nmcli -g GENERAL.STATE device show {dev}; nmcli -t -f NAME connection show"
    t0 = time.time()
    rc, said = sh(f"printf '%s\\n' '{WIFI_WRONG_PSK}' | {AS_KIOSK}join {WIFI_SSID} --password-stdin; echo rc=$?; "
                  + state, timeout=240)
    figures["wifi_wrong_password_s"] = round(time.time() - t0, 1)
    check("Wi-Fi: a wrong password is refused with the French message, no connection and no profile left",
          "rc=1" in said and WIFI_WRONG_PASSWORD_FR in said and f"borne-wifi {WIFI_SSID}" not in said
          and "(connected)" not in said and WIFI_WRONG_PSK not in said,
          f"{figures['wifi_wrong_password_s']} s: {' / '.join(said.splitlines())[-400:]}")

    t0 = time.time()
    rc, said = sh(f"printf '%s\\n' '{WIFI_PSK}' | {AS_KIOSK}join {WIFI_SSID} --password-stdin; echo rc=$?; "
                  "ip netns exec ap iw dev ap0 station dump | grep -c '^Station'; "
                  f"ip -4 -o address show dev {dev}", timeout=240)
    figures["wifi_join_s"] = round(time.time() - t0, 1)
    address = re.search(r"Adresse : (192\.168\.77\.\d+)/24", said)
    check("Wi-Fi: the right password joins: linked, an address from the access point's DHCP on the card, the card "
          "among the access point's stations",
          "rc=0" in said and f"Connectée au Wi-Fi « {WIFI_SSID} »" in said and address
          and re.search(r"(?m)^1$", said) and f"inet {address.group(1)}/24" in said,
          f"{figures['wifi_join_s']} s: {' / '.join(said.splitlines())[-400:]}")

    with open(os.path.join(HERE, "borne-setup.example.toml")) as f:
        setup_ssid = re.search(r'(?m)^ssid = "(.*)"$', f.read()).group(1)
    rc, said = sh(f"f=$(grep -l '^ssid={WIFI_SSID}$' {NM_KEYFILES}/*); echo \"FILE=$f\"; "
                  f"stat -c '%U %a' {NM_KEYFILES} \"$f\"; grep -c '^psk={WIFI_PSK}$' \"$f\"; "
                  f"echo \"SETUP=$(grep -l '^ssid={setup_ssid}$' {NM_KEYFILES}/*)\"; "
                  f"{AS_BORNE}cat \"$f\"; {AS_BORNE}ls " + NM_KEYFILES)
    check("Wi-Fi: the password stored by NetworkManager in root's part of the state partition (0600, folder 0700), "
          "beside the setup's, and the kiosk's user can read neither the file nor the folder",
          f"FILE={NM_KEYFILES}/" in said and re.search(r"(?m)^root 700\nroot 600\n1$", said)
          and f"SETUP={NM_KEYFILES}/" in said
          and said.count("Permission denied") == 2 and f"psk={WIFI_PSK}" not in said,
          f"{' / '.join(said.splitlines())[-300:]}")

    t0 = time.time()
    rc, said = sh(f"{AS_KIOSK}forget {WIFI_SSID}; echo rc=$?; grep -l '^ssid={WIFI_SSID}$' {NM_KEYFILES}/* "
                  f"|| echo no-keyfile; " + state)
    figures["wifi_forget_s"] = round(time.time() - t0, 1)
    check("Wi-Fi: forgotten: its keyfile gone, the card off the network",
          "rc=0" in said and "Réseau oublié." in said and "no-keyfile" in said and "(connected)" not in said,
          f"{figures['wifi_forget_s']} s: {' / '.join(said.splitlines())[-300:]}")

    t0 = time.time()
    rc, said = sh(f"printf '%s\\n' '{WIFI_HIDDEN_PSK}' | {AS_KIOSK}join {WIFI_HIDDEN_SSID} --hidden --password-stdin; "
                  "echo rc=$?", timeout=240)
    figures["wifi_hidden_join_s"] = round(time.time() - t0, 1)
    check("Wi-Fi: the hidden network joined by its name (--hidden), an address from its DHCP",
          "rc=0" in said and f"Connectée au Wi-Fi « {WIFI_HIDDEN_SSID} »" in said
          and re.search(r"Adresse : 192\.168\.78\.\d+/24", said),
          f"{figures['wifi_hidden_join_s']} s: {' / '.join(said.splitlines())[-300:]}")


def wifi_boot2(vm, sh, check, figures):
    """Boot 2: the access point up again by itself (the dev unit, its configuration on the state
    partition), and the borne back on the saved hidden network with nobody asking."""
    deadline = time.time() + 240
    said = ""
    while time.time() < deadline:
        _, said = sh(AS_KIOSK + "status; systemctl is-active borne-test-wifi.service")
        if f"Connectée au Wi-Fi « {WIFI_HIDDEN_SSID} »" in said and "Adresse : 192.168.78." in said:
            break
        time.sleep(5)
    figures["wifi_boot2_power_on_to_linked_s"] = round(time.time() - vm.start, 1)
    check("Wi-Fi after the reboot: the saved (hidden) network joined again by itself, with an address",
          f"Connectée au Wi-Fi « {WIFI_HIDDEN_SSID} »" in said and "Adresse : 192.168.78." in said
          and said.rstrip().endswith("active"),
          f"{figures['wifi_boot2_power_on_to_linked_s']} s after power-on: {' / '.join(said.splitlines())[-300:]}")


def dark_fraction(path):
    """The share of sampled pixels that are black (every channel under 16)."""
    _, _, px = read_ppm(path)
    step = 3 * 97
    samples = range(0, len(px) - 2, step)
    dark = sum(1 for i in samples if px[i] < 16 and px[i + 1] < 16 and px[i + 2] < 16)
    return dark / max(len(samples), 1)


def closed_hours_phase(vm, out, sh, check, figures):
    """The closed and dark screens in the image (the last boot of the run, UEFI, over SSH): opening
    hours that make the borne closed now (every day 9–17, closed today and the next three days), the
    shortest dark delay the settings allow (1 minute), written into the référent's settings file as the
    admin screen does, the kiosk restarted as the image restarts it; the closed screen shown (read by
    OCR), dark a minute later (a screen dump almost all black), drawn again after a key sent over qemu's
    monitor. The hours stay: the power-off check follows."""
    settings = "/var/lib/borne/settings.toml"
    days = " ".join(["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"])
    rc, said = sh(f"if grep -q '^\\[hours\\]' {settings}; then echo 'HOURS ALREADY SET'; exit 1; fi; "
                  f"{{ printf '\\n[hours]\\n'; for d in {days}; do printf '%s = \"9:00-17:00\"\\n' $d; done; "
                  "printf 'closures = [\"%s..%s\"]\\ndark_after_minutes = 1\\nuse_when_closed = true\\npower_off = false\\n' "
                  f"$(date +%F) $(date -d '+3 days' +%F); }} >> {settings}; "
                  "bornectl check-config --config /etc/borne --state /var/lib/borne")
    check("closed hours written into the référent's settings (checked by bornectl check-config)",
          rc == 0 and "Horaires d'ouverture" in said, f"exit {rc}: {' / '.join(said.splitlines())[-300:]}")
    markers = vm.serial().count("BORNE-PORTAL-SHOWN")
    t0 = time.time()
    sh("systemctl restart borne-kiosk.service")
    vm.wait_for(r"BORNE-PORTAL-SHOWN", 400, count=markers + 1)
    # Cage gives the kiosk the keyboard on the first key after it starts (it sets its seat's keyboard
    # then): that key itself reaches nobody, here as on a borne. Sent now, as in boot 1's key checks.
    vm.sendkey("shift")
    said, png = read_screen(vm, out, "closed", r"ferm", timeout=120)
    shown = time.time()
    figures["closed_kiosk_restart_to_closed_screen_s"] = round(shown - t0, 1)
    check("the closed screen after the kiosk's restart (OCR: « fermée »)", re.search(r"ferm", said),
          f"{figures['closed_kiosk_restart_to_closed_screen_s']} s after the restart; "
          f"{os.path.basename(png)}: {' '.join(said.split())[:160]!r}")
    frac, shot = 0.0, None
    while time.time() - shown < 200:
        time.sleep(5)
        shot = vm.screendump(os.path.join(out, f"{vm.mode}-dark.ppm"))
        frac = dark_fraction(shot)
        if frac > 0.99:
            break
    figures["closed_screen_to_dark_s"] = round(time.time() - shown, 1)
    if shot:
        to_png(shot, os.path.join(out, f"{vm.mode}-dark.png"))
    check("the screen goes dark after the closed screen's idle minute (screen dump almost all black)",
          frac > 0.99, f"{frac:.1%} black, {figures['closed_screen_to_dark_s']} s after the closed screen was read")
    t0 = time.time()
    vm.sendkey("shift")
    said, png = read_screen(vm, out, "closed-woken", r"ferm", timeout=60)
    colours = distinct_colours(png[:-4] + ".ppm") if os.path.exists(png[:-4] + ".ppm") else 0
    figures["dark_key_to_closed_screen_s"] = round(time.time() - t0, 1)
    check("a key sent over qemu's monitor wakes it: the closed screen drawn again (OCR: « fermée »)",
          re.search(r"ferm", said) and colours > PAGE_COLOURS,
          f"{colours} colours sampled, {figures['dark_key_to_closed_screen_s']} s; {os.path.basename(png)}")


def power_off_phase(vm, sh, check, figures):
    """The power-off after closing, as the very last step of the run (the borne is on its closed
    screen, no session, hours closed until 3 days on): a request the kiosk's user writes where the
    kiosk writes it is refused while the settings' power_off is off (said in French in root's
    service's journal; no alarm, still running); with it on, a request to wake in 2 days: qemu's
    clock, as some PCs' clocks, refuses an alarm more than a day ahead, so root sets one 23 h 30 ahead
    (read back from sysfs), and the machine powers off."""
    def request(ahead):
        return (f"echo NOW=$(date +%s); w=$(( $(date +%s) + {ahead} )); echo WAKE=$w; {AS_BORNE}sh -c "
                "\"printf 'wake_at=%s\\n' $w > /run/borne-power-off/.request && "
                "mv /run/borne-power-off/.request /run/borne-power-off/request\"; ")
    rc, said = sh(request(7200) + "for i in $(seq 60); do journalctl -b -u borne-power-off.service -o cat | "
                  "grep -q 'not carried out' && break; sleep 0.5; done; "
                  "journalctl -b -u borne-power-off.service -o cat | grep -v '^Starting'; "
                  "echo ALARM=$(cat /sys/class/rtc/rtc0/wakealarm)")
    check("power-off: a request while power_off is off is refused by root's service (said in French), no alarm set",
          "L'extinction après la fermeture n'est pas activée" in said and 'code="not-enabled"' in said
          and re.search(r"(?m)^ALARM=$", said) and vm.proc.poll() is None, f"{' / '.join(said.splitlines())[-400:]}")
    t0 = time.time()
    rc, said = sh("sed -i 's/^power_off = false$/power_off = true/' /var/lib/borne/settings.toml; " + request(2 * 86400) +
                  "for i in $(seq 150); do a=$(cat /sys/class/rtc/rtc0/wakealarm); "
                  "if [ -n \"$a\" ]; then echo ALARM=$a; break; fi; sleep 0.2; done", timeout=120)
    figures["power_off_request_to_alarm_s"] = round(time.time() - t0, 1)
    now = re.search(r"NOW=(\d+)", said)
    wake = re.search(r"WAKE=(\d+)", said)
    alarm = re.search(r"ALARM=(\d+)", said)
    try:
        vm.proc.wait(180)
    except subprocess.TimeoutExpired:
        pass
    figures["power_off_request_to_qemu_exit_s"] = round(time.time() - t0, 1)
    powered_off = vm.proc.poll() == 0 and "Power down" in vm.serial()
    # 23 h 30 from when root took the request: a few seconds after the test's NOW.
    day_alarm = now and alarm and 0 <= int(alarm.group(1)) - (int(now.group(1)) + 84600) < 120
    check("power-off: with power_off on, root sets the clock's wake alarm (/sys/class/rtc/rtc0/wakealarm; asked 2 "
          "days ahead, which qemu's clock refuses: 23 h 30 ahead), then the machine powers off",
          wake and day_alarm and int(alarm.group(1)) < int(wake.group(1)) and powered_off,
          f"now {now.group(1) if now else None}, asked {wake.group(1) if wake else None}, "
          f"alarm {alarm.group(1) if alarm else None} "
          f"({figures['power_off_request_to_alarm_s']} s); qemu exit {vm.proc.poll()} "
          f"{figures['power_off_request_to_qemu_exit_s']} s after the request; "
          f"'Power down' on the console: {'Power down' in vm.serial()}")


def run_mode(mode, image, out, accel, timeout, setup, freeze, update_keys=None, stick_updates=False, wifi=False):
    checks = {}
    figures = {}

    def check(name, ok, detail=""):
        checks[name] = {"pass": bool(ok), "detail": detail}
        print(f"[{mode}] {'PASS' if ok else 'FAIL'} {name} {detail}", flush=True)

    def grub_counted(vm, boot):
        """GRUB (of this firmware mode) wrote its environment: the boot of slot A counted (A_TRY=1,
        reset to 0 by the previous boot's portal); then the portal marks the slot good."""
        line = vm.wait_for(r"BORNE-BOOT [^\n]*", 120)
        good = vm.wait_for(r"BORNE-SLOT-GOOD slot=(\S+) version=\S+", 300)
        check(f"GRUB counted the boot of slot A, the portal marked it good ({boot})",
              "slot=A" in line and "A_TRY=1" in line and "A_OK=1" in line and good == "A", line.strip())

    def portal_png(vm, name):
        shot, waited = vm.settled_screendump(os.path.join(out, f"{mode}-{name}.ppm"))
        to_png(shot, os.path.join(out, f"{mode}-{name}.png"))
        colours = distinct_colours(shot)
        check(f"screen dump shows a drawn page ({name})", colours > PAGE_COLOURS,
              f"{colours} distinct colours sampled, screen settled after {waited} s")
        return shot

    disk = os.path.join(out, f"{mode}.qcow2")
    for p in (disk, os.path.join(out, "uefi-vars.fd")):
        if os.path.exists(p) and (p == disk or mode == "uefi"):
            os.unlink(p)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", os.path.abspath(image), "-F", "raw", disk],
                   check=True)

    log1 = os.path.join(out, f"{mode}-serial-boot1.log")
    stick = None
    key, pub = make_ssh_key(out, mode)
    known_hosts = os.path.join(out, f"{mode}-known_hosts")
    if os.path.exists(known_hosts):
        os.unlink(known_hosts)

    def sh(command, timeout=180):
        """`command` as root on the VM running now, through SSH."""
        return ssh(key, vm.ssh_port, known_hosts, command, timeout=timeout)
    if setup:
        stick = os.path.join(out, f"{mode}-stick.img")
        make_stick(stick, setup_text(pub) if setup == "good" else SETUP_TOML_BAD)
    bundles = None
    if update_keys and setup == "good":
        bundles = concurrent.futures.ThreadPoolExecutor(max_workers=1).submit(prepare_bundles, mode, image, out,
                                                                              update_keys)
    vm = Vm(mode, disk, out, accel, log1, stick)
    figures["accelerator"] = vm.accel
    try:
        # Boot 1: setup, portal, keys, consoles, watchdog kept fed.
        if setup:
            # What the setup prints on the screen stays there 8 s (applied) or 2 minutes (refused).
            outcome = vm.wait_for(r"BORNE-SETUP-(APPLIED|REFUSED)", timeout)
            shot = vm.screendump(os.path.join(out, f"{mode}-setup.ppm"))
            to_png(shot, os.path.join(out, f"{mode}-setup-{outcome.lower()}.png"))
            if setup == "good":
                check("first-boot setup applied from a USB stick", outcome == "APPLIED", f"BORNE-SETUP-{outcome}")
            else:
                check("a setup file with mistakes is refused", outcome == "REFUSED", f"BORNE-SETUP-{outcome}")
        up = float(vm.wait_for(r"BORNE-PORTAL-SHOWN uptime=([\d.]+)", timeout))
        figures["boot1_to_portal_s"] = round(time.time() - vm.start, 1)
        grub_counted(vm, "boot 1")
        figures["boot1_guest_uptime_at_portal_s"] = up
        check("serial marker: portal shown (boot 1)", True, f"{figures['boot1_to_portal_s']} s after qemu start")
        before = portal_png(vm, "portal")
        figures["boot1_to_settled_screen_s"] = round(time.time() - vm.start, 1)

        report = vm.wait_for(r"BORNE-TEST report [^\n]*", 300)
        check("CI hook ran on boot 1", "stats=0" in report, report.strip())
        rc, said = ssh(key, vm.ssh_port, known_hosts, "systemctl is-active borne-kiosk.service")
        if setup == "good":
            check("SSH with the federation's key given at setup", rc == 0 and said == "active", f"exit {rc}: {said[-200:]}")
            # Through SSH, as the kiosk's user: the admin screen's reboot and power-off are allowed to it
            # (polkit rule) and to nobody else; root's part of the state partition is out of its reach.
            as_user = "setpriv --reuid={0} --regid={1} --init-groups "
            can = "busctl call org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager "
            answers = [ssh(key, vm.ssh_port, known_hosts, as_user.format(u, g) + can + m)[1]
                       for u, g, m in (("borne", "borne", "CanReboot"), ("borne", "borne", "CanPowerOff"),
                                       ("nobody", "nogroup", "CanReboot"))]
            check("reboot and power-off allowed to the kiosk's user alone",
                  answers == ['s "yes"', 's "yes"', 's "challenge"'], f"borne, borne, nobody: {answers}")
            rc, said = ssh(key, vm.ssh_port, known_hosts, as_user.format("borne", "borne") + "sh -c "
                           "'ls /var/lib/borne-state/system || mv /var/lib/borne-state/system /var/lib/borne-state/x'")
            check("the kiosk's user can neither read nor move root's Wi-Fi and SSH keys", rc != 0
                  and said.count("Permission denied") == 2, f"exit {rc}: {said[-200:]}")
        else:
            check("no SSH without a federation key", rc != 0, f"exit {rc}: {said[-200:]}")
        vm.wait_for(r"BORNE-TEST planted", 300)

        # A first key press moves nothing but lets the page take the pointer's place (the tile under the
        # pointer, at the centre of the screen, shows as hovered): the reference is the screen after it.
        vm.sendkey("shift")
        before, _ = vm.settled_screendump(os.path.join(out, f"{mode}-before-keys.ppm"), timeout=60)
        for name, keys in (("Ctrl+Alt+F2", "ctrl-alt-f2"), ("Ctrl+Alt+Del", "ctrl-alt-delete"),
                           ("SysRq (Alt+SysRq+B)", "alt-sysrq-b")):
            vm.qmp.poll_events()
            n_events = len(vm.qmp.events)
            vm.sendkey(keys)
            time.sleep(10)
            vm.qmp.cmd("query-status")  # also collects events
            vm.qmp.poll_events()
            new = vm.qmp.events[n_events:]
            shot, _ = vm.settled_screendump(os.path.join(out, f"{mode}-after-{keys}.ppm"), timeout=60)
            frac = differing_fraction(before, shot)
            ok = not any(e in ("RESET", "SHUTDOWN", "POWERDOWN") for e in new) and frac < 0.02
            check(f"{name} changes nothing", ok, f"events={new} screen differs on {frac:.2%}")
            if frac >= 0.02:
                to_png(shot, os.path.join(out, f"{mode}-after-{keys}.png"))
        if setup == "good" and wifi:
            # While the watchdog's period passes (the check below waits for it anyway), after the key
            # checks (their screen dumps are taken before anything else happens).
            wifi_boot1(sh, check, figures)
        # More than WatchdogSec (90 s) after the portal: still the first start, so the kiosk's pings reach
        # systemd; no getty and no login session anywhere.
        st = vm.status_after(up + 120, 400)
        check("kiosk not restarted (keys, watchdog fed)",
              st.get("restarts") == "0" and vm.serial().count("BORNE-PORTAL-SHOWN") == 1,
              f"restarts={st.get('restarts')} kiosk={st.get('kiosk')} watchdog={st.get('watchdog')} "
              f"at uptime {st.get('uptime')}")
        check("no getty and no login session on any console",
              st.get("gettys") == "0" and st.get("logins") == "0",
              f"gettys={st.get('gettys')} logins={st.get('logins')}")

        vm.power_off(300)
        if setup == "good":
            left = stick_files(stick)
            check("setup file removed from the stick", "borne-setup.toml" not in left, f"stick holds {left}")
        elif setup == "bad":
            left = stick_files(stick)
            errors = stick_read(stick, "borne-setup-erreurs.txt") or ""
            check("a refused setup file stays, with its errors beside it",
                  "borne-setup.toml" in left and "ligne 2" in errors and "ligne 5" in errors,
                  f"stick holds {left}; borne-setup-erreurs.txt: {errors.strip()[:300]!r}")
        logins = re.findall(r"login:", vm.serial())
        check("no login prompt on the serial console (boot 1)", not logins, f"{len(logins)} found")

        # Boot 2: what persists and what does not; then (freeze) a hung kiosk is restarted by the watchdog.
        log2 = os.path.join(out, f"{mode}-serial-boot2.log")
        action, bundles_stick = "freeze" if freeze else "1", None
        if update_keys and stick_updates:
            # v2 installed from the bundles' stick in this boot already (the hook waits for the slot
            # marked good), beside the watchdog's check: one boot less under TCG.
            bundles_stick = shared_stick(out)
            wait_for_stick(bundles_stick)
            action = ("freeze," if freeze else "") + "install:v2-full.raucb"
        vm = Vm(mode, disk, out, accel, log2, action=action, bundles_stick=bundles_stick)
        up2 = float(vm.wait_for(r"BORNE-PORTAL-SHOWN uptime=([\d.]+)", timeout))
        figures["boot2_to_portal_s"] = round(time.time() - vm.start, 1)
        grub_counted(vm, "boot 2")
        check("serial marker: portal shown (boot 2)", True, f"{figures['boot2_to_portal_s']} s after qemu start")
        report = vm.wait_for(r"BORNE-TEST report [^\n]*", 300)
        check("statistics still there after a reboot", "stats=42" in report, report.strip())
        check("files a person or root left are gone after a reboot", "files=[]" in report, report.strip())
        if setup == "good":
            rc, said = ssh(key, vm.ssh_port, known_hosts, "true", strict="yes")
            check("SSH after a reboot, same host key", rc == 0, f"exit {rc}: {said[-200:]}")
            if wifi:
                wifi_boot2(vm, sh, check, figures)
        portal_png(vm, "portal-boot2")
        if setup == "good" and mode == "uefi":
            # « Écouter »: the voice and the audio stack the image holds, then the button pressed and the
            # sound on the card (qemu's intel-hda, written to a WAV file). (What is read, in which voice,
            # the volume and the end of session: the e2e suite's speech.test.mjs.)
            rc, said = ssh(key, vm.ssh_port, known_hosts, "espeak-ng --version; ls /usr/lib/x86_64-linux-gnu/espeak-ng-data; "
                           "id -nG borne; aplay -l", strict="yes")
            langs = ("fr", "ar", "en", "uk", "pt", "ro")
            check("the voice and the audio stack: espeak-ng with the six languages' dictionaries (and not the others), "
                  "the kiosk's user in the audio group, the sound card seen",
                  rc == 0 and "eSpeak NG" in said and all(f"{lang}_dict" in said for lang in langs)
                  and "ru_dict" not in said and re.search(r"(?m)^borne( \S+)* audio( |$)", said) and "card 0" in said,
                  f"exit {rc}: {' / '.join(said.splitlines())[-400:]}")
            # « Écouter » pressed as a person with a keyboard does: F6 to the toolbar, Tab to the button
            # (Accueil, Retour, Imprimer, Mes documents, J'ai besoin d'aide, Affichage, Écouter), Enter.
            # The kiosk reads its portal aloud: sound on the card within 20 s. Enter again stops it.
            # WebKitGTK may give the first Tab to the toolbar's document rather than its first button
            # (keyboard.test.mjs): then the seventh Tab is on « Affichage », whose dialog Escape closes,
            # and one Tab more reaches « Écouter ».
            # Cage gives the kiosk the keyboard on the first key after it starts, and that key reaches
            # nobody (as in boot 1's key checks): one Shift first, so F6 is not that key.
            vm.sendkey("shift")
            time.sleep(1)
            before = os.path.getsize(vm.wav) if os.path.exists(vm.wav) else 0
            secs = peak = 0
            t1 = time.time()
            for keys in (["f6"] + ["tab"] * 7 + ["ret"], ["esc", "tab", "ret"]):
                for k in keys:
                    vm.sendkey(k)
                    time.sleep(0.5)
                t1 = time.time()
                while time.time() - t1 < 25 and secs <= 1:
                    time.sleep(2)
                    secs, peak = loud_seconds(vm.wav, before) if os.path.exists(vm.wav) else (0, 0)
                if secs > 1:
                    break
            figures["listen_key_to_1s_of_sound_s"] = round(time.time() - t1, 1)
            vm.sendkey("ret")
            if not (secs > 1 and peak > 3000):
                # Why not: what the kiosk said of its voice, what the card's users were, the screen.
                _, why = sh("journalctl -b -u borne-kiosk.service --no-pager -o cat | grep -i -E 'voice|speech|espeak|alsa' | tail -n 20; "
                            "ls -l /proc/asound/card0/pcm0p/sub0/; cat /proc/asound/card0/pcm0p/sub0/status; pgrep -a espeak-ng")
                print(f"[{mode}] « Écouter » heard nothing; the guest says: {why}", flush=True)
                vm.screendump(os.path.join(out, f"{mode}-listen-silent.ppm"))
            check("« Écouter » pressed with the keyboard (F6, Tab, Enter): the portal read aloud reaches the sound card",
                  secs > 1 and peak > 3000, f"{secs} s of sound on the card within {figures['listen_key_to_1s_of_sound_s']} s, "
                  f"peak {peak}")
        if setup == "good" and mode == "uefi":
            # « Numériser »: SANE's command line, the driverless backend and the free ones, libsane1's
            # udev rules (with setfacl for them), the kiosk's user in the group they give scanners to;
            # then a page scanned as that user through SANE's own test backend (no USB scanner can be
            # emulated here): what the kiosk runs, in the image, without root.
            rc, said = ssh(key, vm.ssh_port, known_hosts,
                           "command -v scanimage; ls /usr/lib/x86_64-linux-gnu/sane/ | grep -c '^libsane-'; "
                           "ls /usr/lib/x86_64-linux-gnu/sane/libsane-airscan.so.1 /usr/lib/udev/rules.d/60-libsane1.rules "
                           "/usr/lib/udev/rules.d/99-libsane1.rules /usr/bin/setfacl; id -nG borne; "
                           "d=$(mktemp -d); chmod 755 $d; echo test > $d/dll.conf; "
                           "runuser -u borne -- env SANE_CONFIG_DIR=$d scanimage -d test:0 --format=png -o /tmp/scan-test.png "
                           "&& test -s /tmp/scan-test.png && echo SCANNED $(head -c 4 /tmp/scan-test.png | tail -c 3); rm -rf $d /tmp/scan-test.png", strict="yes")
            backends = re.search(r"(?m)^(\d+)$", said)
            check("scanning: scanimage, sane-airscan and the free backends, libsane1's udev rules and setfacl, the kiosk's "
                  "user in the scanner group, a page scanned as that user (SANE's test backend)",
                  rc == 0 and "/usr/bin/scanimage" in said and backends is not None and int(backends.group(1)) > 20
                  and "libsane-airscan.so.1" in said and re.search(r"(?m)^borne( \S+)* scanner( |$)", said)
                  and "SCANNED PNG" in said,
                  f"exit {rc}: {' / '.join(said.splitlines())[-400:]}")
        if freeze:
            vm.wait_for(r"BORNE-TEST froze the kiosk", 300)
            t_freeze = time.time()
            up3 = float(vm.wait_for(r"BORNE-PORTAL-SHOWN uptime=([\d.]+)", 400, count=2))
            figures["watchdog_restart_to_portal_s"] = round(time.time() - t_freeze, 1)
            # Status lines come every 20 s of guest time: minutes of wall time under TCG on a busy host.
            st = vm.status_after(up3, 400)
            check("a frozen kiosk is restarted by the watchdog", st.get("restarts") == "1",
                  f"portal again {figures['watchdog_restart_to_portal_s']} s after the freeze "
                  f"(uptime {up2} then {up3}), restarts={st.get('restarts')}")
            portal_png(vm, "portal-after-watchdog")
        logins = re.findall(r"login:", vm.serial())
        check("no login prompt on the serial console (boot 2)", not logins, f"{len(logins)} found")
        if update_keys and setup == "good":
            vm = update_phase(mode, vm, bundles, out, accel, timeout, key, known_hosts, check, figures)
        elif update_keys and stick_updates:
            vm = stick_update_phase(mode, vm, shared_stick(out), image, out, accel, timeout, check, figures)
        if setup == "good":
            # Last, on the boot the run ends with: the closed and dark screens, then the power-off (which
            # ends the run: no boot is lost to it).
            closed_hours_phase(vm, out, sh, check, figures)
            power_off_phase(vm, sh, check, figures)
    except Exception as e:  # a failed wait is a failed check, with what the console said
        check("run completed", False, f"{type(e).__name__}: {e}")
        try:
            shot = vm.screendump(os.path.join(out, f"{mode}-at-failure.ppm"))
            to_png(shot, os.path.join(out, f"{mode}-at-failure.png"))
        except Exception:
            pass
    finally:
        vm.kill()
        for f in os.listdir(out):
            if f.endswith(".ppm"):
                os.unlink(os.path.join(out, f))
        if os.path.exists(disk):
            os.unlink(disk)
    return checks, figures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", default=os.path.join(HERE, "mkosi.output", "borne.raw"))
    ap.add_argument("--out", default=os.path.join(HERE, "test-output"))
    ap.add_argument("--modes", default="uefi,bios")
    ap.add_argument("--accel", default="auto", help="kvm, tcg, or auto: kvm when it works here")
    ap.add_argument("--setup-modes", default="uefi",
                    help="modes whose first boot has a USB stick with a good borne-setup.toml")
    ap.add_argument("--bad-setup-modes", default="bios",
                    help="modes whose first boot has a USB stick with a borne-setup.toml full of mistakes")
    ap.add_argument("--freeze-modes", default="bios",
                    help="modes whose second boot freezes the kiosk to check the watchdog restarts it")
    ap.add_argument("--timeout", type=int, default=900, help="seconds to wait for the portal")
    ap.add_argument("--update-keys", help="folder of the federation's throwaway update key the image trusts "
                    "(federation.key, federation.crt): runs the update checks in the modes with a good setup")
    ap.add_argument("--stick-update-modes", default="bios",
                    help="modes without SSH whose update checks the CI hook drives from the bundles' stick "
                    "the UEFI run makes (needs --update-keys and uefi among --setup-modes)")
    ap.add_argument("--wifi-modes", default="uefi",
                    help="modes with a good setup (SSH) that check Wi-Fi on simulated radios (needs the dev image: "
                    "build.sh with BORNE_PROFILE=dev)")
    ap.add_argument("--one-at-a-time", action="store_true", help="run the modes one after the other")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for marker in (".ready", ".failed"):  # a previous run's: the BIOS run must wait for this one's
        if os.path.exists(shared_stick(a.out) + marker):
            os.unlink(shared_stick(a.out) + marker)
    stick_modes = set(a.stick_update_modes.split(",")) if "uefi" in a.setup_modes.split(",") and "uefi" in a.modes.split(",") else set()
    if a.accel == "auto":
        a.accel = "kvm" if kvm_works(a.out) else "tcg"
        print(f"accelerator: {a.accel}", flush=True)
    result = {"image": a.image, "accel": a.accel, "parallel": not a.one_at_a_time, "modes": {}}
    ok = True
    modes = a.modes.split(",")
    # The modes run at the same time by default: most of a TCG boot test is waiting (settling screens,
    # the watchdog period, the keys), and each VM has its own disk layer, logs and ports.
    with concurrent.futures.ProcessPoolExecutor(max_workers=1 if a.one_at_a_time else len(modes)) as pool:
        runs = {mode: pool.submit(run_mode, mode, a.image, a.out, a.accel, a.timeout,
                                  "good" if mode in a.setup_modes.split(",") else
                                  "bad" if mode in a.bad_setup_modes.split(",") else "",
                                  mode in a.freeze_modes.split(","), a.update_keys, mode in stick_modes,
                                  mode in a.wifi_modes.split(","))
                for mode in modes}
        for mode, run in runs.items():
            checks, figures = run.result()
            result["modes"][mode] = {"checks": checks, "figures": figures}
            ok = ok and checks and all(c["pass"] for c in checks.values())
    with open(os.path.join(a.out, "report.json"), "w") as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
    print(json.dumps({m: r["figures"] for m, r in result["modes"].items()}, indent=2))
    print("image boot test:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
