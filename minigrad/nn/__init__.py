"""``minigrad.nn``: modules, losses, ``functional`` and ``init``, with torch's names."""

from minigrad.nn import functional, init, utils
from minigrad.nn.activation import Identity, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from minigrad.nn.container import ModuleList, Sequential
from minigrad.nn.dropout import Dropout
from minigrad.nn.linear import Linear
from minigrad.nn.loss import CrossEntropyLoss, NLLLoss
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from minigrad.nn.sparse import Embedding

# -- layers, activations and losses of issue 14 ---------------------------------------------------
# isort: split
from minigrad.nn.activation import (
    CELU,
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    Mish,
    ReLU6,
    SiLU,
    Softmin,
    Softplus,
    Softsign,
    Tanhshrink,
)  # fmt: skip
from minigrad.nn.attention import MultiheadAttention
from minigrad.nn.container import ModuleDict, ParameterDict, ParameterList
from minigrad.nn.conv import Conv1d
from minigrad.nn.distance import CosineSimilarity, PairwiseDistance
from minigrad.nn.flatten import Flatten, Unflatten
from minigrad.nn.linear import Bilinear
from minigrad.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    SmoothL1Loss,
)  # fmt: skip
from minigrad.nn.normalization import LayerNorm
from minigrad.nn.pooling import AvgPool1d, MaxPool1d
from minigrad.nn.sparse import EmbeddingBag

__all__ = [
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "GRU",
    "GRUCell",
    "Identity",
    "LSTM",
    "LSTMCell",
    "Linear",
    "LogSoftmax",
    "Module",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "RNN",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
    "utils",
    # issue 14
    "BCELoss", "BCEWithLogitsLoss", "CELU", "CosineEmbeddingLoss", "ELU", "GELU", "Hardsigmoid", "Hardswish",
    "Hardtanh", "HuberLoss", "KLDivLoss", "L1Loss", "LeakyReLU", "LogSigmoid", "MSELoss", "MarginRankingLoss",
    "Mish", "ReLU6", "SELU", "SiLU", "SmoothL1Loss", "Softmin", "Softplus", "Softsign", "Tanhshrink",
    "AvgPool1d", "Bilinear", "Conv1d", "CosineSimilarity", "Flatten", "LayerNorm", "MaxPool1d", "ModuleDict",
    "PairwiseDistance", "ParameterDict", "ParameterList", "Unflatten", "EmbeddingBag",
    "MultiheadAttention",
]  # fmt: skip
