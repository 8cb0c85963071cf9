"""One Analyzer shared by 8 Python threads gives the sequential results."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import emotion
from conftest import MULTIFACE_MIN_FACE_SIZE, load_rgb, results


def test_eight_threads_match_sequential():
    analyzer = emotion.Analyzer(min_face_size=MULTIFACE_MIN_FACE_SIZE)
    astronaut, multiface, chelsea = (load_rgb(n) for n in ("astronaut.png", "astronaut-grid.png", "chelsea.png"))
    images = [astronaut, multiface, chelsea, astronaut[::-1], multiface[:, :, ::-1], astronaut[100:400, 50:450]] * 2
    colors = ["rgb", "rgb", "rgb", "rgb", "bgr", "rgb"] * 2

    sequential = [results(analyzer.analyze(im, color=c)) for im, c in zip(images, colors)]
    assert sum(len(r) for r in sequential) > len(images)  # faces were found

    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda args: results(analyzer.analyze(args[0], color=args[1])), zip(images, colors)))
        detections = list(pool.map(lambda im: results(analyzer.detect(im)), images))

    assert parallel == sequential
    assert detections == [results(analyzer.detect(im)) for im in images]


def test_gil_released_during_analyze():
    # While another thread is inside analyze(), this thread keeps running Python code: the longest
    # pause between two iterations of the loop below stays far below the length of the call. (With
    # the GIL held, this thread would stall for the whole call.)
    analyzer = emotion.Analyzer()
    image = load_rgb("multiface.jpg")
    analyzer.analyze(image)  # warm-up
    go, call = threading.Event(), {}

    def work():
        go.wait()
        call["start"] = time.perf_counter()
        analyzer.analyze(image)
        call["end"] = time.perf_counter()

    thread = threading.Thread(target=work)
    thread.start()
    last, longest_pause = time.perf_counter(), 0.0
    go.set()  # the call starts while this loop runs
    while thread.is_alive():
        now = time.perf_counter()
        longest_pause, last = max(longest_pause, now - last), now
    thread.join()
    duration = call["end"] - call["start"]
    assert duration > 0.05
    assert longest_pause < duration / 2, (longest_pause, duration)
