"""Render the sample digest (monitor/digest/sample.py, the one the tests use) to HTML, and to
PNG with headless Chromium, to eyeball its layout.

    python scripts/render_digest_png.py [OUT_DIR]     # default: /tmp/digest-preview

Writes digest.html, digest.txt, digest.eml and, when /usr/bin/chromium exists, digest.png
at phone width (420 px). Nothing here is used by the monitor itself.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from email import policy
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.digest.render import render_digest
from monitor.digest.sample import SENDER, preview_digest

CHROMIUM = Path("/usr/bin/chromium")


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else Path("/tmp/digest-preview")
    out_dir.mkdir(parents=True, exist_ok=True)
    message = render_digest(preview_digest(), sender=SENDER)
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    html_path = out_dir / "digest.html"
    html_path.write_text(html_part.get_content(), encoding="utf-8")
    (out_dir / "digest.txt").write_text(text_part.get_content(), encoding="utf-8")
    (out_dir / "digest.eml").write_bytes(message.as_bytes(policy=policy.SMTP))
    print(f"Subject: {message['Subject']}")
    print(f"wrote {html_path}")
    if not CHROMIUM.exists():
        print("no /usr/bin/chromium: skipping the PNG")
        return 0
    png_path = out_dir / "digest.png"
    profile = tempfile.mkdtemp(prefix="digest-chromium-")
    try:
        subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--window-size=420,1600",
                f"--screenshot={png_path}",
                html_path.resolve().as_uri(),
            ],
            check=True,
            timeout=120,
            capture_output=True,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    print(f"wrote {png_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
