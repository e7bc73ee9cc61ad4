#!/usr/bin/python3
"""The shapes world (issue 11) drawn by another program than the training generator: Python + PIL (Debian python3-pil).

Shares only the world's definition with services/ShapesWorld (color names and reference RGB values, the four shapes,
two size ranges, backgrounds of another color or gray); everything else is its own: Python's random module, its own
geometry (a triangle and a star drawn by PIL's polygon fill, a circle by ellipse), antialiasing by drawing at 4x and
downsampling with a Lanczos filter (Skia uses analytic coverage), and its own noise. Used to check that the trained
CLIP learned the world, not the quirks of one rasterizer.

usage: /usr/bin/python3 render_world.py OUT_DIR [--count 500] [--seed 7] [--size 64]
writes OUT_DIR/00000.png ... and OUT_DIR/labels.jsonl ({"file", "color", "shape", "size", "background"} a line).
"""
import argparse
import json
import math
import os
import random

from PIL import Image, ImageDraw

COLORS = {
    "red": (220, 30, 30), "green": (30, 160, 50), "blue": (30, 70, 220), "yellow": (240, 220, 30),
    "orange": (245, 140, 20), "purple": (140, 50, 180), "white": (245, 245, 245), "black": (15, 15, 15),
}
BACKGROUNDS = dict(COLORS, gray=(128, 128, 128))
SHAPES = ["circle", "square", "triangle", "star"]
RADIUS = {"small": (0.15, 0.22), "large": (0.29, 0.40)}  # of the image side: circumradius
SUPERSAMPLE = 4


def jitter(rgb, rng, amount=10):
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in rgb)


def polygon(cx, cy, radii, start_deg):
    n = len(radii)
    return [(cx + r * math.cos(math.radians(start_deg + 360.0 * i / n)),
             cy + r * math.sin(math.radians(start_deg + 360.0 * i / n))) for i, r in enumerate(radii)]


def render(rng, size):
    color = rng.choice(sorted(COLORS))
    shape = rng.choice(SHAPES)
    size_name = rng.choice(sorted(RADIUS))
    background = rng.choice([b for b in sorted(BACKGROUNDS) if b != color])
    lo, hi = RADIUS[size_name]
    r = rng.uniform(lo, hi)
    cx, cy = (rng.uniform(r + 0.02, 1 - r - 0.02) for _ in range(2))
    angle = rng.uniform(0, 360)
    big = size * SUPERSAMPLE
    image = Image.new("RGB", (big, big), jitter(BACKGROUNDS[background], rng))
    draw = ImageDraw.Draw(image)
    fill = jitter(COLORS[color], rng)
    x, y, rad = cx * big, cy * big, r * big
    if shape == "circle":
        draw.ellipse([x - rad, y - rad, x + rad, y + rad], fill=fill)
    elif shape == "square":
        draw.polygon(polygon(x, y, [rad] * 4, angle + 45), fill=fill)
    elif shape == "triangle":
        draw.polygon(polygon(x, y, [rad] * 3, angle - 90), fill=fill)
    else:
        draw.polygon(polygon(x, y, [rad, 0.42 * rad] * 5, angle - 90), fill=fill)
    image = image.resize((size, size), Image.LANCZOS)
    noisy = bytes(max(0, min(255, int(round(v + rng.gauss(0, 3.0))))) for v in image.tobytes())
    return Image.frombytes("RGB", (size, size), noisy), {"color": color, "shape": shape, "size": size_name, "background": background}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    with open(os.path.join(args.out, "labels.jsonl"), "w") as labels:
        for i in range(args.count):
            image, label = render(rng, args.size)
            name = f"{i:05d}.png"
            image.save(os.path.join(args.out, name))
            labels.write(json.dumps(dict(file=name, **label)) + "\n")
    print(f"wrote {args.count} images (PIL, seed {args.seed}, {args.size} px) to {args.out}")


if __name__ == "__main__":
    main()
