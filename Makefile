# wps-evidence: two commands on a fresh machine (Python 3.11, make, git).
#   make run   -> .venv, pinned install, whole workflow on the bundled data, rendered briefs
#   make test  -> .venv with test extras, pytest
SHELL := /bin/bash
PYTHON ?= python3
CORES ?= 2
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
REPORT := results/provenance/report.html
MANIFEST := results/provenance/manifest.json
STAMP := $(VENV)/.installed-$(shell cat $(LOCK) pyproject.toml 2>/dev/null | sha256sum | cut -c1-12)
SNAKEMAKE := $(BIN)/snakemake --cores $(CORES) --rerun-incomplete --show-failed-logs
# Debian packages the briefs and the browser/PDF tests need: fonts for Thai, Khmer, Lao and
# Myanmar glyphs, pdftoppm, headless Chromium for the HTML brief check, and R with `survey`
# (the statistical oracle of the tests).
APT_RUN := fonts-noto-core fontconfig
APT_TEST := poppler-utils chromium chromium-driver r-base-core r-cran-survey r-cran-jsonlite

.PHONY: run run-locked test lint bench bench-smoke example-data report clean venv system-deps system-deps-test audit unlock
.PHONY: run-slurm venv-slurm

# On a SLURM cluster's login node: the same workflow, each job a SLURM job (workflow/profiles/slurm)
SLURM_LOCK := requirements-slurm.lock
SLURM_STAMP := $(VENV)/.installed-slurm-$(shell cat $(SLURM_LOCK) $(LOCK) 2>/dev/null | sha256sum | cut -c1-12)
SLURM_PROFILE := workflow/profiles/slurm

# One run at a time in this folder: a second `make run` stops at once with a clear message
# (flock exits 75 when the lock is held; the kernel frees it when a run ends or is killed).
RUN_LOCK := .snakemake/make-run.lock
run: $(STAMP) system-deps
	@mkdir -p $(dir $(RUN_LOCK))
	@flock -n -E 75 $(RUN_LOCK) $(MAKE) --no-print-directory run-locked; status=$$?; \
	if [ $$status -eq 75 ]; then echo "make run: another run is in progress in this folder;" \
		"wait for it to finish (after a crash, \`make unlock\` clears Snakemake's own lock)" >&2; fi; \
	exit $$status

# Outputs of jobs a killed run left half-done are deleted first, so they are redone: Snakemake's
# --rerun-incomplete misses the jobs behind a checkpoint (analysis/run/resume.py).
RESUME := $(BIN)/python -m analysis.run.resume

run-locked:
	$(RESUME)
	$(SNAKEMAKE) --keep-going  # one failing dataset does not stop the others
	@# raw rows an interrupted run may have left behind (temporary tables), swept only if any
	@if find results/ingest results/validated -type f 2>/dev/null | grep -q .; then \
		$(SNAKEMAKE) --delete-temp-output; fi
	@$(MAKE) --no-print-directory $(REPORT)

# Snakemake's HTML report, rebuilt only when the run's manifest changed. Snakemake writes it in
# place, so it is made beside (in .snakemake/) and renamed: a run killed while writing it leaves
# no half report under the final name that make would take for up to date.
REPORT_PARTIAL := .snakemake/report.partial.html
define make_report
	@mkdir -p $(dir $(REPORT_PARTIAL))
	$(SNAKEMAKE) --report $(REPORT_PARTIAL)
	mv -f $(REPORT_PARTIAL) $(REPORT)
endef

$(REPORT): $(MANIFEST)
	$(make_report)

test: $(STAMP) system-deps system-deps-test
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

venv: $(STAMP)

# Pinned install: exact versions from the lock file, then the project itself without resolving.
$(STAMP): $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

# apt-get only where something is missing, and only when we may (root or sudo); otherwise say what to install.
system-deps:
	@bash scripts/system-deps.sh $(APT_RUN)

system-deps-test:
	@bash scripts/system-deps.sh $(APT_TEST)

example-data: $(STAMP)
	$(BIN)/python -m analysis.synth --out data/raw

report: $(STAMP)
	$(make_report)

# After a hard kill (power loss, kill -9) Snakemake leaves its lock behind: remove it, then make run.
unlock: $(STAMP)
	$(BIN)/snakemake --unlock

audit: $(STAMP)
	$(BIN)/wps audit

bench: $(STAMP) system-deps $(SLURM_STAMP)
	$(BIN)/python -m benchmarks.run

bench-smoke: $(STAMP)
	$(BIN)/python -m benchmarks.run --smoke

# The optional executor plugins, pinned (they add two packages to the lock's and change none).
venv-slurm: $(SLURM_STAMP)

$(SLURM_STAMP): $(STAMP) $(SLURM_LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(SLURM_LOCK)
	rm -f $(VENV)/.installed-slurm-*
	touch $@

run-slurm: $(SLURM_STAMP)
	$(RESUME)
	$(BIN)/snakemake --profile $(SLURM_PROFILE)  # keep-going, as make run
	$(SNAKEMAKE) --delete-temp-output
	$(make_report)

clean:
	rm -rf results .snakemake
