#!/usr/bin/env python3
"""scripts/make_hostile_inputs.py — writes the hostile images and manifests under tests/data/hostile-images/
and tests/data/hostile-manifests/, each with the words its error message must contain (expected.txt there).
Every one must make `vkmm info-image` / `vkmm info-manifest` exit with status 1 and a one-line message naming
the file; tests/loader/test_image_hostile.py checks that. Standard library only; deterministic.
The JPEG cases are cut from tests/data/images/photo_48x32_q90.jpg (written by make_test_images.py).
"""
import os
import random
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
IMG = os.path.join(ROOT, "hostile-images")
MAN = os.path.join(ROOT, "hostile-manifests")


def chunk(kind, data, crc=None):
    c = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", c & 0xFFFFFFFF)


def png(w, h, depth=8, colour=2, interlace=0, idat=None, rows=None, extra=b""):
    sig = b"\x89PNG\r\n\x1a\n"
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace))
    if idat is None:
        raw = rows if rows is not None else b"".join(b"\0" + b"\x80" * (w * 3) for _ in range(h))
        idat = zlib.compress(raw, 9)
    return sig + ihdr + extra + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def bmp(w, h, bpp=24, compression=0, pixels=None, hsz=40, off=None):
    row = (w * bpp + 31) // 32 * 4 if w > 0 else 0
    if pixels is None:
        pixels = b"\x40" * min(row * min(abs(h), 64), 4096)
    off = 14 + hsz if off is None else off
    dib = struct.pack("<IiiHHIIiiII", hsz, w, h, 1, bpp, compression, len(pixels), 2835, 2835, 0, 0)
    dib += b"\0" * (hsz - 40)
    return struct.pack("<2sIHHI", b"BM", off + len(pixels), 0, 0, off) + dib + pixels


