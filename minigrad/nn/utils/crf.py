"""A linear-chain conditional random field (CRF) over padded batches of tag sequences.

For a sentence of length L with emission scores ``E[t, y]`` (from a BiLSTM, say) the CRF scores
a whole tag sequence ``y_0 .. y_{L-1}``::

    s(y) = start[y_0] + sum_{t=0}^{L-1} E[t, y_t] + sum_{t=1}^{L-1} A[y_{t-1}, y_t] + end[y_{L-1}]

with learned transition scores ``A`` (from tag ``i`` to tag ``j``) and start and end scores.
Its probability is ``p(y) = exp(s(y)) / Z`` where ``Z`` sums ``exp(s)`` over all ``C^L``
sequences. The loss is the negative log-likelihood ``log Z - s(y_gold)``.

``log Z`` comes from the forward algorithm in O(L C^2): ``alpha_t[j]`` is the log of the summed
``exp`` scores of every prefix ending in tag ``j`` at step ``t``::

    alpha_0[j] = start[j] + E[0, j]
    alpha_t[j] = logsumexp_i (alpha_{t-1}[i] + A[i, j]) + E[t, j]
    log Z      = logsumexp_j (alpha_{L-1}[j] + end[j])

Viterbi decoding is the same recursion with ``max`` in place of ``logsumexp``, remembering
which ``i`` won so that the best sequence can be read back from its last tag.

The marginals ``p(y_t = j)`` are the derivatives of ``log Z`` with respect to the emissions
(``d log Z / d E[t, j]`` sums ``p(y)`` over the sequences with ``y_t = j``), so autograd through
the forward algorithm is the forward-backward algorithm. Posterior decoding picks the most
probable tag of each step on its own: it maximises the expected number of correct tags, where
Viterbi maximises the chance that the whole sequence is right.

Tensors are time-major, as in ``minigrad.nn.utils.rnn``: emissions ``(T, B, C)``, tags
``(T, B)``, and ``lengths[b]`` real steps in column ``b`` (at least 1), padding after them.
A padding step leaves ``alpha`` of its column unchanged, so padding affects nothing.
"""

from __future__ import annotations

from minigrad import _creation
from minigrad._dtype import int64
from minigrad._functions.pointwise import where
from minigrad._functions.views import stack
from minigrad._tensor import Tensor
from minigrad.autograd.engine import grad
from minigrad.autograd.grad_mode import enable_grad, no_grad
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.nn.utils.rnn import Lengths, _as_list, select_last_steps, sequence_mask

__all__ = ["CRF", "best_tags", "crf_log_partition", "crf_marginals", "crf_score", "posterior_decode", "viterbi_decode"]

REDUCTIONS = ("none", "sum", "mean", "token_mean")
DECODERS = ("viterbi", "posterior")


def crf_log_partition(emissions: Tensor, lengths: Lengths, transitions: Tensor, start: Tensor,
                      end: Tensor) -> Tensor:
    """``log Z`` of every sequence of the batch, shape ``(B,)``, by the forward algorithm."""
    steps = _check(emissions, lengths, transitions, start, end)
    active = sequence_mask(lengths, steps).unsqueeze(2)  # (T, B, 1)
    alpha = start + emissions[0]  # (B, C)
    for t in range(1, steps):
        # scores[b, i, j] = alpha[b, i] + A[i, j] + E[t, b, j]
        scores = alpha.unsqueeze(2) + transitions + emissions[t].unsqueeze(1)
        alpha = where(active[t], scores.logsumexp(1), alpha)
    return (alpha + end).logsumexp(1)


def crf_score(emissions: Tensor, tags: Tensor, lengths: Lengths, transitions: Tensor, start: Tensor,
              end: Tensor) -> Tensor:
    """``s(y)`` of the given tag sequences, shape ``(B,)``. Tags at padding steps are ignored
    (any value, e.g. an ``ignore_index``)."""
    steps = _check(emissions, lengths, transitions, start, end)
    if tuple(tags.shape) != tuple(emissions.shape[:2]) or tags.dtype is not int64:
        raise RuntimeError(f"tags must be an int64 tensor of shape {list(emissions.shape[:2])}, "
                           f"got {tags.dtype} of shape {list(tags.shape)}")
    real = sequence_mask(lengths, steps)
    tags = tags.masked_fill(~real, 0)  # any valid index: those steps are masked out below
    weight = real.to(emissions.dtype)
    emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (T, B): E[t, b, y_t]
    score = start[tags[0]] + (emitted * weight).sum(0)
    if steps > 1:
        moved = transitions[tags[:-1], tags[1:]]  # (T-1, B): A[y_{t-1}, y_t]
        score = score + (moved * weight[1:]).sum(0)
    last_tags = select_last_steps(tags.unsqueeze(2), lengths).squeeze(1)
    return score + end[last_tags]


