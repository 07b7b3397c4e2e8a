"""TensorFlow's thread pools come from the config (train.threads), not from the machine."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # starts TensorFlow in a fresh process


def test_pin_threads_fixes_both_pools_before_tensorflow_starts():
    code = ("from galclust.tfthreads import pin_threads; pin_threads(3); import tensorflow as tf; "
            "tf.constant(1.0) + 1.0; "
            "print(tf.config.threading.get_intra_op_parallelism_threads(), "
            "tf.config.threading.get_inter_op_parallelism_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["3", "3"]


def test_pin_threads_once_tensorflow_runs_logs_instead_of_raising(caplog):
    import tensorflow as tf

    from galclust.tfthreads import pin_threads

    tf.constant(1.0) + 1.0  # the runtime is up: its pools can no longer change
    current = tf.config.threading.get_intra_op_parallelism_threads()
    with caplog.at_level("WARNING", logger="galclust.tfthreads"):
        pin_threads(current + 5)
    assert "already running" in caplog.text


def test_the_schema_gives_training_two_threads():
    from galclust.config import validate_config
    from conftest import TINY, load_yaml

    config = validate_config(load_yaml(TINY))
    assert config["models"]["refcnn"]["train"]["threads"] == 2
