"""The one per-process model cache: each model loads once, whoever asks first, and one load never blocks another."""
from __future__ import annotations

import threading

from core.models import ModelCache


def test_a_model_is_loaded_once_however_many_threads_ask_at_once():
    cache, loads, gate = ModelCache(), [], threading.Event()

    def load():
        gate.wait(10)
        loads.append(1)
        return object()

    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(cache.get("labeler", "local", load))) for _ in range(6)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert len(loads) == 1 and len(seen) == 6 and len({id(m) for m in seen}) == 1


def test_labelers_and_transcribers_share_the_cache_but_not_their_names():
    cache = ModelCache()
    labeler = cache.get("labeler", "base", lambda: "a labeler")
    assert cache.get("transcriber", "base", lambda: "a transcriber") == "a transcriber"
    assert cache.get("labeler", "base", lambda: "loaded again") is labeler


def test_a_slow_load_does_not_hold_up_another_model():
    cache, started, release = ModelCache(), threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(10)
        return "whisper"

    loader = threading.Thread(target=lambda: cache.get("transcriber", "base", slow))
    loader.start()
    assert started.wait(10)
    assert cache.get("labeler", "local", lambda: "onnx") == "onnx"  # answered while "base" is still loading
    release.set()
    loader.join(10)
    assert cache.get("transcriber", "base", lambda: "again") == "whisper"


def test_a_model_put_in_is_used_instead_of_loading_one():
    cache = ModelCache()
    cache.put("labeler", "rekognition", "a stubbed client")
    assert cache.get("labeler", "rekognition", lambda: "a real client") == "a stubbed client"


def test_the_service_holds_one_cache_for_labeling_and_transcription(service):
    assert service.labeling.models is service.transcription.models is service.models
