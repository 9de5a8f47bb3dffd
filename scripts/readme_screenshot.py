"""Make docs/exploration.png, the README's picture of a static exploration.

Usage, after ``make book`` (needs playwright and Chromium at /usr/bin/chromium)::

    .venv/bin/python scripts/readme_screenshot.py _build/html/chapters/01_oscillation.html \
        docs/exploration.png

It opens the built page offline, moves chapter 1's learning-rate slider to 80 % of
its range (where gradient descent zig-zags) and photographs that exploration.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

SLIDE = ("(el) => { el.value = Math.round(el.max * 0.8); "
         "el.dispatchEvent(new Event('input', {bubbles: true})); }")


def main(page_path: str, out: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.route("**/*", lambda route: route.continue_()
                   if route.request.url.startswith("file:") else route.abort())
        page.goto(Path(page_path).resolve().as_uri())
        exploration = page.locator(".optlib-exploration").first
        exploration.scroll_into_view_if_needed()
        exploration.locator("input[type=range]").first.evaluate(SLIDE)
        exploration.screenshot(path=out)
        browser.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
