#!/bin/sh
# build-msi.sh ARCH EXE OUT.msi [VERSION] - build the udp-proxy MSI for ARCH
# (x64 or x86) around the Windows executable EXE, from
# packaging/msi/udp-proxy.wxs, with wixl and msibuild (Debian: wixl,
# msitools). VERSION defaults to the top-level VERSION file.
#
# wixl 0.101 has no Permanent/NeverOverwrite component attributes and no
# Condition element, so two things are added to the built database with
# msibuild (SQL on the MSI tables):
#   - Component "Config" (C:\ProgramData\udp-proxy\udp-proxy.conf) gets
#     msidbComponentAttributesPermanent (16) and NeverOverwrite (128): an
#     upgrade keeps the edited file, an uninstall leaves it;
#   - SecureCustomProperties gains SOURCE;TARGETS;UP_CONFIGURED, so a
#     per-machine install passes them from the command line to the
#     elevated execution;
#   - RemoveExistingProducts moves to 1401, right after InstallValidate
#     (wixl schedules it after the new files): an upgrade removes the old
#     product (stops and deletes its service) before it installs the new one,
#     so the old uninstall can never delete the new service;
#   - MsiLockPermissionsEx (Windows Installer 5, Windows 7 and later): the
#     folder C:\ProgramData\udp-proxy gets a protected access list in which
#     SYSTEM and Administrators have full control, LocalService (the service
#     account) may modify (it writes udp-proxy.log there) and Users may read;
#   - Condition: feature "AutoStart" (the component that starts the
#     service) gets level 0, i.e. is not installed, unless TARGETS is given
#     or an earlier install was configured (UP_CONFIGURED).
set -e
arch=${1:?usage: build-msi.sh x64|x86 EXE OUT.msi [VERSION]}
exe=${2:?usage: build-msi.sh x64|x86 EXE OUT.msi [VERSION]}
out=${3:?usage: build-msi.sh x64|x86 EXE OUT.msi [VERSION]}
src=$(cd "$(dirname "$0")/.." && pwd)
version=${4:-$(tr -d ' \n' <"$src/VERSION")}
case $arch in x64 | x86) ;; *)
    echo "build-msi: ARCH must be x64 or x86, not '$arch'" >&2
    exit 2
    ;;
esac
for tool in wixl msibuild msiinfo; do
    command -v $tool >/dev/null || {
        echo "build-msi: '$tool' is missing. Run: sudo apt-get install -y wixl msitools" >&2
        exit 1
    }
done
[ -f "$exe" ] || {
    echo "build-msi: no executable at $exe (make windows builds it)" >&2
    exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# wixl looks up sources relative to the current directory: build in $tmp.
cp "$exe" "$tmp/udp-proxy.exe"
cp "$src/packaging/msi/udp-proxy.conf" "$src/packaging/msi/udp-proxy.wxs" "$tmp/"
(cd "$tmp" && wixl -a "$arch" -D Version="$version" -D Arch="$arch" -D Exe=udp-proxy.exe -D Conf=udp-proxy.conf \
    -o out.msi udp-proxy.wxs >wixl.log 2>&1) || {
    cat "$tmp/wixl.log" >&2
    echo "build-msi: wixl failed" >&2
    exit 1
}
attrs=$(msiinfo export "$tmp/out.msi" Component | tr -d '\r' | awk -F'\t' '$1 == "Config" { print $4 }')
[ -n "$attrs" ] || {
    echo "build-msi: no Config component in the MSI" >&2
    exit 1
}
msibuild "$tmp/out.msi" -q "UPDATE \`Component\` SET \`Attributes\` = $((attrs | 16 | 128)) WHERE \`Component\` = 'Config'"
msibuild "$tmp/out.msi" -q "CREATE TABLE \`Condition\` (\`Feature_\` CHAR(38) NOT NULL, \`Level\` SHORT NOT NULL, \`Condition\` CHAR(255) PRIMARY KEY \`Feature_\`, \`Level\`)"
msibuild "$tmp/out.msi" -q "INSERT INTO \`Condition\` (\`Feature_\`, \`Level\`, \`Condition\`) VALUES ('AutoStart', 0, 'NOT (TARGETS OR UP_CONFIGURED)')"
secure=$(msiinfo export "$tmp/out.msi" Property | tr -d '\r' | awk -F'\t' '$1 == "SecureCustomProperties" { print $2 }')
msibuild "$tmp/out.msi" -q "UPDATE \`Property\` SET \`Value\` = '${secure:+$secure;}SOURCE;TARGETS;UP_CONFIGURED' WHERE \`Property\` = 'SecureCustomProperties'"
msibuild "$tmp/out.msi" -q "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 1401 WHERE \`Action\` = 'RemoveExistingProducts'"
msibuild "$tmp/out.msi" -q "CREATE TABLE \`MsiLockPermissionsEx\` (\`MsiLockPermissionsEx\` CHAR(72) NOT NULL, \`LockObject\` CHAR(72) NOT NULL, \`Table\` CHAR(32) NOT NULL, \`SDDLText\` LONGCHAR NOT NULL, \`Condition\` CHAR(255) PRIMARY KEY \`MsiLockPermissionsEx\`)"
msibuild "$tmp/out.msi" -q "INSERT INTO \`MsiLockPermissionsEx\` (\`MsiLockPermissionsEx\`, \`LockObject\`, \`Table\`, \`SDDLText\`) VALUES ('DataDirAcl', 'DATADIR', 'CreateFolder', 'D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;LS)(A;OICI;0x1200a9;;;BU)')"
mkdir -p "$(dirname "$out")"
mv "$tmp/out.msi" "$out"
echo "build-msi: $out"
