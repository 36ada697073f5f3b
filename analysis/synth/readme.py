"""``data/raw/README.md``: what the synthetic files are, how to regenerate them, the true effects.

The text is built from the generator's constants, so it cannot disagree with the data.
"""

from __future__ import annotations

from pathlib import Path

from analysis.synth import fake, interviews, officer_survey, training
from analysis.synth.common import FIXED_TIMESTAMP, SEEDS

# Not made by the generator: aggregate figures published by the programmes (no person in them).
PUBLISHED_SECTION = """
## Not synthetic: `results_framework/` (published figures, illustrative targets)

`results_framework/2019.csv` is a results framework (dataset kind `results_framework`): one row
per indicator x country x sex x period with baseline, target and achieved, and the source of
each row. The **achieved figures are real**, as the programme documents publish them (UN Women
and UNODC programme updates; the COMMIT Sub-regional Plan of Action, SPA IV): 24,659 women
reached in 145 border communities; 372 women trained (Myanmar 129, Cambodia 185, Thailand 58),
207 of them supported (Myanmar 129, Cambodia 78; Thailand not reported); 81 women survivors
supported (24, 55, 2), 5 perpetrators sentenced in Myanmar; 185 officers trained (34% women),
94 (38% women), 200, 741 by September 2019, 578 (48% women) by the programme's end; over 5,000
victims referred in 2014-2015 and 12 policy improvements (COMMIT). **The targets are
ILLUSTRATIVE**, made up for the example (`target_status: illustrative`), and every output that
shows them says so. A percentage published with its base is stored as a count with the base and
the range of counts the rounded percentage allows (34% of 185: 63, range 62 to 63). The file is
written by hand, not by `make example-data`, which leaves it in place and keeps its checksums.
`results_framework/codebook.json` describes the columns; `docs/results-framework.md` the brief.
"""


