"""Targets and loaders: fast, no training."""
import numpy as np

from training import config, data


def test_votes_to_targets_order_and_filter():
    # FER+ columns: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF
    votes = np.array([
        [0, 0, 4, 6, 0, 0, 0, 0, 0, 0],   # surprise 4, sadness 6
        [1, 0, 0, 0, 0, 0, 0, 0, 5, 4],   # unknown + NF majority -> dropped
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 10],  # not a face -> dropped
        [2, 2, 0, 0, 0, 0, 0, 0, 3, 3],   # 4 emotion vs 6 other -> dropped
        [3, 0, 0, 0, 1, 1, 0, 0, 5, 0],   # 5 vs 5: kept
    ])
    keep, soft = data.ferplus_votes_to_targets(votes)
    assert keep.tolist() == [True, False, False, False, True]
    i = config.LABELS.index
    assert soft[0, i("sad")] == 0.6 and soft[0, i("surprise")] == 0.4
    assert np.isclose(soft[4, i("neutral")], 0.6) and np.isclose(soft[4, i("anger")], 0.2)
    assert np.allclose(soft[keep].sum(1), 1.0)


def test_distilled_va_matches_class_means(shared):
    val, aro = data.load_va_stats()
    assert np.isclose(val[config.LABELS.index("happy")], 0.6720)
    soft = np.zeros((2, 8), np.float32)
    soft[0, 1] = 1.0
    soft[1, [2, 3]] = 0.5
    v, a = data.distilled_va(soft)
    assert np.isclose(v[0], 0.6720) and np.isclose(a[0], 0.0808)
    assert np.isclose(v[1], (-0.6281 + 0.1831) / 2) and np.isclose(a[1], (-0.2670 + 0.7005) / 2)


def test_ferplus_loader_and_class_weights(shared):
    ds = data.load_ferplus(config.FERPLUS_TRAIN, limit=300)
    assert ds.images.shape == (300, 48, 48, 1) and ds.images.dtype == np.uint8
    assert np.allclose(ds.expression.sum(1), 1.0, atol=1e-5)
    assert (np.abs(ds.valence) <= 1).all() and (np.abs(ds.arousal) <= 1).all()
    w = data.class_weights(ds.expression)
    # rare classes get more weight than the common ones
    assert w[config.LABELS.index("fear")] > w[config.LABELS.index("neutral")]
    tr, ho = data.split(ds, 0.1)
    assert len(tr) + len(ho) == 300 and 20 <= len(ho) <= 40


def test_other_layouts(tmp_path):
    from PIL import Image
    rng = np.random.default_rng(0)
    # AffectNet official layout
    (tmp_path / "an" / "images").mkdir(parents=True)
    (tmp_path / "an" / "annotations").mkdir()
    for n, (e, v, a) in enumerate([(1, 0.7, 0.1), (4, -0.2, 0.8), (9, 0, 0)]):
        Image.fromarray(rng.integers(0, 255, (30, 30, 3), np.uint8)).save(
            tmp_path / "an" / "images" / f"{n}.jpg")
        for k, x in (("exp", str(e)), ("val", str(v)), ("aro", str(a))):
            np.save(tmp_path / "an" / "annotations" / f"{n}_{k}.npy", np.array(x))
    ds = data.load(tmp_path / "an", size=32, color="rgb")
    assert ds.images.shape == (2, 32, 32, 3) and ds.label.tolist() == [1, 4]
    assert np.allclose(ds.valence, [0.7, -0.2]) and np.allclose(ds.arousal, [0.1, 0.8])
    # one folder per class
    for cls in ("happiness", "fear"):
        (tmp_path / "cf" / cls).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 255, (20, 20, 3), np.uint8)).save(
            tmp_path / "cf" / cls / "a.png")
    ds = data.load(tmp_path / "cf", size=16, color="gray")
    assert ds.images.shape == (2, 16, 16, 1)
    assert sorted(ds.label.tolist()) == [config.LABELS.index("happy"), config.LABELS.index("fear")]


def test_model_input_shapes(shared):
    from training import augment
    ds = data.load_ferplus(config.FERPLUS_TRAIN, limit=16)
    spec = config.BACKBONES["mini_xception"]
    x = augment.to_model_input(augment.augment(ds.images, augment.batch_rng(0, 0, 0), 64), spec)
    assert x.shape == (16, 64, 64, 1) and x.min() >= -1.0 - 1e-6 and x.max() <= 1.0 + 1e-6
    x = augment.to_model_input(augment.resize(ds.images[:4], 224), config.BACKBONES["nasnetmobile"])
    assert x.shape == (4, 224, 224, 3)


def test_prior_correction_search_lifts_a_suppressed_class():
    from training.calibrate import search_offsets
    rng = np.random.default_rng(0)
    label = np.repeat(np.arange(8), [300, 300, 100, 100, 50, 20, 100, 20])
    probs = np.full((len(label), 8), 0.02)
    probs[np.arange(len(label)), label] = 0.5
    probs += rng.uniform(0, 0.3, probs.shape)
    probs[label == 7, 0] += 0.6           # contempt always loses to neutral
    probs /= probs.sum(1, keepdims=True)
    b, before, after = search_offsets(probs, label, max_acc_drop=0.02)
    assert after["macro_f1"] > before["macro_f1"]
    assert after["accuracy"] >= before["accuracy"] - 0.02
    assert b[7] > b[0]


def test_pack_round_trip(tmp_path, shared):
    """A pack rebuilds the same dataset as the folder, without ../shared."""
    from training import pack
    path = pack.pack(tmp_path / "p.npz", limit=50)
    got = pack.load(path, "train")
    ref = data.load_ferplus(config.FERPLUS_TRAIN, limit=50)
    assert np.array_equal(got.images, ref.images) and got.names == ref.names
    np.testing.assert_allclose(got.expression, ref.expression)
    np.testing.assert_allclose(got.valence, ref.valence, atol=1e-6)


def test_soft_labels_replace_named_targets(tmp_path, shared):
    ds = data.load_ferplus(config.FERPLUS_TRAIN, limit=5)
    teacher = np.full((1, 8), 0.125, np.float16)
    np.savez(tmp_path / "s.npz", names=np.array([ds.names[2]]), expression=teacher,
             valence=np.array([0.5], np.float16), arousal=np.array([-0.25], np.float16))
    out = data.apply_soft_labels(ds, tmp_path / "s.npz")
    assert np.allclose(out.expression[2], 0.125) and out.valence[2] == 0.5
    assert np.array_equal(out.expression[[0, 1, 3, 4]], ds.expression[[0, 1, 3, 4]])
