"""A sweep folder's log of shards, manifest and lock through the real command line: a damaged,
copied or foreign shard is refused when read and redone by ``--resume``; a manifest that is
not a sweep's is one line; a second sweep is refused naming the first's process (filelock);
a folder of the second format (one file a run) still loads."""

from __future__ import annotations

import errno
import hashlib
import json
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from filelock import FileLock
from test_results_folders import assert_refused, blowback, tree
from test_sweep import _experiment

import sim.experiments.output as output
from sim.experiments.experiment import load_experiment
from sim.experiments.output import OutputError
from sim.experiments.shard_log import LOG, read_log
from sim.experiments.shards import run_checksum
from sim.experiments.sweep import load, load_series, run_sweep
from sim.experiments.sweep_folder import LOCK, PID


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, Path]:
    """A finished sweep of two tiny runs, a shard each (and its experiment file), to be copied
    by tests."""
    folder = tmp_path_factory.mktemp("sweep")
    experiment = _experiment(folder, 'keep = "series"\n', seeds=1, steps=3)
    run_sweep(load_experiment(experiment), folder / "out", jobs=1, shard_runs=1)
    return experiment, folder / "out"


@pytest.fixture
def sweep(finished, tmp_path) -> tuple[Path, Path]:
    experiment, out = finished
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    return experiment, copy


def _run_files(out: Path) -> list[Path]:
    return sorted((out / "runs").glob("*.parquet"))


def _resume(capsys, experiment: Path, out: Path) -> tuple[int, str, str]:
    return blowback(capsys, "sweep", str(experiment), "--out", str(out), "--resume",
                    "--jobs", "1")


def test_every_shard_and_run_of_a_sweep_has_its_checksum_recorded(finished):
    _, out = finished
    lines = read_log(out)
    files = sorted(p.relative_to(out).as_posix() for p in out.glob("*/*.parquet"))
    assert sorted(name for line in lines for name in line["files"]) == files and len(files) == 4
    for line in lines:
        for name, recorded in line["files"].items():
            data = (out / name).read_bytes()
            parts = recorded.pop("parts")
            assert recorded == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            # Each row group, then the footer, end to end after the leading magic bytes.
            assert [p[0] for p in parts] == [4] + [p[1] for p in parts[:-1]]
            assert parts[-1][1] == len(data)
            assert all(sha == hashlib.sha256(data[a:b]).hexdigest() for a, b, sha in parts)
            assert len(parts) == pq.ParquetFile(out / name).metadata.num_row_groups + 1
        rows = pq.read_table(out / "runs" / Path(name).name)
        series = pq.read_table(out / "series" / Path(name).name)
        for run in line["runs"]:
            assert rows.column("run_id")[run["row"]].as_py() == run["run_id"]
            assert run["sha256"] == run_checksum(rows.slice(run["row"], 1),
                                                 series.slice(*run["series"]))
    # A run's checksum covers its values: another run's row gives another.
    first, second = (line["runs"][0] for line in lines)
    assert first["sha256"] != second["sha256"]


def _zero_rows(file: Path) -> None:
    table = pq.read_table(file)
    pq.write_table(table.slice(0, 0), file)


def _cut(file: Path) -> None:
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])


def _edit(file: Path) -> None:
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))


def _copy_over(file: Path) -> None:
    others = [p for p in file.parent.glob("*.parquet") if p != file]
    shutil.copyfile(others[0], file)


DAMAGES = {"zero_rows": _zero_rows, "cut": _cut, "edited": _edit, "copied": _copy_over}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_run_file_is_refused_naming_it(capsys, sweep, damage):
    _, out = sweep
    victim = _run_files(out)[0]
    DAMAGES[damage](victim)
    with pytest.raises(OutputError, match="damaged"):
        load(out)
    status, _, err = blowback(capsys, "analyse", str(out))
    assert_refused(status, err, victim.name, "damaged", "--resume")
    assert not out.with_name("out-analysis").exists()


