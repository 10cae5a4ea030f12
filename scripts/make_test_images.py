#!/usr/bin/env python3
"""scripts/make_test_images.py — writes the reference images under tests/data/images/ and expected.txt, the
results Hugging Face's processors would give for them, computed with Pillow + numpy the way HF does it
(convert_to_rgb via alpha_composite on white, PIL resize on uint8, float64 rescale stored as float32,
float32 normalisation, CHW). tests/loader/test_image_ref.c checks vkmm against expected.txt.

Needs Pillow and numpy (Debian: python3-pil python3-numpy; run with /usr/bin/python3). Deterministic: the
same Pillow gives the same files. Only developers run it; the tests read what it wrote.
"""
import os
import random
import struct
import sys

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "images")
GEMMA = (np.array([0.5, 0.5, 0.5], np.float32), np.array([0.5, 0.5, 0.5], np.float32))
CLIP = (np.array([0.48145466, 0.4578275, 0.40821073], np.float32),
        np.array([0.26862954, 0.26130258, 0.27577711], np.float32))


def fnv64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def to_rgb(im, bg=(255, 255, 255)):
    """HF image_transforms.convert_to_rgb, with the background as a parameter (HF: white)."""
    if im.mode == "RGB":
        return im
    rgba = im.convert("RGBA")
    back = Image.new("RGBA", rgba.size, bg)
    return Image.alpha_composite(back, rgba).convert("RGB")


