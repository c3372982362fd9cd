#!/usr/bin/env python3
"""test_msi.py - the Windows installers (issue 12): built with wixl, their tables checked with msiinfo, and the x64
one installed, upgraded and removed with msiexec under Wine (CTest, tests/windows/CMakeLists.txt).

One step per CTest entry:
  tables    scripts/build-msi.sh builds both MSIs; msiinfo: ServiceInstall (LocalService, automatic, --config),
            ServiceControl (stop/remove, conditional start), the fixed UpgradeCode and RemoveExistingProducts,
            the custom actions, the config file's Permanent/NeverOverwrite, the start condition, the ProgramData
            folder's access list (LocalService may write its log), the platforms
  install   msiexec /i without properties: installed, service not started, config names no target;
            with SOURCE and TARGETS: written into the config, the service LocalService/automatic/RUNNING, forwards
            2,000 datagrams to two Linux sinks byte for byte; the exe prints VERSION; msiexec /x removes the
            service, the event log source and the program files, and leaves ProgramData
  upgrade   a lower-version MSI (its exe marked) installed and configured; the config edited by hand; the new
            MSI over it: binary replaced, edited config kept byte for byte, service RUNNING again and forwarding;
            one product registered; msiexec /x cleans up

Reuses wine_test.py (the private prefix, wineserver -p, sinks, paced sending, sc query parsing). A step whose
tools are missing exits 77 with the apt-get line. Traffic goes to 127.0.0.1 only; every wait is bounded.
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wine_test as wt  # noqa: E402
from wine_test import check, fail, log, skip  # noqa: E402

UPGRADE_CODE = "{2E6324CC-A652-4D21-9CB5-80B524ACF02A}"
SERVICE = "udp-proxy"
MSI_HINT = "sudo apt-get install -y wixl msitools   (or, as root: sh scripts/deps.sh dist)"
OLD_VERSION = "0.0.1"
OLD_MARK = b"\0udp-proxy-old-msi-test-build\0"  # appended to the old MSI's exe (a PE overlay: still runs)


class Msi:
    def __init__(self, c):
        self.c = c
        with open(os.path.join(c.src, "VERSION")) as f:
            self.version = f.read().strip()
        self.dir = os.path.join(c.win, "msi")
        self.x64 = os.path.join(self.dir, "udp-proxy-%s-x64.msi" % self.version)
        self.x86 = os.path.join(self.dir, "udp-proxy-%s-x86.msi" % self.version)
        self.old = os.path.join(self.dir, "udp-proxy-%s-x64.msi" % OLD_VERSION)
        self.old_exe = os.path.join(self.dir, "udp-proxy-old-x64.exe")
        drive = os.path.join(c.prefix, "drive_c")
        self.pf_dir = os.path.join(drive, "Program Files", "udp-proxy")
        self.exe = os.path.join(self.pf_dir, "udp-proxy.exe")
        self.data_dir = os.path.join(drive, "ProgramData", "udp-proxy")
        self.conf = os.path.join(self.data_dir, "udp-proxy.conf")
        self.logf = os.path.join(self.data_dir, "udp-proxy.log")

    def need_tools(self):
        for tool in ("wixl", "msiinfo", "msibuild"):
            if not shutil.which(tool):
                skip("'%s' is missing, so the MSIs are not built: %s" % (tool, MSI_HINT))

    def build(self, arch, exe, out, version=None):
        cmd = ["sh", os.path.join(self.c.src, "scripts", "build-msi.sh"), arch, exe, out] + ([version] if version else [])
        rc, text = self.c.run(cmd, timeout=120)
        check(rc == 0 and os.path.getsize(out) > 0, "build-msi.sh %s failed:\n%s" % (arch, text))

    def build_all(self):
        os.makedirs(self.dir, exist_ok=True)
        self.build("x64", self.c.x64, self.x64)
        self.build("x86", self.c.x86, self.x86)

    def msiexec(self, *args, want=0, timeout=180):
        logf = os.path.join(self.dir, "msiexec.log")
        if os.path.exists(logf):
            os.unlink(logf)
        rc, out = self.c.wine("msiexec", *args, "/qn", "/l*v", wt.dos_path(logf), timeout=timeout)
        # A Linux exit status keeps the low 8 bits: ERROR_INSTALL_FAILURE (1603) arrives as 67.
        if rc != want and rc != want % 256:
            text = open(logf, "rb").read().decode("utf-8", "replace").replace("\r", "") if os.path.exists(logf) else ""
            lines = [l for l in text.split("\n") if l.strip() and not l.startswith("Property(")]
            fail("msiexec %s: exit %d, expected %d:\n%s\n--- the end of its log (%s):\n%s"
                 % (" ".join(args), rc, want, out, logf, "\n".join(lines[-80:])))
        return out


def table(path, name):
    """Rows of an MSI table (msiinfo export), as lists of columns; the three header lines dropped."""
    out = subprocess.run(["msiinfo", "export", path, name], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30)
    check(out.returncode == 0, "msiinfo export %s %s: %s" % (path, name, out.stderr.decode()))
    # Rows end in CR LF; a CR anywhere else is part of a value (and a bug).
    lines = [l[:-1] if l.endswith("\r") else l for l in out.stdout.decode().split("\n")][3:]
    return [l.split("\t") for l in lines if l]


def row(rows, key):
    got = [r for r in rows if r[0] == key]
    check(len(got) == 1, "no single row %r in %s" % (key, rows))
    return got[0]


# ---- tables ----------------------------------------------------------------------------------------------------


def step_tables(c):
    c.need_exe()
    m = Msi(c)
    m.need_tools()
    m.build_all()
    for path, template in ((m.x64, "x64;1033"), (m.x86, "Intel;1033")):
        name = os.path.basename(path)
        si = subprocess.run(["msiinfo", "suminfo", path], stdout=subprocess.PIPE, timeout=30).stdout.decode()
        check("Template: %s" % template in si, "%s: summary Template is not %s:\n%s" % (name, template, si))
        props = {r[0]: r[1] for r in table(path, "Property")}
        check(props.get("ProductVersion") == m.version, "%s: ProductVersion %r, VERSION is %s"
              % (name, props.get("ProductVersion"), m.version))
        check(props.get("UpgradeCode") == UPGRADE_CODE, "%s: UpgradeCode %r" % (name, props.get("UpgradeCode")))
        secure = props.get("SecureCustomProperties", "").split(";")
        check({"SOURCE", "TARGETS", "UP_CONFIGURED", "WIX_UPGRADE_DETECTED"} <= set(secure),
              "%s: SecureCustomProperties %r" % (name, secure))

        # ServiceInstall: ServiceInstall (key), Name, DisplayName, ServiceType, StartType, ErrorControl,
        # LoadOrderGroup, Dependencies, StartName, Password, Arguments, Component_, Description.
        svc = row(table(path, "ServiceInstall"), "Service")
        check(svc[1] == SERVICE and svc[3] == "16" and svc[4] == "2" and svc[8] == "NT AUTHORITY\\LocalService",
              "%s: ServiceInstall is not udp-proxy / own process (16) / automatic (2) / LocalService: %s" % (name, svc))
        check(svc[10] == 'service run --name udp-proxy -- --config "[CommonAppDataFolder]udp-proxy\\udp-proxy.conf"',
              "%s: service arguments %r" % (name, svc[10]))
        # ServiceControl: ServiceControl (key), Name, Event, Arguments, Wait, Component_. Stop on install and uninstall (0x2|0x20),
        # delete on uninstall (0x80); start on install (0x1) only in the conditional component.
        ctl = table(path, "ServiceControl")
        stop = row(ctl, "ServiceStopRemove")
        check(stop[1] == SERVICE and int(stop[2]) == 0x2 | 0x20 | 0x80 and stop[5] == "Program",
              "%s: ServiceControl stop/remove row %s" % (name, stop))
        start = row(ctl, "ServiceStart")
        check(start[1] == SERVICE and int(start[2]) == 0x1 and start[5] == "StartService",
              "%s: ServiceControl start row %s" % (name, start))
        fc = {(r[0], r[1]) for r in table(path, "FeatureComponents")}
        check(("AutoStart", "StartService") in fc, "%s: StartService is not in feature AutoStart: %s" % (name, fc))
        cond = row(table(path, "Condition"), "AutoStart")
        check(cond[1] == "0" and cond[2] == "NOT (TARGETS OR UP_CONFIGURED)", "%s: Condition %s" % (name, cond))
        # Upgrade: detect older (WIX_UPGRADE_DETECTED) and refuse newer (WIX_DOWNGRADE_DETECTED), same code.
        up = table(path, "Upgrade")
        check(len(up) == 2 and all(r[0] == UPGRADE_CODE for r in up), "%s: Upgrade table %s" % (name, up))
        check(any(r[-1] == "WIX_UPGRADE_DETECTED" and r[2] == m.version for r in up),
              "%s: no upgrade row below %s: %s" % (name, m.version, up))
        seq = {r[0]: (r[1], int(r[2])) for r in table(path, "InstallExecuteSequence")}
        check(seq["RemoveExistingProducts"][1] == 1401 and seq["InstallValidate"][1] == 1400,
              "%s: RemoveExistingProducts not right after InstallValidate: %s" % (name, seq))
        check(seq["InstallFiles"][1] < seq["WriteSource"][1] < seq["WriteTargets"][1] < seq["StartServices"][1],
              "%s: config-write is not between InstallFiles and StartServices: %s" % (name, seq))
        check(seq["WriteTargets"][0] == 'TARGETS AND NOT REMOVE~="ALL"', "%s: WriteTargets condition %r"
              % (name, seq["WriteTargets"][0]))
        ca = {r[0]: r for r in table(path, "CustomAction")}
        check(ca["WriteTargets"][2] == "UdpProxyExe" and "config-write" in ca["WriteTargets"][3] and
              '--targets "[TARGETS]"' in ca["WriteTargets"][3], "%s: WriteTargets %s" % (name, ca["WriteTargets"]))
        check("failure udp-proxy reset= 86400 actions= restart/5000/restart/10000/restart/30000" in
              ca["SetRecovery"][3], "%s: SetRecovery %s" % (name, ca["SetRecovery"]))
        comp = {r[0]: r for r in table(path, "Component")}
        check(int(comp["Config"][3]) & (16 | 128) == 16 | 128, "%s: Config component attributes %s, not "
              "Permanent|NeverOverwrite" % (name, comp["Config"][3]))
        want64 = 256 if template.startswith("x64") else 0
        check(int(comp["Program"][3]) & 256 == want64, "%s: Program component 64-bit flag: %s" % (name, comp["Program"]))
        reg = {(r[2].rstrip("\\"), r[3]): r[4] for r in table(path, "Registry")}
        check(reg.get(("SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\udp-proxy", "EventMessageFile"))
              == "[#UdpProxyExe]", "%s: no event log source: %s" % (name, reg))
        acl = row(table(path, "MsiLockPermissionsEx"), "DataDirAcl")
        check(acl[1:4] == ["DATADIR", "CreateFolder", "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;LS)"
                                                      "(A;OICI;0x1200a9;;;BU)"],
              "%s: ProgramData folder access list %s" % (name, acl))
        check(("DATADIR", "Config") in {(r[0], r[1]) for r in table(path, "CreateFolder")},
              "%s: no CreateFolder row for DATADIR" % name)
        files = {r[2].split("|")[-1] for r in table(path, "File")}
        check(files == {"udp-proxy.exe", "udp-proxy.conf"}, "%s: files %s" % (name, files))
        log("%s (%d bytes): %s; ServiceInstall %s LocalService auto, args %r; ServiceControl stop|remove + "
            "conditional start; UpgradeCode %s" % (name, os.path.getsize(path), template, svc[1], svc[10], UPGRADE_CODE))
    subprocess.run(["msiinfo", "tables", m.x64], timeout=30)


# ---- Wine: install, forward, uninstall -------------------------------------------------------------------------


def reg_query(c, key):
    return c.wine("reg", "query", key, timeout=30)


def clean_slate(c, m):
    """No udp-proxy product, service or ProgramData folder left from an earlier (failed) run of this prefix."""
    rc, f, _ = wt.sc_state(c, SERVICE)
    if "STATE" in f:
        for path in (m.x64, m.old):
            if os.path.exists(path):
                c.wine("msiexec", "/x", wt.dos_path(path), "/qn", timeout=180)
        c.wine("sc", "stop", SERVICE, timeout=60)
        c.wine("sc", "delete", SERVICE, timeout=60)
    shutil.rmtree(m.data_dir, ignore_errors=True)


def check_installed_service(c, m, port):
    rc, out = reg_query(c, wt.SERVICES_KEY + SERVICE)
    check(rc == 0, "no service key for %s:\n%s" % (SERVICE, out))
    check("NT AUTHORITY\\LocalService" in out, "ObjectName is not LocalService:\n" + out)
    check("Start    REG_DWORD    0x2" in out, "start type is not automatic:\n" + out)
    check('service run --name udp-proxy -- --config "C:\\ProgramData\\udp-proxy\\udp-proxy.conf"' in out,
          "ImagePath:\n" + out)
    rc, out = reg_query(c, wt.EVENTLOG_KEY + SERVICE)
    check(rc == 0 and "EventMessageFile" in out and "C:\\Program Files\\udp-proxy\\udp-proxy.exe" in out,
          "event log source:\n" + out)
    text = open(m.conf).read()
    check("\nsource = 127.0.0.1:%d\n" % port in text, "the config lacks the SOURCE:\n" + text)
    return text


def service_pid(c, m):
    """The running service's process id (`udp-proxy service status`: "RUNNING (pid N)")."""
    rc, out = c.wine(m.exe, "service", "status", "--name", SERVICE, timeout=30)
    check(rc == 0 and "RUNNING (pid " in out, "service status: exit %d, %r" % (rc, out))
    return int(out.split("RUNNING (pid ")[1].split(")")[0])


