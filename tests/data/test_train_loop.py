"""The trainer: learns, stops designs that cannot train, resumes exactly, keeps test for the end."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError
from torch import nn

from nader.data import load_dataset
from nader.data.base import DatasetSplits
from nader.data.synthetic import make_synthetic
from nader.training.config import PROTOCOL_SEEDS, TrainConfig, TrainingError, TrainResult
from nader.training.loop import build_seeded, learning_rate, steps_per_epoch, train_model

FAST = {"batch_size": 32, "eval_batch_size": 128, "device": "cpu"}


@pytest.fixture(scope="module")
def small_data() -> DatasetSplits:
    return make_synthetic(
        num_train=192, num_valid=64, num_test=64, image_size=8, noise=0.25, seed=3
    )


class Blind(nn.Module):
    """Looks at nothing: its output does not depend on the image, so it can only guess."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = nn.Linear(4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x).mean(dim=(2, 3)) * 0.0)


def test_defaults_are_nas_bench_201s_protocol() -> None:
    config = TrainConfig()
    assert (config.epochs, config.batch_size, config.lr, config.min_lr) == (200, 256, 0.1, 0.0)
    assert (config.momentum, config.nesterov, config.weight_decay) == (0.9, True, 5e-4)
    assert config.seed in PROTOCOL_SEEDS == (777, 888, 999)
    assert config.crop_padding is None and config.horizontal_flip is None  # the dataset's (4 / 2)


def test_config_rejects_unknown_and_inconsistent_settings() -> None:
    with pytest.raises(ValidationError, match="extra"):
        TrainConfig.model_validate({"epochs": 3, "learning_rate": 0.1})
    with pytest.raises(ValidationError, match="min_lr"):
        TrainConfig(lr=0.01, min_lr=0.1)
    with pytest.raises(ValidationError, match="Nesterov"):
        TrainConfig(momentum=0.0)


def test_cosine_schedule_from_lr_to_min_lr_with_warmup() -> None:
    config = TrainConfig(epochs=4, lr=0.2, min_lr=0.01, warmup_epochs=1)
    rates = [learning_rate(config, step, total_steps=40, steps_in_epoch=10) for step in range(40)]
    assert rates[:10] == pytest.approx([0.02 * (i + 1) for i in range(10)])
    assert rates[10] == pytest.approx(0.2)
    assert all(later <= earlier for earlier, later in zip(rates[10:], rates[11:], strict=False))
    assert rates[-1] == pytest.approx(0.01, abs=1e-3)


def test_steps_per_epoch_skips_a_lone_trailing_image() -> None:
    assert steps_per_epoch(65, TrainConfig(batch_size=32)) == 2
    assert steps_per_epoch(66, TrainConfig(batch_size=32)) == 3
    assert steps_per_epoch(1000, TrainConfig(batch_size=32, max_train_batches=4)) == 4


def test_a_small_resnet_learns_the_synthetic_patterns(
    small_data: DatasetSplits, tiny_resnet: type
) -> None:
    model = build_seeded(lambda: tiny_resnet(num_classes=4), seed=0)
    records = []
    config = TrainConfig(epochs=4, lr=0.05, **FAST)
    result = train_model(model, small_data, config, on_epoch=records.append)
    assert result.status == "trained" and result.reason is None
    assert result.valid_acc is not None and result.valid_acc >= 0.8  # chance is 0.25
    assert result.test_acc is not None and result.test_acc >= 0.7
    assert [r.epoch for r in records] == [1, 2, 3, 4] and records == result.history
    assert result.train_images == 4 * 6 * 32 and result.steps == 24
    assert records[-1].train_loss < records[0].train_loss


