"""Backbones by name and the original multi-task head.

build_model(backbone) -> keras.Model with one NHWC input [N, S, S, C] (already normalised) and
outputs {"valence": [N,1] linear, "arousal": [N,1] linear, "expression": [N,8] softmax}.
Export (export.py) puts the NCHW -> NHWC transpose in front.
"""
from __future__ import annotations

import h5py
import keras
from keras import layers, regularizers

from . import config


# ---------------------------------------------------------------------------------------------
# Backbones: input tensor -> pooled feature vector
# ---------------------------------------------------------------------------------------------

def mini_xception_features(x):
    """mini_XCEPTION (Arriaga et al. 2017, `face_classification`, MIT) without its 7-class conv
    and softmax: 2 plain 3x3 convs (8 ch) then 4 residual blocks of separable convs (16, 32, 64,
    128 ch), each halving the resolution; 64x64 -> 4x4x128 -> global average pool -> [N, 128].
    Layer names match the Keras 2 HDF5 file so the FER2013 weights load by name."""
    x = layers.Conv2D(8, 3, use_bias=False, name="conv2d_1")(x)
    x = layers.BatchNormalization(name="batch_normalization_1")(x)
    x = layers.Activation("relu", name="activation_1")(x)
    x = layers.Conv2D(8, 3, use_bias=False, name="conv2d_2")(x)
    x = layers.BatchNormalization(name="batch_normalization_2")(x)
    x = layers.Activation("relu", name="activation_2")(x)
    # (filters, shortcut conv, shortcut BN, sep1, BN1, sep2, BN2, act) names in the HDF5 file.
    blocks = [(16, 3, 3, 1, 4, 2, 5, 3), (32, 4, 6, 3, 7, 4, 8, 4),
              (64, 5, 9, 5, 10, 6, 11, 5), (128, 6, 12, 7, 13, 8, 14, 6)]
    for i, (f, sc, scbn, s1, bn1, s2, bn2, act) in enumerate(blocks, start=1):
        r = layers.Conv2D(f, 1, strides=2, padding="same", use_bias=False, name=f"conv2d_{sc}")(x)
        r = layers.BatchNormalization(name=f"batch_normalization_{scbn}")(r)
        x = layers.SeparableConv2D(f, 3, padding="same", use_bias=False,
                                   name=f"separable_conv2d_{s1}")(x)
        x = layers.BatchNormalization(name=f"batch_normalization_{bn1}")(x)
        x = layers.Activation("relu", name=f"activation_{act}")(x)
        x = layers.SeparableConv2D(f, 3, padding="same", use_bias=False,
                                   name=f"separable_conv2d_{s2}")(x)
        x = layers.BatchNormalization(name=f"batch_normalization_{bn2}")(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"max_pooling2d_{i}")(x)
        x = layers.Add(name=f"add_{i}")([x, r])
    return layers.GlobalAveragePooling2D(name="backbone_pool")(x)


def load_mini_xception_weights(model, path=config.MINI_XCEPTION_H5):
    """Copy FER2013 weights from the Keras 2 HDF5 file into layers of the same name.
    Returns the list of layer names loaded (shapes are checked by set_weights)."""
    loaded = []
    with h5py.File(path, "r") as f:
        g = f["model_weights"]
        for name in g:
            names = [n.decode() if isinstance(n, bytes) else n for n in g[name].attrs["weight_names"]]
            if not names:
                continue
            try:
                layer = model.get_layer(name)
            except ValueError:
                continue    # conv2d_7 / predictions: the 7-class FER2013 head is not used
            layer.set_weights([g[name][n][()] for n in names])
            loaded.append(name)
    return loaded


def nasnetmobile_features(x):
    """keras.applications.NASNetMobile at 224x224x3, weights=None (ImageNet weights cannot be
    downloaded here), average pooled -> [N, 1056]."""
    base = keras.applications.NASNetMobile(input_shape=tuple(x.shape[1:]), include_top=False,
                                           weights=None, pooling="avg")
    base.name = "backbone"
    return base(x)


# ---------------------------------------------------------------------------------------------
# The original multi-task head
# ---------------------------------------------------------------------------------------------

def _dense_block(x, units, name, l2):
    x = layers.Dense(units, kernel_regularizer=regularizers.l2(l2), name=f"{name}_dense")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    return layers.Dropout(0.5, name=f"{name}_drop")(x)


def multitask_head(features, l2=config.L2_DENSE):
    """dense0 = Dense(256)+BN+ReLU+Dropout(0.5); dense1, dense2 = Dense(128)+BN+ReLU+Dropout(0.5)
    each from dense0; valence = Dense(1) on dense1; arousal = Dense(1) on dense2;
    expression = softmax(Dense(8)(BN(dense0 + BN(concat(dense1, dense2))))); L2 on all Dense."""
    reg = regularizers.l2(l2)
    d0 = _dense_block(features, 256, "dense0", l2)
    d1 = _dense_block(d0, 128, "dense1", l2)
    d2 = _dense_block(d0, 128, "dense2", l2)
    valence = layers.Dense(1, kernel_regularizer=reg, name="valence")(d1)
    arousal = layers.Dense(1, kernel_regularizer=reg, name="arousal")(d2)
    cat = layers.BatchNormalization(name="va_bn")(layers.Concatenate(name="va_concat")([d1, d2]))
    mix = layers.BatchNormalization(name="mix_bn")(layers.Add(name="mix_add")([d0, cat]))
    logits = layers.Dense(config.NUM_CLASSES, kernel_regularizer=reg, name="expression_logits")(mix)
    expression = layers.Softmax(name="expression")(logits)
    return {"valence": valence, "arousal": arousal, "expression": expression}


def build_model(backbone=config.DEFAULT_BACKBONE, pretrained=True):
    """-> (model, backbone_layer_names). pretrained loads the FER2013 mini_XCEPTION weights
    (mini_xception only). backbone_layer_names are the layers frozen in the first phase."""
    spec = config.BACKBONES[backbone]
    inp = keras.Input((spec.size, spec.size, spec.channels), name="image")
    if backbone == "mini_xception":
        feats = mini_xception_features(inp)
    elif backbone == "nasnetmobile":
        feats = nasnetmobile_features(inp)
    else:
        raise ValueError(f"unknown backbone {backbone!r}; known: {sorted(config.BACKBONES)}")
    model = keras.Model(inp, multitask_head(feats), name=f"emotion_{backbone}")
    head_prefixes = ("dense0", "dense1", "dense2", "valence", "arousal", "va_", "mix_",
                     "expression", "image")
    backbone_layers = [l.name for l in model.layers if not l.name.startswith(head_prefixes)]
    if pretrained and backbone == "mini_xception":
        load_mini_xception_weights(model)
    return model, backbone_layers
