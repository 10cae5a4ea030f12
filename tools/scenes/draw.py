"""tools/scenes/draw.py — renders a scene to RGB pixels: canvas size, background (plain, gradient, blotches,
stripes), drawing style (flat, outlined, hand-drawn wobble), placement jitter and pixel noise all come from the
scene's seed. Shapes are drawn 3x supersampled and box-filtered, so edges are antialiased."""
import colorsys
import math

import numpy as np
from PIL import Image, ImageDraw

from .rng import Rng, pixel_noise
from .scene import COLOURS

MODEL_SIZE = 168
SLOT_XY = {"top": (0.5, 0.2), "left": (0.2, 0.5), "centre": (0.5, 0.5), "right": (0.8, 0.5),
           "bottom": (0.5, 0.8)}
RADIUS = {"small": (0.085, 0.1), "large": (0.155, 0.18)}  # bounding radius, fraction of the shorter side
STYLES = ["flat", "outline", "hand"]
SS = 3  # supersampling factor


def pick_size(r):
    """Canvas size: often the model's own input size, otherwise squares and oblongs from 48 to 320 pixels."""
    k = r.uniform()
    if k < 0.35:
        return MODEL_SIZE, MODEL_SIZE
    if k < 0.7:
        s = int(r.uniform(48, 321))
        return s, s
    while True:
        w, h = int(r.uniform(64, 321)), int(r.uniform(64, 321))
        if 0.66 <= w / h <= 1.5:
            return w, h


def outline_points(shape, r, rot):
    """Polygon (unit circle scale r, centred on 0, pointing up) as a list of (x, y)."""
    if shape == "circle":
        pts = [(0.86 * math.cos(t), 0.86 * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 48, endpoint=False)]
    elif shape == "square":
        a = 0.7
        pts = [(-a, -a), (a, -a), (a, a), (-a, a)]
    elif shape == "triangle":
        pts = [(math.sin(t), -math.cos(t)) for t in (0, 2 * math.pi / 3, 4 * math.pi / 3)]
        pts = [(x, y + 0.12) for x, y in pts]  # centre the ink, not the circumcircle
    elif shape == "star":
        pts = []
        for i in range(10):
            t = i * math.pi / 5
            rr = 1.0 if i % 2 == 0 else 0.42
            pts.append((rr * math.sin(t), -rr * math.cos(t) + 0.08))
    elif shape == "cross":
        a, b = 0.88, 0.3
        pts = [(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a), (-b, a), (-b, b), (-a, b), (-a, -b),
               (-b, -b)]
    else:
        raise ValueError(shape)
    c, s = math.cos(rot), math.sin(rot)
    return [((x * c - y * s) * r, (x * s + y * c) * r) for x, y in pts]


def densify(pts, step):
    """Extra points along each edge, so a hand-drawn wobble bends the sides too."""
    out = []
    for i, (x0, y0) in enumerate(pts):
        x1, y1 = pts[(i + 1) % len(pts)]
        n = max(1, int(math.hypot(x1 - x0, y1 - y0) / step))
        out += [(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(n)]
    return out


def background(r, w, h):
    base = np.array([255.0, 255.0, 255.0]) if r.chance(0.35) else np.array([r.uniform(200, 252) for _ in range(3)])
    img = np.empty((h, w, 3), np.float32)
    img[...] = base
    kind = r.choice(["plain", "plain", "gradient", "blotches", "stripes"])
    if kind != "plain":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "gradient":
        t = r.uniform(0, 2 * math.pi)
        ramp = (xx / w - 0.5) * math.cos(t) + (yy / h - 0.5) * math.sin(t)
        img += (ramp * r.uniform(-40, 40))[..., None] * np.array([r.uniform(0.5, 1) for _ in range(3)])
    elif kind == "blotches":
        for _ in range(1 + r.below(5)):
            cx, cy, rad = r.uniform(0, w), r.uniform(0, h), r.uniform(0.1, 0.4) * min(w, h)
            amp = np.array([r.uniform(-18, 18) for _ in range(3)])
            img += np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * rad * rad))[..., None] * amp
    elif kind == "stripes":
        t, period = r.uniform(0, math.pi), r.uniform(4, 20) * max(1, min(w, h) / 112)
        wave = np.sin(2 * math.pi * (xx * math.cos(t) + yy * math.sin(t)) / period)
        img += (wave * r.uniform(3, 9))[..., None]
    return img


