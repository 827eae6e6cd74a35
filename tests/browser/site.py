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
TABLET = {"width": 800, "height": 1000}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "tablet": TABLET, "phone": PHONE}
# A figure is never shown at less than this share of the size it was drawn at.
SMALLEST_FIGURE = 0.6


def _light_data_colours() -> list[str]:
    """The house's light data colours that have a different dark variant, as CSS rgb()."""
    from dotlab import figures

    return [f"rgb({int(c[1:3], 16)}, {int(c[3:5], 16)}, {int(c[5:7], 16)})"
            for c in figures.PALETTE if figures.DARK_OF[c] != c]


LIGHT_DATA_COLOURS = _light_data_colours()
# The smallest text a figure may hold, in CSS px (dotlab.figures.SMALL_PT, 10.5 pt).
SMALL_PRINT_PX = 14

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


# Everything about the page's layout at one width, in one theme: what is wider than the
# column, what is clipped without a way to scroll to it, how large each figure is shown
# against the size it was drawn at, and which explorers look like a light box.
LAYOUT = r"""({smallest, lightColours, smallPrint}) => {
  const article = document.querySelector('article.bd-article');
  if (!article) return {overflow: [], clipped: [], uncued: [], figures: [], unlinked: [], light_boxes: [], repr: [],
                        wrong_theme: [], no_dark: [], wrapped_numbers: [], small_text: []};
  const box = article.getBoundingClientRect();
  const cs = getComputedStyle(article);
  const right = box.right - parseFloat(cs.paddingRight) + 1;
  const name = e => (e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).slice(0, 3).join('.') : '') +
    ' "' + (e.textContent || e.getAttribute('alt') || '').trim().replace(/\s+/g, ' ').slice(0, 60) + '"');
  const visible = e => e.offsetParent !== null || getComputedStyle(e).position === 'fixed';
  const scrolls = e => /(auto|scroll)/.test(getComputedStyle(e).overflowX);
  const overflow = [], clipped = [], uncued = [];
  const all = [...article.querySelectorAll('*')].filter(e => !e.closest('mjx-container') || e.matches('mjx-container'));
  const scrollers = new Set();
  for (const e of all) {
    if (!visible(e)) continue;
    const ox = getComputedStyle(e).overflowX;
    if (ox === 'auto' || ox === 'scroll') scrollers.add(e);
    if (e.matches('span.math')) {  // inline math: the theme clips it; is the formula cut?
      const m = e.querySelector('mjx-math');
      const w = m ? m.getBoundingClientRect().width : 0;
      if (w > e.getBoundingClientRect().width + 2) clipped.push(name(e) + ` shows ${Math.round(e.getBoundingClientRect().width)} of ${Math.round(w)} px`);
      continue;
    }
    if (!(e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0)) continue;
    if (ox === 'hidden' || ox === 'clip') clipped.push(name(e) + ` shows ${e.clientWidth} of ${e.scrollWidth} px`);
    else if (ox === 'auto' || ox === 'scroll') {
      overflow.push(name(e) + ` scrolls: ${e.clientWidth} of ${e.scrollWidth} px shown`);
      if (!/gradient/.test(getComputedStyle(e).backgroundImage)) uncued.push(name(e) + ': scrolls with no cue that it does');
    }
  }
  // Content a scroll box pushed out at its start edge, where no scroll bar reaches.
  for (const box of scrollers) {
    const left = box.getBoundingClientRect().left;
    for (const c of box.children) {
      const r = c.getBoundingClientRect();
      if (r.width > 0 && box.scrollLeft === 0 && r.left < left - 1)
        clipped.push(name(c) + ` starts ${Math.round(left - r.left)} px left of its box, out of reach`);
    }
  }
  // Anything standing out of the column that no scroll box holds (a heading's "#"
  // permalink, shown on hover in the padding beside it, is not content).
  for (const e of all) {
    if (e.closest('.headerlink')) continue;
    const r = e.getBoundingClientRect();
    if (!(r.width > 0 && r.right > right)) continue;
    let held = false;
    for (let a = e.parentElement; a && a !== article; a = a.parentElement) if (scrollers.has(a)) { held = true; break; }
    if (!held) overflow.push(name(e) + ` ends at ${Math.round(r.right)} px, column at ${Math.round(right)}`);
  }
  // An explorer's pictures are held to the same limit: a PNG there is drawn at twice
  // the pixel density (dotlab.figures.RASTER_DPI), so it was drawn half its pixels wide.
  const figures = [], unlinked = [];
  for (const img of article.querySelectorAll('img')) {
    if (!visible(img)) continue;
    const explorer = !!img.closest('.dotlab-widget');
    const raster = explorer && img.currentSrc.startsWith('data:image/png') ? 2 : 1;
    const drawn = parseFloat(getComputedStyle(img).getPropertyValue('--drawn')) || img.naturalWidth / raster;
    const shown = img.getBoundingClientRect().width;
    figures.push({src: explorer ? 'explorer' : img.currentSrc.split('/').pop().slice(0, 24), drawn,
                  shown: Math.round(shown), ratio: drawn ? shown / drawn : 1, alt: (img.alt || '').slice(0, 60)});
    if (explorer) continue;  // a picture of one setting: nothing to open full size
    const link = img.closest('a[href]');
    if (!link || !link.href.split('#')[0].endsWith(img.currentSrc.split('/').pop())) unlinked.push(img.currentSrc.split('/').pop());
  }
  const lum = c => { const m = c.match(/[\d.]+/g); if (!m) return null; const [r, g, b, a] = m.map(Number);
                     return (a === 0) ? null : (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255; };
  // Explorers and dark renderings (figures' and explorers' pictures), and every box
  // around them, in the page's colours; a dark rendering is shown as drawn, not dimmed.
  // A dark rendering with an opaque light background of its own is a light box inside the
  // picture (a figure drawn white, which the dark rendering keeps): its edge tells, as a
  // figure's edge is its background.
  const lightEdge = img => {
    if (!img.complete || !img.naturalWidth) return false;
    const w = Math.min(img.naturalWidth, 600), h = Math.max(3, Math.round(img.naturalHeight * w / img.naturalWidth));
    const c = document.createElement('canvas');
    c.width = w; c.height = h;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0, w, h);
    const d = ctx.getImageData(0, 0, w, h).data;
    let light = 0, n = 0;
    const at = (x, y) => {
      const i = 4 * (y * w + x);
      n++;
      if (d[i + 3] > 200 && (0.2126 * d[i] + 0.7152 * d[i + 1] + 0.0722 * d[i + 2]) / 255 > 0.9) light++;
    };
    for (let x = 0; x < w; x++) { at(x, 1); at(x, h - 2); }
    for (let y = 0; y < h; y++) { at(1, y); at(w - 2, y); }
    return light / n > 0.5;
  };
  const light_boxes = [];
  for (const w of article.querySelectorAll('.dotlab-widget, img.only-dark, .dotlab-widget img.dotlab-dark')) {
    if (!visible(w)) continue;
    const filter = getComputedStyle(w).filter;
    if (w.tagName === 'IMG' && filter !== 'none') light_boxes.push(name(w) + ' dimmed by ' + filter);
    if (w.tagName === 'IMG' && lightEdge(w)) light_boxes.push(name(w) + ' drawn on a light background of its own');
    for (let e = w; e && e !== article; e = e.parentElement) {
      const l = lum(getComputedStyle(e).backgroundColor);
      if (l !== null && l > 0.6) { light_boxes.push(name(w) + ' in ' + name(e)); break; }
    }
  }
  // Outputs as a reader should never see them: NumPy reprs and float noise, a negative
  // zero ("-0.00": a small negative number rounded away), and scientific notation for
  // zero, for a number between 1 and 10 ("0.0e+00") or for tens or hundreds of
  // thousands ("4.712e+04"). A number glued into a sentence reads as a person writes
  // it: scientific notation there is for the very small and the very large only (not
  // "0.05" as "5.0e-02", nor 25,000 as "2.5e+04").
  const repr = [];
  const bad = new RegExp([
    /\bnp\.(?:int|uint|float|complex|bool|str)\w*\(|\bnp\.(?:True_|False_)|\d\.\d*(?:0{9,}[1-9]|9{9,}\d)\b/.source,
    /(?<![\w.])[-\u2212]0(?:\.0+)?(?![\w.])/.source,
    /(?<![\w.])\d(?:\.\d+)?e[-+]?00\b/.source,
    /(?<![\w.])\d(?:\.\d+)?e\+0[45]\b/.source].join('|'));  // 47,117 is not "4.712e+04"
  const badInProse = new RegExp(bad.source + '|' + /(?<![\w.])\d(?:\.\d+)?e(?:-0?[12]|\+?0?[1-4])\b/.source);
  for (const [selector, pattern] of [['.cell_output', bad], ['.pasted-text', badInProse]]) {
    for (const o of article.querySelectorAll(selector)) {
      const t = o.innerText || '';
      const m = t.match(pattern);
      if (m) repr.push(`${m[0]} in "${t.slice(Math.max(0, m.index - 40), m.index + 40).replace(/\s+/g, ' ')}"`);
    }
  }
  // A figure drawn in both themes shows the rendering of the theme the reader chose.
  const theme = document.documentElement.dataset.theme;
  const other = theme === 'dark' ? 'only-light' : 'only-dark';
  // An explorer's pictures drawn in both themes are img.dotlab-light and img.dotlab-dark.
  const otherPicture = theme === 'dark' ? 'dotlab-light' : 'dotlab-dark';
  const wrong_theme = [...article.querySelectorAll(`a.dotlab-figure.${other} img, .dotlab-widget img.${otherPicture}`)]
    .filter(visible).map(i => i.alt.slice(0, 60));
  // In the dark theme, every figure shown is a dark rendering (a house figure's
  // only-dark copy, an explorer's img.dotlab-dark); one without it keeps its light
  // backdrop and ink.
  const no_dark = theme !== 'dark' ? [] : [...article.querySelectorAll('img')]
    .filter(i => visible(i) && !i.closest('a.dotlab-figure.only-dark') && !i.matches('.dotlab-widget img.dotlab-dark'))
    .map(i => `${i.currentSrc.split('/').pop().slice(0, 24)} "${(i.alt || '').slice(0, 60)}"`);
  // An explorer drawn in the browser (SVG) takes the dark variants of its colours in the
  // dark theme, as every figure does: no element of it is painted a light data colour.
  if (theme === 'dark') {
    for (const e of article.querySelectorAll('.dotlab-widget svg *')) {
      const cs = getComputedStyle(e);
      const light = [cs.fill, cs.stroke].find(c => lightColours.includes(c));
      if (light && visible(e.closest('svg'))) no_dark.push(`explorer ${e.tagName} painted ${light}`);
    }
  }
  // A number in a table cell (with its unit, if any: "1.61 P", "32.8 GB") on more than
  // one line.
  const wrapped_numbers = [];
  const number = /^[-\u2212]?[\d.,]+(?:[\s\u00a0\u202f]*(?:[kMGTPE%]|[KMGT]i?B|kB|ms|µs|s))?$/;
  for (const td of article.querySelectorAll('td')) {
    if (!visible(td) || !number.test(td.innerText.trim())) continue;
    const tops = new Set();
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(n);
      for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
    }
    if (tops.size > 1) wrapped_numbers.push(name(td) + ` on ${tops.size} lines`);
  }
  // Text an explorer draws in the browser, at the size the reader sees it (its SVG scaled
  // to the width it is shown at): no smaller than the small print a figure may use.
  const small_text = [];
  for (const t of article.querySelectorAll('.dotlab-widget svg text')) {
    const svg = t.ownerSVGElement, box = svg.getBoundingClientRect();
    if (!box.width || !svg.viewBox.baseVal || !svg.viewBox.baseVal.width || !t.textContent.trim()) continue;
    const px = parseFloat(getComputedStyle(t).fontSize) * box.width / svg.viewBox.baseVal.width;
    if (px < smallPrint - 0.5) small_text.push(`"${t.textContent.trim()}" at ${px.toFixed(1)} px`);
  }
  return {overflow, clipped, uncued, figures, unlinked, light_boxes, repr, wrong_theme, no_dark, wrapped_numbers,
          small_text};
}"""

