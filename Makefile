# The course in two commands:
#   make lab    install everything into .venv (versions from requirements/lab.lock.txt) and open JupyterLab
#   make test   install everything (plus test tools), lint with ruff, run the whole suite in fast mode
# a lighter install for the one-day plan (notebooks 00-06: no Ray, Flower, W&B or ONNX):
#   make lab PROFILE=day1
# and for a room with no network (a teacher fills a USB stick with make wheelhouse beforehand):
#   make wheelhouse WHEELHOUSE=/media/usb/wheels PLATFORM=windows PY=3.12 PROFILE=day1
#   make lab WHEELHOUSE=/media/usb/wheels PROFILE=day1
# and one for teachers:
#   make course execute every notebook headless in full mode and print the wall time of each
#   make bench  run every course detector on SKAB and write benchmarks/skab.csv (about 20 min on 2 cores)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Extra arguments for JupyterLab, e.g.  make lab LAB_ARGS="--no-browser --port 8890"
LAB_ARGS ?=
# Jupyter refuses to start as root (containers, some CI machines) unless told it is on purpose.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root,)
# libgomp's default busy-waiting makes OpenMP code (scikit-learn's t-SNE, for one) ten times
# slower on small shared VMs such as 2-core CI runners; passive waiting costs nothing elsewhere.
export OMP_WAIT_POLICY ?= PASSIVE
# pytest workers for the notebook/unit suite (2 cores on the reference machine)
WORKERS ?= 2
# What make lab installs: lab (every notebook) or day1 (notebooks 00-06), pinned by requirements/$(PROFILE).lock.txt
# (make lock regenerates the locks; python -m sadlib.course.locks says how).
PROFILE ?= lab
ifeq ($(filter $(PROFILE),lab day1),)
$(error PROFILE=$(PROFILE) is not a profile: use PROFILE=lab (every notebook) or PROFILE=day1 (notebooks 00-06))
endif
# A folder of wheels (make wheelhouse): install from it alone, with no network.
WHEELHOUSE ?=
PIP_SOURCE := $(if $(WHEELHOUSE),--no-index --find-links $(WHEELHOUSE),)
# make wheelhouse's target: linux (x86-64), macos (arm64, macOS 14+) or windows (x86-64), and its Python
PLATFORM ?= linux
PY ?= 3.11

.PHONY: lab test test-browser course bench bench-alarms doctor gpu-check book install install-test lock wheelhouse clean help

help:
	@echo "make lab     install the course into $(VENV) and start JupyterLab (notebooks/, exercises/)"
	@echo "make test    install the course and test tools, run unit tests, exercises and notebooks (fast mode)"
	@echo "make lab PROFILE=day1  the lighter install for notebooks 00-06 (no Ray, Flower, W&B, ONNX)"
	@echo "make lock    re-resolve requirements/*.lock.txt after a change to pyproject.toml (adds uv to $(VENV))"
	@echo "make wheelhouse WHEELHOUSE=dir PLATFORM=linux|macos|windows PY=3.11  every wheel of PROFILE for a room offline"
	@echo "make lab WHEELHOUSE=dir  install from that folder with no network"
	@echo "make course  run every notebook headless in full mode and print a timing table"
	@echo "make book    build the course site (notebooks as committed, instructor pages, cheat sheet) into docs/_build/html"
	@echo "make test-browser  run notebooks 00 and 04 through JupyterLab in Chromium and check every page of the built site"
	@echo "make doctor  check that this machine is ready for the course (packages, kernel, data, disk, speed)"
	@echo "make gpu-check  notebook 09's export and parity section and a notebook-06 fit on the CPU and the GPU: what differs"
	@echo "make bench   run every course detector on SKAB (defaults) and write benchmarks/skab.csv"
	@echo "make bench-alarms  notebook 08's benchmark rows: the SKAB Conv-AE reproduced, the recommended alarm policy on SKAB and NAB"

# The README's Windows block runs these same commands (tests/test_lock.py compares them).
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(PIP_SOURCE) --upgrade pip

