"""The Settings form for labeling and transcription: widgets only; it returns what the admin asked for."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from core.project_settings import TITLES, EffectiveSettings

FOLDER = "folder"


def labeling_transcription_form(current: EffectiveSettings, defaults: EffectiveSettings, *, labelers: Sequence[str],
                                engines: Mapping[str, str], key: str) -> tuple[str, dict[str, Any]] | None:
    """("save", values) or ("reset", {}) when a button is pressed, else None. Each control names its default."""
    def default(name: str) -> str:
        value = getattr(defaults, name)
        shown = ("on" if value else "off") if isinstance(value, bool) else (value if value != "" else "empty")
        return f"Configuration default (LOUPE_{name.upper()}): {shown}."

    with st.form(key, border=True):
        st.markdown("**Image labeling**")
        cols = st.columns(2, vertical_alignment="bottom")
        labeler = cols[0].selectbox(TITLES["labeler"], list(labelers), help=default("labeler"),
                                    index=list(labelers).index(current.labeler) if current.labeler in labelers else 0)
        auto_label = cols[1].toggle(TITLES["auto_label"], value=current.auto_label, help=default("auto_label"))
        st.markdown("**Transcription**")
        options = [*engines, FOLDER]
        in_folder = current.transcriber not in engines
        cols = st.columns(2)
        engine = cols[0].selectbox(TITLES["transcriber"], options, index=len(engines) if in_folder
                                   else options.index(current.transcriber), help=default("transcriber"),
                                   format_func=lambda e: engines.get(e, "a CTranslate2 Whisper model folder (right)"))
        folder = cols[1].text_input("Model folder", value=current.transcriber if in_folder else "",
                                    placeholder="/models/whisper-small-ct2",
                                    help="Used when the engine is a model folder: it must hold model.bin, "
                                         "config.json and tokenizer.json (ct2-transformers-converter's output).")
        cols = st.columns(3, vertical_alignment="bottom")
        language = cols[0].text_input(TITLES["transcriber_language"], value=current.transcriber_language,
                                      placeholder="detect", help="A code such as en, de or fr; empty detects it. "
                                      "tiny.en is English-only and ignores this. " + default("transcriber_language"))
        beam_size = cols[1].number_input(TITLES["transcriber_beam_size"], min_value=1, max_value=10, step=1,
                                         value=current.transcriber_beam_size, help="Higher is a little more accurate "
                                         "and slower. " + default("transcriber_beam_size"))
        vad = cols[2].toggle(TITLES["transcriber_vad"], value=current.transcriber_vad,
                             help="Skip stretches without speech before decoding. " + default("transcriber_vad"))
        st.markdown("**Captions** (SRT and WebVTT export)")
        cols = st.columns(3)
        gap_ms = cols[0].number_input(TITLES["caption_gap_ms"], min_value=0, max_value=60_000, step=100,
                                      value=current.caption_gap_ms, help="A new caption starts after this much "
                                      "silence. " + default("caption_gap_ms"))
        line_chars = cols[1].number_input(TITLES["caption_line_chars"], min_value=10, max_value=200, step=1,
                                          value=current.caption_line_chars, help=default("caption_line_chars"))
        lines = cols[2].number_input(TITLES["caption_lines"], min_value=1, max_value=4, step=1,
                                     value=current.caption_lines, help=default("caption_lines"))
        cols = st.columns([1, 2, 3])
        save = cols[0].form_submit_button("Save", type="primary")
        reset = cols[1].form_submit_button("Reset to configuration defaults")
    if reset:
        return "reset", {}
    if not save:
        return None
    return "save", {"labeler": labeler, "auto_label": auto_label,
                    "transcriber": folder.strip() if engine == FOLDER else engine,
                    "transcriber_language": language, "transcriber_beam_size": int(beam_size),
                    "transcriber_vad": vad, "caption_gap_ms": int(gap_ms), "caption_line_chars": int(line_chars),
                    "caption_lines": int(lines)}
