//! Inference off the async threads: admission control (at most `max_concurrency` requests in
//! flight, the rest refused at once with 503) and a bounded pool of blocking workers (at most
//! `workers` analyses run at a time, the admitted rest wait their turn).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use emotion_core::{Analyzer, BBox, Detection, DetectorOptions, Face, ImageView, SeetaDetector};
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;
use crate::report::Timings;

/// What the server is started with (the binary's command-line options).
#[derive(Debug, Clone)]
pub struct Config {
    /// ONNX emotion model (`None`: the bundled one).
    pub model: Option<PathBuf>,
    /// Default detector settings; a request may change `min_face_size`.
    pub detector: DetectorOptions,
    /// Largest request body (and WebSocket message), bytes.
    pub max_body: usize,
    /// Most analyses admitted at once (running or waiting for a worker); more get 503.
    pub max_concurrency: usize,
    /// Blocking threads running analyses; default: the available cores.
    pub workers: usize,
    /// Longest time a request may take, reading its body included.
    pub timeout: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Config {
            model: None,
            detector: DetectorOptions::default(),
            max_body: 16 << 20,
            max_concurrency: 4 * workers,
            workers,
            timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// Per-request options (query parameters of `POST /v1/analyze` and `GET /v1/stream`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeOptions {
    /// Smallest face side to find, pixels [10, 10000] (default: the server's `--min-face-size`).
    pub min_face_size: Option<u32>,
    /// Keep at most this many faces, the largest (ties: higher detection score first); 0 = all,
    /// as everywhere in the library.
    pub max_faces: Option<usize>,
    /// Classify the whole image as one face, without detection (for tight face crops).
    #[serde(default)]
    pub whole_image: bool,
}

/// One analysed image.
pub struct Analysis {
    pub width: u32,
    pub height: u32,
    pub faces: Vec<Face>,
    pub timings: Timings,
}

/// A place among the `max_concurrency` admitted requests; released when dropped.
pub struct Admission(#[allow(dead_code)] OwnedSemaphorePermit);

/// The analyzer, its detector and the two limits. Shared by all connections in an `Arc`.
pub struct Engine {
    analyzer: Arc<Analyzer>,
    detector: SeetaDetector,
    admission: Arc<Semaphore>,
    max_concurrency: usize,
    workers: Arc<Semaphore>,
}

impl Engine {
    /// Loads the detector and model.
    ///
    /// # Errors
    /// The library's model and option errors; [`emotion_core::Error::InvalidOption`] when
    /// `max_concurrency` or `workers` is 0.
    pub fn new(config: &Config) -> emotion_core::Result<Self> {
        for (name, value) in [("max_concurrency", config.max_concurrency), ("workers", config.workers)] {
            if value == 0 {
                return Err(emotion_core::Error::InvalidOption { name, value: "0".into(), expected: "must be >= 1" });
            }
        }
        let detector = SeetaDetector::bundled(config.detector)?;
        // One thread per analysis: the pool runs `workers` analyses side by side, so more
        // threads inside each would only oversubscribe the cores.
        let mut builder = Analyzer::builder().detector(Box::new(detector.clone())).threads(1);
        if let Some(m) = &config.model {
            builder = builder.model_path(m);
        }
        Ok(Engine {
            analyzer: Arc::new(builder.build()?),
            detector,
            admission: Arc::new(Semaphore::new(config.max_concurrency)),
            max_concurrency: config.max_concurrency,
            workers: Arc::new(Semaphore::new(config.workers)),
        })
    }

    /// The analyzer (model information for `/v1/info`).
    pub fn analyzer(&self) -> &Arc<Analyzer> {
        &self.analyzer
    }

    /// The default detector settings.
    pub fn detector_options(&self) -> &DetectorOptions {
        self.detector.options()
    }

    /// Takes a place among the admitted requests, or answers 503 `overloaded` at once: the
    /// server never queues more than `max_concurrency` analyses.
    pub fn try_admit(&self) -> Result<Admission, ApiError> {
        self.admission
            .clone()
            .try_acquire_owned()
            .map(Admission)
            .map_err(|_| ApiError::overloaded(self.max_concurrency))
    }

    /// Runs `work` on a blocking thread once a worker is free. Both the admission and the worker
    /// stay taken until `work` returns, even if the caller stops waiting (timeout, closed
    /// connection), so the limits count the work really running.
    pub async fn run<T, F>(self: &Arc<Self>, admission: Admission, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Engine) -> T + Send + 'static,
    {
        let worker = self.workers.clone().acquire_owned().await.map_err(|_| ApiError::internal("worker pool closed"))?;
        let engine = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _held = (admission, worker);
            work(&engine)
        })
        .await
        .map_err(|e| ApiError::internal(format!("analysis failed: {e}")))
    }

    /// Decodes and analyses one encoded image (blocking; call through [`Engine::run`]).
    ///
    /// # Errors
    /// The library's decode, size and option errors.
    pub fn analyze_bytes(&self, bytes: &[u8], options: &AnalyzeOptions) -> emotion_core::Result<Analysis> {
        let t0 = Instant::now();
        let img = emotion_core::decode_rgb(bytes)?;
        let view = ImageView::try_from(&img)?;
        let t1 = Instant::now();
        let (faces, t2) = if options.whole_image {
            let t2 = Instant::now();
            let whole = BBox::new(0.0, 0.0, img.width() as f32, img.height() as f32);
            (self.analyzer.classify(&view, &[whole])?, t2)
        } else {
            let detections = self.detect(&view, options)?;
            let t2 = Instant::now();
            (self.analyzer.classify_detections(&view, &detections)?, t2)
        };
        let t3 = Instant::now();
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        let timings = Timings { decode_ms: ms(t0, t1), detect_ms: ms(t1, t2), classify_ms: ms(t2, t3), total_ms: ms(t0, t3) };
        Ok(Analysis { width: img.width(), height: img.height(), faces, timings })
    }

    /// Detection with the request's options, best score first.
    fn detect(&self, view: &ImageView<'_>, options: &AnalyzeOptions) -> emotion_core::Result<Vec<Detection>> {
        let mut detections = match options.min_face_size {
            Some(min) if min != self.detector.options().min_face_size => {
                let opts = self.detector.options().with_min_face_size(min);
                emotion_core::FaceDetector::detect(&self.detector.with_options(opts)?, view)?
            }
            _ => self.analyzer.detect(view)?,
        };
        if let Some(n) = options.max_faces.filter(|&n| n > 0) {
            keep_largest(&mut detections, n);
        }
        Ok(detections)
    }
}

/// Keeps the `n` largest detections (ties: higher score), in their original order.
fn keep_largest(detections: &mut Vec<Detection>, n: usize) {
    if detections.len() <= n {
        return;
    }
    let mut order: Vec<usize> = (0..detections.len()).collect();
    let area = |d: &Detection| d.bbox.width * d.bbox.height;
    order.sort_by(|&a, &b| {
        let (a, b) = (&detections[a], &detections[b]);
        area(b).total_cmp(&area(a)).then(b.score.total_cmp(&a.score))
    });
    let mut keep = vec![false; detections.len()];
    for &i in &order[..n] {
        keep[i] = true;
    }
    let mut flags = keep.into_iter();
    detections.retain(|_| flags.next().unwrap_or(false));
}