# Re-install whenever pyproject.toml or the lock changes; the stamp files remember what was installed.
# The lock is a constraints file: pip installs the profile's packages at its versions (markers included).
$(VENV)/.installed-$(PROFILE): pyproject.toml requirements/$(PROFILE).lock.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(PIP_SOURCE) -c requirements/$(PROFILE).lock.txt -e ".[$(PROFILE)]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (sadlib)" >/dev/null
	@touch $@

$(VENV)/.installed-test: pyproject.toml requirements/test.lock.txt $(VENV)/.installed-$(PROFILE)
	$(BIN)/python -m pip install --quiet $(PIP_SOURCE) -c requirements/test.lock.txt -e ".[test]"
	@touch $@

install: $(VENV)/.installed-$(PROFILE)
install-test: $(VENV)/.installed-test

lab: install
	$(BIN)/jupyter lab --notebook-dir=. $(ROOT_ARGS) $(LAB_ARGS) notebooks/00_setup_and_tour.ipynb

test: install-test
	$(BIN)/ruff check sadlib tests instructors benchmarks docs tests_browser
	SADLIB_FAST=1 SADLIB_STRICT_CLAIMS=1 SADLIB_NO_SKIPS=1 $(BIN)/python -m pytest -n $(WORKERS) --dist loadfile \
		tests notebooks exercises --nbval-lax --nbval-current-env -p no:cacheprovider

# The course site from the committed notebooks (not re-executed), the instructor pages and the cheat sheet:
# docs/_build/html/index.html. Every warning is an error, so a broken link to a notebook, section or figure
# fails it. Sphinx and its MyST extensions come with the docs extra (docs/conf.py says how the site is laid out).
$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	@touch $@

book: $(VENV)/.installed-docs
	$(BIN)/python -m sphinx -W --keep-going -E -q -c docs -b html -d docs/_build/doctrees . docs/_build/html
	@echo "The course site: docs/_build/html/index.html"

# The course in a real browser: Playwright drives the machine's Chromium (.ci/install-chromium installs Debian's)
# through JupyterLab started as `make lab` starts it (notebooks 00 and 04, every cell through the menus, fast mode)
# and through every page of the site that `make book` builds. Screenshots go to browser-screenshots/.
test-browser: install-test book
	SADLIB_FAST=1 $(BIN)/python -m pytest tests_browser -v -p no:cacheprovider

# One PASS/WARN/FAIL line per item with the command that fixes it; DOCTOR_ARGS="--prefetch" fills the data cache.
DOCTOR_ARGS ?=
doctor: install
	$(BIN)/python -m sadlib.course.doctor $(DOCTOR_ARGS)

# Full mode, whatever SADLIB_FAST says in the shell. COURSE_ARGS="--save --update-headers --readme benchmarks/README.md"
# is how maintainers refresh the committed outputs, header times and the README table.
COURSE_ARGS ?=
course: install
	env -u SADLIB_FAST SADLIB_STRICT_CLAIMS=1 $(BIN)/python -m sadlib.course notebooks exercises $(COURSE_ARGS)

# Every registered detector with its defaults (the wrappers smoothed, ensemble, moving_average and
# slow_sensors need a detector to wrap and appear through ma_z). ma_z finds the slow sensors from the
# training rows. The README's SKAB table and notebook 06 read benchmarks/skab.csv.
BENCH_DETECTORS ?= zscore,robust_z,ewma,iforest,ocsvm,pca,ma_z,dense_ae,lstm_forecast,lstm_ae,conv_ae,cnn_lstm,attn_lstm
SKAB_RULE := {"name": "percentile", "q": 99, "margin": 1.5}
bench: install
	$(BIN)/python -m sadlib.bench --dataset skab --detectors $(BENCH_DETECTORS) \
		--params '{"ma_z": {"slow_columns": "auto"}}' --csv benchmarks/skab.csv
	$(BIN)/python -m sadlib.bench --dataset skab --detectors zscore,robust_z,ma_z --no-leaderboard \
		--params '{"zscore": {"window": null}, "robust_z": {"window": null}, "ma_z": {"slow_columns": ["Temperature", "Thermocouple"]}}' \
		--csv benchmarks/skab_variants.csv
	$(BIN)/python -m sadlib.bench --dataset skab --detectors dense_ae,conv_ae,lstm_forecast --no-leaderboard \
		--params '{"dense_ae": {"threshold": $(SKAB_RULE)}, "conv_ae": {"threshold": $(SKAB_RULE)}, "lstm_forecast": {"threshold": $(SKAB_RULE)}}' \
		--csv benchmarks/skab_deep_margin.csv