def pixtral_size(w, h, edge, patch):
    """HF PixtralImageProcessor get_resize_output_image_size."""
    ratio = max(h / edge, w / edge)
    if ratio > 1:
        h = int(np.floor(h / ratio))
        w = int(np.floor(w / ratio))
    h, w = max(h, 1), max(w, 1)  # HF would ask PIL for a 0-pixel side and fail; vkmm keeps one patch
    return ((w - 1) // patch + 1) * patch, ((h - 1) // patch + 1) * patch


def hf_tensor(rgb, size, resample, mean, std):
    """HF resize (PIL on uint8), rescale (float64 × 1/255 → float32), normalize (float32), CHW."""
    arr = np.array(rgb)
    resized = np.array(Image.fromarray(arr).resize(size, resample=resample, reducing_gap=None))
    x = (resized.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - mean) / std
    return resized, np.ascontiguousarray(x.transpose(2, 0, 1).astype(np.float32))


def smooth(w, h, seed):
    """A picture-like image: gradients, a few discs and mild noise, so resizing has edges to get right."""
    rng = random.Random(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([255 * x / max(w - 1, 1), 255 * y / max(h - 1, 1), 128 + 100 * np.sin((x + y) / 5.0)], -1)
    for _ in range(4):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(2, max(w, h) / 3)
        col = [rng.randrange(256) for _ in range(3)]
        img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = col
    noise = np.array([rng.randrange(-6, 7) for _ in range(w * h * 3)]).reshape(h, w, 3)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def bmp_top_down(path, arr):
    """24-bit BMP with a negative height (rows stored top to bottom); Pillow does not write these."""
    h, w, _ = arr.shape
    row = (w * 3 + 3) // 4 * 4
    px = b"".join(arr[yy, :, ::-1].tobytes() + b"\0" * (row - w * 3) for yy in range(h))
    hdr = struct.pack("<2sIHHI", b"BM", 54 + len(px), 0, 0, 54)
    dib = struct.pack("<IiiHHIIiiII", 40, w, -h, 1, 24, 0, len(px), 2835, 2835, 0, 0)
    with open(path, "wb") as f:
        f.write(hdr + dib + px)


def bmp32_bgrx(path, arr, alpha):
    """32-bit BI_RGB BMP whose fourth bytes are not zero: Pillow reads them as padding (BGRX)."""
    h, w, _ = arr.shape
    px = np.concatenate([arr[::-1, :, ::-1], alpha[::-1, :, None]], -1).astype(np.uint8).tobytes()
    hdr = struct.pack("<2sIHHI", b"BM", 54 + len(px), 0, 0, 54)
    dib = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 32, 0, len(px), 2835, 2835, 0, 0)
    with open(path, "wb") as f:
        f.write(hdr + dib + px)


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {}

    def save(name, im, **kw):
        im.save(os.path.join(OUT, name), **kw)
        files[name] = True

    save("rgb_37x23.png", Image.fromarray(smooth(37, 23, 1)))
    save("rgb_120x90.png", Image.fromarray(smooth(120, 90, 2)))
    save("rgb_1x50.png", Image.fromarray(smooth(1, 50, 3)))
    save("rgb_50x1.png", Image.fromarray(smooth(50, 1, 4)))
    write_png(os.path.join(OUT, "adam7_37x23.png"), smooth(37, 23, 17), 8, 2, interlace=True)
    files["adam7_37x23.png"] = True
    wide = np.zeros((60, 1600, 3), np.uint8)
    wide[..., 0] = (np.arange(1600) * 255 // 1599)[None, :]
    wide[..., 1] = (np.arange(60) * 4)[:, None]
    wide[20:40, 700:900] = (250, 30, 60)
    save("rgb_1600x60.png", Image.fromarray(wide))
    save("grey_17x40.png", Image.fromarray(smooth(17, 40, 5)[..., 0], "L"))
    ga = np.stack([smooth(21, 13, 6)[..., 1], smooth(21, 13, 7)[..., 2]], -1)
    save("greyalpha_21x13.png", Image.fromarray(ga, "LA"))
    # every (value, alpha) pair: red = x, alpha = y, green and blue vary too
    yy, xx = np.mgrid[0:256, 0:256]
    allpairs = np.stack([xx, 255 - xx, (xx + yy) & 255, yy], -1).astype(np.uint8)
    save("rgba_256x256.png", Image.fromarray(allpairs, "RGBA"))
    pal = Image.fromarray(smooth(19, 11, 8)).quantize(16)
    pal.info["transparency"] = bytes([0, 128] + [255] * 14)
    save("palette_trns_19x11.png", pal, transparency=bytes([0, 128] + [255] * 14))
    rgb16 = (smooth(9, 7, 9).astype(np.uint16) * 257 + 3).astype(">u2")
    # Pillow has no 16-bit RGB writer from arrays; build the PNG by hand.
    write_png(os.path.join(OUT, "rgb16_9x7.png"), rgb16, 16, 2)
    files["rgb16_9x7.png"] = True
    save("rgb_33x21.bmp", Image.fromarray(smooth(33, 21, 10)))
    save("palette_15x9.bmp", Image.fromarray(smooth(15, 9, 11)).quantize(8))
    bmp_top_down(os.path.join(OUT, "topdown_11x5.bmp"), smooth(11, 5, 12))
    files["topdown_11x5.bmp"] = True
    bmp32_bgrx(os.path.join(OUT, "bgrx_13x7.bmp"), smooth(13, 7, 18), smooth(13, 7, 19)[..., 0])
    files["bgrx_13x7.bmp"] = True
    save("photo_48x32_q90.jpg", Image.fromarray(smooth(48, 32, 13)), quality=90)
    save("photo_48x32_444.jpg", Image.fromarray(smooth(48, 32, 14)), quality=95, subsampling=0)
    save("progressive_40x24.jpg", Image.fromarray(smooth(40, 24, 15)), quality=85, progressive=True)
    save("grey_24x16.jpg", Image.fromarray(smooth(24, 16, 16)[..., 1], "L"), quality=90)

    lines = ["# written by scripts/make_test_images.py with Pillow %s, numpy %s" % (Image.__version__,
                                                                                     np.__version__),
             "# decode FILE W H CHANNELS BG(hex) FNV64(rgb)",
             "# near FILE W H CHANNELS PIL_RGB_FILE   (JPEG: decoders differ; the test states its bound)",
             "# prep FILE MODE SIZE PATCH FILTER OUT_W OUT_H FNV64(uint8 resized) FNV64(float32 CHW)"]

    def decode_line(name, bg=(255, 255, 255)):
        im = Image.open(os.path.join(OUT, name))
        im.load()
        ch = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "P": 4 if "transparency" in im.info else 3}.get(im.mode)
        if name.startswith("rgb16"):
            ch = 3
        rgb = to_rgb(im, bg)
        lines.append("decode %s %d %d %d %02x%02x%02x %s" % (name, im.width, im.height, ch, *bg,
                                                             fnv64(np.array(rgb).tobytes())))
        return rgb

    for name in sorted(files):
        if name.endswith(".jpg"):
            im = Image.open(os.path.join(OUT, name))
            rgb = np.array(to_rgb(im))
            raw = name[:-4] + ".pil.rgb"
            with open(os.path.join(OUT, raw), "wb") as f:
                f.write(rgb.tobytes())
            lines.append("near %s %d %d %d %s" % (name, im.width, im.height, len(im.getbands()), raw))
            continue
        decode_line(name)
    decode_line("rgba_256x256.png", (0, 0, 0))
    decode_line("rgba_256x256.png", (40, 150, 220))
    decode_line("greyalpha_21x13.png", (0, 0, 0))

    def prep(name, mode, size, patch, filt):
        rgb = to_rgb(Image.open(os.path.join(OUT, name)))
        resample = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[filt]
        if mode == "square":
            out, (mean, std) = (size, size), GEMMA
        else:
            out, (mean, std) = pixtral_size(rgb.width, rgb.height, size, patch), CLIP
        u8, t = hf_tensor(rgb, out, resample, mean, std)
        lines.append("prep %s %s %d %d %s %d %d %s %s" % (name, mode, size, patch, filt, out[0], out[1],
                                                          fnv64(u8.tobytes()), fnv64(t.astype("<f4").tobytes())))

    for name in ["rgb_37x23.png", "adam7_37x23.png", "grey_17x40.png", "greyalpha_21x13.png", "palette_trns_19x11.png",
                 "rgb_33x21.bmp", "rgb_1x50.png", "rgb_50x1.png", "topdown_11x5.bmp", "bgrx_13x7.bmp"]:
        for size in (1, 5, 16, 23, 48):
            prep(name, "square", size, 0, "bilinear")
            prep(name, "square", size, 0, "bicubic")
        for edge in (14, 28, 40, 64):
            prep(name, "longest", edge, 14, "bicubic")
            prep(name, "longest", edge, 14, "bilinear")
    prep("rgba_256x256.png", "square", 100, 0, "bilinear")
    prep("rgba_256x256.png", "longest", 200, 14, "bicubic")
    prep("rgb_120x90.png", "square", 896, 0, "bilinear")
    prep("rgb_120x90.png", "longest", 1540, 14, "bicubic")
    prep("rgb_1600x60.png", "longest", 1540, 14, "bicubic")
    prep("rgb_1600x60.png", "square", 896, 0, "bilinear")
    prep("rgb_1600x60.png", "square", 7, 0, "bicubic")

    with open(os.path.join(OUT, "expected.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d files and %d expectations to %s" % (len(files), len(lines) - 4, os.path.normpath(OUT)))


def write_png(path, arr, depth, colour, interlace=False):
    """A PNG written by hand (Pillow writes neither 16-bit RGB nor Adam7): filter 0 on every row."""
    import zlib
    h, w, _ = arr.shape
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, xs, ys in (passes if interlace else [(0, 0, 1, 1)]):
        sub = arr[y0::ys, x0::xs]
        if sub.shape[0] and sub.shape[1]:
            raw += b"".join(b"\0" + sub[yy].tobytes() for yy in range(sub.shape[0]))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, int(interlace)))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    sys.exit(main())
