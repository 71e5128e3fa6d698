# pgx developer entry points. Only python3 is required; everything else goes into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv kernels sysdeps demo test lint clean

# pgx's own modules byte-compiled (an editable install does not; saves ~30 ms per command).
venv: $(STAMP) kernels
	@$(BIN)/python -m compileall -q pgx >/dev/null

# The numba kernels compiled ahead of time (pgx/_numba.py): pgx then starts without importing
# numba. Rebuilt when a kernel source changes; without a C compiler pgx JIT-compiles instead.
KERNEL_SRC := pgx/_numba.py pgx/_aot_build.py $(wildcard pgx/*/*_numba_fns.py)
AOT_STAMP  := pgx/_aot/pgx_kernels.json

kernels: $(AOT_STAMP)

$(AOT_STAMP): $(STAMP) $(KERNEL_SRC)
	$(BIN)/python -m pgx._aot_build || \
	  echo "warning: could not compile the kernels ahead of time (a C compiler and the Python headers are needed); pgx will JIT-compile them, adding ~0.35 s per command" >&2

# uv (from PyPI) installs in parallel, about 3x faster than pip here; pip is the fallback.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	{ $(BIN)/python -m pip install --quiet uv 2>/dev/null && \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test]'; } || \
	  $(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Test-time Debian tools; installed only when missing and we are root, skipped otherwise.
sysdeps:
	@if ! command -v bcftools >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing bcftools tabix"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bcftools tabix >/dev/null 2>&1; } \
			|| echo "warning: could not install bcftools/tabix; tests needing them will skip" >&2; \
	fi
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing chromium (pgx report --pdf, browser tests)"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; } \
				|| echo "warning: could not install chromium; pgx report --pdf and the browser tests will skip" >&2; \
		else \
			echo "warning: chromium is missing and we are not root (or have no apt-get); pgx report --pdf and the browser tests will skip" >&2; \
		fi; \
	fi

# The demo patients are resources/demo/DEMO00*.vcf.gz (written by resources/demo/make_demo.py);
# --forceall: every run redoes the demo (~10 s), so results/ never shows an older pgx's output.
demo: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --cores 2 --forceall --configfile config/config.yaml
	@echo
	@echo "demo results: results/cohort/calls.tsv (all samples); per sample results/<sample>/calls.tsv,"
	@echo "  calls.json, recommend/ (drug recommendations) and report/<sample>.report.html"
	@echo "  (open it in a browser); logs in logs/;"
	@echo "  expected calls: resources/demo/expected.tsv"

test: venv sysdeps
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/snakemake --lint

clean:
	rm -rf results/ logs/ .snakemake/ .pytest_cache/ .hypothesis/ out/ pgx/_aot/
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