def test_same_seed_same_weights_other_seed_other_weights(
    small_data: DatasetSplits, tiny_resnet: type
) -> None:
    config = TrainConfig(epochs=1, max_train_batches=3, **FAST)

    def weights(seed: int) -> dict[str, torch.Tensor]:
        model = build_seeded(lambda: tiny_resnet(num_classes=4, dropout=0.3), seed=0)
        train_model(model, small_data, config.model_copy(update={"seed": seed}))
        return model.state_dict()

    first, again, other = weights(777), weights(777), weights(888)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_a_diverging_network_is_stopped_early(small_data: DatasetSplits) -> None:
    def plain_cnn() -> nn.Module:  # no normalisation layers to tame a huge step
        return nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 64, 4)
        )

    config = TrainConfig(epochs=10, lr=1e4, nonfinite_check_every=2, **{**FAST, "batch_size": 8})
    result = train_model(build_seeded(plain_cnn, seed=0), small_data, config)
    assert result.status == "diverged"
    assert "non-finite training loss in epoch 1" in (result.reason or "")
    assert result.steps < steps_per_epoch(len(small_data.train), config)  # stopped inside epoch 1
    assert result.epochs_completed == 0
    assert result.valid_acc is None and result.test_acc is None
    assert result.reason is not None and "non-finite" in result.reason
    sane = train_model(
        build_seeded(plain_cnn, seed=0),
        small_data,
        config.model_copy(update={"lr": 0.01, "epochs": 1}),
    )
    assert sane.status == "trained"  # the same network trains at a sane learning rate


def test_a_network_that_cannot_learn_stops_as_no_progress(small_data: DatasetSplits) -> None:
    config = TrainConfig(epochs=30, patience_epochs=2, **FAST)
    result = train_model(build_seeded(lambda: Blind(4), seed=0), small_data, config)
    assert result.status == "no_progress"
    assert result.epochs_completed == 2 < config.epochs
    assert result.valid_acc is not None and result.valid_acc <= 0.25 + config.progress_margin
    assert result.test_acc is None
    assert "chance" in (result.reason or "")


def test_patience_zero_turns_the_no_progress_check_off(small_data: DatasetSplits) -> None:
    config = TrainConfig(epochs=2, patience_epochs=0, max_train_batches=1, **FAST)
    result = train_model(build_seeded(lambda: Blind(4), seed=0), small_data, config)
    assert result.status == "trained" and result.epochs_completed == 2


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(
    small_data: DatasetSplits, tiny_resnet: type, tmp_path: Path
) -> None:
    """Dropout (global RNG), crops and flips (trainer RNG), momentum and BN stats all continue."""
    config = TrainConfig(epochs=3, max_train_batches=3, horizontal_flip=True, **FAST)

    def fresh(seed: int = 0) -> nn.Module:
        return build_seeded(lambda: tiny_resnet(num_classes=4, dropout=0.3), seed=seed)

    straight = fresh()
    uninterrupted = train_model(straight, small_data, config, checkpoint_path=tmp_path / "a.pt")

    checkpoint = tmp_path / "b.pt"
    first_leg = train_model(
        fresh(), small_data, config, checkpoint_path=checkpoint, stop_after_epochs=1
    )
    assert first_leg.status == "paused" and first_leg.epochs_completed == 1
    assert first_leg.test_acc is None
    torch.manual_seed(12345)  # the caller's RNG state must not matter to the resumed run
    resumed_model = fresh(seed=99)  # other initial weights: the checkpoint's must win
    resumed = train_model(resumed_model, small_data, config, checkpoint_path=checkpoint)

    assert resumed.status == uninterrupted.status == "trained"
    straight_state, resumed_state = straight.state_dict(), resumed_model.state_dict()
    assert straight_state.keys() == resumed_state.keys()
    for key in straight_state:
        assert torch.equal(straight_state[key], resumed_state[key]), key
    assert (
        resumed.valid_acc == uninterrupted.valid_acc and resumed.test_acc == uninterrupted.test_acc
    )
    assert [r.train_loss for r in resumed.history] == [r.train_loss for r in uninterrupted.history]
    assert resumed.steps == uninterrupted.steps == 9


