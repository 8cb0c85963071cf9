"""Backbones by name and the original multi-task head.

build_model(backbone) -> keras.Model with one NHWC input [N, S, S, C] (already normalised) and
outputs {"valence": [N,1] linear, "arousal": [N,1] linear, "expression": [N,8] softmax}.
Export (export.py) puts the NCHW -> NHWC transpose in front.
"""
from __future__ import annotations

import functools

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
    Always trained from scratch (the published FER2013 weights were selected on FER+ valid/test
    images). Layer names follow the original Keras 2 file."""
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


def _conv_bn_relu(x, filters, name, strides=1, relu=True):
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False,
                      kernel_initializer="he_normal", name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x) if relu else x


def _basic_block(x, filters, name, strides=1):
    """He et al. 2016 basic block: two 3x3 convs, identity (or strided 1x1 conv) shortcut."""
    r = x
    if strides != 1 or x.shape[-1] != filters:
        r = layers.Conv2D(filters, 1, strides=strides, use_bias=False, name=f"{name}_proj")(x)
        r = layers.BatchNormalization(name=f"{name}_proj_bn")(r)
    x = _conv_bn_relu(x, filters, f"{name}_a", strides)
    x = _conv_bn_relu(x, filters, f"{name}_b", relu=False)
    x = layers.Add(name=f"{name}_add")([x, r])
    return layers.Activation("relu", name=f"{name}_out")(x)


def resnet_features(x, widths=(32, 64, 128), blocks=(1, 2, 2), down_conv=True):
    """Plain 3x3-convolution ResNet for 48x48 gray faces (basic blocks, He et al. 2016): a stem
    conv at 48x48, a strided conv to 24x24 (or, with down_conv=False, a strided stem straight to
    24x24), then stages of `blocks` basic blocks at 24, 12 and 6 px with `widths` channels ->
    global average pool -> [N, widths[-1]]. The defaults ("resnet"): about 0.6 M backbone
    parameters and 45 M multiply-adds per face; no depthwise convolutions (tract runs plain
    3x3 convolutions well)."""
    x = _conv_bn_relu(x, widths[0], "stem", strides=1 if down_conv else 2)
    if down_conv:
        x = _conv_bn_relu(x, widths[0], "down", strides=2)
    for i, (w, n) in enumerate(zip(widths, blocks)):
        for j in range(n):
            x = _basic_block(x, w, f"s{i}b{j}", strides=2 if i > 0 and j == 0 else 1)
    return layers.GlobalAveragePooling2D(name="backbone_pool")(x)


# The ResNet family's members (see config.BACKBONES): name -> resnet_features arguments.
RESNETS = {
    "resnet": {},
    "resnet_lite": {"blocks": (1, 1, 2), "down_conv": False},
    "resnet_wide": {"widths": (64, 128, 256), "blocks": (2, 2, 2)},
}


def vgg_features(x, widths=(32, 64, 128, 256)):
    """VGG-style plain network for 48x48 gray faces (after Barsoum et al. 2016's VGG-13 for FER+,
    narrower): per stage two 3x3 conv+BN+ReLU then 2x2 max-pool, 48 -> 24 -> 12 -> 6 -> 3, with
    32, 64, 128, 256 channels -> global average pool -> [N, 256]. About 1.2 M parameters."""
    for i, w in enumerate(widths):
        x = _conv_bn_relu(x, w, f"v{i}a")
        x = _conv_bn_relu(x, w, f"v{i}b")
        x = layers.MaxPooling2D(2, name=f"v{i}_pool")(x)
    return layers.GlobalAveragePooling2D(name="backbone_pool")(x)



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
    return layers.Activation("relu", name=f"{name}_relu")(x)


def multitask_head(features, l2=config.L2_DENSE, dropout=0.1):
    """The original multi-task head: dense0 = Dense(256)+BN+ReLU; dense1, dense2 =
    Dense(128)+BN+ReLU each from dense0; valence = Dense(1) on dense1; arousal = Dense(1) on
    dense2; expression = softmax(Dense(8)(BN(dense0 + BN(concat(dense1, dense2))))); L2 on every
    Dense. Dropout sits right before each output layer, after the last BatchNormalization of its
    path (dropout feeding a BatchNormalization makes its training-time variance differ from
    inference: "variance shift", Li et al. 2019, CVPR). Its rate is 0.1, not the original 0.5:
    measured here, 40 steps on 256 FER+ images reached 91 % / 73 % / 33 % training accuracy with
    rates 0 / 0.2 / 0.5, and 0.5 kept the from-scratch network near the majority class for the
    first epochs of a full run; augmentation and weight decay regularise instead."""
    reg = regularizers.l2(l2)
    d0 = _dense_block(features, 256, "dense0", l2)
    d1 = _dense_block(d0, 128, "dense1", l2)
    d2 = _dense_block(d0, 128, "dense2", l2)
    valence = layers.Dense(1, kernel_regularizer=reg, name="valence")(
        layers.Dropout(dropout, name="valence_drop")(d1))
    arousal = layers.Dense(1, kernel_regularizer=reg, name="arousal")(
        layers.Dropout(dropout, name="arousal_drop")(d2))
    cat = layers.BatchNormalization(name="va_bn")(layers.Concatenate(name="va_concat")([d1, d2]))
    mix = layers.BatchNormalization(name="mix_bn")(layers.Add(name="mix_add")([d0, cat]))
    logits = layers.Dense(config.NUM_CLASSES, kernel_regularizer=reg, name="expression_logits")(
        layers.Dropout(dropout, name="expression_drop")(mix))
    expression = layers.Softmax(name="expression")(logits)
    return {"valence": valence, "arousal": arousal, "expression": expression}


def build_model(backbone=config.DEFAULT_BACKBONE):
    """-> keras.Model for `backbone` (a key of config.BACKBONES), randomly initialised."""
    spec = config.BACKBONES[backbone]
    features = {"vgg": vgg_features, "mini_xception": mini_xception_features,
                "nasnetmobile": nasnetmobile_features}
    features.update({name: functools.partial(resnet_features, **kw)
                     for name, kw in RESNETS.items()})
    if backbone not in features:
        raise ValueError(f"unknown backbone {backbone!r}; known: {sorted(config.BACKBONES)}")
    inp = keras.Input((spec.size, spec.size, spec.channels), name="image")
    return keras.Model(inp, multitask_head(features[backbone](inp)), name=f"emotion_{backbone}")
