"""The store of a sweep's runs: lazy, filtered loads (only the shards and row groups that hold
matching runs are read), and ``--compact`` cut at each of its steps, after which the folder
still loads and resumes exactly."""

from __future__ import annotations

import json
import os
import re
import shutil
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from test_results_folders import assert_refused, blowback
from test_sweep import GRID, _experiment

import sim
import sim.experiments.compaction as compaction
import sim.experiments.parquet_parts as parquet_parts
import sim.experiments.shard_log as shard_log
import sim.experiments.shards as shards
import sim.experiments.store as store
from sim.experiments.experiment import load_experiment
from sim.experiments.output import OutputError
from sim.experiments.shard_log import LOG, read_log
from sim.experiments.shards import survey
from sim.experiments.sweep import load, load_series, run_sweep

PUNISHMENT = "oversight.punishment"


@pytest.fixture(scope="module")
def sharded(tmp_path_factory) -> tuple[Path, Path, pd.DataFrame, pd.DataFrame]:
    """A finished sweep of 8 runs keeping series, in 4 shards of 2 runs (one worker, so that
    a shard holds one scenario at one point; no time limit, which on a slow machine closed the
    first shard, open through the kernels' compilation, after one run): its experiment, folder,
    rows and series."""
    folder = tmp_path_factory.mktemp("sharded")
    experiment = _experiment(folder, 'keep = "series"\n' + GRID, seeds=2, steps=4)
    out = folder / "out"
    run_sweep(load_experiment(experiment), out, jobs=1, shard_runs=2,
              shard_seconds=float("inf"))
    return experiment, out, load(out), load_series(out)


