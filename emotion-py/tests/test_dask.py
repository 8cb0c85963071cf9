"""examples/python/dask_folder.py on a LocalCluster of worker processes writes, for each face, the
values the CLI reports, in input order; a damaged file is reported and the rest still come out."""

import io
import json
import shutil
import subprocess
import sys

import pytest

import emotion
from conftest import CLI, REPO_ROOT, photo_path

pytest.importorskip("dask.distributed", reason="the Dask example needs `pip install emotion[dask]`")
sys.path.insert(0, str(REPO_ROOT / "examples" / "python"))
import dask_folder  # noqa: E402

# The repository's test images: 4, 1, 0 and 0 faces.
PHOTOS = ["astronaut-grid.png", "astronaut.png", "chelsea.png", "coffee.png"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name in PHOTOS:
        shutil.copyfile(photo_path(name), folder / name)
    (folder / "2-damaged.jpg").write_bytes(b"\xff\xd8 not a JPEG")
    return folder


def cli_rows(folder):
    """The CLI's report as one row per face, like the example's lines."""
    if not CLI.exists():
        pytest.fail(f"{CLI} not built: run `cargo build --release -p emotion-cli` (scripts/test-python.sh does)")
    run = subprocess.run([str(CLI), str(folder)], capture_output=True, text=True)
    assert run.returncode == 1 and "2-damaged.jpg" in run.stderr
    rows = []
    for line in run.stdout.splitlines():
        image = json.loads(line)
        for index, face in enumerate(image["faces"]):
            rows.append({"file": image["file"], "width": image["width"], "height": image["height"], "face": index, **face})
    return rows


def test_local_cluster_matches_the_cli(folder, capsys):
    paths = dask_folder.list_inputs([str(folder)])
    assert [p.rsplit("/", 1)[1] for p in paths] == sorted(["2-damaged.jpg", *PHOTOS])
    out = io.StringIO()
    # 2 worker processes, 2 files a task: the batches spread over both workers.
    failed = dask_folder.run(paths, out, emotion.Analyzer(threads=1), workers=2, batch_size=2)
    assert failed == 1
    assert "2-damaged.jpg" in capsys.readouterr().err
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["file"].rsplit("/", 1)[1] for r in rows] == ["astronaut-grid.png"] * 4 + ["astronaut.png"]
    # Every value equal to the CLI's, number for number.
    assert rows == cli_rows(folder)


def test_command_line_with_a_list_of_paths_and_uris(folder, tmp_path):
    listing = tmp_path / "images.txt"
    # A local path and the same file as a file:// URI (read through fsspec on the worker).
    listing.write_text(f"{folder / 'astronaut.png'}\nfile://{folder / 'astronaut-grid.png'}\n")
    output = tmp_path / "faces.jsonl"
    script = REPO_ROOT / "examples" / "python" / "dask_folder.py"
    run = subprocess.run(
        [sys.executable, str(script), "--list", str(listing), "-o", str(output), "--workers", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["file"] for r in rows] == [str(folder / "astronaut.png")] + [f"file://{folder / 'astronaut-grid.png'}"] * 4
    expected = {(r["file"].rsplit("/", 1)[1], r["face"]): r for r in cli_rows(folder)}
    for row in rows:
        want = expected[(row["file"].rsplit("/", 1)[1], row["face"])]
        assert {k: v for k, v in row.items() if k != "file"} == {k: v for k, v in want.items() if k != "file"}