# Opens and closes the page's navigation with its visible buttons, as a reader taps them.
# Below 992 px the menu and contents buttons open the theme's drawers (<dialog>s); at
# desktop width the menu button hides the sidebar and shows it again.
NAVIGATION = r"""async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const shown = e => e && e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden';
  const out = {primary_buttons: document.querySelectorAll('.primary-toggle').length,
               secondary_buttons: document.querySelectorAll('.secondary-toggle').length,
               search_fields: [...document.querySelectorAll('.search-button-field')].filter(shown).length};
  const primary = [...document.querySelectorAll('.primary-toggle')].find(shown);
  out.primary_visible = !!primary;
  const wide = matchMedia('(min-width: 992px)').matches;
  if (primary) {
    primary.click(); await sleep(60);
    if (wide) {
      const sidebar = document.getElementById('pst-primary-sidebar');
      out.primary_hides = !shown(sidebar) || sidebar.classList.contains('pst-sidebar-hidden');
      primary.click(); await sleep(60);
      out.primary_returns = shown(sidebar) && !sidebar.classList.contains('pst-sidebar-hidden');
    } else {
      const modal = document.getElementById('pst-primary-sidebar-modal');
      out.primary_opens = !!(modal && modal.open);
      out.primary_links = modal ? [...modal.querySelectorAll('nav a[href]')].filter(shown).map(a => a.href.split('#')[0]) : [];
      if (modal && modal.open) { modal.close(); await sleep(20); }
      out.primary_closes = !(modal && modal.open);
    }
  }
  const secondary = [...document.querySelectorAll('.secondary-toggle')].find(shown);
  out.secondary_visible = !!secondary;
  out.has_page_toc = !!document.querySelector('#pst-page-toc-nav a, .bd-sidebar-secondary nav a');
  if (secondary) {
    secondary.click(); await sleep(60);
    const modal = document.getElementById('pst-secondary-sidebar-modal');
    out.secondary_opens = !!(modal && modal.open);
    out.secondary_links = modal ? [...modal.querySelectorAll('a[href]')].filter(shown).length : 0;
    if (modal && modal.open) { modal.close(); await sleep(20); }
  }
  return out;
}"""


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
    layout: dict  # "desktop-light", "phone-dark", ...: what LAYOUT found at that width in that theme
    navigation: dict  # "desktop", "tablet", "phone": what NAVIGATION found


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
    """One built book, one browser, a context per width, reports cached per page."""

    def __init__(self, browser, html_dir: Path, server: Server, screenshots: Path):
        self.html_dir, self.server, self.screenshots = html_dir, server, screenshots
        self.traffic, self.pages = {}, {}
        for name, viewport in WIDTHS.items():
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

    def _layouts(self, page, width: str, layout: dict) -> None:
        """LAYOUT in the light theme, then in the dark one (the reader's switch, no reload)."""
        for theme in ("light", "dark"):
            page.evaluate("t => { document.documentElement.dataset.theme = t; }", theme)
            page.evaluate(IMAGES)  # the other theme's figures load now
            layout[f"{width}-{theme}"] = page.evaluate(
                LAYOUT, {"smallest": SMALLEST_FIGURE, "lightColours": LIGHT_DATA_COLOURS, "smallPrint": SMALL_PRINT_PX})
        page.evaluate("() => { document.documentElement.dataset.theme = 'light'; }")

    def _visit(self, path: str) -> PageReport:
        # JPEG: a third of the size of PNG and much quicker to encode for a long page.
        shot_name = path.replace("/", "__").removesuffix(".html") + ".jpg"
        shots, layout, navigation = [], {}, {}
        # Desktop: everything about the content, then a screenshot, then the controls.
        page = self.open(path, "desktop")
        images = page.evaluate(IMAGES)
        math = page.evaluate(MATH)
        links = page.evaluate(LINKS)
        downloads = page.eval_on_selector_all(
            ".dropdown-download-buttons a[href]", "links => links.map(a => a.href)")
        launch_buttons = page.locator(".dropdown-launch-buttons a").count()
        widget_state = page.locator('script[type="application/vnd.jupyter.widget-state+json"]').count()
        self._layouts(page, "desktop", layout)
        shots.append(self.screenshots / "desktop" / shot_name)
        page.screenshot(path=shots[-1], full_page=True, type="jpeg", quality=75)
        navigation["desktop"] = page.evaluate(NAVIGATION)
        explorers = page.evaluate(MOVE_EVERY_CONTROL)
        # Tablet and phone: does the page fit, can the reader navigate, how does it look.
        for width in ("tablet", "phone"):
            small = self.open(path, width)
            small.evaluate(IMAGES)
            self._layouts(small, width, layout)
            if width == "phone":
                scroll_width = small.evaluate("document.documentElement.scrollWidth")
                shots.append(self.screenshots / "phone" / shot_name)
                small.screenshot(path=shots[-1], full_page=True, type="jpeg", quality=75)
            navigation[width] = small.evaluate(NAVIGATION)

        blocked, failed, errors = [], [], []
        for traffic in self.traffic.values():
            b, f, e = traffic.take()
            blocked += b
            failed += f
            errors += e
        return PageReport(path, blocked, failed, errors, math, images, links, scroll_width,
                          downloads, launch_buttons, widget_state, explorers, shots, layout, navigation)

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
