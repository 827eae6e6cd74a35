"""A built book as a reader meets it: served on 127.0.0.1, read by Chromium with no network.

:class:`Site` serves one build folder, opens each page once at desktop width and once at
phone width (one browser, pages in sequence), and keeps a :class:`PageReport` of what
it saw, so each test asserts one thing about every page without loading it again.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM = "/usr/bin/chromium"
# Headless, and nothing that phones home: Chromium's own background traffic (updates,
# sync, first-run pages) would otherwise show up as requests the book never made.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Folders of a build that hold assets, not pages.
NOT_PAGES = ("_static", "_sources", "_images", "_screenshots", "_downloads")


def book_pages(html_dir: Path) -> list[str]:
    """Every HTML page of a build, as paths relative to it ('chapters/ch01_dot_product.html')."""
    return sorted(
        p.relative_to(html_dir).as_posix()
        for p in html_dir.rglob("*.html")
        if not p.relative_to(html_dir).parts[0] in NOT_PAGES
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # one line per request would drown pytest's output
        pass


class Server:
    """``directory`` served on 127.0.0.1 at a free port, from a daemon thread."""

    def __init__(self, directory: Path):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@dataclass
class Traffic:
    """What one browser context did on the network and in the console."""

    origin: str
    blocked: list[str] = field(default_factory=list)  # requests that tried to leave 127.0.0.1
    failed: list[str] = field(default_factory=list)  # failed or answered >= 400
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions

    def attach(self, context):
        context.route("**/*", self._route)
        context.on("page", self._watch)

    def _route(self, route):
        if route.request.url.startswith(self.origin):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _watch(self, page):
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text} ({m.location.get('url', '')})"))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("requestfailed", self._failed)
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url}: HTTP {r.status}"))

    def _failed(self, request):
        # ERR_ABORTED is a request the browser gave up on itself, as it does for whatever
        # is still loading when the test moves on to the next page; a missing file is
        # still caught, by its 404 response.
        if request.url.startswith(self.origin) and request.failure != "net::ERR_ABORTED":
            self.failed.append(f"{request.url}: {request.failure}")

    def take(self) -> tuple[list[str], list[str], list[str]]:
        """Everything recorded since the last call, and forget it."""
        out = (self.blocked[:], self.failed[:], self.errors[:])
        self.blocked.clear(), self.failed.clear(), self.errors.clear()
        return out


# -- what a page shows, measured in the page itself ---------------------------------------

# Resolves once MathJax has typeset the page (or at once on a page without it).
WAIT_FOR_MATH = """async () => {
  if (!window.MathJax || !document.querySelector('script[src*="mathjax"]')) return false;
  for (let i = 0; i < 200 && !(MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 25));
  await MathJax.startup.promise;
  return true;
}"""

# Loads every image now (lazy ones too) and reports each one.
IMAGES = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  return imgs.map(i => ({src: i.currentSrc.slice(0, 120), width: i.naturalWidth,
                         alt: (i.getAttribute('alt') || '').trim(), visible: i.offsetParent !== null}));
}"""

# Math left untypeset: TeX delimiters in visible text outside code, and MathJax errors.
MATH = r"""() => {
  const math = [...document.querySelectorAll('.math')];
  const untypeset = math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80));
  const errors = [...document.querySelectorAll('mjx-merror, [data-mjx-error]')].map(e => e.textContent.slice(0, 80));
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, .dotlab-widget script';
  const raw = [];
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest(skip)) continue;
    const m = n.textContent.match(/\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\\frac|\\mathbf|\\cdot/);
    if (m) raw.push(n.textContent.trim().slice(0, 80));
  }
  return {count: math.length, untypeset, errors, raw};
}"""

LINKS = "() => [...document.querySelectorAll('a[href]')].map(a => a.href)"


@dataclass
class PageReport:
    path: str
    blocked: list[str]
    failed: list[str]
    errors: list[str]
    math: dict
    images: list[dict]
    links: list[str]
    phone_scroll_width: int
    downloads: list[str]  # hrefs in the theme's download menu
    launch_buttons: int  # links in the theme's launch menu
    widget_state: int  # ipywidgets state blocks (a static snapshot that cannot respond)
    explorers: list[dict]  # for each dotlab explorer and control: did moving it change the display?
    screenshots: list[Path]


