/* Search results quote formulas as a reader reads them, not as raw TeX.
 *
 * Sphinx's search page quotes each page it finds from that page's HTML, where every
 * formula is still TeX (\(\mathbf{a}\cdot\mathbf{b}\)): MathJax typesets a page only
 * when the page itself is shown, and a quote may cut a formula in half, so typesetting
 * the quotes cannot work. Before Sphinx takes the text, each formula is written as plain
 * text instead (a·b, √d_k). Loaded on the search page only (dotlab.sphinxext).
 */
(function () {
  var SYMBOLS = {
    cdot: "·", times: "×", sum: "Σ", le: "≤", leq: "≤", ge: "≥", geq: "≥", approx: "≈",
    ne: "≠", neq: "≠", to: "→", rightarrow: "→", leftarrow: "←", infty: "∞", top: "ᵀ",
    theta: "θ", tau: "τ", alpha: "α", beta: "β", sigma: "σ", mu: "μ", Phi: "Φ", log: "log",
    exp: "exp", cos: "cos", max: "max", min: "min", ldots: "…", dots: "…", quad: " ",
    qquad: "  ", iff: "⇔", in: "∈",
  };

  /** TeX as plain text: a·b, √(d_k), (a)/(b); any other command loses its backslash. */
  function plain(tex) {
    var s = tex.replace(/^\s*(\\\(|\\\[|\$\$)|(\\\)|\\\]|\$\$)\s*$/g, "")
      .replace(/\\([A-Za-z]+)/g, function (m, name) { return Object.prototype.hasOwnProperty.call(SYMBOLS, name) ? SYMBOLS[name] : m; });
    for (var i = 0; i < 4; i++) {  // nested groups, from the inside out
      s = s.replace(/\\(?:mathbf|mathrm|text|operatorname|boldsymbol|mathit)\{([^{}]*)\}/g, "$1")
           .replace(/\\sqrt\{([^{}]*)\}/g, "√($1)")
           .replace(/\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}/g, "($1)/($2)");
    }
    return s.replace(/\\([A-Za-z]+)/g, "$1")
            .replace(/\\[,;:! ]/g, " ").replace(/[{}]/g, "").replace(/\\/g, "").replace(/\s+/g, " ");
  }

  function patch() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText.dotlab) return;
    var htmlToText = Search.htmlToText;
    Search.htmlToText = function (htmlString, anchor) {
      var doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach(function (m) { m.textContent = plain(m.textContent); });
      return htmlToText(doc.documentElement.outerHTML, anchor);
    };
    Search.htmlToText.dotlab = true;
  }

  window.dotlabPlainTeX = plain;  // for the browser test
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", patch);
  else patch();
})();
