"""AppTest runs of the Settings form: save, see the saved value after a reload, conflicts and bad values."""
from __future__ import annotations

from core.config import Config
from core.service import Service


def widget(at, kind: str, label: str):
    (found,) = [w for w in getattr(at, kind) if w.label == label]
    return found


def press(at, label: str):
    (button,) = [b for b in at.button if b.label == label]
    return button.click().run()


def stored_settings(data_dir):
    svc = Service(Config(data_dir=data_dir), start_jobs=False)
    try:
        return svc.settings.stored(), svc.settings.effective()
    finally:
        svc.close()


def test_a_saved_setting_is_shown_after_a_reload_and_used_by_the_service(app_at, data_dir):
    at = app_at("pages/settings.py", reviewer="ann")
    assert widget(at, "number_input", "Beam size").value == 5
    widget(at, "number_input", "Beam size").set_value(2)
    widget(at, "text_input", "Language").set_value("de")
    widget(at, "toggle", "Auto-label after upload").set_value(True)
    press(at, "Save")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Saved" in s.value for s in at.success)
    stored, effective = stored_settings(data_dir)
    assert stored.version == 1 and stored.saved_by == "ann"
    assert (effective.transcriber_beam_size, effective.transcriber_language, effective.auto_label) == (2, "de", True)

    again = app_at("pages/settings.py")  # a new session: the page reads what was saved with the project
    assert widget(again, "number_input", "Beam size").value == 2
    assert widget(again, "text_input", "Language").value == "de"
    assert widget(again, "toggle", "Auto-label after upload").value is True
    assert any("version 1, by ann" in c.value for c in again.caption)


def test_a_save_after_someone_else_saved_shows_the_conflict_and_keeps_their_values(app_at, seeded, data_dir):
    at = app_at("pages/settings.py", reviewer="bob")
    seeded.settings.save({"transcriber_beam_size": 3}, expected_version=0, saved_by="ann")
    widget(at, "number_input", "Beam size").set_value(8)
    press(at, "Save")
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("Someone else saved these settings first" in e and "Nothing was overwritten" in e
               for e in errors), errors
    assert seeded.settings.effective().transcriber_beam_size == 3
    press(at, "Load the newer settings (version 1)")
    assert widget(at, "number_input", "Beam size").value == 3


def test_a_hub_model_name_is_refused_with_the_reason_and_nothing_is_saved(app_at, data_dir):
    at = app_at("pages/settings.py")
    widget(at, "selectbox", "Transcription engine").set_value("folder")
    widget(at, "text_input", "Model folder").set_value("large-v3")
    press(at, "Save")
    errors = [e.value for e in at.error]
    assert any("never downloads weights" in e and "Nothing was saved" in e for e in errors), errors
    assert stored_settings(data_dir)[0].version == 0


def test_reset_brings_back_the_configuration_defaults(app_at, seeded, data_dir):
    seeded.settings.save({"caption_lines": 1, "labeler": "rekognition"}, expected_version=0)
    at = app_at("pages/settings.py")
    assert widget(at, "number_input", "Caption lines").value == 1
    assert widget(at, "selectbox", "Labeler").value == "rekognition"
    press(at, "Reset to configuration defaults")
    assert any("configuration defaults apply" in s.value for s in at.success)
    assert widget(at, "number_input", "Caption lines").value == 2
    assert stored_settings(data_dir)[1] == seeded.settings.defaults()


def test_settings_lists_api_keys_without_secrets_and_failed_webhook_deliveries_that_can_be_sent_again(
        app_at, data_dir, monkeypatch):
    from core.webhooks import status_event

    monkeypatch.setenv("LOUPE_WEBHOOK_URLS", "http://127.0.0.1:9/down")
    monkeypatch.setenv("LOUPE_WEBHOOK_SECRET", "s3cret")
    svc = Service(Config.from_env(), start_jobs=False)
    try:
        key = svc.api_keys.create("shop-app", "client")
        (delivery,) = svc.webhooks.notify(status_event(loop_name="order-7", status="Stopped", loop_arn="arn:x",
                                                       flow_arn="arn:y", created_at="2026-01-01T00:00:00.000Z"))
        svc.records.put("webhook_delivery", delivery.delivery_id,
                        {**svc.records.get("webhook_delivery", delivery.delivery_id).body, "state": "failed",
                         "attempts": 8, "last_error": "URLError: connection refused"},
                        expected_version=1, parent="failed")
    finally:
        svc.close()
    at = app_at("pages/settings.py", reviewer="ann")
    assert not at.exception
    frames = [df.value for df in at.dataframe]
    assert any(key.access_key_id in frame.to_string() and "shop-app" in frame.to_string() for frame in frames)
    assert not any(key.secret_access_key in frame.to_string() for frame in frames)
    assert any("order-7" in frame.to_string() and "connection refused" in frame.to_string() for frame in frames)
    assert any("failed for good" in w.value for w in at.warning)
    press(at, "Send the failed deliveries again")
    svc = Service(Config.from_env(), start_jobs=False)
    try:
        assert [d.state for d in svc.webhooks.list()] == ["pending"]
    finally:
        svc.close()