def placements(scene, r, w, h):
    """Centre and radius of each object in pixels, jittered around its slot without overlaps."""
    s = min(w, h)
    sizes = [r.uniform(*RADIUS[o.size]) * s for o in scene.objects]
    for attempt in range(50):
        jit = 0.02 if attempt < 40 else 0.0
        out = []
        for o, rad in zip(scene.objects, sizes):
            fx, fy = SLOT_XY[o.slot]
            out.append(((fx + r.uniform(-jit, jit)) * w, (fy + r.uniform(-jit, jit)) * h, rad))
        ok = all(math.hypot(a[0] - b[0], a[1] - b[1]) > a[2] + b[2] + 0.02 * s
                 for i, a in enumerate(out) for b in out[i + 1:])
        ok = ok and all(rad <= x <= w - rad and rad <= y <= h - rad for x, y, rad in out)
        if ok:
            return out
    return out


def object_colour(r, name):
    (h0, h1), vmin = COLOURS[name]
    h = (r.uniform(h0, h1) % 360) / 360
    rgb = colorsys.hsv_to_rgb(h, r.uniform(0.6, 1.0), r.uniform(vmin, 1.0))
    return tuple(int(round(c * 255)) for c in rgb)


def render(scene, size=None, style=None, layout=None):
    """The scene as an H x W x 3 uint8 array. size=(w, h) and style override the seed's own choices (the
    seed's stream is consumed the same way either way). A list passed as layout receives each object's
    (centre x, centre y, radius) in pixels."""
    r = Rng(scene.seed, stream=2)
    w, h = pick_size(r)
    st = r.choice(STYLES)
    if size:
        w, h = size
    if style:
        st = style
    bg = background(r, w, h)
    canvas = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8)).resize((w * SS, h * SS), Image.NEAREST)
    d = ImageDraw.Draw(canvas)
    s = min(w, h)
    dark = r.chance(0.6)
    line_w = max(1, round(r.uniform(0.012, 0.03) * s * SS))
    places = placements(scene, r, w, h)
    if layout is not None:
        layout += places
    for o, (cx, cy, rad) in zip(scene.objects, places):
        fill = object_colour(r, o.colour)
        rot = math.radians(r.uniform(-10, 10))
        pts = outline_points(o.shape, rad * SS, rot)
        if st == "hand":
            pts = densify(pts, max(2.0, rad * SS * 0.15))
            ph, amp = r.uniform(0, 2 * math.pi), r.uniform(0.02, 0.06)
            pts = [(x * (1 + amp * math.sin(3 * i / len(pts) * 2 * math.pi + ph) + 0.015 * r.normal()),
                    y * (1 + amp * math.cos(2 * i / len(pts) * 2 * math.pi + ph) + 0.015 * r.normal()))
                   for i, (x, y) in enumerate(pts)]
        poly = [(cx * SS + x, cy * SS + y) for x, y in pts]
        d.polygon(poly, fill=fill)
        if st != "flat":
            ink = (20, 20, 20) if dark else tuple(c // 2 for c in fill)
            d.line(poly + [poly[0]], fill=ink, width=line_w, joint="curve")
    img = np.asarray(canvas.resize((w, h), Image.BOX), dtype=np.float32)
    sigma = r.uniform(0, 10) if r.chance(0.8) else 0.0
    img = img + sigma * pixel_noise(scene.seed, (h, w, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def to_model_input(rgb, size=MODEL_SIZE):
    """What vkmm (and Hugging Face's Gemma 3 processor) feeds the vision tower: a Pillow BILINEAR resize to a
    square, x/255, then (x - 0.5)/0.5; channel-planar float32."""
    im = Image.fromarray(rgb)
    if im.size != (size, size):
        im = im.resize((size, size), Image.BILINEAR)
    x = np.asarray(im, dtype=np.float64) * (1.0 / 255.0)
    x = (x.astype(np.float32) - np.float32(0.5)) / np.float32(0.5)
    return np.ascontiguousarray(x.transpose(2, 0, 1))
