"""`branchbook bundle`: a folder that installs BranchBook on a PC with no internet (docs/windows-setup.md).

It holds wheels/ (branchbook's own wheel, built from this source tree, and a wheel of every dependency for
the target platform and each Python), the Excel add-in when one is built (a Windows bundle only: Excel's
parts are Windows'), and the one-line installer. pip's own words on a failure go to a log file; the user
reads a sentence.
It is built in FOLDER.partial and renamed at the end: a failed build leaves nothing behind.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..workbook.errors import UserError
from ..workbook.i18n import N_, Domain
from .closure import unmet
from .installers import WHEELS, installer, installer_name
from .targets import SUPPORTED_PYTHONS, WINDOWS, Target, this_platform

say = Domain("cli")
ADDIN = Path("addin") / "BranchBook.xlam"
MESSAGES = {
    "no-source": N_("A bundle is built from BranchBook's source tree (the folder with pyproject.toml), and this "
                    "BranchBook runs from {path}, which is not one. Run branchbook bundle from a copy of the repository."),
    "bad-python": N_("Python {python} is not supported: choose from {choices}."),
    "folder-not-empty": N_("{path} already has files in it: choose a new folder, or empty this one."),
    "no-network": N_("Cannot reach the package index (PyPI): the bundle must download the dependencies' wheels. "
                     "Connect this computer to the internet (or set its proxy) and run the command again. "
                     "Nothing was made. What pip said is in {log}."),
    "no-wheel": N_("{requirement} has no wheel for {platform} and Python {python}, so this bundle could not install "
                   "offline. Choose other Python versions (--python), or ask whoever maintains BranchBook. Nothing was made."),
    "no-pip": N_("This Python ({python}) has no pip, which the bundle needs: install it (python -m ensurepip)."),
    "pip-failed": N_("pip failed while {step}, and nothing was made. What pip said is in {log}."),
}
_NETWORK = re.compile(r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|"
                      r"Name or service not known|ConnectTimeout|ReadTimeout|ProxyError|Network is unreachable|"
                      r"Connection refused|SSLError|No route to host")
_NOT_FOUND = re.compile(r"No matching distribution found for (\S+)")


class BundleError(UserError):
    """Why a bundle could not be made, in the user's words (the CLI shows it, exit code 2)."""

    def message(self, lang: str = "zh") -> str:
        return say(lang, MESSAGES[self.key], **self.values)


@dataclass
class Bundle:
    folder: Path
    platform: str
    pythons: list[str]
    installer: Path
    addin: Path | None
    wheels: list[Path] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(path.stat().st_size for path in self.folder.rglob("*") if path.is_file())


def platform_label(platform: str, lang: str) -> str:
    if platform == WINDOWS:
        return say(lang, "Windows (64-bit)")
    return say(lang, "this Linux ({tag})", tag=platform) if platform == this_platform() else platform


