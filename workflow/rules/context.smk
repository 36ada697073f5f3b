"""Official statistics (UNODC GLOTIP, UNSD female police) tidied for the regional brief.

The files are not shipped: config/config.yaml points at where the user saved them. The findings
step asks for these tables only when at least one file is configured.
"""


rule tidy_context:
    input:
        unpack(context_sources),
    output:
        **context_outputs(),
        record=f"{JOBS}/tidy_context/context.json",
    log:
        f"{LOGS}/tidy_context/context.log",
    conda:
        "../envs/wps.yaml"
    script:
        "../scripts/tidy_context.py"