# For each dotlab explorer on the page and each of its controls: move the control and
# report whether what the explorer shows (picture, numbers) changed.
MOVE_EVERY_CONTROL = """() => {
  const out = [];
  document.querySelectorAll('.dotlab-widget').forEach((w, k) => {
    const display = w.querySelector('[data-role=display]');
    w.querySelectorAll('input').forEach(input => {
      const before = display.innerHTML;
      if (input.type === 'checkbox') input.checked = !input.checked;
      else input.value = (input.value === input.max) ? input.min : input.max;
      input.dispatchEvent(new Event('input', {bubbles: true}));
      out.push({widget: k, component: w.dataset.component, control: input.dataset.control,
                changed: display.innerHTML !== before});
    });
  });
  return out;
}"""


class Site:
    """One built book, one browser, two contexts (desktop and phone), reports cached per page."""

    def __init__(self, browser, html_dir: Path, server: Server, screenshots: Path):
        self.html_dir, self.server, self.screenshots = html_dir, server, screenshots
        self.traffic, self.pages = {}, {}
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            context = browser.new_context(viewport=viewport)
            self.traffic[name] = Traffic(server.base)
            self.traffic[name].attach(context)
            self.pages[name] = context.new_page()
        self._reports: dict[str, PageReport] = {}

    def url(self, path: str) -> str:
        return self.server.base + path

    def open(self, path: str, width: str = "desktop"):
        page = self.pages[width]
        page.goto(self.url(path), wait_until="load")
        page.evaluate(WAIT_FOR_MATH)
        return page

    def report(self, path: str) -> PageReport:
        if path not in self._reports:
            self._reports[path] = self._visit(path)
        return self._reports[path]

    def _visit(self, path: str) -> PageReport:
        # JPEG: a third of the size of PNG and much quicker to encode for a long page.
        shot_name = path.replace("/", "__").removesuffix(".html") + ".jpg"
        shots = []
        # Desktop: everything about the content, then a screenshot, then the controls.
        page = self.open(path, "desktop")
        images = page.evaluate(IMAGES)
        math = page.evaluate(MATH)
        links = page.evaluate(LINKS)
        downloads = page.eval_on_selector_all(
            ".dropdown-download-buttons a[href]", "links => links.map(a => a.href)")
        launch_buttons = page.locator(".dropdown-launch-buttons a").count()
        widget_state = page.locator('script[type="application/vnd.jupyter.widget-state+json"]').count()
        shots.append(self.screenshots / "desktop" / shot_name)
        page.screenshot(path=shots[-1], full_page=True, type="jpeg", quality=75)
        explorers = page.evaluate(MOVE_EVERY_CONTROL)
        # Phone: does the page fit, and how does it look.
        phone = self.open(path, "phone")
        phone.evaluate(IMAGES)
        scroll_width = phone.evaluate("document.documentElement.scrollWidth")
        shots.append(self.screenshots / "phone" / shot_name)
        phone.screenshot(path=shots[-1], full_page=True, type="jpeg", quality=75)

        blocked, failed, errors = [], [], []
        for traffic in self.traffic.values():
            b, f, e = traffic.take()
            blocked += b
            failed += f
            errors += e
        return PageReport(path, blocked, failed, errors, math, images, links, scroll_width,
                          downloads, launch_buttons, widget_state, explorers, shots)

    # -- links ---------------------------------------------------------------------------

    def broken_links(self, links: list[str]) -> list[str]:
        """Links into this site whose file, or #anchor in it, does not exist."""
        broken = []
        for href in links:
            if not href.startswith(self.server.base):
                continue
            parts = urlsplit(href)
            rel = unquote(parts.path)[1:]
            target = self.html_dir / rel
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{href}: no file {target.relative_to(self.html_dir)}")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in ids_in(target):
                broken.append(f"{href}: no id {unquote(parts.fragment)!r} in {target.relative_to(self.html_dir)}")
        return broken


@functools.lru_cache(maxsize=None)
def ids_in(html_file: Path) -> frozenset[str]:
    """Every id (and old-style a name) in an HTML file: the anchors a link can point at."""
    text = html_file.read_text(encoding="utf-8")
    return frozenset(m.group(2) for m in re.finditer(r"""\s(id|name)=["']([^"']+)["']""", text))
