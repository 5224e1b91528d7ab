#!/usr/bin/env python3
"""Frame grabber for kiosk-vs-firefox.sh: grabs the X root window ($DISPLAY) with `xwd -root` as
fast as it can and writes one line per frame, "<epoch µs when the grab started> <md5>".

    grab-frames.py END_US OUT [MASK_RIGHT]   grab until END_US (epoch µs), append the lines to OUT
    grab-frames.py 0 - [MASK_RIGHT]          one frame, printed on stdout
    grab-frames.py ring Y                    "yes" when the rightmost button crossing row Y (the
                                             kiosk's red "Terminer ma session") has a focus ring

The hash covers the pixels only: the xwd header is left out (its colormap part changes when the
window manager installs colormaps, without anything changing on screen), and so are the rightmost
MASK_RIGHT pixels of every row, where WebKitGTK's and Firefox's overlay scrollbars appear on load
and fade out a second or two later (an animation that is not the page being painted).
A failed grab is written as "error" and ignored by the analysis.
"""
import hashlib
import struct
import subprocess
import sys
import time


def region_hash(x0, x1, rows, data, geometry):
    """md5 of the pixels in columns [x0, x1) of the first `rows` rows."""
    start, width, height, bytes_per_pixel, bytes_per_line, _ = geometry
    view = memoryview(data)
    md5 = hashlib.md5()
    for y in range(min(rows, height)):
        row = start + y * bytes_per_line
        md5.update(view[row + x0 * bytes_per_pixel:row + x1 * bytes_per_pixel])
    return md5.hexdigest()


def xwd_root():
    data = subprocess.run(["xwd", "-root", "-silent"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          check=True).stdout
    # XWDFileHeader: 25 CARD32, always written most significant byte first.
    h = struct.unpack(">25I", data[:100])
    header_size, width, height = h[0], h[4], h[5]
    bits_per_pixel, bytes_per_line, ncolors = h[11], h[12], h[19]
    start = header_size + 12 * ncolors
    if len(data) < start + bytes_per_line * height:
        raise ValueError("short xwd dump")
    byte_order = "little" if h[7] == 0 else "big"
    return data, (start, width, height, bits_per_pixel // 8, bytes_per_line, byte_order)


def frame_hash(mask_right):
    data, geometry = xwd_root()
    width, height = geometry[1], geometry[2]
    return region_hash(0, max(0, width - mask_right), height, data, geometry)


def rgb(data, geometry, x, y):
    start, _, _, bytes_per_pixel, bytes_per_line, byte_order = geometry
    off = start + y * bytes_per_line + x * bytes_per_pixel
    v = int.from_bytes(data[off:off + bytes_per_pixel], byte_order)   # TrueColor 0xRRGGBB
    return (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF


def ring(y):
    """Going left from the right edge of row y, is the first coloured pixel the dark blue of a focus
    ring (yes) or the red of the "Terminer" button (no)?"""
    data, geometry = xwd_root()
    for x in range(geometry[1] - 1, -1, -1):
        r, g, b = rgb(data, geometry, x, y)
        if b > 100 and r < 60 and b > g + 40:
            return "yes"
        if r > 120 and g < 90 and b < 90:
            return "no"
    return "no-button"


def grab(mask_right):
    try:
        return frame_hash(mask_right)
    except (subprocess.CalledProcessError, ValueError, struct.error, OSError):
        return "error"


def main():
    if sys.argv[1] == "ring":
        print(ring(int(sys.argv[2])))
        return
    end_us = int(sys.argv[1])
    out = sys.argv[2]
    mask_right = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if end_us == 0:
        print(grab(mask_right))
        return
    with open(out, "a", encoding="ascii") as f:
        while True:
            t = time.time_ns() // 1000
            f.write(f"{t} {grab(mask_right)}\n")
            f.flush()
            if t >= end_us:
                break


if __name__ == "__main__":
    main()