def test_analyse_of_a_sweep_with_a_file_gone_says_how_many_runs_it_covers(capsys, sweep):
    experiment, out = sweep
    _run_files(out)[0].unlink()
    status, _, err = blowback(capsys, "analyse", str(out))
    assert status == 0 and f"{out} holds 1 of its experiment's 2 runs" in err
    assert "--resume" in err and len(load(out)) == 1
    assert _resume(capsys, experiment, out)[0] == 0 and len(load(out)) == 2
    assert "holds" not in blowback(capsys, "analyse", str(out), "--force")[2]


def test_resume_redoes_the_damaged_runs_and_says_how_many(capsys, sweep):
    experiment, out = sweep
    _zero_rows(_run_files(out)[0])
    _copy_over(_run_files(out)[1])
    status, stdout, err = _resume(capsys, experiment, out)
    assert status == 0, err
    assert "2 runs written (2 redone: their files were damaged), 0 already done" in stdout
    assert len(load(out)) == 2
    assert blowback(capsys, "analyse", str(out))[0] == 0


def test_a_damaged_series_file_is_redone_with_its_run(capsys, sweep):
    experiment, out = sweep
    _cut(sorted((out / "series").glob("*.parquet"))[0])
    status, stdout, err = _resume(capsys, experiment, out)
    assert status == 0 and "1 redone" in stdout, err
    assert blowback(capsys, "analyse", str(out))[0] == 0


def _forbid(monkeypatch, victim: Path) -> None:
    """Make ``victim`` unreadable, as a user without read permission finds it (a chmod would
    not do: the tests may run as root, who reads all)."""
    real = Path.open

    def forbidden(self, *args, **kwargs):
        if self == victim:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", forbidden)


@pytest.mark.parametrize("folder", ["runs", "series"])
def test_an_unreadable_shard_is_named_and_kept_not_taken_for_damaged(capsys, sweep,
                                                                     monkeypatch, folder):
    """A shard there but unreadable (its permissions) is not damaged: --resume would remove it
    and redo its runs.  Every reader names it in one line, and the folder is left as it was."""
    experiment, out = sweep
    victim = sorted((out / folder).glob("*.parquet"))[0]
    before = tree(out)
    _forbid(monkeypatch, victim)
    said = f"{victim}: unreadable (Permission denied); it is kept as it is"
    for args in (["sweep", str(experiment), "--out", str(out), "--resume", "--jobs", "1"],
                 ["sweep", "--compact", str(out)]):
        assert_refused(*blowback(capsys, *args)[::2], said)
    with pytest.raises(OutputError, match=re.escape(said)):
        (load if folder == "runs" else load_series)(out)
    monkeypatch.undo()
    assert tree(out) == before


@pytest.mark.parametrize("folder", ["runs", "series"])
def test_a_folder_of_the_sweep_that_cannot_be_listed_is_named_in_one_line(capsys, sweep,
                                                                          monkeypatch, folder):
    """``runs/`` or ``series/`` without read permission stopped every reader with a traceback."""
    experiment, out = sweep
    before = tree(out)
    real = Path.iterdir

    def forbidden(self):
        if self == out / folder:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", forbidden)
    said = f"{out / folder}: Permission denied; it is left as it is"
    for args in (["analyse", str(out)], ["sweep", "--compact", str(out)],
                 ["sweep", str(experiment), "--out", str(out), "--resume", "--jobs", "1"]):
        assert_refused(*blowback(capsys, *args)[::2], said)
    monkeypatch.undo()
    assert tree(out) == before


def test_a_run_file_not_written_by_the_sweep_is_refused(capsys, sweep):
    _, out = sweep
    shutil.copyfile(_run_files(out)[0], out / "runs" / "stranger.parquet")
    status, _, err = blowback(capsys, "analyse", str(out))
    assert_refused(status, err, "stranger.parquet", "not recorded")


def test_a_line_cut_short_in_the_log_is_harmless(capsys, sweep):
    experiment, out = sweep
    with (out / LOG).open("a") as f:
        f.write('{"shard": 9, "files": {"runs/shard-000009.parq')
    assert len(load(out)) == 2
    assert _resume(capsys, experiment, out)[0] == 0  # finished: nothing to redo
    assert len(load(out)) == 2
    # A shard written after the cut line gets a line of its own.
    _run_files(out)[0].unlink()
    assert _resume(capsys, experiment, out)[0] == 0
    assert len(load(out)) == 2 and len(read_log(out)) == 3


