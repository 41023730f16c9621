"""An image viewer with Zoom in, Zoom out, Move (drag to pan) and Fit image, all in the browser with no round trip.

A Streamlit components-v2 element with inline HTML/CSS/JS. The image travels as a data URL (downscaled to at most
`max_side_px` so a huge photo does not bloat the page); the file name is set with textContent, never as HTML.
"""
from __future__ import annotations

import base64
import io

import streamlit as st
from PIL import Image

HTML = """
<div class="lv">
  <div class="lv-tools" role="toolbar" aria-label="Image tools">
    <button type="button" data-act="in" title="Zoom in">➕ Zoom in</button>
    <button type="button" data-act="out" title="Zoom out">➖ Zoom out</button>
    <button type="button" data-act="move" title="Move: drag to pan" aria-pressed="false">✋ Move</button>
    <button type="button" data-act="fit" title="Fit image">⤢ Fit image</button>
    <span class="lv-zoom" aria-live="polite">100%</span>
  </div>
  <div class="lv-view" data-scale="1" data-tx="0" data-ty="0"><img class="lv-img" alt="" draggable="false"/></div>
  <div class="lv-name"></div>
</div>
"""

CSS = """
.lv { font-family: var(--st-font, sans-serif); }
.lv-tools { display: flex; gap: .4rem; align-items: center; margin-bottom: .4rem; flex-wrap: wrap; }
.lv-tools button { border: 1px solid #c9ccd3; background: #fff; border-radius: .4rem; padding: .25rem .6rem;
  cursor: pointer; font-size: .85rem; }
.lv-tools button[aria-pressed="true"] { background: #e6f0ff; border-color: #4a7bd0; }
.lv-zoom { font-size: .8rem; color: #555; margin-left: .3rem; }
.lv-view { position: relative; overflow: hidden; height: var(--lv-height, 460px); background: #1e1f24;
  border-radius: .4rem; display: flex; align-items: center; justify-content: center; touch-action: none; }
.lv-view.lv-pan { cursor: grab; }
.lv-view.lv-dragging { cursor: grabbing; }
.lv-img { max-width: 100%; max-height: 100%; object-fit: contain; transform-origin: center center;
  user-select: none; transition: transform 60ms linear; }
.lv-name { font-size: .8rem; color: #666; margin-top: .25rem; overflow-wrap: anywhere; }
"""

JS = """
export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector('.lv');
  const view = root.querySelector('.lv-view');
  const img = root.querySelector('.lv-img');
  const zoomText = root.querySelector('.lv-zoom');
  const moveBtn = root.querySelector('[data-act="move"]');
  view.style.setProperty('--lv-height', (data && data.height_px ? data.height_px : 460) + 'px');
  const st = root.__lv || (root.__lv = { scale: 1, tx: 0, ty: 0, pan: false, src: null });
  const apply = () => {
    img.style.transform = `translate(${st.tx}px, ${st.ty}px) scale(${st.scale})`;
    view.dataset.scale = String(Math.round(st.scale * 1000) / 1000);
    view.dataset.tx = String(Math.round(st.tx));
    view.dataset.ty = String(Math.round(st.ty));
    zoomText.textContent = Math.round(st.scale * 100) + '%';
    moveBtn.setAttribute('aria-pressed', st.pan ? 'true' : 'false');
    view.classList.toggle('lv-pan', st.pan);
  };
  if (data && data.src !== st.src) {
    st.src = data.src; st.scale = 1; st.tx = 0; st.ty = 0;
    img.src = data.src;
    img.alt = data.alt || '';
    root.querySelector('.lv-name').textContent = data.alt || '';
  }
  const clamp = (v) => Math.min(8, Math.max(0.25, v));
  const onClick = (e) => {
    const act = e.target.closest('button') && e.target.closest('button').dataset.act;
    if (act === 'in') st.scale = clamp(st.scale * 1.25);
    else if (act === 'out') st.scale = clamp(st.scale / 1.25);
    else if (act === 'move') st.pan = !st.pan;
    else if (act === 'fit') { st.scale = 1; st.tx = 0; st.ty = 0; }
    else return;
    apply();
  };
  let drag = null;
  const onDown = (e) => {
    if (!st.pan) return;
    drag = { x: e.clientX, y: e.clientY, tx: st.tx, ty: st.ty };
    view.classList.add('lv-dragging');
    view.setPointerCapture && e.pointerId !== undefined && view.setPointerCapture(e.pointerId);
    e.preventDefault();
  };
  const onMove = (e) => {
    if (!drag) return;
    st.tx = drag.tx + (e.clientX - drag.x);
    st.ty = drag.ty + (e.clientY - drag.y);
    apply();
  };
  const onUp = () => { drag = null; view.classList.remove('lv-dragging'); };
  const onWheel = (e) => {
    if (!e.ctrlKey) return;
    e.preventDefault();
    st.scale = clamp(st.scale * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
    apply();
  };
  const tools = root.querySelector('.lv-tools');
  tools.addEventListener('click', onClick);
  view.addEventListener('pointerdown', onDown);
  view.addEventListener('pointermove', onMove);
  view.addEventListener('pointerup', onUp);
  view.addEventListener('pointerleave', onUp);
  view.addEventListener('wheel', onWheel, { passive: false });
  apply();
  return () => {
    tools.removeEventListener('click', onClick);
    view.removeEventListener('pointerdown', onDown);
    view.removeEventListener('pointermove', onMove);
    view.removeEventListener('pointerup', onUp);
    view.removeEventListener('pointerleave', onUp);
    view.removeEventListener('wheel', onWheel);
  };
}
"""

_viewer = st.components.v2.component("loupe.image_viewer", html=HTML, css=CSS, js=JS)


def data_url(image_bytes: bytes, *, max_side_px: int = 1600) -> str:
    """A data URL for the browser: the original if small, else a JPEG downscaled to max_side_px."""
    img = Image.open(io.BytesIO(image_bytes))
    fmt = (img.format or "").lower()
    if fmt in ("jpeg", "png", "webp", "gif") and max(img.size) <= max_side_px and len(image_bytes) < 2_000_000:
        return f"data:image/{fmt};base64," + base64.b64encode(image_bytes).decode()
    img = img.convert("RGB")
    img.thumbnail((max_side_px, max_side_px))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=88)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def image_viewer(image_bytes: bytes, *, name: str, key: str, height_px: int = 460) -> None:
    """Show an image with in-browser zoom and pan. `name` is shown as plain text."""
    _viewer(key=key, data={"src": data_url(image_bytes), "alt": name, "height_px": height_px})