@pytest.fixture
def copy(sharded, tmp_path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(sharded[1], out)
    return out


def _holding(out: Path, test) -> list[Path]:
    """The rows files of the shards holding a run for which ``test(run entry)`` holds."""
    return sorted(out / name for line in read_log(out) if any(map(test, line["runs"]))
                  for name in line["files"] if name.startswith("runs/"))


def test_sim_results_load_is_the_sweep_load_through_the_lazy_import(sharded):
    _, out, rows, series = sharded
    assert len(rows) == 8 and len(survey(out).live) == 4
    pd.testing.assert_frame_equal(sim.results.load(out), rows, check_exact=True)
    pd.testing.assert_frame_equal(sim.results.load_series(out), series, check_exact=True)


def test_a_filtered_load_reads_only_the_shards_holding_matching_runs(sharded, monkeypatch):
    _, out, rows, series = sharded
    first = rows["scenario"][0]
    checked: set[Path] = set()
    real = store.check_footer
    monkeypatch.setattr(store, "check_footer", lambda path, recorded, redo: (
        checked.add(path), real(path, recorded, redo))[1])
    got = sim.results.load(out, scenario=first, where={PUNISHMENT: 0.9},
                           columns=["civilian_deaths_total"])
    wanted = rows[(rows["scenario"] == first) & (rows[PUNISHMENT] == 0.9)]
    pd.testing.assert_frame_equal(
        got, wanted[["run_id", "scenario", "seed", "point", "civilian_deaths_total"]]
        .reset_index(drop=True), check_exact=True)
    holding = _holding(out, lambda run: run["scenario"] == first and run["point"] == 1)
    assert sorted(checked) == holding and len(holding) == 1
    rows_read = sum(pq.ParquetFile(f).metadata.num_rows for f in checked)
    assert rows_read == len(wanted) < len(rows)
    by_point = sim.results.load(out, where={PUNISHMENT: [0.1]})
    assert set(by_point[PUNISHMENT]) == {0.1} and len(by_point) == len(rows) / 2
    part = sim.results.load_series(out, scenario=first)
    pd.testing.assert_frame_equal(
        part, series[series["run_id"].isin(rows[rows["scenario"] == first]["run_id"])]
        .reset_index(drop=True), check_exact=True)


def test_a_filter_on_zero_or_on_a_switch_gives_the_same_rows_however_the_runs_are_stored(
        tmp_path):
    """A shard of one run whose punishment is 0.0 records its statistics as -0.0 to 0.0, which
    pyarrow's `isin` pushed down skipped; a switch's column is boolean, which an integer asked
    for did not compare with.  One shard a run, then merged: every filter gives the rows that
    filtering the whole table in pandas gives."""
    experiment = _experiment(tmp_path, '[vary]\n"oversight.punishment" = [0, 1]\n'
                                       '"contractor.present" = [true, false]\n', seeds=1, steps=2)
    out = tmp_path / "out"
    run_sweep(load_experiment(experiment), out, jobs=1, shard_runs=1)
    rows = load(out)
    asked = [({PUNISHMENT: 0.0}, rows[PUNISHMENT] == 0),
             ({PUNISHMENT: -0.0}, rows[PUNISHMENT] == 0),
             ({"contractor.present": 1}, rows["contractor.present"]),
             ({PUNISHMENT: [0, 1], "contractor.present": False}, ~rows["contractor.present"])]
    for merged in (False, True):
        if merged:
            assert compaction.compact(out).merged == len(rows) == 8
        for where, wanted in asked:
            expected = rows[wanted].reset_index(drop=True)
            assert len(expected) == 4
            pd.testing.assert_frame_equal(load(out, where=where), expected, check_exact=True)


def test_a_merged_file_is_read_only_in_the_row_groups_that_can_match(copy, sharded,
                                                                     monkeypatch):
    _, _, rows, _ = sharded
    monkeypatch.setattr(compaction, "ROW_GROUP_RUNS", 2)
    done = compaction.compact(copy)
    assert done.merged == 4 and done.into is not None
    assert pq.ParquetFile(done.into).metadata.num_row_groups == 4
    last = rows["scenario"].iloc[-1]
    chosen = store.plan(copy, scenario=last)
    assert chosen.files == [done.into]
    fragment, = ds.dataset(chosen.files, format="parquet").get_fragments()
    # The row groups a scan with the load's filter reads: those whose statistics can match.
    groups = [g for part in fragment.split_by_row_group(chosen.filter) for g in part.row_groups]
    assert sum(g.num_rows for g in groups) == (rows["scenario"] == last).sum() == len(rows) / 2
    checked: list[list[int]] = []
    compare = parquet_parts._compare
    monkeypatch.setattr(parquet_parts, "_compare", lambda path, recorded, named, redo: (
        checked.append([index for _, index in named]), compare(path, recorded, named, redo))[1])
    pd.testing.assert_frame_equal(load(copy, scenario=last),
                                  rows[rows["scenario"] == last].reset_index(drop=True),
                                  check_exact=True)
    # The footer alone, then the row groups the scan reads: no other byte is hashed.
    footer = pq.ParquetFile(done.into).metadata.num_row_groups  # the part after the groups
    assert checked == [[footer], [g.id for g in groups]]


def _damage(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_filtered_load_checks_what_it_reads_and_refuses_a_damaged_part(copy, sharded,
                                                                        monkeypatch):
    _, _, rows, _ = sharded
    monkeypatch.setattr(compaction, "ROW_GROUP_RUNS", 2)
    merged = compaction.compact(copy).into
    recorded = next(line["files"][f"runs/{merged.name}"] for line in read_log(copy)
                    if f"runs/{merged.name}" in line["files"])
    parts = recorded["parts"]
    # Each row group's span, then the footer's, cover the file after its leading magic bytes.
    assert [p[0] for p in parts] == [4] + [p[1] for p in parts[:-1]]
    assert parts[-1][1] == merged.stat().st_size == recorded["size"]
    first, last = rows["scenario"].iloc[0], rows["scenario"].iloc[-1]
    unread = store.plan(copy, scenario=first)
    fragment, = ds.dataset([merged], format="parquet").get_fragments()
    read_for_first = {g.id for part in fragment.split_by_row_group(unread.filter)
                      for g in part.row_groups}
    other = next(i for i in range(len(parts) - 1) if i not in read_for_first)
    held = pq.ParquetFile(merged).read_row_group(other, columns=["scenario"])["scenario"][0]
    _damage(merged, (parts[other][0] + parts[other][1]) // 2)
    pd.testing.assert_frame_equal(load(copy, scenario=first),
                                  rows[rows["scenario"] == first].reset_index(drop=True),
                                  check_exact=True)
    with pytest.raises(OutputError, match=f"{merged.name}: damaged .*checksum differs"):
        load(copy)
    with pytest.raises(OutputError, match=f"{merged.name}: damaged \\(its row group {other} "):
        load(copy, scenario=held.as_py())
    _damage(merged, (parts[other][0] + parts[other][1]) // 2)
    _damage(merged, parts[-1][1] - 20)
    with pytest.raises(OutputError, match=f"{merged.name}: damaged \\(its footer differs"):
        load(copy, scenario=last)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"scenario": "Nobody"}, ("scenario 'Nobody' is not one of this sweep's", "allowed:")),
    ({"where": {"state.units": 3}}, ("where: state.units is not a parameter this sweep varied",
                                     PUNISHMENT)),
    ({"columns": ["nope"]}, ("columns: 'nope' is not a column", "civilian_deaths_total")),
])
def test_a_filter_the_sweep_cannot_answer_is_one_line(sharded, kwargs, words):
    with pytest.raises(OutputError) as err:
        sim.results.load(sharded[1], **kwargs)
    assert "\n" not in str(err.value) and all(w in str(err.value) for w in words)