def test_a_finished_checkpoint_replays_its_result(
    small_data: DatasetSplits, tiny_resnet: type, tmp_path: Path
) -> None:
    config = TrainConfig(epochs=1, max_train_batches=2, **FAST)
    checkpoint = tmp_path / "done.pt"
    trained = build_seeded(lambda: tiny_resnet(num_classes=4), seed=0)
    first = train_model(trained, small_data, config, checkpoint_path=checkpoint)
    replay_model = build_seeded(lambda: tiny_resnet(num_classes=4), seed=5)
    replay = train_model(replay_model, small_data, config, checkpoint_path=checkpoint)
    assert replay == first  # same timings too: nothing was trained or tested again
    assert all(
        torch.equal(a, b)
        for a, b in zip(
            trained.state_dict().values(), replay_model.state_dict().values(), strict=True
        )
    )


def test_resuming_with_other_settings_is_refused(
    small_data: DatasetSplits, tiny_resnet: type, tmp_path: Path
) -> None:
    config = TrainConfig(epochs=3, max_train_batches=1, **FAST)
    checkpoint = tmp_path / "run.pt"
    train_model(
        tiny_resnet(num_classes=4),
        small_data,
        config,
        checkpoint_path=checkpoint,
        stop_after_epochs=1,
    )
    with pytest.raises(TrainingError, match=r"other settings or data: lr: 0\.1 -> 0\.05"):
        train_model(
            tiny_resnet(num_classes=4),
            small_data,
            config.model_copy(update={"lr": 0.05}),
            checkpoint_path=checkpoint,
        )
    with pytest.raises(TrainingError, match="does not fit this model"):
        train_model(
            tiny_resnet(num_classes=4, width=4), small_data, config, checkpoint_path=checkpoint
        )


def test_a_checkpoint_is_never_unpickled_beyond_tensors(
    small_data: DatasetSplits, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"

    class RunsShell:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    checkpoint = tmp_path / "evil.pt"
    checkpoint.write_bytes(pickle.dumps({"format": 1, "payload": RunsShell()}, protocol=2))
    with pytest.raises(TrainingError, match="not a readable nader training checkpoint"):
        train_model(Blind(4), small_data, TrainConfig(epochs=1, **FAST), checkpoint_path=checkpoint)
    assert not marker.exists()


def test_pausing_needs_a_checkpoint(small_data: DatasetSplits) -> None:
    with pytest.raises(TrainingError, match="checkpoint_path"):
        train_model(Blind(4), small_data, TrainConfig(epochs=2, **FAST), stop_after_epochs=1)


def test_training_reads_no_test_data(small_data: DatasetSplits, tiny_resnet: type) -> None:
    """Honest selection: validation and training results do not depend on the test split at all."""
    config = TrainConfig(epochs=2, max_train_batches=2, **FAST)
    flipped_test = DatasetSplits(**{**small_data.__dict__, "test": small_data.valid})
    results: list[TrainResult] = []
    for data in (small_data, flipped_test):
        model = build_seeded(lambda: tiny_resnet(num_classes=4), seed=0)
        results.append(train_model(model, data, config))

    def without_timings(result: TrainResult) -> list[dict[str, object]]:
        return [record.model_dump(exclude={"seconds"}) for record in result.history]

    assert without_timings(results[0]) == without_timings(results[1])
    assert results[1].test_acc == results[1].valid_acc  # test set = valid set here: same accuracy


@pytest.mark.corpus
def test_a_small_cnn_beats_chance_on_real_cifar10(corpus: Path, runtime) -> None:
    data = load_dataset("cifar10", data_dir=corpus / "cifar-subsets", seed=0, runtime=runtime)

    def small_cnn() -> nn.Module:
        def stage(inputs: int, outputs: int, stride: int) -> list[nn.Module]:
            return [
                nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False),
                nn.BatchNorm2d(outputs),
                nn.ReLU(),
            ]

        return nn.Sequential(
            *stage(3, 16, 1),
            *stage(16, 32, 2),
            *stage(32, 64, 2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(64, 10),
        )

    config = TrainConfig(epochs=4, batch_size=64, lr=0.05, device="cpu")
    result = train_model(build_seeded(small_cnn, seed=0), data, config)
    assert result.status == "trained"
    assert result.valid_acc is not None and result.valid_acc > 0.2  # chance: 0.1
    assert result.test_acc is not None and result.test_acc > 0.2
