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
]
