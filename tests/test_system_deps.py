"""scripts/install_system_deps.sh: the offline path (--unpack) and its errors."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "install_system_deps.sh"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb (Debian/Ubuntu)")
def test_unpack_puts_the_packages_under_a_prefix_and_prints_the_environment(tmp_path):
    package = tmp_path / "pkg"
    (package / "DEBIAN").mkdir(parents=True)
    (package / "DEBIAN" / "control").write_text(
        "Package: voicelab-probe\nVersion: 1.0\nArchitecture: all\nMaintainer: voicelab\nDescription: probe\n")
    (package / "usr" / "bin").mkdir(parents=True)
    (package / "usr" / "bin" / "probe").write_text("#!/bin/sh\necho probe-ran\n")
    os.chmod(package / "usr" / "bin" / "probe", 0o755)
    debs = tmp_path / "debs"
    debs.mkdir()
    subprocess.run(["dpkg-deb", "--build", str(package), str(debs / "probe.deb")], check=True, capture_output=True)

    done = run("--unpack", str(debs), str(tmp_path / "prefix"))
    assert done.returncode == 0, done.stderr
    export = done.stdout.strip().splitlines()[-1]
    assert export.startswith("export PATH=") and "ESPEAK_DATA_PATH=" in export
    shell = subprocess.run(["bash", "-c", f"{export}; probe"], capture_output=True, text=True, timeout=60)
    assert shell.stdout.strip() == "probe-ran"


def test_bad_invocations_say_what_is_wrong(tmp_path):
    done = run("--unpack", str(tmp_path), str(tmp_path / "prefix"))
    assert done.returncode == 1 and "no .deb files" in done.stderr
    done = run("--frobnicate")
    assert done.returncode == 2 and "unknown option --frobnicate" in done.stderr
    done = run("--download")
    assert done.returncode != 0 and "usage" in done.stderr