@pytest.mark.parametrize(("change", "words"), [
    (lambda doc: doc.pop("varied"), ("manifest.json", "varied")),
    (lambda doc: doc.pop("experiment_hash"), ("manifest.json", "experiment_hash")),
    (lambda doc: doc.update(scenarios="all"), ("manifest.json", "scenarios")),
    (lambda doc: doc.update(scenarios=[{"name": 3}]), ("manifest.json", "scenarios")),
    (lambda doc: doc.update(seeds=True), ("manifest.json", "seeds")),
    (lambda doc: doc.update(versions=3), ("manifest.json", "versions")),
    (lambda doc: doc.update(resumptions={}), ("manifest.json", "resumptions")),
    (lambda doc: doc.update(format="blowback-sweep/1"), ("before Blowback recorded checksums",
                                                         "redo it")),
])
def test_a_manifest_that_is_not_a_sweeps_is_one_line(capsys, sweep, change, words):
    experiment, out = sweep
    doc = json.loads((out / "manifest.json").read_text())
    change(doc)
    (out / "manifest.json").write_text(json.dumps(doc))
    assert_refused(*blowback(capsys, "analyse", str(out))[::2], *words)
    assert_refused(*_resume(capsys, experiment, out)[::2], *words)


def test_another_commands_folder_is_refused_without_a_trace_left_in_it(capsys, sweep,
                                                                       tmp_path):
    """A run's or a comparison's folder has a manifest too: the sweep refuses it before it
    locks it, so that its own command can still replace it."""
    experiment, _ = sweep
    theirs = tmp_path / "a-run"
    theirs.mkdir()
    (theirs / "manifest.json").write_text(json.dumps({"format": "blowback-run/1"}))
    (theirs / "summary.json").write_text("{}")
    status, _, err = blowback(capsys, "sweep", str(experiment), "--out", str(theirs))
    assert_refused(status, err, "not a Blowback sweep manifest")
    assert sorted(p.name for p in theirs.iterdir()) == ["manifest.json", "summary.json"]


def test_a_comparisons_folder_given_to_a_sweeps_reader_is_named_as_one(capsys, sweep, tmp_path):
    """`sim.results.load` and `--resume` of a comparison's folder said "not a Blowback sweep
    manifest"; they say what the folder holds, and where a comparison's runs are read."""
    experiment, _ = sweep
    theirs = tmp_path / "cmp"
    theirs.mkdir()
    (theirs / "manifest.json").write_text(json.dumps(
        {"format": "blowback-folder/1", "what": "a comparison of A, B on seeds 1-2"}))
    (theirs / "runs.csv").write_text("scenario,seed\n")
    said = f"{theirs}: holds a comparison of A, B on seeds 1-2, not a sweep; its runs: " \
           "sim.analysis.load(folder)"
    with pytest.raises(OutputError, match=re.escape(said)):
        load(theirs)
    status, _, err = blowback(capsys, "sweep", str(experiment), "--out", str(theirs), "--resume")
    assert_refused(status, err, said)


def test_load_takes_one_column_by_name_and_refuses_a_where_that_is_no_mapping(finished):
    _, out = finished
    one = load(out, columns="civilian_deaths_total")
    assert one.equals(load(out, columns=["civilian_deaths_total"])) and len(one) == 2
    with pytest.raises(OutputError, match="where: .* is not a mapping; allowed: a dict"):
        load(out, where=[("oversight.punishment", 0.9)])


def test_the_series_of_a_sweep_that_kept_none_are_refused_not_empty(sweep):
    _, out = sweep
    doc = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps(doc | {"keep": "summary"}))
    with pytest.raises(OutputError, match="kept each run's summary only"):
        load_series(out)


