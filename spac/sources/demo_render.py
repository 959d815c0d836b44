"""Draws one demo pedestrian (``demo.py``'s :class:`Look` under a :class:`Shot`) as a 256x128 JPEG crop.

Plain Pillow polygons on a numpy background, then lighting and sensor noise; about 2-3 ms per image on one
core. Each attribute has a visible cue: hair cap or long hair, sleeve length and collar/zipper/hem bands for
the upper garment, leg coverage and stitching for the lower one, sole stripes or shafts for shoes, and the
carried item at the back, hand or hip. Geometry is in units of the figure's height ``u``.
"""

from __future__ import annotations

import io
import random
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from spac.sources.demo import COLOURS, HEIGHT, WIDTH, Look, Shot

Colour = tuple[int, int, int]
# Muted (wall, ground) palettes per camera, so a camera has a recognisable scene.
_SCENES: tuple[tuple[Colour, Colour], ...] = (
    ((150, 150, 140), (92, 90, 86)),
    ((120, 132, 148), (110, 108, 100)),
    ((170, 160, 140), (130, 118, 96)),
    ((96, 110, 96), (84, 84, 80)),
    ((186, 184, 178), (140, 140, 138)),
    ((128, 112, 104), (72, 70, 72)),
)


@lru_cache(maxsize=1)
def _noise_bank() -> np.ndarray:
    """A fixed field of unit Gaussian noise; each image reads a window of it at its own offset."""
    return np.random.default_rng(20240607).standard_normal((2 * HEIGHT, 2 * WIDTH, 3)).astype(np.float32)


def _tint(colour: Colour, shade: Colour, factor: float = 1.0) -> Colour:
    return tuple(max(0, min(255, int((c + s) * factor))) for c, s in zip(colour, shade, strict=True))


def _jitter(rng: random.Random, colour: Colour, amount: int) -> Colour:
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in colour)


def _background(shot: Shot, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    w, h = size
    wall, ground = (_jitter(rng, c, 18) for c in _SCENES[(shot.camera - 1) % len(_SCENES)])
    horizon = int(h * rng.uniform(0.45, 0.8))
    ramp = np.linspace(0.85, 1.1, h, dtype=np.float32)[:, None]
    column = np.where(np.arange(h)[:, None] < horizon, np.array(wall, np.float32), np.array(ground, np.float32))
    arr = np.clip(column * ramp, 0, 255).astype(np.uint8)
    img = Image.fromarray(np.ascontiguousarray(np.broadcast_to(arr[:, None, :], (h, w, 3))))
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(1, 5)):  # windows, doors, poles, parked things
        x0, y0 = rng.uniform(-0.2, 1.0) * w, rng.uniform(0.0, 0.9) * h
        x1, y1 = x0 + rng.uniform(0.05, 0.5) * w, y0 + rng.uniform(0.03, 0.4) * h
        draw.rectangle((x0, y0, x1, y1), fill=_jitter(rng, wall if y0 < horizon else ground, 40))
    return img


class _Figure:
    """Helpers that place body parts relative to the figure's frame (centre x, top y, height u, pixel scale r)."""

    def __init__(self, draw: ImageDraw.ImageDraw, cx: float, top: float, u: float) -> None:
        self.draw, self.cx, self.top, self.u = draw, cx, top, u

    def p(self, x: float, y: float) -> tuple[float, float]:
        return (self.cx + x * self.u, self.top + y * self.u)

    def poly(self, points, fill: Colour) -> None:
        self.draw.polygon([self.p(x, y) for x, y in points], fill=fill)

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill: Colour) -> None:
        self.draw.rectangle((*self.p(x0, y0), *self.p(x1, y1)), fill=fill)

    def ellipse(self, x0: float, y0: float, x1: float, y1: float, fill: Colour) -> None:
        self.draw.ellipse((*self.p(x0, y0), *self.p(x1, y1)), fill=fill)

    def limb(self, a, b, w0: float, w1: float, fill: Colour) -> None:
        """A tapered quad from point ``a`` (width ``w0``) to ``b`` (width ``w1``)."""
        (ax, ay), (bx, by) = a, b
        dx, dy = bx - ax, by - ay
        n = max((dx * dx + dy * dy) ** 0.5, 1e-6)
        nx, ny = -dy / n, dx / n
        self.poly([(ax + nx * w0 / 2, ay + ny * w0 / 2), (bx + nx * w1 / 2, by + ny * w1 / 2),
                   (bx - nx * w1 / 2, by - ny * w1 / 2), (ax - nx * w0 / 2, ay - ny * w0 / 2)], fill)

    def line(self, a, b, fill: Colour, width: float) -> None:
        self.draw.line([self.p(*a), self.p(*b)], fill=fill, width=max(1, round(width * self.u)))


