#!/usr/bin/env bash
# Installs hazelbean 2.1.0 and its GDAL stack into a virtualenv, by the recipe in
# DEVELOPERS.md ("Installing hazelbean"). `make hazelbean-env` runs it once and keeps
# a stamp, so a second `make` skips it; run again by hand, it skips the steps already
# done.
#
#   usage: scripts/install_hazelbean_env.sh VENV
#
# Needs the system packages libgdal-dev, gdal-bin and proj-data (GDAL's Python bindings
# are built against the system library), python3-dev and a C/C++ compiler;
# scripts/ensure_system_packages.sh installs what is missing (as root, or through sudo).
set -euo pipefail

HAZELBEAN_VERSION=2.1.0
PYGEOPROCESSING_VERSION=2.4.11
# pygeoprocessing 2.4.11's sources do not build with Cython 3.1 or later.
PYGEOPROCESSING_CYTHON_CONSTRAINT='cython<3.1'
# Left out of hazelbean's own requirements: natcap.invest (the recipe leaves it out: the
# code the suite measures does not use it, and it is a large build of its own), and what
# the earlier steps have installed by their own rules (GDAL, numpy, pygeoprocessing).
SKIPPED_REQUIREMENTS_PATTERN='^(natcap[._-]invest|gdal|numpy|pygeoprocessing)$'

die() {
    echo "install_hazelbean_env: $*" >&2
    exit 1
}
step() {
    echo "==> [$(date +%H:%M:%S)] $*"
}

