"""torch.backends.cudnn without cuDNN: the flags can be set (and are ignored); it is not available."""

deterministic = False
benchmark = False
enabled = True


def is_available() -> bool:
    return False


def version() -> None:
    return None
