"""Which modes belong to a thread, as in torch 2.13.0: grad mode is per thread (``no_grad`` in one
thread leaves the others recording); anomaly mode and the default dtype are process-wide."""

import threading

import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def _in_thread(fn):
    result = []
    t = threading.Thread(target=lambda: result.append(fn()))
    t.start()
    t.join()
    return result[0]


def test_no_grad_in_one_thread_leaves_another_thread_recording():
    entered, done = threading.Event(), threading.Event()

    def hold_no_grad():
        with mg.no_grad():
            entered.set()
            done.wait(10)

    holder = threading.Thread(target=hold_no_grad)
    holder.start()
    entered.wait(10)
    try:
        x = mg.ones(2, requires_grad=True)
        assert mg.is_grad_enabled()
        assert (x * 2).grad_fn is not None
    finally:
        done.set()
        holder.join()


def test_a_new_thread_starts_with_grad_mode_on_as_in_torch():
    for lib in (torch, mg):
        with lib.no_grad():
            assert _in_thread(lib.is_grad_enabled) is True


def test_interleaved_no_grad_blocks_of_two_threads_leave_grad_mode_on():
    # thread A enters, thread B enters, A leaves, B leaves: with one process-wide switch B would
    # restore the "off" it saw on entry, for good
    steps = [threading.Event() for _ in range(4)]

    def a():
        with mg.no_grad():
            steps[0].set()
            steps[1].wait(10)
        steps[2].set()

    def b():
        steps[0].wait(10)
        with mg.no_grad():
            steps[1].set()
            steps[2].wait(10)
        steps[3].set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert steps[3].is_set()
    assert mg.is_grad_enabled()
    assert _in_thread(mg.is_grad_enabled) is True


@pytest.mark.parametrize("lib", ["torch", "minigrad"])
def test_set_grad_enabled_in_a_thread_is_seen_only_there(lib):
    lib = torch if lib == "torch" else mg

    def inner():
        lib.set_grad_enabled(False)
        return lib.is_grad_enabled()

    assert _in_thread(inner) is False
    assert lib.is_grad_enabled() is True


def test_anomaly_mode_and_default_dtype_are_process_wide_as_in_torch():
    def seen(lib):
        with lib.autograd.set_detect_anomaly(True):
            anomaly = _in_thread(lib.is_anomaly_enabled)
        previous = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            default = _in_thread(lib.get_default_dtype)
        finally:
            lib.set_default_dtype(previous)
        return anomaly, str(default).split(".")[-1]

    assert seen(mg) == seen(torch) == (True, "float64")
