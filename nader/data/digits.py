"""``digits``: the embedded default dataset — real handwriting that ships inside scikit-learn.

``sklearn.datasets.load_digits`` holds 1,797 8x8 grey images of the digits 0-9 (UCI optdigits), so
the quickstart trains on real data with no download. Choices, made so that any network skeleton
built for RGB ImageNet16-120 runs unchanged on it:

- values 0..16 are scaled to 0..255 and each pixel is repeated 2x2, giving 16x16 images (the
  ImageNet16-120 size, so its crop padding of 2 — one original pixel — applies);
- the grey channel is repeated to 3 channels (a stem built for C=3 works as is);
- no horizontal flip (a mirrored 2 or 7 is not a 2 or 7);
- there is no official test set: a seeded permutation gives 60% train, 20% valid, 20% test.
"""

from __future__ import annotations

import numpy as np

from nader.data.base import DatasetSplits, ImageSplit, channel_statistics
from nader.data.errors import DatasetError
from nader.data.request import DatasetRequest
from nader.data.splits import seeded_thirds

UPSAMPLE = 2
CHANNELS = 3


def digits_images() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits as uint8 (N, 3, 16, 16) and their labels."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise DatasetError(
            "the digits dataset needs scikit-learn (pip install scikit-learn)"
        ) from err
    bunch = load_digits()
    grey = np.rint(np.asarray(bunch.images, dtype=np.float64) * (255.0 / 16.0)).astype(np.uint8)
    grey = grey.repeat(UPSAMPLE, axis=1).repeat(UPSAMPLE, axis=2)
    images = np.repeat(grey[:, None, :, :], CHANNELS, axis=1)
    return images, np.asarray(bunch.target, dtype=np.int64)


def load_digits_dataset(request: DatasetRequest) -> DatasetSplits:
    if request.split_file is not None:
        raise DatasetError(
            "digits has no NAS-Bench-201 split file; its split is seeded (omit split_file)"
        )
    images, labels = digits_images()
    everything = ImageSplit.from_numpy(images, labels)
    train_rows, valid_rows, test_rows = seeded_thirds(
        len(everything), request.seed, valid=0.2, test=0.2
    )
    train = everything.take(train_rows)
    mean, std = channel_statistics(train.images)
    return DatasetSplits(
        name="digits",
        train=train,
        valid=everything.take(valid_rows),
        test=everything.take(test_rows),
        num_classes=10,
        mean=mean,
        std=std,
        crop_padding=2,
        horizontal_flip=False,
        split=f"seeded 60/20/20 (seed {request.seed})",
    )