# Notebook 08's rows (about 25 min on 2 cores): the SKAB authors' Conv-AE as published and with its decoder
# fixed, and the recommended alarm policy (alarms.POLICIES["default"]) on the Keras detectors (SKAB) and on
# every course detector that takes one column (NAB machine_temperature_system_failure).
KERAS_DETECTORS ?= dense_ae,lstm_forecast,lstm_ae,conv_ae,cnn_lstm,attn_lstm,vqvae
NAB_DETECTORS ?= zscore,robust_z,ewma,ma_z,iforest,ocsvm,$(KERAS_DETECTORS)
bench-alarms: install
	$(BIN)/python -m sadlib.bench --dataset skab --detectors skab_conv_ae --no-leaderboard --csv benchmarks/skab_conv_ae.csv
	$(BIN)/python -m sadlib.bench --dataset skab --detectors skab_conv_ae --params '{"skab_conv_ae": {"decoder_channels": "all"}}' \
		--no-leaderboard --csv benchmarks/skab_conv_ae_all.csv
	$(BIN)/python -m sadlib.bench --dataset skab --detectors $(KERAS_DETECTORS) --alarm-policy default --no-leaderboard \
		--csv benchmarks/skab_alarms.csv
	$(BIN)/python -m sadlib.bench --dataset nab --detectors $(NAB_DETECTORS) --alarm-policy default --csv benchmarks/nab_alarms.csv

# Re-resolve the locks (test, then lab and day1 within its pins) for Linux, macOS and Windows, Python 3.11-3.13,
# keeping the versions already pinned; LOCK_ARGS=--upgrade moves them to the newest releases that resolve.
# It runs in the existing .venv (not through install-test, which installs from the lock being replaced).
LOCK_ARGS ?=
lock:
	@test -x $(BIN)/python || { echo "make lock runs in $(VENV): run make lab first"; exit 2; }
	$(BIN)/python -m pip install --quiet -c requirements/test.lock.txt uv
	$(BIN)/python -m sadlib.course.locks compile $(LOCK_ARGS)
	$(BIN)/python -m sadlib.course.locks check

# Every wheel of PROFILE's lock for one platform and Python, for USB sticks: make lab WHEELHOUSE=... installs
# from it offline. Runs in the course's .venv (make lab first, with network), adding uv at the test lock's version.
wheelhouse:
	@test -n "$(WHEELHOUSE)" || { echo "make wheelhouse needs WHEELHOUSE=folder (where the wheels go)"; exit 2; }
	@test -x $(BIN)/python || { echo "make wheelhouse runs in $(VENV): run make lab first (with network)"; exit 2; }
	$(BIN)/python -m pip install --quiet -c requirements/test.lock.txt uv
	$(BIN)/python -m sadlib.course.locks wheelhouse "$(WHEELHOUSE)" --profile $(PROFILE) --platform $(PLATFORM) --python $(PY)

# Notebook 09's export and parity section and a notebook-06 fit, once on the CPU and once on the GPU, and what
# differs (benchmarks/gpu_check.py; without a GPU it runs the CPU side and says so). GPU_CHECK_ARGS="--json out.json".
GPU_CHECK_ARGS ?=
gpu-check: install
	$(BIN)/python benchmarks/gpu_check.py $(GPU_CHECK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
