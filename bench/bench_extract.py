"""Throughput of feature extraction (rule `extract`) against a bare Keras forward pass.

    .venv/bin/python bench/bench_extract.py [--n 512] [--batch-size 64] [--repeats 3] [--block-rows 256]

Builds the reference CNN (random weights, no augmentation), saves and reloads it as
the rule does, writes N random 80×80×3 images to a Zarr image store, then times,
interleaved and best of --repeats:

  (a) extract_store: Zarr in -> KerasExtractor cut at `flatten` (37,632 values) and
      `dense_128` -> Zarr out, end to end (what rule `extract` runs, minus loading
      the model);
  (b) bare: a loop of `predict_on_batch` of the same two-output cut model over the
      same images already in memory, same batch size, results discarded.

Prints images/s of both and the ratio (a)/(b); the target is >= 0.85. Wall time is
what counts; the CPU-time ratio (process CPU seconds of (b) over (a), all threads) is
printed too, as a check that does not depend on how busy the machine is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from galclust.cnn import DENSE_128, FLATTEN, build_reference_cnn, load_model, save_model  # noqa: E402
from galclust.extract import KerasExtractor, extract_store  # noqa: E402
from galclust.store import write_store  # noqa: E402

TARGET = 0.85


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=512, help="images (default 512)")
    parser.add_argument("--batch-size", type=int, default=64, help="forward-pass batch (default 64, the rule's)")
    parser.add_argument("--block-rows", type=int, default=256, help="extract_store block (default 256, the rule's)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import keras

    tmp = Path(tempfile.mkdtemp(prefix="galclust-bench-extract-"))
    try:
        keras.utils.set_random_seed(0)
        save_model(build_reference_cnn(80, augment=False), tmp / "refcnn.keras")
        model = load_model(tmp / "refcnn.keras")
        images = np.random.default_rng(0).random((args.n, 80, 80, 3), dtype=np.float32)
        ids = [f"g{i:06d}" for i in range(args.n)]
        write_store(tmp / "images.zarr", ids, {"images": images})

        layers = {FLATTEN: FLATTEN, DENSE_128: DENSE_128}
        extractor = KerasExtractor(model, layers, name="refcnn", batch_size=args.batch_size)
        bare = keras.Model(model.inputs, [model.get_layer(l).output for l in layers.values()])

        def run_extract(i: int) -> None:
            extract_store(tmp / "images.zarr", tmp / f"features{i}.zarr", extractor, block_rows=args.block_rows)
            shutil.rmtree(tmp / f"features{i}.zarr")

        def run_bare(i: int) -> None:
            for start in range(0, args.n, args.batch_size):
                bare.predict_on_batch(images[start : start + args.batch_size])

        # Warm up both (tracing, first-call allocations) on a full and a ragged last batch.
        run_bare(-1)
        run_extract(-1)
        times: dict[str, list[float]] = {"extract_store": [], "predict_on_batch": []}
        cpu: dict[str, list[float]] = {"extract_store": [], "predict_on_batch": []}
        for i in range(args.repeats):
            for label, fn in (("extract_store", run_extract), ("predict_on_batch", run_bare)):
                t0, c0 = time.perf_counter(), time.process_time()
                fn(i)
                times[label].append(time.perf_counter() - t0)
                cpu[label].append(time.process_time() - c0)

        rate = {k: args.n / min(v) for k, v in times.items()}
        ratio = rate["extract_store"] / rate["predict_on_batch"]
        print(f"reference CNN, {args.n} images 80x80x3, batch {args.batch_size}, block {args.block_rows}, "
              f"cut at {FLATTEN} + {DENSE_128}; keras {keras.__version__} ({keras.backend.backend()}), "
              f"{os.cpu_count()} CPUs; best of {args.repeats}")
        for label, values in times.items():
            runs = ", ".join(f"{t:.2f}" for t in values)
            print(f"  {label:<17} {rate[label]:8.1f} images/s   (runs, s: {runs})")
        print(f"  ratio extract_store / predict_on_batch = {ratio:.3f}  (target >= {TARGET})")
        cpu_ratio = min(cpu["predict_on_batch"]) / min(cpu["extract_store"])
        print(f"  (CPU-time ratio, all threads, less sensitive to other load: {cpu_ratio:.3f}; "
              f"load average {os.getloadavg()[0]:.1f})")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
