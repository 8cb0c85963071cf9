"""emotion.Tracker: track ids through synthetic clips, smoothing, errors, and parity with the Rust
tracker (the CLI's video mode) on the same frames."""

import json
import shutil
import subprocess
import threading

import numpy as np
import pytest
from PIL import Image, ImageFilter

import emotion
from conftest import CLI, REPO_ROOT

SAMPLE = REPO_ROOT / "examples" / "data" / "astronaut.png"
FPS = 25  # 40 ms a frame: exact in binary, so the CLI's times equal ours


def frames(n: int = 16, cut_at: int | None = None) -> list[np.ndarray]:
    """640x480 RGB frames: the sample image (240 px, the face box about 41 px) panning right 15 px
    a frame (about a third of the box, IoU 0.5 between frames); a bright background from `cut_at`
    on (a scene cut)."""
    face = np.asarray(Image.open(SAMPLE).convert("RGB").resize((240, 240), Image.BILINEAR))
    out = []
    for i in range(n):
        bg = 230 if cut_at is not None and i >= cut_at else 70
        f = np.full((480, 640, 3), bg, np.uint8)
        x = 40 + 15 * i
        f[90:330, x : x + 240] = face
        out.append(f)
    return out


def test_one_id_through_a_pan_and_bgr_input():
    clip = frames()
    tracker = emotion.Tracker(detection_interval=5)
    bgr_tracker = emotion.Tracker(detection_interval=5)
    ids = []
    for i, f in enumerate(clip):
        faces = tracker.update(f, i * 40.0)
        same = bgr_tracker.update(np.ascontiguousarray(f[:, :, ::-1]), i * 40.0, color="bgr")
        assert [x.to_dict() for x in faces] == [x.to_dict() for x in same]
        assert len(faces) == 1, f"frame {i}: {faces}"
        ids.append(faces[0].track_id)
    assert len(set(ids)) == 1
    assert tracker.track_count == 1
    d = faces[0].to_dict()
    assert set(d) == {"track_id", "bbox", "detection_score", "landmarks", "expression", "probabilities", "valence",
                      "arousal", "raw"}
    assert set(d["raw"]) == {"probabilities", "valence", "arousal"}
    assert abs(sum(d["probabilities"].values()) - 1) < 1e-4
    assert faces[0].raw == d["raw"]


def test_cut_gives_new_id_and_reset():
    tracker = emotion.Tracker()
    out = [tracker.update(f, i * 40.0) for i, f in enumerate(frames(10, cut_at=5))]
    assert all(len(f) == 1 for f in out)
    assert out[4][0].track_id != out[5][0].track_id
    tracker.reset()
    assert tracker.track_count == 0
    again = tracker.update(frames(1)[0], 0.0)  # times may restart after reset
    assert again[0].track_id > out[-1][0].track_id


def test_smoothing_half_life():
    a = frames(1)[0]
    tracker = emotion.Tracker(half_life_ms=200.0)
    fa = tracker.update(a, 0.0)[0]
    # The same frame with the mouth blurred away (the smile gone): the same place, so the same
    # track, with a step in the raw values.
    x, y, w, h = (round(v) for v in (fa.bbox.x, fa.bbox.y + 0.6 * fa.bbox.height, fa.bbox.width, 0.4 * fa.bbox.height))
    b = a.copy()
    b[y : y + h, x : x + w] = np.asarray(Image.fromarray(a[y : y + h, x : x + w]).filter(ImageFilter.GaussianBlur(6)))
    fb = tracker.update(b, 200.0)[0]
    assert fa.track_id == fb.track_id
    step = max(abs(fa.raw["probabilities"][k] - fb.raw["probabilities"][k]) for k in fa.probabilities)
    assert step > 0.01, f"the two frames give almost the same values ({step}): nothing to smooth"
    for name, p in fb.probabilities.items():
        expected = fa.raw["probabilities"][name] + 0.5 * (fb.raw["probabilities"][name] - fa.raw["probabilities"][name])
        assert abs(p - expected) < 1e-6
    assert abs(fb.valence - (fa.raw["valence"] + fb.raw["valence"]) / 2) < 1e-6


def test_errors():
    tracker = emotion.Tracker()
    f = frames(1)[0]
    tracker.update(f, 100.0)
    with pytest.raises(emotion.InvalidOptionError, match="later than the previous"):
        tracker.update(f, 100.0)
    with pytest.raises(emotion.InvalidOptionError, match="finite"):
        tracker.update(f, float("nan"))
    with pytest.raises(emotion.InvalidOptionError, match="half_life_ms"):
        emotion.Tracker(half_life_ms=-1)
    with pytest.raises(emotion.InvalidOptionError, match="detection_interval"):
        emotion.Tracker(detection_interval=0)
    with pytest.raises(emotion.InvalidOptionError, match="detection_interval"):
        emotion.Tracker(detection_interval=-3)
    with pytest.raises(ValueError, match="color"):
        tracker.update(f, 200.0, color="hsv")
    with pytest.raises(TypeError):
        emotion.Tracker(analyzer="not an analyzer")


