"""One function per workflow rule, named like the rule, with explicit arguments.

``scripts/<rule>.py`` unpacks Snakemake's inputs, outputs and params and calls
``galclust.stages.<module>.<rule>``; tests call the same functions directly. Every setting a
stage reads arrives as an argument (a rule's ``params``), so Snakemake reruns a job exactly
when a setting it uses changes.
"""