def _draw_person(f: _Figure, look: Look, shot: Shot) -> None:
    colour = {name: _tint(COLOURS[c], look.shade) for name, (_, c) in
              (("upper", look.upper), ("lower", look.lower), ("shoes", look.shoes))}
    hair_c = _tint(COLOURS[look.hair[1]], look.shade)
    bag_c = None if look.belonging is None else _tint(COLOURS[look.belonging[1]], look.shade)
    dark = {k: _tint(v, (0, 0, 0), 0.62) for k, v in colour.items()}
    skin = look.skin
    man = look.gender == "man"
    b = look.build
    sw = (0.118 if man else 0.098) * b  # shoulder half width
    ww, hw = (0.086 if man else 0.07) * b, (0.09 if man else 0.104) * b  # waist / hip half widths
    y_sh, y_waist, y_hip, y_knee, y_ankle = 0.155, 0.45, 0.52, 0.73, 0.95
    spread = 0.02 + 0.05 * shot.stride
    feet = (-0.045 * b - spread / 2, 0.045 * b + spread / 2)
    hips = (-0.047 * b, 0.047 * b)
    s = shot.handed
    upper_t, lower_t, shoe_t = look.upper[0], look.lower[0], look.shoes[0]
    belong_t = None if look.belonging is None else look.belonging[0]

    # behind the body: backpack seen from the front peeks out at both sides; long hair falls behind shoulders
    if belong_t == "backpack" and not shot.back_view:
        f.rect(-sw - 0.03, y_sh + 0.02, sw + 0.03, y_waist - 0.02, bag_c)
    if look.hair[0] == "long" and not shot.back_view:
        f.rect(-0.062, 0.04, 0.062, y_sh + 0.13, hair_c)

    # legs (skin where the garment stops), shoes, lower garment
    cover_to = {"jeans": y_ankle, "trousers": y_ankle, "shorts": 0.68, "skirt": y_hip}[lower_t]
    for hx, fx in zip(hips, feet, strict=True):
        knee = (hx + (fx - hx) * 0.5, y_knee)
        f.limb((hx, y_hip - 0.02), knee, 0.075 * b, 0.055, skin)
        f.limb(knee, (fx, y_ankle), 0.055, 0.042, skin)
        if lower_t in ("jeans", "trousers"):
            f.limb((hx, y_hip - 0.03), knee, 0.08 * b, 0.06, colour["lower"])
            f.limb(knee, (fx, y_ankle), 0.06, 0.048, colour["lower"])
            if lower_t == "jeans":  # faded front panel and stitching
                light = _tint(colour["lower"], (0, 0, 0), 1.28 if colour["lower"][2] < 200 else 0.9)
                f.limb((hx, y_hip + 0.03), knee, 0.03, 0.024, light)
                f.line((hx - 0.03, y_hip), (fx - 0.022, y_ankle), dark["lower"], 0.006)
            else:
                f.line((hx, y_hip), (fx, y_ankle), dark["lower"], 0.005)
        elif lower_t == "shorts":
            f.limb((hx, y_hip - 0.03), (hx + (fx - hx) * 0.3, cover_to), 0.085 * b, 0.07, colour["lower"])
        # shoes
        shaft = shoe_t == "boots"
        if shaft:
            f.limb((fx, y_ankle - 0.12), (fx, y_ankle), 0.062, 0.06, colour["shoes"])
        f.ellipse(fx - 0.04, y_ankle - 0.015, fx + 0.04, 1.0, colour["shoes"])
        if shoe_t == "sneakers":
            sole = (250, 250, 250) if sum(colour["shoes"]) < 600 else (150, 150, 150)
            f.rect(fx - 0.04, 0.985, fx + 0.04, 1.0, sole)
            f.line((fx - 0.015, y_ankle + 0.012), (fx + 0.015, y_ankle + 0.012), sole, 0.006)
        elif shoe_t == "shoes":
            f.rect(fx - 0.04, 0.99, fx + 0.04, 1.0, dark["shoes"])
    if lower_t == "skirt":
        flare = 0.03 + 0.03 * shot.stride
        f.poly([(-ww, y_waist - 0.01), (ww, y_waist - 0.01), (hw + flare, 0.72), (-hw - flare, 0.72)], colour["lower"])
        f.line((-hw - flare, 0.715), (hw + flare, 0.715), dark["lower"], 0.008)

    # torso: coats run to mid-thigh; sweaters have ribbed bands
    hem = 0.6 if upper_t == "coat" else y_waist + 0.03
    hem_w = hw + 0.012 if upper_t == "coat" else ww + 0.008
    waist = y_waist - 0.05
    torso = [(-sw, y_sh), (sw, y_sh), (ww + 0.01, waist), (hem_w, hem), (-hem_w, hem), (-ww - 0.01, waist)]
    f.poly(torso, colour["upper"])
    if upper_t == "sweater":
        f.rect(-hem_w, hem - 0.03, hem_w, hem, dark["upper"])
    # arms: sleeves (short for t-shirts), skin forearms, hands; the swing moves hands forward/back
    for side in (-1, 1):
        swing = shot.swing * side * 0.03
        shoulder = (side * (sw - 0.012), y_sh + 0.012)
        elbow = (side * (sw + 0.022) + swing * 0.5, y_sh + 0.17)
        hand = (side * (sw + 0.03) + swing, y_sh + 0.33)
        f.limb(shoulder, elbow, 0.058, 0.048, colour["upper"] if upper_t != "t-shirt" else skin)
        f.limb(elbow, hand, 0.048, 0.04, colour["upper"] if upper_t != "t-shirt" else skin)
        if upper_t == "t-shirt":
            f.limb(shoulder, (shoulder[0] + (elbow[0] - shoulder[0]) * 0.55, y_sh + 0.1), 0.066, 0.06, colour["upper"])
        elif upper_t == "sweater":
            f.limb((hand[0] - (hand[0] - elbow[0]) * 0.12, hand[1] - 0.03), hand, 0.044, 0.042, dark["upper"])
        f.ellipse(hand[0] - 0.022, hand[1] - 0.01, hand[0] + 0.022, hand[1] + 0.035, skin)
    if not shot.back_view:
        if upper_t == "jacket":
            f.line((0.0, y_sh + 0.01), (0.0, hem), dark["upper"], 0.012)
        elif upper_t == "shirt":
            collar = _tint(colour["upper"], (0, 0, 0), 0.75)
            f.poly([(-0.04, y_sh - 0.005), (0.04, y_sh - 0.005), (0.0, y_sh + 0.06)], collar)
            for i in range(4):
                f.ellipse(-0.006, y_sh + 0.09 + 0.06 * i, 0.006, y_sh + 0.102 + 0.06 * i, dark["upper"])
        elif upper_t == "coat":
            f.line((-0.05, y_sh), (0.0, y_sh + 0.14), dark["upper"], 0.01)
            f.line((0.05, y_sh), (0.0, y_sh + 0.14), dark["upper"], 0.01)
            f.line((0.0, y_sh + 0.14), (0.0, hem), dark["upper"], 0.008)

    # neck, head, hair
    f.rect(-0.022, 0.1, 0.022, y_sh + 0.01, skin)
    f.ellipse(-0.05, 0.0, 0.05, 0.13, skin)
    if shot.back_view:
        f.ellipse(-0.054, -0.006, 0.054, 0.125, hair_c)
        if look.hair[0] == "long":
            f.poly([(-0.06, 0.06), (0.06, 0.06), (0.07, y_sh + 0.14), (-0.07, y_sh + 0.14)], hair_c)
    else:
        f.draw.chord((*f.p(-0.056, -0.008), *f.p(0.056, 0.1)), 180, 360, fill=hair_c)
        if look.hair[0] == "long":
            f.rect(-0.062, 0.03, -0.04, y_sh + 0.1, hair_c)
            f.rect(0.04, 0.03, 0.062, y_sh + 0.1, hair_c)
        for ex in (-0.02, 0.02):
            f.ellipse(ex - 0.006, 0.06, ex + 0.006, 0.072, (40, 30, 30))

    # carried items
    if belong_t == "backpack":
        if shot.back_view:
            f.rect(-sw + 0.012, y_sh + 0.025, sw - 0.012, y_waist - 0.01, bag_c)
            f.line((-sw + 0.02, y_sh + 0.09), (sw - 0.02, y_sh + 0.09), _tint(bag_c, (0, 0, 0), 0.6), 0.01)
        else:
            for side in (-1, 1):
                f.limb((side * (sw - 0.035), y_sh), (side * (sw - 0.045), y_sh + 0.2), 0.022, 0.022, bag_c)
    elif belong_t == "handbag":
        hx, hy = s * (sw + 0.03) + shot.swing * s * 0.03, y_sh + 0.36
        f.line((hx - 0.03, hy + 0.02), (hx, hy - 0.02), bag_c, 0.008)
        f.line((hx + 0.03, hy + 0.02), (hx, hy - 0.02), bag_c, 0.008)
        f.poly([(hx - 0.04, hy + 0.02), (hx + 0.04, hy + 0.02), (hx + 0.05, hy + 0.1), (hx - 0.05, hy + 0.1)], bag_c)
    elif belong_t == "bag":
        f.line((-s * (sw - 0.03), y_sh), (s * (hw + 0.01), y_hip), bag_c, 0.014)
        f.rect(s * hw - 0.045, y_hip - 0.03, s * hw + 0.055, y_hip + 0.06, bag_c)


def render(look: Look, shot: Shot, *, quality: int) -> bytes:
    """Draw ``look`` under ``shot``; low-resolution shots are drawn at half size and upscaled (soft edges)."""
    rng = random.Random(shot.rng_seed)
    r = 0.5 if shot.lowres else 1.0
    w, h = round(WIDTH * r), round(HEIGHT * r)
    img = _background(shot, rng, (w, h))
    u = HEIGHT * shot.scale * look.stature * r
    bottom = h - 2 * r - shot.foot_margin * (h - u - 4 * r)
    figure = _Figure(ImageDraw.Draw(img), cx=w / 2 + shot.dx * w, top=bottom - u, u=u)
    _draw_person(figure, look, shot)
    if shot.lowres:
        img = img.resize((WIDTH, HEIGHT), Image.BILINEAR)
    oy, ox = shot.noise_offset
    noise = _noise_bank()[oy : oy + HEIGHT, ox : ox + WIDTH]
    pixels = np.asarray(img, dtype=np.float32) * np.asarray(shot.gain, dtype=np.float32) + noise * shot.noise
    out = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out, format="JPEG", quality=quality)
    return out.getvalue()
