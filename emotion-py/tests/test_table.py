"""Results as a table: emotion.to_csv / emotion.to_dataframe (CSV_COLUMNS), and parity with the
command line's `--format csv` and its JSON lines, value for value."""

import csv
import io
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import emotion
from conftest import CLI, REPO_ROOT, photo_path

GRID = REPO_ROOT / "tests" / "data" / "astronaut-grid.png"  # 4 faces
CAT = REPO_ROOT / "tests" / "data" / "chelsea.png"  # no face
ODD_NAME = 'odd, "name"\nline.png'


def table(results):
    f = io.StringIO()
    emotion.to_csv(results, f)
    return f.getvalue()


def parse(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def test_columns_in_the_documented_order():
    c = emotion.CSV_COLUMNS
    assert len(c) == 40
    assert c[:8] == ("file", "frame", "time_ms", "track_id", "bbox_x", "bbox_y", "bbox_width", "bbox_height")
    assert c[8:18] == ("right_eye_x", "right_eye_y", "left_eye_x", "left_eye_y", "nose_x", "nose_y",
                       "mouth_right_x", "mouth_right_y", "mouth_left_x", "mouth_left_y")
    assert c[18:20] == ("detection_score", "expression")
    assert c[20:28] == emotion.EXPRESSIONS
    assert c[28:30] == ("valence", "arousal")
    assert c[28 + 2:] == tuple("raw_" + e for e in emotion.EXPRESSIONS) + ("raw_valence", "raw_arousal")


def test_rows_hold_the_faces_and_an_empty_row_for_no_face(analyzer):
    grid = emotion.load_image(GRID)
    faces = analyzer.analyze(grid)
    assert len(faces) == 4
    header, rows = parse(table({"grid.png": faces, CAT: [], ODD_NAME: faces[:1]}))
    assert tuple(header) == emotion.CSV_COLUMNS
    assert len(rows) == 4 + 1 + 1
    col = {name: i for i, name in enumerate(header)}
    for face, row in zip(faces, rows[:4]):
        assert row[col["file"]] == "grid.png"
        assert row[col["frame"]] == row[col["time_ms"]] == row[col["track_id"]] == ""
        assert np.float32(row[col["bbox_x"]]) == np.float32(face.bbox.x)
        assert np.float32(row[col["bbox_height"]]) == np.float32(face.bbox.height)
        assert np.float32(row[col["detection_score"]]) == np.float32(face.detection_score)
        assert row[col["expression"]] == face.expression
        for e in emotion.EXPRESSIONS:
            assert np.float32(row[col[e]]) == np.float32(face.probabilities[e]), e
        assert np.float32(row[col["valence"]]) == np.float32(face.valence)
        assert np.float32(row[col["arousal"]]) == np.float32(face.arousal)
        for point, (x, y) in zip(emotion.LANDMARKS, face.landmarks):
            assert (np.float32(row[col[point + "_x"]]), np.float32(row[col[point + "_y"]])) == (x, y), point
        assert all(row[col[c]] == "" for c in emotion.CSV_COLUMNS if c.startswith("raw_"))
    # No face: the file, nothing else, so the image still counts.
    assert rows[4][0] == str(CAT) and rows[4][1:] == [""] * 39
    # A comma, quotes and a newline in a file name survive the CSV quoting.
    assert rows[5][0] == ODD_NAME and rows[5][1:] == rows[0][1:]


def test_faces_alone_and_records_give_the_same_rows(analyzer):
    faces = analyzer.analyze(emotion.load_image(GRID))
    alone = parse(table(faces))[1]
    assert [r[0] for r in alone] == [""] * 4
    as_objects = parse(table([{"file": "g.png", "faces": faces}]))[1]
    as_dicts = parse(table([{"file": "g.png", "faces": [f.to_dict() for f in faces]}, {"summary": {}}]))[1]
    assert as_objects == as_dicts
    assert [r[1:] for r in alone] == [r[1:] for r in as_dicts]
    # Shortest round-trip text of each float32: reading it back as float32 is exact.
    assert all(len(v) <= 12 for r in as_dicts for v in r[4:8])


def test_tracked_faces_fill_track_and_raw_columns(analyzer):
    tracker = emotion.Tracker(analyzer, half_life_ms=200)
    grid = emotion.load_image(GRID)
    records = [{"file": "v", "frame": i, "time_ms": i * 40.0, "faces": tracker.update(grid, i * 40.0)} for i in range(3)]
    header, rows = parse(table(records))
    col = {name: i for i, name in enumerate(header)}
    assert len(rows) == 12
    assert [r[col["frame"]] for r in rows[:4]] == ["0"] * 4 and rows[-1][col["time_ms"]] == "80"
    assert sorted({r[col["track_id"]] for r in rows}) == ["1", "2", "3", "4"]
    face = records[2]["faces"][0]
    row = rows[8]
    assert np.float32(row[col["raw_valence"]]) == np.float32(face.raw["valence"])
    assert np.float32(row[col["raw_happy"]]) == np.float32(face.raw["probabilities"]["happy"])
    assert np.float32(row[col["valence"]]) == np.float32(face.valence)


def test_bad_results_are_type_errors():
    with pytest.raises(TypeError):
        emotion.to_csv("faces.json", io.StringIO())
    with pytest.raises(TypeError):
        emotion.to_csv([1, 2], io.StringIO())


def test_dataframe_is_the_csv_read_back(analyzer, tmp_path):
    pd = pytest.importorskip("pandas")
    faces = analyzer.analyze(emotion.load_image(GRID))
    results = {"grid.png": faces, "cat.png": [], ODD_NAME: faces[:1]}
    df = emotion.to_dataframe(results)
    assert list(df.columns) == list(emotion.CSV_COLUMNS)
    assert len(df) == 6
    assert str(df["track_id"].dtype) == "Int64" and df["track_id"].isna().all()
    assert df["expression"].iloc[4] is None and np.isnan(df["valence"].iloc[4])
    path = tmp_path / "t.csv"
    emotion.to_csv(results, path)
    back = pd.read_csv(path, keep_default_na=False, na_values=[""])
    for c in emotion.CSV_COLUMNS:
        if c in ("file", "expression"):
            assert [x if x is not None else "" for x in df[c]] == [x if isinstance(x, str) else "" for x in back[c]], c
        else:
            np.testing.assert_array_equal(df[c].astype("float64").to_numpy(), back[c].astype("float64").to_numpy(), err_msg=c)
    np.testing.assert_array_equal(df["happy"].to_numpy(np.float32)[:4], [f.probabilities["happy"] for f in faces])


def test_dataframe_without_pandas_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        emotion.to_dataframe([])


def _cli(*args):
    if not CLI.exists():
        pytest.fail(f"{CLI} not built: run `cargo build --release -p emotion-cli` (scripts/test-python.sh does)")
    return subprocess.run([str(CLI), *map(str, args)], check=True, capture_output=True, text=True).stdout


def _assert_parity(jsonl, cli_csv, python_csv):
    records = [json.loads(line) for line in jsonl.splitlines()]
    from_json = table(records)
    h1, cli_rows = parse(cli_csv)
    h2, py_rows = parse(python_csv)
    h3, json_rows = parse(from_json)
    assert h1 == h2 == h3 == list(emotion.CSV_COLUMNS)
    assert len(cli_rows) == len(py_rows) == len(json_rows)
    for a, b, c in zip(cli_rows, py_rows, json_rows):
        for name, x, y, z in zip(h1, a, b, c):
            if name in ("file", "expression", "frame", "track_id") or "" in (x, y, z):
                assert x == y == z, (name, x, y, z)
            else:
                assert np.float64(x) == np.float64(y) == np.float64(z) if name == "time_ms" else np.float32(x) == np.float32(y) == np.float32(z), (name, x, y, z)
    # The same shortest round-trip text, not only the same values.
    assert cli_csv == from_json


def test_cli_csv_python_csv_and_json_lines_agree(analyzer, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(GRID, folder / "a-grid.png")
    shutil.copy(CAT, folder / "b-cat.png")
    shutil.copy(photo_path("astronaut.png"), folder / 'c odd, "name".png')
    jsonl = _cli(folder, "--jobs", "1")
    out = tmp_path / "cli.csv"
    _cli(folder, "--jobs", "1", "--format", "csv", "-o", out)
    cli_csv = out.read_text(encoding="utf-8")
    files = sorted(folder.iterdir())
    python_csv = table({str(f): analyzer.analyze(emotion.load_image(f)) for f in files})
    _assert_parity(jsonl, cli_csv, python_csv)
    assert len(parse(cli_csv)[1]) == 4 + 1 + 1


def test_cli_video_csv_agrees_with_its_json_lines(tmp_path):
    if shutil.which("ffmpeg") is None:
        pytest.skip("needs the ffmpeg program")
    grid = emotion.load_image(GRID)[:320, :768]
    clip = tmp_path / "grid.mp4"
    frames = b"".join(np.ascontiguousarray(np.roll(grid, 4 * i, axis=1)).tobytes() for i in range(8))
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "768x320", "-r", "25",
                    "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "12", str(clip)], input=frames, check=True)
    jsonl = _cli(clip)
    cli_csv = _cli(clip, "--format", "csv")
    records = [json.loads(line) for line in jsonl.splitlines()]
    assert len(records) == 8 and all(r["faces"] for r in records)
    _assert_parity(jsonl, cli_csv, table(records))
    header, rows = parse(cli_csv)
    col = {name: i for i, name in enumerate(header)}
    assert all(r[col["track_id"]] and r[col["raw_valence"]] and r[col["frame"]] for r in rows)
    assert rows[-1][col["time_ms"]] == "280"
