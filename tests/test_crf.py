"""The linear-chain CRF against brute force: on short sequences every one of the C^L tag
sequences can be scored directly from the definition

    s(y) = start[y_0] + sum_t E[t, y_t] + sum_{t>=1} A[y_{t-1}, y_t] + end[y_{L-1}]

so log Z = log sum_y exp s(y) and the Viterbi path = argmax_y s(y) need no dynamic programming.
"""

import itertools
import math
import random

import pytest

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck
from minigrad.nn.utils.crf import CRF, crf_log_partition, crf_marginals, crf_score, posterior_decode, viterbi_decode

TAGS = 3
LENGTHS = [4, 1, 3, 2]


def random_problem(seed, dtype=mg.float64):
    """Emissions (T, B, C), transitions, start, end as plain nested lists and as tensors."""
    rng = random.Random(seed)
    steps = max(LENGTHS)
    emissions = [[[rng.uniform(-2, 2) for _ in range(TAGS)] for _ in LENGTHS] for _ in range(steps)]
    transitions = [[rng.uniform(-2, 2) for _ in range(TAGS)] for _ in range(TAGS)]
    start = [rng.uniform(-2, 2) for _ in range(TAGS)]
    end = [rng.uniform(-2, 2) for _ in range(TAGS)]
    lists = (emissions, transitions, start, end)
    tensors = tuple(mg.tensor(v, dtype=dtype, requires_grad=True) for v in lists)
    return lists, tensors


def path_score(emissions, transitions, start, end, b, path):
    """s(y) straight from the definition, for column b (plain Python floats)."""
    score = start[path[0]] + end[path[-1]]
    score += sum(emissions[t][b][tag] for t, tag in enumerate(path))
    score += sum(transitions[prev][tag] for prev, tag in zip(path, path[1:]))
    return score


def all_paths(length):
    return list(itertools.product(range(TAGS), repeat=length))


def test_forward_algorithm_equals_brute_force_log_partition():
    (emissions, transitions, start, end), tensors = random_problem(0)
    log_z = crf_log_partition(tensors[0], LENGTHS, *tensors[1:]).tolist()
    for b, length in enumerate(LENGTHS):
        scores = [path_score(emissions, transitions, start, end, b, path) for path in all_paths(length)]
        top = max(scores)
        expected = top + math.log(sum(math.exp(s - top) for s in scores))
        assert log_z[b] == pytest.approx(expected, abs=1e-12)


def test_gold_score_equals_definition_and_ignores_padding_tags():
    (emissions, transitions, start, end), tensors = random_problem(1)
    rng = random.Random(1)
    paths = [[rng.randrange(TAGS) for _ in range(length)] for length in LENGTHS]
    tags = mg.tensor([[p[t] if t < len(p) else -100 for p in paths] for t in range(max(LENGTHS))])
    got = crf_score(tensors[0], tags, LENGTHS, *tensors[1:]).tolist()
    for b, path in enumerate(paths):
        assert got[b] == pytest.approx(path_score(emissions, transitions, start, end, b, path), abs=1e-12)


def brute_force_marginals(emissions, transitions, start, end, b, length):
    """p(y_t = j) = (sum of exp s(y) over the paths with y_t = j) / Z, for column b."""
    weights = {path: math.exp(path_score(emissions, transitions, start, end, b, path)) for path in all_paths(length)}
    total = sum(weights.values())
    return [[sum(w for path, w in weights.items() if path[t] == j) / total for j in range(TAGS)]
            for t in range(length)]


def test_marginals_equal_brute_force_and_are_zero_on_padding():
    (emissions, transitions, start, end), tensors = random_problem(2)
    marginals = crf_marginals(tensors[0], LENGTHS, *tensors[1:])
    assert not marginals.requires_grad  # a result, not part of a graph
    got = marginals.tolist()
    for b, length in enumerate(LENGTHS):
        expected = brute_force_marginals(emissions, transitions, start, end, b, length)
        for t in range(max(LENGTHS)):
            row = [got[t][b][j] for j in range(TAGS)]
            assert row == pytest.approx(expected[t] if t < length else [0.0] * TAGS, abs=1e-12), (t, b)


def test_posterior_decoding_picks_the_tag_of_highest_brute_force_marginal():
    for seed in range(5):
        (emissions, transitions, start, end), tensors = random_problem(seed)
        decoded = posterior_decode(tensors[0], LENGTHS, *tensors[1:])
        for b, length in enumerate(LENGTHS):
            expected = brute_force_marginals(emissions, transitions, start, end, b, length)
            assert decoded[b] == [max(range(TAGS), key=row.__getitem__) for row in expected], f"seed {seed}, {b}"


def test_crf_decode_chooses_its_decoder_by_name():
    crf = CRF(TAGS)
    e = mg.randn(max(LENGTHS), len(LENGTHS), TAGS)
    params = (crf.transitions, crf.start_transitions, crf.end_transitions)
    assert crf.decode(e, LENGTHS, decoder="posterior") == posterior_decode(e, LENGTHS, *params)
    assert crf.decode(e, LENGTHS, decoder="viterbi") == viterbi_decode(e, LENGTHS, *params)
    assert crf.marginals(e, LENGTHS).tolist() == crf_marginals(e, LENGTHS, *params).tolist()
    with pytest.raises(ValueError, match="decoder must be one of"):
        crf.decode(e, LENGTHS, decoder="greedy")


