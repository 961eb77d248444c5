"""The classic two-view Gruen zone diagram as an SVG file (no dependencies): the stem's outline
in the AP view (zones 1-7: lateral 1-3, tip 4, medial 5-7) and in the lateral view (zones 8-14:
anterior 8-10, tip 11, posterior 12-14), each zone filled by a table column (by default the
cortical fraction) and its value written in it."""
import math
from xml.sax.saxutils import escape

# AP view: lateral side on the left, medial on the right; lateral view: anterior left,
# posterior right. Zones top to bottom on each side, then the tip.
VIEWS = (("AP view", (1, 2, 3), (7, 6, 5), 4, ("lateral", "medial")),
         ("Lateral view", (8, 9, 10), (14, 13, 12), 11, ("anterior", "posterior")))
TOP_WIDTH, BOTTOM_WIDTH, HEIGHT, TIP = 120.0, 60.0, 420.0, 40.0


def colour(value):
    """White (0) to dark red (1); grey where there is no value."""
    if value is None or value != value:
        return "#cccccc"
    t = min(1.0, max(0.0, value))
    low, high = (247, 247, 247), (178, 24, 43)
    return "#%02x%02x%02x" % tuple(int(round(a + t * (b - a))) for a, b in zip(low, high))


def half_width(y):
    return 0.5 * (TOP_WIDTH + (BOTTOM_WIDTH - TOP_WIDTH) * y / HEIGHT)


def zone_polygons(x0, y0, side_zones_left, side_zones_right, tip_zone):
    """{zone: [(x, y), ...]} of one view's outline, the stem axis at x0, its top at y0."""
    polygons = {}
    third = HEIGHT / 3.0
    for sign, zones in ((-1.0, side_zones_left), (1.0, side_zones_right)):
        for i, zone in enumerate(zones):
            top, bottom = i * third, (i + 1) * third
            polygons[zone] = [(x0, y0 + top), (x0 + sign * half_width(top), y0 + top),
                              (x0 + sign * half_width(bottom), y0 + bottom), (x0, y0 + bottom)]
    # The tip: a rounded cap below the last third.
    w = half_width(HEIGHT)
    cap = [(x0 - w, y0 + HEIGHT)]
    steps = 12
    for k in range(steps + 1):
        angle = math.pi * k / steps
        cap.append((x0 - w * math.cos(angle), y0 + HEIGHT + TIP * math.sin(angle)))
    polygons[tip_zone] = cap
    return polygons


def write_zone_diagram(rows, path, column="CorticalFraction", title="Cortical contact by Gruen zone"):
    """Writes the diagram of `column` (rows: the zone table as dicts with 'Zone') to `path`."""
    values = {int(float(row["Zone"])): float(row[column]) for row in rows if column in row}
    width, height = 560, HEIGHT + TIP + 140
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
             'font-family="sans-serif">' % (width, height, width, height),
             '<rect width="100%" height="100%" fill="white"/>',
             '<text x="%d" y="28" font-size="18" text-anchor="middle">%s</text>' % (width / 2, escape(title))]
    for index, (name, left, right, tip, sides) in enumerate(VIEWS):
        x0, y0 = 140 + index * 280, 80
        parts.append('<text x="%g" y="%g" font-size="15" text-anchor="middle">%s</text>' % (x0, y0 - 22, name))
        parts.append('<text x="%g" y="%g" font-size="11" text-anchor="end">%s</text>' % (
            x0 - TOP_WIDTH / 2 - 4, y0 - 6, sides[0]))
        parts.append('<text x="%g" y="%g" font-size="11">%s</text>' % (x0 + TOP_WIDTH / 2 + 4, y0 - 6, sides[1]))
        for zone, polygon in zone_polygons(x0, y0, left, right, tip).items():
            value = values.get(zone)
            points = " ".join("%.1f,%.1f" % p for p in polygon)
            parts.append('<polygon class="zone" data-zone="%d" points="%s" fill="%s" stroke="black" '
                         'stroke-width="1.5"/>' % (zone, points, colour(value)))
            cy = sum(p[1] for p in polygon) / len(polygon)
            # Side zones: the label in the middle of the zone's own half; the tip: on the axis.
            cx = x0 if zone == tip else x0 + (0.5 if zone in right else -0.5) * half_width(cy - y0)
            label = "-" if value is None or value != value else "%.0f%%" % (100 * value)
            ink = "white" if value is not None and value == value and value > 0.6 else "black"
            # Two text elements, not tspans: simple SVG renderers (Qt's) ignore tspan positions.
            parts.append('<text class="zone-number" x="%.1f" y="%.1f" font-size="12" font-weight="bold" '
                         'fill="%s" text-anchor="middle">%d</text>' % (cx, cy - 4, ink, zone))
            parts.append('<text class="value" data-zone="%d" x="%.1f" y="%.1f" font-size="11" fill="%s" '
                         'text-anchor="middle">%s</text>' % (zone, cx, cy + 10, ink, label))
    whole = values.get(0)
    if whole is not None:
        parts.append('<text x="%d" y="%g" font-size="13" text-anchor="middle">whole stem: %.0f %%</text>'
                     % (width / 2, height - 40, 100 * whole))
    for k in range(11):
        parts.append('<rect x="%g" y="%g" width="20" height="10" fill="%s"/>' % (170 + 20 * k, height - 25,
                                                                            colour(k / 10.0)))
    parts.append('<text x="165" y="%g" font-size="10" text-anchor="end">0 %%</text>' % (height - 16))
    parts.append('<text x="395" y="%g" font-size="10">100 %%</text>' % (height - 16))
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")
