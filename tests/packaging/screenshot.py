"""Grab the whole X screen ($DISPLAY) to a PNG with Qt and print its size and colour count.

    python tests/packaging/screenshot.py shot.png  ->  {"width": 1280, "height": 900, "colors": 9}

Run as its own process (Qt's screen grab reads the X server, not the app being tested), so the
same script checks the source checkout's window and the PyInstaller bundle's.
"""

from __future__ import annotations

import json
import sys

from PyQt6.QtWidgets import QApplication


def main(target: str) -> int:
    app = QApplication(sys.argv[:1])
    screen = app.primaryScreen()
    assert screen is not None
    pixmap = screen.grabWindow(0)
    if not pixmap.save(target, "PNG"):
        return 1
    image = pixmap.toImage()
    colors = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    print(json.dumps({"width": image.width(), "height": image.height(), "colors": len(colors)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