def test_viterbi_equals_brute_force_argmax():
    for seed in range(5):
        (emissions, transitions, start, end), tensors = random_problem(seed)
        decoded = viterbi_decode(tensors[0], LENGTHS, *tensors[1:])
        for b, length in enumerate(LENGTHS):
            best = max(all_paths(length), key=lambda p: path_score(emissions, transitions, start, end, b, p))
            assert decoded[b] == list(best), f"seed {seed}, column {b}"


def test_gradients_of_the_loss_equal_brute_force_gradients():
    """The NLL's gradient through the forward algorithm equals autograd through the
    enumeration log sum_y exp s(y) - s(gold) (a different graph computing the same function)."""
    (emissions, _, _, _), tensors = random_problem(2)
    e, a, s, z = tensors
    rng = random.Random(2)
    gold = [[rng.randrange(TAGS) for _ in range(length)] for length in LENGTHS]
    tags = mg.tensor([[p[t] if t < len(p) else 0 for p in gold] for t in range(max(LENGTHS))])
    loss = (crf_log_partition(e, LENGTHS, a, s, z) - crf_score(e, tags, LENGTHS, a, s, z)).sum()
    loss.backward()
    fast = [t.grad.reshape(-1).tolist() for t in tensors]
    for t in tensors:
        t.grad = None

    def enumerated_score(b, path):
        total = s[path[0]] + z[path[-1]]
        for t, tag in enumerate(path):
            total = total + e[t, b, tag]
        for prev, tag in zip(path, path[1:]):
            total = total + a[prev, tag]
        return total

    brute = 0.0
    for b, length in enumerate(LENGTHS):
        scores = mg.stack([enumerated_score(b, path) for path in all_paths(length)])
        brute = brute + scores.logsumexp(0) - enumerated_score(b, gold[b])
    brute.backward()
    assert loss.item() == pytest.approx(brute.item(), abs=1e-12)
    for got, t in zip(fast, tensors):
        assert got == pytest.approx(t.grad.reshape(-1).tolist(), abs=1e-12)


def test_loss_passes_gradcheck():
    _, (e, a, s, z) = random_problem(3)
    tags = mg.tensor([[0, 1, 2, 0]] * max(LENGTHS))

    def nll(e, a, s, z):
        return crf_log_partition(e, LENGTHS, a, s, z) - crf_score(e, tags, LENGTHS, a, s, z)

    assert gradcheck(nll, (e, a, s, z))


def test_batch_equals_one_sequence_at_a_time():
    _, (e, a, s, z) = random_problem(4)
    tags = mg.tensor([[1, 2, 0, 1]] * max(LENGTHS))
    batched = crf_log_partition(e, LENGTHS, a, s, z) - crf_score(e, tags, LENGTHS, a, s, z)
    paths = viterbi_decode(e, LENGTHS, a, s, z)
    for b, length in enumerate(LENGTHS):
        e_b, tags_b = e[:length, b:b + 1], tags[:length, b:b + 1]
        alone = crf_log_partition(e_b, [length], a, s, z) - crf_score(e_b, tags_b, [length], a, s, z)
        assert batched[b].item() == pytest.approx(alone.item(), abs=1e-12)
        assert viterbi_decode(e_b, [length], a, s, z) == [paths[b]]


def test_crf_module_reductions_and_decode():
    mg.manual_seed(0)
    crf = CRF(TAGS)
    assert sorted(name for name, _ in crf.named_parameters()) == ["end_transitions", "start_transitions",
                                                                   "transitions"]
    assert all(-0.1 <= v <= 0.1 for p in crf.parameters() for v in p.reshape(-1).tolist())
    _, (e, _, _, _) = random_problem(5, dtype=mg.float32)
    tags = mg.zeros(max(LENGTHS), len(LENGTHS), dtype=mg.int64)
    per_sequence = crf(e, tags, LENGTHS, reduction="none")
    params = (crf.transitions, crf.start_transitions, crf.end_transitions)
    expected = crf_log_partition(e, LENGTHS, *params) - crf_score(e, tags, LENGTHS, *params)
    assert per_sequence.tolist() == expected.tolist()
    total = sum(per_sequence.tolist())
    assert crf(e, tags, LENGTHS).item() == pytest.approx(total, rel=1e-6)
    assert crf(e, tags, LENGTHS, reduction="mean").item() == pytest.approx(total / len(LENGTHS), rel=1e-6)
    assert crf(e, tags, LENGTHS, reduction="token_mean").item() == pytest.approx(total / sum(LENGTHS), rel=1e-6)
    assert crf.decode(e, LENGTHS) == viterbi_decode(e, LENGTHS, *params)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        crf(e, tags, LENGTHS, reduction="average")


def test_bad_shapes_are_rejected():
    _, (e, a, s, z) = random_problem(6)
    with pytest.raises(RuntimeError, match="emissions have 3 tags but transitions are"):
        crf_log_partition(e, LENGTHS, a[:2], s, z)
    with pytest.raises(RuntimeError, match="every length must be between 1 and the 4 time steps"):
        viterbi_decode(e, [4, 0, 1, 1], a, s, z)
    with pytest.raises(RuntimeError, match="tags must be an int64 tensor of shape"):
        crf_score(e, mg.zeros(4, 4), LENGTHS, a, s, z)
