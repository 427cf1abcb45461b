"""Device selection: CUDA float16 batched where a GPU is visible, CPU int8 otherwise."""

from __future__ import annotations

import pytest

from transcriber.device import choose_device


def test_cpu_machine_gets_int8_and_all_cores_sequential() -> None:
    plan = choose_device(cuda_devices=0, cpus=2)
    assert (plan.device, plan.compute_type, plan.cpu_threads, plan.batch_size) == ("cpu", "int8", 2, 1)


def test_gpu_machine_gets_float16_and_batches() -> None:
    plan = choose_device(cuda_devices=1, cpus=16)
    assert (plan.device, plan.compute_type) == ("cuda", "float16")
    assert plan.batch_size > 1
    assert plan.cpu_threads <= 4


def test_explicit_cpu_on_a_gpu_machine_and_explicit_precision() -> None:
    assert choose_device("cpu", cuda_devices=2, cpus=8).device == "cpu"
    assert choose_device("cuda", "int8_float16", cuda_devices=1, cpus=8).compute_type == "int8_float16"
    assert choose_device("auto", "float32", cuda_devices=0, cpus=8).compute_type == "float32"


def test_cuda_requested_without_gpu_and_bad_values_are_errors() -> None:
    with pytest.raises(ValueError, match="CUDA"):
        choose_device("cuda", cuda_devices=0, cpus=2)
    with pytest.raises(ValueError):
        choose_device("tpu")
    with pytest.raises(ValueError):
        choose_device(compute_type="int4")


@pytest.mark.parametrize(("visible", "device"), [(0, "cpu"), (1, "cuda"), (2, "cuda")])
def test_auto_follows_the_gpus_the_runtime_reports(visible: int, device: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever this machine has: the count comes from CTranslate2, replaced here.
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: visible)
    assert choose_device(cpus=4).device == device
    if visible == 0:
        with pytest.raises(ValueError, match="CUDA"):
            choose_device("cuda", cpus=4)


def test_a_broken_cuda_install_falls_back_to_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctranslate2

    def broken() -> int:
        raise RuntimeError("CUDA driver version is insufficient for CUDA runtime version")

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", broken)
    plan = choose_device(cpus=3)
    assert (plan.device, plan.compute_type, plan.cpu_threads) == ("cpu", "int8", 3)


def test_the_settings_choose_the_device_and_precision(monkeypatch: pytest.MonkeyPatch) -> None:
    from transcriber.settings import EngineSettings

    monkeypatch.setenv("KIROKU_DEVICE", "cpu")
    monkeypatch.setenv("KIROKU_COMPUTE_TYPE", "float32")
    settings = EngineSettings(_env_file=None)  # type: ignore[call-arg]
    plan = choose_device(settings.device, settings.compute_type, cuda_devices=1, cpus=4)
    assert (plan.device, plan.compute_type) == ("cpu", "float32")