def test_tracked_faces_draw_and_rank_like_faces():
    image = np.asarray(Image.open(SAMPLE).convert("RGB"))
    (tracked,) = emotion.Tracker(emotion.Analyzer()).update(image, 0)
    # The same values as a Face: drawn alike (box, smoothed label, valence/arousal marker).
    face = emotion.Face(tracked.bbox, tracked.probabilities, tracked.valence, tracked.arousal, tracked.detection_score,
                        tracked.landmarks)
    assert face.expression == tracked.expression
    drawn = emotion.draw(image, [tracked])
    assert drawn.shape == image.shape and not np.array_equal(drawn, image)
    np.testing.assert_array_equal(drawn, emotion.draw(image, [face]))
    np.testing.assert_array_equal(emotion.draw(image, [face, tracked]), emotion.draw(image, [face, face]))
    with pytest.raises(TypeError, match="faces\\[1\\] must be a Face or a TrackedFace, got BBox"):
        emotion.draw(image, [tracked, tracked.bbox])
    # probability_vector and top(), on the smoothed probabilities, as Face's.
    v = tracked.probability_vector
    assert v.dtype == np.float32 and v.shape == (8,)
    assert v.tolist() == [tracked.probabilities[e] for e in emotion.EXPRESSIONS]
    np.testing.assert_array_equal(v, face.probability_vector)
    assert tracked.top(3) == face.top(3) and tracked.top()[0][0] == tracked.expression
    assert len(tracked.top(8)) == 8
    with pytest.raises(ValueError, match="k must be in \\[1, 8\\], got 0"):
        tracked.top(0)


def test_calls_from_two_threads_at_once_wait_for_each_other():
    assert "use it from one thread at a time. Calls from several threads at once are safe" in " ".join(
        emotion.Tracker.__doc__.split()
    )
    analyzer, clip = emotion.Analyzer(), frames(8)
    sequential = emotion.Tracker(analyzer)
    expected = [[f.to_dict() for f in sequential.update(frame, i * 40.0)] for i, frame in enumerate(clip)]
    tracker = emotion.Tracker(analyzer)
    # One thread feeds the clip while another reads the tracker: each read waits for the update
    # in progress (it used to raise RuntimeError: Already borrowed), the tracks are unaffected.
    out, errors, done = [], [], threading.Event()

    def feed():
        try:
            out.extend([f.to_dict() for f in tracker.update(frame, i * 40.0)] for i, frame in enumerate(clip))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            done.set()

    thread = threading.Thread(target=feed)
    thread.start()
    reads = 0
    while not done.is_set():
        assert tracker.track_count in (0, 1) and repr(tracker).startswith("Tracker(tracks=")
        reads += 1
    thread.join()
    assert not errors, errors
    assert reads > 0
    assert out == expected
    # Two updates at once with the same time: one runs, then the other is refused as not later
    # than the previous frame, whichever came first.
    for _ in range(4):
        tracker.reset()
        barrier, results = threading.Barrier(2), []

        def update():
            barrier.wait()
            try:
                results.append(len(tracker.update(clip[0], 0.0)))
            except Exception as e:  # noqa: BLE001 - checked below
                results.append(e)

        threads = [threading.Thread(target=update) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert 1 in results, results
        (error,) = [r for r in results if r != 1]
        assert isinstance(error, emotion.InvalidOptionError) and "later than the previous" in str(error), error


def test_matches_the_rust_tracker_through_the_cli(tmp_path):
    if shutil.which("ffmpeg") is None:
        pytest.skip("SKIPPED: ffmpeg is not installed (needed to write the clip the CLI reads)")
    if not CLI.exists():
        pytest.fail(f"{CLI} not built: run `cargo build --release -p emotion-cli`")
    clip = frames(14, cut_at=10)
    video = tmp_path / "clip.avi"
    # Uncompressed RGB frames: the CLI decodes exactly these pixels.
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "640x480", "-r", str(FPS),
         "-i", "-", "-c:v", "rawvideo", "-pix_fmt", "bgr24", str(video)],
        input=b"".join(f.tobytes() for f in clip), check=True,
    )
    out = subprocess.run([str(CLI), "--detection-interval", "4", "--half-life-ms", "150", str(video)],
                         check=True, capture_output=True, text=True).stdout
    lines = [json.loads(l) for l in out.splitlines()]
    assert [l["frame"] for l in lines] == list(range(len(clip)))
    analyzer = emotion.Analyzer()
    tracker = emotion.Tracker(analyzer, detection_interval=4, half_life_ms=150.0)
    f32 = np.float32
    for i, (frame, line) in enumerate(zip(clip, lines)):
        assert line["time_ms"] == i * 1000 / FPS
        ours = [f.to_dict() for f in tracker.update(frame, line["time_ms"])]
        theirs = line["faces"]
        assert [f["track_id"] for f in ours] == [f["track_id"] for f in theirs], f"frame {i}"
        for a, b in zip(ours, theirs):
            assert {k: f32(v) for k, v in a["bbox"].items()} == {k: f32(v) for k, v in b["bbox"].items()}
            for key in ("valence", "arousal"):
                assert f32(a[key]) == f32(b[key]) and f32(a["raw"][key]) == f32(b["raw"][key])
            for name in emotion.EXPRESSIONS:
                assert f32(a["probabilities"][name]) == f32(b["probabilities"][name])
                assert f32(a["raw"]["probabilities"][name]) == f32(b["raw"]["probabilities"][name])
            assert a["expression"] == b["expression"]
    ids = [f["track_id"] for l in lines for f in l["faces"]]
    assert len(ids) >= 13 and ids[0] != ids[-1]