def forward(c, port, sinks, n, seed, what):
    """Send n datagrams (paced, see wine_test.send_checked); every sink gets exactly them, byte for byte."""
    data = wt.payloads(n, seed, large=1500)
    base = [len(s.got) for s in sinks]
    wt.send_checked(port, data, sinks)
    time.sleep(0.2)
    for k, (s, b) in enumerate(zip(sinks, base)):
        got = s.got[b:]
        check(got == data, "%s: sink %d got %d datagrams (%d match), sent %d"
              % (what, k, len(got), sum(1 for x, y in zip(got, data) if x == y), len(data)))
    log("%s: both sinks got all %d datagrams (%d bytes), byte for byte, in order"
        % (what, n, sum(len(d) for d in data)))


def uninstall_and_check(c, m, msi, conf_text):
    t0 = time.time()
    m.msiexec("/x", wt.dos_path(msi))
    # StopServices asked it to stop (the service drains, up to --drain-timeout) and DeleteServices marked it
    # for deletion: it goes once it has stopped. (Wine's msiexec returns without waiting for that.)
    deadline = time.time() + 30
    while True:
        rc, f, out = wt.sc_state(c, SERVICE)
        if "STATE" not in f or time.time() > deadline:
            break
        time.sleep(0.3)
    check("STATE" not in f, "30 s after msiexec /x the service is still there:\n" + out)
    rc, out = reg_query(c, wt.EVENTLOG_KEY + SERVICE)
    check(rc != 0, "msiexec /x left the event log source:\n" + out)
    rc, out = reg_query(c, "HKLM\\SOFTWARE\\udp-proxy")
    check(rc != 0, "msiexec /x left HKLM\\SOFTWARE\\udp-proxy:\n" + out)
    check(not os.path.exists(m.pf_dir), "msiexec /x left %s: %s" % (m.pf_dir, os.listdir(m.pf_dir)
                                                                      if os.path.isdir(m.pf_dir) else ""))
    check(os.path.exists(m.conf) and open(m.conf).read() == conf_text,
          "msiexec /x did not leave the configuration in ProgramData as it was")
    log("msiexec /x: service, event log source and %s removed; %s kept (%.1f s)"
        % (wt.dos_path(m.pf_dir), "C:\\ProgramData\\udp-proxy\\" + " ".join(sorted(os.listdir(m.data_dir))),
           time.time() - t0))


