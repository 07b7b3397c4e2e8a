"""TensorFlow's CPU thread pools, fixed by the config rather than by the machine.

A network's trained weights depend on how many threads its kernels split their sums over
(measured: the demo CNN trains to other weights with one intra-op thread than with two), and
TensorFlow's default is the number of CPUs it sees: a workstation, a SLURM allocation and CI
would each train a different network from the same config. Pinning the pools to
``train.threads`` makes the weights a function of the config alone.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def pin_threads(threads: int) -> None:
    """Fix TensorFlow's intra- and inter-op pools at ``threads`` each. Call it before the first
    TensorFlow operation of the process; later (TensorFlow already running, as in a test
    session) the pools cannot change, and a different size is logged, not raised."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))
    except RuntimeError:
        now = tf.config.threading.get_intra_op_parallelism_threads()
        if now != threads:
            log.warning("TensorFlow already running with %s intra-op threads, not %d: weights may differ "
                        "from a fresh job's", now or "default", threads)
        return
    log.info("TensorFlow thread pools: %d intra-op, %d inter-op threads (train.threads)", threads, threads)
