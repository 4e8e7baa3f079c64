"""`branchbook bundle`: the offline install for the office PC (docs/windows-setup.md).

For real: the bundle made for this Linux installs with pip --no-index from its own folder into a fresh
virtual environment and runs the demo; the Windows bundle downloads a wheel of every requirement for each
supported Python (pywin32 included, which pip leaves out when it downloads on Linux). These tests download
from PyPI (through pip's cache, so again is fast); the Linux bundle is built once for the module.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from branchbook.bundle import BundleError, Target, build_bundle, this_platform, unmet
from branchbook.cli import main

ROOT = Path(__file__).resolve().parents[1]
HERE = f"{sys.version_info.major}.{sys.version_info.minor}"


def _require_pypi() -> None:
    """A clear failure, not a pip traceback, when this machine cannot reach PyPI (CI can)."""
    try:
        urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=20).close()
    except OSError as error:
        pytest.fail(f"PyPI is unreachable from this machine ({error}): the bundle tests download wheels from it.")


def _only_the_bundle() -> dict[str, str]:
    """An environment in which pip sees no configuration: no find-links or index but what the command names."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


@pytest.fixture(scope="module")
def linux_bundle(tmp_path_factory):
    """This Linux's bundle, built once, from a copy of the source tree that carries an add-in file."""
    _require_pypi()
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("branchbook", "workbook", "sync", "addin", "schemas"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    addin = source / "addin" / "BranchBook.xlam"
    if not addin.exists():  # not built on this branch yet: a stand-in, to see it copied as it is
        addin.write_bytes(b"PK stand-in for the add-in")
    folder = tmp_path_factory.mktemp("bundle") / "离线安装包"
    steps: list[str] = []
    bundle = build_bundle(folder, this_platform(), [HERE], "zh", on_step=steps.append, root=source)
    return bundle, addin.read_bytes(), steps


@pytest.mark.network
def test_the_linux_bundle_installs_offline_in_a_fresh_environment_and_runs_the_demo(linux_bundle, tmp_path):
    bundle, addin, steps = linux_bundle
    assert steps[0].startswith("正在从") and f"Python {HERE}" in steps[1]
    # Excel's parts are Windows': the source has an add-in, this Linux's bundle none (docs/windows-setup.md).
    assert addin and bundle.addin is None
    assert sorted(p.name for p in bundle.folder.iterdir()) == ["install.sh", "wheels"]
    assert not bundle.folder.with_name(bundle.folder.name + ".partial").exists()
    names = {p.name.split("-")[0].lower() for p in (bundle.folder / "wheels").glob("*.whl")}
    assert {"branchbook", "openpyxl", "watchdog", "matplotlib", "python_calamine", "packaging"} <= names
    assert "xlwings" not in names and "pywin32" not in names  # the Excel extra is Windows' only

    venv = tmp_path / "环境"
    env = _only_the_bundle() | {"PYTHON": sys.executable}
    done = subprocess.run(["sh", str(bundle.installer), str(venv)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(f"安装完成：{venv}/bin/branchbook")

    work = tmp_path / "work"
    work.mkdir()
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import branchbook; print(branchbook.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(venv))  # the installed copy, not this source tree
    demo = subprocess.run([str(venv / "bin" / "branchbook"), "demo"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=600)
    assert demo.returncode == 0, demo.stderr
    assert "进度提醒共" in demo.stdout and "周报未交" in demo.stdout
    assert (work / "branchbook-demo" / "master.xlsx").is_file()


@pytest.mark.network
def test_the_windows_bundle_has_a_wheel_for_every_requirement_on_each_python(tmp_path, capsys):
    _require_pypi()
    folder = tmp_path / "bundle"
    assert main(["bundle", str(folder), "--python", "3.11", "3.12", "3.13"]) == 0
    out = capsys.readouterr().out.splitlines()
    files = [p for p in folder.rglob("*") if p.is_file()]
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    assert out[0] == f"已生成离线安装包 {folder}：共 {len(files)} 个文件，{megabytes:.1f} MB。"
    assert "Windows（64 位）" in out[1] and "Python 3.11、3.12、3.13" in out[1]
    has_addin = (ROOT / "addin" / "BranchBook.xlam").is_file()
    assert (folder / "BranchBook.xlam").is_file() == has_addin
    assert ("Excel 加载项" in out[2]) if has_addin else ("没有加载项" in out[2])
    assert out[-1] == ("还要做：从 python.org 下载 Python 的 Windows 安装程序（python-3.13.x-amd64.exe）放进这个文件夹，"
                       "docs/windows-setup.md 的第 1 步要用。")

    wheels = folder / "wheels"
    own = next(wheels.glob("branchbook-*.whl"))
    for python in ("3.11", "3.12", "3.13"):
        tag = "cp" + python.replace(".", "")
        for name in ("pywin32", "xlwings", "numpy", "python_calamine", "isal"):  # compiled: one wheel per Python
            assert list(wheels.glob(f"{name}-*-{tag}-*win_amd64.whl")), (name, python)
        assert unmet(wheels, own, Target("win_amd64", python)) == []
    # Without pywin32's 3.12 wheel the bundle is incomplete for 3.12 alone.
    partial = tmp_path / "partial"
    partial.mkdir()
    for wheel in wheels.glob("*.whl"):
        if not wheel.name.startswith("pywin32-") or "cp312" not in wheel.name:
            (partial / wheel.name).symlink_to(wheel)
    assert unmet(partial, own, Target("win_amd64", "3.12")) == ["pywin32>=224"]
    assert unmet(partial, own, Target("win_amd64", "3.13")) == []

    # With no index at all, pip finds everything Windows' Python 3.11 needs in the folder.
    resolved = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--find-links",
                               str(wheels), "--only-binary=:all:", "--platform", "win_amd64", "--python-version", "3.11",
                               "--target", str(tmp_path / "target"), "branchbook[excel]"],
                              env=_only_the_bundle(), capture_output=True, text=True)
    assert resolved.returncode == 0, resolved.stderr
    assert "xlwings-" in resolved.stdout and "branchbook-0" in resolved.stdout

    script = (folder / "install.cmd").read_bytes()
    assert script.count(b"\r\n") == script.count(b"\n")  # CRLF, as cmd.exe reads a batch file
    text = script.decode("gbk")  # a Chinese Windows' code page
    assert text.index("py -3.13") < text.index("py -3.12") < text.index("py -3.11")
    assert '--no-index --find-links wheels --upgrade "branchbook[excel]"' in text and "addin install" in text
    assert "安装完成" in text


@pytest.mark.network
def test_no_network_is_said_and_nothing_is_made(tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    env = _only_the_bundle() | {"PIP_INDEX_URL": "http://127.0.0.1:9/simple/", "PIP_RETRIES": "0",
                                "BRANCHBOOK_LANG": "zh", "TMPDIR": str(temporary)}
    folder = work / "bundle"
    done = subprocess.run([sys.executable, "-m", "branchbook", "bundle", str(folder)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2
    said = done.stderr.strip().splitlines()[-1]
    assert said.startswith("无法连接软件包索引（PyPI）") and "Traceback" not in done.stderr
    # The sentence is Chinese; pip's own (English) words are in the log it names, for whoever maintains BranchBook.
    assert "ERROR" not in said and "pip said" not in said and "distribution" not in said
    logs = list(temporary.glob("branchbook-bundle-pip-*.log"))
    assert len(logs) == 1 and said.endswith(f"pip 的原话记在 {logs[0]}。")
    assert "ERROR" in logs[0].read_text(encoding="utf-8")
    assert list(work.iterdir()) == []


@pytest.mark.network
def test_a_dependency_without_a_wheel_for_the_platform_is_named(tmp_path):
    _require_pypi()
    folder = tmp_path / "bundle"
    with pytest.raises(BundleError) as raised:
        build_bundle(folder, "linux_armv6l", ["3.11"])  # no compiled wheels for the first Raspberry Pi
    assert raised.value.key == "no-wheel"
    package = raised.value.values["requirement"].split(">")[0].split("=")[0].lower()
    assert package in {"isal", "pyyaml", "python-calamine", "watchdog", "lxml", "numpy", "matplotlib", "pillow",
                       "cryptography", "cffi", "fonttools", "contourpy", "kiwisolver"}
    assert "linux_armv6l" in raised.value.message("zh") and "Python 3.11" in raised.value.message("zh")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_with_files_is_refused_before_anything_is_downloaded(tmp_path, capsys):
    (tmp_path / "old.txt").write_text("x")
    assert main(["bundle", str(tmp_path), "--python", "3.10"]) == 2
    assert "不支持 Python 3.10" in capsys.readouterr().err
    assert main(["bundle", str(tmp_path)]) == 2
    assert "已有文件" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.txt"]


def test_the_setup_guide_is_five_steps_each_saying_what_she_should_see_and_its_commands_parse():
    from branchbook.cli import build_parser

    text = (ROOT / "docs" / "windows-setup.md").read_text(encoding="utf-8")
    install = text.split("## 安装（五步）")[1].split("\n## ")[0]
    steps = [chunk for chunk in re.split(r"\n(?=\d+\. )", install) if chunk[:1].isdigit()]
    assert [step.split(".")[0] for step in steps] == ["1", "2", "3", "4", "5"]
    assert all("应看到" in step for step in steps)
    for section in ("## 宏的安全设置", "受信任位置", "解除锁定", "## 用 WPS 的书记", "## 第一台办公室电脑上要核对的事"):
        assert section in text
    checklist = text.split("## 第一台办公室电脑上要核对的事")[1]
    for untested in ("编译", "XLSTART", "网络标记", "pywin32"):
        assert untested in checklist
    commands = [line.strip() for line in text.splitlines() if line.startswith("    branchbook ")]
    commands += re.findall(r"`(branchbook (?:bundle|addin) [^`]*)`", text)
    assert any(c.startswith("branchbook bundle") for c in commands)
    parser = build_parser()
    for command in commands:
        words = ["FOLDER" if word == "文件夹" else word for word in re.sub(r"<[^>]*>", "X", command).split()[1:]]
        parser.parse_args(words)  # argparse exits on a command the CLI does not know


def _tiny_wheel(folder: Path) -> None:
    """A branchbook wheel with one module and no requirements: enough for the installer to run for real, offline."""
    import zipfile

    folder.mkdir(parents=True)
    info = "branchbook-0.0.1.dist-info"
    files = {"branchbook_tiny.py": "", f"{info}/METADATA": "Metadata-Version: 2.1\nName: branchbook\nVersion: 0.0.1\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
             f"{info}/entry_points.txt": "[console_scripts]\nbranchbook = branchbook_tiny:main\n"}
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(folder / "branchbook-0.0.1-py3-none-any.whl", "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)


def test_install_sh_puts_a_relative_folder_where_the_user_is_not_in_the_bundle(tmp_path):
    from branchbook.bundle.installers import installer

    bundle = tmp_path / "s5" / "bl"
    _tiny_wheel(bundle / "wheels")
    (bundle / "install.sh").write_bytes(installer([Target(this_platform(), HERE)], "zh"))
    env = _only_the_bundle() | {"PYTHON": sys.executable}
    done = subprocess.run(["sh", "bl/install.sh", "venv1"], cwd=tmp_path / "s5", env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    venv = tmp_path / "s5" / "venv1"
    assert (venv / "bin" / "branchbook").is_file() and not (bundle / "venv1").exists()
    assert done.stdout.strip().endswith(f"安装完成：{venv}/bin/branchbook")


def test_install_cmd_reads_its_folder_from_where_the_user_is_before_moving_to_the_bundle():
    from branchbook.bundle.installers import installer

    text = installer([Target("win_amd64", "3.12")], "zh").decode("gbk")
    # %~f1: the argument as a full path against the caller's folder; pushd changes the folder only after.
    assert text.index('set "VENV=%~f1"') < text.index('pushd "%~dp0"')
    assert '"%VENV%"' in text and 'set "VENV=%~1"' not in text


def test_a_bundle_for_one_python_asks_for_that_python_not_one_of_them():
    from branchbook.bundle.installers import installer

    one = installer([Target(this_platform(), "3.12")], "zh").decode("utf-8")
    assert "找不到 Python 3.12：请先安装它。" in one and "其中一个" not in one
    two = installer([Target(this_platform(), "3.12"), Target(this_platform(), "3.13")], "zh").decode("utf-8")
    assert "其中一个" in two


def test_a_linux_bundle_summary_speaks_of_linux_and_offers_no_excel_parts(tmp_path, monkeypatch, capsys):
    """The summary the CLI prints for a bundle made for this Linux (the bundle itself: the network test above)."""
    import branchbook.bundle as bundles

    folder = tmp_path / "bl"
    (folder / "wheels").mkdir(parents=True)
    (folder / "wheels" / "branchbook-0.0.1-py3-none-any.whl").write_bytes(b"w")
    (folder / "install.sh").write_bytes(b"#!/bin/sh\n")
    made = bundles.Bundle(folder, this_platform(), [HERE], folder / "install.sh", None,
                          [folder / "wheels" / "branchbook-0.0.1-py3-none-any.whl"])
    monkeypatch.setattr(bundles, "build_bundle", lambda *args, **kwargs: made)
    assert main(["bundle", str(folder), "--platform", this_platform(), "--python", HERE]) == 0
    out = capsys.readouterr().out
    assert "加载项" not in out.replace("不带 Excel 加载项", "") and "办公室" not in out and "python.org" not in out
    assert out.splitlines()[-1] == "  install.sh：安装脚本；在那台电脑上运行 sh install.sh [目标文件夹]（不带 Excel 加载项：它只用于 Windows）"
