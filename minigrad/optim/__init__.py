"""``minigrad.optim``: optimizers with torch's names, defaults and update formulas."""

from minigrad.optim.adagrad import Adagrad
from minigrad.optim.adam import Adam, AdamW
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim.sgd import SGD

from minigrad.optim import lr_scheduler  # isort: skip  (imports Optimizer from above)

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