[[ $# -eq 1 ]] || die "usage: $0 VENV"
venv=$1
python="$venv/bin/python"
[[ -x "$python" ]] || die "no virtualenv at $venv (run 'make venv' first)"
pip=("$python" -m pip --disable-pip-version-check)

# The installed version of a distribution, or nothing. Lets a re-run (after an edit to
# this script, say) skip the slow builds that are already done.
installed_version() {
    "$python" -c 'import importlib.metadata, sys; print(importlib.metadata.version(sys.argv[1]))' \
        "$1" 2>/dev/null || true
}

proj_data_dir() {
    pkg-config --variable=datadir proj 2>/dev/null || echo /usr/share/proj
}

# Print a distribution file's unconditional requirements, one a line, minus the skipped.
requirements_of() {
    "$python" - "$1" "$SKIPPED_REQUIREMENTS_PATTERN" <<'PY'
import email.parser
import re
import sys
import tarfile
import zipfile

dist_path, skipped_pattern = sys.argv[1], sys.argv[2]
if dist_path.endswith(".whl"):
    with zipfile.ZipFile(dist_path) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        metadata_text = wheel.read(name).decode()
else:
    with tarfile.open(dist_path) as sdist:
        member = next(
            m for m in sdist.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
        )
        metadata_text = sdist.extractfile(member).read().decode()
for requirement in email.parser.Parser().parsestr(metadata_text).get_all("Requires-Dist") or []:
    if ";" in requirement:  # extras (test) and platform markers
        continue
    name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
    if not re.match(skipped_pattern, name, re.IGNORECASE):
        print(requirement)
PY
}

# --- 1. system packages -------------------------------------------------------------
step "checking system packages"
PYTHON=$python bash "$(dirname "$0")/ensure_system_packages.sh" hazelbean ||
    die "the system packages above are needed; then run 'make hazelbean-env' again."
gdal_version=$(gdal-config --version)
echo "    GDAL $gdal_version ($(command -v gdal-config)), PROJ data in $(proj_data_dir)"

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

# --- 2. numpy 2 and build tools -----------------------------------------------------
step "installing numpy>=2, setuptools, wheel"
"${pip[@]}" install --quiet "numpy>=2" setuptools wheel

# Debian's python3-numpy (1.x; gdal-bin pulls it in through python3-gdal) links its
# headers into /usr/include/python3.X/numpy, which the compiler searches before the
# venv's numpy: extensions built so fail to import under numpy 2 ("_ARRAY_API not
# found"). The venv's numpy headers go first for every build below.
numpy_include=$("$python" -c 'import numpy; print(numpy.get_include())')
export CPPFLAGS="-I$numpy_include${CPPFLAGS:+ $CPPFLAGS}"

# --- 3. GDAL bindings matching the system library ------------------------------------
if "$python" -c "from osgeo import gdal, gdal_array; import sys; sys.exit(gdal.__version__ != '$gdal_version')" 2>/dev/null; then
    step "GDAL Python bindings $gdal_version already installed"
else
    step "building GDAL Python bindings $gdal_version against the system library"
    "${pip[@]}" install --quiet --no-build-isolation "gdal[numpy]==$gdal_version"
    "$python" -c "from osgeo import gdal_array" ||
        die "the GDAL bindings were built but osgeo.gdal_array does not import (see above)"
fi

# --- 4. pygeoprocessing, built with an older Cython -------------------------------
if [[ $(installed_version pygeoprocessing) == "$PYGEOPROCESSING_VERSION" ]]; then
    step "pygeoprocessing $PYGEOPROCESSING_VERSION already installed"
else
    step "building pygeoprocessing==$PYGEOPROCESSING_VERSION with $PYGEOPROCESSING_CYTHON_CONSTRAINT"
    echo "$PYGEOPROCESSING_CYTHON_CONSTRAINT" >"$workdir/constraints.txt"
    # pip 25.3+ applies constraints to build environments only through --build-constraint
    # (PIP_BUILD_CONSTRAINT); older pips through PIP_CONSTRAINT. Each ignores the other's.
    PIP_CONSTRAINT="$workdir/constraints.txt" PIP_BUILD_CONSTRAINT="$workdir/constraints.txt" \
        "${pip[@]}" install --quiet "pygeoprocessing==$PYGEOPROCESSING_VERSION"
fi

# --- 5 and 6. hazelbean's other requirements, then hazelbean without dependencies -----
if [[ $(installed_version hazelbean) == "$HAZELBEAN_VERSION" ]]; then
    step "hazelbean $HAZELBEAN_VERSION already installed"
else
    step "downloading hazelbean==$HAZELBEAN_VERSION to read its requirements"
    "${pip[@]}" download --quiet --no-deps --dest "$workdir/dist" "hazelbean==$HAZELBEAN_VERSION"
    hazelbean_dist=$(find "$workdir/dist" -maxdepth 1 -name 'hazelbean-*' | head -n 1)
    [[ -n "$hazelbean_dist" ]] || die "pip download hazelbean==$HAZELBEAN_VERSION produced no file"
    requirements_of "$hazelbean_dist" >"$workdir/requirements.txt"

    step "installing hazelbean's other requirements: $(tr '\n' ' ' <"$workdir/requirements.txt")"
    "${pip[@]}" install --quiet -r "$workdir/requirements.txt"

    step "building hazelbean==$HAZELBEAN_VERSION (no dependencies)"
    "${pip[@]}" install --quiet --no-deps "$hazelbean_dist"
fi

# --- 7. GDAL and PROJ data where hazelbean looks for them ----------------------------
# On import, hazelbean sets GDAL_DATA and PROJ_LIB to <env>/share/{gdal,proj}, the
# layout of a conda env. In a virtualenv over the system GDAL those directories do not
# exist, PROJ cannot find proj.db, and every raster is written without a projection.
step "linking $venv/share/gdal and $venv/share/proj to the system's GDAL and PROJ data"
mkdir -p "$venv/share"
for name_and_target in "gdal:$(gdal-config --datadir)" "proj:$(proj_data_dir)"; do
    link="$venv/share/${name_and_target%%:*}"
    target=${name_and_target#*:}
    if [[ -e "$link" && ! -L "$link" ]]; then
        echo "    $link exists and is not a link; leaving it alone"
    else
        ln -sfn "$target" "$link"
    fi
done

# --- check ---------------------------------------------------------------------------
step "checking that hazelbean imports and PROJ resolves EPSG:4326"
"$python" - <<'PY' || die "hazelbean is installed but does not work in $venv (see the error above)"
import importlib.metadata

import hazelbean
from osgeo import osr

# A missing proj.db is what breaks projections, silently, once hazelbean has set PROJ_LIB.
wgs84 = osr.SpatialReference()
if wgs84.ImportFromEPSG(4326) != 0:
    raise SystemExit("PROJ cannot resolve EPSG:4326: proj.db not found")
print("    hazelbean", importlib.metadata.version("hazelbean"), "from", hazelbean.__file__)
PY
step "done"
