"""Live emotions from a camera or a video file: faces tracked from frame to frame, each drawn
with its box, track id and smoothed expression, valence and arousal.

    pip install opencv-python numpy      # plus the emotion wheel (see the README)
    python examples/python/webcam.py               # camera 0
    python examples/python/webcam.py 1             # another camera
    python examples/python/webcam.py clip.mp4      # a file (plays as fast as it is analysed)

Press q or Esc to quit. Frame times come from the capture (CAP_PROP_POS_MSEC) for files and from
the clock for cameras.
"""

import argparse
import time

import cv2  # type: ignore[import-not-found]

import emotion


def draw(frame, faces) -> None:
    for f in faces:
        x, y, w, h = (int(round(v)) for v in f.bbox)
        cv2.rectangle(frame, (x, y), (x + w, y + h), (118, 230, 0), 2)
        label = f"#{f.track_id} {f.expression} {f.probabilities[f.expression]:.2f}"
        cv2.putText(frame, label, (x, max(15, y - 22)), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 2)
        cv2.putText(frame, f"v {f.valence:+.2f}  a {f.arousal:+.2f}", (x, max(30, y - 6)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", default="0", help="camera index (default 0) or video file")
    parser.add_argument("--half-life-ms", type=float, default=300.0, help="smoothing half-life (0 = off)")
    parser.add_argument("--detection-interval", type=int, default=10, help="whole-frame detection every N frames")
    args = parser.parse_args()

    is_camera = args.source.isdigit()
    capture = cv2.VideoCapture(int(args.source) if is_camera else args.source)
    if not capture.isOpened():
        print(f"cannot open {args.source!r}")
        return 1
    tracker = emotion.Tracker(detection_interval=args.detection_interval, half_life_ms=args.half_life_ms)
    start, last_ms = time.monotonic(), -1.0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        t_ms = (time.monotonic() - start) * 1000 if is_camera else capture.get(cv2.CAP_PROP_POS_MSEC)
        t_ms = max(t_ms, last_ms + 1e-3)  # the tracker needs increasing times
        last_ms = t_ms
        t0 = time.perf_counter()
        faces = tracker.update(frame, t_ms, color="bgr")  # OpenCV frames are BGR
        ms = (time.perf_counter() - t0) * 1000
        draw(frame, faces)
        cv2.putText(frame, f"{ms:.0f} ms", (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 255, 255), 2)
        cv2.imshow("emotion", frame)
        if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
            break
    capture.release()
    cv2.destroyAllWindows()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
