"""Layers: each a ``Layer`` with ``forward_call(ctx, x)`` and ``backward_call(ctx, grad_out)``."""

from .activations import ELU, GELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .activity_regularization import ActivityRegularization
from .attention import MultiHeadAttention
from .augment import RandomFlip, RandomShift
from .batchnorm import BatchNorm
from .bidirectional import Bidirectional
from .category_encoding import CategoryEncoding
from .conv import Conv2D
from .conv1d import Conv1D
from .conv1d_transpose import Conv1DTranspose
from .conv3d import Conv3D
from .conv_lstm import ConvLSTM2D
from .conv_transpose import Conv2DTranspose
from .crop import CenterCrop, RandomCrop
from .cropping import Cropping2D, ZeroPadding2D
from .dense import Dense
from .depthwise_conv import DepthwiseConv2D
from .depthwise_conv1d import DepthwiseConv1D
from .discretization import Discretization
from .dot import Dot
from .dot_attention import AdditiveAttention, Attention
from .dropout import Dropout, SpatialDropout1D, SpatialDropout2D
from .embedding import Embedding
from .fusions import ReLUMaxPool2D
from .gaussian_noise import GaussianNoise
from .global_pooling import (
    GlobalAveragePooling1D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
)
from .group_norm import GroupNormalization
from .gru import GRU
from .lambda_layer import Lambda
from .layer_norm import LayerNormalization
from .lstm import LSTM
from .masking import Masking
from .merge import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from .noise_dropout import AlphaDropout, GaussianDropout
from .normalization import Normalization
from .piecewise_activations import HardShrink, HardSigmoid, HardSiLU, HardSwish, HardTanh, SoftShrink, SparsePlus
from .pooling import AvgPool2D, MaxPool2D
from .pooling1d import AveragePooling1D, AvgPool1D, MaxPool1D, MaxPooling1D
from .pooling3d import (
    AveragePooling3D,
    AvgPool3D,
    GlobalAveragePooling3D,
    GlobalAvgPool3D,
    GlobalMaxPool3D,
    GlobalMaxPooling3D,
    MaxPool3D,
    MaxPooling3D,
)
from .prelu import PReLU
from .random_affine import RandomRotation, RandomTranslation, RandomZoom
from .random_color import RandomBrightness, RandomContrast
from .recurrent import SimpleRNN
from .rescaling import Rescaling
from .reshape import Flatten, Permute, RepeatVector, Reshape
from .resizing import Resizing
from .rnn import RNN
from .rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from .separable_conv import SeparableConv2D
from .separable_conv1d import SeparableConv1D
from .sequence_shape import Cropping1D, UpSampling1D, ZeroPadding1D
from .smooth_activations import (
    CELU,
    SELU,
    Exponential,
    LogSigmoid,
    LogSoftmax,
    Mish,
    SiLU,
    Softplus,
    Softsign,
    Squareplus,
    Swish,
    TanhShrink,
)
from .stacked_cells import StackedRNNCells
from .time_distributed import TimeDistributed
from .unit_norm import UnitNormalization
from .upsampling import UpSampling2D
from .volume_shape import Cropping3D, UpSampling3D, ZeroPadding3D

__all__ = [
    "AvgPool2D", "BatchNorm", "RandomFlip", "RandomShift", "Conv2D", "GlobalAvgPool2D", "MaxPool2D", "Normalization",
    "Activation", "Dense", "Dropout", "ELU", "Flatten", "GELU", "Identity", "LeakyReLU", "ReLU", "Reshape",
    "Sigmoid", "Softmax", "Tanh", "Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply", "Subtract",
    "ReLUMaxPool2D", "Lambda",
    "Conv1D", "Conv2DTranspose", "Cropping2D", "ZeroPadding2D", "Embedding", "GlobalAveragePooling1D",
    "GlobalAvgPool1D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "LayerNormalization", "AveragePooling1D", "AvgPool1D", "MaxPool1D", "MaxPooling1D", "UpSampling2D",
    "Rescaling", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness",
    "Resizing", "DepthwiseConv2D", "SeparableConv2D", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise",
    "PReLU", "Permute", "RepeatVector", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "MultiHeadAttention",
    "TimeDistributed", "GroupNormalization", "UpSampling1D", "ZeroPadding1D", "Cropping1D",
    "Attention", "AdditiveAttention", "ActivityRegularization", "AlphaDropout", "Dot", "GaussianDropout",
    "UnitNormalization", "Masking", "DepthwiseConv1D", "SeparableConv1D", "Conv1DTranspose",
    "SELU", "Swish", "SiLU", "Softplus", "Softsign", "Mish", "Exponential", "LogSoftmax", "LogSigmoid", "CELU",
    "Squareplus", "TanhShrink", "HardSigmoid", "HardSwish", "HardSiLU", "HardTanh", "SparsePlus", "SoftShrink",
    "HardShrink", "CategoryEncoding", "CenterCrop", "Discretization", "RandomCrop",
    "RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells",
    "Conv3D", "ConvLSTM2D", "MaxPool3D", "MaxPooling3D", "AvgPool3D", "AveragePooling3D", "GlobalMaxPool3D",
    "GlobalMaxPooling3D", "GlobalAvgPool3D", "GlobalAveragePooling3D", "UpSampling3D", "ZeroPadding3D", "Cropping3D",
]
