"""Entry point of the PyInstaller bundle (openpanel.spec): the `openpanel` command line.

Started without arguments (a double-click) it opens the desktop app; `openpanel serve`,
`openpanel desktop` and every other command work as in a pip install.
"""

from __future__ import annotations

import sys

from appliance.cli import main

if __name__ == "__main__":
    if len(sys.argv) == 1:
        sys.argv.append("desktop")
    main()
