"""``minigrad.utils``: torch's ``torch.utils`` helpers that minigrad has (``hooks``)."""

from minigrad.utils import hooks

__all__ = ["hooks"]