@pytest.mark.parametrize("points", [[1, 2], "0.1", None])
def test_a_manifest_whose_points_are_not_the_sweeps_is_one_line(copy, points):
    manifest = copy / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["points"] = points
    manifest.write_text(json.dumps(doc))
    with pytest.raises(OutputError) as err:
        sim.results.load(copy, where={PUNISHMENT: 0.1})
    assert "\n" not in str(err.value) and "manifest.json: points" in str(err.value)


def _edit_points(out: Path, edit: str, checksum: bool) -> None:
    """Reorder the manifest's points (``swapped``) or give the first the second's values
    (``edited``); without ``checksum``, as a manifest written before points_sha256 was."""
    manifest = out / "manifest.json"
    doc = json.loads(manifest.read_text())
    points = doc["points"]
    doc["points"] = points[::-1] if edit == "swapped" else [points[1], *points[1:]]
    if not checksum:
        doc.pop("points_sha256")
    manifest.write_text(json.dumps(doc))


@pytest.mark.parametrize("edit", ["swapped", "edited"])
def test_a_manifest_whose_points_were_edited_is_refused_by_every_reader(sharded, copy, capsys,
                                                                        edit):
    """Runs are stored under their point's number: points reordered or edited in the manifest
    would have where choose runs of other values.  Its checksum of the points refuses it."""
    experiment = sharded[0]
    _edit_points(copy, edit, checksum=True)
    for read in (load, load_series):
        for where in (None, {PUNISHMENT: 0.9}):
            with pytest.raises(OutputError, match="manifest.json: points differ from those the "
                                                  "sweep recorded"):
                read(copy, where=where)
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    for args in (["analyse", str(copy)], ["sweep", "--compact", str(copy)],
                 ["sweep", str(experiment), "--out", str(copy), "--resume"]):
        assert_refused(*blowback(capsys, *args)[::2], "manifest.json: points differ")
    assert {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("edit", ["swapped", "edited"])
def test_points_edited_in_a_manifest_without_their_checksum_are_refused_by_where(
        sharded, copy, edit):
    """A manifest without points_sha256 (a sweep started before it): the rows chosen carry
    their point's values, which must be the manifest's."""
    _, _, rows, series = sharded
    _edit_points(copy, edit, checksum=False)
    for read in (load, load_series, partial(load, columns=["civilian_deaths_total"])):
        with pytest.raises(OutputError) as err:
            read(copy, where={PUNISHMENT: 0.9})
        assert "\n" not in str(err.value)
        assert f"{copy / 'manifest.json'}: point " in str(err.value), err.value
        assert "but its runs were run with 0.1" in str(err.value)
    pd.testing.assert_frame_equal(load(copy), rows, check_exact=True)
    pd.testing.assert_frame_equal(load_series(copy), series, check_exact=True)


def test_a_shard_copied_in_from_another_sweep_with_its_line_is_refused(sharded, copy, capsys,
                                                                       tmp_path):
    """A shard of another experiment's sweep, copied in under a free number with its line
    appended to the log, was read as this sweep's: runs of other seeds, and points twice."""
    experiment, _, rows, series = sharded
    other = tmp_path / "other"
    other.mkdir()
    run_sweep(load_experiment(_experiment(other, GRID, seeds=1, steps=2)), other / "out",
              jobs=1, shard_runs=8, shard_seconds=float("inf"))
    line, = read_log(other / "out")
    stranger = copy / "runs" / "shard-000009.parquet"
    shutil.copyfile(other / "out" / "runs" / "shard-000000.parquet", stranger)
    with (copy / LOG).open("a") as log:
        log.write(json.dumps(line | {"shard": 9, "files": {
            "runs/shard-000009.parquet": line["files"]["runs/shard-000000.parquet"]}}) + "\n")
    said = f"{stranger}: holds run {line['runs'][0]['run_id']}, which is not a run of this sweep"
    for read in (load, load_series, partial(load, where={PUNISHMENT: 0.1}), compaction.compact):
        with pytest.raises(OutputError, match=re.escape(said)):
            read(copy)
    assert_refused(*blowback(capsys, "sweep", str(experiment), "--out", str(copy),
                             "--resume")[::2], said)
    stranger.unlink()
    pd.testing.assert_frame_equal(load(copy), rows, check_exact=True)
    pd.testing.assert_frame_equal(load_series(copy), series, check_exact=True)


class Killed(BaseException):
    """Stands for a SIGKILL: nothing of the merge catches it or cleans up after it."""


def _fail_on(monkeypatch, module, name: str, call: int) -> None:
    """Make the ``call``-th call of ``module.<name>`` die (after the earlier ones ran)."""
    real, calls = getattr(module, name), []

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise Killed
        return real(*args, **kwargs)
    monkeypatch.setattr(module, name, dying)


def _half_written(fd: int, data: bytes) -> None:
    """Write half of the new log, then die."""
    shard_log.os.write(fd, data[:len(data) // 2])
    raise Killed


# Each step of a merge (sim.experiments.compaction): copying the runs, logging the new shard,
# renaming it into place (between the series and the rows), removing the merged shards, and
# shortening the log: its new file half written, written whole and flushed but not renamed,
# renamed over the old log (the folder not yet flushed).
CRASHES = {"copying": (compaction, "run_checksum", 3), "logging": (compaction, "append_line", 1),
           "renaming": (os, "replace", 2), "removing": (compaction, "remove", 2),
           "shortening": (compaction, "shorten", 1),
           "writing the new log": (shard_log, "write_whole", None),
           "renaming the new log": (os, "replace", 3), "new log in place": (shard_log, "sync", 1)}


def _compact_killed(copy: Path, monkeypatch, crash: str) -> None:
    """A --compact of ``copy`` killed at the step ``crash`` of :data:`CRASHES`."""
    module, name, call = CRASHES[crash]
    if call is None:
        monkeypatch.setattr(module, name, _half_written)
    else:
        _fail_on(monkeypatch, module, name, call)
    with pytest.raises(Killed):
        compaction.compact(copy)
    monkeypatch.undo()


@pytest.mark.parametrize("crash", sorted(CRASHES))
def test_a_merge_cut_at_any_step_leaves_a_folder_that_loads_and_resumes_exactly(
        sharded, copy, monkeypatch, crash):
    experiment, _, rows, series = sharded
    # Two runs to redo: a merge must keep the rest, and the resume find exactly those.
    missing = sorted((copy / "runs").glob("shard-*.parquet"))[0]
    missing.unlink()
    _compact_killed(copy, monkeypatch, crash)
    kept = rows[rows["run_id"].isin(load(copy)["run_id"])]
    assert len(kept) == 6
    pd.testing.assert_frame_equal(load(copy), kept.reset_index(drop=True), check_exact=True)
    report = run_sweep(load_experiment(experiment), copy, jobs=1, resume=True)
    assert (report.written, report.skipped) == (2, 6)
    assert not survey(copy).partial and not survey(copy).stale
    pd.testing.assert_frame_equal(load(copy), rows, check_exact=True)
    pd.testing.assert_frame_equal(load_series(copy), series, check_exact=True)
    assert compaction.compact(copy).into is not None
    assert [p.name for p in (copy / "runs").iterdir()] == [p.name for p in
                                                           (copy / "series").iterdir()]
    assert len(list((copy / "runs").iterdir())) == 1
    pd.testing.assert_frame_equal(load(copy), rows, check_exact=True)
    pd.testing.assert_frame_equal(load_series(copy), series, check_exact=True)
    # The second merge finished what the first began: one line, listing each run once.
    line, = read_log(copy)
    assert sorted(run["run_id"] for run in line["runs"]) == sorted(rows["run_id"])
    assert not (copy / shard_log.LOG_PART).exists()


@pytest.mark.parametrize("crash", sorted(CRASHES))
def test_a_merge_cut_at_any_step_is_finished_by_the_next(sharded, copy, monkeypatch, crash):
    """Without a --resume between: the next --compact leaves one file of rows, one of series
    and a log of one line, which list each run the folder held once."""
    _, _, rows, series = sharded
    _compact_killed(copy, monkeypatch, crash)
    compaction.compact(copy)
    assert [len(list((copy / folder).iterdir())) for folder in ("runs", "series")] == [1, 1]
    line, = read_log(copy)
    assert sorted(run["run_id"] for run in line["runs"]) == sorted(rows["run_id"])
    assert not survey(copy).partial and not (copy / shard_log.LOG_PART).exists()
    pd.testing.assert_frame_equal(load(copy), rows, check_exact=True)
    pd.testing.assert_frame_equal(load_series(copy), series, check_exact=True)


def test_the_log_lists_each_run_once_however_often_the_folder_is_compacted(sharded, copy):
    """A merge drops the lines of the shards it removed: after compact, resume, compact, the
    log names only files in place and lists each run once, as after a single merge."""
    experiment, _, rows, series = sharded
    for name in ("runs", "series"):
        (copy / name / "shard-000003.parquet").unlink()
    logs = []
    for _ in range(3):
        compaction.compact(copy)
        lines = read_log(copy)
        assert all((copy / name).exists() for line in lines for name in line["files"])
        logs.append(sorted(run["run_id"] for line in lines for run in line["runs"]))
        run_sweep(load_experiment(experiment), copy, jobs=1, resume=True)
    assert logs[0] == sorted(rows["run_id"][:6])
    assert logs[1] == logs[2] == sorted(rows["run_id"])
    size = (copy / LOG).stat().st_size
    assert compaction.compact(copy).into is None and (copy / LOG).stat().st_size == size
    pd.testing.assert_frame_equal(load(copy), rows, check_exact=True)
    pd.testing.assert_frame_equal(load_series(copy), series, check_exact=True)


@pytest.mark.parametrize("overtaken", ["after the listing", "before the listing"])
def test_a_load_that_a_merge_and_a_resume_overtake_as_it_lists_the_shards_reads_every_run(
        copy, sharded, monkeypatch, overtaken):
    """A --compact, which shortens the log, and a --resume, which adds a shard to the new log,
    run beside a load just after or just before it lists the shards: the load reads a log that
    names every file listed (the one it opened before listing, or else it lists again) and
    then every run, never a file refused as not the sweep's."""
    experiment, _, rows, series = sharded
    for name in ("runs", "series"):
        (copy / name / "shard-000003.parquet").unlink()
    real, done = shards._listing, []

    def overtaking(out):
        if done:  # the merge's and the resume's own listings, and the load's next ones
            return real(out)
        done.append(1)
        listed = real(out) if overtaken == "after the listing" else None
        assert compaction.compact(copy).merged == 3
        run_sweep(load_experiment(experiment), copy, jobs=1, resume=True)
        return listed or real(out)

    monkeypatch.setattr(shards, "_listing", overtaking)
    pd.testing.assert_frame_equal(load(copy), rows, check_exact=True)
    assert len(read_log(copy)) == 2
    pd.testing.assert_frame_equal(load_series(copy), series, check_exact=True)


def test_compact_through_the_command_line(capsys, copy, tmp_path):
    status, out, err = blowback(capsys, "sweep", "--compact", str(copy))
    assert status == 0 and "8 runs of 4 shards merged into runs/shard-000004.parquet" in out, err
    status, out, _ = blowback(capsys, "sweep", "--compact", str(copy))
    assert status == 0 and "nothing to merge" in out
    assert_refused(*blowback(capsys, "sweep", "--compact", str(tmp_path / "nowhere"))[::2],
                   "nowhere")
    assert_refused(*blowback(capsys, "sweep")[::2], "--compact FOLDER")
    for option in (["--scheduler", "tcp://x:1"], ["--out", str(tmp_path / "o")], ["--resume"],
                   ["--ensemble", "4"]):
        assert_refused(*blowback(capsys, "sweep", "--compact", str(copy), *option)[::2],
                       f"{option[0]} does not go with it")


@pytest.mark.parametrize("taken", ["one", "folder"])
def test_a_series_file_taken_away_is_named_and_its_rows_are_kept(copy, sharded, capsys, taken):
    """A shard's rows file is renamed into place last, so no crash leaves it without its
    series: a series file gone was taken away, and its runs would be read as never run and
    their rows removed as stale.  Every command names it and keeps the rows; once the rows
    file is moved out too, --resume redoes exactly those runs."""
    experiment, _, rows, series = sharded
    victim = sorted((copy / "series").glob("shard-*.parquet"))[1]
    rows_file = copy / "runs" / victim.name
    if taken == "one":
        victim.unlink()
    else:
        shutil.rmtree(copy / "series")
    before = sorted(p.name for p in (copy / "runs").iterdir())
    first = victim.name if taken == "one" else "shard-000000.parquet"
    with pytest.raises(OutputError, match=f"series/{first}: missing, though its shard's rows"):
        load(copy)
    with pytest.raises(OutputError, match="missing"):
        compaction.compact(copy)
    assert_refused(*blowback(capsys, "sweep", str(experiment), "--out", str(copy),
                             "--resume")[::2], "put it back")
    assert sorted(p.name for p in (copy / "runs").iterdir()) == before
    if taken == "folder":
        shutil.rmtree(copy / "runs")
    else:
        rows_file.unlink()
    report = run_sweep(load_experiment(experiment), copy, jobs=1, resume=True)
    assert report.written == (8 if taken == "folder" else 2)
    pd.testing.assert_frame_equal(load(copy), rows, check_exact=True)
    pd.testing.assert_frame_equal(load_series(copy), series, check_exact=True)


def test_a_load_that_a_merge_overtakes_reads_the_merged_file(copy, sharded, monkeypatch):
    """A --compact beside a load removes the shards the load chose once the merged file is in
    force: the load plans again and reads the merged file; where every plan is overtaken it
    says so, rather than call a shard damaged."""
    _, _, rows, series = sharded
    real = store._scan
    merges = []

    def overtaken(path, chosen, folder, columns):
        if not merges:
            merges.append(compaction.compact(copy))
        return real(path, chosen, folder, columns)

    monkeypatch.setattr(store, "_scan", overtaken)
    pd.testing.assert_frame_equal(load(copy), rows, check_exact=True)
    assert merges[0].merged == 4
    pd.testing.assert_frame_equal(load_series(copy), series, check_exact=True)

    # Each plan finds the files in place, and each scan finds them gone.
    moved: list[Path] = []
    real_plan = store.plan

    def planned(*args):
        while moved:
            gone = moved.pop()
            gone.with_name(gone.name + ".moved").rename(gone)
        return real_plan(*args)

    def always_overtaken(path, chosen, folder, columns):
        for file in chosen.files:
            file.rename(file.with_name(file.name + ".moved"))
            moved.append(file)
        return real(path, chosen, folder, columns)

    monkeypatch.setattr(store, "plan", planned)
    monkeypatch.setattr(store, "_scan", always_overtaken)
    with pytest.raises(OutputError, match="removed while they were read, 3 times"):
        load(copy)


def test_a_damaged_shard_stops_a_merge_naming_it_and_leaves_the_folder(copy):
    victim = sorted((copy / "runs").glob("shard-*.parquet"))[1]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    before = sorted(p.name for p in copy.rglob("*"))
    with pytest.raises(OutputError, match=f"{victim.name}: damaged"):
        compaction.compact(copy)
    assert sorted(p.name for p in copy.rglob("*")) == before


def test_a_line_without_parts_has_its_files_checked_whole(copy, sharded, monkeypatch):
    _, _, rows, _ = sharded
    monkeypatch.setattr(compaction, "ROW_GROUP_RUNS", 2)
    merged = compaction.compact(copy).into
    log = copy / LOG
    lines = [json.loads(text) for text in log.read_text().splitlines()]
    for line in lines:
        for recorded in line["files"].values():
            recorded.pop("parts", None)
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    first = rows["scenario"].iloc[0]
    pd.testing.assert_frame_equal(load(copy, scenario=first),
                                  rows[rows["scenario"] == first].reset_index(drop=True),
                                  check_exact=True)
    fragment, = ds.dataset([merged], format="parquet").get_fragments()
    read = {g.id for part in fragment.split_by_row_group(store.plan(copy, scenario=first).filter)
            for g in part.row_groups}
    group = pq.ParquetFile(merged).metadata.row_group(
        next(i for i in range(fragment.num_row_groups) if i not in read))
    _damage(merged, group.column(0).data_page_offset + 1)
    with pytest.raises(OutputError, match=f"{merged.name}: damaged .*checksum differs"):
        load(copy, scenario=first)


def test_a_log_whose_parts_miss_a_row_group_is_refused_naming_the_file(copy, monkeypatch):
    monkeypatch.setattr(compaction, "ROW_GROUP_RUNS", 2)
    merged = compaction.compact(copy).into
    log = copy / LOG
    lines = [json.loads(text) for text in log.read_text().splitlines()]
    recorded = next(line["files"][f"runs/{merged.name}"] for line in lines
                    if f"runs/{merged.name}" in line["files"])
    last = len(recorded["parts"]) - 2
    held = pq.ParquetFile(merged).read_row_group(last, columns=["scenario"])["scenario"][0]
    del recorded["parts"][last]  # the last row group's checksum; the footer's stays last
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(OutputError, match=f"{merged.name}: damaged \\(its row group {last} "
                                          "has no checksum"):
        load(copy, scenario=held.as_py())


def test_a_finished_sweep_resumed_starts_no_worker_and_compiles_nothing(sharded, copy,
                                                                       monkeypatch):
    """Finding that nothing is left to run reads the folder's log only: no worker process is
    started and no kernel compiled or loaded, whatever the size of the design."""
    import sim.experiments.sweep as sweep

    def refused(*args, **kwargs):
        raise AssertionError("a worker pool for a sweep with nothing left to run")

    monkeypatch.setattr(sweep, "LocalPool", refused)
    monkeypatch.setattr(sweep, "compile_once", refused)
    report = run_sweep(load_experiment(sharded[0]), copy, jobs=2, resume=True)
    assert (report.total, report.skipped, report.written) == (8, 8, 0)
    assert load(copy).equals(sharded[2])


def test_a_full_disk_during_a_merge_is_one_line_and_leaves_the_folder_as_it_was(
        copy, sharded, monkeypatch, capsys):
    """The merged file cannot be written: one line, status 1, no file of the merge left, every
    run loads as before, and --compact again merges."""
    from sim.interfaces.cli import main

    _, _, rows, _ = sharded
    before = sorted(p.name for p in copy.rglob("*"))

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(compaction, "_copy", full)
    assert main(["sweep", "--compact", str(copy)]) == 1
    err = capsys.readouterr().err
    assert err == (f"blowback: error: {copy}: cannot merge its shards (No space left on device); "
                   "nothing of the merge is left, and its runs load as before: make room, then "
                   "run --compact again\n")
    assert sorted(p.name for p in copy.rglob("*")) == before
    pd.testing.assert_frame_equal(load(copy), rows, check_exact=True)
    monkeypatch.undo()
    assert main(["sweep", "--compact", str(copy)]) == 0


def test_a_full_disk_as_a_merge_shortens_the_log_leaves_the_merge_and_the_longer_log(
        copy, sharded, monkeypatch, capsys):
    """The merge is in place when the log is shortened: a log that cannot be rewritten stays
    whole and in force, the command says so in one line and ends well, and --compact again
    shortens it."""
    from sim.interfaces.cli import main

    _, _, rows, _ = sharded

    def full(out):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(compaction, "shorten", full)
    assert main(["sweep", "--compact", str(copy)]) == 0
    out, err = capsys.readouterr()
    assert "8 runs of 4 shards merged into runs/shard-" in out
    assert err == (f"blowback: warning: {copy}: its log still lists the merged shards (No space "
                   "left on device), which every reader skips; --compact again shortens it\n")
    assert len(read_log(copy)) == 5
    pd.testing.assert_frame_equal(load(copy), rows, check_exact=True)
    monkeypatch.undo()
    assert main(["sweep", "--compact", str(copy)]) == 0
    assert len(read_log(copy)) == 1
    pd.testing.assert_frame_equal(load(copy), rows, check_exact=True)