def main():
    os.makedirs(IMG, exist_ok=True)
    os.makedirs(MAN, exist_ok=True)
    rng = random.Random(4)
    images = {}

    good = png(8, 8)
    idat_at = good.index(b"IDAT") - 4
    iend_at = good.index(b"IEND") - 4
    images["empty.png"] = (b"", "empty file")
    images["one_byte.png"] = (b"\x89", "unknown format")
    images["png_signature_only.png"] = (good[:8], "truncated PNG")
    images["png_cut_in_signature.png"] = (good[:5], "unknown format")
    images["png_cut_in_ihdr.png"] = (good[:20], "truncated PNG")
    images["png_cut_in_idat.png"] = (good[:idat_at + 15], "truncated PNG")
    images["png_cut_before_iend.png"] = (good[:iend_at], "truncated PNG")
    images["png_cut_in_iend_crc.png"] = (good[:-2], "truncated PNG")
    images["png_100000x100000.png"] = (png(100000, 100000, idat=zlib.compress(b"\0" * 64)), "over the cap")
    images["png_1x1000000.png"] = (png(1, 1000000, idat=zlib.compress(b"\0" * 64)), "over the cap")
    images["png_16384x16384_rgba.png"] = (png(16384, 16384, colour=6, idat=zlib.compress(b"\0" * 64)),
                                          "decoded (x 4 bytes)")
    images["png_zero_width.png"] = (png(0, 10, idat=zlib.compress(b"\0" * 10)), "bad size")
    images["png_zero_height.png"] = (png(10, 0, idat=zlib.compress(b"")), "bad size")
    bad = bytearray(good)
    bad[iend_at - 1] ^= 0x55  # last byte of IDAT's CRC
    images["png_bad_idat_crc.png"] = (bytes(bad), "fails its CRC")
    bad = bytearray(good)
    bad[20] ^= 1  # inside IHDR: the CRC no longer matches
    images["png_bad_ihdr_crc.png"] = (bytes(bad), "fails its CRC")
    images["png_corrupt_idat.png"] = (png(8, 8, idat=bytes(rng.randrange(256) for _ in range(60))),
                                      "cannot decode PNG")
    images["png_idat_not_zlib.png"] = (png(8, 8, idat=b"\xff" * 40), "cannot decode PNG")
    images["png_too_few_pixels.png"] = (png(8, 8, idat=zlib.compress(b"\0" * 20)), "cannot decode PNG")

    images["png_bad_depth.png"] = (png(8, 8, depth=3), "PNG")
    images["png_bad_colour_type.png"] = (png(8, 8, colour=5), "PNG")
    images["png_bad_interlace.png"] = (png(8, 8, interlace=2), "PNG")
    images["png_palette_without_plte.png"] = (png(8, 8, colour=3, rows=b"".join(b"\0" + b"\1" * 8
                                                                                 for _ in range(8))), "PNG")
    huge_len = good[:idat_at] + struct.pack(">I", 0x7FFFFFF0) + good[idat_at + 4:]
    images["png_chunk_length_huge.png"] = (huge_len, "truncated PNG")
    neg_len = good[:idat_at] + struct.pack(">I", 0xFFFFFFF0) + good[idat_at + 4:]
    images["png_chunk_length_negative.png"] = (neg_len, "claims")
    images["png_first_chunk_not_ihdr.png"] = (b"\x89PNG\r\n\x1a\n" + chunk(b"tEXt", b"a\0b") + good[8:],
                                              "not a 13-byte IHDR")
    images["png_no_idat.png"] = (good[:idat_at] + chunk(b"IEND", b""), "no IDAT")
    images["png_bad_chunk_type.png"] = (good[:idat_at] + chunk(b"I\x00AT", b"xx") + good[idat_at:],
                                        "bad chunk type")

    src = os.path.join(ROOT, "images", "photo_48x32_q90.jpg")
    with open(src, "rb") as f:
        jpg = f.read()
    sof = jpg.index(b"\xff\xc0")
    sos = jpg.index(b"\xff\xda")
    images["jpeg_soi_only.jpg"] = (jpg[:3], "truncated JPEG")
    images["jpeg_cut_in_header.jpg"] = (jpg[:sof - 7], "truncated JPEG")
    images["jpeg_cut_after_sof.jpg"] = (jpg[:sof + 19], "truncated JPEG")
    images["jpeg_cut_in_scan.jpg"] = (jpg[:sos + (len(jpg) - sos) // 2], "truncated JPEG")
    images["jpeg_cut_before_eoi.jpg"] = (jpg[:-2], "truncated JPEG")
    images["jpeg_cut_in_eoi.jpg"] = (jpg[:-1], "truncated JPEG")

    def patch_dims(h, w):
        return jpg[:sof + 5] + struct.pack(">HH", h, w) + jpg[sof + 9:]

    images["jpeg_65535x65535.jpg"] = (patch_dims(65535, 65535), "over the cap")
    images["jpeg_1x60000.jpg"] = (patch_dims(60000, 1), "over the cap")
    images["jpeg_zero_width.jpg"] = (patch_dims(32, 0), "JPEG")
    images["jpeg_zero_height.jpg"] = (patch_dims(0, 48), "JPEG")
    images["jpeg_sos_before_sof.jpg"] = (b"\xff\xd8" + jpg[sos:], "before any frame header")
    images["jpeg_eoi_only.jpg"] = (b"\xff\xd8\xff\xd9", "before any scan")
    images["jpeg_segment_length_1.jpg"] = (jpg[:sof + 2] + b"\x00\x01" + jpg[sof + 4:], "corrupt JPEG")
    images["jpeg_segment_past_end.jpg"] = (jpg[:sof + 2] + b"\xff\xf0" + jpg[sof + 4:], "truncated JPEG")
    scan = bytearray(jpg)
    for i in range(sos + 20, len(scan) - 2, 7):
        if scan[i] != 0xFF and scan[i - 1] != 0xFF:
            scan[i] = rng.randrange(255)
    images["jpeg_scrambled_scan.jpg"] = (bytes(scan), None)  # may decode to noise or fail: must not crash
    images["jpeg_arithmetic.jpg"] = (jpg[:sof] + b"\xff\xc9" + jpg[sof + 2:], "arithmetic coding")

    images["bmp_huge_height.bmp"] = (bmp(4, 1 << 30), "over the cap")
    images["bmp_height_int_min.bmp"] = (bmp(4, -(1 << 31)), "bad dimensions")
    images["bmp_negative_huge_height.bmp"] = (bmp(4, -(1 << 30)), "over the cap")
    images["bmp_huge_width.bmp"] = (bmp(0x7FFFFFFF, 1), "over the cap")
    images["bmp_100000x100000.bmp"] = (bmp(100000, 100000, bpp=1, pixels=b""), "over the cap")
    images["bmp_zero_width.bmp"] = (bmp(0, 4), "bad dimensions")
    images["bmp_zero_height.bmp"] = (bmp(4, 0), "bad dimensions")
    images["bmp_negative_width.bmp"] = (bmp(-4, 4), "bad dimensions")
    images["bmp_truncated_pixels.bmp"] = (bmp(16, 16)[:-100], "truncated BMP")
    images["bmp_headers_only.bmp"] = (bmp(16, 16)[:54], "truncated BMP")
    images["bmp_cut_in_header.bmp"] = (bmp(16, 16)[:20], "truncated BMP")
    images["bmp_rle8.bmp"] = (bmp(4, 4, bpp=8, compression=1), "RLE")
    images["bmp_bad_bpp.bmp"] = (bmp(4, 4, bpp=7), "bits per pixel")
    images["bmp_bad_header_size.bmp"] = (bmp(4, 4, hsz=41), "header size")
    images["bmp_offset_past_end.bmp"] = (bmp(4, 4, off=1 << 20), "truncated BMP")

    images["gif.gif"] = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00"
                         b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;", "GIF images are not supported")
    images["gif_named_png.png"] = (b"GIF87a" + b"\0" * 20, "GIF images are not supported")
    images["psd.psd"] = (b"8BPS\x00\x01" + b"\0" * 6 + struct.pack(">HIIHH", 3, 64, 64, 8, 3) + b"\0" * 32,
                         "PSD images are not supported")
    images["tiff_le.tif"] = (b"II*\x00\x08\x00\x00\x00" + b"\0" * 32, "TIFF images are not supported")
    images["tiff_be.tif"] = (b"MM\x00*\x00\x00\x00\x08" + b"\0" * 32, "TIFF images are not supported")
    images["webp.webp"] = (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\0" * 28, "WebP images are not supported")
    images["hdr.hdr"] = (b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 8 +X 8\n" + b"\0" * 32,
                         "Radiance HDR images are not supported")
    images["pic.pic"] = (b"\x53\x80\xf6\x34" + b"\0" * 100, "Softimage PIC images are not supported")
    images["ppm.ppm"] = (b"P6\n4 4\n255\n" + b"\0" * 48, "PNM images are not supported")
    images["random_bytes.png"] = (bytes(rng.randrange(256) for _ in range(4096)), "unknown format")
    images["text.jpg"] = (b"hello, I am not an image\n", "unknown format")
    images["zeros.bmp"] = (b"\0" * 1000, "unknown format")

    with open(os.path.join(IMG, "expected.txt"), "w") as f:
        f.write("# FILE<TAB>words its error must contain ('-': any error). Written by scripts/make_hostile_inputs.py\n")
        for name in sorted(images):
            data, words = images[name]
            with open(os.path.join(IMG, name), "wb") as g:
                g.write(data)
            f.write("%s\t%s\n" % (name, words or "-"))

    laughs = ["model: x.gguf", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, (p, q) in enumerate(zip("abcdefgh", "bcdefghi")):
        laughs.append("%s: &%s [%s]" % (q, q, ",".join(["*" + p] * 9)))
    manifests = {
        "syntax_unclosed_list.yaml": ("model: [a.gguf\n", "not a list"),
        "syntax_unclosed_flow_map.yaml": ("{model: exists.gguf, context: 4\n", "YAML error"),
        "syntax_bad_indent.yaml": ("model: x.gguf\n  context: 4\n bad: 1\n", "YAML error"),
        "syntax_tab.yaml": ("model: x.gguf\n\tcontext: 4\n", "YAML error"),
        "syntax_unterminated_quote.yaml": ('model: "x.gguf\n', "YAML error"),
        "context_string.yaml": ('model: exists.gguf\ncontext: "4096"\n', "must be a number"),
        "context_negative.yaml": ("model: exists.gguf\ncontext: -4096\n", "between 1 and"),
        "context_zero.yaml": ("model: exists.gguf\ncontext: 0\n", "between 1 and"),
        "context_huge.yaml": ("model: exists.gguf\ncontext: 99999999999999999999999\n", "context"),
        "context_float.yaml": ("model: exists.gguf\ncontext: 40.96\n", "integer"),
        "context_hex.yaml": ("model: exists.gguf\ncontext: 0x1000\n", "integer"),
        "context_bool.yaml": ("model: exists.gguf\ncontext: true\n", "integer"),
        "context_list.yaml": ("model: exists.gguf\ncontext: [1, 2]\n", "not a list"),
        "temperature_negative.yaml": ("model: exists.gguf\nsampling: {temperature: -0.5}\n", "between 0 and"),
        "temperature_nan.yaml": ("model: exists.gguf\nsampling: {temperature: .nan}\n", "temperature"),
        "temperature_inf.yaml": ("model: exists.gguf\nsampling: {temperature: 1e999}\n", "temperature"),
        "top_p_above_one.yaml": ("model: exists.gguf\nsampling:\n  top_p: 1.5\n", "between 0 and 1"),
        "min_p_negative.yaml": ("model: exists.gguf\nsampling:\n  min_p: -0.1\n", "between 0 and 1"),
        "top_k_float.yaml": ("model: exists.gguf\nsampling: {top_k: 4.5}\n", "integer"),
        "top_k_quoted.yaml": ("model: exists.gguf\nsampling: {top_k: '40'}\n", "must be a number"),
        "seed_negative.yaml": ("model: exists.gguf\nsampling: {seed: -1}\n", "non-negative"),
        "seed_too_big.yaml": ("model: exists.gguf\nsampling: {seed: 18446744073709551616}\n", "2^64"),
        "repeat_penalty_zero.yaml": ("model: exists.gguf\nsampling: {repeat_penalty: 0}\n", "above 0 and at most"),
        "sampling_scalar.yaml": ("model: exists.gguf\nsampling: 5\n", "must be a mapping"),
        "sampling_unknown_key.yaml": ("model: exists.gguf\nsampling: {temprature: 0.5}\n", "unknown key"),
        "sampling_duplicate.yaml": ("model: exists.gguf\nsampling: {top_k: 1, top_k: 2}\n", "duplicate key"),
        "unknown_key.yaml": ("modle: exists.gguf\n", "unknown key `modle`"),
        "duplicate_key.yaml": ("model: exists.gguf\ncontext: 4\ncontext: 8\n", "duplicate key `context`"),
        "duplicate_model.yaml": ("model: exists.gguf\nmodel: exists.gguf\n", "duplicate key `model`"),
        "missing_model_file.yaml": ("model: does-not-exist.gguf\n", "No such file"),
        "missing_mmproj_file.yaml": ("model: exists.gguf\nmmproj: no-mmproj.gguf\n", "mmproj file"),
        "model_is_directory.yaml": ("model: .\n", "not a regular file"),
        "model_absent.yaml": ("context: 4096\n", "`model` is missing"),
        "model_null.yaml": ("model: ~\n", "needs a value"),
        "model_empty_string.yaml": ("model: ''\n", "is empty"),
        "model_list.yaml": ("model: [a.gguf, b.gguf]\n", "not a list"),
        "model_mapping.yaml": ("model: {path: a.gguf}\n", "not a mapping"),
        "model_binary_tag.yaml": ("model: !!binary aGVsbG8=\n", "tagged"),
        "model_nul_escape.yaml": ('model: "exists.gguf\\0.txt"\n', "NUL"),
        "chat_template_path.yaml": ("model: exists.gguf\nchat_template: ../../etc/passwd\n", "template name"),
        "hf_repo_spaces.yaml": ("huggingface: not a repo\nmodel: x.gguf\n", "Hugging Face repository"),
        "hf_repo_dots.yaml": ("huggingface: ../etc\nmodel: x.gguf\n", "Hugging Face repository"),
        "hf_repo_three_parts.yaml": ("huggingface: a/b/c\nmodel: x.gguf\n", "Hugging Face repository"),
        "hf_model_path.yaml": ("huggingface: org/repo\nmodel: ../x.gguf\n", "must be a file name"),
        "hf_mmproj_path.yaml": ("huggingface: org/repo\nmodel: x.gguf\nmmproj: /etc/passwd\n", "must be a file name"),
        "description_list.yaml": ("model: exists.gguf\ndescription: [a, b]\n", "must be a string"),
        "empty.yaml": ("", "empty manifest"),
        "only_comment.yaml": ("# nothing here\n", "empty manifest"),
        "root_list.yaml": ("- model: x.gguf\n", "not a list"),
        "root_scalar.yaml": ("just a string\n", "single value"),
        "two_documents.yaml": ("model: exists.gguf\n---\nmodel: exists.gguf\n", "one YAML document"),
        "alias_simple.yaml": ("model: &m exists.gguf\nmmproj: *m\n", "aliases"),
        "billion_laughs.yaml": ("\n".join(laughs) + "\n", "unknown key `a`"),
        "billion_laughs_in_value.yaml": ("model: exists.gguf\nsystem: &a [x, x]\nmmproj: *a\n", "not a list"),
        "alias_as_key.yaml": ("model: &k exists.gguf\n*k : 1\n", "aliases"),
        "deep_nesting_lists.yaml": ("model: " + "[" * 20000 + "]" * 20000 + "\n", "not a list"),
        "deep_nesting_maps.yaml": ("model: " + "{a: " * 20000 + "1" + "}" * 20000 + "\n", "not a mapping"),
        "deep_nesting_sampling.yaml": ("model: exists.gguf\nsampling: {top_k: " + "[" * 5000 + "]" * 5000 + "}\n",
                                       "not a list"),
        "long_key.yaml": ("k" * 100000 + ": 1\n", "mapping of keys"),
        "long_known_key_prefix.yaml": ("model: exists.gguf\n" + "context" * 100 + ": 1\n", "unknown key"),
        "key_is_list.yaml": ("[a, b]: 1\n", "plain names"),
        "invalid_utf8.yaml": (b"model: \xff\xfe\xfd.gguf\n", "YAML error"),
        "control_chars.yaml": (b"model: a\x01b.gguf\n", "YAML error"),
        "binary_garbage.yaml": (bytes(rng.randrange(256) for _ in range(2048)), "YAML error"),
        "nul_bytes.yaml": (b"model: exists.gguf\n\0\0\0\0context: 4\n", "YAML error"),
    }
    with open(os.path.join(MAN, "expected.txt"), "w") as f:
        f.write("# FILE<TAB>words its error must contain. Written by scripts/make_hostile_inputs.py\n")
        for name in sorted(manifests):
            text, words = manifests[name]
            data = text.encode() if isinstance(text, str) else text
            with open(os.path.join(MAN, name), "wb") as g:
                g.write(data)
            f.write("%s\t%s\n" % (name, words))
    with open(os.path.join(MAN, "exists.gguf"), "wb") as g:  # the model file the type-error cases point at
        g.write(b"GGUF, not a real one: manifests only check that the file exists\n")
    print("wrote %d hostile images and %d hostile manifests" % (len(images), len(manifests)))


if __name__ == "__main__":
    main()