def text() -> str:
    """The README as Markdown."""
    os_ = officer_survey
    shares = ", ".join(
        f"{fake.COUNTRIES[c]} {s:.0%}{'' if c in os_.WOMEN_SHARE_ANCHORED else ' (assumed)'}"
        for c, s in os_.WOMEN_SHARE.items()
    )
    ors = os_.TRUE_INTEND_STAY_OR
    att = os_.TRUE_ATTITUDE
    cover = os_.TRUE_TRAINING_COVERAGE
    gains = ", ".join(
        f"{training.MODULES[m]} +{g:.1f}" for m, g in training.TRUE_GAIN_BY_MODULE.items()
    )
    planted = "; ".join(
        f"{kind}: " + ", ".join(f"`{s}`" for s in strings)
        for kind, strings in interviews.PLANTED_IDENTIFIERS.items()
    )
    files = "\n".join(
        ["| file | what |", "|---|---|"] + [f"| {f} | {what} |" for f, what in _files()]
    )
    seeds = ", ".join(f"`{k}` {v}" for k, v in SEEDS.items())
    return f"""# Bundled raw data: SYNTHETIC

**Every file in this folder is synthetic**, except `results_framework/` (real published
programme figures with ILLUSTRATIVE targets; see the last section). The synthetic files were
written by the seeded generator `analysis/synth/` and contain no real officer, survivor,
interview, name, phone number or village record. They imitate the shape, formats and problems of
confidential microdata (labels, user-missing codes, survey design, direct identifiers, double
coding) so the pipeline can be built and tested.
Do not edit these files by hand: the workflow treats them as immutable inputs.

## Regenerate

```sh
make example-data            # = python -m analysis.synth --out data/raw
sha256sum -c SHA256SUMS      # run inside data/raw
```

Seeds (all in `analysis/synth/common.py`): {seeds}.

Determinism: same seeds and library versions give the same data. File headers carry no wall-clock
time: the `.sav` header creation date/time and the `.dta` `<timestamp>` are overwritten with
{FIXED_TIMESTAMP:%Y-%m-%d %H:%M}, and the `.xlsx` is re-zipped with that date on every entry and in
`docProps/core.xml`. All files are byte-identical across runs on the same versions of pyreadstat
(ReadStat), openpyxl and zlib; a different version may change bytes but not the data read back.

## Files

{files}

Variables and codes: `docs/datasets.md` and the codebooks.

## True effects (what the analyses should recover)

Officer survey (`analysis/synth/officer_survey.py`, `TRUE_EFFECTS`), within each wave;
women = `sex == 2`:

- Population (weighted) share of women: {shares}.
- Gender-sensitive training coverage (`training_gender`): {cover[2023]:.0%} in 2023,
  {cover[2025]:.0%} in 2025 (true change +{(cover[2025] - cover[2023]) * 100:.0f} points).
- Sexual harassment, last 12 months: {os_.TRUE_HARASSMENT["women"]:.0%} of women,
  {os_.TRUE_HARASSMENT["men"]:.0%} of men.
- Logistic `intend_stay_5y ~ harassment + training_gender + women`: odds ratios
  {ors["harassment"]}, {ors["training_gender"]}, {ors["women"]}; nothing else affects it.
- Linear `attitude_index` (mean of the four Likert items) `~ women + training_gender +
  years_service`: {att["women"]:+.1f}, {att["training_gender"]:+.1f} and
  **{att["years_service"]:.1f} (deliberate null)** for years of service.
- Poisson `cases_trafficking_12m ~ border_posting`: rate ratio
  {os_.TRUE_CASES_TRAFFICKING["border_posting"]} (overdispersed, frailties with mean 1).
- `cases_gbv_12m`: rate ratio {os_.TRUE_CASES_GBV["women"]} for women and
  {os_.TRUE_CASES_GBV["victim_support_role"]} for victim-support roles.
- User-missing 98/99 at 1-4% per item, completely at random.

Training (`analysis/synth/training.py`): expected gain (post - pre, points) by module: {gains};
sex difference in gain **0 (deliberate null)**; cohort random effects (sd
{training.COHORT_SD_LEVEL} level, {training.COHORT_SD_GAIN} gain); about 8% of rows without a
post test, missing completely at random.

Interviews (`analysis/synth/interviews.py`): expected Cohen's kappa between coders A and B equals
`CODE_RELIABILITY`: 0.95 for `expl_*`, `ret_*`, `serv_*`, 0.75 for other codes, and 0.10 for the
deliberately unreliable {", ".join(f"`{c}`" for c in interviews.UNRELIABLE_CODES)}.
Men survivors are coded mostly forced labour in fishing or forced criminality (scams); women
survivors mostly sexual exploitation, domestic servitude or forced marriage. Identifying details
planted in quotes (`PLANTED_IDENTIFIERS`), which de-identification must remove: {planted}.
{PUBLISHED_SECTION}"""


def _files() -> list[tuple[str, str]]:
    return [
        (
            "`officer_survey/2023.sav`, `2025.sav`",
            "SPSS: officer survey, about 3,000 officers a wave, 8 countries x 3 agencies "
            "(24 strata), stations as PSUs; variable and value labels; 98/99 declared user-missing",
        ),
        ("`officer_survey/codebook.json`", "Table Schema of the survey"),
        (
            "`training/2024.dta`",
            f"Stata: pilot training, {training.N_OFFICERS} officers ({training.N_WOMEN} women) "
            "x 3 modules, 20-item pre/post tests; missing post tests are Stata `.a`",
        ),
        ("`training/codebook.json`", "Table Schema of the training data"),
        (
            "`interviews/2024.xlsx`",
            "Excel: coding export, one row per interview x code x coder; 37 survivors "
            "(33 women, 4 men) plus family members, front-line officers and facilitators",
        ),
        (
            "`interviews/codebook.json`",
            "Table Schema of the export; the `code` categories carry `x-theme` and `x-definition`",
        ),
        (
            "`interviews/_quote_reviews.csv`",
            "written by hand, not by the generator: a person's decisions on quotes (who, when, "
            "the SHA-256 of the redacted text approved); only approved quotes reach a brief "
            "(`wps quotes review`)",
        ),
        (
            "`results_framework/2019.csv`",
            "CSV: a results framework, real published programme figures with ILLUSTRATIVE "
            "targets (not synthetic; see below)",
        ),
        ("`results_framework/codebook.json`", "Table Schema of the results framework"),
        (
            "`SHA256SUMS`",
            "checksums of every file here except itself, this README and files set aside with "
            "`_` (the quote reviews change with every review)",
        ),
    ]


def write(path: Path) -> Path:
    """Write the README to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text())
    return path
