//! Inference off the async threads: the analysis settings (server defaults, per-request
//! changes), admission control (at most `max_concurrency` requests in flight, the rest refused
//! at once with 503) and a bounded pool of blocking workers (at most `workers` analyses run at a
//! time, the admitted rest wait their turn).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use emotion_core::{
    Analyzer, BBox, DetectorKind, DetectorOptions, Face, FaceDetector, ImageView, LoadOptions, ModelOverrides, SeetaDetector, TrackedFace, Tracker, YuNetDetector,
    TrackerOptions,
};
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;
use crate::report::{ImageMeta, Timings};

/// The analysis settings a request may change (the server's flags give the defaults). Names,
/// ranges and the "0 = not set" rule are the library's, as in every front door.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Settings {
    /// Detector settings: smallest and largest face, score threshold, pyramid, window step.
    pub detector: DetectorOptions,
    /// Report at most this many faces, the largest (0 = all).
    pub max_faces: usize,
    /// Average each face's prediction with its mirror image's (two model runs per face).
    pub flip_average: bool,
    /// Turn crops so the eyes are level (faces with landmarks).
    pub align: bool,
}

/// What the server is started with (the binary's command-line options).
#[derive(Debug, Clone)]
pub struct Config {
    /// ONNX emotion model (`None`: the bundled one).
    pub model: Option<PathBuf>,
    /// Preprocessing overrides for models without metadata.
    pub overrides: ModelOverrides,
    /// Default analysis settings; each request may change them.
    pub settings: Settings,
    /// Threads one analysis runs the model on, [0, 256]; 0 = 1 when several workers run (they
    /// already use the cores), else all cores.
    pub threads: usize,
    /// Largest request body (and WebSocket message), bytes.
    pub max_body: usize,
    /// Most analyses admitted at once (running or waiting for a worker); more get 503.
    pub max_concurrency: usize,
    /// Blocking threads running analyses; default: the available cores.
    pub workers: usize,
    /// Longest time a request may take, reading its body included.
    pub timeout: std::time::Duration,
    /// Longest time reading one request body may take (then 408 `body_timeout`). The body is read
    /// before the request takes a place among the `max_concurrency` admitted ones, so a client
    /// that stalls its upload holds no place, only its connection, and that for this long.
    pub body_timeout: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Config {
            model: None,
            overrides: ModelOverrides::default(),
            settings: Settings::default(),
            threads: 0,
            max_body: 16 << 20,
            max_concurrency: 4 * workers,
            workers,
            timeout: std::time::Duration::from_secs(30),
            body_timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// Per-request options: the query parameters of `POST /v1/analyze` and `GET /v1/stream`. Each
/// unset one keeps the server's default. Names and ranges as the library's options (and the
/// CLI's flags): `min_face_size` [10, 10000] px, `max_face_size` (0 = no limit, else >=
/// `min_face_size`), `max_faces` (0 = all), `score_threshold` (0 = the detector's default),
/// `pyramid_scale_factor`
/// [0.01, 0.99], `window_step` [1, 64] px, `flip_average`, `detector` (`yunet` or `seeta`),
/// `align`; plus `whole_image` (classify the whole
/// image as one face, no detection) and `allow_partial` (analyse what decodes of a truncated
/// image and mark the answer `"partial": true`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeOptions {
    pub min_face_size: Option<u32>,
    pub max_face_size: Option<u32>,
    pub max_faces: Option<usize>,
    pub score_threshold: Option<f32>,
    pub pyramid_scale_factor: Option<f32>,
    pub window_step: Option<u32>,
    pub flip_average: Option<bool>,
    #[serde(default, deserialize_with = "detector_kind")]
    pub detector: Option<DetectorKind>,
    pub align: Option<bool>,
    #[serde(default)]
    pub whole_image: bool,
    #[serde(default)]
    pub allow_partial: bool,
}

/// `detector=yunet|seeta`, with the library's error (naming `detector`) for anything else.
fn detector_kind<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DetectorKind>, D::Error> {
    let name = <String as Deserialize>::deserialize(d)?;
    name.parse().map(Some).map_err(serde::de::Error::custom)
}

impl AnalyzeOptions {
    /// `defaults` with this request's changes (not yet range-checked: the library does that).
    pub fn apply(&self, defaults: &Settings) -> Settings {
        let mut s = *defaults;
        let d = &mut s.detector;
        d.min_face_size = self.min_face_size.unwrap_or(d.min_face_size);
        if let Some(m) = self.max_face_size {
            d.max_face_size = (m != 0).then_some(m);
        }
        d.score_threshold = self.score_threshold.unwrap_or(d.score_threshold);
        d.pyramid_scale_factor = self.pyramid_scale_factor.unwrap_or(d.pyramid_scale_factor);
        d.window_step = self.window_step.unwrap_or(d.window_step);
        d.detector = self.detector.unwrap_or(d.detector);
        s.max_faces = self.max_faces.unwrap_or(s.max_faces);
        s.flip_average = self.flip_average.unwrap_or(s.flip_average);
        s.align = self.align.unwrap_or(s.align);
        s
    }
}

/// One analysed image: its faces are `Face`s (stills) or `TrackedFace`s (the stream).
pub struct Analysis<F = Face> {
    pub image: ImageMeta,
    pub faces: Vec<F>,
    pub timings: Timings,
}

/// A place among the `max_concurrency` admitted requests; released when dropped.
pub struct Admission(#[allow(dead_code)] OwnedSemaphorePermit);

/// The analyzer for the default settings, the detector it was built from and the two limits.
/// Shared by all connections in an `Arc`.
pub struct Engine {
    analyzer: Analyzer,
    settings: Settings,
    seeta: SeetaDetector,
    yunet: YuNetDetector,
    admission: Arc<Semaphore>,
    max_concurrency: usize,
    workers: Arc<Semaphore>,
}

impl Engine {
    /// Loads the detector and model and checks every setting.
    ///
    /// # Errors
    /// The library's model and option errors ([`emotion_core::Error::InvalidOption`] names the
    /// option); `InvalidOption` too when `max_concurrency` or `workers` is 0.
    pub fn new(config: &Config) -> emotion_core::Result<Self> {
        for (name, value) in [("max_concurrency", config.max_concurrency), ("workers", config.workers)] {
            if value == 0 {
                return Err(emotion_core::Error::InvalidOption { name, value: "0".into(), expected: "must be >= 1" });
            }
        }
        // The default of 0 threads: one per analysis when the pool runs several side by side,
        // since more threads inside each would only oversubscribe the cores.
        let threads = if config.threads == 0 && config.workers > 1 { 1 } else { config.threads };
        let s = &config.settings;
        s.detector.validate()?;
        let other = |kind| s.detector.with_detector(kind).with_score_threshold(0.0);
        let seeta = SeetaDetector::bundled(other(DetectorKind::Seeta))?;
        let yunet = YuNetDetector::new(other(DetectorKind::Yunet))?;
        let detector: Box<dyn FaceDetector> = match s.detector.detector {
            DetectorKind::Seeta => Box::new(seeta.with_options(s.detector)?),
            _ => Box::new(yunet.with_options(s.detector)?),
        };
        let mut builder = Analyzer::builder()
            .detector(detector)
            .max_faces(s.max_faces)
            .flip_average(s.flip_average)
            .align(s.align)
            .threads(threads)
            .model_overrides(config.overrides.clone());
        if let Some(m) = &config.model {
            builder = builder.model_path(m);
        }
        Ok(Engine {
            analyzer: builder.build()?,
            settings: *s,
            seeta,
            yunet,
            admission: Arc::new(Semaphore::new(config.max_concurrency)),
            max_concurrency: config.max_concurrency,
            workers: Arc::new(Semaphore::new(config.workers)),
        })
    }

    /// The analyzer of the default settings (model information for `/v1/info`).
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// The default settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// 503 `overloaded` when every place among the admitted requests is taken (without taking
    /// one: a quick refusal before reading a body that could not be analysed anyway).
    pub fn check_room(&self) -> Result<(), ApiError> {
        if self.admission.available_permits() == 0 {
            return Err(ApiError::overloaded(self.max_concurrency));
        }
        Ok(())
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

    /// Checks a request's options without analysing anything (so a WebSocket connection with
    /// bad options is refused before the upgrade). Cheap: no model is loaded.
    ///
    /// # Errors
    /// [`emotion_core::Error::InvalidOption`] naming the first option out of range.
    pub fn check(&self, options: &AnalyzeOptions) -> emotion_core::Result<()> {
        self.analyzer_for(&options.apply(&self.settings)).map(drop)
    }

    /// The analyzer for `settings`: the default one, or one sharing its model and cascade
    /// (building it costs microseconds; the library checks the ranges).
    fn analyzer_for(&self, settings: &Settings) -> emotion_core::Result<Option<Analyzer>> {
        if *settings == self.settings {
            return Ok(None);
        }
        self.build_analyzer(settings).map(Some)
    }

    /// A new analyzer for `settings`, sharing the loaded model and cascade.
    fn build_analyzer(&self, settings: &Settings) -> emotion_core::Result<Analyzer> {
        Analyzer::builder()
            .model(self.analyzer.model().clone())
            .detector(self.detector_for(&settings.detector)?)
            .max_faces(settings.max_faces)
            .flip_average(settings.flip_average)
            .align(settings.align)
            .threads(self.analyzer.threads())
            .build()
    }

    /// The detector `options` name, sharing the loaded cascade or network.
    fn detector_for(&self, options: &DetectorOptions) -> emotion_core::Result<Box<dyn FaceDetector>> {
        Ok(match options.detector {
            DetectorKind::Seeta => Box::new(self.seeta.with_options(*options)?),
            _ => Box::new(self.yunet.with_options(*options)?),
        })
    }

    /// A tracker for one WebSocket connection: the request's settings, the library's default
    /// tracker settings (`emotion_core::TrackerOptions`).
    ///
    /// # Errors
    /// [`emotion_core::Error::InvalidOption`] naming the first option out of range.
    pub fn tracker(&self, options: &AnalyzeOptions) -> emotion_core::Result<Tracker> {
        let analyzer = self.build_analyzer(&options.apply(&self.settings))?;
        Tracker::new(Arc::new(analyzer), TrackerOptions::default())
    }

    /// Decodes one encoded frame and feeds it to `tracker` at `time_ms` (blocking; call through
    /// [`Engine::run`]).
    ///
    /// # Errors
    /// The library's decode, size and tracker errors.
    pub fn track_bytes(
        &self,
        tracker: &mut Tracker,
        bytes: &[u8],
        options: &AnalyzeOptions,
        time_ms: f64,
    ) -> emotion_core::Result<Analysis<TrackedFace>> {
        let t0 = Instant::now();
        let (loaded, image) = decode(bytes, options)?;
        let t1 = Instant::now();
        let faces = tracker.update(&ImageView::try_from(&loaded.image)?, time_ms)?;
        let t2 = Instant::now();
        let timings =
            Timings { decode_ms: ms(t0, t1), detect_ms: None, classify_ms: None, track_ms: Some(ms(t1, t2)), total_ms: ms(t0, t2) };
        Ok(Analysis { image, faces, timings })
    }

    /// Decodes and analyses one encoded image (blocking; call through [`Engine::run`]).
    ///
    /// # Errors
    /// The library's decode, size and option errors.
    pub fn analyze_bytes(&self, bytes: &[u8], options: &AnalyzeOptions) -> emotion_core::Result<Analysis> {
        let own = self.analyzer_for(&options.apply(&self.settings))?;
        let analyzer = own.as_ref().unwrap_or(&self.analyzer);
        let t0 = Instant::now();
        let (loaded, image) = decode(bytes, options)?;
        let img = &loaded.image;
        let view = ImageView::try_from(img)?;
        let t1 = Instant::now();
        let (faces, t2) = if options.whole_image {
            let whole = BBox::new(0.0, 0.0, img.width() as f32, img.height() as f32);
            (analyzer.classify(&view, &[whole])?, t1)
        } else {
            let detections = analyzer.detect(&view)?;
            let t2 = Instant::now();
            (analyzer.classify_detections(&view, &detections)?, t2)
        };
        let t3 = Instant::now();
        let timings = Timings {
            decode_ms: ms(t0, t1),
            detect_ms: Some(ms(t1, t2)),
            classify_ms: Some(ms(t2, t3)),
            track_ms: None,
            total_ms: ms(t0, t3),
        };
        Ok(Analysis { image, faces, timings })
    }
}

/// Decodes one encoded image as the request's `allow_partial` says; the image and what the
/// answer says about it.
fn decode(bytes: &[u8], options: &AnalyzeOptions) -> emotion_core::Result<(emotion_core::LoadedImage, ImageMeta)> {
    let loaded = emotion_core::decode_image(bytes, &LoadOptions::default().allow_partial(options.allow_partial))?;
    let meta = ImageMeta { width: loaded.image.width(), height: loaded.image.height(), partial: loaded.partial, more_frames: loaded.more_frames };
    Ok((loaded, meta))
}

/// Milliseconds from `a` to `b`.
fn ms(a: Instant, b: Instant) -> f64 {
    (b - a).as_secs_f64() * 1e3
}