def step_install(c):
    c.need_wine()
    m = Msi(c)
    m.need_tools()
    check(os.path.exists(m.x64), "%s is missing: the windows_msi_tables test should have built it" % m.x64)
    clean_slate(c, m)
    rc, out = c.wine(c.x64, "--version", check_rc=0)
    check(out.strip() == "udp-proxy %s" % m.version, "the x64 exe says %r, VERSION is %s" % (out.strip(), m.version))
    log("wine udp-proxy-x64.exe --version: %s" % out.strip())

    # 1. No properties: installed, not started, and the config forwards nowhere.
    t0 = time.time()
    m.msiexec("/i", wt.dos_path(m.x64))
    rc, f, out = wt.sc_state(c, SERVICE)
    check("STOPPED" in f.get("STATE", ""), "without SOURCE/TARGETS the service should exist and be STOPPED:\n" + out)
    text = open(m.conf).read()
    check(not any(l.strip().startswith("target") for l in text.splitlines()), "the example config names a target")
    check(not os.path.exists(m.logf), "the service ran (it wrote %s) although it was not configured" % m.logf)
    rc, out = reg_query(c, "HKLM\\SOFTWARE\\udp-proxy")
    check(rc != 0, "not configured, yet HKLM\\SOFTWARE\\udp-proxy exists:\n" + out)
    log("msiexec /i without properties: installed in %.1f s, service STOPPED, config names no target"
        % (time.time() - t0))
    uninstall_and_check(c, m, m.x64, text)
    shutil.rmtree(m.data_dir, ignore_errors=True)

    # 2. SOURCE and TARGETS: written, started, forwarding.
    sinks = [wt.Sink(), wt.Sink()]
    port = wt.free_port()
    targets = "127.0.0.1:%d 127.0.0.1:%d" % (sinks[0].port, sinks[1].port)
    installed = False
    try:
        t0 = time.time()
        m.msiexec("/i", wt.dos_path(m.x64), "SOURCE=127.0.0.1:%d" % port, "TARGETS=%s" % targets)
        installed = True
        f = wt.wait_state(c, SERVICE, "RUNNING", 30)
        log("msiexec /i SOURCE=127.0.0.1:%d TARGETS=\"%s\": %s after %.1f s" % (port, targets, f["STATE"],
                                                                               time.time() - t0))
        text = check_installed_service(c, m, port)
        check("\ntarget = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\n" % (sinks[0].port, sinks[1].port) in text,
              "the config lacks the TARGETS:\n" + text)
        check(open(m.exe, "rb").read() == open(c.x64, "rb").read(), "the installed exe is not udp-proxy-x64.exe")
        forward(c, port, sinks, 2000, 12, "MSI-installed service")
        wt.wait_for(lambda: "is running" in wt.read_log(m.logf), 10, "the service's log in ProgramData")
        uninstall_and_check(c, m, m.x64, text)
        installed = False
        check("final totals" in wt.read_log(m.logf), "no final totals in the log: the service did not drain:\n"
              + wt.read_log(m.logf))
    finally:
        if installed:
            c.wine("msiexec", "/x", wt.dos_path(m.x64), "/qn", timeout=180)
        for s in sinks:
            s.close()