def viterbi_decode(emissions: Tensor, lengths: Lengths, transitions: Tensor, start: Tensor,
                   end: Tensor) -> list[list[int]]:
    """The highest-scoring tag sequence of every column (a list of ``lengths[b]`` tags each)."""
    steps = _check(emissions, lengths, transitions, start, end)
    lengths = _as_list(lengths)
    with no_grad():
        active = sequence_mask(lengths, steps).unsqueeze(2)
        best = start + emissions[0]  # best[b, j]: score of the best prefix ending in tag j
        winners = []  # winners[t-1][b][j]: the tag before j on that best prefix
        for t in range(1, steps):
            scores = best.unsqueeze(2) + transitions  # (B, C_prev, C_next)
            top, previous = scores.max(1)
            best = where(active[t], top + emissions[t], best)
            winners.append(previous)
        final = (best + end).argmax(1).tolist()
        table = stack(winners).tolist() if winners else []
    paths = []
    for b, length in enumerate(lengths):
        path = [final[b]]
        for t in range(length - 1, 0, -1):
            path.append(table[t - 1][b][path[-1]])
        paths.append(path[::-1])
    return paths


def crf_marginals(emissions: Tensor, lengths: Lengths, transitions: Tensor, start: Tensor,
                  end: Tensor) -> Tensor:
    """``p(y_t = j)`` for every step and tag, shape ``(T, B, C)`` (zeros at padding steps): the
    gradient of ``log Z`` with respect to the emissions. Records no graph of its own."""
    with enable_grad():
        scores = emissions.detach().requires_grad_()
        log_z = crf_log_partition(scores, lengths, transitions.detach(), start.detach(), end.detach())
        (marginals,) = grad(log_z.sum(), scores)
    return marginals


def posterior_decode(emissions: Tensor, lengths: Lengths, transitions: Tensor, start: Tensor,
                     end: Tensor) -> list[list[int]]:
    """The most probable tag of every step (by its marginal), ``lengths[b]`` tags per column."""
    return best_tags(crf_marginals(emissions, lengths, transitions, start, end), lengths)


def best_tags(scores: Tensor, lengths: Lengths) -> list[list[int]]:
    """The highest-scoring tag of every real step of ``scores`` (T, B, C), each step on its own:
    ``lengths[b]`` tags per column (a softmax tagger's decoding)."""
    best = scores.argmax(2).tolist()
    return [[best[t][b] for t in range(length)] for b, length in enumerate(_as_list(lengths))]


def _check(emissions: Tensor, lengths: Lengths, transitions: Tensor, start: Tensor, end: Tensor) -> int:
    if emissions.dim() != 3:
        raise RuntimeError(f"emissions must be (T, B, num_tags), got shape {list(emissions.shape)}")
    steps, batch, num_tags = emissions.shape
    if tuple(transitions.shape) != (num_tags, num_tags) or tuple(start.shape) != (num_tags,) or \
            tuple(end.shape) != (num_tags,):
        raise RuntimeError(f"emissions have {num_tags} tags but transitions are {list(transitions.shape)}, "
                           f"start {list(start.shape)}, end {list(end.shape)}")
    lengths = _as_list(lengths)
    if len(lengths) != batch:
        raise ValueError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                         f"(batch_size={batch})")
    if any(not 0 < length <= steps for length in lengths):
        raise RuntimeError(f"every length must be between 1 and the {steps} time steps, got {lengths}")
    return steps


class CRF(Module):
    """A linear-chain CRF layer with ``num_tags`` tags.

    Parameters: ``transitions[i, j]`` (score of tag ``j`` following tag ``i``),
    ``start_transitions`` and ``end_transitions``, initialised uniformly in [-0.1, 0.1].
    ``crf(emissions, tags, lengths)`` is the negative log-likelihood; ``crf.decode`` the
    Viterbi tags.
    """

    def __init__(self, num_tags: int) -> None:
        super().__init__()
        if num_tags < 1:
            raise ValueError(f"num_tags must be positive, got {num_tags}")
        self.num_tags = num_tags
        self.transitions = Parameter(_creation.empty(num_tags, num_tags))
        self.start_transitions = Parameter(_creation.empty(num_tags))
        self.end_transitions = Parameter(_creation.empty(num_tags))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with no_grad():
            for param in (self.transitions, self.start_transitions, self.end_transitions):
                param.uniform_(-0.1, 0.1)

    def forward(self, emissions: Tensor, tags: Tensor, lengths: Lengths, reduction: str = "sum") -> Tensor:
        """``log Z - s(tags)`` per sequence, then reduced: ``"none"`` keeps ``(B,)``, ``"sum"``
        adds, ``"mean"`` averages over sequences, ``"token_mean"`` divides the sum by the
        number of real steps."""
        if reduction not in REDUCTIONS:
            raise ValueError(f"{reduction} is not a valid value for reduction")
        params = (self.transitions, self.start_transitions, self.end_transitions)
        nll = crf_log_partition(emissions, lengths, *params) - crf_score(emissions, tags, lengths, *params)
        if reduction == "none":
            return nll
        if reduction == "sum":
            return nll.sum()
        if reduction == "mean":
            return nll.mean()
        return nll.sum() / sum(_as_list(lengths))

    def decode(self, emissions: Tensor, lengths: Lengths, decoder: str = "viterbi") -> list[list[int]]:
        """The tags of every column of the batch: the Viterbi sequence, or with
        ``decoder="posterior"`` the most probable tag of each step."""
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
        decode = viterbi_decode if decoder == "viterbi" else posterior_decode
        return decode(emissions, lengths, self.transitions, self.start_transitions, self.end_transitions)

    def marginals(self, emissions: Tensor, lengths: Lengths) -> Tensor:
        """``p(y_t = j)`` of every step and tag, shape ``(T, B, C)``."""
        return crf_marginals(emissions, lengths, self.transitions, self.start_transitions, self.end_transitions)

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}"
