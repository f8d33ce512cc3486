# make book: set up .venv, execute every chapter, build the HTML book.
# make test: lint, unit tests, doctests, every chapter under nbval, then the
#            book built and checked in headless Chromium.
# make lint: ruff, then mypy over sgdlab/ and widgets/ (configured in pyproject.toml).
# make lab:  JupyterLab on the chapters, with live widgets.
# make pdf:  the whole book as one PDF (installs TeX Live from Debian when root).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Idle OpenMP threads sleep instead of spinning (torch on a shared 2-core CPU).
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: book test lab lint bench clean browser-deps pdf pdf-deps

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The book: file://$(CURDIR)/_build/html/index.html"

test: $(STAMP)
	$(MAKE) lint
	$(BIN)/pytest
	$(MAKE) book browser-deps
	$(BIN)/pytest tests/browser

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=book

# ruff; mypy; the workflows against GitHub's schema (check-jsonschema's vendored copy:
# actionlint's pip package fetches its binary from GitHub when it builds, which fails offline).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

bench: $(STAMP)
	$(BIN)/python benchmarks/widget_latency.py
	$(BIN)/python benchmarks/fokker_planck.py
	$(BIN)/python benchmarks/trajectory.py
	$(BIN)/python benchmarks/spectrum.py

# For each notebook in assignments/: the student version (student/, the notebook and its
# public tests) and the autograder (autograder.zip, for otter run or Gradescope) under
# _build/assignments/<name>/, by otter assign, which also checks that the solution passes.
.PHONY: assignments
assignments: $(STAMP)
	@for nb in assignments/*.ipynb; do \
	  name=$$(basename $$nb .ipynb); out=_build/assignments/$$name; \
	  rm -rf $$out && $(BIN)/otter assign --no-pdfs $$nb $$out || exit 1; \
	  mv $$out/autograder/$$name-autograder_*.zip $$out/autograder.zip; \
	  echo "$$out: hand out student/, grade with autograder.zip"; \
	done

pdf: $(STAMP) pdf-deps
	$(BIN)/jupyter-book build . --builder pdflatex
	@echo "The PDF: $(CURDIR)/_build/latex/sgdlab.pdf"

# TeX Live for jupyter-book's LaTeX (about 2 GB installed; not needed by CI).
pdf-deps:
	@if kpsewhich bbm.sty >/dev/null 2>&1 && command -v latexmk >/dev/null \
	   && command -v xindy >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends texlive-latex-extra texlive-fonts-recommended \
	    texlive-fonts-extra latexmk xindy >/dev/null; \
	else echo "TeX Live missing: install texlive-latex-extra texlive-fonts-recommended" \
	  "texlive-fonts-extra latexmk xindy"; exit 1; fi

# Debian's chromium and chromium-driver for tests/browser (installed when root).
browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium chromium-driver >/dev/null; \
	else echo "chromium or chromedriver missing (not root): browser tests will skip"; fi

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	touch $@

clean:
	rm -rf _build
