"""Screen pictures for the GUI tests without extra packages: the X virtual framebuffer's XWD
file (xvfb-run -s "-fbdir D") read into a numpy array, PNG written and read (8-bit RGB), and a
comparison with a stored baseline that tolerates small rendering differences."""
import struct
import zlib

import numpy


def read_xwd(path):
    """The screen as an H x W x 3 uint8 array (Xvfb's 24/32-bit TrueColor ZPixmap)."""
    data = open(path, "rb").read()
    fields = struct.unpack(">25I", data[:100])
    header_size, byte_order, bits_per_pixel, bytes_per_line = fields[0], fields[7], fields[11], fields[12]
    width, height, ncolors = fields[4], fields[5], fields[19]
    if bits_per_pixel != 32:
        raise ValueError("%s: %d bits per pixel, 32 expected" % (path, bits_per_pixel))
    start = header_size + 12 * ncolors
    rows = numpy.frombuffer(data, numpy.uint8, height * bytes_per_line, start).reshape(height, bytes_per_line)
    pixels = rows[:, :4 * width].reshape(height, width, 4)
    # LSB first (x86): the bytes are blue, green, red, pad.
    return pixels[:, :, [2, 1, 0]].copy() if byte_order == 0 else pixels[:, :, [1, 2, 3]].copy()


def _chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def write_png(path, rgb):
    height, width = rgb.shape[:2]
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b""))


def png_size(path):
    """(width, height) of any PNG."""
    return struct.unpack(">II", open(path, "rb").read()[16:24])


def read_png(path):
    """A PNG written by write_png (8-bit, filters none or up) as H x W x 3."""
    data = open(path, "rb").read()
    position, idat, header = 8, b"", None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        payload = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", payload)
        elif kind == b"IDAT":
            idat += payload
        position += 12 + length
    width, height, depth, colour = header[:4]
    channels = {2: 3, 6: 4}[colour]
    if depth != 8 or header[6] != 0:
        raise ValueError("%s: only 8-bit non-interlaced PNG is read here" % path)
    raw = numpy.frombuffer(zlib.decompress(idat), numpy.uint8)
    stride = width * channels
    image = numpy.zeros((height, stride), numpy.int32)
    previous = numpy.zeros(stride, numpy.int32)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)].astype(numpy.int32)
        if kind not in (0, 2):
            raise ValueError("%s: PNG filter %d (only files written by write_png are read)" % (path, kind))
        if kind == 2:
            line = (line + previous) & 255
        image[y] = line
        previous = line
    return image.reshape(height, width, channels)[:, :, :3].astype(numpy.uint8)


def difference(image, baseline, level=40):
    """Share of pixels whose colour differs by more than `level` in any channel (1.0 if the
    sizes differ)."""
    if image.shape != baseline.shape:
        return 1.0
    delta = numpy.abs(image.astype(numpy.int16) - baseline.astype(numpy.int16)).max(axis=2)
    return float(numpy.count_nonzero(delta > level)) / delta.size
