//! Bad model files give a typed error that names the problem; good ones load with their
//! declared preprocessing.

mod common;

use emotion_core::{EmotionModel, Error, InputColor, ModelOverrides};

fn load(name: &str) -> emotion_core::Result<EmotionModel> {
    EmotionModel::from_bytes(&common::fixture(name), &ModelOverrides::default())
}

fn contract_error(name: &str) -> String {
    match load(name) {
        Err(Error::ModelContract(msg)) => msg,
        other => panic!("{name}: expected ModelContract, got {other:?}"),
    }
}

#[test]
fn empty_truncated_and_random_bytes() {
    let none = EmotionModel::from_bytes(&[], &ModelOverrides::default());
    assert!(matches!(&none, Err(Error::ModelLoad(m)) if m.contains("empty")), "{none:?}");

    let good = common::fixture("tiny_ok.onnx");
    for cut in [1, 10, good.len() / 2, good.len() - 1] {
        let r = EmotionModel::from_bytes(&good[..cut], &ModelOverrides::default());
        assert!(matches!(r, Err(Error::ModelLoad(_) | Error::ModelContract(_))), "cut at {cut}: {r:?}");
    }
    // Deterministic pseudo-random bytes (xorshift), several seeds.
    for seed in 1..=8u64 {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let bytes: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let r = EmotionModel::from_bytes(&bytes, &ModelOverrides::default());
        assert!(matches!(r, Err(Error::ModelLoad(_) | Error::ModelContract(_))), "seed {seed}: {r:?}");
    }
    let missing = EmotionModel::from_path("/nonexistent/model.onnx", &ModelOverrides::default());
    assert!(matches!(missing, Err(Error::Io { .. })), "{missing:?}");
}

#[test]
fn contract_violations_name_the_problem() {
    assert!(contract_error("wrong_output_names.onnx").contains("missing output(s) [\"valence\", \"arousal\", \"expression\"]"));
    assert!(contract_error("seven_classes.onnx").contains("output `expression` must have shape [N, 8]"));
    assert!(contract_error("logits.onnx").contains("must be probabilities summing to 1"));
    assert!(contract_error("nhwc.onnx").contains("C = 1 or 3"));
    assert!(contract_error("two_inputs.onnx").contains("exactly 1 input"));
}

#[test]
fn bad_metadata_names_the_key() {
    match load("bad_metadata.onnx") {
        Err(Error::ModelMetadata { key, value, .. }) => assert_eq!((key.as_str(), value.as_str()), ("emotion.mean", "zero")),
        other => panic!("expected ModelMetadata, got {other:?}"),
    }
    match load("wrong_labels.onnx") {
        Err(Error::ModelMetadata { key, .. }) => assert_eq!(key, "emotion.labels"),
        other => panic!("expected ModelMetadata, got {other:?}"),
    }
}

#[test]
fn metadata_is_read_and_overrides_win() {
    let m = load("tiny_ok.onnx").unwrap();
    let p = m.preprocessing();
    assert_eq!((p.color, p.height, p.width), (InputColor::Gray, 16, 16));
    assert_eq!((p.mean.as_slice(), p.std.as_slice(), p.crop_scale), (&[0.5f32][..], &[0.5f32][..], 1.2));
    assert_eq!(m.info().version, "fixture");

    // Without metadata: size and colour come from the input shape, neutral normalization.
    let bare = load("no_metadata.onnx").unwrap();
    let p = bare.preprocessing();
    assert_eq!((p.color, p.height, p.width, p.crop_scale), (InputColor::Gray, 16, 16, 1.0));
    assert_eq!((p.mean.as_slice(), p.std.as_slice()), (&[0.0f32][..], &[1.0f32][..]));

    let o = ModelOverrides::default().with_crop_scale(1.6).with_mean([0.1]);
    let m = EmotionModel::from_bytes(&common::fixture("no_metadata.onnx"), &o).unwrap();
    assert_eq!((m.preprocessing().crop_scale, m.preprocessing().mean[0]), (1.6, 0.1));

    // Overrides that contradict the model are the caller's option errors, named as the option.
    let bare = common::fixture("no_metadata.onnx");
    let option_error = |o: ModelOverrides| match EmotionModel::from_bytes(&bare, &o) {
        Err(Error::InvalidOption { name, value, .. }) => (name, value),
        other => panic!("{o:?}: expected InvalidOption, got {other:?}"),
    };
    assert_eq!(option_error(ModelOverrides::default().with_mean([0.1, 0.2, 0.3])), ("mean", "[0.1, 0.2, 0.3]".into()));
    assert_eq!(option_error(ModelOverrides::default().with_std([0.5, 0.5, 0.5])), ("std", "[0.5, 0.5, 0.5]".into()));
    assert_eq!(option_error(ModelOverrides::default().with_color(InputColor::Rgb)), ("input_color", "rgb".into()));
    // The input shape fixes 16x16: another size cannot be fed to it.
    assert_eq!(option_error(ModelOverrides::default().with_size(32, 32)), ("input_size", "32x32".into()));
    let same = ModelOverrides::default().with_size(16, 16);
    assert_eq!(EmotionModel::from_bytes(&bare, &same).unwrap().preprocessing().height, 16);
    // 0 = not set (batch 1), as every count in every front door; over 64 is an option error.
    let zero = ModelOverrides::default().with_batch_size(0);
    assert_eq!(EmotionModel::from_bytes(&common::fixture("tiny_ok.onnx"), &zero).unwrap().batch_size(), 1);
    let batch = ModelOverrides::default().with_batch_size(65);
    let r = EmotionModel::from_bytes(&common::fixture("tiny_ok.onnx"), &batch);
    assert!(matches!(r, Err(Error::InvalidOption { name: "batch_size", .. })), "{r:?}");
}

#[test]
fn bundled_model_meets_the_contract() {
    let a = emotion_core::Analyzer::new().unwrap();
    let p = a.model().preprocessing();
    assert!(p.crop_scale > 0.5 && p.crop_scale < 3.0, "{p:?}");
    assert!(!a.model().info().version.is_empty());
}