def test_a_sweep_folder_without_resume_is_refused_mentioning_resume(capsys, sweep):
    experiment, out = sweep
    status, _, err = blowback(capsys, "sweep", str(experiment), "--out", str(out))
    assert_refused(status, err, "already holds 2 of 2 runs", "--resume")


def test_a_held_lock_refuses_a_second_sweep_naming_its_process(capsys, sweep):
    experiment, out = sweep
    (out / PID).write_text("424242")
    with FileLock(out / LOCK, thread_local=False):
        status, _, err = _resume(capsys, experiment, out)
        assert_refused(status, err, "another sweep (process 424242)")
    assert _resume(capsys, experiment, out)[0] == 0


def test_a_held_lock_refuses_a_merge_saying_to_wait(capsys, sweep):
    """--compact has no --out to choose: it says to compact the folder once the sweep ends."""
    _, out = sweep
    (out / PID).write_text("424242")
    with FileLock(out / LOCK, thread_local=False):
        status, _, err = blowback(capsys, "sweep", "--compact", str(out))
        assert_refused(status, err, "another sweep (process 424242)")
        assert "compact it once it has" in err and "--out" not in err


def test_sweep_files_get_the_modes_of_the_umask(sweep):
    _, out = sweep
    for file in [*_run_files(out), out / "manifest.json", out / LOG]:
        assert file.stat().st_mode & 0o777 == 0o666 & ~output.UMASK, file
    assert (out / "runs").stat().st_mode & 0o777 == 0o777 & ~output.UMASK


def test_the_lock_is_filelock_not_fcntl():
    import sim.experiments.sweep_folder as folder

    assert "import fcntl" not in Path(folder.__file__).read_text()


def _second_format(out: Path, into: Path) -> None:
    """The sweep of ``out`` as Blowback wrote it before shards: a file a run, and its line of
    ``checksums.jsonl``."""
    shutil.copytree(out, into, ignore=shutil.ignore_patterns("*.parquet", LOG, ".lock*"))
    doc = json.loads((into / "manifest.json").read_text())
    (into / "manifest.json").write_text(json.dumps(doc | {"format": "blowback-sweep/2"}))
    with (into / "checksums.jsonl").open("w") as log:
        for folder, table in (("runs", pa.Table.from_pandas(load(out), preserve_index=False)),
                              ("series", pa.Table.from_pandas(load_series(out),
                                                              preserve_index=False))):
            for run_id in table.column("run_id").unique().to_pylist():
                file = into / folder / f"{run_id}.parquet"
                pq.write_table(table.filter(pc.field("run_id") == run_id), file)
                data = file.read_bytes()
                log.write(json.dumps({"file": f"{folder}/{file.name}", "size": len(data),
                                      "sha256": hashlib.sha256(data).hexdigest()}) + "\n")


def test_a_sweep_of_the_second_format_loads_and_is_not_added_to(capsys, sweep, tmp_path):
    experiment, out = sweep
    old = tmp_path / "old"
    _second_format(out, old)
    import sim

    rows = load(out)
    assert sim.results.load(old).equals(rows)
    assert sim.results.load(old, scenario=rows["scenario"][0])["run_id"].tolist() == [
        rows["run_id"][0]]
    assert blowback(capsys, "analyse", str(old))[0] == 0
    # Finished: resuming adds nothing, so `blowback sensitivity` may read it again.
    assert _resume(capsys, experiment, old)[0] == 0
    sorted((old / "runs").glob("*.parquet"))[0].unlink()
    status, _, err = _resume(capsys, experiment, old)
    assert_refused(status, err, "blowback-sweep/2", "--out NEW-FOLDER")
    assert len(load(old)) == 1


def test_an_unreadable_run_file_of_the_second_format_is_named(capsys, sweep, tmp_path,
                                                              monkeypatch):
    experiment, out = sweep
    old = tmp_path / "old"
    _second_format(out, old)
    victim = sorted((old / "runs").glob("*.parquet"))[0]
    _forbid(monkeypatch, victim)
    assert_refused(*_resume(capsys, experiment, old)[::2],
                   f"{victim}: unreadable (Permission denied)")