def step_upgrade(c):
    c.need_wine()
    m = Msi(c)
    m.need_tools()
    check(os.path.exists(m.x64), "%s is missing: the windows_msi_tables test should have built it" % m.x64)
    with open(c.x64, "rb") as f:
        new_exe = f.read()
    with open(m.old_exe, "wb") as f:
        f.write(new_exe + OLD_MARK)
    m.build("x64", m.old_exe, m.old, OLD_VERSION)
    clean_slate(c, m)
    sinks = [wt.Sink(), wt.Sink()]
    port = wt.free_port()
    installed = None
    try:
        m.msiexec("/i", wt.dos_path(m.old), "SOURCE=127.0.0.1:%d" % port,
                  "TARGETS=127.0.0.1:%d 127.0.0.1:%d" % (sinks[0].port, sinks[1].port))
        installed = m.old
        wt.wait_state(c, SERVICE, "RUNNING", 30)
        check(open(m.exe, "rb").read().endswith(OLD_MARK), "the old MSI did not install its (marked) exe")
        forward(c, port, sinks, 300, 21, "service of the %s MSI" % OLD_VERSION)
        # The operator edits the configuration.
        with open(m.conf, "a") as f:
            f.write("\n# edited by the operator\ndrain-timeout = 3000\n")
        edited = open(m.conf).read()
        pid0 = service_pid(c, m)
        log("installed %s (service RUNNING, pid %d), config edited" % (os.path.basename(m.old), pid0))

        t0 = time.time()
        m.msiexec("/i", wt.dos_path(m.x64))  # no properties: the upgrade keeps the configuration
        installed = m.x64
        f1 = wt.wait_state(c, SERVICE, "RUNNING", 30)
        log("upgrade to %s: service %s again after %.1f s" % (m.version, f1["STATE"], time.time() - t0))
        pid1 = service_pid(c, m)
        check(pid1 != pid0, "the service still runs as pid %d: the upgrade did not restart it" % pid0)
        check(open(m.exe, "rb").read() == new_exe, "the upgrade did not replace the binary")
        check(open(m.conf).read() == edited, "the upgrade changed the edited config:\n" + open(m.conf).read())
        check_installed_service(c, m, port)
        rc, out = c.wine("reg", "query", "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall", "/s",
                         timeout=60)
        versions = [l.split()[-1] for l in out.splitlines() if "DisplayVersion" in l]
        names = [l for l in out.splitlines() if "DisplayName" in l and "udp-proxy" in l]
        check(len(names) == 1 and m.version in versions and OLD_VERSION not in versions,
              "after the upgrade, registered products: %s, versions %s" % (names, versions))
        forward(c, port, sinks, 500, 22, "service after the upgrade")
        log("upgrade: binary replaced, service restarted (pid %d -> %d), edited config kept byte for byte, one "
            "product (%s) registered" % (pid0, pid1, m.version))
        # The older MSI over the newer one: refused (LaunchCondition NOT WIX_DOWNGRADE_DETECTED), nothing changes.
        m.msiexec("/i", wt.dos_path(m.old), want=1603)
        check(open(m.exe, "rb").read() == new_exe and open(m.conf).read() == edited and service_pid(c, m) == pid1,
              "a refused downgrade changed the program, the config or the running service")
        log("downgrade to %s: refused (msiexec exit 1603, seen as 67); program, config and service untouched"
            % OLD_VERSION)
        uninstall_and_check(c, m, m.x64, edited)
        installed = None
    finally:
        if installed:
            c.wine("msiexec", "/x", wt.dos_path(installed), "/qn", timeout=180)
        for s in sinks:
            s.close()


STEPS = {"tables": step_tables, "install": step_install, "upgrade": step_upgrade}


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", choices=sorted(STEPS))
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True)
    args = ap.parse_args()
    args.linux_exe = None
    t0 = time.time()
    STEPS[args.step](wt.Ctx(args))
    log("msi %s: passed in %.1f s" % (args.step, time.time() - t0))


if __name__ == "__main__":
    main()
