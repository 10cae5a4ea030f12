#!/usr/bin/env python3
"""scripts/embed_text.py — embeds a text file as a C string: embed_text.py SYMBOL IN OUT."""
import sys

sym, src, out = sys.argv[1:4]
data = open(src, "rb").read()
body = ",".join(str(b) for b in data)
with open(out, "w") as f:
    f.write("/* generated from %s by scripts/embed_text.py; do not edit */\n" % src.split("/")[-1])
    f.write("#include <stddef.h>\n")
    f.write("const char %s[] = {%s%s0};\n" % (sym, body, "," if body else ""))
    f.write("const size_t %s_len = %d;\n" % (sym, len(data)))
