"""torch.backends.cuda on a CPU build: not built."""


def is_built() -> bool:
    return False