def source_root() -> Path:
    """The source tree this BranchBook runs from (branchbook/ beside pyproject.toml)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or not (root / "workbook").is_dir():
        raise BundleError("no-source", path=str(Path(__file__).resolve().parents[1]))
    return root


def build_bundle(folder: Path, platform: str = WINDOWS, pythons: list[str] | None = None, lang: str = "zh",
                 on_step: Callable[[str], None] = lambda _: None, root: Path | None = None) -> Bundle:
    """Make the bundle in folder (new or empty) for platform and each of pythons."""
    pythons = list(dict.fromkeys(pythons or SUPPORTED_PYTHONS))
    for python in pythons:
        if python not in SUPPORTED_PYTHONS:
            raise BundleError("bad-python", python=python, choices=" ".join(SUPPORTED_PYTHONS))
    root = root or source_root()
    folder = Path(folder).resolve()
    if folder.exists() and not (folder.is_dir() and not any(folder.iterdir())):
        raise BundleError("folder-not-empty", path=str(folder))
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    wheels = partial / WHEELS
    wheels.mkdir(parents=True)
    try:
        targets = [Target(platform, python) for python in pythons]
        own = _build_own_wheel(root, wheels, lang, on_step)
        on_step(say(lang, "Downloading the wheels for {platform}, Python {python} ...",
                    platform=platform_label(platform, lang), python=say(lang, ", ").join(pythons)))
        _download_all(wheels, own, targets, lang)
        addin = None
        if platform == WINDOWS and (root / ADDIN).is_file():
            addin = Path(shutil.copy2(root / ADDIN, partial / ADDIN.name))
        script = partial / installer_name(platform)
        script.write_bytes(installer(targets, lang))
        script.chmod(0o755)
        if folder.is_dir():
            folder.rmdir()
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Bundle(folder, platform, pythons, folder / script.name, addin and folder / addin.name,
                  sorted((folder / WHEELS).glob("*.whl")))


def _build_own_wheel(root: Path, wheels: Path, lang: str, on_step) -> Path:
    """branchbook's wheel from a copy of the source tree: the build writes build/ and *.egg-info into the
    tree it builds, which must not be the working copy (nor race another build of it)."""
    on_step(say(lang, "Building the branchbook wheel from {path} ...", path=root))
    with tempfile.TemporaryDirectory(prefix="branchbook-source-") as temporary:
        source = Path(temporary)
        config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        folders = set(config["tool"]["setuptools"]["package-dir"].values())
        for name in ("pyproject.toml", config["project"]["readme"]):
            shutil.copy2(root / name, source / name)
        for name in {Path(f).parts[0] for f in folders}:
            shutil.copytree(root / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        _pip(["wheel", "--no-deps", "--wheel-dir", str(wheels), str(source)], lang,
             say(lang, "building the branchbook wheel"), None)
    return next(wheels.glob("branchbook-*.whl"))


def _download_all(wheels: Path, own: Path, targets: list[Target], lang: str) -> None:
    """Each Python's wheels at once, each into a folder of its own (two pips writing one file would race),
    then gathered into wheels/: pip spends most of its time waiting on the index, not working."""
    folders = {target: wheels.parent / f"download-{target.python}" for target in targets}
    for folder in folders.values():
        folder.mkdir()
        shutil.copy2(own, folder / own.name)
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        running = [pool.submit(_complete, folders[t], folders[t] / own.name, t, lang) for t in targets]
    for done in running:
        done.result()  # the first Python's failure, in the order asked
    for folder in folders.values():
        for wheel in folder.glob("*.whl"):
            if not (wheels / wheel.name).exists():
                wheel.rename(wheels / wheel.name)
        shutil.rmtree(folder)


def _complete(wheels: Path, own: Path, target: Target, lang: str) -> None:
    """Download until every requirement that applies on target has a wheel there: pip's own pass, then what
    its markers, judged on this machine, left out (pywin32 for Windows, say)."""
    extras = "[" + ",".join(target.extras) + "]" if target.extras else ""
    wanted = [f"{own}{extras}"]
    for _ in range(5):
        _pip(["download", *target.pip_options(), "--dest", str(wheels), "--find-links", str(wheels), *wanted],
             lang, say(lang, "downloading the wheels"), target)
        wanted = unmet(wheels, own, target)
        if not wanted:
            return
    raise BundleError("no-wheel", requirement=wanted[0], platform=platform_label(target.platform, lang),
                      python=target.python)


def _pip(arguments: list[str], lang: str, step: str, target: Target | None) -> None:
    try:
        done = subprocess.run([sys.executable, "-m", "pip", *arguments], capture_output=True, text=True,
                              encoding="utf-8", errors="replace", check=False)
    except OSError as error:
        raise BundleError("pip-failed", step=step, log=_pip_log(str(error))) from None
    if done.returncode == 0:
        return
    said = done.stdout + done.stderr
    if "No module named pip" in said:
        raise BundleError("no-pip", python=sys.executable)
    if _NETWORK.search(said) or not _index_reachable():
        raise BundleError("no-network", log=_pip_log(said))
    missing = _NOT_FOUND.search(said)
    if missing and target is not None:
        raise BundleError("no-wheel", requirement=missing.group(1), platform=platform_label(target.platform, lang),
                          python=target.python)
    raise BundleError("pip-failed", step=step, log=_pip_log(said))


def _index_reachable() -> bool:
    """Whether pip reaches its index now. pip says "No matching distribution" alike for a package that has no
    wheel and for an index it cannot reach (it names the connection only while retrying, and not at all from a
    build's own environment); asking the index for pip's own versions tells the two apart."""
    done = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "pip", "--no-cache-dir"],
                          capture_output=True, text=True, encoding="utf-8", errors="replace", check=False)
    return done.returncode == 0 or "unknown command" in done.stderr


def _pip_log(said: str) -> str:
    """pip's whole output in a file of its own in the temporary folder (the bundle's folder is not left behind),
    for whoever maintains BranchBook; its path, or "-" when it cannot be written."""
    try:
        handle, path = tempfile.mkstemp(prefix="branchbook-bundle-pip-", suffix=".log")
        with open(handle, "w", encoding="utf-8") as log:
            log.write(said)
    except OSError:
        return "-"
    return path
